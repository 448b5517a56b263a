// The workbench's state without a window, on a small evaluation folder written here: every expected
// value is worked out by hand from the volumes below (case browser, linked cursor in the
// radiological orientation, probe, scenes, overlay and native gates, revision, session, recent
// files).
#include "workbench/app/workbench_state.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "analysis/core/error.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/io/json_file.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using namespace gatescope::workbench;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kSaved = "Abdomen_001";  // the one case with saved predictions

// 20x16x8 voxels of 1x1x2 mm in LPS order (i towards the patient's left, j posterior, k superior).
Geometry imageGrid() {
  Geometry g;
  g.dims = {20, 16, 8};
  g.spacing_mm = {1, 1, 2};
  g.origin = {10, 20, -5};
  g.direction = {{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}};
  return g;
}

bool inBlock(int64_t i, int64_t j, int64_t k, Index3 lo, Index3 hi) {
  return i >= lo[0] && i <= hi[0] && j >= lo[1] && j <= hi[1] && k >= lo[2] && k <= hi[2];
}

template <typename T, typename F>
Volume<T> filled(const Geometry& grid, F value) {
  Volume<T> v(grid);
  for (int64_t k = 0; k < grid.dims[2]; ++k)
    for (int64_t j = 0; j < grid.dims[1]; ++j)
      for (int64_t i = 0; i < grid.dims[0]; ++i) v(i, j, k) = static_cast<T>(value(i, j, k));
  return v;
}

template <typename T>
void write(const fs::path& file, Volume<T> volume) {
  fs::create_directories(file.parent_path());
  writeImage(file, makeImage(std::move(volume)));
}

// Two classes as channels: P(label 1) = 0.9 inside the prediction, 0.1 outside.
Volume<float> probabilities(const Volume<int32_t>& labels) {
  Volume<float> p(labels.geometry(), 2);
  for (int64_t n = 0; n < labels.voxelsPerChannel(); ++n) {
    const float one = labels.values()[n] == 1 ? 0.9f : 0.1f;
    p.values()[n] = 1.0f - one;
    p.values()[n + labels.voxelsPerChannel()] = one;
  }
  return p;
}

void writeJson(const fs::path& file, const Json& json) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << json.dump(2);
}

// The evaluation folder (a fresh one per test: ctest runs the test cases as separate processes).
//  image      i + 20 j + 320 k - 1000 (CT-like: -1000 to 1559)
//  reference  label 1 in i 4..8, j 6..10, k 2..4 (centre 6, 8, 3); label 2 in i 14..16, j 2..4,
//  k 5..7 A          label 1 in i 5..9, j 6..10, k 2..4; gates g1 = i / 32, g2 = j / 16 on the
//  image grid and
//             g1 natively at half resolution (10x8x4 of 2x2x4 mm), value 100 a + 10 b + c
//  B          label 1 in i 4..8, j 6..10, k 2..3; gate g1 = 0.25
fs::path writeEvaluation(const std::string& name) {
  const fs::path dir = test::scratchDir("workbench_state_" + name);
  const Geometry grid = imageGrid();
  const fs::path image_file = dir / "dataset" / "imagesTs" / "Abdomen_001.nii.gz";
  const fs::path reference_file = dir / "dataset" / "labelsTs" / "Abdomen_001.nii.gz";
  write(image_file,
        filled<float>(grid, [](auto i, auto j, auto k) { return i + 20 * j + 320 * k - 1000; }));
  write(reference_file, filled<int32_t>(grid, [](auto i, auto j, auto k) {
          return inBlock(i, j, k, {4, 6, 2}, {8, 10, 4})    ? 1
                 : inBlock(i, j, k, {14, 2, 5}, {16, 4, 7}) ? 2
                                                            : 0;
        }));
  const fs::path a = dir / "predictions" / "A" / kSaved, b = dir / "predictions" / "B" / kSaved;
  const auto labels_a = filled<int32_t>(grid, [](auto i, auto j, auto k) {
    return inBlock(i, j, k, {5, 6, 2}, {9, 10, 4});
  });
  const auto labels_b = filled<int32_t>(grid, [](auto i, auto j, auto k) {
    return inBlock(i, j, k, {4, 6, 2}, {8, 10, 3});
  });
  write(a / "labels.nii.gz", labels_a);
  write(a / "probabilities.nii.gz", probabilities(labels_a));
  write(a / "gates" / "g1.nii.gz",
        filled<float>(grid, [](auto i, auto, auto) { return i / 32.0; }));
  write(a / "gates" / "g2.nii.gz",
        filled<float>(grid, [](auto, auto j, auto) { return j / 16.0; }));
  Geometry native = grid;
  native.dims = {10, 8, 4};
  native.spacing_mm = {2, 2, 4};
  native.origin = grid.indexToWorld({0.5, 0.5, 0.5});  // a native voxel covers 2x2x2 image voxels
  write(a / "gates" / "g1_native.nii.gz",
        filled<float>(native, [](auto i, auto j, auto k) { return 100 * i + 10 * j + k; }));
  write(b / "labels.nii.gz", labels_b);
  write(b / "probabilities.nii.gz", probabilities(labels_b));
  write(b / "gates" / "g1.nii.gz", filled<float>(grid, [](auto, auto, auto) { return 0.25; }));

  const auto metrics = [](Json dice, Json hd95) {
    return Json{{"dice", dice}, {"hd95_mm", hd95}, {"status", "ok"}};
  };
  const Json images = Json::array({image_file.string()});
  Json report = {
      {"schema", "gatescope.report/1"},
      {"models",
       {{"A", {{"name", "gated"}, {"gates", Json::array({"g1", "g2"})}}},
        {"B", {{"name", "baseline"}, {"gates", Json::array({"g1"})}}}}},
      {"dataset",
       {{"path", (dir / "dataset").string()},
        {"labels", {{"0", "background"}, {"1", "liver"}, {"2", "kidney"}}}}},
      {"settings", {{"metrics", {{"labels", {1, 2}}}}}},
      {"cases",
       Json::array({{{"id", kSaved},
                     {"status", "ok"},
                     {"images", images},
                     {"reference", reference_file.string()},
                     {"models",
                      {{"A",
                        {{"status", "ok"},
                         {"labels", {{"1", metrics(0.8, "inf")}, {"2", metrics(0.5, 4.0)}}}}},
                       {"B",
                        {{"status", "ok"},
                         {"labels", {{"1", metrics(0.6, 3.0)}, {"2", metrics(0.7, 2.5)}}}}}}}},
                    {{"id", "abdomen_002"},
                     {"status", "ok"},
                     {"images", images},
                     {"reference", reference_file.string()},
                     {"models",
                      {{"A", {{"status", "ok"}, {"labels", {{"1", metrics(0.9, 2.0)}}}}},
                       {"B", {{"status", "error"}, {"error", "out of memory"}}}}}},
                    {{"id", "abdomen_003"},
                     {"status", "error"},
                     {"error", "abdomen_003.nii.gz: truncated"},
                     {"models", Json::object()}}})},
  };
  writeJson(dir / "report.json", report);
  return dir;
}

std::vector<std::string> ids(const std::vector<CaseRow>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row.id);
  return out;
}

// A state with the saved case shown, the cursor at label 1's centre.
WorkbenchState stateWithCase(const fs::path& dir) {
  WorkbenchState state;
  state.openEvaluation(dir);
  state.layers.focus_label = 1;
  state.showCase(state.readCase(kSaved));
  state.layers.focus_label = 0;
  return state;
}

template <typename F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the case browser shows the report's cases with values per model and label", "[app]") {
  const fs::path dir = writeEvaluation("browser");
  WorkbenchState state;
  state.openEvaluation(dir);
  CHECK(state.evaluationDir() == dir);
  CHECK(state.labelNames().at(1) == "liver");
  const auto rows = state.caseRows();
  REQUIRE(ids(rows) == std::vector<std::string>{"Abdomen_001", "abdomen_002", "abdomen_003"});
  CHECK(rows[0].status == "ok");
  CHECK(rows[0].has_predictions);
  CHECK(rows[0].dice_a == 0.8);
  CHECK(rows[0].dice_b == 0.6);
  CHECK(rows[0].dice_difference == Approx(0.2));
  CHECK(std::isinf(rows[0].hd95_a));
  CHECK(rows[0].hd95_b == 3.0);
  CHECK(rows[1].status == "B: out of memory");
  CHECK_FALSE(rows[1].has_predictions);
  CHECK(rows[1].dice_a == 0.9);
  CHECK(std::isnan(rows[1].dice_b));
  CHECK(std::isnan(rows[1].dice_difference));
  CHECK(rows[2].status == "abdomen_003.nii.gz: truncated");
  CHECK(std::isnan(rows[2].dice_a));

  state.browser_label = 2;
  const auto label2 = state.caseRows("abdomen_001");  // case-insensitive
  REQUIRE(label2.size() == 1);
  CHECK(label2[0].dice_a == 0.5);
  CHECK(label2[0].dice_difference == Approx(-0.2));
  CHECK(label2[0].hd95_a == 4.0);
}

TEST_CASE("case rows filter and sort with missing values last", "[app]") {
  WorkbenchState state;
  state.openEvaluation(writeEvaluation("sorting"));
  using V = std::vector<std::string>;
  CHECK(ids(state.caseRows("ABDOMEN_00")).size() == 3);
  CHECK(ids(state.caseRows("men_002")) == V{"abdomen_002"});
  CHECK(ids(state.caseRows("xyz")).empty());
  CHECK(ids(state.caseRows({}, CaseSort::Id, true)) ==
        V{"abdomen_003", "abdomen_002", "Abdomen_001"});
  CHECK(ids(state.caseRows({}, CaseSort::DiceA)) == V{"Abdomen_001", "abdomen_002", "abdomen_003"});
  CHECK(ids(state.caseRows({}, CaseSort::DiceA, true)) ==
        V{"abdomen_002", "Abdomen_001", "abdomen_003"});
  CHECK(ids(state.caseRows({}, CaseSort::DiceB, true)) ==
        V{"Abdomen_001", "abdomen_002", "abdomen_003"});
  CHECK(ids(state.caseRows({}, CaseSort::DiceDifference)) ==
        V{"Abdomen_001", "abdomen_002", "abdomen_003"});
  // inf is a value (the worst distance), NaN is none.
  CHECK(ids(state.caseRows({}, CaseSort::Hd95A)) == V{"abdomen_002", "Abdomen_001", "abdomen_003"});
  CHECK(ids(state.caseRows({}, CaseSort::Hd95A, true)) ==
        V{"Abdomen_001", "abdomen_002", "abdomen_003"});
  CHECK(ids(state.caseRows({}, CaseSort::Hd95B, true)) ==
        V{"Abdomen_001", "abdomen_002", "abdomen_003"});
}

TEST_CASE("showing a case puts the cursor at the focus label's centre and picks the CT window",
          "[app]") {
  const fs::path dir = writeEvaluation("show");
  WorkbenchState state;
  state.openEvaluation(dir);
  SavedCase loaded = state.readCase(kSaved);
  REQUIRE(loaded.models.size() == 2);
  CHECK(loaded.models[0].name == "A: gated");
  REQUIRE(loaded.models[0].native_gates.size() == 1);
  CHECK(loaded.models[0].native_gates[0].second.dims() == Index3{10, 8, 4});
  CHECK(loaded.models[1].native_gates.empty());
  REQUIRE(loaded.models[1].probabilities);

  state.view(Plane::Axial).zoom = 3.0;
  state.showCase(loaded);  // no focus label: the middle
  CHECK(state.currentCaseId() == kSaved);
  CHECK(state.cursor() == Vec3{10, 8, 4});
  CHECK(state.window.center == 40.0);  // the 1st percentile is about -974 HU: CT
  CHECK(state.window.width == 400.0);
  CHECK(state.view(Plane::Axial).zoom == 1.0);

  state.layers.focus_label = 1;
  state.showCase(loaded);
  CHECK(state.cursor() == Vec3{6, 8, 3});
  state.layers.focus_label = 2;  // centre (15, 3, 6)
  state.showCase(std::move(loaded));
  CHECK(state.cursor() == Vec3{15, 3, 6});
  CHECK(state.slice(Plane::Axial) == 6);
  CHECK(state.slice(Plane::Coronal) == 3);
  CHECK(state.slice(Plane::Sagittal) == 15);
}

TEST_CASE("a click in any view moves the linked cursor within that view's slice", "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("cursor"));
  REQUIRE(state.cursor() == Vec3{6, 8, 3});
  // Axial (LPS): columns follow i (towards the patient's left, shown on the right), rows follow j
  // (posterior, shown at the bottom): pixel (12.5, 3.5) is voxel (12, 3) of slice k = 3.
  state.setCursorFromPicture(Plane::Axial, 12.5, 3.5);
  CHECK(state.cursor() == Vec3{12, 3, 3});
  // Coronal at j = 3: columns follow i, rows run against k (superior at the top) with 2 mm voxels
  // shown as 2 pixels: row 5.5 is k = 7 - (5.5 / 2 - 0.5) = 4.75, voxel 5.
  state.setCursorFromPicture(Plane::Coronal, 15.5, 5.5);
  CHECK(state.cursor() == Vec3{15, 3, 5});
  // Sagittal at i = 15: columns follow j (anterior on the left), rows run against k: row 0.5 is
  // k = 7 - (0.25 - 0.5) = 7.25, voxel 7.
  state.setCursorFromPicture(Plane::Sagittal, 3.5, 0.5);
  CHECK(state.cursor() == Vec3{15, 3, 7});
  // Beyond the picture: clamped to the grid.
  state.setCursorFromPicture(Plane::Axial, -40.0, 100.0);
  CHECK(state.cursor() == Vec3{0, 15, 7});
  state.setCursor({2.4, 30, -3});
  CHECK(state.cursor() == Vec3{2, 15, 0});
}

TEST_CASE("scrolling moves the cursor along each plane's normal axis, clamped", "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("scroll"));
  state.scroll(Plane::Axial, -2);
  CHECK(state.cursor() == Vec3{6, 8, 1});
  state.scroll(Plane::Axial, 10);
  CHECK(state.cursor() == Vec3{6, 8, 7});
  state.scroll(Plane::Sagittal, 100);
  CHECK(state.cursor() == Vec3{19, 8, 7});
  state.scroll(Plane::Coronal, -100);
  CHECK(state.cursor() == Vec3{19, 0, 7});
  CHECK(state.slice(Plane::Axial) == 7);
  CHECK(state.slice(Plane::Coronal) == 0);
  CHECK(state.slice(Plane::Sagittal) == 19);
}

TEST_CASE("the probe reads every volume under the cursor", "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("probe"));
  state.setCursor({9, 8, 3});
  const Probe probe = state.probe();
  CHECK(probe.voxel == Vec3{9, 8, 3});
  CHECK(probe.world == Vec3{10 - 9, 20 - 8, -5 + 2 * 3});
  CHECK(probe.image == 9 + 20 * 8 + 320 * 3 - 1000);
  CHECK(probe.reference == 0);
  CHECK(probe.predicted == std::vector<int>{1, 0});
  REQUIRE(probe.gates.size() == 3);
  CHECK(probe.gates[0].first == "A: gated / g1");
  CHECK(probe.gates[0].second == 9 / 32.0);
  CHECK(probe.gates[1].first == "A: gated / g2");
  CHECK(probe.gates[1].second == 0.5);
  CHECK(probe.gates[2].first == "B: baseline / g1");
  CHECK(probe.gates[2].second == 0.25);
  CHECK(WorkbenchState().probe().predicted.empty());
  // Under the mouse: any point, rounded and clamped to the grid; the cursor stays.
  const Probe hovered = state.probeAt({4.4, 2.6, 99.0});
  CHECK(hovered.voxel == Vec3{4, 3, 7});
  CHECK(hovered.image == 4 + 20 * 3 + 320 * 7 - 1000);
  CHECK(state.cursor() == Vec3{9, 8, 3});
  CHECK(state.probeAt({-3, -0.2, 1}).voxel == Vec3{0, 0, 1});
}

TEST_CASE("window presets and dragging change the window in proportion to the image's range",
          "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("window"));
  state.applyWindowPreset("minmax");
  CHECK(state.window.lo() == Approx(-1000));
  CHECK(state.window.hi() == Approx(1559));
  state.window = {40, 400};
  state.dragWindow(100, 0);  // the range is 2559: 100 of 500 pixels widen by 511.8
  CHECK(state.window.width == Approx(400 + 511.8));
  CHECK(state.window.center == 40);
  state.dragWindow(0, 50);  // down lowers the level
  CHECK(state.window.center == Approx(40 - 255.9));
  state.dragWindow(-1e6, 0);
  CHECK(state.window.width == Approx(2.559));
  CHECK_THROWS_AS(state.applyWindowPreset("bogus"), UsageError);
}

TEST_CASE("slice scenes hold the image, the overlay and the label layers the settings ask for",
          "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("scene"));
  const SavedCase& c = *state.currentCase();
  SliceScene scene = state.sliceScene(Plane::Axial);
  CHECK(scene.plane == Plane::Axial);
  CHECK(scene.slice == 3);
  CHECK(scene.image.volume == &c.volumes.image);
  CHECK(scene.image.lo == -160.0);
  CHECK(scene.image.hi == 240.0);
  REQUIRE(scene.overlays.size() == 1);
  CHECK(scene.overlays[0].volume == state.overlayVolume(0));
  CHECK(scene.overlays[0].colormap == ColormapName::Jet);
  CHECK(scene.overlays[0].opacity == 0.5);
  CHECK(scene.overlays[0].threshold == 0.1);
  REQUIRE(scene.labels.size() == 3);
  CHECK(scene.labels[0].labels == &*c.volumes.reference);
  CHECK(scene.labels[0].color == kReferenceColor);
  CHECK(scene.labels[1].labels == &*c.models[0].prediction);
  // The models' colours of every plot and figure.
  CHECK(scene.labels[1].color == kModelAColor);
  CHECK(scene.labels[2].labels == &*c.models[1].prediction);
  CHECK(scene.labels[2].color == kModelBColor);
  CHECK(scene.labels[0].only.empty());
  CHECK(scene.labels[1].opacity == 1.0);
  // Fills are translucent, so one model's fill does not hide the other's.
  state.layers.label_style = LabelStyle::Fill;
  for (const auto& layer : state.sliceScene(Plane::Axial).labels) CHECK(layer.opacity <= 0.5);
  state.layers.label_style = LabelStyle::Contour;
  const RgbaImage picture = composeSlice(scene);
  CHECK(picture.width == 20);
  CHECK(picture.height == 16);
  CHECK(composeSlice(state.sliceScene(Plane::Coronal)).height == 16);  // 8 slices of 2 mm

  state.layers.focus_label = 1;
  state.layers.show_prediction_b = false;
  state.layers.label_style = LabelStyle::Fill;
  state.layers.overlay_model = -1;
  scene = state.sliceScene(Plane::Axial);
  CHECK(scene.overlays.empty());
  REQUIRE(scene.labels.size() == 2);
  CHECK(scene.labels[1].only == std::vector<int>{1});
  CHECK(scene.labels[1].style == LabelStyle::Fill);

  // Side by side: each view its own model's gates and prediction.
  state.layers = {};
  state.side_by_side = true;
  scene = state.sliceScene(Plane::Axial, 1);
  REQUIRE(scene.overlays.size() == 1);
  CHECK(scene.overlays[0].volume == &c.models[1].gates[0].second);  // B's only gate is its "mean"
  REQUIRE(scene.labels.size() == 2);
  CHECK(scene.labels[1].labels == &*c.models[1].prediction);
  scene = state.sliceScene(Plane::Axial, 0);
  CHECK(scene.labels[1].labels == &*c.models[0].prediction);
  state.layers.overlay_gate = "g2";  // B has no g2
  CHECK(state.sliceScene(Plane::Axial, 0).overlays[0].volume == &c.models[0].gates[1].second);
  CHECK(state.sliceScene(Plane::Axial, 1).overlays.empty());
  state.layers.show_reference = false;
  CHECK(state.sliceScene(Plane::Axial, 1).labels.size() == 1);
  CHECK_THROWS_AS(WorkbenchState().sliceScene(Plane::Axial), UsageError);
}

TEST_CASE("the overlay shows the mean of the gates, a gate, or a native gate on the image grid",
          "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("overlay"));
  CHECK(state.gateNames(0) == std::vector<std::string>{"mean", "g1", "g2"});
  CHECK(state.gateNames(1) == std::vector<std::string>{"g1"});
  CHECK(state.gateNames(2).empty());
  const Volume<float>* mean = state.overlayVolume(0);
  REQUIRE(mean);
  CHECK((*mean)(6, 8, 3) == (6 / 32.0 + 8 / 16.0) / 2);
  CHECK((*mean)(19, 0, 0) == (19 / 32.0) / 2);
  CHECK(state.overlayVolume(0) == mean);  // cached
  state.layers.overlay_gate = "nope";
  CHECK(state.overlayVolume(0) == nullptr);

  CHECK(state.hasNativeGate(0, "g1"));
  CHECK_FALSE(state.hasNativeGate(0, "g2"));
  CHECK_FALSE(state.hasNativeGate(1, "g1"));
  state.layers.overlay_gate = "g1";
  state.layers.native_gate = true;
  const Volume<float>* native = state.overlayVolume(0);
  REQUIRE(native);
  CHECK(native->geometry().sameGrid(state.currentCase()->volumes.image.geometry()));
  // Image voxel i lies at native index (i - 0.5) / 2: the nearest native voxel is i / 2 (integer
  // division), on every axis. The native value is 100 a + 10 b + c.
  CHECK((*native)(0, 0, 0) == 0);
  CHECK((*native)(1, 1, 1) == 0);
  CHECK((*native)(2, 3, 2) == 111);
  CHECK((*native)(5, 7, 3) == 231);
  CHECK((*native)(19, 15, 7) == 973);
  CHECK(state.overlayVolume(0) == native);
  CHECK(state.sliceScene(Plane::Axial).overlays[0].interpolation == Interpolation::Nearest);
  // Without a native map the resampled gate stays.
  CHECK(state.overlayVolume(1) == &state.currentCase()->models[1].gates[0].second);
  state.layers.overlay_gate = "g2";
  CHECK(state.overlayVolume(0) == &state.currentCase()->models[0].gates[1].second);
  CHECK(state.sliceScene(Plane::Axial).overlays[0].interpolation == Interpolation::Linear);
}

TEST_CASE("the difference view shows where the models' probabilities differ", "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("difference"));
  const Volume<float>* difference = state.differenceVolume();
  REQUIRE(difference);
  CHECK(state.differenceDescription() == "P(foreground): A - B");
  CHECK((*difference)(9, 8, 3) == Approx(0.8));   // only A
  CHECK((*difference)(4, 8, 3) == Approx(-0.8));  // only B
  CHECK((*difference)(6, 8, 4) == Approx(0.8));   // only A (B stops at k = 3)
  CHECK(std::isnan((*difference)(6, 8, 3)));      // both
  CHECK(std::isnan((*difference)(0, 0, 0)));      // neither
  state.layers.focus_label = 1;
  CHECK(state.differenceDescription() == "P(liver): A - B");
  CHECK((*state.differenceVolume())(4, 8, 3) == Approx(-0.8));
  // Label 2 has no probability channel: the predictions' disagreement (none: neither predicts it).
  state.layers.focus_label = 2;
  CHECK(state.differenceDescription() == "kidney: only A (+1), only B (-1)");
  CHECK(std::isnan((*state.differenceVolume())(15, 3, 6)));
  const SliceScene scene = state.differenceScene(Plane::Axial);
  REQUIRE(scene.overlays.size() == 1);
  CHECK(scene.overlays[0].colormap == ColormapName::Diverging);
  CHECK(scene.labels.size() == 1);
}

TEST_CASE("the revision moves with every change to a picture and only then", "[app]") {
  WorkbenchState state;
  const uint64_t empty = state.revision();
  CHECK(state.revision() == empty);
  state.openEvaluation(writeEvaluation("revision"));
  uint64_t seen = state.revision();
  CHECK(seen > empty);
  const auto moved = [&] {
    const uint64_t now = state.revision();
    const bool changed = now > seen;
    seen = now;
    return changed;
  };
  state.showCase(state.readCase(kSaved));
  CHECK(moved());
  CHECK_FALSE(moved());
  state.setCursor(state.cursor());
  CHECK_FALSE(moved());
  state.setCursor({1, 2, 3});
  CHECK(moved());
  state.scroll(Plane::Axial, 1);
  CHECK(moved());
  state.scroll(Plane::Axial, -100);
  CHECK(moved());
  state.scroll(Plane::Axial, -1);  // already at slice 0
  CHECK_FALSE(moved());
  state.layers.opacity = 0.7;
  CHECK(moved());
  state.layers.opacity = 0.7;
  CHECK_FALSE(moved());
  state.window.center = 10;
  CHECK(moved());
  state.view(Plane::Coronal).pan_x = 4;
  CHECK(moved());
  state.side_by_side = true;
  CHECK(moved());
  state.dragWindow(1, 0);
  CHECK(moved());
  (void)state.caseRows();
  (void)state.sliceScene(Plane::Axial);
  (void)state.probe();
  CHECK_FALSE(moved());
}

TEST_CASE("a session file restores the evaluation, case, cursor, window, layers and views",
          "[app]") {
  const fs::path dir = writeEvaluation("session");
  WorkbenchState state = stateWithCase(dir);
  state.setCursor({9, 8, 3});
  state.window = {50, 300};
  state.layers.colormap = ColormapName::Viridis;
  state.layers.label_style = LabelStyle::Fill;
  state.layers.opacity = 0.7;
  state.layers.overlay_gate = "g1";
  state.layers.native_gate = true;
  state.layers.show_prediction_b = false;
  state.layers.focus_label = 2;
  state.browser_label = 2;
  state.side_by_side = true;
  state.view(Plane::Coronal) = {2.0, 5.0, -3.0};
  const fs::path file = dir / "session.json";
  state.saveSession(file);

  WorkbenchState restored;
  const uint64_t before = restored.revision();
  restored.loadSession(file);
  CHECK(restored.revision() > before);
  CHECK(restored.evaluationDir() == dir);
  CHECK(restored.currentCaseId() == kSaved);
  CHECK(restored.cursor() == Vec3{9, 8, 3});
  CHECK(restored.window.center == 50);
  CHECK(restored.window.width == 300);
  CHECK(restored.layers == state.layers);
  CHECK(restored.browser_label == 2);
  CHECK(restored.side_by_side);
  CHECK(restored.view(Plane::Coronal) == ViewTransform{2.0, 5.0, -3.0});
  CHECK(restored.view(Plane::Axial) == ViewTransform{});
  CHECK(restored.sessionJson() == state.sessionJson());
  CHECK(state.sessionJson()["layers"]["colormap"] == "viridis");
}

TEST_CASE("sessions naming a missing folder or case fail clearly and change nothing", "[app]") {
  const fs::path dir = writeEvaluation("session_errors");
  WorkbenchState state = stateWithCase(dir);
  nlohmann::json session = state.sessionJson();
  session["evaluation"] = (dir / "gone").string();
  CHECK_THAT(errorOf([&] { state.applySession(session); }),
             Catch::Contains((dir / "gone").string()));
  session["evaluation"] = dir.string();
  session["case"] = "abdomen_999";
  CHECK_THAT(errorOf([&] { state.applySession(session); }), Catch::Contains("abdomen_999"));
  session["case"] = "abdomen_002";
  CHECK_THAT(errorOf([&] { state.applySession(session); }),
             Catch::Contains("no saved predictions"));
  session["case"] = kSaved;
  session["layers"]["colormap"] = "rainbow";
  CHECK_THAT(errorOf([&] { state.applySession(session); }), Catch::Contains("rainbow"));
  CHECK(state.currentCaseId() == kSaved);
  CHECK(state.cursor() == Vec3{6, 8, 3});

  const fs::path garbage = dir / "garbage.json";
  std::ofstream(garbage) << "{ not json";
  CHECK_THAT(errorOf([&] { state.loadSession(garbage); }), Catch::Contains(garbage.string()));
}

TEST_CASE("errors name the report or case", "[app]") {
  const fs::path dir = writeEvaluation("errors");
  WorkbenchState state;
  CHECK_THROWS_AS(state.readCase(kSaved), UsageError);
  writeJson(dir / "other" / "report.json", {{"hello", 1}});
  CHECK_THAT(errorOf([&] { state.openEvaluation(dir / "other"); }),
             Catch::Contains((dir / "other" / "report.json").string()) &&
                 Catch::Contains("not a gatescope evaluation report"));
  CHECK_THAT(errorOf([&] { state.openEvaluation(dir / "missing"); }),
             Catch::Contains("report.json"));
  CHECK_FALSE(state.report());
  state.openEvaluation(dir);
  CHECK_THAT(errorOf([&] { (void)state.readCase("abdomen_999"); }), Catch::Contains("abdomen_999"));
  CHECK_THAT(errorOf([&] { (void)state.readCase("abdomen_002"); }),
             Catch::Contains("abdomen_002") && Catch::Contains("no saved predictions"));
}

TEST_CASE("recent files are kept newest first, without duplicates, at most ten", "[app]") {
  const fs::path config = test::scratchDir("workbench_state_recent");
  ::setenv("XDG_CONFIG_HOME", config.c_str(), 1);
  CHECK(recentFiles().empty());
  rememberRecentFile("/data/a");
  rememberRecentFile("/data/b");
  rememberRecentFile("/data/a/");
  CHECK(recentFiles() == std::vector<std::string>{"/data/a", "/data/b"});
  CHECK(fs::exists(config / "gatescope" / "recent.json"));
  for (int n = 0; n < 12; ++n) rememberRecentFile("/data/" + std::to_string(n));
  const auto recent = recentFiles();
  REQUIRE(recent.size() == 10);
  CHECK(recent.front() == "/data/11");
  CHECK(recent.back() == "/data/2");

  std::ofstream(config / "gatescope" / "recent.json") << "[ broken";
  CHECK(recentFiles().empty());
  rememberRecentFile("/data/c");
  CHECK(recentFiles() == std::vector<std::string>{"/data/c"});
  ::unsetenv("XDG_CONFIG_HOME");
}

TEST_CASE("picture keys tell cases, reads and evaluations apart where everything else is equal",
          "[app]") {
  // abdomen_002 gets the same saved files as the first case: same image, grid, slices and labels,
  // so only the case's identity tells its pictures apart.
  const fs::path dir = writeEvaluation("picture_keys");
  for (const char* model : {"A", "B"})
    fs::copy(dir / "predictions" / model / kSaved, dir / "predictions" / model / "abdomen_002",
             fs::copy_options::recursive);
  WorkbenchState state;
  state.openEvaluation(dir);
  state.showCase(state.readCase(kSaved));
  const WindowLevel window{0.0, 800.0};
  state.window = window;
  const PictureKey first = state.pictureKey(Plane::Coronal);
  const PictureKey first_3d = state.volumeKey(0);
  CHECK(state.pictureKey(Plane::Coronal) == first);  // nothing changed: the cached picture stays

  state.showCase(state.readCase("abdomen_002"));
  state.window = window;  // the same cursor (both are centred on the same grid), layers and window
  const PictureKey second = state.pictureKey(Plane::Coronal);
  REQUIRE(second.slice == first.slice);
  CHECK(second.case_id == "abdomen_002");
  CHECK_FALSE(second == first);
  CHECK_FALSE(state.volumeKey(0) == first_3d);

  // The same case read again is new data (the files may have been rewritten).
  state.showCase(state.readCase("abdomen_002"));
  state.window = window;
  CHECK_FALSE(state.pictureKey(Plane::Coronal) == second);

  // Another evaluation (here the same folder opened again) with the same case shown.
  const PictureKey before = state.pictureKey(Plane::Axial, 1);
  state.openEvaluation(dir);
  state.showCase(state.readCase("abdomen_002"));
  state.window = window;
  CHECK(state.evaluationGeneration() != before.evaluation_generation);
  CHECK_FALSE(state.pictureKey(Plane::Axial, 1) == before);

  // Scrolling changes the slice pictures of that plane only, and never the 3D view's.
  const PictureKey axial = state.pictureKey(Plane::Axial),
                   coronal = state.pictureKey(Plane::Coronal);
  const PictureKey volume = state.volumeKey(0);
  state.scroll(Plane::Axial, 1);
  CHECK_FALSE(state.pictureKey(Plane::Axial) == axial);
  CHECK(state.pictureKey(Plane::Coronal) == coronal);
  CHECK(state.volumeKey(0) == volume);
  // Settings every picture shows.
  state.layers.colormap = ColormapName::Viridis;
  CHECK_FALSE(state.pictureKey(Plane::Coronal) == coronal);
  CHECK_FALSE(state.volumeKey(0) == volume);
}

TEST_CASE("a restored session's case is new data for the views", "[app]") {
  const fs::path dir = writeEvaluation("picture_keys_session");
  WorkbenchState state = stateWithCase(dir);
  const PictureKey before = state.pictureKey(Plane::Axial);
  const fs::path file = dir / "session.json";
  state.saveSession(file);
  WorkbenchState restored;
  restored.loadSession(file);
  CHECK(restored.currentCaseId() == state.currentCaseId());
  CHECK(restored.caseGeneration() != state.caseGeneration());
  CHECK_FALSE(restored.pictureKey(Plane::Axial) == before);
}

TEST_CASE("set steps change the settings they name and refuse models and gates the case lacks",
          "[app]") {
  WorkbenchState state = stateWithCase(writeEvaluation("set_steps"));
  ViewSettings s;
  s.attention_of = "baseline";  // by name
  s.gate = "g1";
  s.colormap = ColormapName::Viridis;
  s.opacity = 0.3;
  s.side_by_side = true;
  state.applySettings(s);
  CHECK(state.layers.overlay_model == 1);
  CHECK(state.layers.overlay_gate == "g1");
  CHECK(state.layers.colormap == ColormapName::Viridis);
  CHECK(state.layers.opacity == 0.3);
  CHECK(state.layers.threshold == 0.1);  // not named: unchanged
  CHECK(state.side_by_side);

  const LayerSettings before = state.layers;
  ViewSettings bad_gate;
  bad_gate.attention_of = "A";
  bad_gate.gate = "g7";
  CHECK(errorOf([&] { state.applySettings(bad_gate); }) ==
        "gate 'g7': the model's gates are mean, g1, g2");
  CHECK(state.layers == before);  // nothing changed
  ViewSettings bad_model;
  bad_model.attention_of = "C";
  CHECK(errorOf([&] { state.applySettings(bad_model); }) ==
        "attention of 'C': the case has no such model");
  ViewSettings none;
  none.attention_of = "none";
  state.applySettings(none);
  CHECK(state.layers.overlay_model == -1);
  CHECK(state.whyNoAttention(0).empty());  // both models of this case have gates
}

TEST_CASE(
    "a case read for an evaluation that is no longer open is dropped, not shown under another",
    "[app]") {
  const fs::path first = writeEvaluation("race_first"), second = writeEvaluation("race_second");
  WorkbenchState state;
  state.openEvaluation(first);
  // A background task takes its request (by value) and reads ...
  const WorkbenchState::CaseRequest request = state.requestCase(kSaved);
  SavedCase loaded = WorkbenchState::readCase(request);
  // ... while the user opens another evaluation; then the task finishes.
  state.openEvaluation(second);
  CHECK_FALSE(state.showRequestedCase(request, std::move(loaded)));
  CHECK(state.currentCase() == nullptr);
  CHECK(state.evaluationDir() == second);
  // A request for the open evaluation is shown.
  const WorkbenchState::CaseRequest current = state.requestCase(kSaved);
  CHECK(current.evaluation == second);
  CHECK(state.showRequestedCase(current, WorkbenchState::readCase(current)));
  CHECK(state.currentCaseId() == kSaved);
}

TEST_CASE("the first case to look at is the saved case where A and B differ most", "[app]") {
  const fs::path dir = writeEvaluation("most_different");
  WorkbenchState state;
  state.openEvaluation(dir);
  CHECK(state.mostDifferentCase() == kSaved);  // the only saved case
  for (const char* model : {"A", "B"})
    fs::copy(dir / "predictions" / model / kSaved, dir / "predictions" / model / "abdomen_002",
             fs::copy_options::recursive);
  state.openEvaluation(dir);
  // Liver Dice A - B: Abdomen_001 0.8 - 0.6 = 0.2; abdomen_002: B failed, no difference (0).
  CHECK(state.mostDifferentCase() == kSaved);
  state.browser_label = 2;  // kidney: 0.5 - 0.7 = -0.2 vs nothing
  CHECK(state.mostDifferentCase() == kSaved);
}

TEST_CASE(
    "an evaluation opens on its smallest label, that label's most different case, the finest gate",
    "[app]") {
  const fs::path dir = writeEvaluation("opening");
  WorkbenchState state;
  state.openEvaluation(dir);
  // Without reference volumes in the report there is nothing to choose from.
  CHECK(state.openingChoice().label == 0);
  CHECK(state.openingChoice().case_id.empty());

  // Reference volumes: liver 9000 and 11000 mm3, kidney 300 and 500; a second saved case whose
  // kidney Dice differs by 0.4 (Abdomen_001: 0.2).
  Json report = readOrderedJsonFile(dir / "report.json", "report");
  auto& cases = report["cases"];
  cases[0]["models"]["A"]["labels"]["1"]["reference_volume_mm3"] = 9000.0;
  cases[0]["models"]["A"]["labels"]["2"]["reference_volume_mm3"] = 300.0;
  cases[1]["models"]["A"]["labels"]["1"]["reference_volume_mm3"] = 11000.0;
  cases[1]["models"]["A"]["labels"]["2"] = {
      {"dice", 0.9}, {"hd95_mm", 1.0}, {"status", "ok"}, {"reference_volume_mm3", 500.0}};
  cases[1]["models"]["B"] = {
      {"status", "ok"},
      {"labels",
       {{"1", {{"dice", 0.9}, {"status", "ok"}}}, {"2", {{"dice", 0.5}, {"status", "ok"}}}}}};
  writeJson(dir / "report.json", report);
  for (const char* model : {"A", "B"})
    fs::copy(dir / "predictions" / model / kSaved, dir / "predictions" / model / "abdomen_002",
             fs::copy_options::recursive);
  state.openEvaluation(dir);
  const WorkbenchState::OpeningChoice choice = state.openingChoice();
  CHECK(choice.label == 2);
  CHECK(choice.case_id == "abdomen_002");
  CHECK(state.mostDifferentCase() == kSaved);  // the browser's label (liver) is left alone

  // The finest gate: the one native map of A (g1); B saved none.
  CHECK(state.finestGate(0).empty());  // no case shown yet
  state.showCase(state.readCase(kSaved));
  CHECK(state.finestGate(0) == "g1");
  CHECK(state.finestGate(1).empty());
  CHECK(state.finestGate(2).empty());
}

TEST_CASE("attribution maps saved by an evaluation are layers of their model, side by side too",
          "[app]") {
  const fs::path dir = writeEvaluation("attribution");
  // B's Grad-CAM at conv3 for classes 1 and 2, as evaluate --attribution --save-predictions
  // writes it: class 1 = i - 5 (evidence grows along i), class 2 = -1 everywhere (none).
  const Geometry grid = imageGrid();
  Volume<float> maps(grid, 2);
  for (int64_t k = 0; k < grid.dims[2]; ++k)
    for (int64_t j = 0; j < grid.dims[1]; ++j)
      for (int64_t i = 0; i < grid.dims[0]; ++i) {
        maps(i, j, k, 0) = static_cast<float>(i - 5);
        maps(i, j, k, 1) = -1.0f;
      }
  write(dir / "predictions" / "B" / kSaved / "attributions" / "gradcam" / "conv3.nii.gz", maps);
  Json report = Json::parse(std::ifstream(dir / "report.json"));
  report["settings"]["attribution"] = {
      {"maps",
       Json::array(
           {{{"model", "B"}, {"method", "gradcam"}, {"layers", {"conv3"}}, {"classes", {1, 2}}}})},
      {"region", "predicted"},
      {"statistics", "of each map's positive part divided by its maximum"}};
  writeJson(dir / "report.json", report);

  WorkbenchState state = stateWithCase(dir);
  CHECK(state.gateNames(0) == std::vector<std::string>{"mean", "g1", "g2"});
  CHECK(state.gateNames(1) ==
        std::vector<std::string>{"g1", "gradcam@conv3 class 1", "gradcam@conv3 class 2"});
  // Shown as the positive part divided by its maximum (14 at i = 19).
  const auto& shown = state.currentCase()->models[1].attributions;
  REQUIRE(shown.size() == 2);
  CHECK(shown[0].second(19, 3, 4) == 1.0f);
  CHECK(shown[0].second(12, 0, 0) == Approx(7.0 / 14.0));
  CHECK(shown[0].second(2, 9, 1) == 0.0f);
  CHECK(shown[1].second(7, 7, 7) == 0.0f);

  // Side by side, A shows its gate g2 and B its Grad-CAM.
  ViewSettings settings;
  settings.side_by_side = true;
  settings.attention_of = "A";
  settings.gate = "g2";
  settings.gate_b = "gradcam@conv3 class 1";
  state.applySettings(settings);
  CHECK(state.overlayVolume(0) == &state.currentCase()->models[0].gates[1].second);
  CHECK(state.overlayVolume(1) == &shown[0].second);
  REQUIRE(state.sliceScene(Plane::Axial, 1).overlays.size() == 1);
  CHECK(state.sliceScene(Plane::Axial, 1).overlays[0].volume == &shown[0].second);
  CHECK(state.sliceScene(Plane::Axial, 0).overlays[0].volume ==
        &state.currentCase()->models[0].gates[1].second);
  // The single view keeps showing A's choice for whichever model it overlays.
  state.side_by_side = false;
  CHECK(state.overlayVolume(1) == nullptr);  // B has no gate g2
  // The probe reads the maps too.
  const Probe probe = state.probe();
  CHECK(std::count_if(probe.gates.begin(), probe.gates.end(), [](const auto& g) {
          return g.first == "B: baseline / gradcam@conv3 class 1";
        }) == 1);
  // A map B lacks is refused and nothing changes.
  ViewSettings wrong;
  wrong.gate_b = "gradcam@conv9 class 1";
  CHECK(errorOf([&] { state.applySettings(wrong); }).find("model B's maps are g1") !=
        std::string::npos);
  CHECK(state.layers.overlay_gate_b == "gradcam@conv3 class 1");
}

TEST_CASE("maps computed in the workbench join the shown case's model, never another case's",
          "[app]") {
  const fs::path dir = writeEvaluation("attribution_on_demand");
  WorkbenchState state = stateWithCase(dir);
  const Geometry grid = imageGrid();
  Volume<float> first(grid, 1, 0.25f), second(grid, 1, 0.75f);
  const uint64_t generation = state.caseGeneration();
  const PictureKey before = state.pictureKey(Plane::Axial, 1);
  CHECK(state.addAttributionMaps(generation, 1, {{"gradient@input class 1", first}}));
  CHECK(state.gateNames(1) == std::vector<std::string>{"g1", "gradient@input class 1"});
  CHECK(!(state.pictureKey(Plane::Axial, 1) == before));  // pictures redraw
  // The same name again replaces the map; the generation moved, so the new one is asked for.
  CHECK(!state.addAttributionMaps(generation, 1, {{"gradient@input class 1", second}}));
  CHECK(state.addAttributionMaps(state.caseGeneration(), 1, {{"gradient@input class 1", second}}));
  REQUIRE(state.currentCase()->models[1].attributions.size() == 1);
  CHECK(state.currentCase()->models[1].attributions[0].second(3, 3, 3) == 0.75f);
  // The map shows like a gate.
  ViewSettings settings;
  settings.attention_of = "B";
  settings.gate = "gradient@input class 1";
  state.applySettings(settings);
  CHECK(state.overlayVolume(1) == &state.currentCase()->models[1].attributions[0].second);
  // No model C; a map on another grid is refused and nothing changes.
  CHECK(!state.addAttributionMaps(state.caseGeneration(), 2, {{"x class 1", first}}));
  Geometry other = grid;
  other.spacing_mm[0] *= 2.0;
  CHECK(errorOf([&] {
          (void)state.addAttributionMaps(state.caseGeneration(), 0,
                                         {{"y class 1", Volume<float>(other)}});
        }).find("lies on") != std::string::npos);
  CHECK(state.currentCase()->models[0].attributions.empty());
}
