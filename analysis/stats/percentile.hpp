#pragma once

#include <vector>

namespace gatescope {

// numpy.percentile(values, p) with its default linear interpolation; NaN for no values.
[[nodiscard]] double linearPercentile(std::vector<double> values, double percentile);

}  // namespace gatescope
