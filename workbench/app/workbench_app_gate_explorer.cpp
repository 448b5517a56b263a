// The gate explorer: every gate of the overlay model at the slice, with its statistics.
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

namespace gatescope::workbench {

namespace fs = std::filesystem;

void WorkbenchApp::drawGateExplorer(float x, float y, float w, float h) {
  const SavedCase* c = state_.currentCase();
  const int model = std::max(0, state_.layers.overlay_model);
  const Plane plane = state_.side_by_side ? active_plane_ : Plane::Axial;
  const bool has_model = c && model < static_cast<int>(c->models.size());
  // The title says whose gates at which slice ("###" keeps the window's identity).
  const std::string title = has_model ? fmt::format("Gate explorer: {}, {} slice###gates",
                                                    c->models[static_cast<size_t>(model)].name,
                                                    kPlaneTitles[static_cast<int>(plane)])
                                      : std::string("Gate explorer###gates");
  beginPanel(title.c_str(), x, y, w, h, ImGuiWindowFlags_HorizontalScrollbar);
  if (!c || model >= static_cast<int>(c->models.size()) ||
      c->models[static_cast<size_t>(model)].gates.empty()) {
    const std::string why = has_model ? state_.whyNoAttention(model) : std::string();
    ImGui::TextDisabled("%s", why.empty() ? "no gates to show" : why.c_str());
    ImGui::End();
    return;
  }
  const ModelOutputs& outputs = c->models[static_cast<size_t>(model)];
  // A line saying what the numbers are, then per gate its picture, name, mass and contrast.
  const int label_value =
      state_.layers.focus_label > 0 ? state_.layers.focus_label : state_.browser_label;
  const std::string label_name = state_.labelNames().count(label_value)
                                     ? state_.labelNames().at(label_value)
                                     : std::to_string(label_value);
  ImGui::TextDisabled("mass: attention share in the %s reference; contrast: mean in / out",
                      label_name.c_str());
  const float tile = std::max(32.0f, ImGui::GetContentRegionAvail().y -
                                         2.2f * ImGui::GetTextLineHeightWithSpacing() -
                                         ImGui::GetStyle().ScrollbarSize);
  const PictureInputs inputs{state_.pictureKey(plane, model), tile, 0, 0};
  if (!gate_inputs_ || !(*gate_inputs_ == inputs) ||
      gate_textures_.size() != outputs.gates.size()) {
    gate_textures_.resize(outputs.gates.size());
    const SliceFrame frame = sliceFrame(c->volumes.image.geometry(), plane);
    const double pixel_mm =
        std::max(frame.columns * frame.spacing_x, frame.rows * frame.spacing_y) /
        std::max(tile, 32.0f);
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
  const nlohmann::ordered_json* record =
      state_.report() ? state_.report()->caseRecord(c->volumes.id) : nullptr;
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
        return ReportModel::attentionStatistic(*record, key, outputs.gates[g].first, label, name)
            .value_or(std::nan(""));
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

}  // namespace gatescope::workbench
