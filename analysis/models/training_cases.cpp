#include "analysis/models/training_cases.hpp"

#include <fmt/format.h>

#include "analysis/core/error.hpp"
#include "analysis/datasets/dataset.hpp"

namespace gatescope {

TrainingCases readTrainingCases(const TrainingConfig& config,
                                const std::function<void(size_t done, size_t total)>& progress) {
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
