// The workbench on an evaluation of classifiers, without a window: a hand-made evaluation of four
// images (two saved, one failed) whose answers are chosen so that every filter and sort has one
// right answer, worked out by hand below.
#include "workbench/app/classification_session.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/io/staged_folder.hpp"
#include "analysis/models/prediction_files.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using namespace gatescope::workbench;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// Images 24 x 16 of three classes a, b, c:
//   a/0.png  true a   A: a 0.8  B: a 0.6    both right
//   a/3.png  failed (unreadable)
//   b/1.png  true b   A: b 0.7  B: c 0.5    they disagree, B wrong; a mask
//   c/2.png  true c   A: a 0.9  B: a 0.55   both wrong, they agree
// Saved predictions (answers, and A's one gate "g"): a/0.png and b/1.png.
fs::path makeEvaluation() {
  const fs::path dir = test::scratchDir("classification_session");
  const fs::path data = dir / "planes", out = dir / "evaluation";
  Geometry grid;
  grid.dims = {24, 16, 1};
  Json cases = Json::array();
  const auto add = [&](const std::string& id, int truth, int a, std::vector<double> pa, int b,
                       std::vector<double> pb, bool saved, bool mask) {
    Volume<uint8_t> pixels(grid);
    for (int64_t v = 0; v < pixels.size(); ++v) pixels.data()[v] = static_cast<uint8_t>(v % 200);
    fs::create_directories((data / id).parent_path());
    writeImage(data / id, makeImage(pixels, ImageFormat::Png));
    const Image image = readImage(data / id);
    Json record = {
        {"id", id}, {"image", (data / id).string()}, {"status", "ok"}, {"true_class", truth}};
    if (mask) {
      Volume<uint8_t> inside(grid);
      for (int j = 4; j < 9; ++j)
        for (int i = 10; i < 16; ++i) inside(i, j, 0) = 255;
      fs::create_directories((data / "masks" / id).parent_path());
      writeImage(data / "masks" / id, makeImage(inside, ImageFormat::Png));
      record["localisation"] = "mask";
      record["mask"] = (data / "masks" / id).string();
    }
    Json a_record = {{"status", "ok"}, {"predicted_class", a}, {"probabilities", pa}};
    if (mask) a_record["attention"] = {{"g", {{"mass_in_reference", 0.4}}}};
    record["models"] = {{"A", a_record},
                        {"B", {{"status", "ok"}, {"predicted_class", b}, {"probabilities", pb}}}};
    cases.push_back(record);
    if (!saved) return;
    for (const char* key : {"A", "B"}) {
      StagedFolder folder(out / "predictions" / key / id);
      Classification c;
      c.predicted_class = key == std::string("A") ? a : b;
      c.probabilities = key == std::string("A") ? pa : pb;
      if (key == std::string("A")) {
        Volume<float> map(grid), native(grid);
        map(12, 6, 0) = native(12, 6, 0) = 0.05f;
        c.gates.push_back({"g", native, map, {}});
      }
      ModelInfo info;
      Json infer = {{"task", "classification"}};
      appendClassification(infer, c, info);
      infer["gates"] = writeGateFiles(folder, "", c.gates, image.header);
      std::ofstream(folder.stage("infer.json")) << infer.dump(2);
      folder.commit();
    }
  };
  add("a/0.png", 0, 0, {0.8, 0.1, 0.1}, 0, {0.6, 0.2, 0.2}, true, false);
  add("b/1.png", 1, 1, {0.1, 0.7, 0.2}, 2, {0.2, 0.3, 0.5}, true, true);
  add("c/2.png", 2, 0, {0.9, 0.05, 0.05}, 0, {0.55, 0.15, 0.3}, false, false);
  cases.push_back({{"id", "a/3.png"},
                   {"image", (data / "a/3.png").string()},
                   {"status", "error"},
                   {"error", "a/3.png: cannot read PNG"},
                   {"true_class", 0},
                   {"models", Json::object()}});
  Json report = {{"schema", "gatescope.report/1"},
                 {"task", "classification"},
                 {"models",
                  {{"A", {{"name", "gated"}, {"classes", 3}, {"gates", {"g"}}}},
                   {"B", {{"name", "baseline"}, {"classes", 3}, {"gates", Json::array()}}}}},
                 {"dataset", {{"path", data.string()}, {"classes", {"a", "b", "c"}}}},
                 {"cases", cases}};
  summarizeClassificationReport(report, PairedOptions{});
  std::ofstream(out / "report.json") << report.dump(2);
  return out;
}

std::vector<std::string> ids(const std::vector<ClassifiedRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("the image browser lists, filters and sorts an evaluation of classifiers",
          "[classification_session]") {
  ClassificationSession session;
  session.open(makeEvaluation());
  REQUIRE(session.modelCount() == 2);
  CHECK(session.className(2) == "c");
  CHECK(session.className(7) == "class 7");
  CHECK(ids(session.rows()) == Ids{"a/0.png", "a/3.png", "b/1.png", "c/2.png"});
  CHECK(ids(session.rows({}, ClassifiedFilter::Disagreements)) == Ids{"b/1.png"});
  CHECK(ids(session.rows({}, ClassifiedFilter::Errors)) == Ids{"a/3.png", "b/1.png", "c/2.png"});
  CHECK(ids(session.rows({}, ClassifiedFilter::WrongA)) == Ids{"a/3.png", "c/2.png"});
  CHECK(ids(session.rows({}, ClassifiedFilter::WrongB)) == Ids{"a/3.png", "b/1.png", "c/2.png"});
  CHECK(ids(session.rows({}, ClassifiedFilter::All, 0)) == Ids{"a/0.png", "a/3.png"});
  CHECK(ids(session.rows("B/")) == Ids{"b/1.png"});
  CHECK(ids(session.rows({}, ClassifiedFilter::All, -1, ClassifiedSort::ConfidenceA, true)) ==
        Ids{"c/2.png", "a/0.png", "b/1.png", "a/3.png"});  // 0.9, 0.8, 0.7, none last
  CHECK(ids(session.rows({}, ClassifiedFilter::All, -1, ClassifiedSort::ConfidenceB)) ==
        Ids{"b/1.png", "c/2.png", "a/0.png", "a/3.png"});  // 0.5, 0.55, 0.6, none last
  const auto failed = session.rows("a/3");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].status == "a/3.png: cannot read PNG");
  CHECK_FALSE(failed[0].has_predictions);
  CHECK(session.rows("b/1")[0].has_predictions);
  CHECK_FALSE(session.rows("c/2")[0].has_predictions);
  // The first saved image the two models answer differently.
  CHECK(session.openingImage() == "b/1.png");
}

TEST_CASE("an image of a classifiers' evaluation shows its gates and answers",
          "[classification_session]") {
  ClassificationSession session;
  session.open(makeEvaluation());
  CHECK_THROWS_AS(session.imagePanels(), UsageError);
  session.show("b/1.png");
  const SavedCase* shown = session.current();
  REQUIRE(shown);
  CHECK(shown->volumes.true_class == 1);
  REQUIRE(shown->volumes.reference);
  CHECK((*shown->volumes.reference)(12, 6, 0) == 1);  // inside the mask
  CHECK((*shown->volumes.reference)(2, 2, 0) == 0);
  REQUIRE(shown->models.size() == 2);
  CHECK(shown->models[0].gates.size() == 1);
  CHECK(shown->models[1].classification->predicted_class == 2);
  const PanelGrid panels = session.imagePanels();
  REQUIRE(panels.rows.size() == 1);
  REQUIRE(panels.rows[0].size() == 3);  // the image, A's gate, B (no gates)
  CHECK(panels.rows[0][1].caption == "A: b 0.70, right");
  CHECK(panels.rows[0][2].caption == "B: c 0.50, wrong");
  const auto attention = session.imageAttention("A");
  REQUIRE(attention.size() == 1);
  CHECK(attention[0].first == "g");
  CHECK(attention[0].second["mass_in_reference"].get<double>() == Approx(0.4));
  CHECK(session.imageAttention("B").empty());
  CHECK_THROWS_WITH(session.show("c/2.png"), Catch::Contains("no saved predictions"));
  CHECK_THROWS_WITH(session.show("z.png"), Catch::Contains("no case 'z.png'"));
  CHECK(session.current()->volumes.id == "b/1.png");  // a failed show keeps the image shown
  const RgbaImage confusion = session.plot(ClassificationPlotKind::Confusion, 72.0);
  CHECK(confusion.width > 100);
  CHECK(confusion.height > 50);
}

TEST_CASE("a segmentation report is not opened as a classifiers' evaluation",
          "[classification_session]") {
  const fs::path dir = test::scratchDir("classification_session_other");
  std::ofstream(dir / "report.json") << R"({"schema": "gatescope.report/1", "cases": []})";
  ClassificationSession session;
  CHECK_THROWS_WITH(session.open(dir), Catch::Contains("\"task\" is not \"classification\""));
  CHECK_FALSE(session.isOpen());
  CHECK_THROWS_WITH(session.open(dir / "missing"), Catch::Contains("no report.json"));
}
