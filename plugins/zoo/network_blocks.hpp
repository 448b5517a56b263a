#pragma once

// Building blocks of the native zoo networks, shared by the segmentation networks (networks.cpp)
// and the classifiers (classifiers.cpp): the original code's modules with its parameter names.
// Internal to plugins/zoo.
#include <torch/torch.h>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatescope::zoo::blocks {

namespace F = torch::nn::functional;

using Size3 = std::array<int64_t, 3>;

// 2D and 3D building blocks share their code: Nd<D> names the LibTorch types.
template <int D>
struct Nd;
template <>
struct Nd<2> {
  using Conv = torch::nn::Conv2d;
  using ConvImpl = torch::nn::Conv2dImpl;
  static torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& b) {
    return torch::conv2d(x, w, b);
  }
  using ConvOptions = torch::nn::Conv2dOptions;
  using ConvTranspose = torch::nn::ConvTranspose2d;
  using ConvTransposeOptions = torch::nn::ConvTranspose2dOptions;
  using BatchNorm = torch::nn::BatchNorm2d;
  static F::InterpolateFuncOptions interpolation() {
    return F::InterpolateFuncOptions().mode(torch::kBilinear);
  }
  static torch::Tensor maxPool(const torch::Tensor& x, const Size3& k) {
    return torch::max_pool2d(x, {k[0], k[1]});
  }
};
template <>
struct Nd<3> {
  using Conv = torch::nn::Conv3d;
  using ConvImpl = torch::nn::Conv3dImpl;
  static torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& b) {
    return torch::conv3d(x, w, b);
  }
  using ConvOptions = torch::nn::Conv3dOptions;
  using ConvTranspose = torch::nn::ConvTranspose3d;
  using ConvTransposeOptions = torch::nn::ConvTranspose3dOptions;
  using BatchNorm = torch::nn::BatchNorm3d;
  static F::InterpolateFuncOptions interpolation() {
    return F::InterpolateFuncOptions().mode(torch::kTrilinear);
  }
  static torch::Tensor maxPool(const torch::Tensor& x, const Size3& k) {
    return torch::max_pool3d(x, {k[0], k[1], k[2]});
  }
};

template <int D>
torch::ExpandingArray<D> dims(const Size3& v) {
  return torch::ExpandingArray<D>(at::IntArrayRef(v.data(), D));
}

template <int D>
typename Nd<D>::Conv conv(int64_t in, int64_t out, const Size3& kernel,
                          const Size3& stride = {1, 1, 1}, const Size3& padding = {0, 0, 0},
                          bool bias = true) {
  return typename Nd<D>::Conv(typename Nd<D>::ConvOptions(in, out, dims<D>(kernel))
                                  .stride(dims<D>(stride))
                                  .padding(dims<D>(padding))
                                  .bias(bias));
}

// Conv -> BatchNorm -> ReLU as the original nn.Sequential: keys <name>.0.weight,
// <name>.1.running_mean, ... Batch norm and ReLU are optional (unetConv2 without batch norm, the
// gates' W = Conv -> BatchNorm). For inference, fold() merges the evaluation-mode batch norm into
// the convolution's weights and bias, which saves a pass over every activation.
class Foldable {
 public:
  virtual ~Foldable() = default;
  virtual void fold() = 0;
};

template <int D>
struct ConvNormActImpl : torch::nn::Module, Foldable {
  ConvNormActImpl(int64_t in, int64_t out, const Size3& kernel, const Size3& padding,
                  bool batchnorm, bool relu)
      : relu_(relu) {
    convolution = register_module("0", conv<D>(in, out, kernel, {1, 1, 1}, padding));
    if (batchnorm) norm = register_module("1", typename Nd<D>::BatchNorm(out));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = convolution->forward(x);
    if (norm && !folded_) y = norm->forward(y);
    return relu_ ? torch::relu_(y) : y;
  }
  void fold() override {
    if (!norm || folded_) return;
    if (is_training()) throw std::logic_error("batch norm can only be folded in evaluation mode");
    torch::NoGradGuard no_grad;
    const auto& o = norm->options;
    const torch::Tensor scale = norm->weight.to(torch::kFloat64) /
                                torch::sqrt(norm->running_var.to(torch::kFloat64) + o.eps());
    std::vector<int64_t> shape(static_cast<size_t>(D) + 2, 1);
    shape[0] = -1;
    convolution->weight.copy_((convolution->weight.to(torch::kFloat64) * scale.view(shape))
                                  .to(convolution->weight.dtype()));
    convolution->bias.copy_(
        ((convolution->bias.to(torch::kFloat64) - norm->running_mean.to(torch::kFloat64)) * scale +
         norm->bias.to(torch::kFloat64))
            .to(convolution->bias.dtype()));
    folded_ = true;
  }
  typename Nd<D>::Conv convolution{nullptr};
  typename Nd<D>::BatchNorm norm{nullptr};
  bool relu_;
  bool folded_ = false;
};
template <int D>
using ConvNormAct = torch::nn::ModuleHolder<ConvNormActImpl<D>>;

template <int D>
ConvNormAct<D> convBnRelu(int64_t in, int64_t out, const Size3& kernel, const Size3& padding) {
  return ConvNormAct<D>(in, out, kernel, padding, true, true);
}

struct Interpolation {
  bool align_corners = false;
  template <int D>
  torch::Tensor toSize(const torch::Tensor& x, const std::vector<int64_t>& size) const {
    return F::interpolate(x, Nd<D>::interpolation().size(size).align_corners(align_corners));
  }
  template <int D>
  torch::Tensor byScale(const torch::Tensor& x, const Size3& scale) const {
    std::vector<double> factors(scale.begin(), scale.begin() + D);
    return F::interpolate(
        x, Nd<D>::interpolation().scale_factor(factors).align_corners(align_corners));
  }
};

inline std::vector<int64_t> spatial(const torch::Tensor& x) {
  return x.sizes().slice(2).vec();
}

inline int64_t floorHalf(int64_t v) {
  return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

// UnetConv3 / unetConv2: `n` (by default two) Conv-BN-ReLU (or Conv-ReLU without batch norm)
// named conv1, conv2, ...
template <int D>
struct UnetConvImpl : torch::nn::Module {
  UnetConvImpl(int64_t in, int64_t out, const Size3& kernel, const Size3& padding,
               bool batchnorm = true, int n = 2) {
    for (int i = 1; i <= n; ++i)
      convs.push_back(register_module(
          "conv" + std::to_string(i),
          ConvNormAct<D>(i == 1 ? in : out, out, kernel, padding, batchnorm, true)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = x;
    for (auto& c : convs) y = c->forward(y);
    return y;
  }
  std::vector<ConvNormAct<D>> convs;
};
template <int D>
using UnetConv = torch::nn::ModuleHolder<UnetConvImpl<D>>;

// The original up blocks pad the skip connection by an offset measured on the first spatial axis
// only, then concatenate [skip, upsampled].
template <int D>
torch::Tensor concatenateSkip(const torch::Tensor& skip, const torch::Tensor& upsampled) {
  const int64_t offset = upsampled.size(2) - skip.size(2);
  torch::Tensor padded = skip;
  if (offset != 0) {
    const int64_t h = floorHalf(offset);
    padded = D == 3 ? torch::constant_pad_nd(skip, {h, h, 0, h, h, 0})
                    : torch::constant_pad_nd(skip, {h, h, h, h});
  }
  return torch::cat({padded, upsampled}, 1);
}

// UnetUp3_CT / UnetUp3 (without deconvolution): upsample the coarse input by `scale`, concatenate.
template <int D>
struct UpImpl : torch::nn::Module {
  UpImpl(int64_t in, int64_t out, const Size3& kernel, const Size3& padding, const Size3& scale,
         Interpolation interp)
      : scale_(scale), interp_(interp) {
    conv = register_module("conv", UnetConv<D>(in + out, out, kernel, padding));
  }
  torch::Tensor forward(const torch::Tensor& skip, const torch::Tensor& coarse) {
    return conv->forward(concatenateSkip<D>(skip, interp_.byScale<D>(coarse, scale_)));
  }
  UnetConv<D> conv{nullptr};
  Size3 scale_;
  Interpolation interp_;
};
template <int D>
using Up = torch::nn::ModuleHolder<UpImpl<D>>;

// unetUp with deconvolution (unet 2D): ConvTranspose2d(4, stride 2, padding 1), then unetConv2
// without batch norm on [skip, upsampled].
struct DeconvUpImpl : torch::nn::Module {
  DeconvUpImpl(int64_t in, int64_t out) {
    conv = register_module("conv", UnetConv<2>(in, out, Size3{3, 3, 1}, Size3{1, 1, 0}, false));
    up = register_module("up",
                         torch::nn::ConvTranspose2d(
                             torch::nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1)));
  }
  torch::Tensor forward(const torch::Tensor& skip, const torch::Tensor& coarse) {
    return conv->forward(concatenateSkip<2>(skip, up->forward(coarse)));
  }
  UnetConv<2> conv{nullptr};
  torch::nn::ConvTranspose2d up{nullptr};
};
TORCH_MODULE(DeconvUp);

// UnetDsv3: 1x1 conv to the classes (dsv.0), then upsampling to the input grid.
template <int D>
struct DsvImpl : torch::nn::Module {
  DsvImpl(int64_t in, int64_t classes, int64_t scale, Interpolation interp)
      : scale_(scale), interp_(interp) {
    dsv = register_module("dsv", torch::nn::Sequential(conv<D>(in, classes, {1, 1, 1})));
  }
  torch::Tensor forward(const torch::Tensor& x) { return upsample(dsv->forward(x)); }
  torch::Tensor upsample(const torch::Tensor& x) const {
    return interp_.byScale<D>(x, {scale_, scale_, scale_});
  }
  typename Nd<D>::ConvImpl& convolution() { return *dsv[0]->template as<typename Nd<D>::Conv>(); }
  torch::nn::Sequential dsv{nullptr};
  int64_t scale_;
  Interpolation interp_;
};
template <int D>
using Dsv = torch::nn::ModuleHolder<DsvImpl<D>>;

struct GateResult {
  torch::Tensor output;  // W(alpha * x)
  torch::Tensor alpha;   // what the gate multiplies into x: at x's (the skip connection's) grid
  torch::Tensor coarse;  // sigmoid(psi(f)) at theta's grid, before the upsampling
};

// _GridAttentionBlockND, modes concatenation and concatenation_debug.
template <int D>
struct GridAttentionImpl : torch::nn::Module {
  GridAttentionImpl(int64_t in, int64_t gating, int64_t inter, const Size3& sub_sample, bool debug,
                    Interpolation interp)
      : debug_(debug), interp_(interp) {
    W = register_module("W", ConvNormAct<D>(in, in, Size3{1, 1, 1}, Size3{0, 0, 0}, true, false));
    theta = register_module("theta", conv<D>(in, inter, sub_sample, sub_sample, {0, 0, 0}, false));
    phi = register_module("phi", conv<D>(gating, inter, {1, 1, 1}));
    psi = register_module("psi", conv<D>(inter, 1, {1, 1, 1}));
  }
  GateResult forward(const torch::Tensor& x, const torch::Tensor& g) {
    const torch::Tensor theta_x = theta->forward(x);
    const torch::Tensor phi_g = interp_.toSize<D>(phi->forward(g), spatial(theta_x));
    const torch::Tensor f =
        debug_ ? torch::softplus(theta_x + phi_g) : torch::relu(theta_x + phi_g);
    const torch::Tensor coarse = torch::sigmoid(psi->forward(f));
    const torch::Tensor alpha = interp_.toSize<D>(coarse, spatial(x));
    return {W->forward(alpha.expand_as(x) * x), alpha, coarse};
  }
  ConvNormAct<D> W{nullptr};
  typename Nd<D>::Conv theta{nullptr}, phi{nullptr}, psi{nullptr};
  bool debug_;
  Interpolation interp_;
};
template <int D>
using GridAttention = torch::nn::ModuleHolder<GridAttentionImpl<D>>;

// MultiAttentionBlock: one or two gates, then combine_gates (1x1 conv, BN, ReLU).
template <int D>
struct MultiAttentionImpl : torch::nn::Module {
  MultiAttentionImpl(int64_t in, int64_t gating, int64_t inter, int count, const Size3& sub_sample,
                     bool debug, Interpolation interp) {
    for (int n = 1; n <= count; ++n)
      gates.push_back(
          register_module("gate_block_" + std::to_string(n),
                          GridAttention<D>(in, gating, inter, sub_sample, debug, interp)));
    combine_gates =
        register_module("combine_gates", convBnRelu<D>(in * count, in, {1, 1, 1}, {0, 0, 0}));
  }
  GateResult forward(const torch::Tensor& x, const torch::Tensor& g) {
    std::vector<torch::Tensor> outputs, alphas, coarse;
    for (auto& gate : gates) {
      GateResult r = gate->forward(x, g);
      outputs.push_back(r.output);
      alphas.push_back(r.alpha);
      coarse.push_back(r.coarse);
    }
    return {combine_gates->forward(torch::cat(outputs, 1)), torch::cat(alphas, 1),
            torch::cat(coarse, 1)};
  }
  std::vector<GridAttention<D>> gates;
  ConvNormAct<D> combine_gates{nullptr};
};
template <int D>
using MultiAttention = torch::nn::ModuleHolder<MultiAttentionImpl<D>>;

// UnetGridGatingSignal3: conv1 = Sequential(1x1 conv, BN, ReLU).
template <int D>
struct GatingSignalImpl : torch::nn::Module {
  GatingSignalImpl(int64_t in, int64_t out) {
    conv1 = register_module("conv1", convBnRelu<D>(in, out, {1, 1, 1}, {0, 0, 0}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return conv1->forward(x); }
  ConvNormAct<D> conv1{nullptr};
};
template <int D>
using GatingSignal = torch::nn::ModuleHolder<GatingSignalImpl<D>>;

inline std::array<int64_t, 5> filtersFor(int feature_scale) {
  std::array<int64_t, 5> f = {64, 128, 256, 512, 1024};
  for (auto& v : f) v /= feature_scale;
  return f;
}

}  // namespace gatescope::zoo::blocks
