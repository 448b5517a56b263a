#pragma once

// The workbench's windows: the case browser, the linked slice views and the 3D view, the layers,
// cursor, metrics and gate explorer panels, background tasks and export. Everything it shows comes
// from WorkbenchState and the renderers; this file only lays out, draws and dispatches.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "renderers/rgba_image.hpp"
#include "renderers/slice_compositor.hpp"
#include "workbench/app/image_inspection.hpp"
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

 private:
  // What a picture was made from: it is made again only when one of these changed (scrolling one
  // view moves the others' crosshairs, not their pictures).
  struct PictureInputs {
    const SavedCase* case_ = nullptr;
    LayerSettings layers;
    WindowLevel window;
    int64_t slice = -1;
    float width = 0, height = 0;
    double zoom = 0;
    bool operator==(const PictureInputs& o) const {
      return case_ == o.case_ && layers == o.layers && window.center == o.window.center &&
             window.width == o.window.width && slice == o.slice && width == o.width && height == o.height &&
             zoom == o.zoom;
    }
  };
  struct SliceView {
    Texture texture;
    RgbaImage picture;
    SliceMapping mapping;
    std::optional<PictureInputs> inputs;
  };

  void drawMenu();
  void drawCaseBrowser(float x, float y, float w, float h);
  void drawViews(float x, float y, float w, float h);
  void drawSliceView(const char* id, SliceView& view, Plane plane, int model, bool difference, float x, float y,
                     float w, float h);
  void draw3dView(float x, float y, float w, float h);
  void drawInspector(float x, float y, float w, float h);
  void drawLayers();
  void drawCursor();
  void drawMetrics();
  void drawImageMetrics();
  void drawGateExplorer(float x, float y, float w, float h);
  void drawStatusBar(float x, float y, float w, float h);
  void drawDialogs();

  void openEvaluation(const std::string& dir, const std::string& case_id = {});
  void drawRunDialog();
  void startEvaluation();
  void drawImageDialog();
  void startImageInspection();
  void openCase(const std::string& id);
  void openSession(const std::string& path);  // reads the session and its case in the background
  void finishTask();
  void showError(const std::string& message);
  void exportFigure(const std::string& path, bool gates);

  WorkbenchState state_;
  std::function<void()> restore_context_;
  std::unique_ptr<Task> task_;
  std::shared_ptr<std::optional<SavedCase>> loading_;  // the case a task is reading
  std::string evaluation_result_;                      // the folder a finished evaluation task wrote
  std::shared_ptr<std::optional<ImageInspection>> inspecting_;  // one image the models run on
  std::shared_ptr<std::optional<WorkbenchState>> restoring_;    // a session being read
  std::vector<nlohmann::ordered_json> image_metrics_;  // per model, of the image shown (no report)
  std::string error_;
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
  Plane gate_plane_ = Plane::Axial;

  Texture plot_;
  std::string plot_key_, plot_error_;
  int plot_kind_ = 0;

  // Dialog inputs.
  std::string open_path_, session_path_ = "gatescope-session.json", export_path_ = "gatescope-view.png";
  std::string screenshot_path_ = "gatescope-screenshot.png";
  std::string case_filter_;
  CaseSort sort_ = CaseSort::Id;
  bool sort_descending_ = false;
  int open_dialog_ = 0;  // which path dialog to open this frame
  // The run dialog: models (manifest .json or TorchScript .pt), dataset, output folder, device.
  bool open_run_dialog_ = false;
  std::string run_model_a_, run_model_b_, run_dataset_, run_out_ = "gatescope-evaluation", run_device_ = "auto";
  int run_limit_ = 0;
  bool open_image_dialog_ = false;
  std::string image_path_, image_reference_;
};

}  // namespace gatescope::workbench
