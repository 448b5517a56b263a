#pragma once

// The workbench's state without a window: the session (an evaluation folder and its report), the
// case browser, the loaded case, the linked cursor and views, window/level, layer settings, and the
// slice scenes the views draw. Panels read and change it; they hold no domain logic, and tests
// drive it directly.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analysis/evaluation/report_model.hpp"
#include "analysis/evaluation/saved_case.hpp"
#include "renderers/colormap.hpp"
#include "renderers/figures.hpp"
#include "renderers/plot_axes.hpp"
#include "renderers/scene_recipes.hpp"
#include "renderers/slice_compositor.hpp"
#include "renderers/window_level.hpp"
#include "workbench/app/interaction_log.hpp"

namespace gatescope::workbench {

// Contour/fill colours of the label layers: the models' colours of every figure and plot.
inline constexpr std::array<Rgba, 2> kPredictionColors{{kModelAColor, kModelBColor}};

// What the attention overlay and the label layers show.
struct LayerSettings {
  bool show_reference = true;
  bool show_prediction_a = true;
  bool show_prediction_b = true;
  LabelStyle label_style = LabelStyle::Contour;
  double label_opacity = 1.0;
  int overlay_model = 0;              // 0: model A, 1: model B, -1: no attention overlay
  std::string overlay_gate = "mean";  // a gate name, "mean" (the mean of the model's gates), or
                                      // an attribution map ("gradcam@conv3 class 1")
  std::string overlay_gate_b;  // side by side: what model B's side shows (empty: overlay_gate)
  ColormapName colormap = ColormapName::Jet;
  double opacity = 0.5;
  double threshold = 0.1;    // coefficients below are transparent
  bool native_gate = false;  // a named gate at its own resolution (blocky) where saved;
                             // "mean" and gates without a native map stay resampled
  int focus_label = 0;       // 0: every label's contours; else only this label's
  friend bool operator==(const LayerSettings&, const LayerSettings&) = default;
};

// One row of the case browser: per-model Dice and HD95 of the browser's label, and A - B.
struct CaseRow {
  std::string id;
  std::string status;  // "ok", the error of a failed case, or "A: <error>" of a failed model
  bool has_predictions = false;  // saved predictions: the case can be opened in the viewer
  double dice_a = 0, dice_b = 0, hd95_a = 0, hd95_b = 0;  // NaN when missing; inf kept as is
  double dice_difference = 0;                             // dice_a - dice_b (NaN without B)
};
enum class CaseSort { Id, DiceA, DiceB, DiceDifference, Hd95A, Hd95B };

// Values under the cursor.
struct Probe {
  Vec3 voxel{};  // integer voxel indices (as doubles)
  Vec3 world{};  // mm, RAS
  double image = 0.0;
  int reference = 0;           // label, 0 without a reference
  std::vector<int> predicted;  // per model (0 for a model without a prediction)
  std::vector<std::pair<std::string, double>> gates;  // "A: gated / attentionblock2" -> coefficient
};

// Zoom and pan of one slice view (the picture scaled by zoom about its centre, then shifted).
struct ViewTransform {
  double zoom = 1.0;
  double pan_x = 0.0, pan_y = 0.0;  // picture pixels
  friend bool operator==(const ViewTransform&, const ViewTransform&) = default;
};

// Everything one picture shows, for the views' caches: the case and the evaluation it belongs to
// (generations: the same case read again, an inspected image or another evaluation are new data
// even where ids and sizes repeat), the case id, the plane and slice, the model or the difference,
// the layers and the window. A picture is made again exactly when its key changes.
struct PictureKey {
  uint64_t case_generation = 0;
  uint64_t evaluation_generation = 0;
  std::string case_id;
  Plane plane = Plane::Axial;
  int64_t slice = -1;  // -1: all slices (the 3D view)
  int model = -1;  // -1: the single view (the overlay of layers.overlay_model, both predictions)
  bool difference = false;
  bool side_by_side = false;
  LayerSettings layers;
  WindowLevel window;  // {} for the 3D view, which shows no image window
  friend bool operator==(const PictureKey&, const PictureKey&) = default;
};

class WorkbenchState {
 public:
  // --- session ---
  // Reads DIR/report.json and fills the case browser; Error naming the file when it is not a
  // report. Closes the loaded case; browser_label moves to the report's first label when it has no
  // such label.
  void openEvaluation(const std::filesystem::path& dir);
  [[nodiscard]] const std::filesystem::path& evaluationDir() const { return evaluation_dir_; }
  [[nodiscard]] const std::optional<ReportModel>& report() const { return report_; }
  [[nodiscard]] const std::map<int, std::string>& labelNames() const { return label_names_; }

  // --- case browser ---
  // Cases whose id contains `filter` (case-insensitive), sorted; NaN values sort last.
  [[nodiscard]] std::vector<CaseRow> caseRows(const std::string& filter = {},
                                              CaseSort sort = CaseSort::Id,
                                              bool descending = false) const;
  int browser_label = 1;  // the label whose Dice/HD95 the browser shows

  // --- the loaded case ---
  // Reads the case's volumes with probabilities (slow) ... UsageError without an evaluation, for an
  // unknown case or one without saved predictions.
  [[nodiscard]] SavedCase readCase(const std::string& id) const;
  // The same in the background: what a task needs, copied (the task never touches the state), and
  // the evaluation it belongs to. showRequestedCase shows the result only when that evaluation is
  // still the open one: a case that finishes after another evaluation was opened is dropped.
  struct CaseRequest {
    std::filesystem::path evaluation;
    std::string case_id;
    uint64_t evaluation_generation = 0;
  };
  [[nodiscard]] CaseRequest requestCase(const std::string& id) const;  // UsageError as readCase
  [[nodiscard]] static SavedCase readCase(const CaseRequest& request);
  bool showRequestedCase(const CaseRequest& request, SavedCase loaded);  // false: dropped
  // The saved case where models A and B differ most in the browser label's Dice (the one worth a
  // first look); empty without a saved case.
  [[nodiscard]] std::string mostDifferentCase() const;
  [[nodiscard]] std::string mostDifferentCase(int label) const;  // ... in `label`'s Dice
  // What an evaluation opens on (docs/workbench.md): the foreground label with the smallest mean
  // reference volume over the cases - the small structure attention gates are meant for (the
  // kidney of the demo) - and, for that label, the saved case where A and B differ most.
  // {0, ""} without a report; the label alone when no case was saved.
  struct OpeningChoice {
    int label = 0;
    std::string case_id;
  };
  [[nodiscard]] OpeningChoice openingChoice() const;
  // The gate of `model` with the finest native grid (the most voxels; in the published networks the
  // gate on the highest-resolution skip connection); empty when the shown case has no native gate
  // maps of that model.
  [[nodiscard]] std::string finestGate(int model) const;
  // ... and shows them: the cursor goes to the focus label's centre (else the middle), the window
  // to the image's preset (CT or MR), views reset. Keeps layer settings.
  void showCase(SavedCase loaded);
  // A case that belongs to no evaluation (one image the models ran on in the workbench): closes
  // the open evaluation, takes the case's own label names, and shows it as showCase does.
  void showImage(SavedCase loaded);
  [[nodiscard]] const SavedCase* currentCase() const { return case_ ? &*case_ : nullptr; }
  // Maps computed for the case shown at `case_generation` join model `model`'s attribution maps
  // (a map of the same name is replaced); pictures redraw. False, and nothing changes, when
  // another case is shown now or the case has no such model.
  bool addAttributionMaps(uint64_t case_generation, int model,
                          std::vector<std::pair<std::string, Volume<float>>> maps);
  [[nodiscard]] std::string currentCaseId() const {
    return case_ ? case_->volumes.id : std::string();
  }
  // Unique over the program's run: every shown case or image, and every opened evaluation or
  // restored session, takes a new number (0: none yet).
  [[nodiscard]] uint64_t caseGeneration() const { return case_generation_; }
  [[nodiscard]] uint64_t evaluationGeneration() const { return evaluation_generation_; }

  // The key of the slice picture of `plane` for `model` (-1: the single view) or of the
  // difference view; of the 3D view of `model` with volumeKey.
  [[nodiscard]] PictureKey pictureKey(Plane plane, int model = -1, bool difference = false) const;
  [[nodiscard]] PictureKey volumeKey(int model) const;

  // --- cursor and views (linked: one cursor, each plane shows the slice through it) ---
  [[nodiscard]] Vec3 cursor() const { return cursor_; }
  // The cursor does not move without a case.
  void setCursor(const Vec3& voxel);  // clamped to the grid, rounded
  // A click at (x, y) in the pixels of sliceScene(plane)'s picture (the panel undoes zoom and pan):
  // the cursor moves in the plane and keeps its slice.
  void setCursorFromPicture(Plane plane, double x, double y);
  // Moves the cursor `delta` voxels along the plane's normal voxel axis (+: growing index),
  // clamped.
  void scroll(Plane plane, int delta);
  // The cursor's index along the plane's normal axis.
  [[nodiscard]] int64_t slice(Plane plane) const;
  [[nodiscard]] ViewTransform& view(Plane plane) { return views_[static_cast<int>(plane)]; }
  [[nodiscard]] Probe probe() const;  // an empty Probe without a case
  // The same at any voxel (rounded and clamped to the grid): what lies under the mouse.
  [[nodiscard]] Probe probeAt(const Vec3& voxel) const;

  // --- window/level ---
  WindowLevel window{40.0, 400.0};
  // UsageError for an unknown preset or without a case.
  void applyWindowPreset(const std::string& name);
  // Drag: right/left widens/narrows the window, down/up lowers/raises the level, in proportion to
  // the image's range (a drag of kWindowDragPixels spans it). Nothing happens without a case.
  void dragWindow(double dx_pixels, double dy_pixels);
  static constexpr double kWindowDragPixels = 500.0;

  // --- layers and scenes ---
  LayerSettings layers;
  // The scene a slice view composites at the cursor's slice: the image through the window, the
  // attention overlay, and the reference (kReferenceColor) and prediction (kPredictionColors)
  // layers the show flags ask for, of layers.focus_label only when set. Single view: the overlay of
  // layers.overlay_model, both models' predictions; side by side: `model`'s overlay (none when
  // overlay_model is -1) and prediction only. Pointers into this state: valid until the case or
  // layers change. UsageError without a case.
  [[nodiscard]] SliceScene sliceScene(Plane plane, int model = 0) const;
  // The attention volume `model`'s overlay shows, after layers.overlay_gate: "mean" (the model's
  // only gate when it has one), a gate, or with native_gate that gate's native map brought to the
  // image grid by nearest sampling (NaN outside the gate's grid); nullptr when the model has no
  // such gate. Computed volumes are cached until the case or these settings change.
  [[nodiscard]] const Volume<float>* overlayVolume(int model) const;
  // The maps `model` can show: "mean" first when it has several gates, its gates, then its
  // attribution maps.
  [[nodiscard]] std::vector<std::string> gateNames(int model) const;
  // The map `model`'s side shows: overlay_gate, or side by side overlay_gate_b for model B.
  [[nodiscard]] const std::string& shownMap(int model) const;
  // The overlay's look from the layer settings (the gate explorer draws every gate with it).
  [[nodiscard]] AttentionLook attentionLook(bool native = false) const;
  [[nodiscard]] bool hasNativeGate(int model, const std::string& gate) const;
  bool side_by_side = false;  // A | B | difference
  // What a "set" step asks for (docs/workbench.md): the settings given change, the others stay.
  // attention_of is "A", "B", a model's name or "none"; UsageError naming a model the case lacks,
  // a model without gates or an unknown gate, with nothing changed.
  void applySettings(const ViewSettings& settings);
  // File > Export view as figure: the three planes at the cursor with the layers as shown, the
  // overlay's colour bar and a legend of the layers shown. Export gate panel: every gate of the
  // overlay model (model A when none) at the cursor's slices. UsageError without a case.
  [[nodiscard]] PanelGrid viewFigure() const;
  [[nodiscard]] PanelGrid gatePanelFigure() const;
  // The 3D view of `model`'s overlay gate: the recipe's request from the layer settings (gate null
  // when the model has no overlay to show).
  [[nodiscard]] GateVolumeRequest volumeRequest(int model) const;
  // Why `model` has no "attention of" entry: "baseline has no attention gates", or empty.
  [[nodiscard]] std::string whyNoAttention(int model) const;

  // The side-by-side difference view: the image, differenceVolume() on the diverging map over
  // [-1, 1] and the reference layer. UsageError without a case.
  [[nodiscard]] SliceScene differenceScene(Plane plane) const;
  // As the comparison figure (probabilityDifference, predictionDisagreement): P(focus label) of
  // A - B (the foreground's for label 0), NaN where they agree within 0.05; without probabilities
  // for that label +1 where only A predicts it, -1 where only B does. nullptr without two models.
  // Cached until the case or focus label change.
  [[nodiscard]] const Volume<float>* differenceVolume() const;
  [[nodiscard]] std::string differenceDescription() const;  // "P(liver): A - B", for the colour bar

  // Bumped on every change that alters any picture (case, cursor, window, layers, view transforms,
  // side_by_side): views redraw only when it moved. Changes to public fields are seen here, by
  // comparison with the values at the last call.
  [[nodiscard]] uint64_t revision() const;

  // --- session file ---
  // The evaluation folder (absolute), case, cursor, window, layers, browser_label, side_by_side and
  // view transforms.
  [[nodiscard]] nlohmann::json sessionJson() const;
  // Restores what sessionJson() holds (reading the case: slow); Error naming what is missing (the
  // folder, the case) or malformed. All or nothing: on an error the state is unchanged.
  void applySession(const nlohmann::json& session);
  void saveSession(const std::filesystem::path& file) const;  // atomically
  // As applySession; FormatError naming the file when it is not a JSON object.
  void loadSession(const std::filesystem::path& file);

 private:
  [[nodiscard]] std::vector<CaseRow> caseRowsOf(int label, const std::string& filter = {},
                                                CaseSort sort = CaseSort::Id,
                                                bool descending = false) const;
  // The public settings that alter pictures, as revision() last saw them.
  struct PictureSettings {
    LayerSettings layers;
    WindowLevel window;
    std::array<ViewTransform, 3> views;
    bool side_by_side = false;
  };
  // A volume computed for the overlay or the difference view, and what it was computed from.
  struct CachedVolume {
    uint64_t case_generation = 0;
    std::string gate;
    bool native = false;
    int label = 0;
    Volume<float> volume;
  };

  void changed() const { ++revision_; }
  // The image through the window at the plane's current slice: what every scene starts from.
  [[nodiscard]] SliceScene imageScene(Plane plane) const;
  [[nodiscard]] const SavedCase& requireCase() const;
  [[nodiscard]] PictureSettings pictureSettings() const;
  [[nodiscard]] FigureStyle figureStyle() const;  // the figures' style from the layers
  [[nodiscard]] std::vector<SliceChoice> cursorSlices() const;  // the three planes at the cursor
  // Both models have probabilities with a channel for the focus label.
  [[nodiscard]] bool differenceFromProbabilities() const;

  std::filesystem::path evaluation_dir_;
  std::optional<ReportModel> report_;
  std::map<int, std::string> label_names_;
  std::set<std::string> cases_with_predictions_;
  std::optional<SavedCase> case_;
  uint64_t case_generation_ = 0;  // which loaded case the caches belong to (ids repeat on reload)
  uint64_t evaluation_generation_ = 0;
  double image_range_ = 1.0;  // finite max - min of the image, for dragWindow
  Vec3 cursor_{};
  std::array<ViewTransform, 3> views_{};
  mutable std::array<std::optional<CachedVolume>, 2> overlay_cache_;  // per model
  mutable std::optional<CachedVolume> difference_cache_;
  mutable uint64_t revision_ = 0;
  mutable PictureSettings seen_settings_;
};

// Recently opened evaluation folders and sessions, newest first, at most 10, in
// ($XDG_CONFIG_HOME or ~/.config)/gatescope/recent.json. A missing or corrupt file reads as empty;
// remembering is best effort (an unwritable config folder must not stop the workbench).
[[nodiscard]] std::vector<std::string> recentFiles();
void rememberRecentFile(const std::string& path);  // as an absolute path, moved to the front

}  // namespace gatescope::workbench
