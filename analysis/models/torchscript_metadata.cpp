#include "analysis/models/torchscript_metadata.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/core/error.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {

namespace {

constexpr int64_t kMaxChannels = 4096;
constexpr int64_t kMaxClasses = 256;  // labels are stored as uint8
constexpr int64_t kMaxStride = 4096;

bool isLabelValue(const std::string& text) {
  return !text.empty() && text.size() < 4 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         std::stoi(text) < kMaxClasses;
}

// "gates": names (["g1", "g2"]) or objects ([{"name": "g1", "stride": [2, 2, 2]}]).
std::vector<GateInfo> readGates(const nlohmann::json& gates, const std::string& where) {
  if (!gates.is_array())
    throw FormatError(fmt::format("{}: \"gates\" must be an array of names or objects, not {} ({})",
                                  where, jsonKind(gates), jsonExcerpt(gates)));
  std::vector<GateInfo> out;
  for (size_t n = 0; n < gates.size(); ++n) {
    const std::string field = fmt::format("gates[{}]", n);
    GateInfo gate{"", {0, 0, 0}};  // stride 0: not declared, taken from the map's shape
    if (gates[n].is_string()) {
      gate.name = gates[n].get<std::string>();
    } else if (gates[n].is_object()) {
      const JsonFields g(gates[n], where, field);
      g.onlyKeys({"name", "stride", "level"});
      gate.name = g.string("name");
      if (g.has("stride")) {
        const auto stride = g.integers("stride", 1, kMaxStride, 1, 3);
        for (size_t a = 0; a < 3; ++a) gate.stride[a] = a < stride.size() ? stride[a] : 1;
      }
      (void)g.integer("level", 0, 64, 0);
    } else {
      throw FormatError(
          fmt::format("{}: \"{}\" must be a gate name or an object with \"name\", not {} ({})",
                      where, field, jsonKind(gates[n]), jsonExcerpt(gates[n])));
    }
    if (gate.name.empty())
      throw FormatError(fmt::format("{}: \"{}\" has an empty name", where, field));
    for (const auto& other : out)
      if (other.name == gate.name)
        throw FormatError(fmt::format("{}: \"{}\": gate \"{}\" is listed twice", where, field,
                                      gate.name.substr(0, 60)));
    out.push_back(gate);
  }
  return out;
}

}  // namespace

void readTorchScriptMetadata(const std::string& text, const std::string& where, ModelInfo& info,
                             bool& align_corners) {
  const nlohmann::json j = parseJson(text, where);
  const JsonFields f(j, where);
  f.onlyKeys({"name", "architecture", "task", "tensor_dim", "in_channels", "n_classes", "labels",
              "preprocessing", "upsample_align_corners", "size_multiple", "gates"});
  info.task = f.string("task", info.task);
  if (info.task != "segmentation" && info.task != "classification")
    f.fail("task", "must be \"segmentation\" or \"classification\", not \"" +
                       info.task.substr(0, 20) + "\"");
  const bool classifier = info.task == "classification";
  info.name = f.string("name", info.name);
  info.architecture = f.string("architecture", info.architecture);
  info.in_channels = static_cast<int>(f.integer("in_channels", 1, kMaxChannels, info.in_channels));
  info.n_classes = static_cast<int>(f.has("n_classes") ? f.integer("n_classes", 1, kMaxClasses)
                                                       : info.n_classes);
  align_corners = f.boolean("upsample_align_corners", align_corners);
  const std::string dim = f.string("tensor_dim", classifier || info.dimensions == 2 ? "2D" : "3D");
  if (dim != "2D" && dim != "3D")
    f.fail("tensor_dim", "must be \"2D\" or \"3D\", not \"" + dim.substr(0, 20) + "\"");
  if (classifier && dim != "2D") f.fail("tensor_dim", "must be \"2D\" for a classifier");
  info.dimensions = dim == "2D" ? 2 : 3;
  const std::vector<int64_t> current(info.size_multiple.begin(), info.size_multiple.end());
  const auto multiple = f.integers("size_multiple", 1, kMaxStride, 1, 3, current);
  for (size_t a = 0; a < 3; ++a) info.size_multiple[a] = a < multiple.size() ? multiple[a] : 1;
  if (f.has("preprocessing")) {
    const JsonFields p = f.object("preprocessing");
    p.onlyKeys({"normalize", "pad_to_multiple"});
    info.preprocessing.normalize = p.string("normalize", info.preprocessing.normalize);
    if (info.preprocessing.normalize != "zscore" && info.preprocessing.normalize != "none")
      p.fail("normalize", "must be \"zscore\" or \"none\"");
    info.preprocessing.pad_to_multiple = static_cast<int>(
        p.integer("pad_to_multiple", 1, kMaxStride, info.preprocessing.pad_to_multiple));
  }
  if (f.has("labels")) {
    const JsonFields labels = f.object("labels");
    for (const auto& [key, value] : labels.raw().items()) {
      if (!isLabelValue(key))
        labels.fail(key, fmt::format("is not a label value (0 to {})", kMaxClasses - 1));
      info.labels[std::stoi(key)] = labels.string(key);
    }
  }
  if (f.has("gates")) info.gates = readGates(f.at("gates"), where);
}

}  // namespace gatescope
