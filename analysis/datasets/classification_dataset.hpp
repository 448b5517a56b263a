#pragma once

// Datasets of labelled images for classifiers (docs/classification.md): a folder per class
// (ROOT/<class name>/<image>, classes sorted by name, as torchvision's ImageFolder), or a CSV with
// a header - path,label[,split][,x0,y0,x1,y1] - whose paths are relative to the CSV's folder. PNG
// and 2D NIfTI images. Optional localisation of what tells a class: a mask per image
// (ROOT/masks/<the image's path relative to ROOT>) or a box in the CSV (pixels, x0,y0 inclusive to
// x1,y1 exclusive).
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

struct ClassificationItem {
  std::string id;               // the image's path relative to the dataset root, "/"-separated
  std::filesystem::path image;  // absolute
  int true_class = -1;          // index into ClassificationDataset::classes; -1 with a problem
  std::string split;            // the CSV's split column, else ""
  std::filesystem::path mask;   // empty without one
  std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1 in pixels
  // Set for an image known to be unusable before reading it (a missing file, a label that is not
  // a class): an evaluation records it for the image and goes on.
  std::string problem;
};

struct ClassificationDataset {
  std::filesystem::path root;             // the folder (the CSV's folder for a CSV)
  std::string layout;                     // "folders" or "csv"
  std::vector<std::string> classes;       // index -> name
  std::vector<ClassificationItem> items;  // sorted by id
};

// Opens a folder of class folders or a CSV file. `classes` (a model's class names by index, may be
// empty) fixes the class indices: folder names and CSV labels are then looked up in it, and one it
// lacks is a per-image problem. Without it: folder names sorted; CSV labels that are all whole
// numbers are indices, else names sorted. UsageError / FormatError naming the file (and line) for a
// path that is not such a dataset, a CSV without the path and label columns or with a malformed
// row, or a dataset without images.
[[nodiscard]] ClassificationDataset openClassificationDataset(
    const std::filesystem::path& path, const std::vector<std::string>& classes = {});

// Where an image's telling structure is, on the image's grid `grid`: the non-zero pixels of `mask`
// (when not empty), else the pixels whose centres lie in `box` ([x0, x1) x [y0, y1)); nullopt
// without either. GeometryError naming the mask when it is not the image's size.
[[nodiscard]] std::optional<Volume<uint8_t>> readLocalisation(
    const std::filesystem::path& mask, const std::optional<std::array<double, 4>>& box,
    const Geometry& grid);

}  // namespace gatescope
