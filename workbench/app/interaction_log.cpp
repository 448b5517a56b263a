#include "workbench/app/interaction_log.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope::workbench {

namespace {

using Json = nlohmann::json;

// A press and release closer than this (window pixels) is a click.
constexpr double kClickSlop = 3.0;
constexpr int kMaxFrames = 100000;

// GLFW's key codes of the keys that have names (letters and digits are their ASCII codes).
constexpr std::pair<const char*, int> kNamedKeys[] = {
    {"Space", 32},   {"Escape", 256}, {"Enter", 257},    {"Tab", 258},  {"Backspace", 259},
    {"Insert", 260}, {"Delete", 261}, {"Right", 262},    {"Left", 263}, {"Down", 264},
    {"Up", 265},     {"PageUp", 266}, {"PageDown", 267}, {"Home", 268}, {"End", 269},
    {"F1", 290},     {"F2", 291},     {"F3", 292},       {"F4", 293},   {"F5", 294},
    {"F6", 295},     {"F7", 296},     {"F8", 297},       {"F9", 298},   {"F10", 299},
    {"F11", 300},    {"F12", 301},
};
constexpr std::pair<const char*, int> kModifiers[] = {
    {"Ctrl", kModCtrl}, {"Shift", kModShift}, {"Alt", kModAlt}, {"Super", kModSuper}};

const char* buttonName(MouseButton button) {
  switch (button) {
    case MouseButton::Right:
      return "right";
    case MouseButton::Middle:
      return "middle";
    case MouseButton::Left:
      break;
  }
  return "left";
}

std::optional<MouseButton> parseButton(const std::string& name) {
  if (name == "left") return MouseButton::Left;
  if (name == "right") return MouseButton::Right;
  if (name == "middle") return MouseButton::Middle;
  return std::nullopt;
}

// Reads one step; `where` is "<file>: step N" for errors.
class StepReader {
 public:
  StepReader(const Json& value, std::string where) : value_(value), where_(std::move(where)) {}

  Step read() const {
    // One key names the step; "busy": true may go with it.
    const bool busy_key = value_.is_object() && value_.size() == 2 && value_.contains("busy");
    if (!value_.is_object() || (value_.size() != 1 && !busy_key))
      fail(fmt::format("expected an object with one key such as {{\"click\": [x, y]}}, found {}",
                       jsonExcerpt(value_)));
    Step step;
    if (busy_key) {
      if (!value_["busy"].is_boolean()) fail("\"busy\" is true or false");
      step.busy = value_["busy"].get<bool>();
    }
    auto item = value_.items().begin();
    if (item.key() == "busy") ++item;
    const std::string& name = item.key();
    const Json& argument = item.value();
    if (name == "select_case") {
      step.kind = Step::Kind::SelectCase;
      step.text = string(argument, name);
    } else if (name == "key") {
      step.kind = Step::Kind::Key;
      step.text = string(argument, name);
      const auto chord = parseKeyName(step.text);
      if (!chord)
        fail(
            fmt::format("unknown key '{}' (keys: letters, digits, Tab, Enter, Escape, Space, "
                        "Backspace, Delete, Up, Down, Left, Right, Home, End, PageUp, PageDown, "
                        "F1-F12, with Ctrl+, Shift+, Alt+)",
                        step.text.substr(0, 40)));
      step.key = chord->key, step.mods = chord->mods;
    } else if (name == "text") {
      step.kind = Step::Kind::Text;
      step.text = string(argument, name);
    } else if (name == "click") {
      step.kind = Step::Kind::Click;
      const Json& a = array(argument, name, 2, 3);
      step.x0 = coordinate(a[0], name), step.y0 = coordinate(a[1], name);
      if (a.size() == 3) step.button = button(a[2], name);
    } else if (name == "drag") {
      step.kind = Step::Kind::Drag;
      const Json& a = array(argument, name, 5, 5);
      step.x0 = coordinate(a[0], name), step.y0 = coordinate(a[1], name);
      step.x1 = coordinate(a[2], name), step.y1 = coordinate(a[3], name);
      step.button = button(a[4], name);
    } else if (name == "scroll") {
      step.kind = Step::Kind::Scroll;
      const Json& a = array(argument, name, 3, 4);
      step.x0 = coordinate(a[0], name), step.y0 = coordinate(a[1], name);
      step.count = static_cast<int>(jsonInteger(a[2], -1000, 1000, "scroll notches", where_));
      if (a.size() == 4) {
        if (a[3] != "ctrl") fail("the fourth value of scroll can only be \"ctrl\"");
        step.mods = kModCtrl;
      }
    } else if (name == "frames") {
      step.kind = Step::Kind::Frames;
      step.count = static_cast<int>(jsonInteger(argument, 1, kMaxFrames, "frames", where_));
    } else if (name == "screenshot") {
      step.kind = Step::Kind::Screenshot;
      step.text = string(argument, name);
    } else if (name == "open") {
      step.kind = Step::Kind::Open;
      step.text = string(argument, name);
    } else if (name == "inspect") {
      step.kind = Step::Kind::Inspect;
      const JsonFields f(argument, where_, "inspect");
      f.onlyKeys({"image", "reference", "models", "device"});
      step.text = f.string("image");
      step.reference = f.string("reference", "");
      step.device = f.string("device", "auto");
      const Json& models = f.at("models");
      if (!models.is_array() || models.empty() || models.size() > 2)
        fail(fmt::format("inspect.models takes a list of one or two model files, found {}",
                         jsonExcerpt(models)));
      for (const auto& model : models) step.models.push_back(string(model, "inspect.models"));
    } else if (name == "set") {
      step.kind = Step::Kind::Set;
      step.settings = settings(argument);
    } else {
      fail(
          fmt::format("unknown step '{}' (steps: select_case, key, text, click, drag, scroll, "
                      "frames, screenshot, set, open, inspect)",
                      name.substr(0, 40)));
    }
    return step;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw FormatError(fmt::format("{}: {}", where_, problem));
  }

  std::string string(const Json& value, const std::string& name) const {
    if (!value.is_string() || value.get<std::string>().empty())
      fail(fmt::format("{} takes a non-empty string, found {}", name, jsonExcerpt(value)));
    return value.get<std::string>();
  }

  const Json& array(const Json& value, const std::string& name, size_t min, size_t max) const {
    if (!value.is_array() || value.size() < min || value.size() > max)
      fail(fmt::format("{} takes a list of {} values, found {}", name,
                       min == max ? std::to_string(min) : fmt::format("{} or {}", min, max),
                       jsonExcerpt(value)));
    return value;
  }

  double coordinate(const Json& value, const std::string& name) const {
    if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0 ||
        value.get<double>() > 16384)
      fail(fmt::format("{} takes window pixels (0 to 16384), found {}", name, jsonExcerpt(value)));
    return value.get<double>();
  }

  MouseButton button(const Json& value, const std::string& name) const {
    const auto parsed = value.is_string() ? parseButton(value.get<std::string>()) : std::nullopt;
    if (!parsed)
      fail(fmt::format("{}: the button is \"left\", \"middle\" or \"right\", found {}", name,
                       jsonExcerpt(value)));
    return *parsed;
  }

  ViewSettings settings(const Json& value) const {
    const JsonFields f(value, where_, "set");
    f.onlyKeys({"gate", "gate_b", "colormap", "opacity", "threshold", "attention_of", "label",
                "style", "native_gate", "side_by_side", "show_reference", "show_a", "show_b",
                "plane"});
    ViewSettings s;
    if (f.has("gate")) s.gate = f.string("gate");
    if (f.has("gate_b")) s.gate_b = f.string("gate_b");
    if (f.has("colormap")) {
      const std::string name = f.string("colormap");
      s.colormap = parseColormapName(name);
      if (!s.colormap)
        f.fail("colormap", fmt::format("is not one of {}", fmt::join(colormapNames(), ", ")));
    }
    const auto fraction = [&](const char* key) {
      const double v = f.number(key);
      if (!(v >= 0.0 && v <= 1.0)) f.fail(key, "must lie between 0 and 1");
      return v;
    };
    if (f.has("opacity")) s.opacity = fraction("opacity");
    if (f.has("threshold")) s.threshold = fraction("threshold");
    if (f.has("attention_of")) s.attention_of = f.string("attention_of");
    if (f.has("label")) s.focus_label = static_cast<int>(f.integer("label", 0, 1 << 30));
    if (f.has("style")) {
      const std::string style = f.string("style");
      if (style != "contours" && style != "fills") f.fail("style", "is \"contours\" or \"fills\"");
      s.label_style = style == "fills" ? LabelStyle::Fill : LabelStyle::Contour;
    }
    if (f.has("native_gate")) s.native_gate = f.boolean("native_gate");
    if (f.has("side_by_side")) s.side_by_side = f.boolean("side_by_side");
    if (f.has("show_reference")) s.show_reference = f.boolean("show_reference");
    if (f.has("show_a")) s.show_prediction_a = f.boolean("show_a");
    if (f.has("show_b")) s.show_prediction_b = f.boolean("show_b");
    if (f.has("plane")) {
      const std::string plane = f.string("plane");
      if (plane == "axial")
        s.plane = Plane::Axial;
      else if (plane == "coronal")
        s.plane = Plane::Coronal;
      else if (plane == "sagittal")
        s.plane = Plane::Sagittal;
      else
        f.fail("plane", "is \"axial\", \"coronal\" or \"sagittal\"");
    }
    return s;
  }

  const Json& value_;
  std::string where_;
};

}  // namespace

std::optional<KeyChord> parseKeyName(const std::string& name) {
  KeyChord chord;
  std::string rest = name;
  for (bool found = true; found;) {
    found = false;
    for (const auto& [modifier, bit] : kModifiers) {
      const std::string prefix = std::string(modifier) + "+";
      if (rest.size() > prefix.size() && rest.compare(0, prefix.size(), prefix) == 0) {
        chord.mods |= bit;
        rest = rest.substr(prefix.size());
        found = true;
      }
    }
  }
  if (rest.size() == 1 &&
      ((rest[0] >= 'A' && rest[0] <= 'Z') || (rest[0] >= '0' && rest[0] <= '9'))) {
    chord.key = rest[0];
    return chord;
  }
  if (rest.size() == 1 && rest[0] >= 'a' && rest[0] <= 'z') {
    chord.key = rest[0] - 'a' + 'A';
    return chord;
  }
  for (const auto& [key_name, code] : kNamedKeys)
    if (rest == key_name) {
      chord.key = code;
      return chord;
    }
  return std::nullopt;
}

std::string keyName(int key, int mods) {
  std::string base;
  if ((key >= 'A' && key <= 'Z') || (key >= '0' && key <= '9'))
    base = std::string(1, static_cast<char>(key));
  for (const auto& [name, code] : kNamedKeys)
    if (code == key) base = name;
  if (base.empty()) return {};
  std::string prefix;
  for (const auto& [modifier, bit] : kModifiers)
    if (mods & bit) prefix += std::string(modifier) + "+";
  return prefix + base;
}

std::vector<Step> parseSteps(const nlohmann::json& steps, const std::string& source) {
  if (!steps.is_array())
    throw FormatError(
        fmt::format("{}: expected a list of steps, found {}", source, jsonKind(steps)));
  std::vector<Step> parsed;
  for (size_t i = 0; i < steps.size(); ++i)
    parsed.push_back(StepReader(steps[i], fmt::format("{}: step {}", source, i + 1)).read());
  return parsed;
}

std::vector<Step> readSteps(const std::filesystem::path& file) {
  return parseSteps(readJsonFile(file, "steps file"), file.string());
}

namespace {

// Whole pixels as integers ([60, 236], not [60.0, 236.0]).
nlohmann::ordered_json pixel(double v) {
  if (v == std::round(v)) return static_cast<int64_t>(v);
  return v;
}

}  // namespace

namespace {

// The step without "busy".
nlohmann::ordered_json stepBody(const Step& step) {
  using OJson = nlohmann::ordered_json;
  switch (step.kind) {
    case Step::Kind::SelectCase:
      return {{"select_case", step.text}};
    case Step::Kind::Key:
      return {{"key", step.text.empty() ? keyName(step.key, step.mods) : step.text}};
    case Step::Kind::Text:
      return {{"text", step.text}};
    case Step::Kind::Click: {
      OJson at = OJson::array({pixel(step.x0), pixel(step.y0)});
      if (step.button != MouseButton::Left) at.push_back(buttonName(step.button));
      return {{"click", at}};
    }
    case Step::Kind::Drag:
      return {{"drag", OJson::array({pixel(step.x0), pixel(step.y0), pixel(step.x1), pixel(step.y1),
                                     buttonName(step.button)})}};
    case Step::Kind::Scroll: {
      OJson at = OJson::array({pixel(step.x0), pixel(step.y0), step.count});
      if (step.mods & kModCtrl) at.push_back("ctrl");
      return {{"scroll", at}};
    }
    case Step::Kind::Frames:
      return {{"frames", step.count}};
    case Step::Kind::Screenshot:
      return {{"screenshot", step.text}};
    case Step::Kind::Open:
      return {{"open", step.text}};
    case Step::Kind::Inspect: {
      OJson inspect{{"image", step.text}};
      if (!step.reference.empty()) inspect["reference"] = step.reference;
      inspect["models"] = step.models;
      if (step.device != "auto") inspect["device"] = step.device;
      return {{"inspect", inspect}};
    }
    case Step::Kind::Set: {
      const ViewSettings& s = step.settings;
      OJson set = OJson::object();
      if (s.gate) set["gate"] = *s.gate;
      if (s.gate_b) set["gate_b"] = *s.gate_b;
      if (s.colormap) set["colormap"] = colormapName(*s.colormap);
      if (s.opacity) set["opacity"] = *s.opacity;
      if (s.threshold) set["threshold"] = *s.threshold;
      if (s.attention_of) set["attention_of"] = *s.attention_of;
      if (s.focus_label) set["label"] = *s.focus_label;
      if (s.label_style) set["style"] = *s.label_style == LabelStyle::Fill ? "fills" : "contours";
      if (s.native_gate) set["native_gate"] = *s.native_gate;
      if (s.side_by_side) set["side_by_side"] = *s.side_by_side;
      if (s.show_reference) set["show_reference"] = *s.show_reference;
      if (s.show_prediction_a) set["show_a"] = *s.show_prediction_a;
      if (s.show_prediction_b) set["show_b"] = *s.show_prediction_b;
      if (s.plane) {
        static const char* kPlanes[] = {"axial", "coronal", "sagittal"};
        set["plane"] = kPlanes[static_cast<int>(*s.plane)];
      }
      return {{"set", set}};
    }
  }
  return {};
}

}  // namespace

nlohmann::ordered_json stepJson(const Step& step) {
  nlohmann::ordered_json json = stepBody(step);
  if (step.busy) json["busy"] = true;
  return json;
}

// --- recording ---

void InteractionRecorder::add(Step step) {
  step.busy = busy_;
  steps_.push_back(std::move(step));
}

void InteractionRecorder::mouseButton(MouseButton button, bool pressed, double x, double y) {
  x = std::max(0.0, std::round(x)), y = std::max(0.0, std::round(y));
  if (pressed) {
    if (!pressed_) pressed_ = Press{button, x, y};
    return;
  }
  if (!pressed_ || pressed_->button != button) return;
  Step step;
  step.button = button;
  step.x0 = pressed_->x, step.y0 = pressed_->y;
  if (std::hypot(x - pressed_->x, y - pressed_->y) <= kClickSlop) {
    step.kind = Step::Kind::Click;
  } else {
    step.kind = Step::Kind::Drag;
    step.x1 = x, step.y1 = y;
  }
  pressed_.reset();
  add(step);
}

void InteractionRecorder::scroll(double x, double y, double notches, int mods) {
  x = std::max(0.0, std::round(x)), y = std::max(0.0, std::round(y));
  scroll_rest_ += notches;
  const int whole = static_cast<int>(scroll_rest_);  // towards zero
  if (whole == 0) return;
  scroll_rest_ -= whole;
  mods &= kModCtrl;
  if (!steps_.empty()) {
    Step& last = steps_.back();
    if (last.kind == Step::Kind::Scroll && last.x0 == x && last.y0 == y && last.mods == mods &&
        (last.count > 0) == (whole > 0)) {
      last.count += whole;
      return;
    }
  }
  Step step;
  step.kind = Step::Kind::Scroll;
  step.x0 = x, step.y0 = y, step.count = whole, step.mods = mods;
  add(step);
}

void InteractionRecorder::key(int key, int mods) {
  // Printable keys without Ctrl/Alt arrive as characters too: recorded once, as text.
  const bool printable = (key >= 'A' && key <= 'Z') || (key >= '0' && key <= '9') || key == 32;
  if (printable && !(mods & (kModCtrl | kModAlt | kModSuper))) return;
  const std::string name = keyName(key, mods);
  if (name.empty()) return;  // modifiers alone, keys without a name
  Step step;
  step.kind = Step::Kind::Key;
  step.key = key, step.mods = mods, step.text = name;
  add(step);
}

void InteractionRecorder::character(char32_t c) {
  std::string utf8;
  if (c < 0x80) {
    utf8 = std::string(1, static_cast<char>(c));
  } else if (c < 0x800) {
    utf8 = {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
  } else if (c < 0x10000) {
    utf8 = {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
            static_cast<char>(0x80 | (c & 0x3F))};
  } else {
    utf8 = {static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
            static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
  }
  if (!steps_.empty() && steps_.back().kind == Step::Kind::Text) {
    steps_.back().text += utf8;
    return;
  }
  Step step;
  step.kind = Step::Kind::Text;
  step.text = utf8;
  add(step);
}

void InteractionRecorder::screenshot(const std::string& file) {
  Step step;
  step.kind = Step::Kind::Screenshot;
  step.text = file;
  add(step);
}

void InteractionRecorder::save(const std::filesystem::path& file) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Step& step : steps_) list.push_back(stepJson(step));
  std::string text = "[\n";
  for (size_t i = 0; i < list.size(); ++i)
    text += "  " + list[i].dump() + (i + 1 < list.size() ? ",\n" : "\n");  // a step per line
  writeFileAtomically(file, text + "]\n");
}

}  // namespace gatescope::workbench
