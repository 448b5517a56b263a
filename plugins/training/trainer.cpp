#include "plugins/training/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/models/training_batches.hpp"
#include "plugins/checkpoint/checkpoint_file.hpp"
#include "plugins/runtime/device.hpp"
#include "plugins/runtime/torch_runtime.hpp"
#include "plugins/training/classification_loss.hpp"
#include "plugins/training/segmentation_loss.hpp"
#include "plugins/zoo/classifiers.hpp"
#include "plugins/zoo/networks.hpp"
#include "plugins/zoo/state_dict.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The original code's init_weights(..., init_type='kaiming'): He-normal convolution and linear
// weights (fan_in, also for transposed convolutions), batch-norm weights N(1, 0.02) and biases 0;
// convolution and linear biases keep PyTorch's default initialisation.
void initialiseLikeOriginal(torch::nn::Module& network) {
  torch::NoGradGuard no_grad;
  for (const auto& module : network.modules(/*include_self=*/false)) {
    torch::Tensor conv_weight;
    if (auto* c = module->as<torch::nn::Conv3d>()) conv_weight = c->weight;
    if (auto* c = module->as<torch::nn::Conv2d>()) conv_weight = c->weight;
    if (auto* c = module->as<torch::nn::ConvTranspose2d>()) conv_weight = c->weight;
    if (auto* l = module->as<torch::nn::Linear>()) conv_weight = l->weight;
    if (conv_weight.defined())
      torch::nn::init::kaiming_normal_(conv_weight, 0.0, torch::kFanIn, torch::kReLU);
    torch::Tensor bn_weight, bn_bias;
    if (auto* b = module->as<torch::nn::BatchNorm3d>()) bn_weight = b->weight, bn_bias = b->bias;
    if (auto* b = module->as<torch::nn::BatchNorm2d>()) bn_weight = b->weight, bn_bias = b->bias;
    if (bn_weight.defined()) {
      bn_weight.normal_(1.0, 0.02);
      bn_bias.zero_();
    }
  }
}

struct Totals {
  double loss = 0, dice = 0, cross_entropy = 0, samples = 0, seconds = 0;
  void add(const SegmentationLoss& l, double count) {
    loss += l.total.item<double>() * count;
    dice += l.dice.item<double>() * count;
    cross_entropy += l.cross_entropy.item<double>() * count;
    samples += count;
  }
  void addClassification(const torch::Tensor& l, double count) {
    loss += l.item<double>() * count;
    cross_entropy += l.item<double>() * count;
    samples += count;
  }
};

struct ModelRun {
  ModelToTrain spec;
  std::shared_ptr<zoo::Network> network;
  std::unique_ptr<torch::optim::Adam> optimizer;
  TrainedModel result;
};

bool isClassifier(const ModelToTrain& spec) {
  return isClassifierArchitecture(spec.manifest.architecture);
}

// A batch as the network takes it. Batches hold 2D images as (N, C, i, j); a classifier takes PNG
// pictures as PyTorch holds them, (N, C, row, column), as inference does (docs/models.md), so that
// checkpoints trained here and in PyTorch mean the same thing.
torch::Tensor networkInput(const TrainingBatch& batch, const torch::Device& device) {
  torch::Tensor images = toTensor(batch.images);
  if (batch.picture) images = images.transpose(2, 3).contiguous();
  return images.to(device);
}

torch::Tensor classTensor(const TrainingBatch& batch) {
  return torch::tensor(batch.classes, torch::kInt64);
}

// A classifier's loss: the weighted cross-entropy of its heads, times the configured weight.
torch::Tensor classifierLoss(ModelRun& run, const torch::Tensor& images,
                             const torch::Tensor& classes, const TrainingConfig& config) {
  return config.loss.cross_entropy *
         classificationLoss(run.network->run(images, false).heads, classes, run.spec.manifest);
}

torch::Tensor labelTensor(const TrainingBatch& batch) {
  std::vector<int64_t> shape = batch.images.shape;
  shape.erase(shape.begin() + 1);
  return torch::from_blob(const_cast<int64_t*>(batch.labels.data()), shape, torch::kInt64).clone();
}

ModelRun prepareRun(const ModelToTrain& spec, const TrainingConfig& config,
                    const torch::Device& device) {
  ModelRun run;
  run.spec = spec;
  // Seeded per model: a model's initial weights depend on the seed alone, so a gated model
  // trained in a pair equals the same model trained by itself.
  torch::manual_seed(config.seed);
  try {
    const ZooConfig zoo_config = zooConfigFor(spec.manifest);
    run.network =
        isClassifier(spec) ? zoo::makeClassifier(zoo_config) : zoo::makeNetwork(zoo_config);
  } catch (const UsageError& e) {
    throw UsageError(
        fmt::format("{}: model {}: {}", config.source.string(), spec.manifest.name, e.what()));
  }
  initialiseLikeOriginal(*run.network);
  if (!spec.initial_weights.empty()) loadWeights(*run.network, spec.initial_weights, spec.manifest);
  run.network->to(device);
  run.network->train();
  run.optimizer = std::make_unique<torch::optim::Adam>(
      run.network->parameters(),
      torch::optim::AdamOptions(config.learning_rate).weight_decay(config.weight_decay));
  run.result.manifest = spec.manifest;
  for (const auto& p : run.network->parameters()) run.result.parameters += p.numel();
  return run;
}

// Loss and accuracy of a classifier on whole validation images, with the batch-norm statistics
// of inference.
void validateClassifier(ModelRun& run, const std::vector<TrainingSample>& cases,
                        const TrainingConfig& config, const torch::Device& device,
                        EpochRecord& record) {
  double loss = 0, correct = 0;
  for (const TrainingSample& s : cases) {
    const TrainingBatch batch = wholeCaseBatch(s, 2);
    const torch::Tensor classes = classTensor(batch).to(device);
    const std::vector<torch::Tensor> heads =
        run.network->run(networkInput(batch, device), false).heads;
    loss += config.loss.cross_entropy *
            classificationLoss(heads, classes, run.spec.manifest).item<double>();
    correct += predictedClasses(heads, run.spec.manifest).front() == s.true_class ? 1 : 0;
  }
  record.validation_loss = loss / static_cast<double>(cases.size());
  record.validation_accuracy = correct / static_cast<double>(cases.size());
}

// Loss and Dice of whole validation cases with the batch-norm statistics of inference.
void validate(ModelRun& run, const std::vector<TrainingSample>& cases, const TrainingConfig& config,
              int dimensions, const torch::Device& device, EpochRecord& record) {
  if (cases.empty()) return;
  torch::NoGradGuard no_grad;
  run.network->eval();
  if (isClassifier(run.spec)) {
    validateClassifier(run, cases, config, device, record);
    run.network->train();
    return;
  }
  double loss = 0, dice = 0;
  int dice_cases = 0;
  for (const TrainingSample& s : cases) {
    const TrainingBatch batch = wholeCaseBatch(s, dimensions);
    const torch::Tensor labels = labelTensor(batch).to(device);
    const torch::Tensor logits = run.network->run(toTensor(batch.images).to(device), false).logits;
    loss += segmentationLoss(logits, labels, config.loss).total.item<double>();
    if (const auto d = hardDice(logits, labels)) {
      dice += *d;
      ++dice_cases;
    }
  }
  run.network->train();
  record.validation_loss = loss / static_cast<double>(cases.size());
  if (dice_cases > 0) record.validation_dice = dice / dice_cases;
}

void writeModel(ModelRun& run, const fs::path& output) {
  const fs::path folder = output / run.spec.manifest.name;
  fs::create_directories(folder);
  run.network->to(torch::kCPU);
  writeCheckpoint(folder / "model.pth", stateDictTensors(*run.network));
  run.result.manifest.weights = folder / "model.pth";
  run.result.manifest.source = folder / "model.json";
  writeFileAtomically(folder / "model.json", toJson(run.result.manifest).dump(2) + "\n");
}

}  // namespace

namespace {

TrainingResult train(const TrainingRequest& request, const TrainingData& data,
                     const TrainingObserver& observer) {
  const TrainingConfig& config = request.config;
  const torch::Device device = resolveDevice(request.device);
  TrainingResult result;
  result.device = device.str();
  const TorchRuntimeInfo runtime = torchRuntimeInfo();
  result.torch_version = runtime.torch_version;
  result.threads = runtime.intra_op_threads;
  // CPU kernels are deterministic for a fixed thread count; this also makes LibTorch refuse any
  // operation that is not. CUDA's upsampling backward has no deterministic kernel.
  result.deterministic = device.is_cpu();
  at::globalContext().setDeterministicAlgorithms(result.deterministic, false);
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(false);

  std::vector<ModelRun> runs;
  for (const ModelToTrain& spec : request.models) runs.push_back(prepareRun(spec, config, device));
  const int dimensions = config.model.manifest.tensor_dim == "2D" ? 2 : 3;
  BatchSampler sampler(config, data.training);
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    sampler.startEpoch();
    const double learning_rate = learningRateAt(config, epoch);
    for (ModelRun& run : runs)
      for (auto& group : run.optimizer->param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate);
    std::vector<Totals> totals(runs.size());
    for (size_t b = 0; b < sampler.batchesPerEpoch(); ++b) {
      if (observer.cancelled && observer.cancelled())
        throw Error("training interrupted: nothing was written");
      const TrainingBatch batch = sampler.batch(b);
      const torch::Tensor images = networkInput(batch, device);
      const bool classes = !batch.classes.empty();
      const torch::Tensor labels = (classes ? classTensor(batch) : labelTensor(batch)).to(device);
      for (size_t m = 0; m < runs.size(); ++m) {
        const auto start = Clock::now();
        ModelRun& run = runs[m];
        const auto count = static_cast<double>(batch.ids.size());
        run.optimizer->zero_grad();
        if (classes) {
          const torch::Tensor loss = classifierLoss(run, images, labels, config);
          loss.backward();
          run.optimizer->step();
          totals[m].addClassification(loss, count);
        } else {
          const SegmentationLoss loss =
              segmentationLoss(run.network->run(images, false).logits, labels, config.loss);
          loss.total.backward();
          run.optimizer->step();
          totals[m].add(loss, count);
        }
        totals[m].seconds += since(start);
      }
    }
    std::vector<EpochRecord> records;
    for (size_t m = 0; m < runs.size(); ++m) {
      EpochRecord r;
      r.epoch = epoch;
      r.learning_rate = learning_rate;
      r.loss = totals[m].loss / totals[m].samples;
      r.dice_loss = totals[m].dice / totals[m].samples;
      r.cross_entropy = totals[m].cross_entropy / totals[m].samples;
      const auto start = Clock::now();
      validate(runs[m], data.validation, config, dimensions, device, r);
      r.seconds = totals[m].seconds + since(start);
      runs[m].result.epochs.push_back(r);
      records.push_back(r);
    }
    if (observer.epoch_finished) observer.epoch_finished(epoch, records);
  }
  for (ModelRun& run : runs) {
    writeModel(run, request.output);
    result.models.push_back(run.result);
  }
  return result;
}

}  // namespace

TrainingResult trainZooModels(const TrainingRequest& request, const TrainingData& data,
                              const TrainingObserver& observer) {
  try {
    return train(request, data, observer);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("out of memory") != std::string::npos)
      throw Error(fmt::format(
          "{}: out of memory on {}: use a smaller patch_size or batch_size, or --device cpu",
          request.config.source.string(), request.device));
    throw Error(request.config.source.string() +
                ": training failed: " + what.substr(0, what.find('\n')));
  }
}

}  // namespace gatescope
