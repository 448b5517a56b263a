#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

// A deterministic synthetic dataset of 2D ultrasound-like "scan planes" for the classification
// demo (docs/classification.md): a sector image with speckle, in which one small structure - its
// position and turn drawn anew for every image - tells the class, among clutter made of the same
// parts (dark fluid blobs, bright line segments, bright dots) that no class is told by:
//   background  no telling structure, clutter only
//   femur       a thick bright bar with a bright knob at each end
//   heart       a dark disk divided into four by a bright cross
//   spine       two parallel rows of five bright dots (the vertebrae's ossification centres)
//   stomach     a dark ellipse inside a bright rim
// A mask of the telling structure goes with every image but the background's, for the attention
// statistics of gates and attribution maps.
struct SyntheticScanPlaneOptions {
  int training_per_class = 200;
  int test_per_class = 60;
  int width = 128;  // pixels; at least 96 x 72
  int height = 96;
  uint64_t seed = 2026;
};

// Class names by index (sorted, as a folder-per-class dataset orders them).
[[nodiscard]] const std::vector<std::string>& syntheticScanPlaneClasses();

// A structure drawn into an image: the telling structure or a clutter part.
struct SyntheticPlaneShape {
  std::string kind;                // "femur", "heart", "spine", "stomach", "blob", "segment", "dot"
  std::array<double, 2> centre{};  // pixels: x along the columns, y down the rows
  double size = 0.0;               // its largest half-extent in pixels
  double rotation_deg = 0.0;
};

struct SyntheticScanPlane {
  std::string id;         // "plane_0007"
  int true_class = 0;     // index into syntheticScanPlaneClasses()
  std::string split;      // "training" or "test"
  Volume<uint8_t> image;  // width x height, one slice, 0 outside the sector
  Volume<uint8_t> mask;   // 1 on the telling structure; all 0 for the background class
  std::vector<SyntheticPlaneShape> shapes;  // the telling structure first (none for background)
  double gain = 1.0;
};

// "plane_0007": images are numbered globally, training images first, then test images; the class
// of image n is n modulo the number of classes.
[[nodiscard]] std::string syntheticPlaneId(int index);

// One image in memory. It depends only on the seed, size and `index` (not on the counts), and its
// values are the same on every machine and compiler. UsageError for a size under 96 x 72.
[[nodiscard]] SyntheticScanPlane makeSyntheticScanPlane(const SyntheticScanPlaneOptions& options,
                                                        int index);

// Writes the dataset as a CSV list with a folder per class: DIR/planes.csv (path,label,split),
// DIR/<class>/<id>.png (8-bit gray), DIR/masks/<class>/<id>.png (0/255, not for the background
// class) and DIR/generator.json (every image's drawn shapes). The same options give byte-identical
// files; staged beside DIR and renamed into place at the end, so an interrupted run leaves no
// partial DIR. UsageError when DIR exists and is not empty.
void writeSyntheticScanPlanes(const std::filesystem::path& dir,
                              const SyntheticScanPlaneOptions& options,
                              const std::function<void(int done, int total)>& progress = {});

}  // namespace gatescope
