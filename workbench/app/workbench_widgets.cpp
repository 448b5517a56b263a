#include "workbench/app/workbench_widgets.hpp"

#include <fmt/format.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>

#include "analysis/evaluation/evaluation_report.hpp"
#include "workbench/app/file_browser.hpp"

namespace gatescope::workbench {

void beginPanel(const char* title, float x, float y, float w, float h, ImGuiWindowFlags extra) {
  ImGui::SetNextWindowPos(ImVec2(x, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::Begin(title, nullptr, kPanelFlags | extra);
}

ImVec4 toImVec4(Rgba c) {
  return ImVec4(c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, c.a / 255.0f);
}
ImU32 toImU32(Rgba c) {
  return IM_COL32(c.r, c.g, c.b, c.a);
}
ImVec4 modelTextColor(int model) {
  return toImVec4(kPredictionColors[static_cast<size_t>(std::clamp(model, 0, 1))]);
}

// A colour swatch the height of a text line, then its text, on the current line.
void legendItem(Rgba color, const std::string& text, bool line) {
  const float h = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  if (line)
    draw->AddRectFilled(ImVec2(p.x, p.y + h / 2 - 1.5f), ImVec2(p.x + 16, p.y + h / 2 + 1.5f),
                        toImU32(color));
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
    draw->AddRectFilled(ImVec2(x0, p.y + 2), ImVec2(x1 + 0.5f, p.y + h - 2),
                        toImU32(mapColor(colors, v, lo, hi)));
  }
  ImGui::Dummy(ImVec2(width, h));
  ImGui::SameLine();
  ImGui::Text("%s: %s to %s", title.c_str(), fmt::format("{:g}", lo).c_str(),
              fmt::format("{:g}", hi).c_str());
}

std::string number(double value, const char* format) {
  if (std::isnan(value)) return "-";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format(fmt::runtime(format), value);
}

// A report number ("nan"/"inf" strings included); NaN when missing.
double reportValue(const nlohmann::ordered_json& value) {
  return reportNumber(value).value_or(std::nan(""));
}

void closeOnEscape() {
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) ImGui::CloseCurrentPopup();
}

void drawForm(const char* title, bool& open, const char* text, const std::vector<FormField>& fields,
              const std::function<void()>& extra, const std::function<void()>& run,
              const std::function<void(const std::string&)>& fail) {
  if (open) {
    ImGui::OpenPopup(title);
    ImGui::SetNextWindowPos(ImGui::GetMainViewport()->GetCenter(), ImGuiCond_Appearing,
                            ImVec2(0.5f, 0.5f));
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

float fieldWidth() {
  return std::max(80.0f, ImGui::GetContentRegionAvail().x - kFieldLabelWidth);
}

bool beginPanelTable(const char* id, int columns, int rows) {
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(3, 1));
  const float height =
      (rows + 1) * ImGui::GetTextLineHeightWithSpacing() + ImGui::GetStyle().ScrollbarSize + 4;
  const bool open = ImGui::BeginTable(id, columns, kPanelTableFlags, ImVec2(0, height));
  ImGui::PopStyleVar();
  return open;
}

// Dice, HD95, ASSD, precision and recall per label for one or two models, and A - B: a row with the
// label's name, then its metrics, so no row is wider than a side panel. `per_model` holds each
// model's {label: {metric: value}} as reports write them.
void drawCaseMetricTable(const char* id, const char* first_column,
                         const std::vector<std::string>& titles,
                         const std::vector<nlohmann::ordered_json>& per_model,
                         const std::map<int, std::string>& names) {
  if (per_model.empty()) return;
  const bool two = per_model.size() > 1;
  static constexpr std::pair<const char*, const char*> kMetrics[] = {{"dice", "Dice"},
                                                                     {"hd95_mm", "HD95 mm"},
                                                                     {"assd_mm", "ASSD mm"},
                                                                     {"precision", "precision"},
                                                                     {"recall", "recall"}};
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
    ImGui::TextColored(ImVec4(0.9f, 0.85f, 0.5f, 1), "%s",
                       names.count(value) ? names.at(value).c_str() : label.c_str());
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

}  // namespace gatescope::workbench
