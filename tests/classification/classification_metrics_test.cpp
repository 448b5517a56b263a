// Classification metrics and paired tests against scikit-learn 1.2, statsmodels and scipy
// (tests/fixtures/classification_reference.py): random predictions with ties, absent classes and
// zero divisions.
#include "analysis/classification/classification_metrics.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/stats/paired.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using Json = nlohmann::json;

namespace {

Json referenceCases() {
  std::ifstream in(test::fixtureDir("classification") / "classification.json");
  REQUIRE(in.good());
  return Json::parse(in);
}

void checkNumber(double got, const Json& want) {
  if (want.is_string()) {
    CHECK(std::isnan(got));
  } else {
    CHECK(got == Approx(want.get<double>()).margin(1e-12).epsilon(1e-12));
  }
}

struct ModelRun {
  std::vector<int> predicted;
  std::vector<std::vector<double>> probabilities;
  ClassificationMetrics metrics;
};

ModelRun runModel(const Json& c, const char* key, const std::vector<int>& truth) {
  ModelRun run;
  run.probabilities = c[key].get<std::vector<std::vector<double>>>();
  // The prediction is the argmax (the first of equal maxima), as the reference takes it.
  for (const auto& row : run.probabilities)
    run.predicted.push_back(
        static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
  run.metrics = classificationMetrics(truth, run.predicted, run.probabilities, c["classes"]);
  return run;
}

}  // namespace

TEST_CASE("classification metrics equal scikit-learn's", "[classification]") {
  const Json cases = referenceCases();
  REQUIRE(cases.size() >= 8);
  int index = 0;
  for (const auto& c : cases) {
    const auto truth = c["truth"].get<std::vector<int>>();
    for (const char* model : {"a", "b"}) {
      DYNAMIC_SECTION("case " << index << " model " << model << ", " << c["classes"] << " classes, "
                              << truth.size() << " images") {
        const ModelRun run = runModel(c, model, truth);
        const Json& want = c[std::string("metrics_") + model];
        CHECK(run.predicted == want["predicted"].get<std::vector<int>>());
        const ClassificationMetrics& m = run.metrics;
        checkNumber(m.accuracy, want["accuracy"]);
        checkNumber(m.balanced_accuracy, want["balanced_accuracy"]);
        for (size_t k = 0; k < m.per_class.size(); ++k) {
          INFO("class " << k);
          CHECK(m.per_class[k].support == want["support"][k].get<int64_t>());
          checkNumber(m.per_class[k].precision, want["precision"][k]);
          checkNumber(m.per_class[k].recall, want["recall"][k]);
          checkNumber(m.per_class[k].f1, want["f1"][k]);
          checkNumber(m.per_class[k].roc_auc, want["roc_auc"][k]);
        }
        checkNumber(m.macro_precision, want["macro"][0]);
        checkNumber(m.macro_recall, want["macro"][1]);
        checkNumber(m.macro_f1, want["macro"][2]);
        checkNumber(m.weighted_precision, want["weighted"][0]);
        checkNumber(m.weighted_recall, want["weighted"][1]);
        checkNumber(m.weighted_f1, want["weighted"][2]);
        CHECK(m.confusion == want["confusion"].get<std::vector<std::vector<int64_t>>>());
        checkNumber(m.top1_accuracy, want["top1"]);
        checkNumber(m.top3_accuracy, want["top3"]);
        checkNumber(m.macro_roc_auc, want["macro_roc_auc"]);
        checkNumber(m.cohen_kappa, want["kappa"]);
        checkNumber(m.log_loss, want["log_loss"]);
        const Json& calibration = want["calibration"];
        CHECK(m.calibration.count == calibration["count"].get<std::vector<int64_t>>());
        for (size_t b = 0; b < m.calibration.count.size(); ++b) {
          INFO("bin " << b);
          checkNumber(m.calibration.confidence[b], calibration["confidence"][b]);
          checkNumber(m.calibration.accuracy[b], calibration["accuracy"][b]);
        }
        checkNumber(m.calibration.ece, calibration["ece"]);
      }
    }
    ++index;
  }
}

TEST_CASE("McNemar's test and the bootstrap intervals equal statsmodels' and scipy's",
          "[classification]") {
  const Json cases = referenceCases();
  int index = 0;
  for (const auto& c : cases) {
    DYNAMIC_SECTION("case " << index++) {
      const auto truth = c["truth"].get<std::vector<int>>();
      const ModelRun a = runModel(c, "a", truth), b = runModel(c, "b", truth);
      std::vector<bool> correct_a, correct_b;
      for (size_t i = 0; i < truth.size(); ++i) {
        correct_a.push_back(a.predicted[i] == truth[i]);
        correct_b.push_back(b.predicted[i] == truth[i]);
      }
      const McNemarResult test = mcNemar(correct_a, correct_b);
      const Json& want = c["mcnemar"];
      CHECK(test.only_a == want["only_a"].get<int64_t>());
      CHECK(test.only_b == want["only_b"].get<int64_t>());
      CHECK(test.exact == want["exact"].get<bool>());
      CHECK(test.statistic == Approx(want["statistic"].get<double>()).epsilon(1e-12));
      CHECK(test.p_value == Approx(want["p"].get<double>()).epsilon(1e-9).margin(1e-15));

      // Percentile bootstrap of the differences in accuracy and macro F1 (another random stream
      // than scipy's: the ends agree to a few percent of the interval's width).
      const int classes = c["classes"];
      const auto accuracy = [&](const std::vector<size_t>& sample) {
        double d = 0;
        for (const size_t s : sample) d += static_cast<double>(correct_a[s]) - correct_b[s];
        return d / static_cast<double>(sample.size());
      };
      const auto macroF1 = [&](const std::vector<size_t>& sample) {
        std::vector<int> t, pa, pb;
        std::vector<std::vector<double>> qa, qb;
        for (const size_t s : sample) {
          t.push_back(truth[s]), pa.push_back(a.predicted[s]), pb.push_back(b.predicted[s]);
          qa.push_back(a.probabilities[s]), qb.push_back(b.probabilities[s]);
        }
        return classificationMetrics(t, pa, qa, classes).macro_f1 -
               classificationMetrics(t, pb, qb, classes).macro_f1;
      };
      for (const auto& [name, statistic] :
           {std::pair<std::string, std::function<double(const std::vector<size_t>&)>>{"accuracy",
                                                                                      accuracy},
            {"macro_f1", macroF1}}) {
        if (!c["bootstrap"].contains(name)) continue;
        INFO(name);
        const auto [low, high] = bootstrapInterval(truth.size(), statistic, 0.95, 4000, 17);
        const double width =
            c["bootstrap"][name][1].get<double>() - c["bootstrap"][name][0].get<double>();
        CHECK(low == Approx(c["bootstrap"][name][0].get<double>()).margin(0.06 * width));
        CHECK(high == Approx(c["bootstrap"][name][1].get<double>()).margin(0.06 * width));
      }
    }
  }
}

TEST_CASE("classification metrics refuse inputs that do not fit", "[classification]") {
  const std::vector<std::vector<double>> p = {{0.7, 0.3}, {0.2, 0.8}};
  CHECK_THROWS_AS(classificationMetrics({}, {}, {}, 2), UsageError);
  CHECK_THROWS_WITH(classificationMetrics({0, 1}, {0}, p, 2),
                    Catch::Contains("one true class, prediction and probability row per image"));
  CHECK_THROWS_WITH(classificationMetrics({0, 2}, {0, 1}, p, 2),
                    Catch::Contains("image 1: class outside 0..1"));
  CHECK_THROWS_WITH(classificationMetrics({0, 1}, {0, 1}, {{1.0}, {0.2, 0.8}}, 2),
                    Catch::Contains("image 0: 1 probabilities for 2 classes"));
  CHECK_THROWS_WITH(mcNemar({true}, {true, false}), Catch::Contains("same images"));
  // Every image of one class, all predicted right: kappa's chance agreement is 1 (undefined), the
  // classes without positives have no AUC.
  const ClassificationMetrics m =
      classificationMetrics({1, 1}, {1, 1}, {{0.1, 0.9}, {0.3, 0.7}}, 2);
  CHECK(m.accuracy == 1.0);
  CHECK(std::isnan(m.cohen_kappa));
  CHECK(std::isnan(m.macro_roc_auc));
  CHECK(m.per_class[0].precision == 0.0);  // never predicted: zero division gives 0
}
