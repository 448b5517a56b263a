#include "workbench/app/about_window.hpp"

#include <imgui.h>

#include "analysis/version.hpp"

namespace gatescope::workbench {

void drawAboutWindow(bool& open) {
  if (!open) return;
  ImGui::SetNextWindowSize(ImVec2(460, 0), ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing,
                          ImVec2(0.5f, 0.5f));
  if (ImGui::Begin("About gatescope", &open, ImGuiWindowFlags_NoCollapse)) {
    ImGui::Text("gatescope %s", kVersion);
    ImGui::Separator();
    ImGui::TextWrapped(
        "See where attention gates look, measure segmentations exactly, and compare gated against "
        "ungated networks (Attention U-Net, AG-SonoNet) with paired statistics.");
    ImGui::Spacing();
    ImGui::TextDisabled("Dear ImGui %s", IMGUI_VERSION);
    if (ImGui::Button("Close")) open = false;
  }
  ImGui::End();
}

}  // namespace gatescope::workbench
