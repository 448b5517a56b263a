#include "analysis/stats/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/core/json_number.hpp"
#include "analysis/stats/percentile.hpp"

namespace gatescope {

Summary summarize(const std::vector<double>& values) {
  Summary s;
  std::vector<double> finite;
  for (double v : values) {
    if (std::isnan(v))
      ++s.n_nan;
    else if (std::isinf(v))
      ++s.n_inf;
    else
      finite.push_back(v);
  }
  s.n = static_cast<int64_t>(finite.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (finite.empty()) {
    s.mean = s.std = s.median = s.q1 = s.q3 = s.iqr = s.min = s.max = nan;
    return s;
  }
  double sum = 0;
  for (double v : finite) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  double squares = 0;
  for (double v : finite) squares += (v - s.mean) * (v - s.mean);
  s.std = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : nan;
  s.median = linearPercentile(finite, 50.0);
  s.q1 = linearPercentile(finite, 25.0);
  s.q3 = linearPercentile(finite, 75.0);
  s.iqr = s.q3 - s.q1;
  const auto [lo, hi] = std::minmax_element(finite.begin(), finite.end());
  s.min = *lo;
  s.max = *hi;
  return s;
}

nlohmann::ordered_json toJson(const Summary& s) {
  return {
      {"mean", jsonNumber(s.mean)}, {"std", jsonNumber(s.std)}, {"median", jsonNumber(s.median)},
      {"q1", jsonNumber(s.q1)},     {"q3", jsonNumber(s.q3)},   {"iqr", jsonNumber(s.iqr)},
      {"min", jsonNumber(s.min)},   {"max", jsonNumber(s.max)}, {"n", s.n},
      {"n_nan", s.n_nan},           {"n_inf", s.n_inf}};
}

}  // namespace gatescope
