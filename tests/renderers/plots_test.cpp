// Plots of evaluation reports: axis helpers against hand-computed values, data extraction from a
// small hand-written report, and each plot against a baseline plus pixel checks at positions
// computed from the axis mapping.
#include "renderers/plots.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "analysis/core/error.hpp"
#include "renderers/classification_plots.hpp"
#include "renderers/colormap.hpp"
#include "renderers/plot_axes.hpp"
#include "tests/renderers/baseline_image.hpp"

using namespace gatescope;
using Json = nlohmann::ordered_json;

namespace {

// Text antialiasing may differ a little between FreeType builds; the geometry may not.
constexpr test::ImageTolerance kPlotTolerance{24, 0.005, 1.5};
constexpr double kScale = 2.0;  // plots rasterised at 144 dpi: 2 pixels per point

// Five cases, label 1 (liver). A fails on case_4, has a NaN Dice on case_3 and no predicted volume
// on case_5; gate attentionblock3 has a NaN on case_2. B has no gates.
Json handWrittenReport() {
  return Json::parse(R"({
    "schema": "gatescope.report/1",
    "models": {"A": {"name": "gated"}, "B": {"name": "baseline"}},
    "dataset": {"labels": {"0": "background", "1": "liver"}},
    "cases": [
      {"id": "case_1", "status": "ok", "models": {
        "A": {"labels": {"1": {"dice": 0.9, "reference_volume_mm3": 100000, "prediction_volume_mm3": 110000}},
              "attention": {"attentionblock2": {"1": {"mass_in_reference": 0.5}},
                            "attentionblock3": {"1": {"mass_in_reference": 0.3}}}},
        "B": {"labels": {"1": {"dice": 0.8, "reference_volume_mm3": 100000, "prediction_volume_mm3": 90000}}}}},
      {"id": "case_2", "status": "ok", "models": {
        "A": {"labels": {"1": {"dice": 0.7, "reference_volume_mm3": 200000, "prediction_volume_mm3": 190000}},
              "attention": {"attentionblock2": {"1": {"mass_in_reference": 0.4}},
                            "attentionblock3": {"1": {"mass_in_reference": "nan"}}}},
        "B": {"labels": {"1": {"dice": 0.75, "reference_volume_mm3": 200000, "prediction_volume_mm3": 230000}}}}},
      {"id": "case_3", "status": "ok", "models": {
        "A": {"labels": {"1": {"dice": "nan", "reference_volume_mm3": 50000, "prediction_volume_mm3": 0,
                                "status": "prediction_empty"}},
              "attention": {"attentionblock2": {"1": {"mass_in_reference": 0.2}},
                            "attentionblock3": {"1": {"mass_in_reference": 0.1}}}},
        "B": {"labels": {"1": {"dice": 0.6, "reference_volume_mm3": 50000, "prediction_volume_mm3": 45000}}}}},
      {"id": "case_4", "status": "ok", "models": {
        "A": {"status": "error", "error": "out of memory"},
        "B": {"labels": {"1": {"dice": 0.5, "reference_volume_mm3": 80000, "prediction_volume_mm3": 70000}}}}},
      {"id": "case_5", "status": "ok", "models": {
        "A": {"labels": {"1": {"dice": 0.3, "reference_volume_mm3": 120000}},
              "attention": {"attentionblock2": {"1": {"mass_in_reference": 0.6}},
                            "attentionblock3": {"1": {"mass_in_reference": 0.25}}}},
        "B": {"labels": {"1": {"dice": 0.4, "reference_volume_mm3": 120000, "prediction_volume_mm3": 150000}}}}}
    ],
    "comparison": {"1": {"dice": {"mean_difference": 0.0833, "wilcoxon_p": 0.25, "n": 3, "better": "A"}}}
  })");
}

// Mean and sample SD computed here, independently of the library's summary statistics.
std::pair<double, double> meanAndSampleSd(const std::vector<double>& v) {
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double squares = 0.0;
  for (const double x : v) squares += (x - mean) * (x - mean);
  return {mean, std::sqrt(squares / static_cast<double>(v.size() - 1))};
}

Rgba pixelAt(const RgbaImage& image, double x_pt, double y_pt) {
  return image.at(static_cast<int>(x_pt * kScale), static_cast<int>(y_pt * kScale));
}

Rgba over(Rgba top, Rgba bottom) {
  const auto mix = [&](uint8_t t, uint8_t b) {
    return static_cast<uint8_t>(std::lround((t * top.a + b * (255 - top.a)) / 255.0));
  };
  return {mix(top.r, bottom.r), mix(top.g, bottom.g), mix(top.b, bottom.b), 255};
}

void checkColor(Rgba got, Rgba want, int tolerance = 12) {
  INFO("got " << int(got.r) << "," << int(got.g) << "," << int(got.b) << " want " << int(want.r)
              << "," << int(want.g) << "," << int(want.b));
  CHECK(std::abs(got.r - want.r) <= tolerance);
  CHECK(std::abs(got.g - want.g) <= tolerance);
  CHECK(std::abs(got.b - want.b) <= tolerance);
}

}  // namespace

TEST_CASE("nice ticks use 1-2-5 steps and cover the range", "[render]") {
  using V = std::vector<double>;
  CHECK(niceTicks(0.0, 1.0, 5) == V{0.0, 0.2, 0.4, 0.6, 0.8, 1.0});  // 0.2: 6 ticks beats 0.5: 3
  CHECK(niceTicks(0.13, 0.87, 4) == V{0.0, 0.5, 1.0});               // 0.5: 3 ticks beats 0.2: 6
  CHECK(niceTicks(0.3, 0.9, 5) == V{0.2, 0.4, 0.6, 0.8, 1.0});
  CHECK(niceTicks(-3.7, 12.0, 5) == V{-5.0, 0.0, 5.0, 10.0, 15.0});
  CHECK(niceTicks(250.0, 1800.0, 4) ==
        V{0.0, 500.0, 1000.0, 1500.0, 2000.0});  // tie 5 vs 3 ticks: smaller step
  CHECK(niceTicks(12.0, -3.7, 5) == V{-5.0, 0.0, 5.0, 10.0, 15.0});
  CHECK(niceTicks(2.0, 2.0, 5) ==
        V{1.8, 1.9, 2.0, 2.1, 2.2});  // widened by 10 %, 1.8 / 0.1 rounding
  CHECK_THROWS_AS(niceTicks(0.0, std::nan(""), 5), UsageError);
}

TEST_CASE("tick and value labels are formatted for print", "[render]") {
  CHECK(tickLabels({0.0, 0.2, 0.4}) == std::vector<std::string>{"0", "0.2", "0.4"});
  CHECK(tickLabels({-0.1, -0.05, 0.0}) == std::vector<std::string>{"-0.10", "-0.05", "0"});
  CHECK(tickLabels({0.0, 500.0, 1000.0}) == std::vector<std::string>{"0", "500", "1000"});
  CHECK(formatTick(-1e-17, 0.1) == "0");
  CHECK(formatValue(-16.6667) == "-16.7");
  CHECK(formatValue(0.012345) == "0.0123");
  CHECK(formatValue(1234.6) == "1235");
  CHECK(formatPValue(0.0004) == "p < 0.001");
  CHECK(formatPValue(0.047) == "p = 0.047");
  CHECK(formatPValue(0.4691) == "p = 0.47");
  CHECK(formatPValue(std::nan("")) == "p = n/a");
}

TEST_CASE("spread labels keep their gap and stay in range", "[render]") {
  CHECK(spreadLabels({10.0, 11.0, 50.0}, 5.0, 0.0, 100.0) == std::vector<double>{8.0, 13.0, 50.0});
  CHECK(spreadLabels({50.0, 11.0, 10.0}, 5.0, 0.0, 100.0) == std::vector<double>{50.0, 13.0, 8.0});
  CHECK(spreadLabels({98.0, 99.0}, 5.0, 0.0, 100.0) == std::vector<double>{95.0, 100.0});
}

TEST_CASE("a colour bar shows its map from low to high", "[render]") {
  Canvas canvas(100.0, 120.0);
  drawColorbar(canvas, 10.0, 10.0, 12.0, 100.0, ColormapName::Viridis, 0.0, 1.0, "alpha", true);
  drawColorbar(canvas, 40.0, 10.0, 50.0, 8.0, ColormapName::Hot, -1.0, 1.0, "", false);
  const RgbaImage image = canvas.rasterize(72.0 * kScale);
  // Nearest sampling: a pixel shows the table entry under its centre (pixel index + 0.5) / kScale.
  const auto entry = [](int pixel, double start_pt, double length_pt) {
    return std::clamp(
        static_cast<int>(std::floor(((pixel + 0.5) / kScale - start_pt) / length_pt * 256.0)), 0,
        255);
  };
  const auto& viridis = colormap(ColormapName::Viridis).table;
  for (const int row :
       {21, 22, 120, 217, 218})  // low at the bottom; rows 20 and 219 hold the outline
    checkColor(image.at(32, row), viridis[255 - entry(row, 10.0, 100.0)], 1);
  const auto& hot = colormap(ColormapName::Hot).table;
  for (const int column : {81, 82, 130, 177, 178})
    checkColor(image.at(column, 28), hot[entry(column, 40.0, 50.0)], 1);
}

TEST_CASE("a vertical colour bar's label never reaches beyond its bar", "[render]") {
  // Two short bars stacked as the compare figure stacks them, each with a label longer than its
  // bar: the rotated labels must stay within their own bar's height, so they cannot overlap. The
  // label's pixels are those that differ from the same drawing without labels.
  const std::string label = "P(liver): A - B, attention coefficient";
  const auto draw = [](const std::string& text) {
    Canvas canvas(120.0, 140.0);
    drawColorbar(canvas, 10.0, 10.0, 10.0, 50.0, ColormapName::Jet, 0.0, 1.0, text, true);
    drawColorbar(canvas, 10.0, 72.0, 10.0, 50.0, ColormapName::Diverging, -1.0, 1.0, text, true);
    return canvas.rasterize(72.0 * kScale);
  };
  CHECK(Canvas(10.0, 10.0).textWidth(label, 10.0) > 60.0);
  const RgbaImage with = draw(label), without = draw("");
  int changed = 0, outside = 0;
  for (int y = 0; y < with.height; ++y)
    for (int x = 0; x < with.width; ++x) {
      if (with.at(x, y).r == without.at(x, y).r && with.at(x, y).g == without.at(x, y).g) continue;
      ++changed;
      const double py = (y + 0.5) / kScale;
      outside +=
          !((py >= 10.0 - 0.5 && py <= 60.0 + 0.5) || (py >= 72.0 - 0.5 && py <= 122.0 + 0.5));
    }
  CHECK(changed > 50);
  CHECK(outside == 0);
}

TEST_CASE("paired metric data leaves out failed and NaN cases", "[render]") {
  const Json report = handWrittenReport();
  const PairedMetricData data =
      pairedMetricData(ReportModel(report, "report.json"), "liver", "dice");
  CHECK(data.label.key == "1");
  CHECK(data.label.name == "liver");
  CHECK(data.model_a_name == "gated");
  CHECK(data.model_b_name == "baseline");
  CHECK(data.higher_is_better == std::optional<bool>(true));
  CHECK(data.case_ids == std::vector<std::string>{"case_1", "case_2", "case_5"});
  CHECK(data.a == std::vector<double>{0.9, 0.7, 0.3});
  CHECK(data.b == std::vector<double>{0.8, 0.75, 0.4});
  CHECK(data.n_cases == 5);
  CHECK(data.n_left_out == 2);  // case_3 NaN, case_4 failed
  REQUIRE(data.p_value);
  CHECK(*data.p_value == 0.25);
  CHECK(pairedMetricData(ReportModel(report, "report.json"), "1", "dice").case_ids ==
        data.case_ids);
}

TEST_CASE("bad plot requests name the report and list what it has", "[render]") {
  Json report = handWrittenReport();
  CHECK_THROWS_MATCHES(
      pairedMetricData(ReportModel(report, "report.json"), "1", "dyce"), UsageError,
      Catch::Matchers::Message(
          "report.json: no metric 'dyce' for label 1 (available: dice, reference_volume_mm3, "
          "prediction_volume_mm3)"));
  CHECK_THROWS_MATCHES(blandAltmanData(ReportModel(report, "report.json"), "kidney"), UsageError,
                       Catch::Matchers::Message(
                           "report.json: no label 'kidney' in the report (available: 1 (liver))"));
  CHECK_THROWS_WITH(
      gateStatisticsData(ReportModel(report, "report.json"), "1", "mass_in_reference",
                         {"attentionblock9"}),
      Catch::Contains("report.json") && Catch::Contains("attentionblock2, attentionblock3"));
  CHECK_THROWS_WITH(gateStatisticsData(ReportModel(report, "report.json"), "1", "pointing_game"),
                    Catch::Contains("no attention statistic 'pointing_game'") &&
                        Catch::Contains("mass_in_reference"));
  report["models"].erase("B");
  for (auto& record : report["cases"]) record["models"].erase("B");
  CHECK_THROWS_WITH(
      pairedMetricData(ReportModel(report, "report.json"), "1", "dice"),
      Catch::Contains("report.json") && Catch::Contains("needs models A and B, the report has A"));
  for (auto& record : report["cases"]) record["models"]["A"].erase("attention");
  CHECK_THROWS_WITH(gateStatisticsData(ReportModel(report, "report.json"), "1"),
                    Catch::Contains("no attention statistics"));
}

TEST_CASE("Bland-Altman data: volumes in ml, bias and limits of agreement", "[render]") {
  const BlandAltmanData data =
      blandAltmanData(ReportModel(handWrittenReport(), "report.json"), "1");
  REQUIRE(data.models.size() == 2);
  const BlandAltmanSeries& a = data.models[0];
  CHECK(a.model == "A");
  CHECK(a.case_ids == std::vector<std::string>{"case_1", "case_2",
                                               "case_3"});  // case_4 failed, case_5 no prediction
  CHECK(a.n_left_out == 2);
  CHECK(a.mean_ml == std::vector<double>{105.0, 195.0, 25.0});
  CHECK(a.difference_ml == std::vector<double>{10.0, -10.0, -50.0});
  const auto [a_mean, a_sd] = meanAndSampleSd({10.0, -10.0, -50.0});
  CHECK(a.bias_ml == Approx(a_mean));
  CHECK(a.sd_ml == Approx(a_sd));
  CHECK(a.lowerLimit() ==
        Approx(-50.0 / 3.0 - 1.96 * std::sqrt(2800.0 / 3.0)));  // SD^2 = (26.7^2+6.7^2+33.3^2)/2
  const BlandAltmanSeries& b = data.models[1];
  CHECK(b.n_left_out == 0);
  CHECK(b.difference_ml == std::vector<double>{-10.0, 30.0, -5.0, -10.0, 30.0});
  const auto [b_mean, b_sd] = meanAndSampleSd(b.difference_ml);
  CHECK(b.bias_ml == Approx(7.0));
  CHECK(b.upperLimit() == Approx(b_mean + 1.96 * b_sd));
}

TEST_CASE("gate statistics data per gate and model", "[render]") {
  const GateStatisticsData data =
      gateStatisticsData(ReportModel(handWrittenReport(), "report.json"), "liver");
  CHECK(data.statistic == "mass_in_reference");
  CHECK(data.gates == std::vector<std::string>{"attentionblock2", "attentionblock3"});
  CHECK(data.models == std::vector<std::string>{"A"});
  REQUIRE(data.series.size() == 2);
  CHECK(data.series[0].values == std::vector<double>{0.5, 0.4, 0.2, 0.6});
  CHECK(data.series[0].n_left_out == 1);
  CHECK(data.series[1].values == std::vector<double>{0.3, 0.1, 0.25});
  CHECK(data.series[1].case_ids == std::vector<std::string>{"case_1", "case_3", "case_5"});
  CHECK(data.series[1].n_left_out == 2);
  CHECK(data.p_values == std::vector<std::optional<double>>{std::nullopt, std::nullopt});
  const auto one = gateStatisticsData(ReportModel(handWrittenReport(), "report.json"), "1",
                                      "mass_in_reference", {"attentionblock3"});
  CHECK(one.gates == std::vector<std::string>{"attentionblock3"});
}

TEST_CASE("paired plot: baseline and points on the axis mapping", "[render]") {
  const PairedMetricData data =
      pairedMetricData(ReportModel(handWrittenReport(), "report.json"), "1", "dice");
  Canvas canvas(kColumnPlotWidthPt, kColumnPlotHeightPt);
  const PlotArea area = drawPairedMetricPlot(canvas, data);
  CHECK(area.y_lo == 0.2);  // niceTicks(0.3, 0.9, 5)
  CHECK(area.y_hi == 1.0);
  const RgbaImage image = canvas.rasterize(72.0 * kScale);
  test::requireMatchesBaseline(image, "plot_paired", kPlotTolerance);
  const double span = area.height / (1.0 - 0.2);  // points per Dice unit
  checkColor(pixelAt(image, area.xToCanvas(kPairedPointXA), area.bottom() - (0.9 - 0.2) * span),
             kModelAColor);
  checkColor(pixelAt(image, area.xToCanvas(kPairedPointXB), area.bottom() - (0.4 - 0.2) * span),
             kModelBColor);
  // No point where no case is.
  checkColor(pixelAt(image, area.xToCanvas(kPairedPointXA), area.bottom() - (0.5 - 0.2) * span),
             {255, 255, 255, 255});
}

TEST_CASE("Bland-Altman plot: baseline, points and the bias line", "[render]") {
  const BlandAltmanData data =
      blandAltmanData(ReportModel(handWrittenReport(), "report.json"), "1");
  Canvas canvas(kColumnPlotWidthPt, kColumnPlotHeightPt);
  const PlotArea area = drawBlandAltmanPlot(canvas, data);
  const RgbaImage image = canvas.rasterize(72.0 * kScale);
  test::requireMatchesBaseline(image, "plot_bland_altman", kPlotTolerance);
  const auto y = [&](double ml) {
    return area.bottom() - (ml - area.y_lo) / (area.y_hi - area.y_lo) * area.height;
  };
  const auto x = [&](double ml) {
    return area.left + (ml - area.x_lo) / (area.x_hi - area.x_lo) * area.width;
  };
  const Rgba white{255, 255, 255, 255};
  checkColor(pixelAt(image, x(25.0), y(-50.0)),
             over(withAlpha(kModelAColor, 210), white));  // A, case_3
  checkColor(pixelAt(image, x(215.0), y(30.0)),
             over(withAlpha(kModelBColor, 210), white));  // B, case_2
  const auto [bias, sd] = meanAndSampleSd({10.0, -10.0, -50.0});
  checkColor(pixelAt(image, area.left + 1.0, y(bias)), kModelAColor,
             30);  // 1 pt line: allow for antialiasing
  CHECK(sd > 0.0);
}

TEST_CASE("gate statistics plot: baseline and a point on the axis mapping", "[render]") {
  const GateStatisticsData data =
      gateStatisticsData(ReportModel(handWrittenReport(), "report.json"), "1");
  Canvas canvas(kColumnPlotWidthPt, kColumnPlotHeightPt);
  const PlotArea area = drawGateStatisticsPlot(canvas, data);
  CHECK(area.y_lo == 0.1);  // niceTicks(0.1, 0.6, 5): step 0.1 gives 6 ticks, 0.2 gives 4
  CHECK(area.y_hi == Approx(0.6));
  const RgbaImage image = canvas.rasterize(72.0 * kScale);
  test::requireMatchesBaseline(image, "plot_gates", kPlotTolerance);
  // The first case of a box sits on its centre: case_1, attentionblock2, 0.5 inside the box.
  const double y = area.bottom() - (0.5 - 0.1) / 0.5 * area.height;
  const Rgba fill = lighten(kModelAColor, 0.8);
  checkColor(pixelAt(image, area.xToCanvas(0.0), y), over(withAlpha(kModelAColor, 170), fill));
}

TEST_CASE("plots write as PNG, PDF and SVG", "[render]") {
  const auto dir = test::scratchDir("plots_formats");
  Canvas canvas(kColumnPlotWidthPt, kColumnPlotHeightPt);
  drawPairedMetricPlot(
      canvas, pairedMetricData(ReportModel(handWrittenReport(), "report.json"), "1", "dice"));
  for (const char* name : {"paired.png", "paired.pdf", "paired.svg"}) {
    canvas.write(dir / name, 300.0);
    CHECK(std::filesystem::file_size(dir / name) > 1000);
  }
}

// A train.json as gatescope train writes it (docs/training.md), two models, five epochs; the
// baseline was not validated at epoch 3.
static Json handWrittenTrainingLog() {
  Json log = Json::parse(R"({"schema": "gatescope.train/1",
    "dataset": {"training_cases": ["a", "b", "c"], "validation_cases": ["d"]},
    "models": [{"name": "gated", "architecture": "unet_ct_single_att_dsv", "epochs": []},
               {"name": "baseline", "architecture": "unet_ct_dsv", "epochs": []}]})");
  for (int e = 1; e <= 5; ++e) {
    log["models"][0]["epochs"].push_back({{"epoch", e},
                                          {"loss", 1.0 / e},
                                          {"validation_loss", 1.2 / e},
                                          {"validation_dice", 0.15 * e}});
    Json b = {{"epoch", e}, {"loss", 1.5 / e}};
    if (e != 3) b["validation_dice"] = 0.1 * e;
    log["models"][1]["epochs"].push_back(b);
  }
  return log;
}

TEST_CASE("learning curves: train.json read back and drawn on the axis mapping", "[render]") {
  const auto dir = test::scratchDir("training_curves");
  std::ofstream(dir / "train.json") << handWrittenTrainingLog().dump();
  const TrainingLog log = readTrainingLog(dir);  // the folder holding it
  REQUIRE(log.models.size() == 2);
  CHECK(log.models[1].name == "baseline");
  CHECK(log.training_cases == 3);
  CHECK(log.validation_cases == 1);
  CHECK(log.models[0].epochs[1].loss == 0.5);
  CHECK(!log.models[1].epochs[2].validation_dice);
  CHECK(!log.models[1].epochs[0].validation_loss);

  Canvas canvas(2.0 * kColumnPlotWidthPt, kColumnPlotHeightPt);
  const TrainingPlotAreas areas =
      drawTrainingCurves(canvas, log, {0, 0, kColumnPlotWidthPt, kColumnPlotHeightPt},
                         {kColumnPlotWidthPt, 0, kColumnPlotWidthPt, kColumnPlotHeightPt});
  CHECK(areas.loss.x_lo == 1.0);
  CHECK(areas.loss.x_hi == 5.0);
  CHECK(areas.loss.y_lo == 0.0);
  CHECK(areas.dice.y_lo == 0.0);
  const RgbaImage image = canvas.rasterize(72.0 * kScale);
  // Points: A's training loss at epoch 2 (0.5), B's at epoch 4 (0.375), A's Dice at epoch 3
  // (0.45), B's at epoch 5 (0.5).
  checkColor(pixelAt(image, areas.loss.xToCanvas(2), areas.loss.yToCanvas(0.5)), kModelAColor);
  checkColor(pixelAt(image, areas.loss.xToCanvas(4), areas.loss.yToCanvas(0.375)), kModelBColor);
  checkColor(pixelAt(image, areas.dice.xToCanvas(3), areas.dice.yToCanvas(0.45)), kModelAColor);
  checkColor(pixelAt(image, areas.dice.xToCanvas(5), areas.dice.yToCanvas(0.5)), kModelBColor);
  // No Dice point for B where it was not validated (epoch 3, 0.3): its line is broken there.
  checkColor(pixelAt(image, areas.dice.xToCanvas(3), areas.dice.yToCanvas(0.3)),
             {255, 255, 255, 255});

  // Not a training log, or a broken one: the file and the field named.
  Json wrong = handWrittenTrainingLog();
  wrong["schema"] = "gatescope.report/1";
  std::ofstream(dir / "wrong.json") << wrong.dump();
  CHECK_THROWS_WITH(readTrainingLog(dir / "wrong.json"),
                    Catch::Contains("wrong.json") && Catch::Contains("not a training log"));
  Json backwards = handWrittenTrainingLog();
  backwards["models"][1]["epochs"][3]["epoch"] = 2;
  std::ofstream(dir / "backwards.json") << backwards.dump();
  CHECK_THROWS_WITH(readTrainingLog(dir / "backwards.json"),
                    Catch::Contains("models[1].epochs[3]") && Catch::Contains("epoch 2 after"));
  Json no_loss = handWrittenTrainingLog();
  no_loss["models"][0]["epochs"][0].erase("loss");
  std::ofstream(dir / "no_loss.json") << no_loss.dump();
  CHECK_THROWS_WITH(readTrainingLog(dir / "no_loss.json"), Catch::Contains("\"loss\" is missing"));
  CHECK_THROWS_AS(readTrainingLog(dir / "absent"), IoError);
}

TEST_CASE("learning curves of classifiers show the validation accuracy", "[render]") {
  const auto dir = test::scratchDir("training_curves_classifier");
  Json log_json = handWrittenTrainingLog();
  for (auto& model : log_json["models"])
    for (auto& epoch : model["epochs"])
      if (epoch.contains("validation_dice")) {
        epoch["validation_accuracy"] = 1.2 * epoch["validation_dice"].get<double>();
        epoch.erase("validation_dice");
      }
  std::ofstream(dir / "train.json") << log_json.dump();
  const TrainingLog log = readTrainingLog(dir);
  REQUIRE(log.models[0].epochs[2].validation_accuracy);
  CHECK(*log.models[0].epochs[2].validation_accuracy == Approx(0.54));
  CHECK(!log.models[0].epochs[2].validation_dice);
  Canvas canvas(2.0 * kColumnPlotWidthPt, kColumnPlotHeightPt);
  const TrainingPlotAreas areas =
      drawTrainingCurves(canvas, log, {0, 0, kColumnPlotWidthPt, kColumnPlotHeightPt},
                         {kColumnPlotWidthPt, 0, kColumnPlotWidthPt, kColumnPlotHeightPt});
  const RgbaImage image = canvas.rasterize(72.0 * kScale);
  // A's accuracy at epoch 3 (0.54), B's at epoch 5 (0.6); none for B at epoch 3 (0.36).
  checkColor(pixelAt(image, areas.dice.xToCanvas(3), areas.dice.yToCanvas(0.54)), kModelAColor);
  checkColor(pixelAt(image, areas.dice.xToCanvas(5), areas.dice.yToCanvas(0.6)), kModelBColor);
  checkColor(pixelAt(image, areas.dice.xToCanvas(3), areas.dice.yToCanvas(0.36)),
             {255, 255, 255, 255});
}

// A classification report's summary as gatescope evaluate writes it (docs/classification.md):
// three classes, two models.
static Json handWrittenClassificationReport() {
  return Json::parse(R"({"schema": "gatescope.report/1", "task": "classification",
    "models": {"A": {"name": "gated", "architecture": "sononet_grid_attention", "classes": 3},
               "B": {"name": "plain", "architecture": "sononet", "classes": 3}},
    "dataset": {"classes": ["heart", "spine", "stomach"]},
    "summary": {
      "A": {"confusion_matrix": [[10, 0, 0], [2, 8, 0], [0, 5, 5]],
            "per_class": [{"precision": 0.8, "recall": 1.0, "f1": 0.9},
                          {"precision": 0.6, "recall": 0.8, "f1": 0.7},
                          {"precision": 1.0, "recall": 0.5, "f1": 0.6}],
            "calibration": {"bins": 10, "ece": 0.1, "count": [0, 0, 0, 0, 0, 10, 0, 0, 0, 20],
                            "confidence": [null, null, null, null, null, 0.55, null, null, null, 0.95],
                            "accuracy": [null, null, null, null, null, 0.3, null, null, null, 0.9]}},
      "B": {"confusion_matrix": [[9, 1, 0], [0, 10, 0], [0, 0, 10]],
            "per_class": [{"precision": 1.0, "recall": 0.9, "f1": 0.95},
                          {"precision": 0.9, "recall": 1.0, "f1": 0.95},
                          {"precision": 1.0, "recall": 1.0, "f1": 1.0}],
            "calibration": {"bins": 10, "ece": 0.05, "count": [0, 0, 0, 0, 0, 0, 0, 15, 0, 15],
                            "confidence": [null, null, null, null, null, null, null, 0.75, null, 0.97],
                            "accuracy": [null, null, null, null, null, null, null, 0.6, null, 1.0]}}}})");
}

TEST_CASE("classification plots: confusion shades, per-class bars and reliability points",
          "[render]") {
  const Json report = handWrittenClassificationReport();
  {
    ClassificationPlotLayout layout;
    const Canvas canvas =
        drawClassificationPlot(report, ClassificationPlotKind::Confusion, "r.json", &layout);
    REQUIRE(layout.panels.size() == 2);
    const RgbaImage image = canvas.rasterize(72.0 * kScale);
    // Near a cell's top-left corner (clear of its count): shaded by its share of the row.
    const auto cell = [&](size_t panel, int row, int column) {
      const PlotArea& a = layout.panels[panel].second;
      const double side = a.width / 3.0;
      return pixelAt(image, a.left + side * (column + 0.12), a.top + side * (row + 0.12));
    };
    checkColor(cell(0, 0, 0), lighten(kModelAColor, 0.15));         // 10 of 10
    checkColor(cell(0, 2, 1), lighten(kModelAColor, 1.0 - 0.425));  // 5 of 10
    checkColor(cell(0, 0, 2), {255, 255, 255, 255});                // none
    checkColor(cell(1, 0, 1), lighten(kModelBColor, 1.0 - 0.085));  // 1 of 10
  }
  {
    ClassificationPlotLayout layout;
    const Canvas canvas =
        drawClassificationPlot(report, ClassificationPlotKind::PerClass, "r.json", &layout);
    REQUIRE(layout.panels.size() == 3);
    CHECK(layout.panels[2].first == "f1");
    const RgbaImage image = canvas.rasterize(72.0 * kScale);
    const PlotArea& recall = layout.panels[1].second;
    const double group = recall.width / 3.0, bar = 0.4 * group;
    // Recall of stomach: A 0.5 (magenta up to half), B 1.0 (sky blue up to the top).
    const double a_x = recall.xToCanvas(2.0) - 0.4 * group + 0.5 * bar;
    checkColor(pixelAt(image, a_x, recall.yToCanvas(0.4)), kModelAColor);
    checkColor(pixelAt(image, a_x, recall.yToCanvas(0.7)), {255, 255, 255, 255});
    checkColor(pixelAt(image, a_x + bar, recall.yToCanvas(0.9)), kModelBColor);
  }
  {
    ClassificationPlotLayout layout;
    const Canvas canvas =
        drawClassificationPlot(report, ClassificationPlotKind::Reliability, "r.json", &layout);
    const RgbaImage image = canvas.rasterize(72.0 * kScale);
    const PlotArea& a = layout.panels.front().second;
    checkColor(pixelAt(image, a.xToCanvas(0.55), a.yToCanvas(0.3)), kModelAColor);
    checkColor(pixelAt(image, a.xToCanvas(0.75), a.yToCanvas(0.6)), kModelBColor);
  }
  Json no_calibration = report;
  no_calibration["summary"]["B"].erase("calibration");
  CHECK_THROWS_WITH(
      drawClassificationPlot(no_calibration, ClassificationPlotKind::Reliability, "r.json"),
      Catch::Contains("r.json") && Catch::Contains("model B has no calibration"));
}
