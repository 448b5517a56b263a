#include "plugins/zoo/networks.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/core/error.hpp"

namespace gatescope::zoo {

namespace F = torch::nn::functional;

namespace {

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

std::vector<int64_t> spatial(const torch::Tensor& x) {
  return x.sizes().slice(2).vec();
}

int64_t floorHalf(int64_t v) {
  return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

// UnetConv3 / unetConv2: two Conv-BN-ReLU (or Conv-ReLU without batch norm) named conv1, conv2.
template <int D>
struct UnetConvImpl : torch::nn::Module {
  UnetConvImpl(int64_t in, int64_t out, const Size3& kernel, const Size3& padding,
               bool batchnorm = true) {
    conv1 = register_module("conv1", ConvNormAct<D>(in, out, kernel, padding, batchnorm, true));
    conv2 = register_module("conv2", ConvNormAct<D>(out, out, kernel, padding, batchnorm, true));
  }
  torch::Tensor forward(const torch::Tensor& x) { return conv2->forward(conv1->forward(x)); }
  ConvNormAct<D> conv1{nullptr}, conv2{nullptr};
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

std::array<int64_t, 5> filtersFor(int feature_scale) {
  std::array<int64_t, 5> f = {64, 128, 256, 512, 1024};
  for (auto& v : f) v /= feature_scale;
  return f;
}

// unet_ct_dsv, unet_ct_single_att_dsv, unet_ct_multi_att_dsv.
template <int D>
class CtDsvNetwork : public Network {
 public:
  CtDsvNetwork(const ZooConfig& c, int gates_per_level) : gates_per_level_(gates_per_level) {
    const auto f = filtersFor(c.feature_scale);
    const Interpolation interp{c.upsample_align_corners};
    const Size3 k3 = {3, 3, 3}, p1 = {1, 1, 1};
    conv1 = register_module("conv1", UnetConv<D>(c.in_channels, f[0], k3, p1));
    conv2 = register_module("conv2", UnetConv<D>(f[0], f[1], k3, p1));
    conv3 = register_module("conv3", UnetConv<D>(f[1], f[2], k3, p1));
    conv4 = register_module("conv4", UnetConv<D>(f[2], f[3], k3, p1));
    center = register_module("center", UnetConv<D>(f[3], f[4], k3, p1));
    if (gates_per_level_ > 0) {
      gating = register_module("gating", GatingSignal<D>(f[4], f[4]));
      const bool debug = c.nonlocal_mode == "concatenation_debug";
      attention2 =
          register_module("attentionblock2", MultiAttention<D>(f[1], f[2], f[1], gates_per_level_,
                                                               c.attention_dsample, debug, interp));
      attention3 =
          register_module("attentionblock3", MultiAttention<D>(f[2], f[3], f[2], gates_per_level_,
                                                               c.attention_dsample, debug, interp));
      attention4 =
          register_module("attentionblock4", MultiAttention<D>(f[3], f[4], f[3], gates_per_level_,
                                                               c.attention_dsample, debug, interp));
      sub_sample_ = c.attention_dsample;
    }
    const Size3 two = {2, 2, 2};
    up4 = register_module("up_concat4", Up<D>(f[4], f[3], k3, p1, two, interp));
    up3 = register_module("up_concat3", Up<D>(f[3], f[2], k3, p1, two, interp));
    up2 = register_module("up_concat2", Up<D>(f[2], f[1], k3, p1, two, interp));
    up1 = register_module("up_concat1", Up<D>(f[1], f[0], k3, p1, two, interp));
    dsv4 = register_module("dsv4", Dsv<D>(f[3], c.n_classes, 8, interp));
    dsv3 = register_module("dsv3", Dsv<D>(f[2], c.n_classes, 4, interp));
    dsv2 = register_module("dsv2", Dsv<D>(f[1], c.n_classes, 2, interp));
    dsv1 = register_module("dsv1", conv<D>(f[0], c.n_classes, {1, 1, 1}));
    final_ = register_module("final", conv<D>(c.n_classes * 4, c.n_classes, {1, 1, 1}));
  }

  NetworkOutput run(const torch::Tensor& x, bool capture_gates) override {
    const Size3 two = {2, 2, 2};
    const torch::Tensor c1 = conv1->forward(x);
    const torch::Tensor c2 = conv2->forward(Nd<D>::maxPool(c1, two));
    const torch::Tensor c3 = conv3->forward(Nd<D>::maxPool(c2, two));
    const torch::Tensor c4 = conv4->forward(Nd<D>::maxPool(c3, two));
    const torch::Tensor middle = center->forward(Nd<D>::maxPool(c4, two));
    keepEncoder(c1, c2, c3, c4, middle);
    NetworkOutput out;
    torch::Tensor u4, u3, u2;
    if (gates_per_level_ > 0) {
      const GateResult g4 = attention4->forward(c4, gating->forward(middle));
      keep("attentionblock4", g4.output);
      u4 = up4->forward(g4.output, middle);
      keep("up_concat4", u4);
      const GateResult g3 = attention3->forward(c3, u4);
      keep("attentionblock3", g3.output);
      u3 = up3->forward(g3.output, u4);
      keep("up_concat3", u3);
      const GateResult g2 = attention2->forward(c2, u3);
      keep("attentionblock2", g2.output);
      u2 = up2->forward(g2.output, u3);
      keep("up_concat2", u2);
      if (capture_gates)
        out.gates = {{"attentionblock2", g2.alpha, g2.coarse},
                     {"attentionblock3", g3.alpha, g3.coarse},
                     {"attentionblock4", g4.alpha, g4.coarse}};
    } else {
      u4 = up4->forward(c4, middle);
      keep("up_concat4", u4);
      u3 = up3->forward(c3, u4);
      keep("up_concat3", u3);
      u2 = up2->forward(c2, u3);
      keep("up_concat2", u2);
    }
    const torch::Tensor u1 = up1->forward(c1, u2);
    keep("up_concat1", u1);
    if (head_.empty()) {
      out.logits = final_->forward(torch::cat(
          {dsv1->forward(u1), dsv2->forward(u2), dsv3->forward(u3), dsv4->forward(u4)}, 1));
    } else {
      // final(cat(dsv_i)) = sum_i upsample_i(final_i * dsv_i): the 1x1 convolutions commute with
      // the per-channel interpolation, whose weights sum to one, so the biases move to level 1.
      out.logits = Nd<D>::convolve(u1, head_[0].weight, head_[0].bias);
      out.logits.add_(dsv2->upsample(Nd<D>::convolve(u2, head_[1].weight, {})));
      out.logits.add_(dsv3->upsample(Nd<D>::convolve(u3, head_[2].weight, {})));
      out.logits.add_(dsv4->upsample(Nd<D>::convolve(u4, head_[3].weight, {})));
    }
    return out;
  }

  void prepareForInference() override {
    Network::prepareForInference();
    torch::NoGradGuard no_grad;
    const int64_t classes = final_->weight.size(0);
    const torch::Tensor combine =
        final_->weight.to(torch::kFloat64).flatten(1);  // (classes, 4 * classes)
    typename Nd<D>::ConvImpl* levels[4] = {dsv1.get(), &dsv2->convolution(), &dsv3->convolution(),
                                           &dsv4->convolution()};
    torch::Tensor bias = final_->bias.to(torch::kFloat64);
    head_.clear();
    for (int64_t n = 0; n < 4; ++n) {
      const torch::Tensor block = combine.narrow(1, n * classes, classes);
      const torch::Tensor w = levels[n]->weight.to(torch::kFloat64);
      const torch::Tensor composed = block.matmul(w.flatten(1)).view_as(w);
      bias = bias + block.matmul(levels[n]->bias.to(torch::kFloat64));
      head_.push_back({composed.to(final_->weight.dtype()), {}});
    }
    head_[0].bias = bias.to(final_->bias.dtype());
  }

  std::vector<GateGrid> gates() const override {
    if (gates_per_level_ == 0) return {};
    std::vector<GateGrid> out;
    for (int level = 2; level <= 4; ++level) {
      Size3 stride{1, 1, 1}, coarse{1, 1, 1};
      for (size_t a = 0; a < static_cast<size_t>(D); ++a) {
        stride[a] = int64_t{1} << (level - 1);
        coarse[a] = stride[a] * sub_sample_[a];
      }
      out.push_back({"attentionblock" + std::to_string(level), stride, coarse});
    }
    return out;
  }
  Size3 sizeMultiple() const override { return {16, 16, D == 3 ? 16 : 1}; }

 private:
  int gates_per_level_;
  Size3 sub_sample_ = {2, 2, 2};
  UnetConv<D> conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, center{nullptr};
  GatingSignal<D> gating{nullptr};
  MultiAttention<D> attention2{nullptr}, attention3{nullptr}, attention4{nullptr};
  Up<D> up4{nullptr}, up3{nullptr}, up2{nullptr}, up1{nullptr};
  Dsv<D> dsv4{nullptr}, dsv3{nullptr}, dsv2{nullptr};
  typename Nd<D>::Conv dsv1{nullptr}, final_{nullptr};
  struct Linear {
    torch::Tensor weight, bias;
  };
  std::vector<Linear> head_;  // composed deep-supervision head, after prepareForInference()
};

// unet (3D): UnetConv3 with (3,3,1) kernels, pooling (2,2,1), UnetUp3 upsampling (2,2,1).
// unet_grid_gating (3D): the same backbone, plain grid attention gates at levels 2-4 that all take
// the gating signal computed from the centre block.
class Unet3dNetwork : public Network {
 public:
  Unet3dNetwork(const ZooConfig& c, bool grid_gating)
      : grid_(grid_gating), sub_sample_(c.attention_dsample) {
    const auto f = filtersFor(c.feature_scale);
    const Interpolation interp{c.upsample_align_corners};
    const Size3 k = {3, 3, 1}, p = {1, 1, 0}, scale = {2, 2, 1};
    conv1 = register_module("conv1", UnetConv<3>(c.in_channels, f[0], k, p));
    conv2 = register_module("conv2", UnetConv<3>(f[0], f[1], k, p));
    conv3 = register_module("conv3", UnetConv<3>(f[1], f[2], k, p));
    conv4 = register_module("conv4", UnetConv<3>(f[2], f[3], k, p));
    center = register_module("center", UnetConv<3>(f[3], f[4], k, p));
    if (grid_) {
      gating = register_module("gating", GatingSignal<3>(f[4], f[3]));
      const bool debug = c.nonlocal_mode == "concatenation_debug";
      attention2 =
          register_module("attentionblock2",
                          GridAttention<3>(f[1], f[3], f[1], c.attention_dsample, debug, interp));
      attention3 =
          register_module("attentionblock3",
                          GridAttention<3>(f[2], f[3], f[2], c.attention_dsample, debug, interp));
      attention4 =
          register_module("attentionblock4",
                          GridAttention<3>(f[3], f[3], f[3], c.attention_dsample, debug, interp));
    }
    up4 = register_module("up_concat4", Up<3>(f[4], f[3], k, p, scale, interp));
    up3 = register_module("up_concat3", Up<3>(f[3], f[2], k, p, scale, interp));
    up2 = register_module("up_concat2", Up<3>(f[2], f[1], k, p, scale, interp));
    up1 = register_module("up_concat1", Up<3>(f[1], f[0], k, p, scale, interp));
    final_ = register_module("final", conv<3>(f[0], c.n_classes, {1, 1, 1}));
  }

  NetworkOutput run(const torch::Tensor& x, bool capture_gates) override {
    const Size3 pool = {2, 2, 1};
    const torch::Tensor c1 = conv1->forward(x);
    const torch::Tensor c2 = conv2->forward(Nd<3>::maxPool(c1, pool));
    const torch::Tensor c3 = conv3->forward(Nd<3>::maxPool(c2, pool));
    const torch::Tensor c4 = conv4->forward(Nd<3>::maxPool(c3, pool));
    const torch::Tensor middle = center->forward(Nd<3>::maxPool(c4, pool));
    keepEncoder(c1, c2, c3, c4, middle);
    NetworkOutput out;
    torch::Tensor s2 = c2, s3 = c3, s4 = c4;
    if (grid_) {
      const torch::Tensor g = gating->forward(middle);
      const GateResult g4 = attention4->forward(c4, g), g3 = attention3->forward(c3, g),
                       g2 = attention2->forward(c2, g);
      s4 = g4.output;
      s3 = g3.output;
      s2 = g2.output;
      keep("attentionblock4", s4);
      keep("attentionblock3", s3);
      keep("attentionblock2", s2);
      if (capture_gates)
        out.gates = {{"attentionblock2", g2.alpha, g2.coarse},
                     {"attentionblock3", g3.alpha, g3.coarse},
                     {"attentionblock4", g4.alpha, g4.coarse}};
    }
    const torch::Tensor u4 = up4->forward(s4, middle);
    const torch::Tensor u3 = up3->forward(s3, u4);
    const torch::Tensor u2 = up2->forward(s2, u3);
    const torch::Tensor u1 = up1->forward(c1, u2);
    keepDecoder(u4, u3, u2, u1);
    out.logits = final_->forward(u1);
    return out;
  }

  std::vector<GateGrid> gates() const override {
    if (!grid_) return {};
    std::vector<GateGrid> out;
    for (int level = 2; level <= 4; ++level) {
      const int64_t pooled = int64_t{1} << (level - 1);
      out.push_back({"attentionblock" + std::to_string(level), Size3{pooled, pooled, 1},
                     Size3{pooled * sub_sample_[0], pooled * sub_sample_[1], sub_sample_[2]}});
    }
    return out;
  }
  Size3 sizeMultiple() const override { return {16, 16, grid_ ? sub_sample_[2] : 1}; }

 private:
  bool grid_;
  Size3 sub_sample_;
  UnetConv<3> conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, center{nullptr};
  GatingSignal<3> gating{nullptr};
  GridAttention<3> attention2{nullptr}, attention3{nullptr}, attention4{nullptr};
  Up<3> up4{nullptr}, up3{nullptr}, up2{nullptr}, up1{nullptr};
  Nd<3>::Conv final_{nullptr};
};

// unet (2D): unetConv2 blocks, 2x2 pooling, deconvolution up blocks (the original unet_2D works
// only with is_deconv=True).
class Unet2dNetwork : public Network {
 public:
  explicit Unet2dNetwork(const ZooConfig& c) {
    const auto f = filtersFor(c.feature_scale);
    const Size3 k = {3, 3, 1}, p = {1, 1, 0};
    conv1 = register_module("conv1", UnetConv<2>(c.in_channels, f[0], k, p));
    conv2 = register_module("conv2", UnetConv<2>(f[0], f[1], k, p));
    conv3 = register_module("conv3", UnetConv<2>(f[1], f[2], k, p));
    conv4 = register_module("conv4", UnetConv<2>(f[2], f[3], k, p));
    center = register_module("center", UnetConv<2>(f[3], f[4], k, p));
    up4 = register_module("up_concat4", DeconvUp(f[4], f[3]));
    up3 = register_module("up_concat3", DeconvUp(f[3], f[2]));
    up2 = register_module("up_concat2", DeconvUp(f[2], f[1]));
    up1 = register_module("up_concat1", DeconvUp(f[1], f[0]));
    final_ = register_module("final", conv<2>(f[0], c.n_classes, {1, 1, 1}));
  }
  NetworkOutput run(const torch::Tensor& x, bool) override {
    const Size3 two = {2, 2, 1};
    const torch::Tensor c1 = conv1->forward(x);
    const torch::Tensor c2 = conv2->forward(Nd<2>::maxPool(c1, two));
    const torch::Tensor c3 = conv3->forward(Nd<2>::maxPool(c2, two));
    const torch::Tensor c4 = conv4->forward(Nd<2>::maxPool(c3, two));
    const torch::Tensor middle = center->forward(Nd<2>::maxPool(c4, two));
    keepEncoder(c1, c2, c3, c4, middle);
    const torch::Tensor u4 = up4->forward(c4, middle);
    const torch::Tensor u3 = up3->forward(c3, u4);
    const torch::Tensor u2 = up2->forward(c2, u3);
    const torch::Tensor u1 = up1->forward(c1, u2);
    keepDecoder(u4, u3, u2, u1);
    return {final_->forward(u1), {}};
  }
  std::vector<GateGrid> gates() const override { return {}; }
  Size3 sizeMultiple() const override { return {16, 16, 1}; }

 private:
  UnetConv<2> conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, center{nullptr};
  DeconvUp up4{nullptr}, up3{nullptr}, up2{nullptr}, up1{nullptr};
  Nd<2>::Conv final_{nullptr};
};

}  // namespace

NetworkOutput Network::runCapturing(const torch::Tensor& input,
                                    const std::vector<std::string>& names,
                                    Activations& activations) {
  captured_ = &activations;
  wanted_ = &names;
  try {
    NetworkOutput out = run(input, true);
    captured_ = nullptr, wanted_ = nullptr;
    return out;
  } catch (...) {
    captured_ = nullptr, wanted_ = nullptr;
    throw;
  }
}

void Network::keep(const char* name, const torch::Tensor& activation) {
  if (!captured_) return;
  if (!wanted_->empty() && std::find(wanted_->begin(), wanted_->end(), name) == wanted_->end())
    return;
  captured_->emplace_back(name, activation);
}

void Network::prepareForInference() {
  for (const auto& module : modules(/*include_self=*/false))
    if (auto* foldable = dynamic_cast<Foldable*>(module.get())) foldable->fold();
}

std::vector<std::string> zooArchitectures() {
  return {"unet", "unet_ct_dsv", "unet_ct_single_att_dsv", "unet_ct_multi_att_dsv",
          "unet_grid_gating"};
}

std::shared_ptr<Network> makeNetwork(const ZooConfig& c) {
  if (c.dimensions != 2 && c.dimensions != 3)
    throw UsageError(fmt::format("tensor_dim must be 2D or 3D, not {}D", c.dimensions));
  if (c.nonlocal_mode != "concatenation" && c.nonlocal_mode != "concatenation_debug")
    throw UsageError("nonlocal_mode '" + c.nonlocal_mode +
                     "' is not supported (concatenation, concatenation_debug)");
  const auto ct = [&](int gates) -> std::shared_ptr<Network> {
    if (c.dimensions == 3) return std::make_shared<CtDsvNetwork<3>>(c, gates);
    return std::make_shared<CtDsvNetwork<2>>(c, gates);
  };
  if (c.architecture == "unet_ct_dsv") return ct(0);
  if (c.architecture == "unet_ct_single_att_dsv") return ct(1);
  if (c.architecture == "unet_ct_multi_att_dsv") return ct(2);
  if (c.architecture == "unet") {
    if (c.dimensions == 3) return std::make_shared<Unet3dNetwork>(c, false);
    return std::make_shared<Unet2dNetwork>(c);
  }
  if (c.architecture == "unet_grid_gating") {
    if (c.dimensions != 3)
      throw UsageError("unet_grid_gating exists in 3D only (tensor_dim \"3D\")");
    return std::make_shared<Unet3dNetwork>(c, true);
  }
  std::string known;
  for (const auto& a : zooArchitectures()) known += (known.empty() ? "" : ", ") + a;
  throw UsageError("unknown architecture '" + c.architecture + "' (known: " + known + ")");
}

}  // namespace gatescope::zoo
