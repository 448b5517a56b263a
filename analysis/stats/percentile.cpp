#include "analysis/stats/percentile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gatescope {

double linearPercentile(std::vector<double> values, double percentile) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double position = percentile / 100.0 * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(below),
                   values.end());
  const double a = values[below];
  double b = a;
  if (above != below)
    b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(below) + 1, values.end());
  const double t = position - static_cast<double>(below);
  if (a == b) return a;
  // numpy's _lerp: exact at both ends.
  return t >= 0.5 ? b - (b - a) * (1.0 - t) : a + (b - a) * t;
}

}  // namespace gatescope
