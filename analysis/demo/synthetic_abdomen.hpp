#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

// A deterministic synthetic CT-like abdomen dataset for the demo and for training the small
// bundled models on a CPU. Each case has a large landmark organ (label 1, liver-like), a small
// target organ (label 2, right-kidney-like) that touches the landmark, and 1 to 3 unlabelled
// look-alikes of the target (same intensity, size and shape) placed away from the landmark: only
// the position relative to the landmark tells the target from a look-alike, which is what
// attention gates are meant to learn.
struct SyntheticAbdomenOptions {
  int training_cases = 40;
  int test_cases = 20;
  Index3 dims = {96, 96, 48};  // dims[2] == 1: the 2D variant (one-slice NIfTI), e.g. {128, 128, 1}
  std::array<double, 3> spacing_mm = {1.6, 1.6, 3.2};
  uint64_t seed = 2026;
};

inline constexpr uint8_t kSyntheticLandmarkLabel = 1;
inline constexpr uint8_t kSyntheticTargetLabel = 2;

// An organ or look-alike: an ellipsoid turned about the slice axis.
struct SyntheticEllipsoid {
  Vec3 centre_mm{};  // world position (NIfTI RAS+, as the image geometry maps voxels)
  // Along its own axes: the first two lie in the slice plane, the third along the k axis.
  Vec3 semi_axes_mm{};
  double rotation_deg = 0.0;  // in-plane turn of its first axis from the i axis towards j
};

struct SyntheticLookAlike {
  std::string placement;  // "contralateral", "anterior", "left lateral" or "inferior"
  SyntheticEllipsoid shape;
};

// Mean intensities before partial-volume smoothing, bias and noise.
struct SyntheticIntensities {
  double air_hu = -1000.0;
  double fat_hu = 0.0;
  double soft_tissue_hu = 0.0;
  double bone_hu = 0.0;
  double vessel_hu = 0.0;  // contrast-filled aorta
  double landmark_hu = 0.0;
  double target_hu = 0.0;  // the look-alikes share it
};

struct SyntheticCase {
  std::string id;          // "abdomen_007"
  Volume<int16_t> image;   // CT-like Hounsfield units
  Volume<uint8_t> labels;  // 0 background, 1 landmark, 2 target
  // 0, or 1 + the index in `distractors` of the look-alike covering the voxel (not in `labels`).
  Volume<uint8_t> distractor_mask;

  // The body is an elliptical cylinder along k: soft tissue inside a rim of fat.
  std::array<double, 2> body_semi_axes_mm{};
  double fat_rim_mm = 0.0;
  // Cylinders along k through the whole grid (their third semi-axis is half the grid's length).
  SyntheticEllipsoid spine;  // the vertebral bodies
  SyntheticEllipsoid aorta;
  std::vector<SyntheticEllipsoid> fat_islands;  // pockets of mesenteric fat
  // The landmark: its right lobe, and its left lobe (anterior, medial and superior of the right).
  SyntheticEllipsoid landmark;
  SyntheticEllipsoid landmark_lobe;
  SyntheticEllipsoid target;
  std::vector<SyntheticLookAlike> distractors;
  SyntheticIntensities intensities;
  double noise_sigma_hu = 0.0;
  // A smooth additive bias inside the body: b0 u + b1 v + b2 w + b3 (u^2 + v^2) HU, with u, v, w
  // the position along i, j, k scaled to [-1, 1] from the grid centre to its outer faces.
  std::array<double, 4> bias_hu{};
};

// "abdomen_007": case ids are numbered globally, training cases first, then test cases.
[[nodiscard]] std::string syntheticCaseId(int index);

// One case in memory. It depends only on the seed, dims, spacing and `index` (not on the case
// counts), so a case stays the same when a dataset grows. Its values are the same on every
// machine and compiler (IEEE 754 arithmetic only, no library transcendentals, no fused
// multiply-add). UsageError for options that cannot hold the anatomy: a field of view under
// 145 x 115 mm in plane, or, in 3D, under 96 mm along k.
[[nodiscard]] SyntheticCase makeSyntheticCase(const SyntheticAbdomenOptions& options, int index);

// Called after each written case; from worker threads, one call at a time.
using SyntheticAbdomenProgress = std::function<void(int cases_done, int cases_total)>;

// Writes the dataset in the Medical Segmentation Decathlon layout: DIR/dataset.json, imagesTr/,
// labelsTr/, imagesTs/, labelsTs/ (NIfTI .nii.gz: int16 images, uint8 labels), and generator/
// with each case's drawn parameters (<id>.json) and its look-alike mask
// (<id>_distractors.nii.gz). The same options give byte-identical files (no dates, fixed order);
// the compressed bytes assume the same libdeflate version, the voxels do not.
// Everything is written into a staging folder beside DIR that is renamed to DIR at the end, so an
// interrupted run leaves no partial DIR. UsageError when DIR exists and is not empty.
void writeSyntheticAbdomen(const std::filesystem::path& dir, const SyntheticAbdomenOptions& options,
                           const SyntheticAbdomenProgress& progress = {});

}  // namespace gatescope
