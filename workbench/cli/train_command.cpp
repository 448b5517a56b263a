// gatescope train: small-scale training of zoo models, alone or as a gated model and its ungated
// baseline on identical data (docs/training.md).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/staged_folder.hpp"
#include "analysis/models/training_batches.hpp"
#include "analysis/models/training_cases.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "analysis/version.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/command_line.hpp"
#include "workbench/cli/interrupt.hpp"
#include "workbench/cli/progress.hpp"

namespace gatescope::cli {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

namespace {

struct TrainOptions {
  std::string config, out;
  std::string device = "auto";
  bool pair = false;
  bool quiet = false;
};

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string duration(double seconds) {
  const auto s = static_cast<int64_t>(std::lround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
}

// The configuration file is the command's argument: a bad one is bad usage (exit 2).
TrainingConfig readConfig(const std::string& path) {
  if (!fs::exists(path)) throw UsageError(path + ": no such training configuration");
  try {
    return readTrainingConfig(path);
  } catch (const FormatError& e) {
    throw UsageError(e.what());
  }
}

std::string epochLine(int epoch, int epochs, const std::vector<EpochRecord>& records,
                      const std::vector<ModelToTrain>& models, double elapsed) {
  std::string line = fmt::format("epoch {}/{}", epoch, epochs);
  if (!records.empty())
    line += fmt::format(" (learning rate {:.3g})", records.front().learning_rate);
  for (size_t m = 0; m < records.size(); ++m) {
    const EpochRecord& r = records[m];
    if (isClassifierArchitecture(models[m].manifest.architecture))
      line += fmt::format("  {}: loss {:.4f}", models[m].manifest.name, r.loss);
    else
      line += fmt::format("  {}: loss {:.4f} (dice {:.4f}, ce {:.4f})", models[m].manifest.name,
                          r.loss, r.dice_loss, r.cross_entropy);
    if (r.validation_loss) line += fmt::format(", validation {:.4f}", *r.validation_loss);
    if (r.validation_dice) line += fmt::format(" dice {:.3f}", *r.validation_dice);
    if (r.validation_accuracy) line += fmt::format(" accuracy {:.3f}", *r.validation_accuracy);
    line += fmt::format(", {:.1f}s", r.seconds);
  }
  const double eta = elapsed / epoch * (epochs - epoch);
  return line + fmt::format("  ETA {}", duration(eta));
}

ordered_json epochJson(const EpochRecord& r) {
  ordered_json j = {{"epoch", r.epoch},
                    {"learning_rate", r.learning_rate},
                    {"loss", r.loss},
                    {"dice_loss", r.dice_loss},
                    {"cross_entropy", r.cross_entropy}};
  if (r.validation_loss) j["validation_loss"] = *r.validation_loss;
  if (r.validation_dice) j["validation_dice"] = *r.validation_dice;
  if (r.validation_accuracy) j["validation_accuracy"] = *r.validation_accuracy;
  j["seconds"] = r.seconds;
  return j;
}

std::vector<std::string> caseIds(const std::vector<TrainingSample>& cases) {
  std::vector<std::string> ids;
  for (const auto& c : cases) ids.push_back(c.id);
  return ids;
}

int runTrain(const TrainOptions& o) {
  const auto start = Clock::now();
  const auto log = [&](const std::string& line) {
    if (!o.quiet) std::cerr << line << "\n";
  };
  // From the start: a Ctrl-C while reading stops before training, leaving DIR as it was.
  InterruptScope interrupt;
  const TrainingConfig config = readConfig(o.config);
  std::vector<ModelToTrain> models = modelsToTrain(config, o.pair);
  Registry& registry = pluginRegistry();

  std::optional<Progress> progress;
  TrainingCases read = readTrainingCases(config, [&](size_t done, size_t total) {
    if (!progress) progress.emplace("reading", total, o.quiet);
    progress->step(done, "");
  });
  if (progress) progress->finish();
  // Label names: the configuration's, else the dataset's for the classes the model predicts.
  for (ModelToTrain& m : models)
    if (m.manifest.labels.empty())
      for (const auto& [value, name] : read.labels)
        if (value >= 0 && value < m.manifest.n_classes) m.manifest.labels[value] = name;
  const double read_seconds = since(start);
  const TrainingData data = prepareTrainingData(std::move(read.cases), config);

  StagedFolder out(o.out);
  fs::path staged_root;
  for (const ModelToTrain& m : models) {
    staged_root = out.stage(m.manifest.name + "/model.pth").parent_path().parent_path();
    (void)out.stage(m.manifest.name + "/model.json");
  }
  std::string names;
  for (const auto& m : models) names += (names.empty() ? "" : " and ") + m.manifest.architecture;
  const char* items =
      isClassifierArchitecture(models.front().manifest.architecture) ? "image" : "case";
  log(fmt::format("training {} on {} {}(s) of {} ({} for validation), {} epoch(s)", names,
                  data.training.size(), items, read.dataset_name, data.validation.size(),
                  config.epochs));

  TrainingObserver observer;
  const auto train_start = Clock::now();
  observer.epoch_finished = [&](int epoch, const std::vector<EpochRecord>& records) {
    log(epochLine(epoch, config.epochs, records, models, since(train_start)));
  };
  observer.cancelled = [&] { return interrupt.interrupted(); };
  TrainingResult result;
  try {
    result = registry.train({config, models, o.device, staged_root}, data, observer);
  } catch (const Error&) {
    if (!interrupt.interrupted()) throw;
    std::cerr << fmt::format("gatescope: interrupted; {} is left as it was\n", o.out);
    return 130;
  }
  const double train_seconds = since(train_start);

  ordered_json trained = ordered_json::array();
  for (const TrainedModel& m : result.models) {
    ordered_json epochs = ordered_json::array();
    double seconds = 0;
    for (const EpochRecord& r : m.epochs) {
      epochs.push_back(epochJson(r));
      seconds += r.seconds;
    }
    trained.push_back({{"name", m.manifest.name},
                       {"architecture", m.manifest.architecture},
                       {"manifest", m.manifest.name + "/model.json"},
                       {"weights", m.manifest.name + "/model.pth"},
                       {"parameters", m.parameters},
                       {"seconds", seconds},
                       {"epochs", epochs}});
  }
  const ordered_json report = {
      {"schema", "gatescope.train/1"},
      {"gatescope_version", kVersion},
      {"command_line", commandLine()},
      {"config_file", fs::absolute(o.config).lexically_normal().string()},
      {"config", toJson(config)},
      {"pair", o.pair},
      {"seed", config.seed},
      {"device", result.device},
      {"torch_version", result.torch_version},
      {"threads", result.threads},
      {"deterministic", result.deterministic},
      {"dataset",
       {{"path", config.dataset.string()},
        {"name", read.dataset_name},
        {"split", config.split},
        {"training_cases", caseIds(data.training)},
        {"validation_cases", caseIds(data.validation)},
        {"unlabelled_cases_skipped", read.unlabelled}}},
      {"models", trained},
      {"timings_s", {{"read", read_seconds}, {"train", train_seconds}, {"total", since(start)}}}};
  writeFileAtomically(out.stage("train.json"), report.dump(2) + "\n");
  out.commit();
  log(fmt::format("wrote {} in {}", (fs::path(o.out) / "train.json").string(),
                  duration(since(start))));
  return 0;
}

}  // namespace

void registerTrainCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = root.add_subcommand(
      "train",
      "Train a zoo model, or a gated model and its ungated baseline on identical data (--pair)");
  cmd->add_option("--config", o->config, "Training configuration (JSON, docs/training.md)")
      ->required();
  cmd->add_option("--out", o->out,
                  "Output folder: <model>/model.json + model.pth for each model, and train.json")
      ->required();
  cmd->add_flag(
      "--pair", o->pair,
      "Train the gated model and its ungated baseline with the same data order, augmentation, seed "
      "and schedule (names from \"pair\" in the configuration, else gated/ and baseline/)");
  cmd->add_option("--device", o->device,
                  "auto (CUDA when LibTorch sees a GPU), cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "No progress output");
  cmd->footer(
      "Outputs are written to a staging folder and moved into DIR at the end; Ctrl-C stops after "
      "the\n"
      "current batch and leaves DIR as it was. On the CPU, the same configuration and seed give\n"
      "bit-identical checkpoints.");
  cmd->callback([o, &chosen] { chosen = [o] { return runTrain(*o); }; });
}

}  // namespace gatescope::cli
