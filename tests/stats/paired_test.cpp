// Paired statistics against scipy.stats (tests/fixtures/paired_reference.py).
#include "analysis/stats/paired.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/stats/summary.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;

TEST_CASE("Wilcoxon signed-rank and bootstrap intervals match scipy.stats", "[stats]") {
  std::ifstream in(test::fixtureDir("stats") / "paired.json");
  REQUIRE(in.good());
  const auto cases = nlohmann::json::parse(in);
  REQUIRE(cases.size() >= 10);
  int index = 0;
  for (const auto& c : cases) {
    DYNAMIC_SECTION("sample " << index++ << " n=" << c["a"].size() << " "
                              << c["zero_method"].get<std::string>()) {
      const auto a = c["a"].get<std::vector<double>>();
      const auto b = c["b"].get<std::vector<double>>();
      std::vector<double> d(a.size());
      for (size_t n = 0; n < a.size(); ++n) d[n] = a[n] - b[n];
      const ZeroMethod zeros = c["zero_method"] == "pratt" ? ZeroMethod::Pratt : ZeroMethod::Wilcox;
      const WilcoxonResult w = wilcoxonSignedRank(d, zeros);
      CHECK(w.exact == c["exact"].get<bool>());
      CHECK(w.statistic == Approx(c["statistic"].get<double>()).epsilon(1e-12));
      CHECK(w.p_value == Approx(c["p"].get<double>()).epsilon(1e-9));

      const auto [low, high] = bootstrapMeanInterval(d, 0.95, 100000, 7);
      const double width = c["ci95"][1].get<double>() - c["ci95"][0].get<double>();
      CHECK(low == Approx(c["ci95"][0].get<double>()).margin(0.03 * width));
      CHECK(high == Approx(c["ci95"][1].get<double>()).margin(0.03 * width));
    }
  }
}

TEST_CASE("the bootstrap is reproducible from its seed", "[stats]") {
  const std::vector<double> d = {0.1, -0.05, 0.2, 0.03, 0.07, -0.01, 0.12};
  CHECK(bootstrapMeanInterval(d, 0.95, 2000, 42) == bootstrapMeanInterval(d, 0.95, 2000, 42));
  CHECK(bootstrapMeanInterval(d, 0.95, 2000, 42) != bootstrapMeanInterval(d, 0.95, 2000, 43));
}

TEST_CASE("paired comparison respects the metric's direction and non-finite values", "[stats]") {
  const std::vector<double> hd_a = {2.0, 3.0, 4.0, std::numeric_limits<double>::infinity()};
  const std::vector<double> hd_b = {3.0, 5.0, 4.5, 6.0};
  PairedOptions options;
  options.higher_is_better = false;
  options.resamples = 500;
  const PairedComparison skip = comparePaired(hd_a, hd_b, options);
  CHECK(skip.n == 3);
  CHECK(skip.n_excluded == 1);
  CHECK(skip.mean_difference == Approx((-1.0 - 2.0 - 0.5) / 3.0));
  CHECK(skip.better == "A");
  options.worst_case = 100.0;
  const PairedComparison worst = comparePaired(hd_a, hd_b, options);
  CHECK(worst.n == 4);
  CHECK(worst.mean_difference == Approx((-1.0 - 2.0 - 0.5 + 94.0) / 4.0));
  CHECK(worst.better == "B");
}

TEST_CASE("summaries count non-finite values and use sample statistics", "[stats]") {
  const Summary s = summarize({1.0, 2.0, 3.0, 4.0, std::nan(""), HUGE_VAL});
  CHECK(s.n == 4);
  CHECK(s.n_nan == 1);
  CHECK(s.n_inf == 1);
  CHECK(s.mean == 2.5);
  CHECK(s.std == Approx(1.2909944487358056));  // numpy.std([1, 2, 3, 4], ddof=1)
  CHECK(s.median == 2.5);
  CHECK(s.iqr == Approx(1.5));  // numpy.percentile 75 - 25
  CHECK(s.min == 1.0);
  CHECK(s.max == 4.0);
}
