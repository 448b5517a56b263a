#include "workbench/app/workbench_app.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/evaluator.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "analysis/io/file_util.hpp"
#include "renderers/figures.hpp"
#include "renderers/plots.hpp"
#include "renderers/scene_recipes.hpp"
#include "workbench/app/file_browser.hpp"
#if GATESCOPE_HAVE_VTK
#include "renderers/volume_view.hpp"
#endif

namespace gatescope::workbench {

namespace fs = std::filesystem;

namespace {

// The case browser's six columns need a little more room than the inspector's four.
constexpr float kBrowserWidth = 380.0f;
constexpr float kInspectorWidth = 315.0f;
// Room left for a field's label on the right of a combo or slider in a side panel.
constexpr float kFieldLabelWidth = 96.0f;
constexpr float kStatusHeight = 26.0f;
constexpr float kGateStripHeight = 200.0f;
// No keyboard navigation in the panels: Tab toggles A | B | difference and must never move the
// keyboard focus into a panel's text field (the case filter).
constexpr ImGuiWindowFlags kPanelFlags = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                         ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoNavInputs;
constexpr double kNoticeSeconds = 8.0;

ImVec4 toImVec4(Rgba c) { return ImVec4(c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, c.a / 255.0f); }
ImU32 toImU32(Rgba c) { return IM_COL32(c.r, c.g, c.b, c.a); }
// A model's colour for text on the dark theme: its contour colour.
ImVec4 modelTextColor(int model) { return toImVec4(kPredictionColors[static_cast<size_t>(std::clamp(model, 0, 1))]); }

// A colour swatch the height of a text line, then its text, on the current line.
void legendItem(Rgba color, const std::string& text, bool line) {
  const float h = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  if (line)
    draw->AddRectFilled(ImVec2(p.x, p.y + h / 2 - 1.5f), ImVec2(p.x + 16, p.y + h / 2 + 1.5f), toImU32(color));
  else
    draw->AddRectFilled(ImVec2(p.x, p.y + 2), ImVec2(p.x + 16, p.y + h - 2), toImU32(color));
  ImGui::Dummy(ImVec2(20, h));
  ImGui::SameLine(0, 2);
  ImGui::TextUnformatted(text.c_str());
}

// A horizontal colour bar of `map` over [lo, hi] with its end values, `width` pixels wide.
void colorBar(ColormapName map, double lo, double hi, float width, const std::string& title) {
  const float h = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const Colormap& colors = colormap(map);
  constexpr int kSteps = 32;
  for (int i = 0; i < kSteps; ++i) {
    const double v = lo + (hi - lo) * (i + 0.5) / kSteps;
    const float x0 = p.x + width * i / kSteps, x1 = p.x + width * (i + 1) / kSteps;
    draw->AddRectFilled(ImVec2(x0, p.y + 2), ImVec2(x1 + 0.5f, p.y + h - 2), toImU32(mapColor(colors, v, lo, hi)));
  }
  ImGui::Dummy(ImVec2(width, h));
  ImGui::SameLine();
  ImGui::Text("%s: %s to %s", title.c_str(), fmt::format("{:g}", lo).c_str(), fmt::format("{:g}", hi).c_str());
}

std::string number(double value, const char* format = "{:.3f}") {
  if (std::isnan(value)) return "-";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format(fmt::runtime(format), value);
}

// A report number ("nan"/"inf" strings included); NaN when missing.
double reportValue(const nlohmann::ordered_json& value) { return reportNumber(value).value_or(std::nan("")); }

const char* kPlaneTitles[3] = {"axial", "coronal", "sagittal"};

// A modal form: a line of text, text fields, whatever `extra` adds, and Run / Cancel. Run calls
// `run`; its error goes to `fail`.
// Escape closes the open modal, as its Cancel button does.
void closeOnEscape() {
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) ImGui::CloseCurrentPopup();
}

// One field of a form: a path (completed, with a browser) or, with `text`, any text.
struct FormField {
  const char* label;
  std::string* value;
  PathKind kind = PathKind::OpenFile;
  std::vector<std::string> extensions = {};
  bool text = false;
};
const std::vector<std::string> kModelFiles{".json", ".pt"};
const std::vector<std::string> kImageFiles{".nii", ".nii.gz", ".png"};

void drawForm(const char* title, bool& open, const char* text, const std::vector<FormField>& fields,
              const std::function<void()>& extra,
              const std::function<void()>& run, const std::function<void(const std::string&)>& fail) {
  if (open) {
    ImGui::OpenPopup(title);
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    open = false;
  }
  if (!ImGui::BeginPopupModal(title, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  ImGui::TextDisabled("%s", text);
  for (const FormField& field : fields) {
    if (field.text) {
      ImGui::SetNextItemWidth(420);
      ImGui::InputText(field.label, field.value);
    } else {
      (void)pathField(field.label, *field.value, field.kind, field.extensions);
    }
  }
  if (extra) extra();
  if (ImGui::Button("Run")) {
    try {
      run();
    } catch (const std::exception& e) {
      fail(e.what());
    }
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
  closeOnEscape();
  ImGui::EndPopup();
}

// Compact tables that fit a side panel: tight cell padding, a horizontal scroll bar where a narrow
// window still cuts them.
constexpr ImGuiTableFlags kPanelTableFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                             ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX;

// A table as tall as its rows (ScrollX needs an outer size).
// A combo or slider as wide as the panel leaves room for its label.
float fieldWidth() { return std::max(80.0f, ImGui::GetContentRegionAvail().x - kFieldLabelWidth); }

bool beginPanelTable(const char* id, int columns, int rows) {
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(3, 1));
  const float height = (rows + 1) * ImGui::GetTextLineHeightWithSpacing() + ImGui::GetStyle().ScrollbarSize + 4;
  const bool open = ImGui::BeginTable(id, columns, kPanelTableFlags, ImVec2(0, height));
  ImGui::PopStyleVar();
  return open;
}

// Dice, HD95, ASSD, precision and recall per label for one or two models, and A - B: a row with the
// label's name, then its metrics, so no row is wider than a side panel. `per_model` holds each
// model's {label: {metric: value}} as reports write them.
void drawCaseMetricTable(const char* id, const char* first_column, const std::vector<std::string>& titles,
                         const std::vector<nlohmann::ordered_json>& per_model, const std::map<int, std::string>& names) {
  if (per_model.empty()) return;
  const bool two = per_model.size() > 1;
  static constexpr std::pair<const char*, const char*> kMetrics[] = {
      {"dice", "Dice"}, {"hd95_mm", "HD95 mm"}, {"assd_mm", "ASSD mm"}, {"precision", "precision"}, {"recall", "recall"}};
  // Every label any model has values for (a model that failed on the case has none).
  std::vector<std::string> labels;
  for (const auto& model : per_model)
    for (const auto& [label, _] : model.items())
      if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
  const int rows = static_cast<int>(labels.size()) * 6;
  if (!beginPanelTable(id, two ? 4 : 2, rows)) return;
  ImGui::TableSetupScrollFreeze(1, 1);
  ImGui::TableSetupColumn(first_column);
  for (size_t m = 0; m < per_model.size() && m < 2; ++m) ImGui::TableSetupColumn(titles[m].c_str());
  if (two) ImGui::TableSetupColumn("A-B");
  ImGui::TableHeadersRow();
  for (const std::string& label : labels) {
    const int value = std::stoi(label);
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextColored(ImVec4(0.9f, 0.85f, 0.5f, 1), "%s", names.count(value) ? names.at(value).c_str() : label.c_str());
    for (const auto& [metric, title] : kMetrics) {
      auto valueOf = [&](size_t m) {
        const auto& labels = per_model[m];
        if (!labels.contains(label) || !labels[label].contains(metric)) return std::nan("");
        return reportValue(labels[label][metric]);
      };
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("  %s", title);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(valueOf(0)).c_str());
      if (two) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(number(valueOf(1)).c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(number(valueOf(0) - valueOf(1), "{:+.3f}").c_str());
      }
    }
  }
  ImGui::EndTable();
}

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
  hint_open_ = startup.hover_tooltips;  // scripted runs (screenshots, --play) show it only when asked
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

bool WorkbenchApp::busy() const { return task_ && !task_->done(); }

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
  if (busy()) throw UsageError(fmt::format("case '{}': wait for {} to finish", id, task_->title()));
  const auto rows = state_.caseRows();
  const auto row = std::find_if(rows.begin(), rows.end(), [&](const CaseRow& r) { return r.id == id; });
  if (row == rows.end()) throw UsageError(fmt::format("case '{}' is not in the open evaluation", id));
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
  state_.openEvaluation(dir);
  rememberRecentFile(fs::absolute(dir).string());
  const std::string id = case_id.empty() ? state_.mostDifferentCase() : case_id;
  if (!id.empty()) openCase(id);
}

void WorkbenchApp::openCase(const std::string& id) {
  if (busy()) return;
  auto result = std::make_shared<std::optional<SavedCase>>();
  loading_ = result;
  // The task gets its inputs by value and reads nothing of the state while the UI changes it.
  const WorkbenchState::CaseRequest request = state_.requestCase(id);
  loading_request_ = request;
  task_ = std::make_unique<Task>("open case " + id, [request, result](const Task::Reporter& reporter) {
    reporter.progress(-1.0, "reading the image, labels, probabilities and gate maps");
    *result = WorkbenchState::readCase(request);
  });
}

void WorkbenchApp::openSession(const std::string& path) {
  if (busy()) return;
  auto result = std::make_shared<std::optional<WorkbenchState>>();
  restoring_ = result;
  session_file_ = fs::absolute(path).string();
  task_ = std::make_unique<Task>("open session " + fs::path(path).filename().string(),
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
    if (state_.showRequestedCase(loading_request_, std::move(**loading_))) image_metrics_.clear();
  } else if (restoring_ && restoring_->has_value()) {
    state_ = std::move(**restoring_);
    image_metrics_.clear();
    rememberRecentFile(session_file_);
  } else if (inspecting_ && inspecting_->has_value()) {
    image_metrics_ = std::move((*inspecting_)->metrics);
    state_.showImage(std::move((*inspecting_)->loaded));
  }
  loading_.reset();
  inspecting_.reset();
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
  if (options.models.empty()) throw UsageError("give model A (a manifest .json or TorchScript .pt)");
  if (run_dataset_.empty()) throw UsageError("give a dataset folder");
  options.dataset = run_dataset_;
  options.out = run_out_;
  options.device = run_device_;
  options.save_predictions = true;  // the viewer needs them
  options.resume = run_resume_;
  if (run_limit_ > 0) options.limit = static_cast<size_t>(run_limit_);
  if (!run_resume_ && fs::exists(fs::path(run_out_) / "journal.jsonl")) {
    open_resume_prompt_ = true;  // the folder holds an evaluation: ask, then run again from the prompt
    return;
  }
  if (!fs::is_directory(run_dataset_)) throw UsageError(run_dataset_ + ": the dataset folder does not exist");
  evaluation_result_ = run_out_;
  task_ = std::make_unique<Task>("evaluate", [options](const Task::Reporter& reporter) mutable {
    options.cancel = reporter.cancelFlag();
    reporter.progress(-1.0, "loading the models");
    const EvaluationResult result = evaluate(options, pluginRegistry(), [&](const EvaluationProgress& p) {
      const double fraction = p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : -1.0;
      reporter.progress(fraction, fmt::format("{}/{} {} {}", p.done, p.total, p.case_id, p.status));
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
  if (request.image.empty()) throw UsageError("give an image (.nii, .nii.gz or .png)");
  auto result = std::make_shared<std::optional<ImageInspection>>();
  inspecting_ = result;
  task_ = std::make_unique<Task>("inspect " + request.image.filename().string(),
                                 [request, result](const Task::Reporter& reporter) {
                                   *result = inspectImage(request, pluginRegistry(), [&](const std::string& line) {
                                     reporter.progress(-1.0, line);
                                   });
                                 });
}

void WorkbenchApp::drawImageDialog() {
  drawForm("Inspect one image", open_image_dialog_,
           "Runs the model(s) on one image in the background; with a reference, measures them.",
           {{"image", &image_path_, PathKind::OpenFile, kImageFiles},
            {"reference label (optional)", &image_reference_, PathKind::OpenFile, kImageFiles},
            {"model A (manifest .json or TorchScript .pt)", &run_model_a_, PathKind::OpenFile, kModelFiles},
            {"model B (optional)", &run_model_b_, PathKind::OpenFile, kModelFiles},
            {"device (auto, cpu, cuda, cuda:N)", &run_device_, PathKind::OpenFile, {}, true}},
           {}, [this] { startImageInspection(); }, [this](const std::string& e) { showError(e); });
}

void WorkbenchApp::drawRunDialog() {
  drawForm("Run an evaluation", open_run_dialog_, "Runs gatescope evaluate in the background and opens the result.",
           {{"model A (gated; manifest .json or TorchScript .pt)", &run_model_a_, PathKind::OpenFile, kModelFiles},
            {"model B (optional)", &run_model_b_, PathKind::OpenFile, kModelFiles},
            {"dataset folder", &run_dataset_, PathKind::Folder},
            {"output folder", &run_out_, PathKind::SaveFile},
            {"device (auto, cpu, cuda, cuda:N)", &run_device_, PathKind::OpenFile, {}, true}},
           [this] {
             ImGui::SetNextItemWidth(120);
             ImGui::InputInt("first N cases (0: all)", &run_limit_);
             run_limit_ = std::max(0, run_limit_);
             ImGui::Checkbox("resume the evaluation already in the output folder", &run_resume_);
           },
           [this] { startEvaluation(); }, [this](const std::string& e) { showError(e); });
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
  const float browser = std::min(kBrowserWidth, width * 0.3f), side = std::min(kInspectorWidth, width * 0.25f);
  drawCaseBrowser(left, top, browser, height);
  const float centre_w = width - browser - side;
  drawViews(left + browser, top, centre_w, height - kGateStripHeight);
  drawGateExplorer(left + browser, top + height - kGateStripHeight, centre_w, kGateStripHeight);
  drawInspector(left + width - side, top, side, height);
  drawStatusBar(left, top + height, width, kStatusHeight);
  drawDialogs();
  drawRunDialog();
  drawImageDialog();
  drawResumePrompt();
}

void WorkbenchApp::drawResumePrompt() {
  if (open_resume_prompt_) {
    ImGui::OpenPopup("Output folder in use");
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    open_resume_prompt_ = false;
  }
  if (!ImGui::BeginPopupModal("Output folder in use", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  ImGui::Text("%s already holds an evaluation.", run_out_.c_str());
  ImGui::TextDisabled("Resume runs only the cases it has not finished (same models, dataset and settings).");
  if (ImGui::Button("Resume it")) {
    run_resume_ = true;
    try {
      startEvaluation();
    } catch (const std::exception& e) {
      showError(e.what());
    }
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Choose another folder")) {
    open_run_dialog_ = true;
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
  closeOnEscape();
  ImGui::EndPopup();
}

// --- menu and dialogs --------------------------------------------------------------------------

void WorkbenchApp::drawMenu() {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open evaluation folder...")) open_dialog_ = 1;
    if (ImGui::MenuItem("Run an evaluation...", nullptr, false, !busy())) open_run_dialog_ = true;
    if (ImGui::MenuItem("Inspect one image...", nullptr, false, !busy())) open_image_dialog_ = true;
    if (ImGui::MenuItem("Open session...")) open_dialog_ = 2;
    if (ImGui::MenuItem("Save session...", nullptr, false, state_.report().has_value())) open_dialog_ = 3;
    if (ImGui::BeginMenu("Recent")) {
      const auto recent = recentFiles();
      if (recent.empty()) ImGui::MenuItem("(none)", nullptr, false, false);
      for (const auto& path : recent)
        if (ImGui::MenuItem(path.c_str())) {
          try {
            if (fs::is_directory(path))
              openEvaluation(path);
            else
              openSession(path);
          } catch (const std::exception& e) {
            showError(e.what());
          }
        }
      ImGui::EndMenu();
    }
    ImGui::Separator();
    const bool has_case = state_.currentCase() != nullptr;
    if (ImGui::MenuItem("Export view as figure...", nullptr, false, has_case)) open_dialog_ = 4;
    if (ImGui::MenuItem("Export gate panel as figure...", nullptr, false, has_case)) open_dialog_ = 5;
    if (ImGui::MenuItem("Export report JSON...", nullptr, false, state_.report().has_value())) open_dialog_ = 6;
    if (ImGui::MenuItem("Screenshot...")) open_dialog_ = 7;
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) quit_ = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    ImGui::MenuItem("A | B | difference", "Tab", &state_.side_by_side);
    if (ImGui::BeginMenu("Window preset")) {
      for (const auto& preset : windowPresets())
        if (ImGui::MenuItem(preset.name.c_str(), nullptr, false, state_.currentCase() != nullptr)) {
          try {
            state_.applyWindowPreset(preset.name);
          } catch (const std::exception& e) {
            showError(e.what());
          }
        }
      ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Reset zoom and pan"))
      for (int p = 0; p < 3; ++p) state_.view(static_cast<Plane>(p)) = {};
    ImGui::EndMenu();
  }
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Tab)) && !ImGui::GetIO().WantTextInput)
    state_.side_by_side = !state_.side_by_side;
  ImGui::EndMainMenuBar();
}

void WorkbenchApp::drawDialogs() {
  static const char* titles[] = {"", "Open evaluation folder", "Open session", "Save session", "Export view",
                                 "Export gate panel", "Export report", "Screenshot"};
  if (open_dialog_ > 0) {
    ImGui::OpenPopup(titles[open_dialog_]);
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  }
  for (int d = 1; d <= 7; ++d) {
    if (!ImGui::BeginPopupModal(titles[d], nullptr, ImGuiWindowFlags_AlwaysAutoResize)) continue;
    std::string* path = d == 1 ? &open_path_
                        : d == 2 || d == 3 ? &session_path_
                        : d == 4 ? &export_path_
                        : d == 5 ? &gate_export_path_
                        : d == 6 ? &report_path_
                                 : &screenshot_path_;
    static const std::vector<std::string> kSession{".json"}, kFigure{".png", ".pdf", ".svg"}, kPng{".png"};
    const PathKind kind = d == 1 ? PathKind::Folder : d == 2 ? PathKind::OpenFile : PathKind::SaveFile;
    const std::vector<std::string>& extensions = d == 4 || d == 5 ? kFigure : d == 7 ? kPng : kSession;
    ImGui::TextUnformatted(d == 1   ? "The folder gatescope evaluate wrote (report.json, predictions/):"
                           : d == 2 ? "A session file (File > Save session):"
                           : d == 4 || d == 5 ? "Write the figure to (.png, .pdf or .svg):"
                                              : "Write to:");
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    bool enter = pathField("##dialogpath", *path, kind, extensions, 556);
    enter = fileBrowser("browser", *path, kind, extensions) || enter;
    if (ImGui::Button("OK") || enter) {
      // A folder picked in the browser ends in "/": the path without it.
      if (path->size() > 1 && path->back() == '/') path->pop_back();
      try {
        switch (d) {
          case 1: openEvaluation(*path); break;
          case 2: openSession(*path); break;
          case 3:
            state_.saveSession(*path);
            rememberRecentFile(fs::absolute(*path).string());
            confirm("session saved to " + fs::absolute(*path).string());
            break;
          case 4:
          case 5:
            exportFigure(*path, d == 5);
            confirm("figure written to " + fs::absolute(*path).string());
            break;
          case 6:
            writeFileAtomically(*path, state_.report()->json().dump(2) + "\n");
            confirm("report written to " + fs::absolute(*path).string());
            break;
          case 7: screenshot_request_ = *path; break;
        }
      } catch (const std::exception& e) {
        showError(e.what());
      }
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
    closeOnEscape();
    ImGui::EndPopup();
  }
  open_dialog_ = 0;

  if (!error_.empty()) ImGui::OpenPopup("Error");
  ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (ImGui::BeginPopupModal("Error", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::PushTextWrapPos(520);
    ImGui::TextUnformatted(error_.c_str());
    ImGui::PopTextWrapPos();
    if (ImGui::Button("OK") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      error_.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

void WorkbenchApp::exportFigure(const std::string& path, bool gates) {
  (void)figureFormatOf(path);  // an unknown extension fails before anything is drawn
  drawPanelGrid(gates ? state_.gatePanelFigure() : state_.viewFigure()).write(path, 200.0);
}

// --- case browser ------------------------------------------------------------------------------

void WorkbenchApp::drawCaseBrowser(float x, float y, float w, float h) {
  ImGui::SetNextWindowPos(ImVec2(x, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::Begin("Session and cases", nullptr, kPanelFlags);
  if (!state_.report()) {
    if (const SavedCase* c = state_.currentCase()) {
      ImGui::Text("image %s (no evaluation)", c->volumes.id.c_str());
      for (const auto& model : c->models)
        ImGui::TextDisabled("  %s, %zu gates", model.name.c_str(), model.gates.size());
      ImGui::Separator();
    }
    ImGui::TextWrapped("File > Open evaluation folder... (the output of gatescope evaluate --save-predictions, or "
                       "of gatescope demo: build/demo/evaluation), File > Run an evaluation..., or File > Inspect one "
                       "image...");
    ImGui::End();
    return;
  }
  const auto& report = *state_.report();
  // The folder's path, cut from the left where the panel is narrower (all of it in the tooltip).
  const std::string dir = state_.evaluationDir().string();
  std::string shown = dir;
  while (shown.size() > 8 && ImGui::CalcTextSize(shown.c_str()).x > ImGui::GetContentRegionAvail().x)
    shown = "..." + shown.substr(std::min(shown.size(), size_t{4}));
  ImGui::TextDisabled("%s", shown.c_str());
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", dir.c_str());
  for (const ReportModel::Model& m : report.models()) {
    ImGui::TextColored(modelTextColor(m.key == "A" ? 0 : 1), "%s: %s", m.key.c_str(), m.name.c_str());
    ImGui::TextDisabled("  %s, %zu gates, %s", m.architecture.c_str(), m.gates.size(), m.device.c_str());
  }
  const auto& names = state_.labelNames();
  const std::string current = names.count(state_.browser_label) ? names.at(state_.browser_label) : std::to_string(state_.browser_label);
  ImGui::SetNextItemWidth(150);
  if (ImGui::BeginCombo("label", current.c_str())) {
    for (const auto& [value, name] : names)
      if (value > 0 && ImGui::Selectable(name.c_str(), value == state_.browser_label)) state_.browser_label = value;
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##filter", "filter cases", &case_filter_);

  constexpr ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                    ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX;
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(3, 2));
  const bool table = ImGui::BeginTable("cases", 6, flags, ImVec2(0, ImGui::GetContentRegionAvail().y));
  ImGui::PopStyleVar();
  if (table) {
    ImGui::TableSetupScrollFreeze(1, 1);  // the case column stays when the table scrolls sideways
    ImGui::TableSetupColumn("case", ImGuiTableColumnFlags_DefaultSort, 0, 0);
    ImGui::TableSetupColumn("Dice A", 0, 0, 1);
    ImGui::TableSetupColumn("Dice B", 0, 0, 2);
    ImGui::TableSetupColumn("A-B", 0, 0, 3);
    ImGui::TableSetupColumn("HD95 A", 0, 0, 4);
    ImGui::TableSetupColumn("HD95 B", 0, 0, 5);
    ImGui::TableHeadersRow();
    if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsCount > 0) {
      static constexpr CaseSort kSorts[] = {CaseSort::Id, CaseSort::DiceA, CaseSort::DiceB, CaseSort::DiceDifference,
                                            CaseSort::Hd95A, CaseSort::Hd95B};
      sort_ = kSorts[specs->Specs[0].ColumnUserID];
      sort_descending_ = specs->Specs[0].SortDirection == ImGuiSortDirection_Descending;
    }
    const std::string current_case = state_.currentCaseId();
    const std::vector<CaseRow> rows = state_.caseRows(case_filter_, sort_, sort_descending_);
    if (rows.empty()) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextDisabled("no case matches '%s'", case_filter_.c_str());
    }
    for (const CaseRow& row : rows) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (!row.has_predictions) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
      if (ImGui::Selectable(row.id.c_str(), row.id == current_case, ImGuiSelectableFlags_SpanAllColumns) &&
          row.has_predictions && row.id != current_case)
        openCase(row.id);
      if (!row.has_predictions) {
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("%s", row.status != "ok" ? row.status.c_str()
                                                     : "no saved predictions: File > Run an evaluation... saves every case's");
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.dice_a).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.dice_b).c_str());
      ImGui::TableNextColumn();
      const double d = row.dice_difference;
      // In the colour of the better model.
      ImGui::TextColored(std::isnan(d) || d == 0 ? ImVec4(0.8f, 0.8f, 0.8f, 1) : modelTextColor(d > 0 ? 0 : 1), "%s",
                         number(d, "{:+.3f}").c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.hd95_a, "{:.1f}").c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.hd95_b, "{:.1f}").c_str());
    }
    ImGui::EndTable();
  }
  ImGui::End();
}

// --- views -------------------------------------------------------------------------------------

void WorkbenchApp::drawViews(float x, float y, float w, float h) {
  ImGui::SetNextWindowPos(ImVec2(x, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::Begin("Views", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  if (!state_.currentCase()) {
    ImGui::TextDisabled(busy() ? "loading ..." : "Select a case with saved predictions in the case browser.");
    ImGui::End();
    return;
  }
  drawLegend();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (state_.side_by_side) {
    ImGui::SetNextItemWidth(120);
    int plane = static_cast<int>(active_plane_);
    if (ImGui::Combo("plane", &plane, kPlaneTitles, 3)) active_plane_ = static_cast<Plane>(plane);
    const float top = ImGui::GetCursorScreenPos().y, height = origin.y + avail.y - top;
    const float column = avail.x / 3.0f;
    const bool has_b = state_.currentCase()->models.size() > 1;
    drawSliceView("##A", side_views_[0], active_plane_, 0, false, origin.x, top, column - 2, height);
    if (has_b) {
      drawSliceView("##B", side_views_[1], active_plane_, 1, false, origin.x + column, top, column - 2, height);
      drawSliceView("##diff", side_views_[2], active_plane_, 0, true, origin.x + 2 * column, top, column - 2, height);
    }
  } else {
    const float cw = avail.x / 2.0f, ch = avail.y / 2.0f;
    drawSliceView("##axial", views_[0], Plane::Axial, -1, false, origin.x, origin.y, cw - 2, ch - 2);
    drawSliceView("##coronal", views_[1], Plane::Coronal, -1, false, origin.x + cw, origin.y, cw - 2, ch - 2);
    drawSliceView("##sagittal", views_[2], Plane::Sagittal, -1, false, origin.x, origin.y + ch, cw - 2, ch - 2);
    draw3dView(origin.x + cw, origin.y + ch, cw - 2, ch - 2);
  }
  if (hint_open_) drawHint(origin.x, origin.y + avail.y, avail.x);
  ImGui::End();
}

// What the colours mean, above the views: the contours' owners and the overlay's colour bar (the
// difference map's in A | B | difference).
void WorkbenchApp::drawLegend() {
  const SavedCase* c = state_.currentCase();
  const LayerSettings& l = state_.layers;
  bool first = true;
  // On the same line while the next entry (`width` pixels) fits, else on a new one.
  const auto next = [&first](float width = 0) {
    if (!first) {
      const float right = ImGui::GetItemRectMax().x + 14;
      if (right + width < ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x) ImGui::SameLine(0, 14);
    }
    first = false;
  };
  const auto itemWidth = [](const std::string& text) { return 22 + ImGui::CalcTextSize(text.c_str()).x; };
  const bool fills = l.label_style == LabelStyle::Fill;
  if (l.show_reference && c->volumes.reference) next(itemWidth("reference")), legendItem(kReferenceColor, "reference", !fills);
  for (size_t m = 0; m < c->models.size() && m < kPredictionColors.size(); ++m)
    if ((m == 0 ? l.show_prediction_a : l.show_prediction_b) && c->models[m].prediction)
      next(itemWidth(c->models[m].name)), legendItem(kPredictionColors[m], c->models[m].name, !fills);
  constexpr float kBar = 90;
  if (state_.side_by_side && c->models.size() > 1) {
    const std::string title = state_.differenceDescription();
    next(kBar + itemWidth(title + ": -1 to 1"));
    colorBar(ColormapName::Diverging, -1.0, 1.0, kBar, title);
  } else if (l.overlay_model >= 0 && state_.overlayVolume(l.overlay_model)) {
    next(kBar + itemWidth("attention: 0 to 1"));
    colorBar(l.colormap, 0.0, 1.0, kBar, "attention");
  }
}

// The first screen's explanation, at the bottom of the views until closed.
void WorkbenchApp::drawHint(float x, float y, float w) {
  const float h = 4 * ImGui::GetTextLineHeightWithSpacing() + 10;
  ImGui::SetCursorScreenPos(ImVec2(x, y - h));
  ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.08f, 0.09f, 0.12f, 0.92f));
  ImGui::BeginChild("##hint", ImVec2(w, h), true, ImGuiWindowFlags_NoScrollbar);
  ImGui::TextWrapped(
      "Contours: yellow the reference, magenta model A's prediction, blue model B's. The colours on the image are "
      "the attention coefficients of the gate chosen under Layers (0: the gate suppresses the region, 1: it passes "
      "it). Left: cases with Dice and HD95 per model. Right: layers, the values under the cursor and the metrics. "
      "Below: every gate of the model. Tab: A | B | difference.");
  if (ImGui::SmallButton("got it")) hint_open_ = false;
  ImGui::EndChild();
  ImGui::PopStyleColor();
}

void WorkbenchApp::drawSliceView(const char* id, SliceView& view, Plane plane, int model, bool difference, float x,
                                 float y, float w, float h) {
  const SavedCase* c = state_.currentCase();
  ImGui::SetCursorScreenPos(ImVec2(x, y));
  ImGui::BeginChild(id, ImVec2(w, h), true, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  const int shown_model = model < 0 ? std::max(0, state_.layers.overlay_model) : model;
  const std::string model_name = shown_model < static_cast<int>(c->models.size()) ? c->models[static_cast<size_t>(shown_model)].name : "";
  const SliceFrame frame = sliceFrame(c->volumes.image.geometry(), plane);
  ImGui::Text("%s %lld/%lld  %s", kPlaneTitles[static_cast<int>(plane)], static_cast<long long>(state_.slice(plane)),
              static_cast<long long>(frame.slices - 1), difference ? "P(A) - P(B)" : model_name.c_str());
  const ImVec2 area_pos = ImGui::GetCursorScreenPos();
  const ImVec2 area = ImGui::GetContentRegionAvail();
  if (area.x < 16 || area.y < 16) {
    ImGui::EndChild();
    return;
  }
  ViewTransform& transform = state_.view(plane);
  // Composite at the size shown: the slice fitted into the view, times the zoom.
  const double fit_mm = std::max(frame.columns * frame.spacing_x / area.x, frame.rows * frame.spacing_y / area.y);
  const double pixel_mm = std::max(fit_mm / transform.zoom, std::min(frame.spacing_x, frame.spacing_y) / 8.0);
  const PictureInputs inputs{state_.pictureKey(plane, model, difference), area.x, area.y, transform.zoom};
  if (!view.inputs || !(*view.inputs == inputs)) {
    try {
      SliceScene scene = difference ? state_.differenceScene(plane) : state_.sliceScene(plane, shown_model);
      scene.pixel_mm = pixel_mm;
      view.mapping = sliceMapping(c->volumes.image.geometry(), plane, scene.slice, pixel_mm);
      composeSlice(scene, view.picture);
      view.texture.upload(view.picture);
    } catch (const std::exception& e) {
      showError(e.what());
    }
    view.inputs = inputs;
  }
  // The picture centred in the view, shifted by the pan.
  const ImVec2 size(static_cast<float>(view.picture.width), static_cast<float>(view.picture.height));
  const ImVec2 p0(area_pos.x + (area.x - size.x) / 2.0f + static_cast<float>(transform.pan_x),
                  area_pos.y + (area.y - size.y) / 2.0f + static_cast<float>(transform.pan_y));
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->PushClipRect(area_pos, ImVec2(area_pos.x + area.x, area_pos.y + area.y), true);
  draw->AddImage(view.texture.id(), p0, ImVec2(p0.x + size.x, p0.y + size.y));
  // Crosshair through the cursor, with a gap around it.
  const auto [cx, cy] = view.mapping.pictureAt(state_.cursor());
  const ImVec2 centre(p0.x + static_cast<float>(cx), p0.y + static_cast<float>(cy));
  const ImU32 line = IM_COL32(80, 255, 120, 150);
  draw->AddLine(ImVec2(area_pos.x, centre.y), ImVec2(centre.x - 6, centre.y), line);
  draw->AddLine(ImVec2(centre.x + 6, centre.y), ImVec2(area_pos.x + area.x, centre.y), line);
  draw->AddLine(ImVec2(centre.x, area_pos.y), ImVec2(centre.x, centre.y - 6), line);
  draw->AddLine(ImVec2(centre.x, centre.y + 6), ImVec2(centre.x, area_pos.y + area.y), line);
  draw->PopClipRect();

  // Mouse: left sets the cursor, wheel scrolls slices (Ctrl: zoom), middle pans, right drags the window.
  ImGui::SetCursorScreenPos(area_pos);
  ImGui::InvisibleButton("##canvas", area, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight |
                                               ImGuiButtonFlags_MouseButtonMiddle);
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left))
    state_.setCursor(view.mapping.voxelAt(io.MousePos.x - p0.x, io.MousePos.y - p0.y));
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Middle))
    transform.pan_x += io.MouseDelta.x, transform.pan_y += io.MouseDelta.y;
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Right))
    state_.dragWindow(io.MouseDelta.x, io.MouseDelta.y);
  if (ImGui::IsItemHovered() && io.MouseWheel != 0.0f) {
    if (io.KeyCtrl)
      transform.zoom = std::clamp(transform.zoom * (io.MouseWheel > 0 ? 1.15 : 1.0 / 1.15), 0.25, 16.0);
    else
      state_.scroll(plane, io.MouseWheel > 0 ? 1 : -1);
  }
  if (hover_tooltips_ && ImGui::IsItemHovered() && !ImGui::IsItemActive()) {
    // What lies under the mouse, without moving the cursor.
    const Probe p = state_.probeAt(view.mapping.voxelAt(io.MousePos.x - p0.x, io.MousePos.y - p0.y));
    ImGui::BeginTooltip();
    ImGui::Text("(%.0f, %.0f, %.0f)  image %.1f  reference %d", p.voxel[0], p.voxel[1], p.voxel[2], p.image, p.reference);
    for (size_t m = 0; m < p.predicted.size() && m < c->models.size(); ++m)
      ImGui::Text("%s: label %d", c->models[m].name.c_str(), p.predicted[m]);
    for (const auto& [gate, value] : p.gates) ImGui::Text("%s %.3f", gate.c_str(), value);
    ImGui::EndTooltip();
  }
  if (ImGui::IsItemHovered()) {
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) state_.scroll(plane, 1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) state_.scroll(plane, -1);
  }
  ImGui::EndChild();
}

void WorkbenchApp::draw3dView(float x, float y, float w, float h) {
  ImGui::SetCursorScreenPos(ImVec2(x, y));
  ImGui::BeginChild("##3d", ImVec2(w, h), true, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  const SavedCase* c = state_.currentCase();
  const int model = std::max(0, state_.layers.overlay_model);
  ImGui::Text("3D  %s", model < static_cast<int>(c->models.size()) ? c->models[static_cast<size_t>(model)].name.c_str() : "");
  const ImVec2 pos = ImGui::GetCursorScreenPos(), area = ImGui::GetContentRegionAvail();
  const int size = static_cast<int>(std::min(area.x, area.y));
#if GATESCOPE_HAVE_VTK
  const GateVolumeRequest request = state_.volumeRequest(model);
  const Volume<float>* gate = request.gate;
  // Rendering under software OpenGL takes ~0.1 s: only when the scene or camera changed.
  const PictureInputs inputs{state_.volumeKey(model), static_cast<float>(size), 0, 0};
  if (size >= 32 && gate && error3d_.empty() &&
      (!inputs3d_ || !(*inputs3d_ == inputs) || rendered_azimuth_ != azimuth_ || rendered_elevation_ != elevation_)) {
    try {
      if (!renderer3d_) renderer3d_ = std::make_unique<VolumeRenderer>();
      // The 3D recipe `gatescope render 3d` uses, with the layers' settings.
      VolumeScene scene = gateVolumeScene(request);
      scene.camera = CameraPreset::Oblique;
      scene.azimuth_deg = azimuth_;
      scene.elevation_deg = elevation_;
      scene.width = scene.height = size;
      const RgbaImage picture = renderer3d_->render(scene);
      restore_context_();  // VTK leaves its own context current: upload into ours
      view3d_.upload(picture);
    } catch (const std::exception& e) {
      restore_context_();
      error3d_ = e.what();
    }
    inputs3d_ = inputs, rendered_azimuth_ = azimuth_, rendered_elevation_ = elevation_;
  }
  if (!error3d_.empty()) ImGui::TextWrapped("3D view unavailable: %s", error3d_.c_str());
  if (!view3d_.empty()) {
    const float s = static_cast<float>(view3d_.width());
    const ImVec2 p0(pos.x + (area.x - s) / 2, pos.y + (area.y - s) / 2);
    ImGui::GetWindowDrawList()->AddImage(view3d_.id(), p0, ImVec2(p0.x + s, p0.y + s));
  }
  ImGui::SetCursorScreenPos(pos);
  ImGui::InvisibleButton("##3dcanvas", ImVec2(std::max(area.x, 1.0f), std::max(area.y, 1.0f)));
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    azimuth_ -= ImGui::GetIO().MouseDelta.x * 0.5;
    elevation_ = std::clamp(elevation_ + ImGui::GetIO().MouseDelta.y * 0.5, -89.0, 89.0);
  }
#else
  (void)pos, (void)size;
  ImGui::TextDisabled("built without VTK: no 3D view");
#endif
  ImGui::EndChild();
}

// --- inspector: layers, cursor, metrics --------------------------------------------------------

void WorkbenchApp::drawInspector(float x, float y, float w, float h) {
  ImGui::SetNextWindowPos(ImVec2(x, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::Begin("Inspector", nullptr, kPanelFlags | ImGuiWindowFlags_HorizontalScrollbar);
  if (!state_.currentCase()) {
    ImGui::TextDisabled("no case open");
    ImGui::End();
    return;
  }
  if (ImGui::CollapsingHeader("Layers", ImGuiTreeNodeFlags_DefaultOpen)) drawLayers();
  if (ImGui::CollapsingHeader("Cursor", ImGuiTreeNodeFlags_DefaultOpen)) drawCursor();
  if (ImGui::CollapsingHeader("Metrics", ImGuiTreeNodeFlags_DefaultOpen)) drawMetrics();
  ImGui::End();
}

void WorkbenchApp::drawLayers() {
  LayerSettings& l = state_.layers;
  const SavedCase* c = state_.currentCase();
  ImGui::Checkbox("reference", &l.show_reference);
  ImGui::SameLine();
  ImGui::Checkbox("A", &l.show_prediction_a);
  if (c->models.size() > 1) {
    ImGui::SameLine();
    ImGui::Checkbox("B", &l.show_prediction_b);
  }
  int style = l.label_style == LabelStyle::Contour ? 0 : 1;
  ImGui::SetNextItemWidth(fieldWidth());
  if (ImGui::Combo("drawn as", &style, "contours\0fills (translucent)\0"))
    l.label_style = style == 0 ? LabelStyle::Contour : LabelStyle::Fill;
  const auto& names = state_.labelNames();
  const std::string focus = l.focus_label == 0 ? "every label" : names.count(l.focus_label) ? names.at(l.focus_label) : std::to_string(l.focus_label);
  ImGui::SetNextItemWidth(fieldWidth());
  if (ImGui::BeginCombo("labels", focus.c_str())) {
    if (ImGui::Selectable("every label", l.focus_label == 0)) l.focus_label = 0;
    for (const auto& [value, name] : names)
      if (value > 0 && ImGui::Selectable(name.c_str(), value == l.focus_label)) l.focus_label = value;
    ImGui::EndCombo();
  }
  ImGui::Separator();
  std::string overlay = l.overlay_model < 0 ? "none" : l.overlay_model < static_cast<int>(c->models.size()) ? c->models[static_cast<size_t>(l.overlay_model)].name : "none";
  ImGui::SetNextItemWidth(fieldWidth());
  if (ImGui::BeginCombo("attention of", overlay.c_str())) {
    if (ImGui::Selectable("none", l.overlay_model < 0)) l.overlay_model = -1;
    for (size_t m = 0; m < c->models.size(); ++m) {
      const std::string why = state_.whyNoAttention(static_cast<int>(m));
      if (why.empty()) {
        if (ImGui::Selectable(c->models[m].name.c_str(), l.overlay_model == static_cast<int>(m)))
          l.overlay_model = static_cast<int>(m);
        continue;
      }
      // Listed, greyed, with the reason: a user looking for the baseline's map learns why there is none.
      ImGui::Selectable(fmt::format("{} (no gates)", c->models[m].name).c_str(), false, ImGuiSelectableFlags_Disabled);
      ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + 260);
      ImGui::TextDisabled("%s", why.c_str());
      ImGui::PopTextWrapPos();
    }
    ImGui::EndCombo();
  }
  if (l.overlay_model >= 0) {
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::BeginCombo("gate", l.overlay_gate.c_str())) {
      for (const auto& gate : state_.gateNames(l.overlay_model))
        if (ImGui::Selectable(gate.c_str(), gate == l.overlay_gate)) l.overlay_gate = gate;
      ImGui::EndCombo();
    }
    const std::string map = colormapName(l.colormap);
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::BeginCombo("colour map", map.c_str())) {
      for (const auto& name : colormapNames())
        if (ImGui::Selectable(name.c_str(), name == map)) l.colormap = *parseColormapName(name);
      ImGui::EndCombo();
    }
    float opacity = static_cast<float>(l.opacity), threshold = static_cast<float>(l.threshold);
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::SliderFloat("opacity", &opacity, 0.0f, 1.0f, "%.2f")) l.opacity = opacity;
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::SliderFloat("threshold", &threshold, 0.0f, 1.0f, "%.2f")) l.threshold = threshold;
    ImGui::Checkbox("native resolution", &l.native_gate);
  }
  ImGui::Separator();
  float level = static_cast<float>(state_.window.center), width = static_cast<float>(state_.window.width);
  const float half = std::max(60.0f, (ImGui::GetContentRegionAvail().x - 90) / 2);
  ImGui::SetNextItemWidth(half);
  if (ImGui::DragFloat("level", &level, 1.0f)) state_.window.center = level;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(half);
  if (ImGui::DragFloat("width", &width, 1.0f, 1.0f, 1e6f)) state_.window.width = std::max(1.0f, width);
}

void WorkbenchApp::drawCursor() {
  const Probe p = state_.probe();
  ImGui::Text("voxel (%.0f, %.0f, %.0f)", p.voxel[0], p.voxel[1], p.voxel[2]);
  ImGui::Text("world (%.1f, %.1f, %.1f) mm", p.world[0], p.world[1], p.world[2]);
  const auto& names = state_.labelNames();
  auto labelText = [&](int label) { return names.count(label) ? names.at(label) : std::to_string(label); };
  ImGui::Text("image %.1f", p.image);
  ImGui::Text("reference: %s", labelText(p.reference).c_str());
  const SavedCase* c = state_.currentCase();
  for (size_t m = 0; m < p.predicted.size() && m < c->models.size(); ++m)
    ImGui::Text("%s predicts %s", c->models[m].name.c_str(), labelText(p.predicted[m]).c_str());
  // Gate coefficients in a table: the value column never falls off the panel's edge.
  if (p.gates.empty() || !beginPanelTable("##gates", 2, static_cast<int>(p.gates.size()))) return;
  ImGui::TableSetupColumn("gate");
  ImGui::TableSetupColumn("coefficient");
  ImGui::TableHeadersRow();
  for (const auto& [gate, value] : p.gates) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    // "A: gated / attentionblock2" as "A attentionblock2": the model's letter is enough here.
    const size_t slash = gate.find(" / ");
    ImGui::Text("%c %s", gate[0], slash == std::string::npos ? gate.c_str() : gate.c_str() + slash + 3);
    ImGui::TableNextColumn();
    ImGui::Text("%.3f", value);
  }
  ImGui::EndTable();
}

void WorkbenchApp::drawMetrics() {
  if (!state_.report()) {
    drawImageMetrics();
    return;
  }
  const ReportModel& report = *state_.report();
  const nlohmann::ordered_json* entry = report.caseRecord(state_.currentCaseId());
  if (!entry) return;
  const bool two = report.hasModel("B");
  const auto& names = state_.labelNames();
  // Each model's values where it ran on this case (a failed model's column shows "-").
  std::vector<nlohmann::ordered_json> per_model;
  for (const ReportModel::Model& m : report.models()) {
    const nlohmann::ordered_json* result = ReportModel::modelResult(*entry, m.key);
    per_model.push_back(result ? result->value("labels", nlohmann::ordered_json::object())
                               : nlohmann::ordered_json::object());
  }
  drawCaseMetricTable("case metrics", "this case", {"A", "B"}, per_model, names);
  const nlohmann::ordered_json* comparison = report.comparison();
  if (!two || !comparison) return;
  ImGui::Spacing();
  ImGui::TextDisabled("dataset, paired over %zu cases (Wilcoxon)", report.caseCount());
  if (beginPanelTable("##comparison", 4, static_cast<int>(comparison->size()))) {
    ImGui::TableSetupColumn("label");
    ImGui::TableSetupColumn("Dice A-B");
    ImGui::TableSetupColumn("p");
    ImGui::TableSetupColumn("better");
    ImGui::TableHeadersRow();
    for (const auto& [label, metrics] : comparison->items()) {
      if (!metrics.contains("dice")) continue;
      const auto& d = metrics["dice"];
      const int value = std::stoi(label);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(names.count(value) ? names.at(value).c_str() : label.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(reportValue(d.value("mean_difference", nlohmann::ordered_json(0))), "{:+.3f}").c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(reportValue(d.value("wilcoxon_p", nlohmann::ordered_json("nan"))), "{:.3f}").c_str());
      ImGui::TableNextColumn();
      const std::string better = d.value("better", "-");
      if (better == "A" || better == "B")
        ImGui::TextColored(modelTextColor(better == "A" ? 0 : 1), "%s", better.c_str());
      else
        ImGui::TextUnformatted(better.c_str());
    }
    ImGui::EndTable();
  }
  // A plot of the dataset for the browser's label, drawn by the renderers.
  static const char* kPlots[] = {"paired Dice", "paired HD95", "Bland-Altman volumes", "attention mass per gate"};
  ImGui::SetNextItemWidth(200);
  ImGui::Combo("plot", &plot_kind_, kPlots, 4);
  const std::string key = fmt::format("{}:{}:{}", state_.evaluationGeneration(), state_.browser_label, plot_kind_);
  if (plot_key_ != key) {
    plot_key_ = key;
    try {
      static const ReportPlotRequest kRequests[] = {{ReportPlotKind::Paired, "", "dice"},
                                                    {ReportPlotKind::Paired, "", "hd95_mm"},
                                                    {ReportPlotKind::BlandAltman},
                                                    {ReportPlotKind::Attention}};
      ReportPlotRequest request = kRequests[std::clamp(plot_kind_, 0, 3)];
      request.label = std::to_string(state_.browser_label);
      plot_.upload(drawReportPlot(report, request).rasterize(86.0));
      plot_error_.clear();
    } catch (const std::exception& e) {
      plot_error_ = e.what();  // e.g. a report without model B or without gates
    }
  }
  if (!plot_error_.empty()) ImGui::TextWrapped("%s", plot_error_.c_str());
  if (!plot_.empty() && plot_error_.empty()) {
    const float w = ImGui::GetContentRegionAvail().x;
    ImGui::Image(plot_.id(), ImVec2(w, w * plot_.height() / plot_.width()));
  }
}

void WorkbenchApp::drawImageMetrics() {
  const SavedCase* c = state_.currentCase();
  if (image_metrics_.empty()) {
    ImGui::TextDisabled("no reference label: nothing to measure");
    return;
  }
  std::vector<std::string> titles;
  for (const auto& model : c->models) titles.push_back(model.name);
  drawCaseMetricTable("image metrics", "this image", titles, image_metrics_, state_.labelNames());
}

// --- gate explorer -----------------------------------------------------------------------------

void WorkbenchApp::drawGateExplorer(float x, float y, float w, float h) {
  ImGui::SetNextWindowPos(ImVec2(x, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  const SavedCase* c = state_.currentCase();
  const int model = std::max(0, state_.layers.overlay_model);
  const Plane plane = state_.side_by_side ? active_plane_ : Plane::Axial;
  const bool has_model = c && model < static_cast<int>(c->models.size());
  // The title says whose gates at which slice ("###" keeps the window's identity).
  const std::string title =
      has_model ? fmt::format("Gate explorer: {}, {} slice###gates", c->models[static_cast<size_t>(model)].name,
                              kPlaneTitles[static_cast<int>(plane)])
                : std::string("Gate explorer###gates");
  ImGui::Begin(title.c_str(), nullptr, kPanelFlags | ImGuiWindowFlags_HorizontalScrollbar);
  if (!c || model >= static_cast<int>(c->models.size()) || c->models[static_cast<size_t>(model)].gates.empty()) {
    const std::string why = has_model ? state_.whyNoAttention(model) : std::string();
    ImGui::TextDisabled("%s", why.empty() ? "no gates to show" : why.c_str());
    ImGui::End();
    return;
  }
  const ModelOutputs& outputs = c->models[static_cast<size_t>(model)];
  // A line saying what the numbers are, then per gate its picture, name, mass and contrast.
  const int label_value = state_.layers.focus_label > 0 ? state_.layers.focus_label : state_.browser_label;
  const std::string label_name =
      state_.labelNames().count(label_value) ? state_.labelNames().at(label_value) : std::to_string(label_value);
  ImGui::TextDisabled("mass: attention share in the %s reference; contrast: mean in / out", label_name.c_str());
  const float tile = std::max(32.0f, ImGui::GetContentRegionAvail().y - 2.2f * ImGui::GetTextLineHeightWithSpacing() -
                                         ImGui::GetStyle().ScrollbarSize);
  const PictureInputs inputs{state_.pictureKey(plane, model), tile, 0, 0};
  if (!gate_inputs_ || !(*gate_inputs_ == inputs) || gate_textures_.size() != outputs.gates.size()) {
    gate_textures_.resize(outputs.gates.size());
    const SliceFrame frame = sliceFrame(c->volumes.image.geometry(), plane);
    const double pixel_mm = std::max(frame.columns * frame.spacing_x, frame.rows * frame.spacing_y) / std::max(tile, 32.0f);
    for (size_t g = 0; g < outputs.gates.size(); ++g) {
      SliceScene scene = state_.sliceScene(plane, model);
      scene.overlays = {attentionLayer(outputs.gates[g].second, state_.attentionLook())};
      scene.pixel_mm = pixel_mm;
      if (!gate_textures_[g]) gate_textures_[g] = std::make_unique<Texture>();
      gate_textures_[g]->upload(composeSlice(scene));
    }
    gate_inputs_ = inputs;
  }
  // Each gate's attention statistics for this case and the focus label (else the browser's label).
  const std::string label = std::to_string(label_value);
  const std::string key = model == 0 ? "A" : "B";
  const nlohmann::ordered_json* record = state_.report() ? state_.report()->caseRecord(c->volumes.id) : nullptr;
  for (size_t g = 0; g < outputs.gates.size(); ++g) {
    if (g > 0) ImGui::SameLine(0, 16);
    ImGui::BeginGroup();
    const Texture& t = *gate_textures_[g];
    const float tw = tile * t.width() / std::max(1, t.height());
    ImGui::Image(t.id(), ImVec2(tw, tile));
    // Short lines, each narrower than a tile: neighbours' statistics never run into each other.
    ImGui::TextUnformatted(outputs.gates[g].first.c_str());
    if (record && ReportModel::attentionStatistics(*record, key, outputs.gates[g].first, label)) {
      const auto statistic = [&](const char* name) {
        return ReportModel::attentionStatistic(*record, key, outputs.gates[g].first, label, name).value_or(std::nan(""));
      };
      ImGui::TextDisabled("mass %s", number(statistic("mass_in_reference")).c_str());
      ImGui::SameLine();
      ImGui::TextDisabled("contrast %s", number(statistic("contrast"), "{:.2f}").c_str());
    }
    ImGui::EndGroup();
    ImGui::SameLine(0, 16);
    ImGui::Dummy(ImVec2(0, 0));
  }
  ImGui::End();
}

// --- status bar --------------------------------------------------------------------------------

void WorkbenchApp::drawStatusBar(float x, float y, float w, float h) {
  ImGui::SetNextWindowPos(ImVec2(x, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::Begin("##status", nullptr, kPanelFlags | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
  if (busy()) {
    const double fraction = task_->fraction();
    const double elapsed = task_->seconds();
    if (fraction > 0.0)
      ImGui::Text("%s: %s (%.0f s, about %.0f s left)", task_->title().c_str(), task_->message().c_str(), elapsed,
                  elapsed * (1.0 - fraction) / fraction);
    else
      ImGui::Text("%s: %s (%.1f s)", task_->title().c_str(), task_->message().c_str(), elapsed);
    if (fraction >= 0) {
      ImGui::SameLine();
      ImGui::ProgressBar(static_cast<float>(fraction), ImVec2(200, 0));
    }
    ImGui::SameLine();
    if (ImGui::SmallButton("cancel (Esc)")) task_->cancel();
  } else if (!notice_.empty() && ImGui::GetTime() - notice_time_ < kNoticeSeconds) {
    ImGui::TextColored(ImVec4(0.5f, 0.9f, 0.5f, 1), "%s", notice_.c_str());
  } else if (const SavedCase* c = state_.currentCase()) {
    // The controls where the bar has room for them.
    const std::string where = fmt::format("case {}  {}", c->volumes.id, c->volumes.image.geometry().describe());
    const std::string controls =
        "  |  left: cursor  wheel: slices  Ctrl+wheel: zoom  middle: pan  right: window  Tab: A | B | difference";
    const bool room = ImGui::CalcTextSize((where + controls).c_str()).x < ImGui::GetContentRegionAvail().x;
    ImGui::TextUnformatted((room ? where + controls : where).c_str());
  } else {
    ImGui::TextDisabled("ready");
  }
  ImGui::End();
}

}  // namespace gatescope::workbench
