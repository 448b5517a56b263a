#include "analysis/models/training.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numbers>
#include <set>

#include "analysis/core/error.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Gated architecture -> the ungated network of the same family, the paper's fair comparison.
const std::map<std::string, std::string> kBaselines = {{"unet_ct_single_att_dsv", "unet_ct_dsv"},
                                                       {"unet_ct_multi_att_dsv", "unet_ct_dsv"},
                                                       {"unet_grid_gating", "unet"},
                                                       {"sononet_grid_attention", "sononet"}};
const std::set<std::string> kArchitectures = {
    "unet",    "unet_ct_dsv", "unet_ct_single_att_dsv", "unet_ct_multi_att_dsv", "unet_grid_gating",
    "sononet", "sononet2",    "sononet_grid_attention"};

std::string joined(const std::set<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

// The keys of one JSON object of the configuration, read with errors that name the file and the
// field's full path ("augmentation.flip_probability").
class Fields {
 public:
  Fields(const json& object, std::string source, std::string prefix, std::set<std::string> known)
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {
    if (!object_.is_object())
      throw error(prefix_.empty() ? "a training configuration is a JSON object"
                                  : fmt::format("\"{}\" must be an object",
                                                prefix_.substr(0, prefix_.size() - 1)));
    for (const auto& [key, value] : object_.items())
      if (!known.count(key))
        throw error(fmt::format("unknown key \"{}{}\" (known: {})", prefix_, key, joined(known)));
  }

  [[nodiscard]] bool has(const std::string& key) const { return object_.contains(key); }
  [[nodiscard]] const json& at(const std::string& key) const { return object_.at(key); }
  [[nodiscard]] std::string name(const std::string& key) const { return prefix_ + key; }
  [[nodiscard]] FormatError error(const std::string& problem) const {
    return FormatError(source_ + ": " + problem);
  }
  [[nodiscard]] FormatError invalid(const std::string& key, const std::string& expected) const {
    return error(
        fmt::format("\"{}\" must be {}, not {}", name(key), expected, object_.at(key).dump()));
  }

  [[nodiscard]] std::string text(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!at(key).is_string()) throw invalid(key, "a string");
    return at(key).get<std::string>();
  }
  [[nodiscard]] double number(const std::string& key, double fallback, double low, double high,
                              const std::string& expected) const {
    if (!has(key)) return fallback;
    if (!at(key).is_number()) throw invalid(key, expected);
    const double v = at(key).get<double>();
    if (!(v >= low && v <= high)) throw invalid(key, expected);
    return v;
  }
  [[nodiscard]] int64_t integer(const std::string& key, int64_t fallback, int64_t low, int64_t high,
                                const std::string& expected) const {
    if (!has(key)) return fallback;
    if (!at(key).is_number_integer() || at(key).get<int64_t>() < low ||
        at(key).get<int64_t>() > high)
      throw invalid(key, expected);
    return at(key).get<int64_t>();
  }
  [[nodiscard]] std::array<double, 2> range(const std::string& key,
                                            std::array<double, 2> fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number() ||
        !(v[0].get<double>() <= v[1].get<double>()))
      throw invalid(key, "[low, high] with low <= high");
    return {v[0].get<double>(), v[1].get<double>()};
  }

 private:
  const json& object_;
  std::string source_;
  std::string prefix_;
};

bool isFolderName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name == "train.json" || name.size() > 100)
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

fs::path resolved(const std::string& path, const fs::path& config) {
  const fs::path p(path);
  return fs::absolute(p.is_absolute() ? p : config.parent_path() / p).lexically_normal();
}

// The model fields shared with model.json are validated by the manifest parser itself, so a
// configuration accepts exactly what a manifest does.
ModelToTrain parseModel(const json& j, const fs::path& source, const json& preprocessing,
                        const json& labels) {
  const Fields f(
      j, source.string(), "model.",
      {"name", "architecture", "tensor_dim", "in_channels", "n_classes", "feature_scale",
       "attention_dsample", "nonlocal_mode", "upsample_align_corners", "aggregation_mode",
       "aggregation", "aggregation_weight", "aggregation_param", "initial_weights"});
  json manifest = j;
  manifest.erase("initial_weights");
  if (!manifest.contains("architecture")) manifest["architecture"] = "unet_ct_single_att_dsv";
  manifest["weights"] = "model.pth";
  if (!preprocessing.is_null()) manifest["preprocessing"] = preprocessing;
  if (!labels.is_null()) manifest["labels"] = labels;
  ModelToTrain m;
  m.manifest = parseModelManifest(manifest, source);
  m.manifest.name = f.text("name", m.manifest.architecture);
  if (f.has("initial_weights")) m.initial_weights = resolved(f.text("initial_weights", ""), source);
  return m;
}

void checkArchitecture(const ModelManifest& m, const std::string& field, const Fields& f) {
  if (!kArchitectures.count(m.architecture))
    throw f.error(fmt::format("\"{}\": unknown architecture \"{}\" (trainable: {})", field,
                              m.architecture, joined(kArchitectures)));
  if (m.architecture == "unet_grid_gating" && m.tensor_dim != "3D")
    throw f.error(
        fmt::format("\"{}\": unet_grid_gating exists in 3D only (\"tensor_dim\": \"3D\")", field));
  const bool classifier = isClassifierArchitecture(m.architecture);
  if (classifier && m.tensor_dim != "2D")
    throw f.error(fmt::format("\"{}\": {} is a 2D classifier (\"tensor_dim\": \"2D\")", field,
                              m.architecture));
  if (m.n_classes < 2)
    throw f.error(classifier
                      ? "\"model.n_classes\" must be at least 2 classes"
                      : "\"model.n_classes\" must be at least 2 (background and one structure)");
  if (!isFolderName(m.name))
    throw f.error(fmt::format(
        "\"{}\" names the output folder: letters, digits, '-', '_' and '.' only, not \"{}\"",
        field == "model.architecture" ? "model.name" : field, m.name));
}

// A pair member's manifest starts as the configured model's: a single-head classifier drops the
// multi-head fields of AG-SonoNet (its one head is its answer).
void dropHeadFields(ModelManifest& m) {
  if (m.architecture == "sononet_grid_attention") return;
  const ModelManifest defaults;
  m.aggregation_mode = defaults.aggregation_mode;
  m.aggregation = defaults.aggregation;
  m.aggregation_weight = defaults.aggregation_weight;
  m.aggregation_param = defaults.aggregation_param;
}

// "pair": {"gated": ARCH or {"architecture", "name", "initial_weights"}, "baseline": ...}
ModelToTrain parsePairMember(const Fields& pair, const std::string& role, const ModelToTrain& base,
                             const fs::path& source) {
  ModelToTrain m = base;
  m.initial_weights.clear();
  m.manifest.name = role;
  const std::string field = pair.name(role);
  if (!pair.has(role))
    throw pair.error(fmt::format("\"{}\" is required: an architecture name", field));
  const json& v = pair.at(role);
  if (v.is_string()) {
    m.manifest.architecture = v.get<std::string>();
  } else if (v.is_object()) {
    const Fields member(v, source.string(), field + ".",
                        {"architecture", "name", "initial_weights"});
    m.manifest.architecture = member.text("architecture", "");
    if (m.manifest.architecture.empty())
      throw member.error(fmt::format("\"{}.architecture\" is required", field));
    m.manifest.name = member.text("name", role);
    if (member.has("initial_weights"))
      m.initial_weights = resolved(member.text("initial_weights", ""), source);
  } else {
    throw pair.invalid(role, "an architecture name or an object with \"architecture\"");
  }
  checkArchitecture(m.manifest, field, pair);
  dropHeadFields(m.manifest);
  return m;
}

const std::map<std::string, LearningRateSchedule::Kind> kScheduleKinds = {
    {"constant", LearningRateSchedule::Kind::Constant},
    {"step", LearningRateSchedule::Kind::Step},
    {"cosine", LearningRateSchedule::Kind::Cosine},
    {"poly", LearningRateSchedule::Kind::Poly}};

// "learning_rate_schedule": "constant", or {"kind": ..., and the kind's parameters}.
LearningRateSchedule parseSchedule(const Fields& f, double learning_rate, const fs::path& path) {
  const json& v = f.at("learning_rate_schedule");
  const std::string expected =
      "\"constant\", or an object with \"kind\": \"step\", \"cosine\" or \"poly\"";
  if (v.is_string() && v.get<std::string>() == "constant") return {};
  if (!v.is_object()) throw f.invalid("learning_rate_schedule", expected);
  const Fields s(v, path.string(), "learning_rate_schedule.",
                 {"kind", "every_epochs", "factor", "final_learning_rate", "power"});
  const auto kind = kScheduleKinds.find(s.text("kind", ""));
  if (kind == kScheduleKinds.end()) throw f.invalid("learning_rate_schedule", expected);
  LearningRateSchedule schedule;
  schedule.kind = kind->second;
  const auto only = [&](std::initializer_list<const char*> allowed) {
    for (const char* key : {"every_epochs", "factor", "final_learning_rate", "power"})
      if (s.has(key) && std::find_if(allowed.begin(), allowed.end(), [&](const char* a) {
                          return std::string(a) == key;
                        }) == allowed.end())
        throw s.error(
            fmt::format("\"{}\" does not apply to the {} schedule", s.name(key), kind->first));
  };
  switch (schedule.kind) {
    case LearningRateSchedule::Kind::Constant:
      only({});
      break;
    case LearningRateSchedule::Kind::Step:
      only({"every_epochs", "factor"});
      if (!s.has("every_epochs"))
        throw s.error("\"learning_rate_schedule.every_epochs\" is required for the step schedule");
      schedule.every_epochs =
          static_cast<int>(s.integer("every_epochs", 1, 1, 100000, "a whole number of at least 1"));
      schedule.factor =
          s.number("factor", 0.1, std::numeric_limits<double>::min(), 1.0, "a number in (0, 1]");
      break;
    case LearningRateSchedule::Kind::Cosine:
      only({"final_learning_rate"});
      schedule.final_learning_rate = s.number(
          "final_learning_rate", 0.0, 0.0, learning_rate,
          fmt::format("a number in [0, learning_rate] (learning_rate is {})", learning_rate));
      break;
    case LearningRateSchedule::Kind::Poly:
      only({"power"});
      schedule.power = s.number("power", 0.9, 0.0, 100.0, "a number in [0, 100]");
      break;
  }
  return schedule;
}

}  // namespace

std::string scheduleName(LearningRateSchedule::Kind kind) {
  for (const auto& [name, k] : kScheduleKinds)
    if (k == kind) return name;
  return "constant";
}

double learningRateAt(const TrainingConfig& c, int epoch) {
  const LearningRateSchedule& s = c.schedule;
  const double e = std::clamp(epoch, 1, std::max(c.epochs, 1)) - 1;  // epochs done before it
  switch (s.kind) {
    case LearningRateSchedule::Kind::Constant:
      return c.learning_rate;
    case LearningRateSchedule::Kind::Step:
      return c.learning_rate * std::pow(s.factor, std::floor(e / s.every_epochs));
    case LearningRateSchedule::Kind::Cosine: {
      // From learning_rate at the first epoch to final_learning_rate at the last.
      const double t = c.epochs > 1 ? e / (c.epochs - 1) : 0.0;
      return s.final_learning_rate + (c.learning_rate - s.final_learning_rate) * 0.5 *
                                         (1.0 + std::cos(std::numbers::pi * t));
    }
    case LearningRateSchedule::Kind::Poly:
      return c.learning_rate * std::pow(1.0 - e / std::max(c.epochs, 1), s.power);
  }
  return c.learning_rate;
}

std::string ungatedBaseline(const std::string& architecture) {
  const auto it = kBaselines.find(architecture);
  return it == kBaselines.end() ? "" : it->second;
}

TrainingConfig parseTrainingConfig(const json& j, const fs::path& path) {
  const Fields f(j, path.string(), "",
                 {"dataset", "split", "model", "pair", "epochs", "batch_size", "learning_rate",
                  "learning_rate_schedule", "weight_decay", "seed", "patch_size", "augmentation",
                  "loss", "preprocessing", "validation_fraction", "labels"});
  TrainingConfig c;
  c.source = path;
  const std::string dataset = f.text("dataset", "");
  if (dataset.empty())
    throw f.error("\"dataset\" is required: the dataset folder (or its dataset.json)");
  c.dataset = resolved(dataset, path);
  c.split = f.text("split", "training");
  if (c.split != "training" && c.split != "test" && c.split != "all")
    throw f.invalid("split", "\"training\", \"test\" or \"all\"");
  if (!f.has("model"))
    throw f.error("\"model\" is required (architecture, n_classes, feature_scale, ...)");
  const json none;
  c.model = parseModel(f.at("model"), path, f.has("preprocessing") ? f.at("preprocessing") : none,
                       f.has("labels") ? f.at("labels") : none);
  const ModelManifest& m = c.model.manifest;
  const json& model_json = f.at("model");
  if (!f.has("pair") && !model_json.contains("architecture"))
    throw f.error("\"model.architecture\" is required (or a \"pair\" of architectures)");
  if (f.has("pair") && !model_json.contains("architecture")) {
    // The configured model defaults to the pair's gated member.
    const json& gated = f.at("pair").is_object() && f.at("pair").contains("gated")
                            ? f.at("pair").at("gated")
                            : none;
    if (gated.is_string()) c.model.manifest.architecture = gated.get<std::string>();
    if (gated.is_object() && gated.contains("architecture") && gated.at("architecture").is_string())
      c.model.manifest.architecture = gated.at("architecture").get<std::string>();
    if (!model_json.contains("name")) c.model.manifest.name = c.model.manifest.architecture;
  }
  checkArchitecture(m, "model.architecture", f);
  for (const auto& [value, name] : m.labels)
    if (value < 0 || value >= m.n_classes)
      throw f.error(
          fmt::format("\"labels\": label {} (\"{}\") is outside 0..{} (model.n_classes is {})",
                      value, name, m.n_classes - 1, m.n_classes));
  if (f.has("pair")) {
    const Fields pair(f.at("pair"), path.string(), "pair.", {"gated", "baseline"});
    std::array<ModelToTrain, 2> members = {parsePairMember(pair, "gated", c.model, path),
                                           parsePairMember(pair, "baseline", c.model, path)};
    for (const ModelToTrain& member : members)
      if (isClassifierArchitecture(member.manifest.architecture) !=
          isClassifierArchitecture(m.architecture))
        throw pair.error(fmt::format("\"pair\": {} and {} do not do the same task", m.architecture,
                                     member.manifest.architecture));
    if (members[0].manifest.name == members[1].manifest.name)
      throw pair.error(
          fmt::format("\"pair\": both models are named \"{}\"; their output folders must differ",
                      members[0].manifest.name));
    c.pair = members;
  }

  if (!f.has("epochs"))
    throw f.error("\"epochs\" is required: how many passes over the training cases");
  c.epochs = static_cast<int>(f.integer("epochs", 0, 1, 100000, "a whole number of at least 1"));
  c.batch_size =
      static_cast<int>(f.integer("batch_size", 1, 1, 1024, "a whole number of at least 1"));
  c.learning_rate = f.number("learning_rate", 1e-3, std::numeric_limits<double>::min(), 1.0,
                             "a number in (0, 1]");
  if (f.has("learning_rate_schedule")) c.schedule = parseSchedule(f, c.learning_rate, path);
  c.weight_decay = f.number("weight_decay", 0.0, 0.0, 1.0, "a number in [0, 1]");
  c.seed = static_cast<uint64_t>(
      f.integer("seed", 0, 0, std::numeric_limits<int64_t>::max(), "a whole number of at least 0"));
  c.validation_fraction = f.number("validation_fraction", 0.0, 0.0, 0.9, "a number in [0, 0.9]");

  const int axes = m.tensor_dim == "2D" ? 2 : 3;
  if (f.has("patch_size") && !f.at("patch_size").is_null()) {
    const json& p = f.at("patch_size");
    const std::string expected = fmt::format(
        "{} sizes (one per {} axis), each a positive multiple of 16", axes, m.tensor_dim);
    if (!p.is_array() || static_cast<int>(p.size()) != axes)
      throw f.invalid("patch_size", expected);
    for (const auto& v : p) {
      if (!v.is_number_integer() || v.get<int64_t>() < 16 || v.get<int64_t>() % 16 != 0 ||
          v.get<int64_t>() > 4096)
        throw f.invalid("patch_size", expected);
      c.patch_size.push_back(v.get<int64_t>());
    }
  }

  if (f.has("augmentation")) {
    const Fields a(f.at("augmentation"), path.string(), "augmentation.",
                   {"flip_axes", "flip_probability", "intensity_scale", "intensity_shift"});
    if (a.has("flip_axes")) {
      const json& axes_json = a.at("flip_axes");
      const std::string expected = axes == 3 ? "a list of distinct axes among 0, 1, 2"
                                             : "a list of distinct axes among 0, 1";
      if (!axes_json.is_array()) throw a.invalid("flip_axes", expected);
      std::set<int> seen;
      for (const auto& v : axes_json) {
        if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() >= axes ||
            !seen.insert(v.get<int>()).second)
          throw a.invalid("flip_axes", expected);
        c.augmentation.flip_axes.push_back(v.get<int>());
      }
    }
    c.augmentation.flip_probability =
        a.number("flip_probability", 0.5, 0.0, 1.0, "a probability in [0, 1]");
    c.augmentation.intensity_scale = a.range("intensity_scale", {1.0, 1.0});
    if (c.augmentation.intensity_scale[0] <= 0)
      throw a.invalid("intensity_scale", "[low, high] with 0 < low <= high");
    c.augmentation.intensity_shift = a.range("intensity_shift", {0.0, 0.0});
  }

  if (isClassifierArchitecture(m.architecture)) c.loss.dice = 0.0;
  if (f.has("loss")) {
    const Fields l(f.at("loss"), path.string(), "loss.", {"dice", "cross_entropy", "smooth"});
    const double big = 1e6;
    c.loss.dice = l.number("dice", 1.0, 0.0, big, "a weight of at least 0");
    c.loss.cross_entropy = l.number("cross_entropy", 1.0, 0.0, big, "a weight of at least 0");
    c.loss.smooth = l.number("smooth", 1.0, 0.0, big, "a number of at least 0");
    if (isClassifierArchitecture(m.architecture) && c.loss.dice != 0)
      throw l.error(fmt::format(
          "\"loss.dice\" applies to segmentation; {} trains on cross-entropy alone (set it to 0)",
          m.architecture));
    if (c.loss.dice == 0 && c.loss.cross_entropy == 0)
      throw l.error("\"loss.dice\" and \"loss.cross_entropy\" are both 0: nothing to train on");
  }
  return c;
}

TrainingConfig readTrainingConfig(const fs::path& path) {
  return parseTrainingConfig(readJsonFile(path, "training configuration"), path);
}

std::vector<ModelToTrain> modelsToTrain(const TrainingConfig& c, bool pair) {
  if (!pair) return {c.model};
  if (c.pair) return {(*c.pair)[0], (*c.pair)[1]};
  const std::string baseline = ungatedBaseline(c.model.manifest.architecture);
  if (baseline.empty())
    throw UsageError(
        fmt::format("{}: --pair: {} has no attention gates; name the pair in \"pair\": "
                    "{{\"gated\": ..., \"baseline\": ...}}",
                    c.source.string(), c.model.manifest.architecture));
  ModelToTrain gated = c.model, ungated = c.model;
  gated.manifest.name = "gated";
  ungated.manifest.name = "baseline";
  ungated.manifest.architecture = baseline;
  ungated.initial_weights.clear();
  dropHeadFields(ungated.manifest);
  return {gated, ungated};
}

nlohmann::ordered_json toJson(const TrainingConfig& c) {
  // The model's fields as a manifest holds them; preprocessing and labels sit at the top level.
  const auto model = [](const ModelToTrain& m) {
    nlohmann::ordered_json j = toJson(m.manifest);
    for (const char* key : {"weights", "preprocessing", "labels"}) j.erase(key);
    if (!m.initial_weights.empty()) j["initial_weights"] = m.initial_weights.string();
    return j;
  };
  const ModelManifest& m = c.model.manifest;
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const auto& [value, name] : m.labels) labels[std::to_string(value)] = name;
  nlohmann::ordered_json j = {
      {"dataset", c.dataset.string()}, {"split", c.split}, {"model", model(c.model)}};
  if (c.pair) {
    const auto member = [&](const ModelToTrain& p) {
      nlohmann::ordered_json e = {{"architecture", p.manifest.architecture},
                                  {"name", p.manifest.name}};
      if (!p.initial_weights.empty()) e["initial_weights"] = p.initial_weights.string();
      return e;
    };
    j["pair"] = {{"gated", member((*c.pair)[0])}, {"baseline", member((*c.pair)[1])}};
  }
  j["epochs"] = c.epochs;
  j["batch_size"] = c.batch_size;
  j["learning_rate"] = c.learning_rate;
  nlohmann::ordered_json schedule = {{"kind", scheduleName(c.schedule.kind)}};
  switch (c.schedule.kind) {
    case LearningRateSchedule::Kind::Constant:
      break;
    case LearningRateSchedule::Kind::Step:
      schedule["every_epochs"] = c.schedule.every_epochs;
      schedule["factor"] = c.schedule.factor;
      break;
    case LearningRateSchedule::Kind::Cosine:
      schedule["final_learning_rate"] = c.schedule.final_learning_rate;
      break;
    case LearningRateSchedule::Kind::Poly:
      schedule["power"] = c.schedule.power;
      break;
  }
  j["learning_rate_schedule"] = schedule;
  j["weight_decay"] = c.weight_decay;
  j["seed"] = c.seed;
  j["patch_size"] =
      c.patch_size.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(c.patch_size);
  j["augmentation"] = {{"flip_axes", c.augmentation.flip_axes},
                       {"flip_probability", c.augmentation.flip_probability},
                       {"intensity_scale", c.augmentation.intensity_scale},
                       {"intensity_shift", c.augmentation.intensity_shift}};
  j["loss"] = {
      {"dice", c.loss.dice}, {"cross_entropy", c.loss.cross_entropy}, {"smooth", c.loss.smooth}};
  j["preprocessing"] = {{"normalize", m.preprocessing.normalize},
                        {"pad_to_multiple", m.preprocessing.pad_to_multiple}};
  j["validation_fraction"] = c.validation_fraction;
  j["labels"] = labels;
  return j;
}

}  // namespace gatescope
