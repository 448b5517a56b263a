// gatescope demo: the end-to-end demo - the synthetic abdomen dataset (generated when absent), the
// bundled gated and ungated models evaluated on its test split, the report and a short summary.
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "analysis/datasets/dataset.hpp"
#include "analysis/demo/synthetic_abdomen.hpp"
#include "analysis/demo/synthetic_scan_planes.hpp"
#include "analysis/evaluation/evaluation_journal.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/evaluate_command.hpp"
#include "workbench/cli/progress.hpp"

namespace gatescope::cli {

namespace fs = std::filesystem;

namespace {

struct DemoOptions {
  std::string out = "gatescope-demo";
  std::string task = "segmentation";
  std::string data;  // default: OUT/dataset
  std::string models;
  std::string device = "auto";
  int figure_cases = 4;
  // Attribution maps of both models, so that the gated and the ungated network can be compared on
  // where their evidence lies (the baseline has no gates); "none" skips them.
  std::string attribution = "gradcam@conv2,conv3,conv4";
  bool data_only = false, resume = false, quiet = false;
  bool segmentation_options_given = false;  // --figure-cases or --attribution on the command line
};

// The ids of the first `count` test cases of the demo dataset.
std::vector<std::string> firstCases(const fs::path& data, int count) {
  const Dataset dataset = openDataset(data);
  std::vector<std::string> ids;
  for (const DatasetCase& c : selectSplit(dataset, "test"))
    if (static_cast<int>(ids.size()) < count) ids.push_back(c.id);
  return ids;
}

// The bundled demo models: --models, else $GATESCOPE_DEMO_MODELS (segmentation) or
// $GATESCOPE_DEMO_CLASSIFIERS, else the source tree's.
fs::path demoModels(const std::string& option, const std::string& task) {
  if (!option.empty()) return option;
  const bool classification = task == "classification";
  if (const char* env =
          std::getenv(classification ? "GATESCOPE_DEMO_CLASSIFIERS" : "GATESCOPE_DEMO_MODELS"))
    return env;
  return fs::path(GATESCOPE_DEMO_DIR) / (classification ? "classifiers" : "models");
}

// gated/model.json and baseline/model.json of a demo models folder.
std::vector<fs::path> demoPair(const fs::path& models) {
  const fs::path gated = models / "gated" / "model.json",
                 baseline = models / "baseline" / "model.json";
  for (const auto& model : {gated, baseline})
    if (!fs::exists(model))
      throw Error(model.string() +
                  ": the bundled demo model is missing (docs/training.md says how to train it)");
  return {gated, baseline};
}

// Removes what a previous demo evaluation wrote, unless it is being resumed.
void clearEvaluation(const fs::path& evaluation, bool resume) {
  if (resume) return;
  // The demo owns its output folder: a new run replaces the previous one.
  std::error_code ec;
  for (const fs::path& journal : journalFiles(evaluation)) fs::remove(journal, ec);
  for (const char* file : {"report.json", "cases.csv"}) fs::remove(evaluation / file, ec);
  fs::remove_all(evaluation / "predictions", ec);
}

// A program of this build as the user can type it: relative to the working directory when it lies
// below it (build/bin/gatescope), else absolute.
std::string siblingProgram(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  const fs::path program = self.parent_path() / name;
  const fs::path relative = fs::relative(program, fs::current_path(ec), ec);
  if (!ec && !relative.empty() && *relative.begin() != "..") return relative.string();
  return program.string();
}

// AG-SonoNet (A) and SonoNet (B) on the test split of the scan planes.
int runClassificationDemo(const DemoOptions& o, const fs::path& data) {
  EvaluationOptions options;
  options.models = demoPair(demoModels(o.models, o.task));
  options.dataset = data / "planes.csv";
  options.out = fs::path(o.out) / "evaluation";
  options.split = "test";
  options.device = o.device;
  options.resume = o.resume;
  // Every image's answer and gate maps (small at 128x96), for the workbench and render.
  options.save_predictions = true;
  clearEvaluation(options.out, o.resume);
  if (!o.quiet)
    std::cerr << "evaluating AG-SonoNet (A) and SonoNet (B) on the test split of "
              << options.dataset.string() << "\n";
  const int status =
      runEvaluation(options, o.quiet,
                    fmt::format("gatescope demo --task classification --out {} --resume", o.out));
  if (!o.quiet && (status == 0 || status == 1)) {
    const std::string gatescope = siblingProgram("gatescope");
    std::cout << fmt::format(
        "\nLook at the result:\n"
        "  {0}-workbench --evaluation {1}   # images, gates, answers, confusion matrices\n"
        "  {0} render compare --evaluation {1} --out gates.png   # an image per class, the gates, "
        "both answers\n"
        "  {0} render plot --report {1} --kind confusion --out confusion.png\n",
        gatescope, options.out.string());
  }
  return status;
}

// The commands that show the result: the workbench, a figure of the first saved case's gates, the
// paired Dice plot.
void printNextSteps(const fs::path& evaluation, const std::string& case_id) {
  const std::string gatescope = siblingProgram("gatescope");
  std::cout << fmt::format(
      "\nLook at the result:\n"
      "  {}-workbench --evaluation {}      # the smallest label, its most different case, the "
      "finest gate\n"
      "  {} render gates --evaluation {} --case {} --out gates.png\n"
      "  {} render plot --report {} --kind paired --metric dice --out dice.png\n",
      gatescope, evaluation.string(), gatescope, evaluation.string(), case_id, gatescope,
      evaluation.string());
}

// The classification demo's dataset: generated when its list is absent.
void generateScanPlanes(const fs::path& data, bool quiet) {
  if (fs::exists(data / "planes.csv")) return;
  const SyntheticScanPlaneOptions generate;
  const auto classes = static_cast<int>(syntheticScanPlaneClasses().size());
  const int total = (generate.training_per_class + generate.test_per_class) * classes;
  if (!quiet)
    std::cerr << fmt::format(
        "generating the synthetic scan-plane dataset ({} classes, {} training + {} test images of "
        "{}x{}) in {}\n",
        classes, generate.training_per_class * classes, generate.test_per_class * classes,
        generate.width, generate.height, data.string());
  Progress progress("dataset", static_cast<size_t>(total), quiet);
  writeSyntheticScanPlanes(data, generate, [&](int done, int) {
    progress.step(static_cast<size_t>(done), "images written");
  });
  progress.finish();
}

int runDemo(const DemoOptions& o) {
  const fs::path out = o.out;
  const fs::path data = o.data.empty() ? out / "dataset" : fs::path(o.data);
  if (o.task == "classification") {
    if (o.segmentation_options_given)
      throw UsageError(
          "--figure-cases and --attribution apply to the segmentation demo (the classification "
          "demo saves every test image's gate maps)");
    generateScanPlanes(data, o.quiet);
    if (o.data_only) {
      std::cout << "dataset in " << data.string() << "\n";
      return 0;
    }
    return runClassificationDemo(o, data);
  }
  if (!fs::exists(data / "dataset.json")) {
    SyntheticAbdomenOptions generate;
    if (!o.quiet)
      std::cerr << fmt::format(
          "generating the synthetic abdomen dataset ({} training + {} test cases of {}x{}x{}) "
          "in {}\n",
          generate.training_cases, generate.test_cases, generate.dims[0], generate.dims[1],
          generate.dims[2], data.string());
    Progress progress("dataset", static_cast<size_t>(generate.training_cases + generate.test_cases),
                      o.quiet);
    writeSyntheticAbdomen(data, generate, [&](int done, int) {
      progress.step(static_cast<size_t>(done), "cases written");
    });
    progress.finish();
  }
  if (o.data_only) {
    std::cout << "dataset in " << data.string() << "\n";
    return 0;
  }
  EvaluationOptions options;
  options.models = demoPair(demoModels(o.models, o.task));
  options.dataset = data;
  options.out = out / "evaluation";
  options.split = "test";
  options.device = o.device;
  options.resume = o.resume;
  // Predictions and gate maps of a few cases, for `gatescope render` (all 20 would take ~200 MB).
  options.save_predictions = true;
  options.save_cases = firstCases(data, o.figure_cases);
  if (o.attribution != "none")
    options.attributions.push_back(
        parseAttributionSpec(o.attribution, "--attribution " + o.attribution));
  clearEvaluation(options.out, o.resume);
  if (!o.quiet)
    std::cerr << "evaluating the gated model (A) and its ungated baseline (B) on the test split of "
              << data.string() << "\n";
  const int status = runEvaluation(options, o.quiet,
                                   fmt::format("gatescope demo --out {} --resume", out.string()));
  if (!o.quiet && (status == 0 || status == 1) && !options.save_cases.empty())
    printNextSteps(options.out, options.save_cases.front());
  return status;
}

}  // namespace

void registerDemoCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = root.add_subcommand(
      "demo",
      "The end-to-end demo: a synthetic abdomen dataset (generated when absent), the bundled "
      "attention-gated "
      "model and its ungated baseline evaluated on its test split, a report and a summary");
  cmd->add_option("--out", o->out, "Output folder: dataset/ (unless --data) and evaluation/")
      ->capture_default_str();
  cmd->add_option("--task", o->task,
                  "segmentation: Attention U-Net on synthetic abdomen CT; classification: "
                  "AG-SonoNet on synthetic ultrasound scan planes")
      ->capture_default_str()
      ->check(CLI::IsMember({"segmentation", "classification"}));
  cmd->add_option("--data", o->data,
                  "Where the demo dataset is or is generated (default OUT/dataset)");
  cmd->add_option("--models", o->models,
                  "Folder holding gated/model.json and baseline/model.json (default: the "
                  "bundled demo models)");
  cmd->add_option("--device", o->device, "auto (CUDA when available), cpu, cuda or cuda:N")
      ->capture_default_str();
  CLI::Option* figure_cases =
      cmd->add_option("--figure-cases", o->figure_cases,
                      "Save predictions and gate maps of the first N test cases (for gatescope "
                      "render; segmentation)")
          ->capture_default_str()
          ->check(CLI::Range(1, 20));
  CLI::Option* attribution =
      cmd->add_option(
             "--attribution", o->attribution,
             "Attribution maps of both models, METHOD[@LAYER,...] as for evaluate, or none "
             "(segmentation)")
          ->capture_default_str();
  cmd->add_flag("--data-only", o->data_only, "Only generate the dataset");
  cmd->add_flag("--resume", o->resume, "Continue an interrupted demo evaluation");
  cmd->add_flag("--quiet", o->quiet, "No progress or summary output");
  cmd->callback([o, &chosen, figure_cases, attribution] {
    o->segmentation_options_given = figure_cases->count() > 0 || attribution->count() > 0;
    chosen = [o] { return runDemo(*o); };
  });
}

}  // namespace gatescope::cli
