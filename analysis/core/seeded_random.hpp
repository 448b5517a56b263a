#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace gatescope {

// A seeded random stream that gives the same numbers on every platform and compiler:
// xoshiro256** seeded through SplitMix64, with its own integer and real conversions (the std::
// distributions are implementation-defined, so a training run would not reproduce across
// standard libraries).
class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed) {
    for (auto& word : state_) word = splitMix64(seed);
  }
  // A stream from a state its caller derived (four words, not all zero).
  [[nodiscard]] static SeededRandom fromState(const std::array<uint64_t, 4>& state) {
    SeededRandom random(0);
    random.state_ = state;
    return random;
  }

  // SplitMix64: advances `x` and returns the next word of its sequence.
  [[nodiscard]] static uint64_t splitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  [[nodiscard]] uint64_t next() {
    const uint64_t result = rotateLeft(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotateLeft(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1), 53 random bits.
  [[nodiscard]] double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [low, high]; exactly `low` when the range is empty.
  [[nodiscard]] double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n), without modulo bias (rejection of the incomplete last block).
  [[nodiscard]] uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }
  [[nodiscard]] bool chance(double probability) { return uniform() < probability; }

  // Fisher-Yates, drawing from this stream.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t n = items.size(); n > 1; --n) std::swap(items[n - 1], items[below(n)]);
  }

 private:
  static uint64_t rotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<uint64_t, 4> state_;
};

}  // namespace gatescope
