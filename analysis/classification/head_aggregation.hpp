#pragma once

// One class probability vector from a classifier's heads, as the original AggregatedClassifier
// makes it (docs/models.md): a softmax per head, then the manifest's aggregation - the mean over
// the heads, the per-class maximum, the mean of the heads weighted by aggregation_weight, or one
// head (idx, aggregation_param).
#include <vector>

#include "analysis/models/model_manifest.hpp"

namespace gatescope {

// exp(x - max) / sum, in double precision.
[[nodiscard]] std::vector<double> softmax(const std::vector<double>& logits);

// `head_probabilities`: per head the softmax probabilities of one image (all of one length).
// UsageError naming the manifest when the heads do not fit its aggregation (a weight per head,
// an index below the number of heads).
[[nodiscard]] std::vector<double> aggregateHeads(
    const std::vector<std::vector<double>>& head_probabilities, const ModelManifest& manifest);

}  // namespace gatescope
