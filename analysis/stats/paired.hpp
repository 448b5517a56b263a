#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gatescope {

// Zeros (identical values in a pair): "wilcox" drops them before ranking (scipy's default);
// "pratt" ranks them with the rest, then drops them, and corrects the normal approximation.
enum class ZeroMethod { Wilcox, Pratt };

struct WilcoxonResult {
  double statistic = 0;  // min(W+, W-)
  double p_value = 1;    // two-sided
  int64_t n = 0;         // pairs that entered the ranking (after dropping zeros for wilcox)
  int64_t n_zero = 0;
  bool exact =
      false;  // exact null distribution (n <= 25, no ties, no zeros) or normal approximation
};

// Wilcoxon signed-rank test of differences d (a - b), two-sided. Exact p for n <= 25 without ties
// or zeros; otherwise the normal approximation with tie correction (and Pratt's zero correction),
// without continuity correction - scipy.stats.wilcoxon's definitions.
[[nodiscard]] WilcoxonResult wilcoxonSignedRank(const std::vector<double>& differences,
                                                ZeroMethod zeros = ZeroMethod::Wilcox);

// Percentile bootstrap confidence interval of a statistic of `count` paired cases (seeded,
// reproducible): `statistic` gets each resample's case indices, drawn with replacement.
[[nodiscard]] std::pair<double, double> bootstrapInterval(
    size_t count, const std::function<double(const std::vector<size_t>&)>& statistic,
    double confidence, int resamples, uint64_t seed);

// Percentile bootstrap confidence interval of the mean of `values` (seeded, reproducible).
[[nodiscard]] std::pair<double, double> bootstrapMeanInterval(const std::vector<double>& values,
                                                              double confidence, int resamples,
                                                              uint64_t seed);

struct PairedOptions {
  bool higher_is_better = true;
  int resamples = 10000;
  uint64_t seed = 20180411;
  double confidence = 0.95;
  ZeroMethod zeros = ZeroMethod::Wilcox;
  // Non-finite values: excluded pairwise unless a worst-case value is given, which then replaces
  // +inf/NaN (for a lower-is-better distance, e.g. the image diagonal in mm).
  std::optional<double> worst_case;
};

struct PairedComparison {
  int64_t n = 0;           // pairs used
  int64_t n_excluded = 0;  // pairs with a non-finite value (and no worst-case substitution)
  double mean_difference = 0, std_difference = 0, median_difference = 0;
  std::pair<double, double> ci{0, 0};
  WilcoxonResult wilcoxon;
  std::string better;  // "A", "B" or "equal", by the mean difference and the metric's direction
};

// Compares model A against model B over the same cases (a[i] and b[i] belong to case i).
[[nodiscard]] PairedComparison comparePaired(const std::vector<double>& a,
                                             const std::vector<double>& b,
                                             const PairedOptions& options);
[[nodiscard]] nlohmann::ordered_json toJson(const PairedComparison& c);

}  // namespace gatescope
