#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "analysis/core/error.hpp"
#include "analysis/core/geometry.hpp"

namespace gatescope {

// A voxel grid with its geometry and one or more channels (class probabilities, multi-channel
// gates, RGB). Memory layout: i fastest, then j, then k, then channel - the NIfTI order, so a 4D
// NIfTI file with its 4th axis as channels maps onto it without reordering.
template <typename T>
class Volume {
 public:
  using value_type = T;

  Volume() = default;
  explicit Volume(const Geometry& geometry, int64_t channels = 1, T fill = T{})
      : geometry_(geometry),
        channels_(channels),
        data_(static_cast<size_t>(checkedSize(geometry, channels)), fill) {}
  Volume(const Geometry& geometry, int64_t channels, std::vector<T> data)
      : geometry_(geometry), channels_(channels), data_(std::move(data)) {
    if (static_cast<int64_t>(data_.size()) != checkedSize(geometry, channels))
      throw GeometryError("volume data holds " + std::to_string(data_.size()) +
                          " values but its geometry " + geometry.describe() + " with " +
                          std::to_string(channels) + " channel(s) needs " +
                          std::to_string(checkedSize(geometry, channels)));
  }

  [[nodiscard]] const Geometry& geometry() const { return geometry_; }
  [[nodiscard]] const Index3& dims() const { return geometry_.dims; }
  [[nodiscard]] int64_t channels() const { return channels_; }
  [[nodiscard]] int64_t voxelsPerChannel() const { return geometry_.voxelCount(); }
  [[nodiscard]] int64_t size() const { return static_cast<int64_t>(data_.size()); }
  [[nodiscard]] bool empty() const { return data_.empty(); }

  [[nodiscard]] int64_t offset(int64_t i, int64_t j, int64_t k, int64_t c = 0) const {
    const auto& d = geometry_.dims;
    return i + d[0] * (j + d[1] * (k + d[2] * c));
  }
  [[nodiscard]] T& operator()(int64_t i, int64_t j, int64_t k, int64_t c = 0) {
    return data_[static_cast<size_t>(offset(i, j, k, c))];
  }
  [[nodiscard]] const T& operator()(int64_t i, int64_t j, int64_t k, int64_t c = 0) const {
    return data_[static_cast<size_t>(offset(i, j, k, c))];
  }

  [[nodiscard]] std::span<T> values() { return data_; }
  [[nodiscard]] std::span<const T> values() const { return data_; }
  [[nodiscard]] std::span<const T> channel(int64_t c) const {
    return std::span<const T>(data_).subspan(static_cast<size_t>(c * voxelsPerChannel()),
                                             static_cast<size_t>(voxelsPerChannel()));
  }
  [[nodiscard]] std::span<T> channel(int64_t c) {
    return std::span<T>(data_).subspan(static_cast<size_t>(c * voxelsPerChannel()),
                                       static_cast<size_t>(voxelsPerChannel()));
  }
  [[nodiscard]] T* data() { return data_.data(); }
  [[nodiscard]] const T* data() const { return data_.data(); }

 private:
  static int64_t checkedSize(const Geometry& g, int64_t channels) {
    for (auto d : g.dims)
      if (d < 1) throw GeometryError("volume dims must be positive: " + g.describe());
    if (channels < 1) throw GeometryError("volume needs at least one channel");
    return g.voxelCount() * channels;
  }

  Geometry geometry_;
  int64_t channels_ = 1;
  std::vector<T> data_;
};

// A new volume of another value type on the same grid, values converted with static_cast.
template <typename To, typename From>
[[nodiscard]] Volume<To> convertVolume(const Volume<From>& source) {
  Volume<To> out(source.geometry(), source.channels());
  auto in = source.values();
  auto dst = out.values();
  for (size_t n = 0; n < in.size(); ++n) dst[n] = static_cast<To>(in[n]);
  return out;
}

}  // namespace gatescope
