#include "analysis/models/prediction_files.hpp"

#include "analysis/io/image_file.hpp"

namespace gatescope {

nlohmann::ordered_json writePredictionFiles(StagedFolder& folder, const std::string& prefix,
                                            const Prediction& prediction, const ImageHeader& input,
                                            const std::function<bool(const std::string&)>& wanted) {
  const auto withInputCodes = [&](Image written) {
    written.header.qform_code = input.qform_code;
    written.header.sform_code = input.sform_code;
    return written;
  };
  const std::string base = prefix.empty() ? "" : prefix + "/";
  writeImage(folder.stage(base + "labels.nii.gz"), withInputCodes(makeImage(prediction.labels)));
  writeImage(folder.stage(base + "probabilities.nii.gz"),
             withInputCodes(makeImage(prediction.probabilities)));
  nlohmann::ordered_json gates = nlohmann::ordered_json::array();
  for (const GatePrediction& g : prediction.gates) {
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

}  // namespace gatescope
