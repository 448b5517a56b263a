#include "analysis/models/prediction_folder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "analysis/core/error.hpp"
#include "analysis/core/sha256.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

// The first label file of a nested case folder: labels.<any image format>.
std::optional<fs::path> fileNamed(const fs::path& folder, const std::string& stem) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file() && isSupportedImageName(entry.path()) &&
        stripImageExtension(entry.path()) == stem)
      return entry.path();
  return std::nullopt;
}

}  // namespace

void PredictionFolder::scan(const fs::path& source) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(source, ec)) {
    const fs::path& path = entry.path();
    if (path.filename().string().starts_with(".")) continue;
    std::optional<fs::path> labels, probabilities;
    std::string id;
    if (entry.is_regular_file() && isSupportedImageName(path)) {
      id = stripImageExtension(path);
      labels = path;
    } else if (entry.is_directory()) {
      id = path.filename().string();
      labels = fileNamed(path, "labels");
      probabilities = fileNamed(path, "probabilities");
    }
    if (!labels) continue;
    if (const auto [it, fresh] = labels_.emplace(id, *labels); !fresh)
      throw UsageError(fmt::format("{}: two predictions for case {}: {} and {}", folder_.string(),
                                   id, it->second.string(), labels->string()));
    if (probabilities) probabilities_[id] = *probabilities;
  }
  if (ec) throw IoError(source.string() + ": cannot list the folder: " + ec.message());
}

PredictionFolder::PredictionFolder(const fs::path& folder, const std::string& name)
    : folder_(folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw UsageError(folder.string() + ": a prediction folder must be a folder");
  scan(folder);
  if (labels_.empty()) {
    // An nnU-Net v2 trainer folder: fold_0/validation/, fold_1/validation/, ...
    std::vector<fs::path> folds;
    for (const auto& entry : fs::directory_iterator(folder, ec))
      if (entry.is_directory() && entry.path().filename().string().starts_with("fold_") &&
          fs::is_directory(entry.path() / "validation"))
        folds.push_back(entry.path() / "validation");
    std::sort(folds.begin(), folds.end());
    for (const auto& fold : folds) scan(fold);
    sources_ = folds;
  } else {
    sources_ = {folder};
  }
  if (labels_.empty())
    throw UsageError(folder.string() +
                     ": no predictions here (expected <case>.nii.gz, <case>.nrrd, ..., "
                     "<case>/labels.nii.gz, or an nnU-Net trainer folder with "
                     "fold_N/validation/)");
  info_.name = name.empty() ? fs::absolute(folder).lexically_normal().filename().string() : name;
  if (info_.name.empty())
    info_.name = fs::absolute(folder).lexically_normal().parent_path().filename().string();
  info_.architecture = kPredictionFolderArchitecture;
  info_.device = "files";
  info_.source = folder.string();
  info_.n_classes = 2;
}

void PredictionFolder::useLabels(const std::map<int, std::string>& labels) {
  info_.labels = labels;
  if (!labels.empty()) info_.n_classes = std::max(2, labels.rbegin()->first + 1);
}

ForwardResult PredictionFolder::forward(const TensorData&, bool) {
  throw UsageError(folder_.string() + ": a prediction folder has no network to run");
}

Prediction PredictionFolder::predict(const Image&, const PredictOptions&) {
  throw UsageError(folder_.string() +
                   ": a prediction folder holds predictions of a dataset's cases; it cannot "
                   "predict an image that is not one of them");
}

Prediction PredictionFolder::predictCase(const std::string& case_id, const Image& image,
                                         const PredictOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  const auto it = labels_.find(case_id);
  if (it == labels_.end())
    throw FormatError(fmt::format("{}: no prediction for case {}", folder_.string(), case_id));
  const fs::path& file = it->second;
  const Geometry& grid = image.geometry();
  const Volume<int32_t> labels = toLabelVolume(readImage(file), file.string());
  if (!labels.geometry().sameGrid(grid))
    throw GeometryError(fmt::format("{}: lies on {}, but the case's image lies on {}",
                                    file.string(), labels.geometry().describe(), grid.describe()));
  if (labels.channels() != 1)
    throw FormatError(fmt::format("{}: a label file has one channel, this one {}", file.string(),
                                  labels.channels()));
  Prediction p;
  p.labels = Volume<uint8_t>(grid);
  const auto in = labels.values();
  auto out = p.labels.values();
  for (size_t n = 0; n < in.size(); ++n) {
    if (in[n] < 0 || in[n] > 255)
      throw FormatError(
          fmt::format("{}: label {} (voxel {}) is outside 0..255", file.string(), in[n], n));
    out[n] = static_cast<uint8_t>(in[n]);
  }
  if (const auto prob = probabilities_.find(case_id);
      options.keep_probabilities && prob != probabilities_.end()) {
    Volume<float> probabilities = toFloatVolume(readImage(prob->second));
    if (!probabilities.geometry().sameGrid(grid))
      throw GeometryError(fmt::format("{}: lies on {}, but the case's image lies on {}",
                                      prob->second.string(), probabilities.geometry().describe(),
                                      grid.describe()));
    p.probabilities = std::move(probabilities);
  }
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

std::string PredictionFolder::digest() const {
  std::string listing;
  for (const auto* files : {&labels_, &probabilities_})
    for (const auto& [id, path] : *files)
      listing += fs::relative(path, folder_).string() + "\t" + sha256File(path) + "\n";
  return sha256Hex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(listing.data()), listing.size()));
}

void requireNetwork(const fs::path& model) {
  std::error_code ec;
  if (fs::is_directory(model, ec))
    throw UsageError(model.string() +
                     ": a folder of predictions has no network to run (give a model .json or .pt; "
                     "evaluate takes the folder with --predictions)");
}

Prediction predictForCase(ModelAdapter& model, const std::string& case_id, const Image& image,
                          const PredictOptions& options) {
  if (const auto* folder = dynamic_cast<const PredictionFolder*>(&model))
    return folder->predictCase(case_id, image, options);
  return model.predict(image, options);
}

}  // namespace gatescope
