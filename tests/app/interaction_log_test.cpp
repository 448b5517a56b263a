// Steps files for --play and --record: every step kind read and written back, errors that name the
// file and the step, and the recorder's reading of raw events (expected steps worked out by hand).
#include "workbench/app/interaction_log.hpp"

#include <catch2/catch.hpp>

#include "analysis/core/error.hpp"

using namespace gatescope;
using namespace gatescope::workbench;
using Json = nlohmann::json;

namespace {

std::string errorOf(const Json& steps) {
  try {
    (void)parseSteps(steps, "steps.json");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("every step kind reads and writes back unchanged", "[app]") {
  const Json steps = Json::parse(R"([
    {"select_case": "abdomen_042"}, {"key": "Tab"}, {"key": "Ctrl+Q"}, {"text": "liver"},
    {"click": [10, 20]}, {"click": [10, 20, "right"]}, {"drag": [1, 2, 300, 400, "middle"]},
    {"scroll": [500, 300, -3]}, {"scroll": [500, 300, 2, "ctrl"]}, {"frames": 5},
    {"screenshot": "a.png"}, {"open": "/data/evaluation"},
    {"inspect": {"image": "a.nii.gz", "reference": "l.nii.gz", "models": ["g.json", "b.pt"], "device": "cpu"}},
    {"inspect": {"image": "b.png", "models": ["g.json"]}}, {"key": "Escape", "busy": true},
    {"set": {"gate": "mean", "colormap": "viridis", "opacity": 0.25, "attention_of": "B",
             "label": 2, "style": "fills", "side_by_side": true, "plane": "coronal"}}
  ])");
  const std::vector<Step> parsed = parseSteps(steps, "steps.json");
  REQUIRE(parsed.size() == steps.size());
  CHECK(parsed[1].key == 258);  // GLFW_KEY_TAB
  CHECK(parsed[2].key == 'Q');
  CHECK(parsed[2].mods == kModCtrl);
  CHECK(parsed[5].button == MouseButton::Right);
  CHECK(parsed[6].x1 == 300);
  CHECK(parsed[6].button == MouseButton::Middle);
  CHECK(parsed[7].count == -3);
  CHECK(parsed[8].mods == kModCtrl);
  CHECK(parsed[15].settings.colormap == ColormapName::Viridis);
  CHECK(parsed[15].settings.label_style == LabelStyle::Fill);
  CHECK(parsed[15].settings.plane == Plane::Coronal);
  CHECK_FALSE(parsed[15].settings.threshold.has_value());
  for (size_t i = 0; i < parsed.size(); ++i) {
    INFO(steps[i].dump());
    CHECK(Json::parse(stepJson(parsed[i]).dump()) == steps[i]);
  }
}

TEST_CASE("bad steps are refused naming the file and the step", "[app]") {
  CHECK(errorOf(Json::object()) == "steps.json: expected a list of steps, found an object");
  CHECK(errorOf(Json::parse(R"([{"frames": 1}, {"hover": [1, 2]}])")) ==
        "steps.json: step 2: unknown step 'hover' (steps: select_case, key, text, click, drag, "
        "scroll, frames, screenshot, set, open, inspect)");
  CHECK(errorOf(Json::parse(R"([{"click": [1]}])")) ==
        "steps.json: step 1: click takes a list of 2 or 3 values, found [1]");
  CHECK(errorOf(Json::parse(R"([{"click": [1, -5]}])")) ==
        "steps.json: step 1: click takes window pixels (0 to 16384), found -5");
  CHECK(errorOf(Json::parse(R"([{"drag": [1, 2, 3, 4, "up"]}])")) ==
        "steps.json: step 1: drag: the button is \"left\", \"middle\" or \"right\", found \"up\"");
  CHECK(errorOf(Json::parse(R"([{"frames": 0}])")).find("step 1") != std::string::npos);
  CHECK(errorOf(Json::parse(R"([{"key": "Hyper+Tab"}])")).find("unknown key 'Hyper+Tab'") !=
        std::string::npos);
  CHECK(errorOf(Json::parse(R"([{"set": {"opacity": 2}}])")).find("opacity") != std::string::npos);
  CHECK(errorOf(Json::parse(R"([{"set": {"brightness": 2}}])")).find("brightness") !=
        std::string::npos);
  CHECK(errorOf(Json::parse(R"([{"click": [1, 2], "frames": 3}])")).find("one key") !=
        std::string::npos);
  CHECK(errorOf(Json::parse(R"([{"click": [1, 2], "busy": 1}])")) ==
        "steps.json: step 1: \"busy\" is true or false");
}

TEST_CASE("key names read back", "[app]") {
  CHECK(keyName(258, 0) == "Tab");
  CHECK(keyName('Q', kModCtrl) == "Ctrl+Q");
  CHECK(keyName(265, kModShift | kModAlt) == "Shift+Alt+Up");
  CHECK(keyName(340, 0).empty());  // left shift alone
  const auto chord = parseKeyName("Alt+Shift+Up");
  REQUIRE(chord);
  CHECK(chord->key == 265);
  CHECK(chord->mods == (kModShift | kModAlt));
  CHECK(parseKeyName("q")->key == 'Q');
  CHECK_FALSE(parseKeyName("Ctrl+"));
}

TEST_CASE("the recorder turns raw events into the steps a user took", "[app]") {
  InteractionRecorder r;
  r.mouseButton(MouseButton::Left, true, 100.4, 200.6);
  r.mouseButton(MouseButton::Left, false, 101.0, 202.0);  // within 3 px: a click where it started
  r.mouseButton(MouseButton::Right, true, 10, 10);
  r.mouseButton(MouseButton::Right, false, 60, 30);  // a drag
  r.scroll(400, 300, 1, 0);
  r.scroll(400, 300, 1, 0);   // merged: two notches
  r.scroll(400, 300, -1, 0);  // the other way: a new step
  r.scroll(400, 300, 0.5, 0);
  r.scroll(400, 300, 0.5, 0);  // half notches add up to one
  r.key(258, 0);               // Tab
  r.key('L', 0);               // printable: recorded by its character
  r.character('l');
  r.character(U'\u00e9');  // UTF-8
  r.key(340, 0);           // shift alone: nothing
  r.setBusy(true);         // a task runs: the next steps replay without waiting for it
  r.key('Q', kModCtrl);
  r.setBusy(false);
  r.screenshot("shot.png");
  Json written = Json::array();
  for (const Step& step : r.steps()) written.push_back(Json::parse(stepJson(step).dump()));
  CHECK(written == Json::parse(R"([
    {"click": [100, 201]}, {"drag": [10, 10, 60, 30, "right"]}, {"scroll": [400, 300, 2]},
    {"scroll": [400, 300, -1]}, {"scroll": [400, 300, 1]}, {"key": "Tab"}, {"text": "l\u00e9"},
    {"key": "Ctrl+Q", "busy": true}, {"screenshot": "shot.png"}
  ])"));
  // And what it writes plays back.
  CHECK(parseSteps(written, "recorded").size() == r.steps().size());
}
