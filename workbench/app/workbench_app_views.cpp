// The views: legend, four linked views or A | B | difference, the slice views and the first-screen
// hint.
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

void WorkbenchApp::drawViews(float x, float y, float w, float h) {
  beginPanel("Views", x, y, w, h,
             ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  if (!state_.currentCase()) {
    ImGui::TextDisabled(busy() ? "loading ..."
                               : "Select a case with saved predictions in the case browser.");
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
    drawSliceView("##A", side_views_[0], active_plane_, 0, false, origin.x, top, column - 2,
                  height);
    if (has_b) {
      drawSliceView("##B", side_views_[1], active_plane_, 1, false, origin.x + column, top,
                    column - 2, height);
      drawSliceView("##diff", side_views_[2], active_plane_, 0, true, origin.x + 2 * column, top,
                    column - 2, height);
    }
  } else {
    const float cw = avail.x / 2.0f, ch = avail.y / 2.0f;
    drawSliceView("##axial", views_[0], Plane::Axial, -1, false, origin.x, origin.y, cw - 2,
                  ch - 2);
    drawSliceView("##coronal", views_[1], Plane::Coronal, -1, false, origin.x + cw, origin.y,
                  cw - 2, ch - 2);
    drawSliceView("##sagittal", views_[2], Plane::Sagittal, -1, false, origin.x, origin.y + ch,
                  cw - 2, ch - 2);
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
      if (right + width < ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x)
        ImGui::SameLine(0, 14);
    }
    first = false;
  };
  const auto itemWidth = [](const std::string& text) {
    return 22 + ImGui::CalcTextSize(text.c_str()).x;
  };
  const bool fills = l.label_style == LabelStyle::Fill;
  if (l.show_reference && c->volumes.reference)
    next(itemWidth("reference")), legendItem(kReferenceColor, "reference", !fills);
  for (size_t m = 0; m < c->models.size() && m < kPredictionColors.size(); ++m)
    if ((m == 0 ? l.show_prediction_a : l.show_prediction_b) && c->models[m].prediction)
      next(itemWidth(c->models[m].name)),
          legendItem(kPredictionColors[m], c->models[m].name, !fills);
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
      "Contours: yellow the reference, magenta model A's prediction, blue model B's. The colours "
      "on the image are "
      "the attention coefficients of the gate chosen under Layers (0: the gate suppresses the "
      "region, 1: it passes "
      "it). Left: cases with Dice and HD95 per model. Right: layers, the values under the cursor "
      "and the metrics. "
      "Below: every gate of the model. Tab: A | B | difference.");
  if (ImGui::SmallButton("got it")) hint_open_ = false;
  ImGui::EndChild();
  ImGui::PopStyleColor();
}

void WorkbenchApp::drawSliceView(const char* id, SliceView& view, Plane plane, int model,
                                 bool difference, float x, float y, float w, float h) {
  const SavedCase* c = state_.currentCase();
  ImGui::SetCursorScreenPos(ImVec2(x, y));
  ImGui::BeginChild(id, ImVec2(w, h), true,
                    ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  const int shown_model = model < 0 ? std::max(0, state_.layers.overlay_model) : model;
  const std::string model_name = shown_model < static_cast<int>(c->models.size())
                                     ? c->models[static_cast<size_t>(shown_model)].name
                                     : "";
  const SliceFrame frame = sliceFrame(c->volumes.image.geometry(), plane);
  ImGui::Text("%s %lld/%lld  %s", kPlaneTitles[static_cast<int>(plane)],
              static_cast<long long>(state_.slice(plane)), static_cast<long long>(frame.slices - 1),
              difference ? "P(A) - P(B)" : model_name.c_str());
  const ImVec2 area_pos = ImGui::GetCursorScreenPos();
  const ImVec2 area = ImGui::GetContentRegionAvail();
  if (area.x < 16 || area.y < 16) {
    ImGui::EndChild();
    return;
  }
  ViewTransform& transform = state_.view(plane);
  // Composite at the size shown: the slice fitted into the view, times the zoom.
  const double fit_mm =
      std::max(frame.columns * frame.spacing_x / area.x, frame.rows * frame.spacing_y / area.y);
  const double pixel_mm =
      std::max(fit_mm / transform.zoom, std::min(frame.spacing_x, frame.spacing_y) / 8.0);
  const PictureInputs inputs{state_.pictureKey(plane, model, difference), area.x, area.y,
                             transform.zoom};
  if (!view.inputs || !(*view.inputs == inputs)) {
    try {
      SliceScene scene =
          difference ? state_.differenceScene(plane) : state_.sliceScene(plane, shown_model);
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
  const ImVec2 size(static_cast<float>(view.picture.width),
                    static_cast<float>(view.picture.height));
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

  // Mouse: left sets the cursor, wheel scrolls slices (Ctrl: zoom), middle pans, right drags the
  // window.
  ImGui::SetCursorScreenPos(area_pos);
  ImGui::InvisibleButton("##canvas", area,
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight |
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
      transform.zoom =
          std::clamp(transform.zoom * (io.MouseWheel > 0 ? 1.15 : 1.0 / 1.15), 0.25, 16.0);
    else
      state_.scroll(plane, io.MouseWheel > 0 ? 1 : -1);
  }
  if (hover_tooltips_ && ImGui::IsItemHovered() && !ImGui::IsItemActive()) {
    // What lies under the mouse, without moving the cursor.
    const Probe p =
        state_.probeAt(view.mapping.voxelAt(io.MousePos.x - p0.x, io.MousePos.y - p0.y));
    ImGui::BeginTooltip();
    ImGui::Text("(%.0f, %.0f, %.0f)  image %.1f  reference %d", p.voxel[0], p.voxel[1], p.voxel[2],
                p.image, p.reference);
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

}  // namespace gatescope::workbench
