#include "analysis/models/prediction_files.hpp"

#include <algorithm>

#include "analysis/io/image_file.hpp"

namespace gatescope {

namespace {

Image withCodesOf(const ImageHeader& input, Image written) {
  written.header.qform_code = input.qform_code;
  written.header.sform_code = input.sform_code;
  return written;
}

// The maps' channel 0 stacked as channels, in order.
Volume<float> stacked(const std::vector<const Volume<float>*>& maps) {
  Volume<float> out(maps.front()->geometry(), static_cast<int64_t>(maps.size()));
  for (size_t n = 0; n < maps.size(); ++n) {
    const auto in = maps[n]->channel(0);
    std::copy(in.begin(), in.end(), out.channel(static_cast<int64_t>(n)).begin());
  }
  return out;
}

}  // namespace

nlohmann::ordered_json writeGateFiles(StagedFolder& folder, const std::string& prefix,
                                      const std::vector<GatePrediction>& maps,
                                      const ImageHeader& input,
                                      const std::function<bool(const std::string&)>& wanted) {
  const auto withInputCodes = [&](Image written) { return withCodesOf(input, written); };
  const std::string base = prefix.empty() ? "" : prefix + "/";
  nlohmann::ordered_json gates = nlohmann::ordered_json::array();
  for (const GatePrediction& g : maps) {
    if (wanted && !wanted(g.name)) continue;
    const std::string file = "gates/" + g.name + ".nii.gz",
                      native_file = "gates/" + g.name + "_native.nii.gz";
    writeImage(folder.stage(base + file), withInputCodes(makeImage(g.resampled)));
    writeImage(folder.stage(base + native_file), withInputCodes(makeImage(g.native)));
    nlohmann::ordered_json entry = {{"name", g.name},
                                    {"channels", g.native.channels()},
                                    {"native_dims", g.native.dims()},
                                    {"native_spacing_mm", g.native.geometry().spacing_mm},
                                    {"file", file},
                                    {"native_file", native_file}};
    if (!g.coarse.empty()) {
      const std::string coarse_file = "gates/" + g.name + "_coarse.nii.gz";
      writeImage(folder.stage(base + coarse_file), withInputCodes(makeImage(g.coarse)));
      entry["coarse_dims"] = g.coarse.dims();
      entry["coarse_spacing_mm"] = g.coarse.geometry().spacing_mm;
      entry["coarse_file"] = coarse_file;
    }
    gates.push_back(std::move(entry));
  }
  return gates;
}

nlohmann::ordered_json writePredictionFiles(StagedFolder& folder, const std::string& prefix,
                                            const Prediction& prediction, const ImageHeader& input,
                                            const std::function<bool(const std::string&)>& wanted) {
  const std::string base = prefix.empty() ? "" : prefix + "/";
  writeImage(folder.stage(base + "labels.nii.gz"),
             withCodesOf(input, makeImage(prediction.labels)));
  // A prediction folder without probability files has none to write.
  if (!prediction.probabilities.empty())
    writeImage(folder.stage(base + "probabilities.nii.gz"),
               withCodesOf(input, makeImage(prediction.probabilities)));
  return writeGateFiles(folder, prefix, prediction.gates, input, wanted);
}

void appendClassification(nlohmann::ordered_json& record, const Classification& c,
                          const ModelInfo& info) {
  record["probabilities"] = c.probabilities;
  record["heads"] = c.head_probabilities;
  record["head_names"] = c.head_names;
  record["predicted_class"] = c.predicted_class;
  if (info.labels.count(c.predicted_class))
    record["predicted_class_name"] = info.labels.at(c.predicted_class);
  if (info.labels.empty()) return;
  nlohmann::ordered_json names = nlohmann::ordered_json::object();
  for (const auto& [value, name] : info.labels) names[std::to_string(value)] = name;
  record["class_names"] = std::move(names);
}

nlohmann::ordered_json writeAttributionFiles(StagedFolder& folder, const std::string& prefix,
                                             const std::vector<AttributionMap>& maps,
                                             const ImageHeader& input) {
  std::vector<std::string> keys;  // in first-seen order
  for (const auto& m : maps)
    if (std::find(keys.begin(), keys.end(), m.key()) == keys.end()) keys.push_back(m.key());
  const std::string base = prefix.empty() ? "" : prefix + "/";
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const std::string& key : keys) {
    std::vector<const AttributionMap*> group;
    for (const auto& m : maps)
      if (m.key() == key) group.push_back(&m);
    const AttributionMap& first = *group.front();
    const std::string dir = std::string("attributions/") + attributionMethodName(first.method);
    std::vector<const Volume<float>*> on_input, native;
    nlohmann::ordered_json classes = nlohmann::ordered_json::array(),
                           regions = nlohmann::ordered_json::array(),
                           scores = nlohmann::ordered_json::array(),
                           completeness = nlohmann::ordered_json::array();
    double seconds = 0.0;
    for (const AttributionMap* m : group) {
      on_input.push_back(&m->map);
      if (!m->native.empty()) native.push_back(&m->native);
      classes.push_back(m->target_class);
      regions.push_back(m->region);
      scores.push_back(m->score);
      if (m->completeness_error) completeness.push_back(*m->completeness_error);
      seconds += m->seconds;
    }
    nlohmann::ordered_json entry = {{"key", key},
                                    {"method", attributionMethodName(first.method)},
                                    {"layer", first.layer},
                                    {"classes", classes},
                                    {"file", dir + "/" + first.layer + ".nii.gz"}};
    writeImage(folder.stage(base + dir + "/" + first.layer + ".nii.gz"),
               withCodesOf(input, makeImage(stacked(on_input))));
    if (native.size() == group.size()) {
      const std::string native_file = dir + "/" + first.layer + "_native.nii.gz";
      writeImage(folder.stage(base + native_file), withCodesOf(input, makeImage(stacked(native))));
      entry["native_file"] = native_file;
      entry["native_dims"] = first.native.dims();
      entry["native_spacing_mm"] = first.native.geometry().spacing_mm;
    }
    entry["regions"] = regions;
    entry["scores"] = scores;
    if (!completeness.empty()) entry["completeness_errors"] = completeness;
    entry["seconds"] = seconds;
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace gatescope
