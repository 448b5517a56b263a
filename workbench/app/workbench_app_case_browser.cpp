// The case browser: the evaluation, its models, the label, the filter and the sortable case table.
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

void WorkbenchApp::drawCaseBrowser(float x, float y, float w, float h) {
  beginPanel("Session and cases", x, y, w, h);
  if (!state_.report()) {
    if (const SavedCase* c = state_.currentCase()) {
      ImGui::Text("image %s (no evaluation)", c->volumes.id.c_str());
      for (const auto& model : c->models)
        ImGui::TextDisabled("  %s, %zu gates", model.name.c_str(), model.gates.size());
      ImGui::Separator();
    }
    ImGui::TextWrapped(
        "File > Open evaluation folder... (the output of gatescope evaluate --save-predictions, or "
        "of gatescope demo: build/demo/evaluation), File > Run an evaluation..., or File > Inspect "
        "one "
        "image...");
    ImGui::End();
    return;
  }
  const auto& report = *state_.report();
  // The folder's path, cut from the left where the panel is narrower (all of it in the tooltip).
  const std::string dir = state_.evaluationDir().string();
  std::string shown = dir;
  while (shown.size() > 8 &&
         ImGui::CalcTextSize(shown.c_str()).x > ImGui::GetContentRegionAvail().x)
    shown = "..." + shown.substr(std::min(shown.size(), size_t{4}));
  ImGui::TextDisabled("%s", shown.c_str());
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", dir.c_str());
  for (const ReportModel::Model& m : report.models()) {
    ImGui::TextColored(modelTextColor(m.key == "A" ? 0 : 1), "%s: %s", m.key.c_str(),
                       m.name.c_str());
    ImGui::TextDisabled("  %s, %zu gates, %s", m.architecture.c_str(), m.gates.size(),
                        m.device.c_str());
  }
  const auto& names = state_.labelNames();
  const std::string current = names.count(state_.browser_label)
                                  ? names.at(state_.browser_label)
                                  : std::to_string(state_.browser_label);
  ImGui::SetNextItemWidth(150);
  if (ImGui::BeginCombo("label", current.c_str())) {
    for (const auto& [value, name] : names)
      if (value > 0 && ImGui::Selectable(name.c_str(), value == state_.browser_label))
        state_.browser_label = value;
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##filter", "filter cases", &case_filter_);

  constexpr ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                                    ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV |
                                    ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX;
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(3, 2));
  const bool table =
      ImGui::BeginTable("cases", 6, flags, ImVec2(0, ImGui::GetContentRegionAvail().y));
  ImGui::PopStyleVar();
  if (table) {
    ImGui::TableSetupScrollFreeze(1, 1);  // the case column stays when the table scrolls sideways
    ImGui::TableSetupColumn("case", ImGuiTableColumnFlags_DefaultSort, 0, 0);
    ImGui::TableSetupColumn("Dice A", 0, 0, 1);
    ImGui::TableSetupColumn("Dice B", 0, 0, 2);
    ImGui::TableSetupColumn("A-B", 0, 0, 3);
    ImGui::TableSetupColumn("HD95 A", 0, 0, 4);
    ImGui::TableSetupColumn("HD95 B", 0, 0, 5);
    ImGui::TableHeadersRow();
    if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsCount > 0) {
      static constexpr CaseSort kSorts[] = {CaseSort::Id,    CaseSort::DiceA,
                                            CaseSort::DiceB, CaseSort::DiceDifference,
                                            CaseSort::Hd95A, CaseSort::Hd95B};
      sort_ = kSorts[specs->Specs[0].ColumnUserID];
      sort_descending_ = specs->Specs[0].SortDirection == ImGuiSortDirection_Descending;
    }
    const std::string current_case = state_.currentCaseId();
    const std::vector<CaseRow> rows = state_.caseRows(case_filter_, sort_, sort_descending_);
    if (rows.empty()) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextDisabled("no case matches '%s'", case_filter_.c_str());
    }
    for (const CaseRow& row : rows) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (!row.has_predictions)
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
      if (ImGui::Selectable(row.id.c_str(), row.id == current_case,
                            ImGuiSelectableFlags_SpanAllColumns) &&
          row.has_predictions && row.id != current_case)
        openCase(row.id);
      if (!row.has_predictions) {
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip(
              "%s", row.status != "ok"
                        ? row.status.c_str()
                        : "no saved predictions: File > Run an evaluation... saves every case's");
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.dice_a).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.dice_b).c_str());
      ImGui::TableNextColumn();
      const double d = row.dice_difference;
      // In the colour of the better model.
      ImGui::TextColored(
          std::isnan(d) || d == 0 ? ImVec4(0.8f, 0.8f, 0.8f, 1) : modelTextColor(d > 0 ? 0 : 1),
          "%s", number(d, "{:+.3f}").c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.hd95_a, "{:.1f}").c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(number(row.hd95_b, "{:.1f}").c_str());
    }
    ImGui::EndTable();
  }
  ImGui::End();
}

}  // namespace gatescope::workbench
