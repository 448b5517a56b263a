// gatescope render: paper figures from an evaluation folder or from files - per-gate attention
// panels, model A vs B with their difference, slice montages, plots of a report, 3D renderings.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/io/json_file.hpp"
#include "workbench/cli/command.hpp"

#if GATESCOPE_HAVE_FIGURES
#include "renderers/classification_plots.hpp"
#include "renderers/figures.hpp"
#include "renderers/plots.hpp"
#include "renderers/scene_recipes.hpp"
#include "renderers/volume_view.hpp"
#endif

namespace gatescope::cli {

#if GATESCOPE_HAVE_FIGURES

namespace fs = std::filesystem;

namespace {

// "axial,coronal:20,sagittal" -> choices (a slice index after the colon; none: automatic).
std::vector<SliceChoice> parseViews(const std::string& text) {
  std::vector<SliceChoice> views;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t colon = item.find(':');
    const auto plane = parsePlane(item.substr(0, colon));
    if (!plane)
      throw UsageError(
          fmt::format("--views: '{}' is not axial, coronal or sagittal (optionally :SLICE)", item));
    SliceChoice choice{*plane, -1};
    if (colon != std::string::npos) {
      try {
        size_t used = 0;
        choice.slice = std::stoll(item.substr(colon + 1), &used);
        if (used != item.size() - colon - 1 || choice.slice < 0)
          throw std::invalid_argument("slice");
      } catch (const std::exception&) {
        throw UsageError(
            fmt::format("--views: '{}' needs a slice index >= 0 after the colon", item));
      }
    }
    views.push_back(choice);
    start = end + 1;
  }
  return views;
}

struct StyleOptions {
  std::string window = "auto-detect";
  std::string colormap = "jet";
  std::string attribution_colormap = "inferno";
  double opacity = 0.5;
  double threshold = 0.1;
  std::string interpolation = "linear";
  std::string label;
  double panel_width = 130.0;
  double scale_bar = 0.0;
  bool no_letters = false;
  std::string title;
};

struct FigureOutput {
  std::string out;
  double dpi = 200.0;
};

void addSourceOptions(CLI::App& cmd, SavedCaseSource& s) {
  cmd.add_option("--evaluation", s.evaluation,
                 "Evaluation output folder (report.json, predictions/ from "
                 "evaluate --save-predictions)");
  cmd.add_option("--case", s.case_id,
                 "Case id within --evaluation (an evaluation of classifiers: image ids, "
                 "comma-separated, one row each; default the first image of each class)");
  cmd.add_option("--image", s.image, "Image file (instead of --evaluation)");
  cmd.add_option("--reference", s.reference, "Reference label file for --image");
  cmd.add_option("--prediction-dir", s.prediction_dirs,
                 "infer output folder of model A (give twice: A, then B)")
      ->expected(1, 2)
      ->take_all();
}

void addOutputOptions(CLI::App& cmd, FigureOutput& o) {
  cmd.add_option("--out", o.out, "Figure file: .png, .pdf or .svg")->required();
  cmd.add_option("--dpi", o.dpi, "Resolution of PNG output")
      ->capture_default_str()
      ->check(CLI::Range(30.0, 1200.0));
}

void addStyleOptions(CLI::App& cmd, StyleOptions& s) {
  cmd.add_option("--window", s.window,
                 "Image window: a preset (ct-abdomen, ct-soft-tissue, ct-liver, ct-bone, "
                 "ct-lung, mr-auto, auto, minmax) or LEVEL,WIDTH; auto-detect: ct-abdomen "
                 "for CT-like images, else mr-auto")
      ->capture_default_str();
  cmd.add_option("--colormap", s.colormap,
                 "Attention colour map: " + fmt::format("{}", fmt::join(colormapNames(), ", ")))
      ->capture_default_str();
  cmd.add_option("--opacity", s.opacity, "Opacity of the attention overlay")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--threshold", s.threshold, "Attention coefficients below this are transparent")
      ->capture_default_str();
  cmd.add_option("--interpolation", s.interpolation, "linear or nearest")->capture_default_str();
  cmd.add_option("--label", s.label,
                 "Focus label (value or name): its contours only, slices through its centre");
  cmd.add_option("--panel-width", s.panel_width, "Panel width in points (1/72 inch)")
      ->capture_default_str()
      ->check(CLI::Range(30.0, 1000.0));
  cmd.add_option("--scale-bar", s.scale_bar, "Scale bar length in mm (0: automatic, -1: none)")
      ->capture_default_str();
  cmd.add_flag("--no-letters", s.no_letters, "No panel letters");
  cmd.add_option("--title", s.title, "Figure title (default: describes the figure)");
}

// gates and compare: attribution maps beside the gates.
void addAttributionOptions(CLI::App& cmd, AttributionChoice& choice, StyleOptions& style) {
  cmd.add_option("--attribution", choice.specs,
                 "Attribution maps saved by evaluate --attribution --save-predictions (or "
                 "gatescope attribute, with --prediction-dir): METHOD[@LAYER,...], e.g. "
                 "gradcam@conv2,conv3; repeatable. The map of the --label's class (default: the "
                 "lowest class saved), shown as its positive part / max");
  cmd.add_option("--attribution-colormap", style.attribution_colormap,
                 "Colour map of attribution maps (their own colour bar)")
      ->capture_default_str();
}

WindowLevel resolveWindow(const std::string& text, const Volume<float>& image) {
  if (text == "auto-detect") return defaultWindow(image);
  if (const size_t comma = text.find(','); comma != std::string::npos) {
    try {
      const double level = std::stod(text.substr(0, comma)),
                   width = std::stod(text.substr(comma + 1));
      if (width > 0) return {level, width};
    } catch (const std::exception&) {
    }
    throw UsageError("--window LEVEL,WIDTH needs two numbers and a positive width, e.g. 40,400");
  }
  return windowFromPreset(text, image);
}

FigureStyle figureStyle(const StyleOptions& s, const SavedCase& loaded) {
  FigureStyle style;
  style.window = resolveWindow(s.window, loaded.volumes.image);
  const auto map = parseColormapName(s.colormap);
  if (!map)
    throw UsageError(fmt::format("--colormap '{}' is not one of {}", s.colormap,
                                 fmt::join(colormapNames(), ", ")));
  style.attention_colormap = *map;
  const auto attribution_map = parseColormapName(s.attribution_colormap);
  if (!attribution_map)
    throw UsageError(fmt::format("--attribution-colormap '{}' is not one of {}",
                                 s.attribution_colormap, fmt::join(colormapNames(), ", ")));
  style.attribution_colormap = *attribution_map;
  style.attention_opacity = s.opacity;
  style.attention_threshold = s.threshold;
  if (s.interpolation != "linear" && s.interpolation != "nearest")
    throw UsageError("--interpolation is linear or nearest");
  style.interpolation =
      s.interpolation == "linear" ? Interpolation::Linear : Interpolation::Nearest;
  style.focus_label = parseLabel(s.label, loaded.label_names);
  if (style.focus_label > 0) {
    const auto name = loaded.label_names.find(style.focus_label);
    style.focus_label_name = name != loaded.label_names.end()
                                 ? name->second
                                 : fmt::format("label {}", style.focus_label);
  }
  style.panel_width_pt = s.panel_width;
  style.title = s.title;
  return style;
}

void applyGridOptions(PanelGrid& grid, const StyleOptions& s) {
  grid.panel_letters = !s.no_letters;
  grid.scale_bar_mm = s.scale_bar;
}

void writeCanvas(const Canvas& canvas, const FigureOutput& o) {
  (void)figureFormatOf(o.out);  // refuse an unknown extension before anything is drawn
  canvas.write(o.out, o.dpi);
  std::cout << fmt::format("wrote {} ({:.0f} x {:.0f} pt)\n", o.out, canvas.width(),
                           canvas.height());
}

const ModelOutputs& modelByKey(const SavedCase& loaded, const std::string& key) {
  const size_t index = key == "A" ? 0 : key == "B" ? 1 : 2;
  if (index > 1) throw UsageError("--model is A or B");
  if (index >= loaded.models.size())
    throw UsageError(fmt::format(
        "there is no model {} (give --evaluation of a two-model run, or --prediction-dir twice)",
        key));
  return loaded.models[index];
}

// "a,b,c" -> {"a", "b", "c"} (empty: none).
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (!text.empty() && start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    if (end > start) items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

// gates and compare on an evaluation of classifiers: the images of --case (comma-separated; default
// the first of each class), each model of `models` with its gates and answer.
int runClassificationFigure(const SavedCaseSource& source, const StyleOptions& s,
                            const FigureOutput& output, const std::vector<size_t>& models,
                            const AttributionChoice& attributions) {
  const std::vector<SavedCase> cases =
      loadClassifiedCases(source.evaluation, splitList(source.case_id));
  for (const size_t m : models)
    if (m >= cases.front().models.size())
      throw UsageError(fmt::format("the evaluation has no model {}", m == 0 ? "A" : "B"));
  // The maps named: METHOD@LAYER,... as they are; a layer method alone, every layer it was saved
  // at; an input method, its map of the input.
  std::vector<std::string> keys;
  const auto add = [&keys](const std::string& key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  };
  for (const std::string& text : attributions.specs) {
    const AttributionSpec spec = parseAttributionSpec(text, "--attribution " + text);
    const std::string method = attributionMethodName(spec.method);
    if (!isLayerMethod(spec.method)) add(method + "@input");
    for (const auto& layer : spec.layers) add(method + "@" + layer);
    if (isLayerMethod(spec.method) && spec.layers.empty())
      for (const size_t m : models)
        for (const auto& [name, map] : cases.front().models[m].attributions)
          if (const auto split = splitClassMapName(name);
              split && split->first.starts_with(method + "@"))
            add(split->first);
  }
  const FigureStyle style = figureStyle(s, cases.front());
  PanelGrid grid = classificationGateFigure(cases, models, style, keys);
  applyGridOptions(grid, s);
  if (s.scale_bar == 0.0) grid.scale_bar_mm = -1.0;  // a picture's pixels have no size in mm
  writeCanvas(drawPanelGrid(grid), output);
  return 0;
}

bool classifiersEvaluated(const SavedCaseSource& source) {
  return !source.evaluation.empty() && source.image.empty() && source.prediction_dirs.empty() &&
         isClassificationEvaluation(source.evaluation);
}

// --- sub-commands ------------------------------------------------------------------------------

struct GatesOptions {
  SavedCaseSource source;
  StyleOptions style;
  FigureOutput output;
  std::string model = "A";
  std::string views = "axial,coronal,sagittal";
  AttributionChoice attributions;
};

int runGates(const GatesOptions& o) {
  if (classifiersEvaluated(o.source)) {
    if (o.model != "A" && o.model != "B") throw UsageError("--model is A or B");
    return runClassificationFigure(o.source, o.style, o.output, {o.model == "A" ? 0u : 1u},
                                   o.attributions);
  }
  const SavedCase loaded = loadSavedCase(o.source, false);
  if (!o.source.evaluation.empty() || !o.source.prediction_dirs.empty())
    (void)modelByKey(loaded, o.model);
  if (loaded.models.empty())
    throw UsageError(
        "render gates needs a model's gate or attribution maps (--evaluation or --prediction-dir)");
  const FigureStyle style = figureStyle(o.style, loaded);
  PanelGrid grid = gateFigure(loaded.volumes, modelByKey(loaded, o.model), parseViews(o.views),
                              style, o.attributions);
  applyGridOptions(grid, o.style);
  writeCanvas(drawPanelGrid(grid), o.output);
  return 0;
}

struct CompareFigureOptions {
  SavedCaseSource source;
  StyleOptions style;
  FigureOutput output;
  std::string views = "axial";
  AttributionChoice attributions;
};

int runCompareFigure(const CompareFigureOptions& o) {
  if (classifiersEvaluated(o.source))
    return runClassificationFigure(o.source, o.style, o.output, {0, 1}, o.attributions);
  const SavedCase loaded = loadSavedCase(o.source, true);
  if (loaded.models.size() < 2)
    throw UsageError(
        "render compare needs two models: an evaluation of A and B, or --prediction-dir twice");
  const FigureStyle style = figureStyle(o.style, loaded);
  PanelGrid grid = comparisonFigure(loaded.volumes, loaded.models[0], loaded.models[1],
                                    parseViews(o.views), style, o.attributions);
  applyGridOptions(grid, o.style);
  writeCanvas(drawPanelGrid(grid), o.output);
  return 0;
}

struct MontageOptions {
  SavedCaseSource source;
  StyleOptions style;
  FigureOutput output;
  std::string model = "A";
  std::string gate = "mean";
  std::string plane = "axial";
  std::string slices;  // FIRST:LAST[:STEP]
  int columns = 6;
};

int runMontage(const MontageOptions& o) {
  const SavedCase loaded = loadSavedCase(o.source, false);
  const FigureStyle style = figureStyle(o.style, loaded);
  const auto plane = parsePlane(o.plane);
  if (!plane) throw UsageError("--plane is axial, coronal or sagittal");
  const int64_t count = sliceFrame(loaded.volumes.image.geometry(), *plane).slices;
  int64_t first = 0, last = count - 1, step = std::max<int64_t>(1, count / 12);
  if (!o.slices.empty()) {
    long long a = 0, b = 0, c = 1;
    const int n = std::sscanf(o.slices.c_str(), "%lld:%lld:%lld", &a, &b, &c);
    if (n < 2) throw UsageError("--slices is FIRST:LAST or FIRST:LAST:STEP, e.g. 10:40:3");
    first = a, last = b, step = n == 3 ? c : 1;
  }
  const ModelOutputs* model = loaded.models.empty() ? nullptr : &modelByKey(loaded, o.model);
  PanelGrid grid =
      montageFigure(loaded.volumes, model, model && !model->gates.empty() ? o.gate : "", *plane,
                    first, last, step, o.columns, style);
  applyGridOptions(grid, o.style);
  writeCanvas(drawPanelGrid(grid), o.output);
  return 0;
}

struct Render3dOptions {
  SavedCaseSource source;
  StyleOptions style;
  FigureOutput output;
  std::string model = "A";
  std::string gate = "mean";
  std::string camera = "oblique";
  double azimuth = 0.0, elevation = 0.0, zoom = 1.0;
  int size = 800;
  double max_opacity = 0.5;
};

int run3d(const Render3dOptions& o) {
#if !GATESCOPE_HAVE_VTK
  (void)o;
  throw Error(
      "this gatescope was built without VTK (GATESCOPE_VTK=OFF): render 3d is not available");
#else
  const SavedCase loaded = loadSavedCase(o.source, false);
  if (loaded.models.empty())
    throw UsageError("render 3d needs a model's gate maps (--evaluation or --prediction-dir)");
  const ModelOutputs& model = modelByKey(loaded, o.model);
  const FigureStyle style = figureStyle(o.style, loaded);
  const auto camera = parseCameraPreset(o.camera);
  if (!camera)
    throw UsageError(fmt::format("--camera is one of {}", fmt::join(cameraPresetNames(), ", ")));
  Volume<float> mean;
  const Volume<float>* gate = &findGate(model, o.gate, mean);
  std::vector<LegendEntry> legend;
  GateVolumeRequest request;
  request.image = &loaded.volumes.image;
  request.gate = gate;
  request.colormap = style.attention_colormap;
  request.threshold = style.attention_threshold;
  request.max_opacity = o.max_opacity;
  request.reference = loaded.volumes.reference ? &*loaded.volumes.reference : nullptr;
  request.prediction = model.prediction ? &*model.prediction : nullptr;
  request.reference_color = style.reference_color;
  request.prediction_color = style.prediction_color;
  request.label_names = loaded.label_names;
  request.focus_label = style.focus_label;
  request.focus_label_name = style.focus_label_name;
  VolumeScene scene = gateVolumeScene(request, &legend);
  scene.camera = *camera;
  scene.azimuth_deg = o.azimuth;
  scene.elevation_deg = o.elevation;
  scene.zoom = o.zoom;
  scene.width = scene.height = o.size;
  const RgbaImage picture = renderVolume(scene);
  if (figureFormatOf(o.output.out) == FigureFormat::Png && o.style.title.empty() &&
      o.style.no_letters) {
    writeRgbaPng(o.output.out, picture, o.output.dpi);
    std::cout << fmt::format("wrote {} ({} x {} px)\n", o.output.out, picture.width,
                             picture.height);
    return 0;
  }
  PanelGrid grid;
  grid.title = style.title.empty() ? fmt::format("{}: {}, case {}, {} view", model.name,
                                                 o.gate == "mean" ? "mean of gates" : o.gate,
                                                 loaded.volumes.id, cameraPresetName(*camera))
                                   : style.title;
  grid.rows = {{FigurePanel{picture, 1.0, ""}}};
  grid.panel_width_pt = std::max(style.panel_width_pt, 260.0);
  grid.scale_bar_mm = -1.0;  // a perspective view has no single scale
  grid.panel_letters = false;
  grid.colorbars.push_back({style.attention_colormap, 0.0, 1.0, "attention coefficient"});
  grid.legend = legend;
  writeCanvas(drawPanelGrid(grid), o.output);
  return 0;
#endif
}

struct PlotOptions {
  std::string report;
  FigureOutput output;
  std::string kind = "paired";
  std::string metric = "dice";
  std::string label;
  std::string statistic = "mass_in_reference";
};

int runPlot(const PlotOptions& o) {
  if (o.kind == "training") {
    writeCanvas(drawTrainingPlot(readTrainingLog(o.report)), o.output);
    return 0;
  }
  // Read once: a classification report has plots of its own, a segmentation report the others.
  const fs::path report_path = evaluationReportFile(o.report);
  nlohmann::ordered_json json = readOrderedJsonFile(report_path, "evaluation report");
  if (json.is_object() && json.value("task", "") == "classification") {
    validateClassificationReport(json, report_path.string());
    const auto classification = parseClassificationPlotKind(o.kind);
    if (!classification)
      throw UsageError(report_path.string() +
                       ": a classification report: --kind is confusion, confusion-normalised, "
                       "per-class or reliability");
    writeCanvas(drawClassificationPlot(json, *classification, report_path.string()), o.output);
    return 0;
  }
  const auto kind = parseReportPlotKind(o.kind);
  if (!kind)
    throw UsageError(
        "--kind is paired, bland-altman, attention or training (classification reports: "
        "confusion, confusion-normalised, per-class, reliability)");
  validateReport(json, report_path.string());
  const ReportModel report(std::move(json), report_path.string());
  const Canvas canvas = drawReportPlot(report, {*kind, o.label, o.metric, o.statistic});
  writeCanvas(canvas, o.output);
  return 0;
}

}  // namespace

void registerRenderCommand(CLI::App& root, CommandAction& chosen) {
  CLI::App* render =
      root.add_subcommand("render",
                          "Figures: attention gates per slice, model A vs B, montages, plots of a "
                          "report, 3D renderings "
                          "(PNG at --dpi, PDF or SVG by the --out extension; docs/rendering.md)");
  render->require_subcommand(1);

  auto gates = std::make_shared<GatesOptions>();
  CLI::App* g =
      render->add_subcommand("gates",
                             "Per-gate attention panels: rows = the model's gates, their mean "
                             "and any --attribution maps, columns = slices (--views)");
  addSourceOptions(*g, gates->source);
  g->add_option("--model", gates->model, "A or B")->capture_default_str();
  g->add_option("--views", gates->views,
                "Planes with optional slice, e.g. axial:24,coronal (default slices: "
                "through the --label's centre, else the middle)")
      ->capture_default_str();
  addAttributionOptions(*g, gates->attributions, gates->style);
  addStyleOptions(*g, gates->style);
  addOutputOptions(*g, gates->output);
  g->callback([gates, &chosen] { chosen = [gates] { return runGates(*gates); }; });

  auto compare = std::make_shared<CompareFigureOptions>();
  CLI::App* c =
      render->add_subcommand("compare",
                             "Model A | model B | difference (probability of the --label, "
                             "A - B), each model with its gate mean and any --attribution maps, "
                             "rows = slices (--views)");
  addSourceOptions(*c, compare->source);
  c->add_option("--views", compare->views, "Planes with optional slice, e.g. axial:24,coronal")
      ->capture_default_str();
  addAttributionOptions(*c, compare->attributions, compare->style);
  addStyleOptions(*c, compare->style);
  addOutputOptions(*c, compare->output);
  c->callback([compare, &chosen] { chosen = [compare] { return runCompareFigure(*compare); }; });

  auto montage = std::make_shared<MontageOptions>();
  CLI::App* m = render->add_subcommand(
      "montage", "Lightbox of a slice range of one plane, with a gate over it");
  addSourceOptions(*m, montage->source);
  m->add_option("--model", montage->model, "A or B")->capture_default_str();
  m->add_option("--gate", montage->gate, "Gate name, or mean")->capture_default_str();
  m->add_option("--plane", montage->plane, "axial, coronal or sagittal")->capture_default_str();
  m->add_option("--slices", montage->slices,
                "FIRST:LAST[:STEP] (default: about 12 slices over the volume)");
  m->add_option("--columns", montage->columns, "Panels per row")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  addStyleOptions(*m, montage->style);
  addOutputOptions(*m, montage->output);
  m->callback([montage, &chosen] { chosen = [montage] { return runMontage(*montage); }; });

  auto plot = std::make_shared<PlotOptions>();
  CLI::App* p =
      render->add_subcommand("plot",
                             "Plots of an evaluation report: paired (per-case metric of A vs B), "
                             "bland-altman (volumes), attention (per-gate statistics); training: "
                             "learning curves of gatescope train (train.json)");
  p->add_option("--report", plot->report,
                "report.json or the evaluation folder holding it; with --kind training, "
                "train.json or the training output folder")
      ->required();
  p->add_option("--kind", plot->kind,
                "paired, bland-altman, attention or training; for a classification report "
                "confusion, confusion-normalised, per-class or reliability")
      ->capture_default_str();
  p->add_option("--metric", plot->metric, "Metric of the paired plot (e.g. dice, hd95_mm)")
      ->capture_default_str();
  p->add_option("--label", plot->label, "Label value or name (default: the first label)");
  p->add_option("--statistic", plot->statistic, "Attention statistic of the attention plot")
      ->capture_default_str();
  addOutputOptions(*p, plot->output);
  p->callback([plot, &chosen] { chosen = [plot] { return runPlot(*plot); }; });

  auto three = std::make_shared<Render3dOptions>();
  three->style.threshold = 0.5;  // in 3D, low coefficients everywhere would fog the picture
  CLI::App* t =
      render->add_subcommand("3d",
                             "Volume rendering of a gate's coefficients with reference and "
                             "prediction surfaces (needs an X display: xvfb-run without one)");
  addSourceOptions(*t, three->source);
  t->add_option("--model", three->model, "A or B")->capture_default_str();
  t->add_option("--gate", three->gate, "Gate name, or mean")->capture_default_str();
  t->add_option("--camera", three->camera, "anterior, posterior, left, right, superior or oblique")
      ->capture_default_str();
  t->add_option("--azimuth", three->azimuth, "Extra rotation about the vertical axis, degrees")
      ->capture_default_str();
  t->add_option("--elevation", three->elevation, "Extra rotation up, degrees")
      ->capture_default_str();
  t->add_option("--zoom", three->zoom, "Zoom factor")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 20.0));
  t->add_option("--size", three->size, "Rendering size in pixels (square)")
      ->capture_default_str()
      ->check(CLI::Range(64, 4096));
  t->add_option("--max-opacity", three->max_opacity, "Opacity at coefficient 1")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  addStyleOptions(*t, three->style);
  addOutputOptions(*t, three->output);
  t->callback([three, &chosen] { chosen = [three] { return run3d(*three); }; });
}

#else

void registerRenderCommand(CLI::App& root, CommandAction& chosen) {
  CLI::App* render = root.add_subcommand(
      "render", "Figures (not in this build: configured with GATESCOPE_FIGURES=OFF)");
  render->allow_extras();
  render->callback([&chosen] {
    chosen = []() -> int {
      throw Error(
          "this gatescope was built without figure output (GATESCOPE_FIGURES=OFF): render is not "
          "available");
    };
  });
}

#endif

}  // namespace gatescope::cli
