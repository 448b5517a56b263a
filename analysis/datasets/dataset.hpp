#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/core/image.hpp"

namespace gatescope {

// One case of a dataset: its image file(s) and, when the dataset has one, its reference labels.
struct DatasetCase {
  std::string id;
  std::string split;  // "training" or "test"
  // One file per input channel (nnU-Net's <id>_0000, <id>_0001, ...), or one file holding every
  // channel (MSD 4D images, RGB PNG). The files the case needs, present or not: a missing one is
  // named in `problem`.
  std::vector<std::filesystem::path> images;
  // absent: the dataset has no labels for it, or its label file is missing (then `problem` says so)
  std::optional<std::filesystem::path> reference;
  // Set when the case is known to be broken before reading anything (an image without its
  // label file, a listed file that does not exist): the run records this error for the case.
  std::string problem;
};

struct Dataset {
  std::filesystem::path root;  // the folder
  std::string layout;  // "msd" (dataset.json: MSD or nnU-Net v2) or "folders" (images/ + labels/)
  std::string name;    // dataset.json "name", else the folder name
  std::map<int, std::string> labels;  // label value -> name, background 0 included when known
  // Input channels the dataset declares (modality/channel_names); for images/ + labels/ the
  // number of channel files per case (<id>_0000, <id>_0001, ...), else 1.
  int channels = 1;
  std::vector<DatasetCase> cases;  // every split, sorted by split then id
};

// Opens DATASET as docs/cli.md describes it: a folder in the Medical Segmentation Decathlon /
// nnU-Net layout (dataset.json, imagesTr/, labelsTr/, optional imagesTs/ and labelsTs/), a
// dataset.json file, or a folder with images/ and labels/ paired by case id. Any image format
// gatescope reads (docs/image-io.md).
// UsageError / FormatError naming the file for a path that is not a dataset, a malformed
// dataset.json, or a dataset without any case.
[[nodiscard]] Dataset openDataset(const std::filesystem::path& path);

// The cases of one split: "training", "test", or "all". "auto" is "test" when the test split has
// reference labels, else "training" (or "test" when there is no training split). UsageError for
// an unknown split name or a split without cases.
[[nodiscard]] std::vector<DatasetCase> selectSplit(const Dataset& dataset,
                                                   const std::string& split);
// The split "auto" resolves to.
[[nodiscard]] std::string resolveSplit(const Dataset& dataset, const std::string& split);

// The case's input as one image with a channel per input (files combined in channel order).
// GeometryError naming both files when channel files disagree in grid or orientation; the
// errors of readImage otherwise.
[[nodiscard]] Image readCaseImage(const DatasetCase& c);
// The reference labels (readImage), checked to lie on the image grid `image_geometry`
// (GeometryError naming the file otherwise). Error when the case has no reference.
[[nodiscard]] Volume<int32_t> readCaseReference(const DatasetCase& c,
                                                const Geometry& image_geometry);

}  // namespace gatescope
