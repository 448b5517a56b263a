#include "plugins/zoo/tensor_convert.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gatescope {

namespace F = torch::nn::functional;

torch::Tensor toTensor(const TensorData& data) {
  return torch::from_blob(const_cast<float*>(data.values.data()), data.shape, torch::kFloat32).clone();
}

TensorData toTensorData(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
  TensorData out{t.sizes().vec(), std::vector<float>(static_cast<size_t>(t.numel()))};
  std::memcpy(out.values.data(), t.data_ptr<float>(), out.values.size() * sizeof(float));
  return out;
}

namespace {

// (C, i, j[, k]) tensor <-> volume memory [c][k][j][i].
torch::Tensor volumeToTensor(const Volume<float>& v, int dimensions) {
  const auto& d = v.dims();
  torch::Tensor t = torch::from_blob(const_cast<float*>(v.data()), {v.channels(), d[2], d[1], d[0]}, torch::kFloat32);
  t = t.permute({0, 3, 2, 1});
  if (dimensions == 2) t = t.select(3, 0);
  return t.contiguous();
}

// Network layout (C, i, j, k), k fastest, to volume layout [c][k][j][i], i fastest: a transpose of
// i and k per channel, in cache-sized tiles (a generic strided copy is several times slower).
Volume<float> tensorToVolume(torch::Tensor t, const Geometry& g) {
  if (t.dim() == 3) t = t.unsqueeze(3);
  t = t.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t channels = t.size(0), ni = t.size(1), nj = t.size(2), nk = t.size(3);
  Volume<float> v(g, channels);
  const float* src = t.data_ptr<float>();
  float* dst = v.data();
  constexpr int64_t kTile = 32;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < nj; ++j) {
      const float* in = src + c * ni * nj * nk + j * nk;
      float* out = dst + c * ni * nj * nk + j * ni;
      for (int64_t i0 = 0; i0 < ni; i0 += kTile)
        for (int64_t k0 = 0; k0 < nk; k0 += kTile)
          for (int64_t i = i0; i < std::min(ni, i0 + kTile); ++i)
            for (int64_t k = k0; k < std::min(nk, k0 + kTile); ++k) out[k * ni * nj + i] = in[i * nj * nk + k];
    }
  return v;
}

// The most probable class per voxel, from probabilities already in volume layout.
Volume<uint8_t> argmaxLabels(const Volume<float>& probabilities) {
  Volume<uint8_t> labels(probabilities.geometry());
  const int64_t n = probabilities.voxelsPerChannel();
  const int64_t classes = probabilities.channels();
  const float* p = probabilities.data();
  uint8_t* out = labels.data();
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (p[c * n + v] > p[best * n + v]) best = c;
    out[v] = static_cast<uint8_t>(best);
  }
  return labels;
}

torch::Tensor cropSpatial(const torch::Tensor& t, const Index3& size, int dimensions) {
  torch::Tensor out = t;
  for (int a = 0; a < dimensions; ++a) out = out.narrow(2 + a, 0, size[static_cast<size_t>(a)]);
  return out;
}

int64_t roundUp(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

}  // namespace

PreparedInput prepareInput(const Volume<float>& image, const ModelInfo& info, bool for_windows) {
  Volume<float> normalized = image;
  if (info.preprocessing.normalize == "zscore") {
    for (int64_t c = 0; c < normalized.channels(); ++c) {
      auto values = normalized.channel(c);
      double sum = 0, squares = 0;
      for (float x : values) sum += x;
      const double mean = sum / static_cast<double>(values.size());
      for (float x : values) squares += (x - mean) * (x - mean);
      double sd = std::sqrt(squares / static_cast<double>(values.size()));
      if (!(sd > 0)) sd = 1.0;
      for (float& x : values) x = static_cast<float>((x - mean) / sd);
    }
  }
  PreparedInput prepared;
  prepared.original = image.dims();
  torch::Tensor t = volumeToTensor(normalized, info.dimensions).unsqueeze(0);
  std::vector<int64_t> pad;  // F.pad order: last axis first, (before, after)
  for (int a = info.dimensions - 1; a >= 0; --a) {
    const auto axis = static_cast<size_t>(a);
    const int64_t multiple = std::lcm<int64_t>(info.preprocessing.pad_to_multiple, info.size_multiple[axis]);
    const int64_t target = for_windows ? image.dims()[axis] : roundUp(image.dims()[axis], multiple);
    prepared.padded[axis] = target;
    pad.push_back(0);
    pad.push_back(target - image.dims()[axis]);
  }
  if (info.dimensions == 2) prepared.padded[2] = 1;
  prepared.tensor = torch::constant_pad_nd(t, pad, 0.0);
  return prepared;
}

Prediction finishPrediction(const torch::Tensor& padded_probabilities, const std::vector<zoo::GateOutput>& gate_outputs,
                            const std::vector<int64_t>& padded, const Index3& original, const Geometry& geometry,
                            bool align_corners) {
  const int dimensions = static_cast<int>(padded_probabilities.dim()) - 2;
  Prediction p;
  const torch::Tensor probabilities = cropSpatial(padded_probabilities, original, dimensions)[0];
  p.probabilities = tensorToVolume(probabilities, geometry);
  p.labels = argmaxLabels(p.probabilities);

  auto mode = dimensions == 3 ? F::InterpolateFuncOptions().mode(torch::kTrilinear)
                              : F::InterpolateFuncOptions().mode(torch::kBilinear);
  for (const zoo::GateOutput& gate : gate_outputs) {
    GatePrediction g;
    g.name = gate.name;
    // Native grid: each gate voxel covers `stride` input voxels; its centre sits (stride-1)/2 in.
    Geometry native = geometry;
    Index3 covered{1, 1, 1};
    for (int a = 0; a < dimensions; ++a) {
      const auto axis = static_cast<size_t>(a);
      const int64_t stride = padded[axis] / gate.alpha.size(2 + a);
      covered[axis] = (original[axis] + stride - 1) / stride;
      native.spacing_mm[axis] = geometry.spacing_mm[axis] * static_cast<double>(stride);
      for (int r = 0; r < 3; ++r)
        native.origin[static_cast<size_t>(r)] += geometry.direction[static_cast<size_t>(r)][axis] *
                                                 geometry.spacing_mm[axis] * 0.5 * static_cast<double>(stride - 1);
    }
    native.dims = covered;
    g.native = tensorToVolume(cropSpatial(gate.alpha, covered, dimensions)[0], native);
    const torch::Tensor upsampled = F::interpolate(gate.alpha, F::InterpolateFuncOptions(mode).size(padded).align_corners(align_corners));
    g.resampled = tensorToVolume(cropSpatial(upsampled, original, dimensions)[0], geometry);
    p.gates.push_back(std::move(g));
  }
  return p;
}

}  // namespace gatescope
