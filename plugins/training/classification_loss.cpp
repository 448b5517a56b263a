#include "plugins/training/classification_loss.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/classification/head_aggregation.hpp"
#include "analysis/core/error.hpp"

namespace gatescope {

torch::Tensor classificationLoss(const std::vector<torch::Tensor>& heads,
                                 const torch::Tensor& classes, const ModelManifest& manifest) {
  const std::vector<double>& weights = manifest.aggregation_weight;
  if (!weights.empty() && weights.size() != heads.size())
    throw UsageError(fmt::format("{}: aggregation_weight has {} weight(s) for {} head(s)",
                                 manifest.source.string(), weights.size(), heads.size()));
  torch::Tensor loss;
  for (size_t h = 0; h < heads.size(); ++h) {
    const double weight = weights.empty() ? 1.0 : weights[h];
    if (weight == 0.0) continue;  // as the original: a head of weight 0 is left out
    const torch::Tensor term = weight * torch::nn::functional::cross_entropy(heads[h], classes);
    loss = loss.defined() ? loss + term : term;
  }
  if (!loss.defined()) throw UsageError(manifest.source.string() + ": every head has weight 0");
  return loss;
}

std::vector<int> predictedClasses(const std::vector<torch::Tensor>& heads,
                                  const ModelManifest& manifest) {
  std::vector<torch::Tensor> probabilities;
  for (const torch::Tensor& head : heads)
    probabilities.push_back(
        torch::softmax(head.detach().to(torch::kCPU, torch::kFloat64), 1).contiguous());
  const int64_t images = heads.front().size(0), classes = heads.front().size(1);
  std::vector<int> predicted;
  for (int64_t n = 0; n < images; ++n) {
    std::vector<std::vector<double>> per_head;
    for (const torch::Tensor& p : probabilities) {
      const double* row = p.data_ptr<double>() + n * classes;
      per_head.emplace_back(row, row + classes);
    }
    const std::vector<double> aggregated = aggregateHeads(per_head, manifest);
    predicted.push_back(static_cast<int>(std::max_element(aggregated.begin(), aggregated.end()) -
                                         aggregated.begin()));
  }
  return predicted;
}

}  // namespace gatescope
