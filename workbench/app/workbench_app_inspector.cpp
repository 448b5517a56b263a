// The inspector: layers, cursor, metrics and the dataset plot.
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "analysis/core/error.hpp"
#include "renderers/plots.hpp"
#include "workbench/app/workbench_app.hpp"
#include "workbench/app/workbench_widgets.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;

void WorkbenchApp::drawInspector(float x, float y, float w, float h) {
  beginPanel("Inspector", x, y, w, h, ImGuiWindowFlags_HorizontalScrollbar);
  if (!state_.currentCase()) {
    ImGui::TextDisabled("no case open");
    ImGui::End();
    return;
  }
  if (ImGui::CollapsingHeader("Layers", ImGuiTreeNodeFlags_DefaultOpen)) drawLayers();
  if (ImGui::CollapsingHeader("Attribution maps")) drawAttribution();
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
  const std::string focus = l.focus_label == 0           ? "every label"
                            : names.count(l.focus_label) ? names.at(l.focus_label)
                                                         : std::to_string(l.focus_label);
  ImGui::SetNextItemWidth(fieldWidth());
  if (ImGui::BeginCombo("labels", focus.c_str())) {
    if (ImGui::Selectable("every label", l.focus_label == 0)) l.focus_label = 0;
    for (const auto& [value, name] : names)
      if (value > 0 && ImGui::Selectable(name.c_str(), value == l.focus_label))
        l.focus_label = value;
    ImGui::EndCombo();
  }
  ImGui::Separator();
  std::string overlay = l.overlay_model < 0 ? "none"
                        : l.overlay_model < static_cast<int>(c->models.size())
                            ? c->models[static_cast<size_t>(l.overlay_model)].name
                            : "none";
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
      // Listed, greyed, with the reason: a user looking for the baseline's map learns why there is
      // none.
      ImGui::Selectable(fmt::format("{} (no gates)", c->models[m].name).c_str(), false,
                        ImGuiSelectableFlags_Disabled);
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
    if (state_.side_by_side && c->models.size() > 1) {
      // Side by side, B may show another map: its Grad-CAM beside A's gates.
      const std::string shown = l.overlay_gate_b.empty() ? "as A" : l.overlay_gate_b;
      ImGui::SetNextItemWidth(fieldWidth());
      if (ImGui::BeginCombo("B shows", shown.c_str())) {
        if (ImGui::Selectable("as A", l.overlay_gate_b.empty())) l.overlay_gate_b.clear();
        for (const auto& gate : state_.gateNames(1))
          if (ImGui::Selectable(gate.c_str(), gate == l.overlay_gate_b)) l.overlay_gate_b = gate;
        ImGui::EndCombo();
      }
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
  float level = static_cast<float>(state_.window.center),
        width = static_cast<float>(state_.window.width);
  const float half = std::max(60.0f, (ImGui::GetContentRegionAvail().x - 90) / 2);
  ImGui::SetNextItemWidth(half);
  if (ImGui::DragFloat("level", &level, 1.0f)) state_.window.center = level;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(half);
  if (ImGui::DragFloat("width", &width, 1.0f, 1.0f, 1e6f))
    state_.window.width = std::max(1.0f, width);
}

void WorkbenchApp::drawAttribution() {
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + ImGui::GetContentRegionAvail().x);
  ImGui::TextDisabled(
      "Where a model's score for the label's class comes from, computed for this case; the maps "
      "join the model's layers (docs/attribution.md).");
  ImGui::PopTextWrapPos();
  const SavedCase* c = state_.currentCase();
  std::vector<std::pair<int, std::filesystem::path>> files;
  std::string unknown;
  try {
    files = caseModelFiles();
  } catch (const std::exception& e) {
    unknown = e.what();
  }
  if (files.empty()) {
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + ImGui::GetContentRegionAvail().x);
    ImGui::TextDisabled(
        "%s", unknown.empty() ? "the model files of this case are not known" : unknown.c_str());
    ImGui::PopTextWrapPos();
    return;
  }
  ImGui::SetNextItemWidth(fieldWidth());
  if (c->models.size() > 1)
    ImGui::Combo("models", &attribution_models_, "A\0B\0A and B\0");
  else
    attribution_models_ = 0;
  ImGui::SetNextItemWidth(fieldWidth());
  ImGui::Combo("method", &attribution_method_,
               "gradcam\0hirescam\0gradient\0gradient_x_input\0integrated_gradients\0"
               "occlusion\0");
  if (isLayerMethod(static_cast<AttributionMethod>(attribution_method_))) {
    ImGui::SetNextItemWidth(fieldWidth());
    ImGui::InputTextWithHint("layers", "conv2,conv3,conv4", &attribution_layers_);
  }
  const int label =
      state_.layers.focus_label > 0 ? state_.layers.focus_label : state_.browser_label;
  const auto& names = state_.labelNames();
  ImGui::TextDisabled("class: %s (the focus label, else the browser's)",
                      names.count(label) ? names.at(label).c_str() : std::to_string(label).c_str());
  ImGui::BeginDisabled(busy() || label <= 0);
  if (ImGui::Button("Compute")) {
    try {
      startAttribution();
    } catch (const std::exception& e) {
      showError(e.what());
    }
  }
  ImGui::EndDisabled();
  if (busy() && attributing_) {
    ImGui::SameLine();
    if (ImGui::SmallButton("Cancel")) task_->cancel();
  }
}

void WorkbenchApp::drawCursor() {
  const Probe p = state_.probe();
  ImGui::Text("voxel (%.0f, %.0f, %.0f)", p.voxel[0], p.voxel[1], p.voxel[2]);
  ImGui::Text("world (%.1f, %.1f, %.1f) mm", p.world[0], p.world[1], p.world[2]);
  const auto& names = state_.labelNames();
  auto labelText = [&](int label) {
    return names.count(label) ? names.at(label) : std::to_string(label);
  };
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
    ImGui::Text("%c %s", gate[0],
                slash == std::string::npos ? gate.c_str() : gate.c_str() + slash + 3);
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
      ImGui::TextUnformatted(
          number(reportValue(d.value("mean_difference", nlohmann::ordered_json(0))), "{:+.3f}")
              .c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(
          number(reportValue(d.value("wilcoxon_p", nlohmann::ordered_json("nan"))), "{:.3f}")
              .c_str());
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
  static const char* kPlots[] = {"paired Dice", "paired HD95", "Bland-Altman volumes",
                                 "attention mass per gate"};
  ImGui::SetNextItemWidth(200);
  ImGui::Combo("plot", &plot_kind_, kPlots, 4);
  const std::string key =
      fmt::format("{}:{}:{}", state_.evaluationGeneration(), state_.browser_label, plot_kind_);
  if (plot_key_ != key) {
    plot_key_ = key;
    try {
      static const ReportPlotRequest kRequests[] = {
          {ReportPlotKind::Paired, "", "dice", "mass_in_reference"},
          {ReportPlotKind::Paired, "", "hd95_mm", "mass_in_reference"},
          {ReportPlotKind::BlandAltman, "", "dice", "mass_in_reference"},
          {ReportPlotKind::Attention, "", "dice", "mass_in_reference"}};
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

}  // namespace gatescope::workbench
