#include "analysis/metrics/metric_suite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>

#include "analysis/metrics/label_masks.hpp"
#include "analysis/metrics/plastimatch_preset.hpp"
#include "analysis/metrics/preset_rules.hpp"
#include "analysis/metrics/surfels.hpp"

namespace gatescope {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double numerator, double denominator) {
  return denominator == 0.0 ? kNaN : numerator / denominator;
}

// Voxel counts and bounding boxes of every label value in both volumes, in one parallel pass.
template <typename T>
struct LabelCensus {
  std::vector<int64_t> reference, prediction, both;
  std::vector<Box> reference_box, prediction_box;

  explicit LabelCensus(size_t values)
      : reference(values),
        prediction(values),
        both(values),
        reference_box(values),
        prediction_box(values) {}

  void merge(const LabelCensus& other) {
    for (size_t v = 0; v < reference.size(); ++v) {
      reference[v] += other.reference[v];
      prediction[v] += other.prediction[v];
      both[v] += other.both[v];
      reference_box[v].merge(other.reference_box[v]);
      prediction_box[v].merge(other.prediction_box[v]);
    }
  }
};

template <typename T>
LabelCensus<T> takeCensus(const T* reference, const T* prediction, const Index3& dims) {
  const size_t values = size_t{1} << (8 * sizeof(T));
  LabelCensus<T> total(values);
#pragma omp parallel
  {
    LabelCensus<T> local(values);
#pragma omp for schedule(static) nowait
    for (int64_t k = 0; k < dims[2]; ++k) {
      for (int64_t j = 0; j < dims[1]; ++j) {
        const int64_t row = (k * dims[1] + j) * dims[0];
        constexpr int64_t kChunk = 8 / sizeof(T);  // voxels per 8 bytes
        for (int64_t i = 0; i < dims[0]; ++i) {
          // Most voxels are background in both: skip them 8 bytes at a time.
          if (i % kChunk == 0 && i + kChunk <= dims[0]) {
            uint64_t r8 = 0, p8 = 0;
            std::memcpy(&r8, reference + row + i, 8);
            std::memcpy(&p8, prediction + row + i, 8);
            if ((r8 | p8) == 0) {
              i += kChunk - 1;
              continue;
            }
          }
          const T r = reference[row + i];
          const T p = prediction[row + i];
          if ((r | p) == 0) continue;
          ++local.reference[r];
          ++local.prediction[p];
          local.reference_box[r].add(i, j, k);
          local.prediction_box[p].add(i, j, k);
          if (r == p) ++local.both[r];
        }
      }
    }
#pragma omp critical
    total.merge(local);
  }
  // Voxels where both are background were skipped: every other voxel incremented exactly one
  // reference count, so the skipped ones are what is left. Background gets the whole grid as box.
  const int64_t voxels = dims[0] * dims[1] * dims[2];
  int64_t counted = 0, ref_foreground = 0, pred_foreground = 0;
  for (size_t v = 0; v < values; ++v) {
    counted += total.reference[v];
    if (v > 0) {
      ref_foreground += total.reference[v];
      pred_foreground += total.prediction[v];
    }
  }
  total.both[0] = voxels - counted;
  total.reference[0] = voxels - ref_foreground;
  total.prediction[0] = voxels - pred_foreground;
  total.reference_box[0] = total.prediction_box[0] = Box::whole(dims);
  return total;
}

void setOverlap(LabelMetrics& m, int64_t ref_count, int64_t pred_count, int64_t both,
                int64_t voxels, double voxel_volume_mm3) {
  m.tp = both;
  m.fp = pred_count - both;
  m.fn = ref_count - both;
  m.tn = voxels - m.tp - m.fp - m.fn;
  const double tp = static_cast<double>(m.tp), fp = static_cast<double>(m.fp),
               fn = static_cast<double>(m.fn), tn = static_cast<double>(m.tn);
  m.dice = ratio(2.0 * tp, 2.0 * tp + fp + fn);
  m.jaccard = ratio(tp, tp + fp + fn);
  m.precision = ratio(tp, tp + fp);
  m.recall = ratio(tp, tp + fn);
  m.specificity = ratio(tn, tn + fp);
  m.volume_similarity = 1.0 - ratio(std::abs(fn - fp), 2.0 * tp + fp + fn);
  m.reference_volume_mm3 = static_cast<double>(ref_count) * voxel_volume_mm3;
  m.prediction_volume_mm3 = static_cast<double>(pred_count) * voxel_volume_mm3;
  m.status = ref_count == 0 && pred_count == 0 ? EmptyStatus::BothEmpty
             : ref_count == 0                  ? EmptyStatus::ReferenceEmpty
             : pred_count == 0                 ? EmptyStatus::PredictionEmpty
                                               : EmptyStatus::Ok;
}

template <typename T>
std::vector<LabelMetrics> computeTyped(const T* reference, const T* prediction, const Geometry& g,
                                       const MetricConfig& config,
                                       const std::function<void()>& release_inputs) {
  const LabelCensus<T> census = takeCensus(reference, prediction, g.dims);
  std::vector<int64_t> labels;
  if (config.labels) {
    labels = *config.labels;
  } else {
    for (size_t v = config.include_background ? 0 : 1; v < census.reference.size(); ++v)
      if (census.reference[v] > 0 || census.prediction[v] > 0)
        labels.push_back(static_cast<int64_t>(v));
  }
  const PresetRules rules = presetRules(config);
  const double voxel_volume = g.spacing_mm[0] * g.spacing_mm[1] * g.spacing_mm[2];
  const int64_t voxels = g.voxelCount();
  const auto outside = static_cast<uint8_t>(rules.image_edge_is_border ? 0 : 1);

  std::vector<LabelMetrics> out;
  std::vector<std::pair<size_t, Box>> surfaces;  // labels that need distances, with their boxes
  uint64_t crop_bytes = 0;
  for (const int64_t label : labels) {
    LabelMetrics m;
    m.label = label;
    const bool representable = label >= 0 && static_cast<size_t>(label) < census.reference.size();
    const size_t v = representable ? static_cast<size_t>(label) : 0;
    setOverlap(m, representable ? census.reference[v] : 0, representable ? census.prediction[v] : 0,
               representable ? census.both[v] : 0, voxels, voxel_volume);
    if (m.status == EmptyStatus::Ok) {
      Box box = census.reference_box[v];
      box.merge(census.prediction_box[v]);
      const Index3 size = box.size();
      crop_bytes += 2 * static_cast<uint64_t>((size[0] + 2) * (size[1] + 2) * (size[2] + 2));
      surfaces.emplace_back(out.size(), box);
    }
    out.push_back(std::move(m));
  }

  // When the cropped masks of all labels are smaller than the two volumes, cut them out first and
  // let the caller free the volumes before the distance transforms need their memory.
  const bool crop_first = rules.surface != SurfaceModel::PlastimatchBoundary &&
                          crop_bytes < 2 * static_cast<uint64_t>(voxels) * sizeof(T);
  std::vector<LabelMasks> masks;
  if (crop_first) {
    for (const auto& [index, box] : surfaces)
      masks.push_back(extractMasks(reference, prediction, g.dims, box,
                                   static_cast<T>(out[index].label), outside));
    release_inputs();
  }
  DistanceWorkspace workspace;
  for (size_t n = 0; n < surfaces.size(); ++n) {
    const auto& [index, box] = surfaces[n];
    if (rules.surface == SurfaceModel::PlastimatchBoundary) {
      setPlastimatchDistanceMetrics(out[index], reference, prediction, g.dims, box,
                                    static_cast<T>(out[index].label), g.spacing_mm, config);
      continue;
    }
    LabelMasks label_masks = crop_first ? std::move(masks[n])
                                        : extractMasks(reference, prediction, g.dims, box,
                                                       static_cast<T>(out[index].label), outside);
    if (rules.surface == SurfaceModel::Surfels)
      setSurfelDistanceMetrics(out[index], std::move(label_masks), g.spacing_mm, config, workspace);
    else
      setDistanceMetrics(
          out[index],
          borderDistances(std::move(label_masks), g.spacing_mm, rules.connectivity, workspace),
          config, rules);
  }
  for (LabelMetrics& m : out) applyEmptyPolicy(m, config, rules);
  return out;
}

}  // namespace

std::vector<LabelMetrics> computeMetrics(Image reference, Image prediction,
                                         const MetricConfig& config,
                                         const std::string& reference_name,
                                         const std::string& prediction_name) {
  const Geometry gr = reference.geometry();
  const Geometry& gp = prediction.geometry();
  if (!gr.sameGrid(gp))
    throw GeometryError(fmt::format("{} and {} are on different grids: {}", reference_name,
                                    prediction_name, gr.difference(gp)));
  const int64_t largest =
      std::max(largestLabel(reference, reference_name), largestLabel(prediction, prediction_name));
  const auto run = [&]<typename T>() {
    auto r = std::make_unique<LabelBuffer<T>>(reference);
    auto p = std::make_unique<LabelBuffer<T>>(prediction);
    return computeTyped<T>(r->data(), p->data(), gr, config, [&] {
      r.reset();
      p.reset();
      reference.voxels = Volume<uint8_t>();
      prediction.voxels = Volume<uint8_t>();
    });
  };
  return largest <= 255 ? run.template operator()<uint8_t>() : run.template operator()<uint16_t>();
}

}  // namespace gatescope
