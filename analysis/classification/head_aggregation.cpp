#include "analysis/classification/head_aggregation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"

namespace gatescope {

std::vector<double> softmax(const std::vector<double>& logits) {
  if (logits.empty()) return {};
  const double top = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t c = 0; c < logits.size(); ++c) sum += p[c] = std::exp(logits[c] - top);
  for (double& v : p) v /= sum;
  return p;
}

std::vector<double> aggregateHeads(const std::vector<std::vector<double>>& heads,
                                   const ModelManifest& m) {
  if (heads.empty()) throw UsageError(m.source.string() + ": the model returned no head");
  const size_t classes = heads.front().size();
  for (const auto& h : heads)
    if (h.size() != classes)
      throw UsageError(m.source.string() + ": the model's heads give different numbers of classes");
  const auto n = static_cast<double>(heads.size());
  std::vector<double> out(classes, 0.0);
  if (m.aggregation == "idx") {
    if (m.aggregation_param < 0 || static_cast<size_t>(m.aggregation_param) >= heads.size())
      throw UsageError(fmt::format("{}: aggregation_param {} but the model has {} head(s)",
                                   m.source.string(), m.aggregation_param, heads.size()));
    return heads[static_cast<size_t>(m.aggregation_param)];
  }
  if (m.aggregation == "max") {
    out = heads.front();
    for (const auto& h : heads)
      for (size_t c = 0; c < classes; ++c) out[c] = std::max(out[c], h[c]);
    return out;
  }
  if (m.aggregation == "weighted_mean" && m.aggregation_weight.size() != heads.size())
    throw UsageError(
        fmt::format("{}: aggregation_weight has {} weight(s) but the model has {} head(s)",
                    m.source.string(), m.aggregation_weight.size(), heads.size()));
  // mean, or weighted_mean: the weighted heads' mean (the weights are not normalised: the
  // original divides by the number of heads).
  for (size_t h = 0; h < heads.size(); ++h) {
    const double w = m.aggregation == "weighted_mean" ? m.aggregation_weight[h] : 1.0;
    for (size_t c = 0; c < classes; ++c) out[c] += w * heads[h][c];
  }
  for (double& v : out) v /= n;
  return out;
}

}  // namespace gatescope
