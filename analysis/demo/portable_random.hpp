#pragma once

// Random draws and the few transcendental functions the synthetic demo datasets need, computed so
// that a dataset comes out byte-identical on every machine and compiler: only +, -, *, /, sqrt and
// integer operations, which IEEE 754 rounds the same way everywhere (the C library's log, sin and
// cos differ between implementations). Include it only from files compiled without fused
// multiply-add (-ffp-contract=off, analysis/CMakeLists.txt).
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "analysis/core/seeded_random.hpp"

namespace gatescope {

inline constexpr double kPortablePi = 3.14159265358979323846;

// ln(x), x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), and ln(m) = 2 atanh((m - 1) / (m + 1)).
inline double naturalLog(double x) {
  int exponent = 0;
  double m = std::frexp(x, &exponent);
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --exponent;
  }
  const double t = (m - 1.0) / (m + 1.0);  // |t| < 0.172: 14 terms reach double precision
  const double t2 = t * t;
  double series = 0.0;
  for (int n = 27; n >= 1; n -= 2) series = series * t2 + 1.0 / n;
  return 2.0 * t * series + exponent * 0.69314718055994530942;
}

// sin and cos of |angle| <= 1 rad from their Taylor series.
inline std::pair<double, double> sinCos(double angle) {
  const double a2 = angle * angle;
  double sine = 1.0, cosine = 1.0;
  for (int n = 10; n >= 1; --n) {
    sine = 1.0 - a2 / ((2.0 * n) * (2.0 * n + 1.0)) * sine;
    cosine = 1.0 - a2 / ((2.0 * n - 1.0) * (2.0 * n)) * cosine;
  }
  return {angle * sine, cosine};
}

// sin and cos of |angle| <= 4 rad: the series at a quarter of the angle, doubled twice.
inline std::pair<double, double> sinCosWide(double angle) {
  auto [sine, cosine] = sinCos(angle / 4.0);
  for (int doubling = 0; doubling < 2; ++doubling) {
    const double s = 2.0 * sine * cosine;
    cosine = cosine * cosine - sine * sine;
    sine = s;
  }
  return {sine, cosine};
}

// Stored parameters are kept to 0.01 so that the files list them legibly; + 0.0 turns -0 into 0.
inline double hundredths(double value) {
  return std::round(value * 100.0) / 100.0 + 0.0;
}

// core/seeded_random's xoshiro256**, seeded through SplitMix64 from (seed, item index, purpose,
// part): each item of a dataset draws from its own streams, so it does not depend on how many
// items are generated or in what order, and drawing more for one purpose never shifts another.
class RandomStream {
 public:
  RandomStream(uint64_t seed, int index, uint64_t purpose, int64_t part = 0)
      : random_(streamState(seed, index, purpose, part)) {}

  // [0, 1) with 53 random bits.
  double uniform() { return random_.uniform(); }
  double uniform(double low, double high) { return random_.uniform(low, high); }
  int below(int n) { return static_cast<int>(uniform() * n); }
  // Standard normal by Marsaglia's polar method.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0, v = 0.0, s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * naturalLog(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
  }

 private:
  static SeededRandom streamState(uint64_t seed, int index, uint64_t purpose, int64_t part) {
    uint64_t state = seed;
    for (uint64_t key : {static_cast<uint64_t>(index), purpose, static_cast<uint64_t>(part)})
      state = SeededRandom::splitMix64(state) ^ key;
    std::array<uint64_t, 4> words{};
    for (uint64_t& word : words) word = SeededRandom::splitMix64(state);
    return SeededRandom::fromState(words);
  }

  SeededRandom random_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace gatescope
