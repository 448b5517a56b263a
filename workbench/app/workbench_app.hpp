#pragma once

// The workbench's windows around a thin application loop: this class holds what the panels share
// (the state, the running task, textures, dialog inputs); each panel or dialog draws in a file of
// its own - workbench_app_<panel>.cpp: menu, dialogs, case_browser, views, view3d, inspector,
// gate_explorer, status_bar - with the widgets they share in workbench_widgets. Everything shown
// comes from WorkbenchState and the renderers; these files only lay out, draw and dispatch.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "renderers/rgba_image.hpp"
#include "renderers/slice_compositor.hpp"
#include "workbench/app/case_attribution.hpp"
#include "workbench/app/classification_session.hpp"
#include "workbench/app/image_inspection.hpp"
#include "workbench/app/path_completion.hpp"
#include "workbench/app/task.hpp"
#include "workbench/app/texture.hpp"
#include "workbench/app/workbench_state.hpp"

namespace gatescope {
class VolumeRenderer;
}

namespace gatescope::workbench {

struct StartupOptions {
  std::string evaluation;  // an evaluation folder to open
  std::string session;     // a session file to restore
  std::string case_id;     // the case to open (default: the saved case where A and B differ most)
  bool hover_tooltips = true;  // off for screenshots: wherever the pointer happens to rest
};

class WorkbenchApp {
 public:
  // `restore_context` makes the window's OpenGL context current again (VTK renders in its own).
  WorkbenchApp(const StartupOptions& startup, std::function<void()> restore_context);
  ~WorkbenchApp();

  // Draws one frame of every window into the current ImGui frame.
  void frame();
  // A task is running or a picture is still to come (screenshots wait for both).
  [[nodiscard]] bool busy() const;
  [[nodiscard]] bool quitRequested() const { return quit_; }
  // A screenshot asked for from the menu: the path, taken after this frame is drawn.
  [[nodiscard]] std::optional<std::string> takeScreenshotRequest();
  [[nodiscard]] WorkbenchState& state() { return state_; }

  // What a row click in the case browser does: reads the case in the background. UsageError for a
  // case the report lacks, one without saved predictions, or while a task runs.
  void selectCase(const std::string& id);
  // What File > Recent does: an evaluation folder, else a session file.
  void openPath(const std::string& path);
  // The layer settings of a "set" step (docs/workbench.md) and the side-by-side plane.
  void applySettings(const ViewSettings& settings);
  // What File > Inspect one image's Run does, with these fields.
  void inspect(const std::string& image, const std::string& reference,
               const std::vector<std::string>& models, const std::string& device);
  // A line in the status bar for a few seconds: where an export went.
  void confirm(const std::string& message);
  // The error dialog.
  void showError(const std::string& message);

 private:
  // What a picture was made from: the state's key and the size it was made at. It is made again
  // only when one of these changed (scrolling one view moves the others' crosshairs, not their
  // pictures).
  struct PictureInputs {
    PictureKey key;
    float width = 0, height = 0;
    double zoom = 0;
    friend bool operator==(const PictureInputs&, const PictureInputs&) = default;
  };
  struct SliceView {
    Texture texture;
    RgbaImage picture;
    SliceMapping mapping;
    std::optional<PictureInputs> inputs;
  };

  // The dialogs that ask for one path.
  enum class Dialog {
    None,
    OpenEvaluation,
    OpenSession,
    SaveSession,
    ExportView,
    ExportGates,
    ExportReport,
    Screenshot
  };
  struct PathDialog {
    const char* title;
    const char* text;
    std::string* path;
    PathKind kind;
    const std::vector<std::string>* extensions;
    std::function<void(const std::string&)> ok;
  };
  [[nodiscard]] PathDialog pathDialog(Dialog dialog);

  void drawMenu();
  void drawCaseBrowser(float x, float y, float w, float h);
  void drawViews(float x, float y, float w, float h);
  void drawSliceView(const char* id, SliceView& view, Plane plane, int model, bool difference,
                     float x, float y, float w, float h);
  void draw3dView(float x, float y, float w, float h);
  void drawInspector(float x, float y, float w, float h);
  void drawLayers();
  void drawAttribution();  // computes maps of the shown case on demand
  void drawCursor();
  void drawMetrics();
  void drawImageMetrics();
  void drawGateExplorer(float x, float y, float w, float h);
  void drawStatusBar(float x, float y, float w, float h);
  void drawDialogs();
  // An evaluation of classifiers (workbench_app_classification.cpp): opened in place of the
  // segmentation state, on `image` (default: the session's opening image).
  void openClassification(const std::string& dir, const std::string& image = {});
  void drawClassificationBrowser(float x, float y, float w, float h);
  void drawClassificationImage(float x, float y, float w, float h);
  void drawClassificationInspector(float x, float y, float w, float h);

  void openEvaluation(const std::string& dir, const std::string& case_id = {});
  void drawRunDialog();
  void startEvaluation();
  void drawImageDialog();
  void startImageInspection();
  // The shown case's models with their files (from the report, else the inspected image's
  // models), by index; empty when none is known.
  [[nodiscard]] std::vector<std::pair<int, std::filesystem::path>> caseModelFiles() const;
  void startAttribution();
  void openCase(const std::string& id);
  void openSession(const std::string& path);  // reads the session and its case in the background
  void finishTask();
  void exportFigure(const std::string& path, bool gates);
  void drawLegend();
  void drawHint(float x, float y, float w);
  void drawResumePrompt();

  WorkbenchState state_;
  std::function<void()> restore_context_;
  std::unique_ptr<Task> task_;
  std::shared_ptr<std::optional<SavedCase>> loading_;  // the case a task is reading
  WorkbenchState::CaseRequest loading_request_;        // ... for the evaluation open then
  bool select_finest_gate_ = false;  // the evaluation's opening case: show its finest gate
  std::string session_file_;         // the session a task is reading
  std::string evaluation_result_;    // the folder a finished evaluation task wrote
  std::shared_ptr<std::optional<ImageInspection>> inspecting_;  // one image the models run on
  std::shared_ptr<std::optional<WorkbenchState>> restoring_;    // a session being read
  // Attribution maps a task computes for the case shown at attributing_generation_.
  std::shared_ptr<std::optional<std::vector<CaseAttribution>>> attributing_;
  uint64_t attributing_generation_ = 0;
  std::vector<nlohmann::ordered_json> image_metrics_;  // per model, of the image shown (no report)
  std::string error_;
  std::string notice_;  // confirmed in the status bar
  double notice_time_ = 0;
  bool hint_open_ = true;  // the first screen's explanation of colours and panels
  bool quit_ = false;
  bool hover_tooltips_ = true;
  std::optional<std::string> screenshot_request_;

  SliceView views_[3];
  SliceView side_views_[3];  // A | B | difference of the active plane
  Plane active_plane_ = Plane::Axial;

  Texture view3d_;
  std::unique_ptr<VolumeRenderer> renderer3d_;
  std::optional<PictureInputs> inputs3d_;  // slice unused; width = size
  double azimuth_ = 0, elevation_ = 0, rendered_azimuth_ = 1e9, rendered_elevation_ = 1e9;
  std::string error3d_;

  std::vector<std::unique_ptr<Texture>> gate_textures_;
  std::optional<PictureInputs> gate_inputs_;
  std::vector<std::string> gate_tile_names_;  // what gate_textures_ show
  // Statistics of attribution maps made in the workbench: "generation|model|map|label" ->
  // (mass, contrast).
  std::map<std::string, std::pair<double, double>> live_statistics_;

  Texture plot_;
  std::string plot_key_, plot_error_;
  int plot_kind_ = 0;

  // Dialog inputs.
  // Paths start absolute (in the folder the workbench started in), so the dialogs show where.
  std::string open_path_, session_path_, export_path_, gate_export_path_, report_path_,
      screenshot_path_;
  std::string case_filter_;
  CaseSort sort_ = CaseSort::Id;
  bool sort_descending_ = false;
  Dialog open_dialog_ = Dialog::None;  // the path dialog to open this frame
  // The run dialog: models (manifest .json or TorchScript .pt), dataset, output folder, device.
  bool open_run_dialog_ = false;
  std::string run_model_a_, run_model_b_, run_dataset_, run_out_ = "gatescope-evaluation",
                                                        run_device_ = "auto";
  int run_limit_ = 0;
  bool run_resume_ = false;  // continue the evaluation already in the output folder
  bool open_resume_prompt_ = false;
  bool open_image_dialog_ = false;
  std::string image_path_, image_reference_;
  std::vector<std::filesystem::path> inspected_models_;  // the models of the image shown
  // Inspector > Attribution maps: which models (0 A, 1 B, 2 both), method, layers.
  int attribution_models_ = 2;
  int attribution_method_ = 0;
  std::string attribution_layers_;

  // An evaluation of classifiers, when one is open (its session is then the one shown).
  ClassificationSession classification_;
  int class_filter_ = 0;  // ClassifiedFilter
  int class_true_ = -1;   // the browser's true class (-1: every class)
  ClassifiedSort class_sort_ = ClassifiedSort::Id;
  bool class_sort_descending_ = false;
  std::vector<std::unique_ptr<Texture>> class_panels_;  // the image, then each model's gates
  std::vector<std::string> class_panel_titles_, class_panel_captions_;
  std::string class_panels_key_;  // what class_panels_ show
  Texture class_plot_;
  int class_plot_kind_ = 0;  // ClassificationPlotKind
  std::string class_plot_key_, class_plot_error_;
};

}  // namespace gatescope::workbench
