#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "analysis/core/image.hpp"

namespace gatescope {

// Value summary of an image's real (scaled) values, as `gatescope info` reports it.
struct ImageStatistics {
  double min = 0.0;  // over finite values; NaN when there are none
  double max = 0.0;
  double mean = 0.0;
  int64_t n_nan = 0;
  int64_t n_inf = 0;
  // Voxel count per value, for unscaled integer images only (label images).
  bool has_labels = false;
  std::map<int64_t, int64_t> labels;
};

[[nodiscard]] ImageStatistics computeStatistics(const Image& image);

// FormatError naming `source` when any of the image's values is NaN or infinite: a model would turn
// such a voxel into NaN probabilities everywhere its receptive field reaches.
void checkFiniteValues(const Image& image, const std::string& source);

// Per channel: subtract the mean and divide by the (population) standard deviation over the
// whole image - the "zscore" preprocessing of model manifests, shared by inference and training.
// A constant channel is only centred.
void normalizeZScore(Volume<float>& volume);

}  // namespace gatescope
