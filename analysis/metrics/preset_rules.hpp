#pragma once

#include "analysis/metrics/label_masks.hpp"
#include "analysis/metrics/label_metrics.hpp"
#include "analysis/metrics/metric_config.hpp"

namespace gatescope {

enum class SurfaceModel { VoxelBorder, Surfels, PlastimatchBoundary };
// How HDp combines the two directed distance sets.
enum class PercentileRule {
  MaxOfDirectedLinear,  // max(P(D(P->R)), P(D(R->P))), numpy's linear interpolation
  PooledLinear,         // P(D(P->R) u D(R->P)), linear
};

// What distinguishes one preset's definitions from another's (docs/metrics.md).
struct PresetRules {
  MetricPreset preset = MetricPreset::Default;
  SurfaceModel surface = SurfaceModel::VoxelBorder;
  Connectivity connectivity = Connectivity::Face;
  bool image_edge_is_border = true;
  PercentileRule percentile = PercentileRule::MaxOfDirectedLinear;
};

[[nodiscard]] PresetRules presetRules(const MetricConfig& config);

// Distance metrics of a label whose masks are both non-empty.
void setDistanceMetrics(LabelMetrics& m, const DirectedDistances& d, const MetricConfig& config,
                        const PresetRules& rules);
// What the preset's library reports when one or both masks are empty.
void applyEmptyPolicy(LabelMetrics& m, const MetricConfig& config, const PresetRules& rules);

}  // namespace gatescope
