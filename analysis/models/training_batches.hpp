#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/core/seeded_random.hpp"
#include "analysis/models/model_adapter.hpp"
#include "analysis/models/training.hpp"

namespace gatescope {

// Prepares cases as read (image in real values, reference labels on the same grid) for training:
// the manifest's normalisation over the whole image (as inference does), zero padding at the end
// of every model axis to a multiple of lcm(pad_to_multiple, 16) and at least the patch size
// (labels padded with background), and a seeded draw of the validation cases. UsageError naming
// the case and the config file for a wrong channel count, a 3D case for a 2D model, or a label
// value the model cannot predict.
[[nodiscard]] TrainingData prepareTrainingData(std::vector<TrainingSample> cases,
                                               const TrainingConfig& config);

// A batch in the network's layout.
struct TrainingBatch {
  TensorData images;             // (N, C, i, j[, k])
  std::vector<int64_t> labels;   // (N, i, j[, k]), C order
  std::vector<int64_t> classes;  // (N): classifiers' samples' classes; empty for segmentation
  bool picture = false;          // the samples were PNG pictures (TrainingSample::picture)
  std::vector<std::string> ids;
};

// Every random choice of a run comes from one seeded stream, drawn in a fixed order: the case
// order at the start of each epoch, then per sample of each batch the crop offset per axis, a
// flip decision per listed axis, the intensity scale and the intensity shift. A gated model and
// its baseline trained together consume the same batches, so they see identical data.
class BatchSampler {
 public:
  // UsageError when batch_size > 1 meets cases of different sizes and no patch_size.
  BatchSampler(const TrainingConfig& config, const std::vector<TrainingSample>& samples);
  [[nodiscard]] size_t batchesPerEpoch() const;
  // Draws the next epoch's case order.
  void startEpoch();
  // Batch `index` (in order, from 0) of the current epoch, with its augmentation drawn now.
  [[nodiscard]] TrainingBatch batch(size_t index);

 private:
  const TrainingConfig& config_;
  const std::vector<TrainingSample>& samples_;
  SeededRandom random_;
  std::vector<size_t> order_;
  int dimensions_;
};

// A whole case as a batch of one, unchanged (validation).
[[nodiscard]] TrainingBatch wholeCaseBatch(const TrainingSample& sample, int dimensions);

}  // namespace gatescope
