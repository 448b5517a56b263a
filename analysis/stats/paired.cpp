#include "analysis/stats/paired.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "analysis/core/error.hpp"
#include "analysis/core/json_number.hpp"
#include "analysis/stats/percentile.hpp"

namespace gatescope {

namespace {

constexpr int64_t kExactLimit = 25;

// Average ranks (1-based) of |d|, ties sharing their mean rank; also the sizes of tie groups.
std::vector<double> averageRanks(const std::vector<double>& values,
                                 std::vector<int64_t>& tie_sizes) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    const double rank = 0.5 * static_cast<double>(start + 1 + end);  // mean of start+1 .. end
    for (size_t n = start; n < end; ++n) ranks[order[n]] = rank;
    if (end - start > 1) tie_sizes.push_back(static_cast<int64_t>(end - start));
    start = end;
  }
  return ranks;
}

// Standard normal upper tail.
double normalSurvival(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

// Two-sided exact p of W+ = w for n untied, non-zero differences.
double exactPValue(int64_t n, double w_plus) {
  const int64_t max_sum = n * (n + 1) / 2;
  std::vector<double> counts(static_cast<size_t>(max_sum) + 1, 0.0);
  counts[0] = 1.0;
  for (int64_t rank = 1; rank <= n; ++rank)
    for (int64_t s = max_sum; s >= rank; --s)
      counts[static_cast<size_t>(s)] += counts[static_cast<size_t>(s - rank)];
  const double total = std::ldexp(1.0, static_cast<int>(n));
  const auto w = static_cast<int64_t>(std::llround(w_plus));
  double tail = 0.0;
  if (static_cast<double>(w) > static_cast<double>(max_sum) / 2.0) {
    for (int64_t s = w; s <= max_sum; ++s) tail += counts[static_cast<size_t>(s)];
  } else {
    for (int64_t s = 0; s <= w; ++s) tail += counts[static_cast<size_t>(s)];
  }
  return std::min(1.0, 2.0 * tail / total);
}

}  // namespace

WilcoxonResult wilcoxonSignedRank(const std::vector<double>& differences, ZeroMethod zeros) {
  WilcoxonResult result;
  std::vector<double> d;
  for (double x : differences) {
    if (!std::isfinite(x)) throw Error("Wilcoxon signed-rank test needs finite differences");
    if (x == 0.0) ++result.n_zero;
    if (x != 0.0 || zeros == ZeroMethod::Pratt) d.push_back(x);
  }
  std::vector<double> magnitude(d.size());
  for (size_t n = 0; n < d.size(); ++n) magnitude[n] = std::abs(d[n]);
  std::vector<int64_t> tie_sizes;
  const std::vector<double> ranks = averageRanks(magnitude, tie_sizes);
  double w_plus = 0.0, w_minus = 0.0;
  for (size_t n = 0; n < d.size(); ++n) {
    if (d[n] > 0) w_plus += ranks[n];
    if (d[n] < 0) w_minus += ranks[n];
  }
  const auto count = static_cast<int64_t>(d.size());
  result.n = count;
  result.statistic = std::min(w_plus, w_minus);
  const int64_t nonzero = count - (zeros == ZeroMethod::Pratt ? result.n_zero : 0);
  if (nonzero == 0) {
    result.p_value = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  if (count <= kExactLimit && tie_sizes.empty() && result.n_zero == 0) {
    result.exact = true;
    result.p_value = exactPValue(count, w_plus);
    return result;
  }
  const double c = static_cast<double>(count);
  double mean = c * (c + 1.0) * 0.25;
  double variance = c * (c + 1.0) * (2.0 * c + 1.0);
  if (zeros == ZeroMethod::Pratt) {
    const double z = static_cast<double>(result.n_zero);
    mean -= z * (z + 1.0) * 0.25;
    variance -= z * (z + 1.0) * (2.0 * z + 1.0);
    // Ties among the non-zero ranks only (the zeros form one tie group of their own).
    tie_sizes.clear();
    std::vector<double> nonzero_ranks;
    for (size_t n = 0; n < d.size(); ++n)
      if (d[n] != 0.0) nonzero_ranks.push_back(ranks[n]);
    std::sort(nonzero_ranks.begin(), nonzero_ranks.end());
    for (size_t start = 0; start < nonzero_ranks.size();) {
      size_t end = start + 1;
      while (end < nonzero_ranks.size() && nonzero_ranks[end] == nonzero_ranks[start]) ++end;
      if (end - start > 1) tie_sizes.push_back(static_cast<int64_t>(end - start));
      start = end;
    }
  }
  for (int64_t t : tie_sizes) {
    const double tt = static_cast<double>(t);
    variance -= 0.5 * tt * (tt * tt - 1.0);
  }
  const double se = std::sqrt(variance / 24.0);
  const double z = (result.statistic - mean) / se;
  result.p_value = std::min(1.0, 2.0 * normalSurvival(std::abs(z)));
  return result;
}

std::pair<double, double> bootstrapInterval(
    size_t count, const std::function<double(const std::vector<size_t>&)>& statistic,
    double confidence, int resamples, uint64_t seed) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (count == 0 || resamples < 1) return {nan, nan};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, count - 1);
  std::vector<double> values(static_cast<size_t>(resamples));
  std::vector<size_t> sample(count);
  for (double& v : values) {
    for (size_t& s : sample) s = pick(rng);
    v = statistic(sample);
  }
  const double alpha = (1.0 - confidence) / 2.0 * 100.0;
  return {linearPercentile(values, alpha), linearPercentile(values, 100.0 - alpha)};
}

std::pair<double, double> bootstrapMeanInterval(const std::vector<double>& values,
                                                double confidence, int resamples, uint64_t seed) {
  return bootstrapInterval(
      values.size(),
      [&](const std::vector<size_t>& sample) {
        double sum = 0.0;
        for (const size_t s : sample) sum += values[s];
        return sum / static_cast<double>(values.size());
      },
      confidence, resamples, seed);
}

PairedComparison comparePaired(const std::vector<double>& a, const std::vector<double>& b,
                               const PairedOptions& options) {
  if (a.size() != b.size()) throw Error("paired comparison needs one value of each model per case");
  PairedComparison c;
  std::vector<double> differences;
  for (size_t n = 0; n < a.size(); ++n) {
    double x = a[n], y = b[n];
    if (options.worst_case) {
      if (!std::isfinite(x)) x = *options.worst_case;
      if (!std::isfinite(y)) y = *options.worst_case;
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
      ++c.n_excluded;
      continue;
    }
    differences.push_back(x - y);
  }
  c.n = static_cast<int64_t>(differences.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (differences.empty()) {
    c.mean_difference = c.std_difference = c.median_difference = nan;
    c.ci = {nan, nan};
    c.wilcoxon.p_value = nan;
    c.better = "equal";
    return c;
  }
  c.mean_difference =
      std::accumulate(differences.begin(), differences.end(), 0.0) / static_cast<double>(c.n);
  double squares = 0.0;
  for (double d : differences) squares += (d - c.mean_difference) * (d - c.mean_difference);
  c.std_difference = c.n > 1 ? std::sqrt(squares / static_cast<double>(c.n - 1)) : nan;
  c.median_difference = linearPercentile(differences, 50.0);
  c.ci = bootstrapMeanInterval(differences, options.confidence, options.resamples, options.seed);
  c.wilcoxon = wilcoxonSignedRank(differences, options.zeros);
  const double signed_gain = options.higher_is_better ? c.mean_difference : -c.mean_difference;
  c.better = signed_gain > 0 ? "A" : signed_gain < 0 ? "B" : "equal";
  return c;
}

nlohmann::ordered_json toJson(const PairedComparison& c) {
  return {{"mean_difference", jsonNumber(c.mean_difference)},
          {"std_difference", jsonNumber(c.std_difference)},
          {"median_difference", jsonNumber(c.median_difference)},
          {"ci95", {jsonNumber(c.ci.first), jsonNumber(c.ci.second)}},
          {"wilcoxon_p", jsonNumber(c.wilcoxon.p_value)},
          {"wilcoxon_statistic", jsonNumber(c.wilcoxon.statistic)},
          {"wilcoxon_exact", c.wilcoxon.exact},
          {"n", c.n},
          {"n_excluded", c.n_excluded},
          {"better", c.better}};
}

}  // namespace gatescope
