// The exact EDT against brute force over every (voxel, feature) pair on random anisotropic grids.
#include "analysis/metrics/distance_transform.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "analysis/stats/percentile.hpp"

using namespace gatescope;

TEST_CASE("squared EDT equals brute force on random anisotropic grids", "[metrics]") {
  std::mt19937 rng(5);
  const std::array<std::array<int64_t, 3>, 4> shapes = {
      {{13, 7, 5}, {1, 9, 4}, {17, 11, 1}, {6, 6, 6}}};
  const std::array<std::array<double, 3>, 4> spacings = {
      {{0.7, 1.3, 2.9}, {1.0, 0.45, 3.1}, {0.3, 0.8, 1.0}, {2.0, 2.0, 0.5}}};
  for (size_t s = 0; s < shapes.size(); ++s) {
    const auto dims = shapes[s];
    const auto spacing = spacings[s];
    const size_t n = static_cast<size_t>(dims[0] * dims[1] * dims[2]);
    for (double density : {0.02, 0.3}) {
      std::vector<uint8_t> feature(n);
      std::bernoulli_distribution pick(density);
      for (auto& f : feature) f = pick(rng);
      const auto field = squaredDistanceTransform(feature, dims, spacing);
      size_t wrong = 0;
      for (size_t v = 0; v < n; ++v) {
        double best = std::numeric_limits<double>::infinity();
        const int64_t i = static_cast<int64_t>(v) % dims[0],
                      j = static_cast<int64_t>(v) / dims[0] % dims[1],
                      k = static_cast<int64_t>(v) / (dims[0] * dims[1]);
        for (size_t w = 0; w < n; ++w) {
          if (!feature[w]) continue;
          const int64_t a = static_cast<int64_t>(w) % dims[0],
                        b = static_cast<int64_t>(w) / dims[0] % dims[1],
                        c = static_cast<int64_t>(w) / (dims[0] * dims[1]);
          const double dx = spacing[0] * static_cast<double>(i - a),
                       dy = spacing[1] * static_cast<double>(j - b),
                       dz = spacing[2] * static_cast<double>(k - c);
          best = std::min(best, dx * dx + dy * dy + dz * dz);
        }
        if (std::isinf(best) ? !std::isinf(field[v])
                             : std::abs(field[v] - best) > 1e-9 * std::max(1.0, best))
          ++wrong;
      }
      INFO("shape " << s << " density " << density);
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("a grid without features is infinitely far from everything", "[metrics]") {
  const std::vector<uint8_t> none(24, 0);
  for (double d : squaredDistanceTransform(none, {4, 3, 2}, {1.0, 1.0, 1.0})) CHECK(std::isinf(d));
}

TEST_CASE("percentiles interpolate linearly between order statistics as numpy does", "[metrics]") {
  // numpy.percentile([3, 1, 4, 1, 5, 9, 2, 6], q) for q = 0, 25, 50, 95, 100
  const std::vector<double> v = {3, 1, 4, 1, 5, 9, 2, 6};
  CHECK(linearPercentile(v, 0) == 1.0);
  CHECK(linearPercentile(v, 25) == Approx(1.75));
  CHECK(linearPercentile(v, 50) == Approx(3.5));
  CHECK(linearPercentile(v, 95) == Approx(7.95));
  CHECK(linearPercentile(v, 100) == 9.0);
  CHECK(std::isnan(linearPercentile({}, 50)));
}
