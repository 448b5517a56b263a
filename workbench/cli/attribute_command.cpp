// gatescope attribute: attribution maps of any model on one image - Grad-CAM, HiResCAM, gradients,
// integrated gradients, occlusion (docs/attribution.md) - and attribute.json.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "analysis/attribution/attribution_maps.hpp"
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
#include "workbench/cli/output_records.hpp"
#include "workbench/cli/progress.hpp"

namespace gatescope::cli {

namespace fs = std::filesystem;

namespace {

struct AttributeOptions {
  std::string model, input, out, series;
  std::string methods = "gradcam";
  std::string layers;
  std::string target_class = "1";
  std::string region = "predicted";
  int steps = 32, patch = 8, stride = 4;
  std::string device = "auto";
  std::string window;
  double overlap = 0.5;
  bool list_layers = false;
  bool quiet = false;
};

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

int listLayers(ModelAdapter& model) {
  const std::vector<LayerInfo> layers = model.layers();
  const ModelInfo& info = model.info();
  if (layers.empty()) {
    std::cout << info.name
              << " has no named layers: only the input methods (gradient, gradient_x_input, "
                 "integrated_gradients, occlusion) apply\n";
    return 0;
  }
  const std::vector<std::string> defaults = defaultAttributionLayers(layers);
  std::cout << fmt::format("{:<18} {:>8}  {:<10} {}\n", "layer", "channels", "stride", "");
  for (const auto& layer : layers) {
    const auto stride =
        std::vector<int64_t>(layer.stride.begin(), layer.stride.begin() + info.dimensions);
    const bool is_default =
        std::find(defaults.begin(), defaults.end(), layer.name) != defaults.end();
    std::cout << fmt::format("{:<18} {:>8}  {:<10} {}\n", layer.name, layer.channels,
                             fmt::format("{}", fmt::join(stride, "x")),
                             is_default ? "(default)" : "");
  }
  return 0;
}

int runAttribute(const AttributeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (!fs::exists(o.model)) throw UsageError(o.model + ": no such model file");
  const auto log = [&](const std::string& line) {
    if (!o.quiet) std::cerr << line << "\n";
  };
  if (!o.list_layers && (o.input.empty() || o.out.empty()))
    throw UsageError("attribute needs --input and --out (or --list-layers)");
  if (!(o.overlap >= 0.0 && o.overlap < 1.0)) throw UsageError("--overlap must be in [0, 1)");

  // Everything about the request that can be wrong is checked before the model loads.
  AttributionJob job;
  for (const std::string& name : splitList(o.methods)) {
    const AttributionSpec spec = parseAttributionSpec(name, "--method");
    if (!spec.layers.empty()) throw UsageError("--method " + name + ": name layers with --layers");
    job.methods.push_back(spec.method);
  }
  if (job.methods.empty()) throw UsageError("--method: no method named");
  job.layers = splitList(o.layers);
  job.steps = o.steps;
  job.patch = o.patch;
  job.stride = o.stride;
  std::optional<fs::path> reference_file;
  if (o.region.starts_with("reference:")) {
    reference_file = o.region.substr(10);
    job.region = "reference";
    if (!fs::exists(*reference_file))
      throw UsageError("--region: " + reference_file->string() + ": no such label image");
  } else if (o.region == "predicted" || o.region == "all") {
    job.region = o.region;
  } else {
    throw UsageError("--region " + o.region + ": expected predicted, all or reference:FILE");
  }
  if (o.steps < 1) throw UsageError("--steps must be at least 1");
  if (o.patch < 1 || o.stride < 1) throw UsageError("--patch and --stride must be at least 1");
  if (!o.list_layers && !fs::exists(o.input)) throw UsageError(o.input + ": no such image");

  requireNetwork(o.model);
  Registry& registry = pluginRegistry();
  log("loading " + o.model);
  auto model = registry.loadModel(o.model, LoadOptions{o.device});
  const ModelInfo& info = model->info();
  if (o.list_layers) return listLayers(*model);
  if (o.target_class == "all") {
    for (int64_t c = 0; c < info.n_classes; ++c) job.classes.push_back(c);
  } else {
    try {
      size_t used = 0;
      job.classes.push_back(std::stoll(o.target_class, &used));
      if (used != o.target_class.size()) throw std::invalid_argument(o.target_class);
    } catch (const std::exception&) {
      throw UsageError("--class " + o.target_class + ": expected a class number or all");
    }
  }
  if (!o.window.empty()) {
    job.window = parseWindow(o.window, info.dimensions);
    job.overlap = o.overlap;
  }
  const double load_seconds = since(start);

  auto phase = std::chrono::steady_clock::now();
  const Image image = readImage(o.input, {.dicom_series = o.series});
  checkFiniteValues(image, o.input);
  if (reference_file) {
    job.reference = toLabelVolume(readImage(*reference_file), reference_file->string());
    if (!job.reference->geometry().sameGrid(image.geometry()))
      throw GeometryError(fmt::format("{}: its grid differs from {}'s: {}",
                                      reference_file->string(), o.input,
                                      job.reference->geometry().difference(image.geometry())));
  }
  const double read_seconds = since(phase);

  // One bar per long stage on a terminal; otherwise a line every few seconds (Progress).
  std::unique_ptr<Progress> bar;
  std::string stage;
  job.progress = [&](const AttributionProgress& p) {
    if (p.stage != stage || !bar) {
      if (bar) bar->finish();
      bar = std::make_unique<Progress>(p.stage, static_cast<size_t>(p.total), o.quiet);
      stage = p.stage;
    }
    bar->step(static_cast<size_t>(p.done), "");
  };
  log(fmt::format("attributing {} on {} ({})", info.name, o.input, info.device));
  phase = std::chrono::steady_clock::now();
  const std::vector<AttributionMap> maps = attributeImage(*model, image, job);
  if (bar) bar->finish();
  const double attribute_seconds = since(phase);

  phase = std::chrono::steady_clock::now();
  StagedFolder out(o.out);
  const nlohmann::ordered_json written = writeAttributionFiles(out, "", maps, image.header);
  const double write_seconds = since(phase);
  std::vector<std::string> method_names;
  for (const auto m : job.methods) method_names.push_back(attributionMethodName(m));
  std::vector<std::string> layers;
  for (const auto& m : maps)
    if (isLayerMethod(m.method) && std::find(layers.begin(), layers.end(), m.layer) == layers.end())
      layers.push_back(m.layer);
  const nlohmann::ordered_json report = {
      {"schema", "gatescope.attribute/1"},
      {"gatescope_version", kVersion},
      {"runtime", runtimeName(registry)},
      {"model", modelRecord(info, o.model)},
      {"input", fs::absolute(o.input).string()},
      {"device", info.device},
      {"methods", method_names},
      {"layers", layers},
      {"classes", job.classes},
      {"region", reference_file ? "reference:" + fs::absolute(*reference_file).string() : o.region},
      {"settings",
       {{"steps", o.steps},
        {"patch", o.patch},
        {"stride", o.stride},
        {"baseline", 0.0},
        {"window", job.window},
        {"overlap", job.window.empty() ? 0.0 : job.overlap}}},
      {"values",
       std::string("raw float32; layer maps resampled to the input grid (linear, "
                   "align_corners=False)") +
           (job.window.empty() ? ""
                               : "; sliding windows: each window's map explains the score over "
                                 "the window's part of the region, maps blended with the "
                                 "prediction's Gaussian weights (an approximation of the whole "
                                 "image's); scores of the blended logits")},
      {"maps", written},
      {"timings_s",
       {{"load", load_seconds},
        {"read", read_seconds},
        {"attribute", attribute_seconds},
        {"write", write_seconds},
        {"total", since(start)}}}};
  writeFileAtomically(out.stage("attribute.json"), report.dump(2) + "\n");
  out.commit();
  log(fmt::format("wrote {} maps to {} in {:.2f} s (attribution {:.2f} s)", written.size(), o.out,
                  since(start), attribute_seconds));
  return 0;
}

}  // namespace

void registerAttributeCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<AttributeOptions>();
  CLI::App* cmd = root.add_subcommand(
      "attribute",
      "Attribution maps of any model (gated or not) on one image: Grad-CAM, HiResCAM, gradients, "
      "integrated gradients, occlusion");
  cmd->add_option("--model", o->model, "Model manifest (model.json) or TorchScript file")
      ->required();
  cmd->add_option(
      "--input", o->input,
      "Image: .nii, .nii.gz, .png, .nrrd, .nhdr, .mha, .mhd, a .dcm file or a DICOM folder");
  cmd->add_option("--series", o->series,
                  "SeriesInstanceUID of the DICOM series to read, where the folder holds several");
  cmd->add_option("--out", o->out, "Output folder (created if needed)");
  cmd->add_option("--method", o->methods,
                  "gradcam, hirescam, gradient, gradient_x_input, integrated_gradients, "
                  "occlusion; several separated by commas")
      ->capture_default_str();
  cmd->add_option("--layers", o->layers,
                  "Layers for gradcam / hirescam, e.g. conv2,conv3 (default: the skip connections "
                  "the gates act on; see --list-layers)");
  cmd->add_option("--class", o->target_class,
                  "The class whose score is explained, or all (every class, on the 4th axis)")
      ->capture_default_str();
  cmd->add_option("--region", o->region,
                  "Voxels whose logits make the score: predicted (argmax is the class), all, or "
                  "reference:LABELS.nii.gz (where the labels equal the class)")
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "Integrated gradients: Riemann steps from the zero baseline")
      ->capture_default_str();
  cmd->add_option("--patch", o->patch, "Occlusion: side of the zeroed cube (square in 2D), voxels")
      ->capture_default_str();
  cmd->add_option("--stride", o->stride, "Occlusion: step between placements, voxels")
      ->capture_default_str();
  cmd->add_option("--device", o->device,
                  "auto (CUDA when LibTorch sees a GPU), cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd->add_option("--window", o->window,
                  "Sliding windows of X,Y,Z voxels, placed and blended as infer --window places "
                  "them (an approximation of the whole image's maps, for images too large for "
                  "one pass)");
  cmd->add_option("--overlap", o->overlap,
                  "Fraction of a window shared with its neighbour (with --window)")
      ->capture_default_str();
  cmd->add_flag("--list-layers", o->list_layers,
                "Print the model's layers with channels and strides, and exit");
  cmd->add_flag("--quiet", o->quiet, "No progress output");
  cmd->footer(
      "Writes DIR/attributions/<method>/<layer>.nii.gz (on the input grid) and\n"
      "<layer>_native.nii.gz (the layer's own grid) for gradcam and hirescam,\n"
      "DIR/attributions/<method>/input.nii.gz for the input methods - classes on the 4th axis\n"
      "with --class all - and DIR/attribute.json (regions, scores, completeness errors of\n"
      "integrated gradients, timings). Values are raw. Reference: docs/attribution.md");
  cmd->callback([o, &chosen] { chosen = [o] { return runAttribute(*o); }; });
}

}  // namespace gatescope::cli
