#pragma once

// What the workbench's panels share: panel flags, colours, a legend swatch, a colour bar, number
// formatting, compact tables, the metric table and the modal form.
#include <imgui.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "renderers/colormap.hpp"
#include "workbench/app/path_completion.hpp"
#include "workbench/app/workbench_state.hpp"

namespace gatescope::workbench {

// No keyboard navigation in the panels: Tab toggles A | B | difference and must never move the
// keyboard focus into a panel's text field (the case filter).
inline constexpr ImGuiWindowFlags kPanelFlags =
    ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
    ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoNavInputs;
// Compact tables that fit a side panel: tight cell padding, a horizontal scroll bar where a narrow
// window still cuts them.
inline constexpr ImGuiTableFlags kPanelTableFlags =
    ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit |
    ImGuiTableFlags_ScrollX;
// Room left for a field's label on the right of a combo or slider in a side panel.
inline constexpr float kFieldLabelWidth = 96.0f;
// How long a confirmation stays in the status bar.
inline constexpr double kNoticeSeconds = 8.0;
inline constexpr const char* kPlaneTitles[3] = {"axial", "coronal", "sagittal"};

// A fixed panel at (x, y), w x h pixels: ImGui::Begin with kPanelFlags and `extra` (End it).
void beginPanel(const char* title, float x, float y, float w, float h, ImGuiWindowFlags extra = 0);

[[nodiscard]] ImVec4 toImVec4(Rgba c);
[[nodiscard]] ImU32 toImU32(Rgba c);
// A model's colour for text on the dark theme: its contour colour.
[[nodiscard]] ImVec4 modelTextColor(int model);

// A colour swatch the height of a text line (a line sample, else a block), then its text.
void legendItem(Rgba color, const std::string& text, bool line);
// A horizontal colour bar of `map` over [lo, hi], `width` pixels wide, then "title: lo to hi".
void colorBar(ColormapName map, double lo, double hi, float width, const std::string& title);

// "-" for NaN, "inf"/"-inf", else `format`.
[[nodiscard]] std::string number(double value, const char* format = "{:.3f}");
// A report number ("nan"/"inf" strings included); NaN when missing.
[[nodiscard]] double reportValue(const nlohmann::ordered_json& value);

// Escape closes the open modal, as its Cancel button does.
void closeOnEscape();

// One field of a form: a path (completed, with a browser) or, with `text`, any text.
struct FormField {
  const char* label;
  std::string* value;
  PathKind kind = PathKind::OpenFile;
  std::vector<std::string> extensions = {};
  bool text = false;
};
inline const std::vector<std::string> kModelFiles{".json", ".pt"};
inline const std::vector<std::string> kImageFiles{".nii",  ".nii.gz", ".png", ".nrrd",
                                                  ".nhdr", ".mha",    ".mhd"};

// A modal form: a line of text, the fields, whatever `extra` adds, and Run / Cancel. Run calls
// `run`; its error goes to `fail`.
void drawForm(const char* title, bool& open, const char* text, const std::vector<FormField>& fields,
              const std::function<void()>& extra, const std::function<void()>& run,
              const std::function<void(const std::string&)>& fail);

// A combo or slider as wide as the panel leaves room for its label.
[[nodiscard]] float fieldWidth();
// A compact table as tall as its rows (ScrollX needs an outer size).
bool beginPanelTable(const char* id, int columns, int rows);

// Dice, HD95, ASSD, precision and recall per label for one or two models, and A - B: a row with the
// label's name, then its metrics, so no row is wider than a side panel. `per_model` holds each
// model's {label: {metric: value}} as reports write them.
void drawCaseMetricTable(const char* id, const char* first_column,
                         const std::vector<std::string>& titles,
                         const std::vector<nlohmann::ordered_json>& per_model,
                         const std::map<int, std::string>& names);

}  // namespace gatescope::workbench
