#include "analysis/metrics/preset_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "analysis/core/error.hpp"
#include "analysis/stats/percentile.hpp"

namespace gatescope {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mean(const std::vector<double>& v) {
  return v.empty() ? kNaN
                   : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double maximum(const std::vector<double>& v) {
  return v.empty() ? kNaN : *std::max_element(v.begin(), v.end());
}
}  // namespace

PresetRules presetRules(const MetricConfig& config) {
  PresetRules rules;
  rules.preset = config.preset;
  const Connectivity chosen = config.full_connectivity ? Connectivity::Full : Connectivity::Face;
  switch (config.preset) {
    case MetricPreset::Default:
      rules.connectivity = chosen;
      break;
    case MetricPreset::Monai:            // get_mask_edges: scipy cross erosion, zero padding
    case MetricPreset::MetricsReloaded:  // binary_erosion defaults
      break;
    case MetricPreset::Medpy:  // __surface_distances: erosion with generate_binary_structure
      rules.connectivity = chosen;
      rules.percentile = PercentileRule::PooledLinear;  // hd95 = percentile(hstack(d1, d2))
      break;
    case MetricPreset::DeepMind:  // compute_surface_distances: surfels on the corner grid
      rules.surface = SurfaceModel::Surfels;
      break;
    case MetricPreset::Plastimatch:  // dice --all: Danielsson map on the cropped union box
      rules.surface = SurfaceModel::PlastimatchBoundary;
      break;
  }
  return rules;
}

void setDistanceMetrics(LabelMetrics& m, const DirectedDistances& d, const MetricConfig& config,
                        const PresetRules& rules) {
  const auto& a = d.prediction_to_reference;
  const auto& b = d.reference_to_prediction;
  m.hd_mm = std::max(maximum(a), maximum(b));
  switch (rules.percentile) {
    case PercentileRule::MaxOfDirectedLinear:
      m.hd_percentile_mm =
          std::max(linearPercentile(a, config.percentile), linearPercentile(b, config.percentile));
      break;
    case PercentileRule::PooledLinear: {
      std::vector<double> pooled(a);
      pooled.insert(pooled.end(), b.begin(), b.end());
      m.hd_percentile_mm = linearPercentile(std::move(pooled), config.percentile);
      break;
    }
  }
  m.asd_prediction_to_reference_mm = mean(a);
  m.asd_reference_to_prediction_mm = mean(b);
  m.masd_mm = 0.5 * (m.asd_prediction_to_reference_mm + m.asd_reference_to_prediction_mm);
  const double total = static_cast<double>(a.size() + b.size());
  m.assd_mm =
      (std::accumulate(a.begin(), a.end(), 0.0) + std::accumulate(b.begin(), b.end(), 0.0)) / total;
  m.nsd.clear();
  for (const double tau : config.tolerances_mm) {
    const auto within = [tau](double x) { return x <= tau; };
    const double hits = static_cast<double>(std::count_if(a.begin(), a.end(), within) +
                                            std::count_if(b.begin(), b.end(), within));
    m.nsd.push_back(total > 0 ? hits / total : kNaN);
  }
}

namespace {

void setDistances(LabelMetrics& m, double value) {
  m.hd_mm = m.hd_percentile_mm = m.assd_mm = m.masd_mm = value;
  m.asd_prediction_to_reference_mm = m.asd_reference_to_prediction_mm = value;
}

}  // namespace

void applyEmptyPolicy(LabelMetrics& m, const MetricConfig& config, const PresetRules& rules) {
  if (m.status == EmptyStatus::Ok) return;
  const size_t tolerances = config.tolerances_mm.size();
  const bool both = m.status == EmptyStatus::BothEmpty;
  const bool reference_empty = m.status != EmptyStatus::PredictionEmpty;
  switch (rules.preset) {
    case MetricPreset::Default:
      if (both) {
        m.dice = m.jaccard = m.precision = m.recall = m.specificity = m.volume_similarity = kNaN;
        setDistances(m, kNaN);
        m.nsd.assign(tolerances, kNaN);
      } else {
        // The non-empty mask's border has no partner at any distance.
        setDistances(m, kInf);
        m.asd_prediction_to_reference_mm = reference_empty ? kInf : kNaN;
        m.asd_reference_to_prediction_mm = reference_empty ? kNaN : kInf;
        m.nsd.assign(tolerances, 0.0);
      }
      break;
    case MetricPreset::Monai:
      setDistances(m, both ? kNaN : kInf);
      m.hd_percentile_mm = kNaN;  // torch.quantile of an all-inf set
      m.nsd.assign(tolerances, both ? kNaN : 0.0);
      if (reference_empty) m.dice = m.jaccard = kNaN;  // ignore_empty=True
      break;
    case MetricPreset::Medpy:
      setDistances(m, kNaN);
      m.nsd.assign(tolerances, kNaN);
      m.error = std::string("medpy raises RuntimeError: The ") +
                (m.status == EmptyStatus::ReferenceEmpty ? "second" : "first") +
                " supplied array does not contain any binary object.";
      if (both) m.dice = 1.0;
      if (m.tp + m.fp == 0) m.precision = 0.0;
      if (m.tp + m.fn == 0) m.recall = 0.0;
      break;
    case MetricPreset::MetricsReloaded:
      if (both) {
        setDistances(m, 0.0);
        m.nsd.assign(tolerances, kNaN);
        m.dice = 1.0;
        m.jaccard = kNaN;
      } else {
        setDistances(m, kNaN);
        m.nsd.assign(tolerances, 0.0);
        m.error = "MetricsReloaded raises IndexError (percentile of an empty distance set)";
      }
      break;
    case MetricPreset::DeepMind:
      // compute_robust_hausdorff is inf whenever a side has no surfels; averages divide 0 by 0.
      m.hd_mm = m.hd_percentile_mm = kInf;
      if (both) {
        m.dice = m.jaccard = kNaN;
        m.asd_prediction_to_reference_mm = m.asd_reference_to_prediction_mm = kNaN;
        m.assd_mm = m.masd_mm = kNaN;
        m.nsd.assign(tolerances, kNaN);
      } else {
        m.asd_prediction_to_reference_mm = reference_empty ? kInf : kNaN;
        m.asd_reference_to_prediction_mm = reference_empty ? kNaN : kInf;
        m.assd_mm = m.masd_mm = kInf;
        m.nsd.assign(tolerances, 0.0);
      }
      break;
    case MetricPreset::Plastimatch:
      if (both) {
        m.dice = 0.0;  // plastimatch prints DICE 0, then fails on the empty crop
        setDistances(m, kNaN);
        m.nsd.assign(tolerances, kNaN);
        m.error = "plastimatch fails (ITK exception, exit status 1) when both masks are empty";
      } else {  // plastimatch prints FLT_MAX
        setDistances(m, kInf);
        m.asd_prediction_to_reference_mm = reference_empty ? kInf : kNaN;
        m.asd_reference_to_prediction_mm = reference_empty ? kNaN : kInf;
        m.nsd.assign(tolerances, 0.0);
      }
      break;
  }
}

}  // namespace gatescope
