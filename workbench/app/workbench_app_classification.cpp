// An evaluation of classifiers (docs/workbench.md#classifiers): the image browser (true class, A's
// and B's answers, filters to disagreements and errors), the image with each model's gate maps side
// by side and the gates' statistics, and the summary - metrics, paired tests, confusion matrices,
// per-class scores and calibration.
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"
#include "workbench/app/workbench_app.hpp"
#include "workbench/app/workbench_widgets.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFilterNames =
    "every image\0A and B disagree\0A or B wrong\0A wrong\0B wrong\0";
constexpr const char* kPlotNames = "confusion\0confusion, row shares\0per class\0calibration\0";
const ImVec4 kWrong{1.0f, 0.45f, 0.4f, 1.0f};

// "heart 0.97" in the error colour when wrong; "-" without an answer.
void answerCell(const ClassificationSession& session, const ClassifiedRow& row, int model) {
  if (row.predicted[model] < 0) {
    ImGui::TextDisabled("-");
    return;
  }
  const std::string text =
      fmt::format("{} {:.2f}", session.className(row.predicted[model]), row.confidence[model]);
  if (row.right(model))
    ImGui::TextUnformatted(text.c_str());
  else
    ImGui::TextColored(kWrong, "%s", text.c_str());
}

// One row of the summary table: the metric of A and of B.
void summaryRow(const nlohmann::ordered_json& summary, const char* key, const char* title,
                int models) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(title);
  for (const char* model : {"A", "B"}) {
    if (model[0] == 'B' && models < 2) break;
    ImGui::TableNextColumn();
    const nlohmann::ordered_json& s = summary.value(model, nlohmann::ordered_json::object());
    double value = NAN;
    if (std::string(key) == "ece" && s.contains("calibration"))
      value = reportValue(s["calibration"].value("ece", nlohmann::ordered_json()));
    else if (s.contains(key))
      value = reportValue(s[key]);
    ImGui::TextUnformatted(number(value).c_str());
  }
}

}  // namespace

void WorkbenchApp::openClassification(const std::string& dir, const std::string& image) {
  ClassificationSession opened;
  opened.open(dir);
  const std::string id = image.empty() ? opened.openingImage() : image;
  if (!id.empty()) opened.show(id);
  opened.style.attention_colormap = classification_.style.attention_colormap;
  opened.style.attention_opacity = classification_.style.attention_opacity;
  opened.style.attention_threshold = classification_.style.attention_threshold;
  classification_ = std::move(opened);
  state_ = WorkbenchState();  // one evaluation open at a time
  class_panels_key_.clear();
  class_plot_key_.clear();
  rememberRecentFile(fs::absolute(dir).string());
}

void WorkbenchApp::drawClassificationBrowser(float x, float y, float w, float h) {
  beginPanel("Session and images", x, y, w, h);
  const ClassificationSession& session = classification_;
  const std::string dir = session.evaluationDir().string();
  ImGui::TextDisabled("%s", dir.c_str());
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", dir.c_str());
  const auto& models = session.report()["models"];
  for (const char* key : {"A", "B"})
    if (models.contains(key))
      ImGui::TextColored(modelTextColor(key[0] == 'A' ? 0 : 1), "%s: %s (%s, %zu gates)", key,
                         models[key].value("name", key).c_str(),
                         models[key].value("architecture", "").c_str(),
                         models[key].value("gates", nlohmann::ordered_json::array()).size());
  ImGui::SetNextItemWidth(fieldWidth());
  ImGui::Combo("show", &class_filter_, kFilterNames);
  const std::string which = class_true_ < 0 ? "every class" : session.className(class_true_);
  ImGui::SetNextItemWidth(fieldWidth());
  if (ImGui::BeginCombo("true class", which.c_str())) {
    if (ImGui::Selectable("every class", class_true_ < 0)) class_true_ = -1;
    for (int c = 0; c < session.classCount(); ++c)
      if (ImGui::Selectable(session.className(c).c_str(), c == class_true_)) class_true_ = c;
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##filter", "filter images", &case_filter_);
  const std::vector<ClassifiedRow> rows =
      session.rows(case_filter_, static_cast<ClassifiedFilter>(class_filter_), class_true_,
                   class_sort_, class_sort_descending_);
  ImGui::TextDisabled("%zu of %zu images", rows.size(), session.report()["cases"].size());

  const int columns = session.modelCount() == 2 ? 4 : 3;
  constexpr ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                                    ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV |
                                    ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX;
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(3, 2));
  const bool table =
      ImGui::BeginTable("images", columns, flags, ImVec2(0, ImGui::GetContentRegionAvail().y));
  ImGui::PopStyleVar();
  if (!table) {
    ImGui::End();
    return;
  }
  ImGui::TableSetupScrollFreeze(1, 1);
  ImGui::TableSetupColumn("image", ImGuiTableColumnFlags_DefaultSort, 0, 0);
  ImGui::TableSetupColumn("true", 0, 0, 1);
  ImGui::TableSetupColumn("A", 0, 0, 2);
  if (columns == 4) ImGui::TableSetupColumn("B", 0, 0, 3);
  ImGui::TableHeadersRow();
  if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsCount > 0) {
    const ImGuiTableColumnSortSpecs& s = specs->Specs[0];
    constexpr ClassifiedSort sorts[] = {ClassifiedSort::Id, ClassifiedSort::TrueClass,
                                        ClassifiedSort::ConfidenceA, ClassifiedSort::ConfidenceB};
    class_sort_ = sorts[std::clamp<int>(static_cast<int>(s.ColumnUserID), 0, 3)];
    class_sort_descending_ = s.SortDirection == ImGuiSortDirection_Descending;
  }
  const std::string shown = session.current() ? session.current()->volumes.id : std::string();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows.size()));
  while (clipper.Step())
    for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
      const ClassifiedRow& row = rows[static_cast<size_t>(r)];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::PushID(r);
      if (!row.has_predictions) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.5f, 0.5f, 0.5f, 1));
      // The file name: the class folder of the id is the true class, in the next column.
      const std::string name = row.id.substr(row.id.rfind('/') + 1);
      if (ImGui::Selectable(name.c_str(), row.id == shown, ImGuiSelectableFlags_SpanAllColumns))
        try {
          classification_.show(row.id);
        } catch (const std::exception& e) {
          showError(e.what());
        }
      if (!row.has_predictions) ImGui::PopStyleColor();
      if (ImGui::IsItemHovered() && hover_tooltips_)
        ImGui::SetTooltip("%s", row.status != "ok"     ? row.status.c_str()
                                : !row.has_predictions ? "no saved gate maps (evaluate with "
                                                         "--save-predictions)"
                                                       : row.id.c_str());
      ImGui::PopID();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(session.className(row.true_class).c_str());
      for (int m = 0; m < columns - 2; ++m) {
        ImGui::TableNextColumn();
        answerCell(session, row, m);
      }
    }
  ImGui::EndTable();
  ImGui::End();
}

void WorkbenchApp::drawClassificationImage(float x, float y, float w, float h) {
  beginPanel("Image and gates", x, y, w, h);
  const SavedCase* shown = classification_.current();
  if (!shown) {
    ImGui::TextWrapped(
        "No image with saved gate maps: run gatescope evaluate with --save-predictions (the "
        "classification demo saves every image's).");
    ImGui::End();
    return;
  }
  const FigureStyle& style = classification_.style;
  const std::string key = fmt::format(
      "{}|{}|{}|{}|{}|{}", shown->volumes.id, static_cast<int>(style.attention_colormap),
      style.attention_opacity, style.attention_threshold, style.window.center, style.window.width);
  if (key != class_panels_key_) {
    try {
      const PanelGrid grid = classification_.imagePanels();
      class_panel_titles_ = grid.column_titles;
      class_panel_captions_.clear();
      class_panels_.clear();
      for (const FigurePanel& panel : grid.rows.front()) {
        class_panels_.push_back(std::make_unique<Texture>());
        class_panels_.back()->upload(panel.picture);
        class_panel_captions_.push_back(panel.caption);
      }
    } catch (const std::exception& e) {
      showError(e.what());
    }
    class_panels_key_ = key;
  }
  ImGui::Text("%s   true class: %s", shown->volumes.id.c_str(),
              classification_.className(shown->volumes.true_class).c_str());
  // The panels in one row, as large as the width allows (two rows when that is larger).
  const size_t n = class_panels_.size();
  if (n == 0) {
    ImGui::End();
    return;
  }
  const float aspect = static_cast<float>(class_panels_[0]->height()) /
                       static_cast<float>(std::max(1, class_panels_[0]->width()));
  const float avail_w = ImGui::GetContentRegionAvail().x,
              avail_h = ImGui::GetContentRegionAvail().y - 150.0f;
  const auto sizeFor = [&](size_t per_row) {
    const size_t lines = (n + per_row - 1) / per_row;
    const float width = avail_w / static_cast<float>(per_row) - 8.0f;
    const float height = (avail_h / static_cast<float>(lines)) - 2.0f * ImGui::GetTextLineHeight();
    return std::max(40.0f, std::min(width, height / aspect));
  };
  const size_t per_row = n > 2 && sizeFor((n + 1) / 2) > sizeFor(n) ? (n + 1) / 2 : n;
  const float panel_w = sizeFor(per_row);
  for (size_t p = 0; p < n; ++p) {
    if (p % per_row != 0) ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextUnformatted(class_panel_titles_[p].c_str());
    ImGui::Image(class_panels_[p]->id(), ImVec2(panel_w, panel_w * aspect));
    const std::string& caption = class_panel_captions_[p];
    if (caption.ends_with("wrong"))
      ImGui::TextColored(kWrong, "%s", caption.c_str());
    else
      ImGui::TextUnformatted(caption.c_str());
    ImGui::EndGroup();
  }
  colorBar(style.attention_colormap, 0.0, 1.0, std::min(300.0f, avail_w),
           "attention / its maximum over the image");
  if (shown->volumes.reference) legendItem(style.reference_color, "telling structure", true);
  // The gates' statistics on this image against its mask or box, as the report holds them.
  for (const char* model : {"A", "B"}) {
    const auto attention = classification_.imageAttention(model);
    if (attention.empty()) continue;
    if (!beginPanelTable(model, 5, static_cast<int>(attention.size()))) continue;
    ImGui::TableSetupColumn((std::string(model) + ": gate").c_str());
    for (const char* title : {"mass", "dilated", "pointing", "contrast"})
      ImGui::TableSetupColumn(title);
    ImGui::TableHeadersRow();
    for (const auto& [gate, stats] : attention) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(gate.c_str());
      for (const char* stat :
           {"mass_in_reference", "mass_in_reference_dilated", "pointing_game", "contrast"}) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(
            number(stats.contains(stat) ? reportValue(stats[stat]) : NAN).c_str());
      }
    }
    ImGui::EndTable();
  }
  ImGui::End();
}

void WorkbenchApp::drawClassificationInspector(float x, float y, float w, float h) {
  beginPanel("Summary", x, y, w, h, ImGuiWindowFlags_HorizontalScrollbar);
  const auto& report = classification_.report();
  const int models = classification_.modelCount();
  if (ImGui::CollapsingHeader("Gate overlay", ImGuiTreeNodeFlags_DefaultOpen)) {
    FigureStyle& style = classification_.style;
    float opacity = static_cast<float>(style.attention_opacity),
          threshold = static_cast<float>(style.attention_threshold);
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::SliderFloat("opacity", &opacity, 0.0f, 1.0f, "%.2f"))
      style.attention_opacity = opacity;
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::SliderFloat("threshold", &threshold, 0.0f, 1.0f, "%.2f"))
      style.attention_threshold = threshold;
    ImGui::SetNextItemWidth(fieldWidth());
    if (ImGui::BeginCombo("colour map", colormapName(style.attention_colormap))) {
      for (const auto& name : colormapNames())
        if (ImGui::Selectable(name.c_str(), name == colormapName(style.attention_colormap)))
          style.attention_colormap = *parseColormapName(name);
      ImGui::EndCombo();
    }
  }
  const auto& summary = report.value("summary", nlohmann::ordered_json::object());
  if (ImGui::CollapsingHeader("Metrics", ImGuiTreeNodeFlags_DefaultOpen) &&
      beginPanelTable("metrics", models + 1, 7)) {
    ImGui::TableSetupColumn("");
    ImGui::TableSetupColumn("A");
    if (models == 2) ImGui::TableSetupColumn("B");
    ImGui::TableHeadersRow();
    summaryRow(summary, "accuracy", "accuracy", models);
    summaryRow(summary, "balanced_accuracy", "balanced accuracy", models);
    summaryRow(summary, "macro_f1", "macro F1", models);
    summaryRow(summary, "cohen_kappa", "Cohen's kappa", models);
    summaryRow(summary, "macro_roc_auc", "macro ROC AUC", models);
    summaryRow(summary, "log_loss", "log loss", models);
    summaryRow(summary, "ece", "calibration error", models);
    ImGui::EndTable();
  }
  if (models == 2 && report.contains("comparison") &&
      ImGui::CollapsingHeader("Paired tests", ImGuiTreeNodeFlags_DefaultOpen)) {
    const auto& c = report["comparison"];
    if (c.contains("mcnemar")) {
      const auto& m = c["mcnemar"];
      ImGui::TextWrapped(
          "McNemar: only A right %d, only B right %d, p %s (%s)", m.value("only_a_correct", 0),
          m.value("only_b_correct", 0),
          number(reportValue(m.value("p", nlohmann::ordered_json())), "{:.3g}").c_str(),
          m.value("exact", false) ? "exact binomial" : "chi-square");
    }
    for (const char* metric : {"accuracy", "macro_f1"}) {
      if (!c.contains(metric)) continue;
      const auto& d = c[metric];
      const auto ci = d.value("ci95", nlohmann::ordered_json::array());
      ImGui::TextWrapped(
          "%s A - B %s [%s, %s], better: %s", metric,
          number(reportValue(d.value("difference", nlohmann::ordered_json())), "{:+.4f}").c_str(),
          number(ci.size() == 2 ? reportValue(ci[0]) : NAN, "{:+.4f}").c_str(),
          number(ci.size() == 2 ? reportValue(ci[1]) : NAN, "{:+.4f}").c_str(),
          d.value("better", "-").c_str());
    }
  }
  if (ImGui::CollapsingHeader("Plots", ImGuiTreeNodeFlags_DefaultOpen)) {
    ImGui::SetNextItemWidth(fieldWidth());
    ImGui::Combo("plot", &class_plot_kind_, kPlotNames);
    const std::string key =
        fmt::format("{}|{}", classification_.evaluationDir().string(), class_plot_kind_);
    if (key != class_plot_key_) {
      class_plot_key_ = key;
      class_plot_error_.clear();
      try {
        class_plot_.upload(
            classification_.plot(static_cast<ClassificationPlotKind>(class_plot_kind_), 110.0));
      } catch (const std::exception& e) {
        class_plot_error_ = e.what();
      }
    }
    if (!class_plot_error_.empty())
      ImGui::TextWrapped("%s", class_plot_error_.c_str());
    else if (!class_plot_.empty()) {
      const float width = ImGui::GetContentRegionAvail().x;
      ImGui::Image(class_plot_.id(),
                   ImVec2(width, width * static_cast<float>(class_plot_.height()) /
                                     static_cast<float>(std::max(1, class_plot_.width()))));
    }
  }
  ImGui::End();
}

}  // namespace gatescope::workbench
