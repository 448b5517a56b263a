#include "analysis/models/training_log.hpp"

#include <fmt/format.h>

#include <cmath>

#include "analysis/core/error.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {

namespace {

using Json = nlohmann::ordered_json;

double number(const Json& object, const char* key, const std::string& where) {
  if (!object.contains(key) || !object[key].is_number())
    throw FormatError(fmt::format("{}: \"{}\" is missing or not a number", where, key));
  return object[key].get<double>();
}

std::optional<double> optionalNumber(const Json& object, const char* key,
                                     const std::string& where) {
  if (!object.contains(key) || object[key].is_null()) return std::nullopt;
  return number(object, key, where);
}

}  // namespace

TrainingLog readTrainingLog(const std::filesystem::path& path) {
  const std::filesystem::path file =
      std::filesystem::is_directory(path) ? path / "train.json" : path;
  if (!std::filesystem::exists(file))
    throw IoError(file.string() + ": no train.json (the output of gatescope train)");
  const Json json = readOrderedJsonFile(file, "training log");
  const std::string source = file.string();
  if (!json.is_object() || json.value("schema", "") != "gatescope.train/1")
    throw FormatError(source + ": not a training log (schema \"gatescope.train/1\" expected)");
  TrainingLog log;
  log.source = source;
  if (json.contains("dataset") && json["dataset"].is_object()) {
    const Json& dataset = json["dataset"];
    if (dataset.contains("training_cases") && dataset["training_cases"].is_array())
      log.training_cases = static_cast<int64_t>(dataset["training_cases"].size());
    if (dataset.contains("validation_cases") && dataset["validation_cases"].is_array())
      log.validation_cases = static_cast<int64_t>(dataset["validation_cases"].size());
  }
  if (!json.contains("models") || !json["models"].is_array() || json["models"].empty())
    throw FormatError(source + ": \"models\" is missing or empty");
  for (size_t m = 0; m < json["models"].size(); ++m) {
    const Json& model = json["models"][m];
    const std::string where = fmt::format("{}: models[{}]", source, m);
    if (!model.is_object() || !model.contains("name") || !model["name"].is_string())
      throw FormatError(where + ": \"name\" is missing");
    TrainingCurve curve;
    curve.name = model["name"].get<std::string>();
    curve.architecture = model.value("architecture", "");
    if (!model.contains("epochs") || !model["epochs"].is_array() || model["epochs"].empty())
      throw FormatError(where + " (" + curve.name + "): \"epochs\" is missing or empty");
    for (size_t e = 0; e < model["epochs"].size(); ++e) {
      const Json& entry = model["epochs"][e];
      const std::string at = fmt::format("{}.epochs[{}]", where, e);
      if (!entry.is_object()) throw FormatError(at + ": not an object");
      EpochRecord record;
      record.epoch = static_cast<int>(number(entry, "epoch", at));
      record.loss = number(entry, "loss", at);
      record.dice_loss = optionalNumber(entry, "dice_loss", at).value_or(std::nan(""));
      record.cross_entropy = optionalNumber(entry, "cross_entropy", at).value_or(std::nan(""));
      record.validation_loss = optionalNumber(entry, "validation_loss", at);
      record.validation_dice = optionalNumber(entry, "validation_dice", at);
      record.validation_accuracy = optionalNumber(entry, "validation_accuracy", at);
      record.learning_rate = optionalNumber(entry, "learning_rate", at).value_or(std::nan(""));
      record.seconds = optionalNumber(entry, "seconds", at).value_or(0.0);
      if (!curve.epochs.empty() && record.epoch <= curve.epochs.back().epoch)
        throw FormatError(fmt::format("{}: epoch {} after epoch {}", at, record.epoch,
                                      curve.epochs.back().epoch));
      curve.epochs.push_back(record);
    }
    log.models.push_back(std::move(curve));
  }
  return log;
}

}  // namespace gatescope
