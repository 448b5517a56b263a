#include "plugins/zoo/networks.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/core/error.hpp"
#include "plugins/zoo/classifiers.hpp"
#include "plugins/zoo/network_blocks.hpp"

namespace gatescope::zoo {

namespace {

using namespace blocks;

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
    NetworkOutput out;
    out.logits = final_->forward(u1);
    return out;
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
  if (isClassifierArchitecture(c.architecture))
    throw UsageError(
        c.architecture +
        " is a classifier: infer, evaluate and train handle segmentation networks only");
  std::string known;
  for (const auto& a : zooArchitectures()) known += (known.empty() ? "" : ", ") + a;
  throw UsageError("unknown architecture '" + c.architecture + "' (known: " + known + ")");
}

}  // namespace gatescope::zoo
