#pragma once

// Tensors the fixture scripts write ({"file", "shape"} with raw little-endian float32, C order),
// and the difference measure the model tests hold them to.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/models/model_adapter.hpp"

namespace gatescope::test {

inline TensorData readTensor(const std::filesystem::path& dir, const nlohmann::json& spec) {
  TensorData t;
  t.shape = spec["shape"].get<std::vector<int64_t>>();
  const std::filesystem::path path = dir / spec["file"].get<std::string>();
  t.values.resize(std::filesystem::file_size(path) / sizeof(float));
  std::ifstream(path, std::ios::binary)
      .read(reinterpret_cast<char*>(t.values.data()),
            static_cast<std::streamsize>(t.values.size() * sizeof(float)));
  return t;
}

// The largest difference relative to max(1, |reference|); infinity when the shapes differ.
inline double largestDifference(const TensorData& a, const TensorData& reference) {
  if (a.shape != reference.shape || a.values.size() != reference.values.size()) return INFINITY;
  double worst = 0;
  for (size_t n = 0; n < a.values.size(); ++n)
    worst = std::max(worst, std::abs(static_cast<double>(a.values[n]) - reference.values[n]) /
                                std::max(1.0, std::abs(static_cast<double>(reference.values[n]))));
  return worst;
}

}  // namespace gatescope::test
