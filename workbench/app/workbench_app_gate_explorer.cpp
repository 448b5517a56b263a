// The gate explorer: every gate and attribution map of the overlay model at the slice, with its
// statistics.
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "analysis/attribution/attribution_maps.hpp"
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
  const int label_value =
      state_.layers.focus_label > 0 ? state_.layers.focus_label : state_.browser_label;
  // The tiles: every gate, then the attribution maps of the label's class.
  struct Tile {
    std::string name, report_key;  // report_key: the gate, or the map's method@layer
    const Volume<float>* values;
    bool attribution;
  };
  std::vector<Tile> tiles;
  if (has_model) {
    const ModelOutputs& outputs = c->models[static_cast<size_t>(model)];
    for (const auto& [name, gate] : outputs.gates) tiles.push_back({name, name, &gate, false});
    for (const auto& [name, map] : outputs.attributions)
      if (const auto split = splitClassMapName(name); split && split->second == label_value)
        tiles.push_back({name, split->first, &map, true});
  }
  if (tiles.empty()) {
    const std::string why = has_model ? state_.whyNoAttention(model) : std::string();
    ImGui::TextDisabled(
        "%s", why.empty() ? "no gates or attribution maps of this label to show" : why.c_str());
    ImGui::End();
    return;
  }
  // A line saying what the numbers are, then per map its picture, name, mass and contrast.
  const std::string label_name = state_.labelNames().count(label_value)
                                     ? state_.labelNames().at(label_value)
                                     : std::to_string(label_value);
  ImGui::TextDisabled(
      "mass: share in the %s reference; contrast: mean in / out (attribution maps: of their "
      "positive part / max)",
      label_name.c_str());
  const float tile = std::max(32.0f, ImGui::GetContentRegionAvail().y -
                                         2.2f * ImGui::GetTextLineHeightWithSpacing() -
                                         ImGui::GetStyle().ScrollbarSize);
  const PictureInputs inputs{state_.pictureKey(plane, model), tile, 0, 0};
  std::vector<std::string> names;
  for (const Tile& t : tiles) names.push_back(t.name);
  if (!gate_inputs_ || !(*gate_inputs_ == inputs) || gate_tile_names_ != names) {
    gate_textures_.resize(tiles.size());
    gate_tile_names_ = names;
    const SliceFrame frame = sliceFrame(c->volumes.image.geometry(), plane);
    const double pixel_mm =
        std::max(frame.columns * frame.spacing_x, frame.rows * frame.spacing_y) /
        std::max(tile, 32.0f);
    for (size_t t = 0; t < tiles.size(); ++t) {
      SliceScene scene = state_.sliceScene(plane, model);
      scene.overlays = {attentionLayer(*tiles[t].values, state_.attentionLook())};
      scene.pixel_mm = pixel_mm;
      if (!gate_textures_[t]) gate_textures_[t] = std::make_unique<Texture>();
      gate_textures_[t]->upload(composeSlice(scene));
    }
    gate_inputs_ = inputs;
  }
  // Each map's attention statistics for this case and the label: the report's, else (maps made
  // here) measured now against the case's reference, once per case and label.
  const std::string label = std::to_string(label_value);
  const std::string key = model == 0 ? "A" : "B";
  const nlohmann::ordered_json* record =
      state_.report() ? state_.report()->caseRecord(c->volumes.id) : nullptr;
  for (size_t t = 0; t < tiles.size(); ++t) {
    if (t > 0) ImGui::SameLine(0, 16);
    ImGui::BeginGroup();
    const Texture& texture = *gate_textures_[t];
    const float tw = tile * texture.width() / std::max(1, texture.height());
    ImGui::Image(texture.id(), ImVec2(tw, tile));
    // Short lines, each narrower than a tile: neighbours' statistics never run into each other.
    ImGui::TextUnformatted(tiles[t].name.c_str());
    std::optional<std::pair<double, double>> mass_contrast;
    if (record && ReportModel::attentionStatistics(*record, key, tiles[t].report_key, label)) {
      const auto statistic = [&](const char* name) {
        return ReportModel::attentionStatistic(*record, key, tiles[t].report_key, label, name)
            .value_or(std::nan(""));
      };
      mass_contrast.emplace(statistic("mass_in_reference"), statistic("contrast"));
    } else if (tiles[t].attribution && c->volumes.reference) {
      const std::string cache_key =
          fmt::format("{}|{}|{}|{}", state_.caseGeneration(), model, tiles[t].name, label_value);
      auto found = live_statistics_.find(cache_key);
      if (found == live_statistics_.end()) {
        Volume<uint8_t> inside(c->volumes.reference->geometry());
        const auto labels = c->volumes.reference->values();
        auto mask = inside.values();
        for (size_t v = 0; v < mask.size(); ++v) mask[v] = labels[v] == label_value ? 1 : 0;
        const AttentionStatistics s = attributionStatistics(*tiles[t].values, inside, {});
        found =
            live_statistics_.emplace(cache_key, std::pair{s.mass_in_reference, s.contrast}).first;
      }
      mass_contrast = found->second;
    }
    if (mass_contrast) {
      ImGui::TextDisabled("mass %s", number(mass_contrast->first).c_str());
      ImGui::SameLine();
      ImGui::TextDisabled("contrast %s", number(mass_contrast->second, "{:.2f}").c_str());
    }
    ImGui::EndGroup();
    ImGui::SameLine(0, 16);
    ImGui::Dummy(ImVec2(0, 0));
  }
  ImGui::End();
}

}  // namespace gatescope::workbench
