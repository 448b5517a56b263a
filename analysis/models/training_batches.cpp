#include "analysis/models/training_batches.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"

namespace gatescope {

namespace {

// Every zoo network pools four times by two along each of its axes.
constexpr int64_t kNetworkMultiple = 16;

int modelDimensions(const TrainingConfig& config) {
  return config.model.manifest.tensor_dim == "2D" ? 2 : 3;
}

template <typename T>
Volume<T> padAtEnd(const Volume<T>& v, const Index3& size) {
  if (size == v.dims()) return v;
  Geometry g = v.geometry();
  g.dims = size;
  Volume<T> out(g, v.channels(), T{});
  const auto& d = v.dims();
  for (int64_t c = 0; c < v.channels(); ++c)
    for (int64_t k = 0; k < d[2]; ++k)
      for (int64_t j = 0; j < d[1]; ++j) std::copy_n(&v(0, j, k, c), d[0], &out(0, j, k, c));
  return out;
}

// Classifiers take any size (their global pooling does not care, and inference does not pad
// them): only a larger patch pads them.
Index3 paddedSize(const Index3& dims, const TrainingConfig& config) {
  const int64_t multiple =
      isClassifierArchitecture(config.model.manifest.architecture)
          ? 1
          : std::lcm<int64_t>(config.model.manifest.preprocessing.pad_to_multiple,
                              kNetworkMultiple);
  Index3 size = dims;
  for (int a = 0; a < modelDimensions(config); ++a) {
    const auto axis = static_cast<size_t>(a);
    size[axis] = (dims[axis] + multiple - 1) / multiple * multiple;
    if (!config.patch_size.empty()) size[axis] = std::max(size[axis], config.patch_size[axis]);
  }
  return size;
}

Index3 batchSize(const TrainingConfig& config, const TrainingSample& first) {
  if (config.patch_size.empty()) return first.image.dims();
  Index3 size{1, 1, 1};
  std::copy(config.patch_size.begin(), config.patch_size.end(), size.begin());
  return size;
}

struct Draw {
  Index3 offset{0, 0, 0};
  std::array<bool, 3> flip{false, false, false};
  double scale = 1.0;
  double shift = 0.0;
};

// Copies a (possibly mirrored) window of a sample into batch slot `slot`: images (C, i, j, k) with
// k fastest, labels (i, j, k).
void copyWindow(const TrainingSample& s, const Index3& size, const Draw& d, size_t slot,
                TrainingBatch& batch) {
  const int64_t channels = s.image.channels();
  const int64_t voxels = size[0] * size[1] * size[2];
  float* images = batch.images.values.data() + slot * static_cast<size_t>(channels * voxels);
  int64_t* labels = batch.labels.data() + slot * static_cast<size_t>(voxels);
  const auto source = [&](int axis, int64_t n) {
    const auto a = static_cast<size_t>(axis);
    return d.offset[a] + (d.flip[a] ? size[a] - 1 - n : n);
  };
  const auto scale = static_cast<float>(d.scale), shift = static_cast<float>(d.shift);
  for (int64_t i = 0; i < size[0]; ++i)
    for (int64_t j = 0; j < size[1]; ++j)
      for (int64_t k = 0; k < size[2]; ++k) {
        const int64_t si = source(0, i), sj = source(1, j), sk = source(2, k);
        const int64_t at = (i * size[1] + j) * size[2] + k;
        for (int64_t c = 0; c < channels; ++c)
          images[c * voxels + at] = s.image(si, sj, sk, c) * scale + shift;
        labels[at] = s.labels(si, sj, sk);
      }
}

TrainingBatch emptyBatch(size_t count, int64_t channels, const Index3& size, int dimensions) {
  TrainingBatch b;
  b.images.shape = {static_cast<int64_t>(count), channels};
  std::vector<int64_t> label_shape = {static_cast<int64_t>(count)};
  for (int a = 0; a < dimensions; ++a) {
    b.images.shape.push_back(size[static_cast<size_t>(a)]);
    label_shape.push_back(size[static_cast<size_t>(a)]);
  }
  const auto voxels = static_cast<size_t>(size[0] * size[1] * size[2]);
  b.images.values.resize(count * static_cast<size_t>(channels) * voxels);
  b.labels.resize(count * voxels);
  return b;
}

}  // namespace

TrainingData prepareTrainingData(std::vector<TrainingSample> cases, const TrainingConfig& config) {
  const ModelManifest& m = config.model.manifest;
  const std::string source = config.source.string();
  if (cases.empty())
    throw UsageError(source + ": the dataset has no cases with reference labels to train on");
  const int dimensions = modelDimensions(config);
  for (TrainingSample& s : cases) {
    if (s.image.channels() != m.in_channels)
      throw UsageError(fmt::format("{}: case {} has {} input channel(s), model.in_channels is {}",
                                   source, s.id, s.image.channels(), m.in_channels));
    if (dimensions == 2 && s.image.dims()[2] != 1)
      throw UsageError(
          fmt::format("{}: case {} is 3D ({}); a 2D model (tensor_dim \"2D\") trains on 2D images",
                      source, s.id, s.image.geometry().describe()));
    if (s.true_class >= 0) {
      if (s.true_class >= m.n_classes)
        throw UsageError(fmt::format("{}: image {} is of class {}, but model.n_classes in {} is {}",
                                     s.label_file.empty() ? source : s.label_file, s.id,
                                     s.true_class, source, m.n_classes));
      s.labels = Volume<int32_t>(s.image.geometry());  // travels with the crops, never used
      if (s.picture != cases.front().picture)
        throw UsageError(fmt::format(
            "{}: {} is a PNG and {} is not: a classifier takes a PNG as (row, column) and NIfTI as "
            "(i, j), so one training set holds one kind (docs/training.md)",
            source, (s.picture ? s : cases.front()).id, (s.picture ? cases.front() : s).id));
    } else if (s.labels.dims() != s.image.dims())
      throw GeometryError(fmt::format("case {}: labels {} and image {} differ in size", s.id,
                                      s.labels.geometry().describe(),
                                      s.image.geometry().describe()));
    const auto [lowest, highest] =
        std::minmax_element(s.labels.values().begin(), s.labels.values().end());
    if (*lowest < 0 || *highest >= m.n_classes)
      throw UsageError(
          fmt::format("{}: case {} has label value {}, but model.n_classes in {} is {}",
                      s.label_file.empty() ? source : s.label_file, s.id,
                      *lowest < 0 ? *lowest : *highest, source, m.n_classes));
    if (m.preprocessing.normalize == "zscore") normalizeZScore(s.image);
    const Index3 size = paddedSize(s.image.dims(), config);
    s.image = padAtEnd(s.image, size);
    s.labels = padAtEnd(s.labels, size);
  }

  const size_t n = cases.size();
  auto validation_count =
      static_cast<size_t>(std::lround(config.validation_fraction * static_cast<double>(n)));
  if (config.validation_fraction > 0 && validation_count == 0) validation_count = 1;
  if (validation_count >= n)
    throw UsageError(
        fmt::format("{}: validation_fraction {} of {} case(s) leaves nothing to train on", source,
                    config.validation_fraction, n));
  // Its own stream, so that the choice of validation cases does not move with the augmentation.
  SeededRandom split(config.seed ^ 0x76616c6964617465ULL);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  split.shuffle(order);
  std::vector<bool> held_out(n, false);
  for (size_t v = 0; v < validation_count; ++v) held_out[order[v]] = true;
  TrainingData data;
  for (size_t c = 0; c < n; ++c)
    (held_out[c] ? data.validation : data.training).push_back(std::move(cases[c]));
  return data;
}

BatchSampler::BatchSampler(const TrainingConfig& config, const std::vector<TrainingSample>& samples)
    : config_(config),
      samples_(samples),
      random_(config.seed),
      dimensions_(modelDimensions(config)) {
  if (samples_.empty()) throw UsageError(config.source.string() + ": no training cases");
  order_.resize(samples_.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  if (config_.batch_size > 1 && config_.patch_size.empty())
    for (const auto& s : samples_)
      if (s.image.dims() != samples_.front().image.dims())
        throw UsageError(fmt::format(
            "{}: batch_size {} needs cases of one size, but {} pads to {} and {} to {}: "
            "set patch_size or batch_size 1",
            config_.source.string(), config_.batch_size, samples_.front().id,
            samples_.front().image.geometry().describe(), s.id, s.image.geometry().describe()));
}

size_t BatchSampler::batchesPerEpoch() const {
  const auto size = static_cast<size_t>(config_.batch_size);
  return (samples_.size() + size - 1) / size;
}

void BatchSampler::startEpoch() {
  random_.shuffle(order_);
}

TrainingBatch BatchSampler::batch(size_t index) {
  const auto per_batch = static_cast<size_t>(config_.batch_size);
  const size_t first = index * per_batch;
  const size_t count = std::min(per_batch, samples_.size() - first);
  const Index3 size = batchSize(config_, samples_[order_[first]]);
  TrainingBatch b = emptyBatch(count, samples_.front().image.channels(), size, dimensions_);
  const AugmentationSettings& a = config_.augmentation;
  for (size_t slot = 0; slot < count; ++slot) {
    const TrainingSample& s = samples_[order_[first + slot]];
    Draw d;
    for (int axis = 0; axis < dimensions_; ++axis) {
      const auto ax = static_cast<size_t>(axis);
      d.offset[ax] = static_cast<int64_t>(
          random_.below(static_cast<uint64_t>(s.image.dims()[ax] - size[ax] + 1)));
    }
    for (int axis : a.flip_axes)
      d.flip[static_cast<size_t>(axis)] = random_.chance(a.flip_probability);
    d.scale = random_.uniform(a.intensity_scale[0], a.intensity_scale[1]);
    d.shift = random_.uniform(a.intensity_shift[0], a.intensity_shift[1]);
    copyWindow(s, size, d, slot, b);
    b.ids.push_back(s.id);
    if (s.true_class >= 0) b.classes.push_back(s.true_class);
    b.picture = s.picture;
  }
  return b;
}

TrainingBatch wholeCaseBatch(const TrainingSample& sample, int dimensions) {
  TrainingBatch b = emptyBatch(1, sample.image.channels(), sample.image.dims(), dimensions);
  copyWindow(sample, sample.image.dims(), Draw{}, 0, b);
  b.ids.push_back(sample.id);
  if (sample.true_class >= 0) b.classes.push_back(sample.true_class);
  b.picture = sample.picture;
  return b;
}

}  // namespace gatescope
