#include "workbench/app/workbench_app.hpp"

#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/evaluator.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "renderers/figures.hpp"
#include "renderers/plots.hpp"
#include "renderers/scene_recipes.hpp"
#include "workbench/app/workbench_widgets.hpp"
#if GATESCOPE_HAVE_VTK
#include "renderers/volume_view.hpp"
#endif

namespace gatescope::workbench {

namespace fs = std::filesystem;

namespace {

// The case browser's six columns need a little more room than the inspector's four.
constexpr float kBrowserWidth = 380.0f;
constexpr float kInspectorWidth = 315.0f;
constexpr float kStatusHeight = 26.0f;
constexpr float kGateStripHeight = 200.0f;

}  // namespace

WorkbenchApp::WorkbenchApp(const StartupOptions& startup, std::function<void()> restore_context)
    : restore_context_(std::move(restore_context)), hover_tooltips_(startup.hover_tooltips) {
  const fs::path here = fs::current_path();
  session_path_ = (here / "gatescope-session.json").string();
  export_path_ = (here / "gatescope-view.png").string();
  gate_export_path_ = (here / "gatescope-gates.png").string();
  report_path_ = (here / "gatescope-report.json").string();
  screenshot_path_ = (here / "gatescope-screenshot.png").string();
  run_out_ = (here / "gatescope-evaluation").string();
  open_path_ = here.string() + "/";
  hint_open_ =
      startup.hover_tooltips;  // scripted runs (screenshots, --play) show it only when asked
  try {
    if (!startup.session.empty()) {
      openSession(startup.session);
    } else if (!startup.evaluation.empty()) {
      openEvaluation(startup.evaluation, startup.case_id);
    }
  } catch (const std::exception& e) {
    showError(e.what());
  }
}

WorkbenchApp::~WorkbenchApp() = default;

bool WorkbenchApp::busy() const {
  return task_ && !task_->done();
}

std::optional<std::string> WorkbenchApp::takeScreenshotRequest() {
  auto request = std::move(screenshot_request_);
  screenshot_request_.reset();
  return request;
}

// Errors and confirmations also go to stderr: a log of what the user was told (and what scripted
// runs check).
void WorkbenchApp::showError(const std::string& message) {
  error_ = message;
  std::cerr << "gatescope-workbench: " << message << "\n";
}

void WorkbenchApp::confirm(const std::string& message) {
  std::cerr << "gatescope-workbench: " << message << "\n";
  notice_ = message;
  notice_time_ = ImGui::GetTime();
}

void WorkbenchApp::selectCase(const std::string& id) {
  if (classification_.isOpen()) {
    classification_.show(id);
    return;
  }
  if (busy()) throw UsageError(fmt::format("case '{}': wait for {} to finish", id, task_->title()));
  const auto rows = state_.caseRows();
  const auto row =
      std::find_if(rows.begin(), rows.end(), [&](const CaseRow& r) { return r.id == id; });
  if (row == rows.end())
    throw UsageError(fmt::format("case '{}' is not in the open evaluation", id));
  if (!row->has_predictions)
    throw UsageError(fmt::format("case '{}' has no saved predictions to show", id));
  openCase(id);
}

void WorkbenchApp::openPath(const std::string& path) {
  if (fs::is_directory(path))
    openEvaluation(path);
  else
    openSession(path);
}

void WorkbenchApp::inspect(const std::string& image, const std::string& reference,
                           const std::vector<std::string>& models, const std::string& device) {
  if (busy()) throw UsageError(fmt::format("{}: wait for {} to finish", image, task_->title()));
  image_path_ = image;
  image_reference_ = reference;
  run_model_a_ = models.empty() ? std::string() : models[0];
  run_model_b_ = models.size() > 1 ? models[1] : std::string();
  run_device_ = device;
  startImageInspection();
}

void WorkbenchApp::applySettings(const ViewSettings& settings) {
  state_.applySettings(settings);
  if (settings.plane) active_plane_ = *settings.plane;
}

void WorkbenchApp::openEvaluation(const std::string& dir, const std::string& case_id) {
  if (isClassificationEvaluation(dir)) {
    openClassification(dir, case_id);
    return;
  }
  state_.openEvaluation(dir);
  classification_ = ClassificationSession();
  rememberRecentFile(fs::absolute(dir).string());
  // The opening view (docs/workbench.md): the smallest label in focus, the finest gate of model A,
  // and without a case asked for, that label's case where A and B differ most.
  const WorkbenchState::OpeningChoice choice = state_.openingChoice();
  if (choice.label > 0) {
    state_.browser_label = choice.label;
    state_.layers.focus_label = choice.label;
  }
  const std::string id = case_id.empty() ? choice.case_id : case_id;
  if (!id.empty()) {
    openCase(id);
    select_finest_gate_ = true;
  }
}

void WorkbenchApp::openCase(const std::string& id) {
  if (busy()) return;
  auto result = std::make_shared<std::optional<SavedCase>>();
  loading_ = result;
  // The task gets its inputs by value and reads nothing of the state while the UI changes it.
  const WorkbenchState::CaseRequest request = state_.requestCase(id);
  loading_request_ = request;
  task_ =
      std::make_unique<Task>("open case " + id, [request, result](const Task::Reporter& reporter) {
        reporter.progress(-1.0, "reading the image, labels, probabilities and gate maps");
        *result = WorkbenchState::readCase(request);
      });
}

void WorkbenchApp::openSession(const std::string& path) {
  if (busy()) return;
  auto result = std::make_shared<std::optional<WorkbenchState>>();
  restoring_ = result;
  session_file_ = fs::absolute(path).string();
  task_ =
      std::make_unique<Task>("open session " + fs::path(path).filename().string(),
                             [path, result](const Task::Reporter& reporter) {
                               reporter.progress(-1.0, "reading the session's evaluation and case");
                               WorkbenchState restored;
                               restored.loadSession(path);
                               *result = std::move(restored);
                             });
}

void WorkbenchApp::finishTask() {
  if (!task_ || !task_->done()) return;
  const std::string finished = evaluation_result_;
  const bool failed = !task_->error().empty();
  if (failed && task_->cancelRequested()) {
    confirm(task_->title() + ": cancelled");
  } else if (failed) {
    showError(task_->title() + ": " + task_->error());
  } else if (loading_ && loading_->has_value()) {
    // A case read for another evaluation than the one now open is dropped, not shown under it.
    if (state_.showRequestedCase(loading_request_, std::move(**loading_))) {
      image_metrics_.clear();
      if (select_finest_gate_ && state_.layers.overlay_model >= 0) {
        const std::string gate = state_.finestGate(state_.layers.overlay_model);
        if (!gate.empty()) state_.layers.overlay_gate = gate;
      }
    }
    select_finest_gate_ = false;
  } else if (restoring_ && restoring_->has_value()) {
    state_ = std::move(**restoring_);
    classification_ = ClassificationSession();
    image_metrics_.clear();
    rememberRecentFile(session_file_);
  } else if (inspecting_ && inspecting_->has_value()) {
    image_metrics_ = std::move((*inspecting_)->metrics);
    state_.showImage(std::move((*inspecting_)->loaded));
    classification_ = ClassificationSession();
  } else if (attributing_ && attributing_->has_value()) {
    size_t added = 0;
    bool shown = true;
    for (auto& result : **attributing_) {
      added += result.maps.size();
      shown = state_.addAttributionMaps(attributing_generation_, result.model,
                                        std::move(result.maps)) &&
              shown;
    }
    if (shown)
      confirm(fmt::format("{}: {} map(s) added to the layers", task_->title(), added));
    else
      confirm(task_->title() + ": another case is shown now; maps dropped");
  }
  loading_.reset();
  inspecting_.reset();
  attributing_.reset();
  restoring_.reset();
  evaluation_result_.clear();
  task_.reset();
  if (!finished.empty() && !failed) {
    try {
      openEvaluation(finished);
    } catch (const std::exception& e) {
      showError(e.what());
    }
  }
}

void WorkbenchApp::startEvaluation() {
  if (busy()) return;
  EvaluationOptions options;
  for (const std::string& model : {run_model_a_, run_model_b_})
    if (!model.empty()) options.models.emplace_back(model);
  if (options.models.empty())
    throw UsageError("give model A (a manifest .json, TorchScript .pt or a folder of predictions)");
  if (run_dataset_.empty()) throw UsageError("give a dataset folder");
  options.dataset = run_dataset_;
  options.out = run_out_;
  options.device = run_device_;
  options.save_predictions = true;  // the viewer needs them
  options.resume = run_resume_;
  if (run_limit_ > 0) options.limit = static_cast<size_t>(run_limit_);
  if (!run_resume_ && fs::exists(fs::path(run_out_) / "journal.jsonl")) {
    open_resume_prompt_ =
        true;  // the folder holds an evaluation: ask, then run again from the prompt
    return;
  }
  if (!fs::is_directory(run_dataset_))
    throw UsageError(run_dataset_ + ": the dataset folder does not exist");
  evaluation_result_ = run_out_;
  task_ = std::make_unique<Task>("evaluate", [options](const Task::Reporter& reporter) mutable {
    options.cancel = reporter.cancelFlag();
    reporter.progress(-1.0, "loading the models");
    const EvaluationResult result =
        evaluate(options, pluginRegistry(), [&](const EvaluationProgress& p) {
          const double fraction =
              p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : -1.0;
          reporter.progress(fraction,
                            fmt::format("{}/{} {} {}", p.done, p.total, p.case_id, p.status));
        });
    if (result.cancelled) throw Error("cancelled");
  });
}

void WorkbenchApp::startImageInspection() {
  if (busy()) return;
  ImageInspectionRequest request;
  request.image = image_path_;
  request.reference = image_reference_;
  for (const std::string& model : {run_model_a_, run_model_b_})
    if (!model.empty()) request.models.emplace_back(model);
  request.device = run_device_;
  if (request.image.empty())
    throw UsageError("give an image (.nii, .nii.gz, .png, .nrrd, .mha, ...)");
  inspected_models_ = request.models;
  auto result = std::make_shared<std::optional<ImageInspection>>();
  inspecting_ = result;
  task_ = std::make_unique<Task>(
      "inspect " + request.image.filename().string(),
      [request, result](const Task::Reporter& reporter) {
        *result = inspectImage(request, pluginRegistry(),
                               [&](const std::string& line) { reporter.progress(-1.0, line); });
      });
}

std::vector<std::pair<int, fs::path>> WorkbenchApp::caseModelFiles() const {
  std::vector<std::pair<int, fs::path>> files;
  const SavedCase* c = state_.currentCase();
  if (!c) return files;
  if (state_.report()) {
    const auto& models = state_.report()->json()["models"];
    for (int m = 0; m < static_cast<int>(c->models.size()); ++m) {
      const char* key = m == 0 ? "A" : "B";
      if (models.contains(key) && models[key].contains("manifest"))
        files.emplace_back(
            m, locateModelFile(models[key]["manifest"].get<std::string>(), state_.evaluationDir()));
    }
  } else {
    for (size_t m = 0; m < inspected_models_.size() && m < c->models.size(); ++m)
      files.emplace_back(static_cast<int>(m), inspected_models_[m]);
  }
  return files;
}

void WorkbenchApp::startAttribution() {
  if (busy()) return;
  const SavedCase* c = state_.currentCase();
  if (!c) throw UsageError("no case open");
  CaseAttributionRequest request;
  for (const auto& entry : caseModelFiles())
    if (attribution_models_ == 2 || attribution_models_ == entry.first) {
      if (fs::is_directory(entry.second))
        throw UsageError(fmt::format(
            "model {} is a folder of predictions ({}): there is no network whose attribution "
            "could be computed",
            entry.first == 0 ? "A" : "B", entry.second.string()));
      request.models.push_back(entry);
    }
  if (request.models.empty())
    throw UsageError(
        "the model files of this case are not known (open an evaluation, or an image "
        "with its models)");
  request.method = static_cast<AttributionMethod>(attribution_method_);
  if (isLayerMethod(request.method) && !attribution_layers_.empty())
    request.layers = parseAttributionSpec("gradcam@" + attribution_layers_, "layers").layers;
  const int label =
      state_.layers.focus_label > 0 ? state_.layers.focus_label : state_.browser_label;
  if (label <= 0) throw UsageError("choose a label (Layers > labels) whose class to explain");
  request.target_class = label;
  request.image = c->volumes.image;
  request.device = run_device_;
  auto result = std::make_shared<std::optional<std::vector<CaseAttribution>>>();
  attributing_ = result;
  attributing_generation_ = state_.caseGeneration();
  task_ = std::make_unique<Task>(
      fmt::format("{} of class {}", attributionMethodName(request.method), label),
      [request, result](const Task::Reporter& reporter) mutable {
        request.cancel = reporter.cancelFlag();
        *result = attributeCase(
            request, pluginRegistry(),
            [&](double fraction, const std::string& line) { reporter.progress(fraction, line); });
      });
}

void WorkbenchApp::frame() {
  finishTask();
  // Escape cancels the running task when no dialog is open (a dialog takes Escape for itself).
  if (busy() && !ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId) &&
      ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
    task_->cancel();
  drawMenu();
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  const float top = viewport->WorkPos.y, left = viewport->WorkPos.x;
  const float width = viewport->WorkSize.x, height = viewport->WorkSize.y - kStatusHeight;
  // Side columns of 330 px, narrower on small windows so the views keep at least half the width.
  // Narrower on small windows so the views keep about half the width; what no longer fits scrolls.
  const float browser = std::min(kBrowserWidth, width * 0.3f),
              side = std::min(kInspectorWidth, width * 0.25f);
  const float centre_w = width - browser - side;
  if (classification_.isOpen()) {
    drawClassificationBrowser(left, top, browser, height);
    drawClassificationImage(left + browser, top, centre_w, height);
    drawClassificationInspector(left + width - side, top, side, height);
  } else {
    drawCaseBrowser(left, top, browser, height);
    drawViews(left + browser, top, centre_w, height - kGateStripHeight);
    drawGateExplorer(left + browser, top + height - kGateStripHeight, centre_w, kGateStripHeight);
    drawInspector(left + width - side, top, side, height);
  }
  drawStatusBar(left, top + height, width, kStatusHeight);
  drawDialogs();
  drawRunDialog();
  drawImageDialog();
  drawResumePrompt();
}

}  // namespace gatescope::workbench
