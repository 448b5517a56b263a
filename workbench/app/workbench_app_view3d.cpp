// The 3D view of the overlay gate, rendered by VTK off screen into a texture.
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "analysis/core/error.hpp"
#include "renderers/scene_recipes.hpp"
#include "workbench/app/workbench_app.hpp"
#include "workbench/app/workbench_widgets.hpp"
#if GATESCOPE_HAVE_VTK
#include "renderers/volume_view.hpp"
#endif

namespace gatescope::workbench {

namespace fs = std::filesystem;

void WorkbenchApp::draw3dView(float x, float y, float w, float h) {
  ImGui::SetCursorScreenPos(ImVec2(x, y));
  ImGui::BeginChild("##3d", ImVec2(w, h), true,
                    ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  const SavedCase* c = state_.currentCase();
  const int model = std::max(0, state_.layers.overlay_model);
  ImGui::Text("3D  %s", model < static_cast<int>(c->models.size())
                            ? c->models[static_cast<size_t>(model)].name.c_str()
                            : "");
  const ImVec2 pos = ImGui::GetCursorScreenPos(), area = ImGui::GetContentRegionAvail();
  const int size = static_cast<int>(std::min(area.x, area.y));
#if GATESCOPE_HAVE_VTK
  const GateVolumeRequest request = state_.volumeRequest(model);
  const Volume<float>* gate = request.gate;
  // Rendering under software OpenGL takes ~0.1 s: only when the scene or camera changed.
  const PictureInputs inputs{state_.volumeKey(model), static_cast<float>(size), 0, 0};
  if (size >= 32 && gate && error3d_.empty() &&
      (!inputs3d_ || !(*inputs3d_ == inputs) || rendered_azimuth_ != azimuth_ ||
       rendered_elevation_ != elevation_)) {
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

}  // namespace gatescope::workbench
