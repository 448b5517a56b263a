// gatescope infer: run a model on one image; write labels, probabilities, every gate's
// coefficients (on the input grid and at their own resolution) and infer.json (docs/cli.md).
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/io/staged_folder.hpp"
#include "analysis/models/prediction_files.hpp"
#include "analysis/models/prediction_folder.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "analysis/version.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/memory_options.hpp"
#include "workbench/cli/output_records.hpp"

namespace gatescope::cli {

namespace fs = std::filesystem;

namespace {

struct InferOptions {
  std::string model, input, out, series;
  std::string device = "auto";
  std::string gates = "all";
  std::string window;
  double overlap = 0.5;
  std::string precision = "fp32";
  double memory_budget_gb = 0;
  std::string window_buffers = "auto";
  bool coarse = false;
  bool quiet = false;
};

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The gates named by --gates NAME,...: each must be one the model declares. ("all" and "none" need
// no names: "all" writes whatever gates the model returns.)
std::set<std::string> selectGates(const std::string& text, const ModelInfo& info) {
  if (text == "all" || text == "none") return {};
  std::set<std::string> declared;
  for (const auto& g : info.gates) declared.insert(g.name);
  if (declared.empty())
    throw UsageError("--gates " + text + ": the model declares no gates (use all or none)");
  std::set<std::string> chosen;
  std::stringstream list(text);
  for (std::string name; std::getline(list, name, ',');) {
    if (!declared.count(name)) {
      std::string known;
      for (const auto& g : declared) known += (known.empty() ? "" : ", ") + g;
      throw UsageError(
          fmt::format("--gates: the model has no gate '{}' (it has: {})", name, known));
    }
    chosen.insert(name);
  }
  return chosen;
}

int runInfer(const InferOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (!fs::exists(o.model)) throw UsageError(o.model + ": no such model file");
  requireNetwork(o.model);
  if (!fs::exists(o.input)) throw UsageError(o.input + ": no such image");
  const auto log = [&](const std::string& line) {
    if (!o.quiet) std::cerr << line << "\n";
  };
  Registry& registry = pluginRegistry();
  log("loading " + o.model);
  auto model = registry.loadModel(o.model, LoadOptions{o.device});
  const ModelInfo& info = model->info();
  const std::set<std::string> chosen = selectGates(o.gates, info);
  const auto gateWanted = [&](const std::string& name) {
    return o.gates == "all" || chosen.count(name) > 0;  // "all": whatever the model returns
  };
  const double load_seconds = since(start);

  auto phase = std::chrono::steady_clock::now();
  const Image image = readImage(o.input, {.dicom_series = o.series});
  checkFiniteValues(image, o.input);
  const double read_seconds = since(phase);
  log(fmt::format("running {} on {} ({})", info.name, o.input, info.device));
  if (info.task == "classification") {
    if (!o.window.empty() || o.coarse || o.precision != "fp32")
      throw UsageError("--window, --coarse-gates and --precision are for segmentation networks; " +
                       o.model + " is a classifier");
    phase = std::chrono::steady_clock::now();
    const Classification c = model->classify(image, o.gates != "none");
    const double classify_seconds = since(phase);
    StagedFolder out(o.out);
    phase = std::chrono::steady_clock::now();
    const nlohmann::ordered_json gates = writeGateFiles(out, "", c.gates, image.header, gateWanted);
    nlohmann::ordered_json report = {{"schema", "gatescope.infer/1"},
                                     {"task", "classification"},
                                     {"gatescope_version", kVersion},
                                     {"runtime", runtimeName(registry)},
                                     {"model", modelRecord(info, o.model)},
                                     {"input", fs::absolute(o.input).string()},
                                     {"device", info.device}};
    appendClassification(report, c, info);
    report["gates"] = gates;
    report["timings_s"] = {{"load", load_seconds},
                           {"read", read_seconds},
                           {"classify", classify_seconds},
                           {"write", since(phase)},
                           {"total", since(start)}};
    writeFileAtomically(out.stage("infer.json"), report.dump(2) + "\n");
    out.commit();
    const std::string name = report.value("predicted_class_name", std::string());
    log(fmt::format("class {}{} (probability {:.3f}); wrote {} in {:.2f} s", c.predicted_class,
                    name.empty() ? "" : " " + name,
                    c.probabilities[static_cast<size_t>(c.predicted_class)], o.out, since(start)));
    return 0;
  }
  phase = std::chrono::steady_clock::now();
  PredictOptions predict_options;
  predict_options.capture_gates = o.gates != "none";
  predict_options.capture_coarse = o.coarse && predict_options.capture_gates;
  if (!o.window.empty()) predict_options.window = parseWindow(o.window, info.dimensions);
  predict_options.overlap = o.overlap;
  predict_options.precision = o.precision;
  predict_options.memory_budget = memoryBudgetBytes(o.memory_budget_gb);
  predict_options.window_buffers = o.window_buffers;
  const Prediction prediction = model->predict(image, predict_options);
  const double predict_seconds = since(phase);

  phase = std::chrono::steady_clock::now();
  StagedFolder out(o.out);
  const nlohmann::ordered_json gates =
      writePredictionFiles(out, "", prediction, image.header, gateWanted);
  const double write_seconds = since(phase);
  const nlohmann::ordered_json report = {
      {"schema", "gatescope.infer/1"},
      {"gatescope_version", kVersion},
      {"runtime", runtimeName(registry)},
      {"model", modelRecord(info, o.model)},
      {"input", fs::absolute(o.input).string()},
      {"device", info.device},
      {"window", prediction.memory.window},
      {"overlap", prediction.memory.window.empty() ? 0.0 : predict_options.overlap},
      {"device_memory", memoryRecord(prediction.memory)},
      {"precision", predict_options.precision},
      {"outputs", {{"labels", "labels.nii.gz"}, {"probabilities", "probabilities.nii.gz"}}},
      {"gates", gates},
      {"timings_s",
       {{"load", load_seconds},
        {"read", read_seconds},
        {"predict", predict_seconds},
        {"gate_resampling", prediction.gate_seconds},
        {"write", write_seconds},
        {"total", since(start)}}}};
  writeFileAtomically(out.stage("infer.json"), report.dump(2) + "\n");
  out.commit();
  log(fmt::format("wrote {} in {:.2f} s (prediction {:.2f} s)", o.out, since(start),
                  predict_seconds));
  return 0;
}

}  // namespace

void registerInferCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<InferOptions>();
  CLI::App* cmd = root.add_subcommand(
      "infer", "Run a model on one image: labels, probabilities and attention gates");
  cmd->add_option("--model", o->model, "Model manifest (model.json) of a native network")
      ->required();
  cmd->add_option(
         "--input", o->input,
         "Image: .nii, .nii.gz, .png, .nrrd, .nhdr, .mha, .mhd, a .dcm file or a DICOM folder")
      ->required();
  cmd->add_option("--series", o->series,
                  "SeriesInstanceUID of the DICOM series to read, where the folder holds several");
  cmd->add_option("--out", o->out, "Output folder (created if needed)")->required();
  cmd->add_option("--device", o->device,
                  "auto (CUDA when LibTorch sees a GPU), cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd->add_option("--gates", o->gates,
                  "Gates to write: all, none, or names like attentionblock2,attentionblock3")
      ->capture_default_str();
  cmd->add_option(
      "--window", o->window,
      "Sliding-window inference with windows of X,Y,Z voxels (multiples of 16), blended with "
      "Gaussian weights; default: the whole volume at once");
  cmd->add_option("--overlap", o->overlap,
                  "Fraction of a window shared with its neighbour (with --window)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.95));
  cmd->add_option("--precision", o->precision, "fp32, or fp16 / bf16 autocast on CUDA")
      ->capture_default_str();
  addMemoryOptions(*cmd, o->memory_budget_gb, o->window_buffers);
  cmd->add_flag("--coarse-gates", o->coarse,
                "Also write each native gate's compatibility grid (before its upsampling) as "
                "gates/<gate>_coarse.nii.gz");
  cmd->add_flag("--quiet", o->quiet, "No progress output");
  cmd->footer(
      "A classifier (sononet, sononet_grid_attention) writes DIR/infer.json with the class\n"
      "probabilities (per head and aggregated) and the predicted class, and its gates as below.\n"
      "A segmentation network writes DIR/labels.nii.gz, DIR/probabilities.nii.gz (classes on the "
      "4th axis),\n"
      "DIR/gates/<gate>.nii.gz (on the input grid), DIR/gates/<gate>_native.nii.gz (the gate's "
      "own\n"
      "grid and spacing: the coefficients the gate multiplies into its skip connection) and\n"
      "DIR/infer.json. Every output has the input's geometry.");
  cmd->callback([o, &chosen] { chosen = [o] { return runInfer(*o); }; });
}

}  // namespace gatescope::cli
