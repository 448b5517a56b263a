// gatescope evaluate: one or two models over a dataset, metrics, attention statistics, paired
// comparison; report.json + cases.csv (docs/cli.md, docs/evaluation.md).
#include "workbench/cli/evaluate_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/case_distribution.hpp"
#include "analysis/evaluation/evaluator.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/command_line.hpp"
#include "workbench/cli/interrupt.hpp"
#include "workbench/cli/memory_options.hpp"
#include "workbench/cli/metric_options.hpp"
#include "workbench/cli/progress.hpp"
#include "workbench/cli/report_summary.hpp"

#ifdef GATESCOPE_WITH_MPI
#include <omp.h>

#include <cstdlib>
#include <thread>

#include "analysis/distributed/mpi_distribution.hpp"
#endif

namespace gatescope::cli {

namespace fs = std::filesystem;

int reportOutcome(const nlohmann::ordered_json& report, const fs::path& out, bool quiet) {
  if (!quiet && report.value("task", "") == "classification")
    printClassificationSummary(report, std::cout);
  else if (!quiet)
    printReportSummary(ReportModel(report, (out / "report.json").string()), std::cout);
  std::cout << fmt::format("wrote {} and {}\n", (out / "report.json").string(),
                           (out / "cases.csv").string());
  size_t failed = 0;
  for (const auto& record : report["cases"])
    if (record.value("status", "ok") != "ok") {
      ++failed;
      std::cerr << fmt::format("gatescope: case {}: {}\n", record.value("id", ""),
                               record.value("error", ""));
    }
  if (failed)
    std::cerr << fmt::format("gatescope: {} of {} case(s) failed (recorded in the report)\n",
                             failed, report["cases"].size());
  return failed ? 1 : 0;
}

int runEvaluation(EvaluationOptions options, bool quiet, const std::string& resume_hint) {
  InterruptScope interrupt;
  options.cancel = interrupt.flag();
  std::optional<Progress> progress;
  size_t resumed = 0;
  const std::string what = options.distribution && !options.distribution->role().empty()
                               ? "evaluate (" + options.distribution->role() + ")"
                               : "evaluate";
  const auto result = evaluate(options, pluginRegistry(), [&](const EvaluationProgress& p) {
    if (p.status == "resumed") {
      ++resumed;
      return;
    }
    if (!progress) {
      if (resumed && !quiet)
        std::cerr << fmt::format("resuming: {} of {} case(s) already done\n", resumed, p.total);
      progress.emplace(what, p.total - resumed, quiet);
    }
    progress->step(p.done - resumed, fmt::format("{} {} {:.1f}s", p.case_id, p.status, p.seconds));
  });
  if (progress) progress->finish();
  if (result.journal_rejected)
    std::cerr << fmt::format(
        "gatescope: warning: {} torn or damaged line(s) of {} were dropped; their cases ran "
        "again\n",
        result.journal_rejected, result.journal.string());
  if (result.cancelled) {
    const bool shared = options.distribution && options.distribution->processes() > 1;
    std::cerr << fmt::format(
        "gatescope: interrupted; finished cases are kept in {}. Continue with: {}\n",
        shared ? "the journals in " + options.out.string() : result.journal.string(), resume_hint);
    return 130;
  }
  if (result.report.is_null()) {
    // A shard (or an MPI rank other than 0): its cases are in its journal; the report comes later.
    if (!quiet)
      std::cout << fmt::format(
          "{}: {} case(s) run into {}{}\n",
          options.distribution ? options.distribution->role() : "", result.ran,
          result.journal.string(),
          result.ran_failed ? fmt::format(" ({} failed)", result.ran_failed) : "");
    return result.ran_failed ? 1 : 0;
  }
  return reportOutcome(result.report, options.out, quiet);
}

#ifdef GATESCOPE_WITH_MPI
namespace {

// One rank of an evaluation under mpirun or srun: one device per rank (cuda:<local rank mod GPUs>
// for --device auto or cuda), the node's cores divided among its ranks, progress and the summary
// on rank 0 only. A failure before the ranks start is told once; after, it ends the whole job.
int runOnRanks(EvaluationOptions options, int launched, bool quiet, const std::string& hint) {
  MpiDistribution mpi(launched);
  options.distribution = &mpi;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::max(1, cores / mpi.localSize());
  if (!std::getenv("GATESCOPE_THREADS"))
    ::setenv("GATESCOPE_THREADS", std::to_string(threads).c_str(), 1);
  omp_set_num_threads(std::atoi(std::getenv("GATESCOPE_THREADS")));
  const std::string who = mpi.rank() == 0 ? "" : fmt::format("rank {}: ", mpi.rank());
  try {
    if (options.device == "auto" || options.device == "cuda") {
      int gpus = 0;
      for (const auto& runtime : pluginRegistry().runtimes())
        for (const auto& device : runtime.devices) gpus += device.starts_with("cuda:") ? 1 : 0;
      if (gpus > 0) options.device = fmt::format("cuda:{}", mpi.localRank() % gpus);
    }
    return runEvaluation(options, quiet || mpi.rank() != 0,
                         fmt::format("mpirun -np {} (or srun) {}", mpi.processes(), hint));
  } catch (const PeerFailure& e) {
    if (*e.what()) std::cerr << "gatescope: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    const int code = dynamic_cast<const UsageError*>(&e) ? 2 : 1;
    if (!mpi.started()) {
      if (mpi.setupFailed()) std::cerr << "gatescope: " << who << e.what() << "\n";
      return code;
    }
    std::cerr << fmt::format(
        "gatescope: {}{}; the job ends, finished cases are kept in the "
        "journals of {} (continue with --resume)\n",
        who, e.what(), options.out.string());
    mpi.abort(code);
  }
}

}  // namespace
#endif

namespace {

struct EvaluateOptions {
  std::vector<std::string> models, predictions, names;
  bool predictions_first = false;  // --predictions came before --model: the folder is model A
  std::string dataset, out;
  std::string device = "auto";
  std::string split = "auto";
  MetricOptions metric;
  std::optional<size_t> limit;
  std::string window;
  double overlap = 0.5;
  std::string precision = "fp32";
  std::vector<std::string> save_cases;
  std::vector<std::string> attributions;
  int attribution_steps = 32, occlusion_patch = 8, occlusion_stride = 4;
  std::string shard;
  double memory_budget_gb = 0;
  std::string window_buffers = "auto";
  int batch = 1;
  int analysis_threads = 0;
  bool resume = false, save_predictions = false, quiet = false, no_overlap = false;
};

}  // namespace

void registerEvaluateCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<EvaluateOptions>();
  auto args = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand("evaluate",
                                      "Run one or two models over a dataset: metrics, attention "
                                      "statistics per gate, and the paired "
                                      "comparison of model A against model B");
  CLI::Option* model_option =
      cmd->add_option("--model", o->models,
                      "Model manifest (.json) or TorchScript file (.pt); give it twice to "
                      "compare model A (first) against model B")
          ->expected(1, 2)
          ->take_all();
  CLI::Option* predictions_option =
      cmd->add_option("--predictions", o->predictions,
                      "A folder of predicted label files paired with the cases by id "
                      "(<case>.nii.gz, .nrrd, ... or <case>/labels.nii.gz, probabilities "
                      "optional) that stands for a model; with --model, the one given first is "
                      "model A (docs/evaluation.md#prediction-folders)")
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--name", o->names,
                  "Report name of each --predictions folder, in order (default: the folder's "
                  "name)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--dataset", o->dataset,
                  "MSD/nnU-Net folder, its dataset.json, or a folder with images/ and "
                  "labels/ (docs/datasets.md)")
      ->required();
  cmd->add_option("--out", o->out,
                  "Output folder: report.json, cases.csv, journal.jsonl [, predictions/]")
      ->required();
  cmd->add_option("--split", o->split,
                  "Cases to evaluate: training, test, all, or auto (test when it has "
                  "reference labels, else training)")
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "Evaluate only the first N cases of the split");
  cmd->add_option("--device", o->device, "auto (CUDA when available), cpu, cuda or cuda:N")
      ->capture_default_str();
  addMetricOptions(*cmd, o->metric);
  cmd->add_option("--window", o->window,
                  "Sliding-window inference with windows of this size, e.g. 96,96,48");
  cmd->add_option("--overlap", o->overlap, "Overlap of sliding windows, 0 to <1")
      ->capture_default_str();
  cmd->add_option("--precision", o->precision, "fp32, or fp16/bf16 autocast on CUDA")
      ->capture_default_str();
  addMemoryOptions(*cmd, o->memory_budget_gb, o->window_buffers);
  cmd->add_option("--attribution", o->attributions,
                  "Attribution maps of every model for every case and foreground label, measured "
                  "like gates: METHOD[@LAYER,...], e.g. gradcam@conv2,conv3,conv4 or "
                  "integrated_gradients; repeatable (docs/attribution.md)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--attribution-steps", o->attribution_steps,
                  "Integrated gradients: Riemann steps")
      ->capture_default_str();
  cmd->add_option("--occlusion-patch", o->occlusion_patch, "Occlusion: patch side in voxels")
      ->capture_default_str();
  cmd->add_option("--occlusion-stride", o->occlusion_stride, "Occlusion: step between patches")
      ->capture_default_str();
  cmd->add_flag("--resume", o->resume,
                "Continue an interrupted run in --out (same models, dataset, settings)");
  cmd->add_flag("--save-predictions", o->save_predictions,
                "Also write every prediction as infer does, under predictions/<A|B>/<case>/");
  cmd->add_option(
         "--save-cases", o->save_cases,
         "With --save-predictions: only these case ids (comma-separated), e.g. for figures")
      ->delimiter(',');
  cmd->add_option("--batch", o->batch,
                  "Infer up to N cases of equal size in one forward (small volumes on a GPU; "
                  "segmentation models, whole volumes within the memory budget)")
      ->capture_default_str();
  cmd->add_option("--analysis-threads", o->analysis_threads,
                  "Cases measured at once (0: one on the CPU, a quarter of the cores, at most 4, "
                  "with CUDA)")
      ->capture_default_str();
  cmd->add_flag("--no-overlap", o->no_overlap,
                "Read, infer and measure one case after the other (for benchmarks; normally the "
                "next cases are read and inferred while the current one is measured)");
  cmd->add_option("--shard", o->shard,
                  "Run only share K of N (K from 0): the cases at positions K, K+N, K+2N, ... of "
                  "the split, into journal-shard-K-of-N.jsonl in --out; 'gatescope merge' then "
                  "writes the report (Slurm job arrays: docs/scaling.md)");
  cmd->add_flag("--quiet", o->quiet, "No progress or summary output");
  cmd->callback([o, &chosen, cmd, model_option, predictions_option] {
    for (const CLI::Option* option : cmd->parse_order())
      if (option == model_option || option == predictions_option) {
        o->predictions_first = option == predictions_option;
        break;
      }
    std::string hint = "gatescope evaluate";
    for (const auto& m : o->models) hint += " --model " + shellQuote(m);
    for (const auto& p : o->predictions) hint += " --predictions " + shellQuote(p);
    hint += " --dataset " + shellQuote(o->dataset) + " --out " + shellQuote(o->out) +
            (o->shard.empty() ? "" : " --shard " + o->shard) + " ... --resume";
    chosen = [o, hint] {
      EvaluationOptions options;
      if (o->models.size() + o->predictions.size() < 1 ||
          o->models.size() + o->predictions.size() > 2)
        throw UsageError("give one or two models: --model FILE and/or --predictions DIR");
      if (o->names.size() > o->predictions.size())
        throw UsageError("--name names a --predictions folder: there are more names than folders");
      const auto add_models = [&] {
        for (const auto& m : o->models) {
          options.models.emplace_back(m);
          options.model_names.emplace_back();
        }
      };
      if (!o->predictions_first) add_models();
      for (size_t p = 0; p < o->predictions.size(); ++p) {
        if (!std::filesystem::is_directory(o->predictions[p]))
          throw UsageError(o->predictions[p] + ": --predictions takes a folder of predictions");
        options.models.emplace_back(o->predictions[p]);
        options.model_names.push_back(p < o->names.size() ? o->names[p] : std::string());
      }
      if (o->predictions_first) add_models();
      options.dataset = o->dataset;
      options.out = o->out;
      options.split = o->split;
      options.metrics = metricConfigFrom(o->metric);
      options.device = o->device;
      if (!o->window.empty()) {
        // Sizes are validated against the model's dimensionality by the adapter.
        std::vector<double> sizes = parseNumberList(o->window, "--window");
        for (double s : sizes) options.predict.window.push_back(static_cast<int64_t>(s));
      }
      if (!(o->overlap >= 0.0 && o->overlap < 1.0)) throw UsageError("--overlap must be in [0, 1)");
      options.predict.overlap = o->overlap;
      options.predict.precision = o->precision;
      options.predict.memory_budget = memoryBudgetBytes(o->memory_budget_gb);
      options.predict.window_buffers = o->window_buffers;
      for (const auto& text : o->attributions)
        options.attributions.push_back(parseAttributionSpec(text, "--attribution " + text));
      if (o->attribution_steps < 1) throw UsageError("--attribution-steps must be at least 1");
      if (o->occlusion_patch < 1 || o->occlusion_stride < 1)
        throw UsageError("--occlusion-patch and --occlusion-stride must be at least 1");
      options.attribution_steps = o->attribution_steps;
      options.occlusion_patch = o->occlusion_patch;
      options.occlusion_stride = o->occlusion_stride;
      options.resume = o->resume;
      options.save_predictions = o->save_predictions;
      if (!o->save_cases.empty() && !o->save_predictions)
        throw UsageError("--save-cases needs --save-predictions");
      options.save_cases = o->save_cases;
      options.overlap = !o->no_overlap;
      if (o->batch < 1) throw UsageError("--batch must be at least 1");
      options.batch = static_cast<size_t>(o->batch);
      if (o->analysis_threads < 0) throw UsageError("--analysis-threads must be 0 or more");
      options.analysis_threads = static_cast<size_t>(o->analysis_threads);
      if (o->limit) {
        if (*o->limit == 0) throw UsageError("--limit must be at least 1");
        options.limit = *o->limit;
      }
      std::optional<ShardRun> shard;
      if (!o->shard.empty()) {
        shard = parseShard(o->shard);
        options.distribution = &*shard;
      }
#ifdef GATESCOPE_WITH_MPI
      if (const std::optional<int> launched = mpiLaunchSize()) {
        if (shard)
          throw UsageError(
              "--shard runs one share in one process, but this process is one of several MPI "
              "ranks, which share the cases already: leave --shard out (or set GATESCOPE_MPI=0)");
        return runOnRanks(options, *launched, o->quiet, hint);
      }
#endif
      return runEvaluation(options, o->quiet, hint);
    };
  });
}

}  // namespace gatescope::cli
