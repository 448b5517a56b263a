#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace gatescope {

// Aggregate of one metric over cases. Statistics use the finite values; NaN and infinite values
// are counted, never dropped silently. std is the sample standard deviation (n - 1); median and
// quartiles use numpy's linear interpolation.
struct Summary {
  double mean = 0, std = 0, median = 0, q1 = 0, q3 = 0, iqr = 0, min = 0, max = 0;
  int64_t n = 0;  // finite values
  int64_t n_nan = 0;
  int64_t n_inf = 0;
};

[[nodiscard]] Summary summarize(const std::vector<double>& values);
[[nodiscard]] nlohmann::ordered_json toJson(const Summary& s);

}  // namespace gatescope
