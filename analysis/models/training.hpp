#pragma once

// Small-scale training of zoo models (gatescope train, docs/training.md): the configuration, the
// data handed to a trainer, and what a trainer reports. Plain data without LibTorch types; the
// LibTorch plugin registers the trainer (Registry::setTrainer).
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/core/volume.hpp"
#include "analysis/models/model_manifest.hpp"

namespace gatescope {

// Random changes to each training sample, drawn from the run's seeded stream.
struct AugmentationSettings {
  std::vector<int> flip_axes;                          // voxel axes (0 = i, 1 = j, 2 = k) to mirror
  double flip_probability = 0.5;                       // per listed axis and sample
  std::array<double, 2> intensity_scale = {1.0, 1.0};  // value * U(low, high) ...
  std::array<double, 2> intensity_shift = {0.0, 0.0};  // ... + U(low, high), after normalisation
};

// loss = dice * (1 - mean soft Dice over the foreground classes) + cross_entropy * CE.
struct LossWeights {
  double dice = 1.0;
  double cross_entropy = 1.0;
  double smooth = 1.0;  // added to the numerator and denominator of every soft Dice
};

// One network to train. manifest.name is also its output folder; manifest.weights is unused
// until the trainer writes the checkpoint.
struct ModelToTrain {
  ModelManifest manifest;
  std::filesystem::path initial_weights;  // a checkpoint to start from; empty: fresh initialisation
};

// How the learning rate changes from epoch to epoch (docs/training.md); the rate of an epoch is
// learningRateAt(config, epoch).
struct LearningRateSchedule {
  enum class Kind { Constant, Step, Cosine, Poly };
  Kind kind = Kind::Constant;
  int every_epochs = 1;              // step: multiply by `factor` after every this many epochs
  double factor = 0.1;               // step
  double final_learning_rate = 0.0;  // cosine: the last epoch's rate
  double power = 0.9;                // poly: (1 - (epoch - 1) / epochs) ^ power
};

struct TrainingConfig {
  std::filesystem::path source;   // the config file (named in every error)
  std::filesystem::path dataset;  // absolute: relative paths resolve against the config's folder
  std::string split = "training";
  ModelToTrain model;                               // what a run without --pair trains
  std::optional<std::array<ModelToTrain, 2>> pair;  // gated, baseline: what --pair trains
  int epochs = 0;
  int batch_size = 1;
  double learning_rate = 1e-3;  // the first epoch's
  LearningRateSchedule schedule;
  double weight_decay = 0.0;
  uint64_t seed = 0;
  std::vector<int64_t> patch_size;  // one size per model axis; empty: whole (padded) volumes
  AugmentationSettings augmentation;
  LossWeights loss;
  double validation_fraction = 0.0;
};

// The learning rate of `epoch` (from 1): the configured rate changed by the schedule.
[[nodiscard]] double learningRateAt(const TrainingConfig& config, int epoch);
// "constant", "step", "cosine", "poly".
[[nodiscard]] std::string scheduleName(LearningRateSchedule::Kind kind);

// Reads and validates a training configuration; FormatError naming the file and the field, on
// one line, for anything missing, mistyped, unknown or out of range.
[[nodiscard]] TrainingConfig readTrainingConfig(const std::filesystem::path& path);
[[nodiscard]] TrainingConfig parseTrainingConfig(const nlohmann::json& json,
                                                 const std::filesystem::path& source);
// The configuration as used: every field, defaults included, the dataset as an absolute path.
[[nodiscard]] nlohmann::ordered_json toJson(const TrainingConfig& config);

// What to train: the configured model, or with `pair` the gated model and its ungated baseline
// (from "pair", else the configured model and the baseline of its architecture). UsageError when
// the architecture has no ungated counterpart.
[[nodiscard]] std::vector<ModelToTrain> modelsToTrain(const TrainingConfig& config, bool pair);
// The ungated network a gated architecture is compared with ("" for an ungated architecture).
[[nodiscard]] std::string ungatedBaseline(const std::string& architecture);

// One case ready for training: preprocessed as the manifest says (z-score), padded to the
// network's size multiple, with labels on the same grid. An image for a classifier has a class
// instead (its labels are all 0, there only to travel with the crops).
struct TrainingSample {
  std::string id;
  Volume<float> image;
  Volume<int32_t> labels;
  std::string label_file;  // where the labels came from, for messages ("" for cases made in memory)
  int true_class = -1;     // classifiers: the class index; -1 for segmentation cases
  // Classifiers: read from a PNG, so the network takes it as (row, column), as inference does
  // (docs/models.md); else as (i, j).
  bool picture = false;
};

struct TrainingData {
  std::vector<TrainingSample> training;
  std::vector<TrainingSample> validation;  // evaluated whole after every epoch, never trained on
};

struct TrainingRequest {
  TrainingConfig config;
  // One model, or a gated model and its baseline that consume the very same batches.
  std::vector<ModelToTrain> models;
  std::string device = "auto";   // auto | cpu | cuda | cuda:N
  std::filesystem::path output;  // the trainer writes output/<name>/model.pth and model.json
};

struct EpochRecord {
  int epoch = 0;  // from 1
  double learning_rate = 0.0;
  // Mean over the epoch's batches, and its two terms (a classifier's loss is all cross-entropy).
  double loss = 0.0;
  double dice_loss = 0.0;
  double cross_entropy = 0.0;
  std::optional<double> validation_loss;
  std::optional<double> validation_dice;      // mean hard Dice over foreground classes (argmax)
  std::optional<double> validation_accuracy;  // classifiers: of the aggregated prediction
  double seconds = 0.0;                       // this model's share of the epoch
};

struct TrainedModel {
  ModelManifest manifest;  // as written next to its checkpoint
  int64_t parameters = 0;
  std::vector<EpochRecord> epochs;
};

struct TrainingResult {
  std::string device;         // "cpu", "cuda:0"
  std::string torch_version;  // of LibTorch: "1.13.0"
  int threads = 1;
  bool deterministic = false;  // bit-identical reruns are guaranteed (CPU)
  std::vector<TrainedModel> models;
};

struct TrainingObserver {
  // After every epoch, one record per model in request order.
  std::function<void(int epoch, const std::vector<EpochRecord>& records)> epoch_finished;
  // Polled between batches: true stops the run with an Error before anything is written.
  std::function<bool()> cancelled;
};

}  // namespace gatescope
