#include "analysis/models/training_cases.hpp"

#include <fmt/format.h>

#include "analysis/core/error.hpp"
#include "analysis/datasets/classification_dataset.hpp"
#include "analysis/datasets/dataset.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/models/model_adapter.hpp"

namespace gatescope {

namespace {

// A classifier's images: the configured split of a CSV (a folder per class has no splits: every
// image), each in the model's channels, its class as the dataset names it.
TrainingCases readClassificationCases(
    const TrainingConfig& config, const std::function<void(size_t done, size_t total)>& progress) {
  const ModelManifest& m = config.model.manifest;
  std::vector<std::string> fixed;
  if (!m.labels.empty())
    for (int c = 0; c < m.n_classes; ++c)
      fixed.push_back(m.labels.count(c) ? m.labels.at(c) : std::to_string(c));
  const ClassificationDataset dataset = openClassificationDataset(config.dataset, fixed);
  TrainingCases out;
  out.dataset_name = dataset.root.filename().string();
  for (size_t c = 0; c < dataset.classes.size(); ++c)
    out.labels[static_cast<int>(c)] = dataset.classes[c];
  std::vector<const ClassificationItem*> chosen;
  for (const ClassificationItem& item : dataset.items)
    if (item.split.empty() || config.split == "all" || item.split == config.split)
      chosen.push_back(&item);
  if (chosen.empty())
    throw UsageError(fmt::format("{}: no image in the {} split to train on",
                                 config.dataset.string(), config.split));
  for (const ClassificationItem* item : chosen) {
    if (!item->problem.empty())
      throw Error(fmt::format("{}: image {}: {}", dataset.root.string(), item->id, item->problem));
    const Image read = readImage(item->image);
    Volume<float> image;
    try {
      image = toModelChannels(toFloatVolume(read), m.in_channels);
    } catch (const UsageError& e) {
      throw UsageError(item->image.string() + ": " + e.what());
    }
    TrainingSample sample{item->id,
                          std::move(image),
                          {},
                          item->image.string(),
                          item->true_class,
                          read.header.format == ImageFormat::Png};
    out.cases.push_back(std::move(sample));
    if (progress) progress(out.cases.size(), chosen.size());
  }
  return out;
}

}  // namespace

TrainingCases readTrainingCases(const TrainingConfig& config,
                                const std::function<void(size_t done, size_t total)>& progress) {
  if (isClassifierArchitecture(config.model.manifest.architecture))
    return readClassificationCases(config, progress);
  const Dataset dataset = openDataset(config.dataset);
  TrainingCases out;
  out.dataset_name = dataset.name;
  out.labels = dataset.labels;
  std::vector<DatasetCase> labelled;
  for (const DatasetCase& c : selectSplit(dataset, config.split)) {
    if (!c.problem.empty())
      throw Error(fmt::format("{}: case {}: {}", dataset.root.string(), c.id, c.problem));
    if (c.reference)
      labelled.push_back(c);
    else
      out.unlabelled.push_back(c.id);
  }
  if (labelled.empty())
    throw UsageError(fmt::format("{}: the {} split has no case with reference labels to train on",
                                 dataset.root.string(), config.split));
  for (const DatasetCase& c : labelled) {
    const Image image = readCaseImage(c);
    Volume<int32_t> labels = readCaseReference(c, image.geometry());
    out.cases.push_back({c.id, toFloatVolume(image), std::move(labels), c.reference->string()});
    if (progress) progress(out.cases.size(), labelled.size());
  }
  return out;
}

}  // namespace gatescope
