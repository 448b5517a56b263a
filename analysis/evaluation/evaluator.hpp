#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/attention/attention_statistics.hpp"
#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/metrics/metric_config.hpp"
#include "analysis/models/model_adapter.hpp"
#include "analysis/stats/paired.hpp"

namespace gatescope {

class Registry;
class CaseDistribution;

struct EvaluationOptions {
  // One or two: model A, model B; each a manifest, a TorchScript file or a prediction folder.
  std::vector<std::filesystem::path> models;
  // Report names of prediction folders, by position in `models` (empty: the folder's name).
  std::vector<std::string> model_names;
  std::filesystem::path dataset;
  std::filesystem::path out;
  std::string split = "auto";
  // Labels left unset: the dataset's foreground labels, else the model's classes 1..n-1.
  MetricConfig metrics;
  AttentionOptions attention;
  PairedOptions paired;
  std::string device = "auto";
  PredictOptions predict;  // capture_gates is always on
  // Attribution maps per case, model and foreground label (region predicted), measured with the
  // attention statistics: each a method with its layers (none: the model's default layers).
  std::vector<AttributionSpec> attributions;
  int attribution_steps = 32;  // integrated gradients
  int occlusion_patch = 8, occlusion_stride = 4;
  bool resume = false;
  bool save_predictions = false;
  std::vector<std::string>
      save_cases;  // with save_predictions: only these case ids (empty: every case)
  // Reading, inference and analysis as a pipeline: case n+2 is read while case n+1 is inferred
  // and case n measured (off: one after the other, for benchmarks).
  bool overlap = true;
  // Cases of equal size inferred together, up to this many per forward (docs/scaling.md).
  size_t batch = 1;
  // Cases measured at once (metrics, attention statistics, saved predictions); 0: one on the
  // CPU, where the forward takes every core, and a quarter of the cores (at most 4) with CUDA.
  size_t analysis_threads = 0;
  std::optional<size_t> limit;
  const std::atomic<bool>* cancel = nullptr;  // checked between cases
  // How the cases are shared among processes (--shard, MPI ranks; docs/scaling.md). Null: this
  // process runs them all.
  CaseDistribution* distribution = nullptr;
};

struct EvaluationProgress {
  size_t done = 0, total = 0;
  std::string case_id;
  std::string status;  // "ok", "error", "resumed"
  std::string error;
  double seconds = 0;
};
using EvaluationCallback = std::function<void(const EvaluationProgress&)>;

struct EvaluationResult {
  nlohmann::ordered_json report;  // null where another process writes it (a shard, MPI rank > 0)
  size_t cases = 0, resumed = 0, failed = 0;
  size_t ran = 0, ran_failed = 0;  // cases this process ran, and those of them that failed
  std::filesystem::path journal;   // this process's journal
  size_t journal_rejected =
      0;  // journal lines dropped on --resume (torn or damaged): their cases ran again
  bool cancelled = false;  // stopped early: no report written, the journal holds what finished
};

// gatescope evaluate: runs the model(s) over the dataset's split, measures every prediction against
// the reference (metrics, attention statistics per gate and label), compares A against B when
// there are two (attribution maps too, with `attributions`), and writes OUT/report.json and
// OUT/cases.csv (atomically) and with save_predictions OUT/predictions/<A|B>/<case>/ as infer
// writes them. A case that fails is recorded with its error and the run goes on. Every finished
// case goes to OUT/journal.jsonl first, so an interrupted run continues with resume = true. With a
// distribution, this process runs its share of the cases into its own journal, and the report is
// written by the process that gathers them (docs/scaling.md).
// Reading the next cases and their inference overlap the analysis of the current one.
[[nodiscard]] EvaluationResult evaluate(const EvaluationOptions& options, Registry& registry,
                                        const EvaluationCallback& progress = {});

// Pieces of a report shared by the segmentation and classification evaluations: a model's
// description (names, files and their SHA-256, channels, classes, gates, device), the device and
// LibTorch version as the runtime names them, the metric and attention settings.
[[nodiscard]] nlohmann::ordered_json describeModel(const std::filesystem::path& path,
                                                   const ModelInfo& info);
// What of a model's description must match to resume or merge: manifest, weights' SHA-256 and the
// kind of device (cpu, cuda).
[[nodiscard]] nlohmann::ordered_json modelIdentity(const nlohmann::ordered_json& description);
[[nodiscard]] std::string deviceDescription(const std::string& device, const Registry& registry);
[[nodiscard]] std::string torchVersion(const Registry& registry);
[[nodiscard]] nlohmann::ordered_json metricSettings(const MetricConfig& config);
[[nodiscard]] nlohmann::ordered_json attentionSettings(const AttentionOptions& options);

// The provenance fields every report starts with: schema, version, created (UTC, ISO-8601).
[[nodiscard]] nlohmann::ordered_json reportPreamble();

}  // namespace gatescope
