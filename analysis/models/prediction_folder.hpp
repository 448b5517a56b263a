#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {

// A folder of predicted label files that stands for a model
// (docs/evaluation.md#prediction-folders): files paired with the dataset's cases by case id, either
// flat - <case>.nii.gz or any image format gatescope reads, as nnU-Net and most pipelines write
// them - or nested as gatescope itself writes them - <case>/labels.nii.gz with an optional
// <case>/probabilities.nii.gz. A folder without such files but with fold_N/validation/ folders (an
// nnU-Net v2 trainer folder) stands for every fold's cross-validation predictions together. It has
// no network: no gates, no layers, no attribution; forward and predict without a case are
// UsageErrors.
class PredictionFolder final : public ModelAdapter {
 public:
  // UsageError when `folder` is not a folder or holds no prediction. `name`: how reports call it
  // (empty: the folder's name).
  PredictionFolder(const std::filesystem::path& folder, const std::string& name = {});

  [[nodiscard]] const ModelInfo& info() const override { return info_; }
  [[nodiscard]] ForwardResult forward(const TensorData& input, bool capture_gates) override;
  [[nodiscard]] Prediction predict(const Image& image, const PredictOptions& options) override;

  // The case's stored prediction, checked to lie on the image's grid (GeometryError naming both
  // files otherwise) and to hold labels 0..255; its probabilities too where the folder has them
  // and options.keep_probabilities. FormatError when the folder has no file for the case.
  [[nodiscard]] Prediction predictCase(const std::string& case_id, const Image& image,
                                       const PredictOptions& options) const;

  // The label names and class count of the dataset the predictions belong to.
  void useLabels(const std::map<int, std::string>& labels);
  void rename(const std::string& name) { info_.name = name; }

  [[nodiscard]] const std::filesystem::path& folder() const { return folder_; }
  // Where the files were found: the folder itself, or its fold_N/validation/ folders.
  [[nodiscard]] const std::vector<std::filesystem::path>& sources() const { return sources_; }
  [[nodiscard]] const std::map<std::string, std::filesystem::path>& labelFiles() const {
    return labels_;
  }
  [[nodiscard]] size_t probabilityFiles() const { return probabilities_.size(); }
  // SHA-256 over every prediction file's name and content: what identifies the "weights" of a
  // prediction folder in a report (a changed file is another model).
  [[nodiscard]] std::string digest() const;

 private:
  void scan(const std::filesystem::path& source);

  std::filesystem::path folder_;
  std::vector<std::filesystem::path> sources_;
  ModelInfo info_;
  std::map<std::string, std::filesystem::path> labels_, probabilities_;
};

// "predictions": the architecture a prediction folder reports.
inline constexpr const char* kPredictionFolderArchitecture = "predictions";

// UsageError for a prediction folder given where a network must run (infer, attribute).
void requireNetwork(const std::filesystem::path& model);

// The adapter's prediction for a case: a prediction folder's stored file, a network's predict.
[[nodiscard]] Prediction predictForCase(ModelAdapter& model, const std::string& case_id,
                                        const Image& image, const PredictOptions& options);

}  // namespace gatescope
