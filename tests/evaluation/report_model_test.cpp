// The typed report every reader uses: one rule for failed models, statuses, labels by key or name,
// the labels a report measured. Expected values are read off the hand-written report below.
#include "analysis/evaluation/report_model.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/report_series.hpp"

using namespace gatescope;
using Json = nlohmann::ordered_json;

namespace {

Json report() {
  return Json::parse(R"({
    "schema": "gatescope.report/1",
    "models": {"A": {"name": "gated", "architecture": "unet", "gates": ["g2", "g3"]}, "B": {"name": "baseline"}},
    "dataset": {"labels": {"0": "background", "1": "liver", "2": "kidney"}},
    "settings": {"metrics": {"labels": [2, 1]}},
    "cases": [
      {"id": "c1", "status": "ok", "models": {
        "A": {"status": "ok", "labels": {"1": {"dice": 0.9, "hd95_mm": "inf"}},
              "attention": {"g2": {"1": {"mass_in_reference": 0.4}}}},
        "B": {"status": "error", "error": "out of memory", "labels": {"1": {"dice": 0.5}}}}},
      {"id": "c2", "status": "error", "error": "truncated file", "models": {}}
    ],
    "comparison": {"1": {"dice": {"mean_difference": 0.1, "wilcoxon_p": "nan"}}}
  })");
}

}  // namespace

TEST_CASE("the report model reads models, labels and cases with one rule for failed models",
          "[stats]") {
  const ReportModel r(report(), "report.json");
  REQUIRE(r.models().size() == 2);
  CHECK(r.models()[0].name == "gated");
  CHECK(r.models()[0].gates == std::vector<std::string>{"g2", "g3"});
  CHECK(r.models()[1].architecture == "?");
  CHECK(r.modelName("B") == "baseline");
  CHECK(r.measuredLabels() == std::vector<int>{2, 1});
  CHECK(r.labelName("2") == "kidney");
  CHECK(r.labelName("7") == "7");
  CHECK(r.resolveLabel("liver").key == "1");
  CHECK_THROWS_WITH(r.resolveLabel("spleen"),
                    "report.json: no label 'spleen' in the report (available: 1 (liver))");

  const Json* c1 = r.caseRecord("c1");
  REQUIRE(c1);
  CHECK(r.caseRecord("c9") == nullptr);
  CHECK(ReportModel::metric(*c1, "A", "1", "dice") == 0.9);
  CHECK(std::isinf(*ReportModel::metric(*c1, "A", "1", "hd95_mm")));
  // B failed on c1: its leftover values do not count, in any reader.
  CHECK_FALSE(ReportModel::metric(*c1, "B", "1", "dice"));
  CHECK(ReportModel::modelResult(*c1, "B") == nullptr);
  CHECK(ReportModel::caseStatus(*c1) == "B: out of memory");
  CHECK(ReportModel::caseStatus(*r.caseRecord("c2")) == "truncated file");
  CHECK(ReportModel::attentionStatistic(*c1, "A", "g2", "1", "mass_in_reference") == 0.4);
  CHECK_FALSE(ReportModel::attentionStatistic(*c1, "A", "g3", "1", "mass_in_reference"));
  // A NaN p-value is no p-value.
  REQUIRE(r.comparison("1", "dice"));
  CHECK_FALSE(ReportModel::pValue(r.comparison("1", "dice")));
  CHECK(r.comparison("2", "dice") == nullptr);
}

TEST_CASE("the report model refuses what is not a report, naming the file", "[stats]") {
  Json bad = report();
  bad["cases"] = Json::object();
  CHECK_THROWS_AS(ReportModel(bad, "r.json"), FormatError);
  CHECK_THROWS_WITH(ReportModel(Json::array(), "r.json"),
                    Catch::Contains("r.json: not a gatescope evaluation report"));
}

TEST_CASE("attribution maps are read, plotted and compared like gates, for both models",
          "[stats]") {
  Json r = report();
  r["cases"][0]["models"]["A"]["attribution"] = {{"gradcam@conv3", {{"1", {{"contrast", 2.5}}}}}};
  r["cases"][1] = Json::parse(R"({"id": "c2", "status": "ok", "models": {
      "A": {"status": "ok", "labels": {"1": {"dice": 0.8}},
            "attribution": {"gradcam@conv3": {"1": {"contrast": 3.5}}}},
      "B": {"status": "ok", "labels": {"1": {"dice": 0.7}},
            "attribution": {"gradcam@conv3": {"1": {"contrast": 1.5}}}}}})");
  r["attribution_comparison"] = {{"gradcam@conv3", {{"1", {{"contrast", {{"wilcoxon_p", 0.5}}}}}}}};
  const ReportModel model(r, "report.json");
  CHECK(ReportModel::attentionStatistic(model.cases()[1], "B", "gradcam@conv3", "1", "contrast") ==
        1.5);
  CHECK_FALSE(ReportModel::attentionStatistic(model.cases()[1], "B", "g2", "1", "contrast"));
  CHECK(ReportModel::pValue(model.attentionComparison("gradcam@conv3", "1", "contrast")) == 0.5);

  const GateStatisticsData data = gateStatisticsData(model, "1", "contrast");
  CHECK(data.gates == std::vector<std::string>{"g2", "gradcam@conv3"});
  CHECK(data.models == std::vector<std::string>{"A", "B"});
  const auto series = [&](const std::string& gate, const std::string& m) {
    for (const auto& s : data.series)
      if (s.gate == gate && s.model == m) return s.values;
    return std::vector<double>{-1};
  };
  CHECK(series("gradcam@conv3", "A") == std::vector<double>{2.5, 3.5});
  CHECK(series("gradcam@conv3", "B") == std::vector<double>{1.5});  // B failed on c1
  REQUIRE(data.p_values.size() == 2);
  CHECK(data.p_values[1] == 0.5);
}
