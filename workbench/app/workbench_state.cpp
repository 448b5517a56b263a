#include "workbench/app/workbench_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "analysis/attention/gate_resampling.hpp"
#include "analysis/core/error.hpp"
#include "analysis/evaluation/report_model.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/json_file.hpp"
#include "renderers/figures.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxRecentFiles = 10;
constexpr double kFillOpacity = 0.4;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

double sortKey(const CaseRow& row, CaseSort sort) {
  switch (sort) {
    case CaseSort::DiceA:
      return row.dice_a;
    case CaseSort::DiceB:
      return row.dice_b;
    case CaseSort::DiceDifference:
      return row.dice_difference;
    case CaseSort::Hd95A:
      return row.hd95_a;
    case CaseSort::Hd95B:
      return row.hd95_b;
    case CaseSort::Id:
      break;
  }
  return 0.0;
}

bool sameWindow(const WindowLevel& a, const WindowLevel& b) {
  return a.center == b.center && a.width == b.width;
}

LabelLayer labelLayer(const Volume<int32_t>& labels, Rgba color, const LayerSettings& layers) {
  LabelLayer layer;
  layer.labels = &labels;
  layer.style = layers.label_style;
  layer.color = color;
  if (layers.focus_label > 0) layer.only = {layers.focus_label};
  // Fills are translucent: one model's fill must not hide the other's, nor the image.
  layer.opacity = layers.label_style == LabelStyle::Fill
                      ? std::min(layers.label_opacity, kFillOpacity)
                      : layers.label_opacity;
  return layer;
}

const char* labelStyleName(LabelStyle style) {
  return style == LabelStyle::Fill ? "fill" : "contour";
}

LabelStyle parseLabelStyle(const std::string& name) {
  if (name == "contour") return LabelStyle::Contour;
  if (name == "fill") return LabelStyle::Fill;
  throw FormatError(fmt::format("session: label style '{}' is neither contour nor fill", name));
}

// Generations are unique over the program's run, across states (a restored session is a new
// state whose numbers must not repeat the old one's).
uint64_t nextGeneration() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

fs::path recentFilesPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return fs::path(xdg) / "gatescope" / "recent.json";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".config" / "gatescope" / "recent.json";
}

}  // namespace

// --- session ---

void WorkbenchState::openEvaluation(const fs::path& dir) {
  ReportModel report = ReportModel::read(dir);
  evaluation_dir_ = dir;
  label_names_ = report.labelNames();
  const std::vector<std::string> saved = casesWithPredictions(dir, report.json());
  cases_with_predictions_ = {saved.begin(), saved.end()};
  // The browser shows a label the report has: its metric settings' labels, else the dataset's.
  const std::vector<int> labels = report.metricLabels();
  if (!labels.empty() && std::find(labels.begin(), labels.end(), browser_label) == labels.end())
    browser_label = labels.front();
  report_ = std::move(report);
  evaluation_generation_ = nextGeneration();
  case_.reset();
  overlay_cache_ = {};
  difference_cache_.reset();
  changed();
}

// --- case browser ---

std::vector<CaseRow> WorkbenchState::caseRows(const std::string& filter, CaseSort sort,
                                              bool descending) const {
  return caseRowsOf(browser_label, filter, sort, descending);
}

std::vector<CaseRow> WorkbenchState::caseRowsOf(int label_value, const std::string& filter,
                                                CaseSort sort, bool descending) const {
  std::vector<CaseRow> rows;
  if (!report_) return rows;
  const std::string needle = lowercase(filter);
  const std::string label = std::to_string(label_value);
  const auto value = [&](const Json& c, const char* model, const char* metric) {
    return ReportModel::metric(c, model, label, metric).value_or(kNaN);
  };
  for (const auto& c : report_->cases()) {
    CaseRow row;
    row.id = c.value("id", std::string());
    if (lowercase(row.id).find(needle) == std::string::npos) continue;
    row.status = ReportModel::caseStatus(c);
    row.has_predictions = cases_with_predictions_.contains(row.id);
    row.dice_a = value(c, "A", "dice");
    row.dice_b = value(c, "B", "dice");
    row.hd95_a = value(c, "A", "hd95_mm");
    row.hd95_b = value(c, "B", "hd95_mm");
    row.dice_difference = row.dice_a - row.dice_b;  // NaN when either is
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const CaseRow& a, const CaseRow& b) {
    if (sort == CaseSort::Id) return descending ? a.id > b.id : a.id < b.id;
    const double x = sortKey(a, sort), y = sortKey(b, sort);
    // Missing values last in either direction; ties in id order.
    if (std::isnan(x) || std::isnan(y))
      return std::isnan(x) == std::isnan(y) ? a.id < b.id : std::isnan(y);
    if (x == y) return a.id < b.id;
    return descending ? x > y : x < y;
  });
  return rows;
}

// --- the loaded case ---

SavedCase WorkbenchState::readCase(const std::string& id) const {
  return readCase(requestCase(id));
}

WorkbenchState::CaseRequest WorkbenchState::requestCase(const std::string& id) const {
  if (!report_) throw UsageError(fmt::format("case '{}': no evaluation is open", id));
  return {evaluation_dir_, id, evaluation_generation_};
}

SavedCase WorkbenchState::readCase(const CaseRequest& request) {
  SavedCaseSource source;
  source.evaluation = request.evaluation.string();
  source.case_id = request.case_id;
  return loadSavedCase(source, true);
}

bool WorkbenchState::showRequestedCase(const CaseRequest& request, SavedCase loaded) {
  if (!report_ || request.evaluation_generation != evaluation_generation_) return false;
  showCase(std::move(loaded));
  return true;
}

std::string WorkbenchState::mostDifferentCase() const {
  return mostDifferentCase(browser_label);
}

std::string WorkbenchState::mostDifferentCase(int label) const {
  std::string id;
  double largest = -1.0;
  for (const CaseRow& row : caseRowsOf(label))
    if (row.has_predictions) {
      const double d = std::isnan(row.dice_difference) ? 0.0 : std::abs(row.dice_difference);
      if (d > largest) largest = d, id = row.id;
    }
  return id;
}

WorkbenchState::OpeningChoice WorkbenchState::openingChoice() const {
  OpeningChoice choice;
  if (!report_) return choice;
  double smallest = std::numeric_limits<double>::infinity();
  for (const int label : report_->metricLabels()) {
    if (label <= 0) continue;
    double sum = 0;
    int n = 0;
    for (const auto& c : report_->cases())
      if (const auto v = ReportModel::metric(c, "A", std::to_string(label), "reference_volume_mm3");
          v && std::isfinite(*v) && *v > 0)
        sum += *v, ++n;
    if (n > 0 && sum / n < smallest) smallest = sum / n, choice.label = label;
  }
  if (choice.label > 0) choice.case_id = mostDifferentCase(choice.label);
  return choice;
}

std::string WorkbenchState::finestGate(int model) const {
  if (!case_ || model < 0 || model >= static_cast<int>(case_->models.size())) return {};
  std::string finest;
  int64_t most = 0;
  for (const auto& [name, map] : case_->models[model].native_gates)
    if (map.voxelsPerChannel() > most) most = map.voxelsPerChannel(), finest = name;
  return finest;
}

void WorkbenchState::showCase(SavedCase loaded) {
  const Volume<float>& image = loaded.volumes.image;
  const Index3& dims = image.dims();
  cursor_ = {static_cast<double>(dims[0] / 2), static_cast<double>(dims[1] / 2),
             static_cast<double>(dims[2] / 2)};
  if (loaded.volumes.reference && layers.focus_label > 0)
    if (const auto centre = labelCentre(*loaded.volumes.reference, layers.focus_label))
      for (int a = 0; a < 3; ++a) cursor_[a] = static_cast<double>(std::lround((*centre)[a]));
  window = defaultWindow(image);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const float v : image.channel(0))
    if (std::isfinite(v)) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
  image_range_ = hi > lo ? hi - lo : 1.0;
  views_ = {};
  case_ = std::move(loaded);
  case_generation_ = nextGeneration();
  overlay_cache_ = {};
  difference_cache_.reset();
  changed();
}

bool WorkbenchState::addAttributionMaps(uint64_t case_generation, int model,
                                        std::vector<std::pair<std::string, Volume<float>>> maps) {
  if (!case_ || case_generation != case_generation_ || model < 0 ||
      model >= static_cast<int>(case_->models.size()))
    return false;
  for (const auto& [name, map] : maps)
    if (!map.geometry().sameGrid(case_->volumes.image.geometry()))
      throw GeometryError(fmt::format("attribution map {} lies on {}, the image on {}", name,
                                      map.geometry().describe(),
                                      case_->volumes.image.geometry().describe()));
  auto& list = case_->models[static_cast<size_t>(model)].attributions;
  for (auto& added : maps) {
    const auto same = std::find_if(list.begin(), list.end(),
                                   [&](const auto& entry) { return entry.first == added.first; });
    if (same != list.end())
      same->second = std::move(added.second);
    else
      list.push_back(std::move(added));
  }
  case_generation_ = nextGeneration();  // every cached picture and volume of the case is stale
  overlay_cache_ = {};
  changed();
  return true;
}

void WorkbenchState::showImage(SavedCase loaded) {
  evaluation_dir_.clear();
  report_.reset();
  evaluation_generation_ = nextGeneration();
  cases_with_predictions_.clear();
  label_names_ = loaded.label_names;
  showCase(std::move(loaded));
}

const SavedCase& WorkbenchState::requireCase() const {
  if (!case_) throw UsageError("no case is open in the workbench");
  return *case_;
}

// --- cursor and views ---

void WorkbenchState::setCursor(const Vec3& voxel) {
  if (!case_) return;
  const Index3& dims = case_->volumes.image.dims();
  Vec3 clamped{};
  for (int a = 0; a < 3; ++a)
    clamped[a] = std::clamp(std::round(voxel[a]), 0.0, static_cast<double>(dims[a] - 1));
  if (clamped == cursor_) return;
  cursor_ = clamped;
  changed();
}

void WorkbenchState::setCursorFromPicture(Plane plane, double x, double y) {
  if (!case_) return;
  setCursor(sliceMapping(case_->volumes.image.geometry(), plane, slice(plane)).voxelAt(x, y));
}

void WorkbenchState::scroll(Plane plane, int delta) {
  if (!case_) return;
  Vec3 moved = cursor_;
  moved[sliceFrame(case_->volumes.image.geometry(), plane).axis_normal] += delta;
  setCursor(moved);
}

int64_t WorkbenchState::slice(Plane plane) const {
  if (!case_) return 0;
  return static_cast<int64_t>(
      cursor_[sliceFrame(case_->volumes.image.geometry(), plane).axis_normal]);
}

Probe WorkbenchState::probe() const {
  return probeAt(cursor_);
}

Probe WorkbenchState::probeAt(const Vec3& voxel) const {
  Probe probe;
  if (!case_) return probe;
  const Index3& dims = case_->volumes.image.dims();
  Index3 at{};
  for (int a = 0; a < 3; ++a) {
    at[a] = std::clamp<int64_t>(std::llround(voxel[a]), 0, dims[a] - 1);
    probe.voxel[a] = static_cast<double>(at[a]);
  }
  probe.world = case_->volumes.image.geometry().indexToWorld(probe.voxel);
  probe.image = case_->volumes.image(at[0], at[1], at[2]);
  if (case_->volumes.reference) probe.reference = (*case_->volumes.reference)(at[0], at[1], at[2]);
  for (const ModelOutputs& model : case_->models) {
    probe.predicted.push_back(model.prediction ? (*model.prediction)(at[0], at[1], at[2]) : 0);
    for (const auto& [name, gate] : model.gates)
      probe.gates.emplace_back(fmt::format("{} / {}", model.name, name), gate(at[0], at[1], at[2]));
    for (const auto& [name, map] : model.attributions)
      probe.gates.emplace_back(fmt::format("{} / {}", model.name, name), map(at[0], at[1], at[2]));
  }
  return probe;
}

// --- window/level ---

void WorkbenchState::applyWindowPreset(const std::string& name) {
  if (!case_) throw UsageError(fmt::format("window preset '{}': no case is open", name));
  window = windowFromPreset(name, case_->volumes.image);
  changed();
}

void WorkbenchState::dragWindow(double dx_pixels, double dy_pixels) {
  if (!case_) return;
  const double per_pixel = image_range_ / kWindowDragPixels;
  // Never narrower than a thousandth of the range: a window of width 0 shows nothing useful.
  window.width = std::max(window.width + dx_pixels * per_pixel, image_range_ * 1e-3);
  window.center -= dy_pixels * per_pixel;
  changed();
}

// --- layers and scenes ---

SliceScene WorkbenchState::imageScene(Plane plane) const {
  const SavedCase& c = requireCase();
  SliceScene scene;
  scene.plane = plane;
  scene.slice = slice(plane);
  scene.image.volume = &c.volumes.image;
  scene.image.lo = window.lo();
  scene.image.hi = window.hi();
  return scene;
}

SliceScene WorkbenchState::sliceScene(Plane plane, int model) const {
  const SavedCase& c = requireCase();
  SliceScene scene = imageScene(plane);
  const int overlay_model =
      side_by_side && layers.overlay_model >= 0 ? model : layers.overlay_model;
  if (const Volume<float>* overlay = overlay_model >= 0 ? overlayVolume(overlay_model) : nullptr) {
    // A native gate is shown blocky, as the network computed it.
    const bool native = layers.native_gate && hasNativeGate(overlay_model, shownMap(overlay_model));
    scene.overlays.push_back(attentionLayer(*overlay, attentionLook(native)));
  }
  if (layers.show_reference && c.volumes.reference)
    scene.labels.push_back(labelLayer(*c.volumes.reference, kReferenceColor, layers));
  for (size_t m = 0; m < c.models.size() && m < kPredictionColors.size(); ++m) {
    const bool shown = m == 0 ? layers.show_prediction_a : layers.show_prediction_b;
    if (!shown || !c.models[m].prediction || (side_by_side && static_cast<int>(m) != model))
      continue;
    scene.labels.push_back(labelLayer(*c.models[m].prediction, kPredictionColors[m], layers));
  }
  return scene;
}

std::vector<std::string> WorkbenchState::gateNames(int model) const {
  std::vector<std::string> names;
  if (!case_ || model < 0 || model >= static_cast<int>(case_->models.size())) return names;
  const auto& gates = case_->models[model].gates;
  if (gates.size() > 1) names.push_back("mean");
  for (const auto& [name, gate] : gates) names.push_back(name);
  for (const auto& [name, map] : case_->models[model].attributions) names.push_back(name);
  return names;
}

const std::string& WorkbenchState::shownMap(int model) const {
  return side_by_side && model == 1 && !layers.overlay_gate_b.empty() ? layers.overlay_gate_b
                                                                      : layers.overlay_gate;
}

bool WorkbenchState::hasNativeGate(int model, const std::string& gate) const {
  if (!case_ || model < 0 || model >= static_cast<int>(case_->models.size())) return false;
  const auto& natives = case_->models[model].native_gates;
  return std::any_of(natives.begin(), natives.end(),
                     [&](const auto& native) { return native.first == gate; });
}

const Volume<float>* WorkbenchState::overlayVolume(int model) const {
  if (!case_ || model < 0 || model >= static_cast<int>(case_->models.size())) return nullptr;
  const ModelOutputs& outputs = case_->models[model];
  const std::string& gate = shownMap(model);
  const bool native = layers.native_gate && hasNativeGate(model, gate);
  if (!native) {
    if (gate == "mean" && outputs.gates.size() == 1) return &outputs.gates.front().second;
    for (const auto& [name, volume] : outputs.gates)
      if (name == gate) return &volume;
    for (const auto& [name, volume] : outputs.attributions)
      if (name == gate) return &volume;
    if (gate != "mean" || outputs.gates.empty()) return nullptr;
  }
  // The mean and native maps are computed once per case and setting: views redraw every frame.
  std::optional<CachedVolume>& cached = overlay_cache_[model];
  if (cached && cached->case_generation == case_generation_ && cached->gate == gate &&
      cached->native == native)
    return &cached->volume;
  CachedVolume computed{case_generation_, gate, native, 0, {}};
  if (native) {
    for (const auto& [name, volume] : outputs.native_gates)
      if (name == gate) computed.volume = resampleNearest(volume, case_->volumes.image.geometry());
  } else {
    computed.volume = meanOfGates(outputs.gates);
  }
  cached = std::move(computed);
  return &cached->volume;
}

bool WorkbenchState::differenceFromProbabilities() const {
  if (!case_ || case_->models.size() < 2) return false;
  const auto &a = case_->models[0].probabilities, &b = case_->models[1].probabilities;
  return a && b && layers.focus_label < a->channels() && a->channels() == b->channels();
}

const Volume<float>* WorkbenchState::differenceVolume() const {
  if (!case_ || case_->models.size() < 2) return nullptr;
  const int label = layers.focus_label;
  if (difference_cache_ && difference_cache_->case_generation == case_generation_ &&
      difference_cache_->label == label)
    return &difference_cache_->volume;
  const ModelOutputs &a = case_->models[0], &b = case_->models[1];
  Volume<float> difference;
  if (differenceFromProbabilities())
    difference = probabilityDifference(*a.probabilities, *b.probabilities, label);
  else if (a.prediction && b.prediction)
    difference = predictionDisagreement(*a.prediction, *b.prediction, label);
  else
    return nullptr;
  difference_cache_ = CachedVolume{case_generation_, {}, false, label, std::move(difference)};
  return &difference_cache_->volume;
}

std::string WorkbenchState::differenceDescription() const {
  const int label = layers.focus_label;
  std::string name = label == 0 ? "foreground" : fmt::format("label {}", label);
  if (const auto known = label_names_.find(label); label > 0 && known != label_names_.end())
    name = known->second;
  return differenceFromProbabilities() ? fmt::format("P({}): A - B", name)
                                       : fmt::format("{}: only A (+1), only B (-1)", name);
}

SliceScene WorkbenchState::differenceScene(Plane plane) const {
  const SavedCase& c = requireCase();
  SliceScene scene = imageScene(plane);
  if (const Volume<float>* difference = differenceVolume())
    scene.overlays.push_back(differenceLayer(*difference));
  if (layers.show_reference && c.volumes.reference)
    scene.labels.push_back(labelLayer(*c.volumes.reference, kReferenceColor, layers));
  return scene;
}

void WorkbenchState::applySettings(const ViewSettings& s) {
  LayerSettings next = layers;
  if (s.attention_of) {
    const std::string& who = *s.attention_of;
    const size_t models = case_ ? case_->models.size() : 0;
    int model = -2;
    if (who == "none")
      model = -1;
    else if (who == "A")
      model = 0;
    else if (who == "B")
      model = 1;
    // Models are named "A: gated": either part will do.
    for (size_t m = 0; m < models; ++m) {
      const std::string& name = case_->models[m].name;
      if (name == who ||
          (name.size() > 3 && name.compare(1, 2, ": ") == 0 && name.substr(3) == who))
        model = static_cast<int>(m);
    }
    if (model == -2 || (case_ && model >= static_cast<int>(models)))
      throw UsageError(fmt::format("attention of '{}': the case has no such model", who));
    if (model >= 0 && !whyNoAttention(model).empty())
      throw UsageError(fmt::format("attention of '{}': {}", who, whyNoAttention(model)));
    next.overlay_model = model;
  }
  if (s.gate) {
    const std::vector<std::string> gates = gateNames(next.overlay_model);
    if (case_ && next.overlay_model >= 0 &&
        std::find(gates.begin(), gates.end(), *s.gate) == gates.end())
      throw UsageError(
          fmt::format("gate '{}': the model's gates are {}", *s.gate, fmt::join(gates, ", ")));
    next.overlay_gate = *s.gate;
  }
  if (s.gate_b) {
    const std::vector<std::string> maps = gateNames(1);
    if (case_ && !s.gate_b->empty() && std::find(maps.begin(), maps.end(), *s.gate_b) == maps.end())
      throw UsageError(
          fmt::format("gate_b '{}': model B's maps are {}", *s.gate_b,
                      maps.empty() ? "none" : fmt::format("{}", fmt::join(maps, ", "))));
    next.overlay_gate_b = *s.gate_b;
  }
  if (s.colormap) next.colormap = *s.colormap;
  if (s.opacity) next.opacity = *s.opacity;
  if (s.threshold) next.threshold = *s.threshold;
  if (s.focus_label) next.focus_label = *s.focus_label;
  if (s.label_style) next.label_style = *s.label_style;
  if (s.native_gate) next.native_gate = *s.native_gate;
  if (s.show_reference) next.show_reference = *s.show_reference;
  if (s.show_prediction_a) next.show_prediction_a = *s.show_prediction_a;
  if (s.show_prediction_b) next.show_prediction_b = *s.show_prediction_b;
  layers = next;
  if (s.side_by_side) side_by_side = *s.side_by_side;
}

namespace {

const char* const kPlaneNames[] = {"axial", "coronal", "sagittal"};

}  // namespace

FigureStyle WorkbenchState::figureStyle() const {
  FigureStyle style;
  style.window = window;
  style.attention_colormap = layers.colormap;
  style.attention_opacity = layers.opacity;
  style.attention_threshold = layers.threshold;
  style.focus_label = layers.focus_label;
  return style;
}

std::vector<SliceChoice> WorkbenchState::cursorSlices() const {
  std::vector<SliceChoice> slices;
  for (int p = 0; p < 3; ++p)
    slices.push_back({static_cast<Plane>(p), slice(static_cast<Plane>(p))});
  return slices;
}

PanelGrid WorkbenchState::viewFigure() const {
  const SavedCase& c = requireCase();
  const int model = std::max(0, layers.overlay_model);
  const std::vector<SliceChoice> slices = cursorSlices();
  PanelGrid grid;
  grid.title = fmt::format("case {}", c.volumes.id);
  for (int p = 0; p < 3; ++p)
    grid.column_titles.push_back(fmt::format("{} {}", kPlaneNames[p], slices[p].slice));
  auto& row = grid.rows.emplace_back();
  for (int p = 0; p < 3; ++p) {
    const SliceScene scene = sliceScene(static_cast<Plane>(p), model);
    FigurePanel panel;
    panel.picture = composeSlice(scene);
    panel.pixel_mm =
        sliceMapping(c.volumes.image.geometry(), scene.plane, scene.slice, scene.pixel_mm).pixel_mm;
    row.push_back(std::move(panel));
  }
  if (overlayVolume(model))
    grid.colorbars.push_back({layers.colormap, 0.0, 1.0, "attention coefficient"});
  if (layers.show_reference && c.volumes.reference)
    grid.legend.push_back({"reference", kReferenceColor});
  for (size_t m = 0; m < c.models.size() && m < kPredictionColors.size(); ++m)
    if ((m == 0 ? layers.show_prediction_a : layers.show_prediction_b) && c.models[m].prediction)
      grid.legend.push_back({c.models[m].name, kPredictionColors[m]});
  return grid;
}

PanelGrid WorkbenchState::gatePanelFigure() const {
  const SavedCase& c = requireCase();
  const int model = std::max(0, layers.overlay_model);
  if (model >= static_cast<int>(c.models.size())) throw UsageError("the case has no model outputs");
  return gateFigure(c.volumes, c.models[static_cast<size_t>(model)], cursorSlices(), figureStyle());
}

GateVolumeRequest WorkbenchState::volumeRequest(int model) const {
  const SavedCase& c = requireCase();
  GateVolumeRequest request;
  request.image = &c.volumes.image;
  request.gate = overlayVolume(model);
  request.colormap = layers.colormap;
  request.threshold =
      std::max(0.3, layers.threshold);  // a volume needs a clearer floor than a slice
  const ModelOutputs* shown = model >= 0 && model < static_cast<int>(c.models.size())
                                  ? &c.models[static_cast<size_t>(model)]
                                  : nullptr;
  if (layers.show_reference && c.volumes.reference) request.reference = &*c.volumes.reference;
  if (shown && shown->prediction) request.prediction = &*shown->prediction;
  request.prediction_color = kPredictionColors[static_cast<size_t>(std::clamp(model, 0, 1))];
  request.label_names = label_names_;
  request.focus_label = layers.focus_label;
  return request;
}

std::string WorkbenchState::whyNoAttention(int model) const {
  if (!case_ || model < 0 || model >= static_cast<int>(case_->models.size())) return {};
  const ModelOutputs& outputs = case_->models[static_cast<size_t>(model)];
  if (!outputs.gates.empty() || !outputs.attributions.empty()) return {};
  if (outputs.stored_predictions)
    return fmt::format("{} is a folder of predictions: no network, so no gates or attribution maps",
                       outputs.name);
  return fmt::format(
      "{} has no attention gates (an ungated network: nothing weights its skip "
      "connections)",
      outputs.name);
}

AttentionLook WorkbenchState::attentionLook(bool native) const {
  return {layers.colormap, layers.opacity, layers.threshold,
          native ? Interpolation::Nearest : Interpolation::Linear};
}

// --- picture keys ---

PictureKey WorkbenchState::pictureKey(Plane plane, int model, bool difference) const {
  return {case_generation_, evaluation_generation_, currentCaseId(), plane, slice(plane), model,
          difference,       side_by_side,           layers,          window};
}

PictureKey WorkbenchState::volumeKey(int model) const {
  return {case_generation_,
          evaluation_generation_,
          currentCaseId(),
          Plane::Axial,
          -1,
          model,
          false,
          false,
          layers,
          {}};
}

// --- revision ---

WorkbenchState::PictureSettings WorkbenchState::pictureSettings() const {
  return {layers, window, views_, side_by_side};
}

uint64_t WorkbenchState::revision() const {
  const PictureSettings now = pictureSettings();
  const PictureSettings& seen = seen_settings_;
  if (!(now.layers == seen.layers) || !sameWindow(now.window, seen.window) ||
      now.views != seen.views || now.side_by_side != seen.side_by_side) {
    changed();
    seen_settings_ = now;
  }
  return revision_;
}

// --- session file ---

nlohmann::json WorkbenchState::sessionJson() const {
  nlohmann::json views = nlohmann::json::array();
  for (const ViewTransform& v : views_)
    views.push_back({{"zoom", v.zoom}, {"pan_x", v.pan_x}, {"pan_y", v.pan_y}});
  return {
      {"evaluation", evaluation_dir_.empty()
                         ? std::string()
                         : fs::absolute(evaluation_dir_).lexically_normal().string()},
      {"case", currentCaseId()},
      {"cursor", cursor_},
      {"window", {{"center", window.center}, {"width", window.width}}},
      {"layers",
       {{"show_reference", layers.show_reference},
        {"show_prediction_a", layers.show_prediction_a},
        {"show_prediction_b", layers.show_prediction_b},
        {"label_style", labelStyleName(layers.label_style)},
        {"label_opacity", layers.label_opacity},
        {"overlay_model", layers.overlay_model},
        {"overlay_gate", layers.overlay_gate},
        {"colormap", colormapName(layers.colormap)},
        {"opacity", layers.opacity},
        {"threshold", layers.threshold},
        {"native_gate", layers.native_gate},
        {"focus_label", layers.focus_label}}},
      {"browser_label", browser_label},
      {"side_by_side", side_by_side},
      {"views", views},
  };
}

void WorkbenchState::applySession(const nlohmann::json& session) {
  // Restored into a fresh state and moved in only when everything is there.
  WorkbenchState restored;
  try {
    const std::string dir = session.value("evaluation", std::string());
    const std::string id = session.value("case", std::string());
    if (!dir.empty()) {
      if (!fs::is_directory(dir))
        throw IoError(dir + ": the session's evaluation folder is missing");
      restored.openEvaluation(dir);
    } else if (!id.empty()) {
      throw FormatError(fmt::format("session: case '{}' without an evaluation folder", id));
    }
    if (session.contains("layers")) {
      const auto& l = session["layers"];
      LayerSettings& s = restored.layers;
      s.show_reference = l.value("show_reference", s.show_reference);
      s.show_prediction_a = l.value("show_prediction_a", s.show_prediction_a);
      s.show_prediction_b = l.value("show_prediction_b", s.show_prediction_b);
      s.label_style =
          parseLabelStyle(l.value("label_style", std::string(labelStyleName(s.label_style))));
      s.label_opacity = l.value("label_opacity", s.label_opacity);
      s.overlay_model = l.value("overlay_model", s.overlay_model);
      s.overlay_gate = l.value("overlay_gate", s.overlay_gate);
      const std::string map = l.value("colormap", std::string(colormapName(s.colormap)));
      const auto parsed = parseColormapName(map);
      if (!parsed)
        throw FormatError(fmt::format("session: colormap '{}' is not one of {}", map,
                                      fmt::join(colormapNames(), ", ")));
      s.colormap = *parsed;
      s.opacity = l.value("opacity", s.opacity);
      s.threshold = l.value("threshold", s.threshold);
      s.native_gate = l.value("native_gate", s.native_gate);
      s.focus_label = l.value("focus_label", s.focus_label);
    }
    restored.browser_label = session.value("browser_label", restored.browser_label);
    restored.side_by_side = session.value("side_by_side", false);
    if (!id.empty()) {
      const auto ids = restored.caseRows();
      if (std::none_of(ids.begin(), ids.end(), [&](const CaseRow& row) { return row.id == id; }))
        throw UsageError(fmt::format("{}: the session's case '{}' is not in the report",
                                     (fs::path(dir) / "report.json").string(), id));
      restored.showCase(restored.readCase(id));
      if (session.contains("cursor")) restored.setCursor(session["cursor"].get<Vec3>());
      if (session.contains("window"))
        restored.window = {session["window"].at("center").get<double>(),
                           session["window"].at("width").get<double>()};
      if (session.contains("views"))
        for (size_t p = 0; p < restored.views_.size() && p < session["views"].size(); ++p) {
          const auto& v = session["views"][p];
          restored.views_[p] = {v.value("zoom", 1.0), v.value("pan_x", 0.0), v.value("pan_y", 0.0)};
        }
    }
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.type_error.302] type must be number, but is string": the part after "] ".
    const std::string what = e.what();
    throw FormatError(
        fmt::format("session: a value has the wrong type ({})", what.substr(what.find(']') + 2)));
  }
  // Views compare revisions: the restored state's must lie beyond every earlier one.
  restored.revision_ += revision_ + 1;
  *this = std::move(restored);
  seen_settings_ = pictureSettings();
}

void WorkbenchState::saveSession(const fs::path& file) const {
  writeFileAtomically(file, sessionJson().dump(2) + "\n");
}

void WorkbenchState::loadSession(const fs::path& file) {
  const nlohmann::json session = readJsonFile(file, "session");
  if (!session.is_object())
    throw FormatError(file.string() + ": not a gatescope session (a JSON object)");
  try {
    applySession(session);
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("{}: {}", file.string(), e.what()));
  }
}

// --- recent files ---

std::vector<std::string> recentFiles() {
  std::vector<std::string> files;
  std::error_code error;
  const fs::path path = recentFilesPath();
  if (!fs::is_regular_file(path, error)) return files;
  try {
    const nlohmann::json list = readJsonFile(path, "list of recent files");
    if (!list.is_array()) return files;
    for (const auto& entry : list)
      if (entry.is_string() && files.size() < kMaxRecentFiles)
        files.push_back(entry.get<std::string>());
  } catch (const Error&) {
    // Unreadable: the list starts empty.
  }
  return files;
}

void rememberRecentFile(const std::string& path) {
  std::string normal = fs::absolute(path).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == fs::path::preferred_separator) normal.pop_back();
  std::vector<std::string> files = recentFiles();
  files.erase(std::remove(files.begin(), files.end(), normal), files.end());
  files.insert(files.begin(), normal);
  if (files.size() > kMaxRecentFiles) files.resize(kMaxRecentFiles);
  try {
    const fs::path file = recentFilesPath();
    fs::create_directories(file.parent_path());
    writeFileAtomically(file, nlohmann::json(files).dump(2) + "\n");
  } catch (const std::exception&) {
    // Best effort: see the header.
  }
}

}  // namespace gatescope::workbench
