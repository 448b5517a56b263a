// The dialogs: run an evaluation, inspect one image, resume prompt, path dialogs, errors, export.
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "renderers/figures.hpp"
#include "workbench/app/file_browser.hpp"
#include "workbench/app/workbench_app.hpp"
#include "workbench/app/workbench_widgets.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;

void WorkbenchApp::drawImageDialog() {
  drawForm(
      "Inspect one image", open_image_dialog_,
      "Runs the model(s) on one image in the background; with a reference, measures them.",
      {{"image", &image_path_, PathKind::OpenFile, kImageFiles},
       {"reference label (optional)", &image_reference_, PathKind::OpenFile, kImageFiles},
       {"model A (.json, .pt or predictions folder)", &run_model_a_, PathKind::OpenFile,
        kModelFiles},
       {"model B (optional)", &run_model_b_, PathKind::OpenFile, kModelFiles},
       {"device (auto, cpu, cuda, cuda:N)", &run_device_, PathKind::OpenFile, {}, true}},
      {}, [this] { startImageInspection(); }, [this](const std::string& e) { showError(e); });
}

void WorkbenchApp::drawRunDialog() {
  drawForm(
      "Run an evaluation", open_run_dialog_,
      "Runs gatescope evaluate in the background and opens the result.",
      {{"model A (.json, .pt, or a folder of predictions)", &run_model_a_, PathKind::OpenFile,
        kModelFiles},
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

void WorkbenchApp::drawResumePrompt() {
  if (open_resume_prompt_) {
    ImGui::OpenPopup("Output folder in use");
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing,
                            ImVec2(0.5f, 0.5f));
    open_resume_prompt_ = false;
  }
  if (!ImGui::BeginPopupModal("Output folder in use", nullptr, ImGuiWindowFlags_AlwaysAutoResize))
    return;
  ImGui::Text("%s already holds an evaluation.", run_out_.c_str());
  ImGui::TextDisabled(
      "Resume runs only the cases it has not finished (same models, dataset and settings).");
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

// What each path dialog says, where its path lives, what it lists and what OK does.
WorkbenchApp::PathDialog WorkbenchApp::pathDialog(Dialog dialog) {
  static const std::vector<std::string> kSession{".json"}, kFigure{".png", ".pdf", ".svg"},
      kPng{".png"};
  switch (dialog) {
    case Dialog::OpenEvaluation:
      return {"Open evaluation folder",
              "The folder gatescope evaluate wrote (report.json, predictions/):",
              &open_path_,
              PathKind::Folder,
              &kSession,
              [this](const std::string& path) { openEvaluation(path); }};
    case Dialog::OpenSession:
      return {"Open session", "A session file (File > Save session):",
              &session_path_, PathKind::OpenFile,
              &kSession,      [this](const std::string& path) { openSession(path); }};
    case Dialog::SaveSession:
      return {"Save session",
              "Write to:",
              &session_path_,
              PathKind::SaveFile,
              &kSession,
              [this](const std::string& path) {
                state_.saveSession(path);
                rememberRecentFile(fs::absolute(path).string());
                confirm("session saved to " + fs::absolute(path).string());
              }};
    case Dialog::ExportView:
    case Dialog::ExportGates: {
      const bool gates = dialog == Dialog::ExportGates;
      return {gates ? "Export gate panel" : "Export view",
              "Write the figure to (.png, .pdf or .svg):",
              gates ? &gate_export_path_ : &export_path_,
              PathKind::SaveFile,
              &kFigure,
              [this, gates](const std::string& path) {
                exportFigure(path, gates);
                confirm("figure written to " + fs::absolute(path).string());
              }};
    }
    case Dialog::ExportReport:
      return {"Export report",
              "Write to:",
              &report_path_,
              PathKind::SaveFile,
              &kSession,
              [this](const std::string& path) {
                writeFileAtomically(path, state_.report()->json().dump(2) + "\n");
                confirm("report written to " + fs::absolute(path).string());
              }};
    case Dialog::Screenshot:
    case Dialog::None:
      break;
  }
  return {"Screenshot",
          "Write to:",
          &screenshot_path_,
          PathKind::SaveFile,
          &kPng,
          [this](const std::string& path) { screenshot_request_ = path; }};
}

void WorkbenchApp::drawDialogs() {
  if (open_dialog_ != Dialog::None) {
    ImGui::OpenPopup(pathDialog(open_dialog_).title);
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing,
                            ImVec2(0.5f, 0.5f));
  }
  for (const Dialog d :
       {Dialog::OpenEvaluation, Dialog::OpenSession, Dialog::SaveSession, Dialog::ExportView,
        Dialog::ExportGates, Dialog::ExportReport, Dialog::Screenshot}) {
    const PathDialog dialog = pathDialog(d);
    if (!ImGui::BeginPopupModal(dialog.title, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) continue;
    std::string* path = dialog.path;
    ImGui::TextUnformatted(dialog.text);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    bool enter = pathField("##dialogpath", *path, dialog.kind, *dialog.extensions, 556);
    enter = fileBrowser("browser", *path, dialog.kind, *dialog.extensions) || enter;
    if (ImGui::Button("OK") || enter) {
      // A folder picked in the browser ends in "/": the path without it.
      if (path->size() > 1 && path->back() == '/') path->pop_back();
      try {
        dialog.ok(*path);
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
  open_dialog_ = Dialog::None;

  if (!error_.empty()) ImGui::OpenPopup("Error");
  ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing,
                          ImVec2(0.5f, 0.5f));
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

}  // namespace gatescope::workbench
