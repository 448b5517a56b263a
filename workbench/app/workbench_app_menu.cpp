// The menu bar: File, View.
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "analysis/core/error.hpp"
#include "workbench/app/workbench_app.hpp"
#include "workbench/app/workbench_widgets.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;

void WorkbenchApp::drawMenu() {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open evaluation folder...")) open_dialog_ = Dialog::OpenEvaluation;
    if (ImGui::MenuItem("Run an evaluation...", nullptr, false, !busy())) open_run_dialog_ = true;
    if (ImGui::MenuItem("Inspect one image...", nullptr, false, !busy())) open_image_dialog_ = true;
    if (ImGui::MenuItem("Open session...")) open_dialog_ = Dialog::OpenSession;
    if (ImGui::MenuItem("Save session...", nullptr, false, state_.report().has_value()))
      open_dialog_ = Dialog::SaveSession;
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
    if (ImGui::MenuItem("Export view as figure...", nullptr, false, has_case))
      open_dialog_ = Dialog::ExportView;
    if (ImGui::MenuItem("Export gate panel as figure...", nullptr, false, has_case))
      open_dialog_ = Dialog::ExportGates;
    if (ImGui::MenuItem("Export report JSON...", nullptr, false, state_.report().has_value()))
      open_dialog_ = Dialog::ExportReport;
    if (ImGui::MenuItem("Screenshot...")) open_dialog_ = Dialog::Screenshot;
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

}  // namespace gatescope::workbench
