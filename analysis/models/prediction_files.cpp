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
  writeImage(folder.stage(base + "probabilities.nii.gz"), withInputCodes(makeImage(prediction.probabilities)));
  nlohmann::ordered_json gates = nlohmann::ordered_json::array();
  for (const GatePrediction& g : prediction.gates) {
    if (wanted && !wanted(g.name)) continue;
    const std::string file = "gates/" + g.name + ".nii.gz", native_file = "gates/" + g.name + "_native.nii.gz";
    writeImage(folder.stage(base + file), withInputCodes(makeImage(g.resampled)));
    writeImage(folder.stage(base + native_file), withInputCodes(makeImage(g.native)));
    gates.push_back({{"name", g.name},
                     {"channels", g.native.channels()},
                     {"native_dims", g.native.dims()},
                     {"native_spacing_mm", g.native.geometry().spacing_mm},
                     {"file", file},
                     {"native_file", native_file}});
  }
  return gates;
}

}  // namespace gatescope
