// gatescope evaluate: one or two models over a dataset, metrics, attention statistics, paired
// comparison; report.json + cases.csv (docs/cli.md, docs/evaluation.md).
#include "workbench/cli/evaluate_command.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluator.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/command_line.hpp"
#include "workbench/cli/interrupt.hpp"
#include "workbench/cli/metric_options.hpp"
#include "workbench/cli/progress.hpp"
#include "workbench/cli/report_summary.hpp"

namespace gatescope::cli {

int runEvaluation(EvaluationOptions options, bool quiet, const std::string& resume_hint) {
  InterruptScope interrupt;
  options.cancel = interrupt.flag();
  std::optional<Progress> progress;
  size_t resumed = 0;
  const auto result = evaluate(options, pluginRegistry(), [&](const EvaluationProgress& p) {
    if (p.status == "resumed") {
      ++resumed;
      return;
    }
    if (!progress) {
      if (resumed && !quiet)
        std::cerr << fmt::format("resuming: {} of {} case(s) already done\n", resumed, p.total);
      progress.emplace("evaluate", p.total - resumed, quiet);
    }
    progress->step(p.done - resumed, fmt::format("{} {} {:.1f}s", p.case_id, p.status, p.seconds));
  });
  if (progress) progress->finish();
  if (result.journal_rejected)
    std::cerr << fmt::format(
        "gatescope: warning: {} torn or damaged line(s) of {} were dropped; their cases ran "
        "again\n",
        result.journal_rejected, (options.out / "journal.jsonl").string());
  if (result.cancelled) {
    std::cerr << fmt::format(
        "gatescope: interrupted; finished cases are kept in {}. Continue with: {}\n",
        (options.out / "journal.jsonl").string(), resume_hint);
    return 130;
  }
  if (!quiet && result.report.value("task", "") == "classification")
    printClassificationSummary(result.report, std::cout);
  else if (!quiet)
    printReportSummary(ReportModel(result.report, (options.out / "report.json").string()),
                       std::cout);
  std::cout << fmt::format("wrote {} and {}\n", (options.out / "report.json").string(),
                           (options.out / "cases.csv").string());
  for (const auto& record : result.report["cases"])
    if (record.value("status", "ok") != "ok")
      std::cerr << fmt::format("gatescope: case {}: {}\n", record.value("id", ""),
                               record.value("error", ""));
  if (result.failed)
    std::cerr << fmt::format("gatescope: {} of {} case(s) failed (recorded in the report)\n",
                             result.failed, result.cases);
  return result.failed ? 1 : 0;
}

namespace {

struct EvaluateOptions {
  std::vector<std::string> models;
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
  cmd->add_option("--model", o->models,
                  "Model manifest (.json) or TorchScript file (.pt); give it twice to "
                  "compare model A (first) against model B")
      ->required()
      ->expected(1, 2)
      ->take_all();
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
  cmd->add_flag("--no-overlap", o->no_overlap,
                "Infer and measure one case after the other (for benchmarks; normally inference of "
                "the next case "
                "overlaps the analysis of the current one)");
  cmd->add_flag("--quiet", o->quiet, "No progress or summary output");
  cmd->callback([o, &chosen] {
    std::string hint = "gatescope evaluate";
    for (const auto& m : o->models) hint += " --model " + shellQuote(m);
    hint +=
        " --dataset " + shellQuote(o->dataset) + " --out " + shellQuote(o->out) + " ... --resume";
    chosen = [o, hint] {
      EvaluationOptions options;
      for (const auto& m : o->models) options.models.emplace_back(m);
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
      if (o->limit) {
        if (*o->limit == 0) throw UsageError("--limit must be at least 1");
        options.limit = *o->limit;
      }
      return runEvaluation(options, o->quiet, hint);
    };
  });
}

}  // namespace gatescope::cli
