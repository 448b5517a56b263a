// The status bar: task progress and cancel, confirmations, the case and the controls.
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

void WorkbenchApp::drawStatusBar(float x, float y, float w, float h) {
  beginPanel("##status", x, y, w, h, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
  if (busy()) {
    const double fraction = task_->fraction();
    const double elapsed = task_->seconds();
    if (fraction > 0.0)
      ImGui::Text("%s: %s (%.0f s, about %.0f s left)", task_->title().c_str(),
                  task_->message().c_str(), elapsed, elapsed * (1.0 - fraction) / fraction);
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
  } else if (const SavedCase* image = classification_.current()) {
    ImGui::Text(
        "image %s  %s  |  true class %s  |  click an image in the list; \"show\" filters "
        "to disagreements and errors",
        image->volumes.id.c_str(), image->volumes.image.geometry().describe().c_str(),
        classification_.className(image->volumes.true_class).c_str());
  } else if (const SavedCase* c = state_.currentCase()) {
    // The controls where the bar has room for them.
    const std::string where =
        fmt::format("case {}  {}", c->volumes.id, c->volumes.image.geometry().describe());
    const std::string controls =
        "  |  left: cursor  wheel: slices  Ctrl+wheel: zoom  middle: pan  right: window  Tab: A | "
        "B | difference";
    const bool room =
        ImGui::CalcTextSize((where + controls).c_str()).x < ImGui::GetContentRegionAvail().x;
    ImGui::TextUnformatted((room ? where + controls : where).c_str());
  } else {
    ImGui::TextDisabled("ready");
  }
  ImGui::End();
}

}  // namespace gatescope::workbench
