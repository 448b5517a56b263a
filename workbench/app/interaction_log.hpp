#pragma once

// Replayable interaction (docs/workbench.md, "Replaying interaction"): the steps
// `gatescope-workbench --play STEPS.json` runs and `--record FILE` writes. A steps file is a JSON
// list; each step is an object with one key:
//   {"select_case": ID}            the case browser's row click
//   {"key": "Tab"}                 a key press, with modifiers: "Ctrl+Q"
//   {"text": "liver"}              characters typed (into the focused text field)
//   {"click": [x, y]}              a left click; [x, y, "right"|"middle"] another button
//   {"drag": [x0, y0, x1, y1, "left"|"middle"|"right"]}
//   {"scroll": [x, y, n]}          n wheel notches (+: away from the user); [x, y, n, "ctrl"]
//   {"frames": N}                  N frames without input
//   {"screenshot": FILE}           the window as a PNG, once nothing is loading
//   {"set": {"gate": ..., "colormap": ..., "opacity": ..., "attention_of": ..., ...}}
//   {"open": PATH}                 an evaluation folder or a session file (as File > Recent)
//   {"inspect": {"image": F, "reference": F, "models": [A, B], "device": D}}
//                                  File > Inspect one image (reference, B and device optional)
// Coordinates are window pixels from the top left. A step starts once nothing is loading or
// running, unless it carries "busy": true (a click on "cancel" while an evaluation runs):
//   {"key": "Escape", "busy": true}
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "renderers/colormap.hpp"
#include "renderers/slice_compositor.hpp"

namespace gatescope::workbench {

// The settings a "set" step changes; unset fields stay as they are.
struct ViewSettings {
  std::optional<std::string> gate;    // a gate name, "mean" or an attribution map's name
  std::optional<std::string> gate_b;  // side by side: what model B's side shows ("": as gate)
  std::optional<ColormapName> colormap;
  std::optional<double> opacity;            // 0..1
  std::optional<double> threshold;          // 0..1
  std::optional<std::string> attention_of;  // "A", "B", a model's name, or "none"
  std::optional<int> focus_label;           // 0: every label
  std::optional<LabelStyle> label_style;    // "contours" or "fills"
  std::optional<bool> native_gate, side_by_side, show_reference, show_prediction_a,
      show_prediction_b;
  std::optional<Plane> plane;  // the plane of the A | B | difference view
};

enum class MouseButton { Left = 0, Right = 1, Middle = 2 };  // Dear ImGui's order

// Modifier bits as GLFW numbers them.
inline constexpr int kModShift = 1, kModCtrl = 2, kModAlt = 4, kModSuper = 8;

struct Step {
  enum class Kind {
    SelectCase,
    Key,
    Text,
    Click,
    Drag,
    Scroll,
    Frames,
    Screenshot,
    Set,
    Open,
    Inspect
  };
  Kind kind = Kind::Frames;
  std::string text;       // case id, typed text, screenshot file, path; the key's name
  double x0 = 0, y0 = 0;  // click, scroll, start of a drag
  double x1 = 0, y1 = 0;  // end of a drag
  MouseButton button = MouseButton::Left;
  int key = 0;    // GLFW key code
  int mods = 0;   // kMod* bits (key and scroll)
  int count = 0;  // scroll notches, frames
  ViewSettings settings;
  // inspect: the image is `text`.
  std::string reference, device;
  std::vector<std::string> models;
  bool busy = false;  // starts while a task runs, without waiting for it
};

// Parses a steps list; FormatError naming `source` and the step ("steps.json: step 3: ...").
[[nodiscard]] std::vector<Step> parseSteps(const nlohmann::json& steps, const std::string& source);
[[nodiscard]] std::vector<Step> readSteps(const std::filesystem::path& file);
[[nodiscard]] nlohmann::ordered_json stepJson(const Step& step);

// "Ctrl+Tab" -> GLFW key code and modifier bits; std::nullopt for an unknown name.
struct KeyChord {
  int key = 0;
  int mods = 0;
};
[[nodiscard]] std::optional<KeyChord> parseKeyName(const std::string& name);
// The name parseKeyName reads back; empty for keys without one (they are recorded as text).
[[nodiscard]] std::string keyName(int key, int mods);

// Turns a real session's events into steps: a press and release of one button within a few pixels
// is a click, else a drag; wheel notches at one place merge; named keys (and chords with Ctrl or
// Alt) are keys, characters are text.
class InteractionRecorder {
 public:
  void mouseButton(MouseButton button, bool pressed, double x, double y);
  void scroll(double x, double y, double notches, int mods);
  void key(int key, int mods);  // a press (repeats included)
  void character(char32_t c);
  void screenshot(const std::string& file);
  // Whether a task runs now: steps recorded meanwhile replay without waiting for tasks.
  void setBusy(bool busy) { busy_ = busy; }
  [[nodiscard]] const std::vector<Step>& steps() const { return steps_; }
  // The steps as a JSON list, written atomically.
  void save(const std::filesystem::path& file) const;

 private:
  struct Press {
    MouseButton button;
    double x, y;
  };
  void add(Step step);
  std::optional<Press> pressed_;
  bool busy_ = false;
  std::vector<Step> steps_;
  double scroll_rest_ = 0;  // fractions of a notch (touchpads) until they add up to one
};

}  // namespace gatescope::workbench
