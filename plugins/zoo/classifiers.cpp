#include "plugins/zoo/classifiers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "analysis/core/error.hpp"
#include "plugins/zoo/network_blocks.hpp"

namespace gatescope::zoo {

namespace {

using namespace blocks;

const Size3 kKernel3 = {3, 3, 1}, kPadding1 = {1, 1, 0}, kOne = {1, 1, 1}, kNone = {0, 0, 0};

// conv2DBatchNormRelu / conv2DBatchNorm (1x1): the original keeps the Sequential in a member named
// cbr_unit / cb_unit, so the keys read conv5_p.cbr_unit.0.weight.
struct UnitImpl : torch::nn::Module {
  UnitImpl(const std::string& name, int64_t in, int64_t out, bool relu) {
    unit = register_module(name, ConvNormAct<2>(in, out, kOne, kNone, true, relu));
  }
  torch::Tensor forward(const torch::Tensor& x) { return unit->forward(x); }
  ConvNormAct<2> unit{nullptr};
};
TORCH_MODULE(Unit);

// How a gate turns its compatibility scores psi into attention coefficients (the original's
// nonlocal_mode), over each image's scores.
enum class Normalisation { Sigmoid, Softmax, Mean, MeanFlow, RangeNormalise };

const std::map<std::string, Normalisation>& normalisations() {
  // "concatenation" has no normalisation in the original module (its forward raises); gatescope
  // gives it the sigmoid that plain concatenation means in the segmentation networks' gates.
  static const std::map<std::string, Normalisation> modes = {
      {"concatenation", Normalisation::Sigmoid},
      {"concatenation_sigmoid", Normalisation::Sigmoid},
      {"concatenation_softmax", Normalisation::Softmax},
      {"concatenation_mean", Normalisation::Mean},
      {"concatenation_mean_flow", Normalisation::MeanFlow},
      {"concatenation_range_normalise", Normalisation::RangeNormalise}};
  return modes;
}

// GridAttentionBlock2D_TORR as AG-SonoNet builds it: no W (use_W=False), 1x1 theta and phi without
// bias (sub-sample factor 1), psi with bias, ReLU. Returns alpha * x, alpha at x's grid, and the
// coefficients before their (here size-preserving) resampling.
struct ClassifierGateImpl : torch::nn::Module {
  ClassifierGateImpl(int64_t in, int64_t gating, int64_t inter, Normalisation normalisation)
      : normalisation_(normalisation) {
    theta = register_module("theta", conv<2>(in, inter, kOne, kOne, kNone, false));
    phi = register_module("phi", conv<2>(gating, inter, kOne, kOne, kNone, false));
    psi = register_module("psi", conv<2>(inter, 1, kOne));
  }
  GateResult forward(const torch::Tensor& x, const torch::Tensor& g) {
    const Interpolation bilinear{false};
    const torch::Tensor theta_x = theta->forward(x);
    const torch::Tensor phi_g = bilinear.toSize<2>(phi->forward(g), spatial(theta_x));
    const torch::Tensor scores = psi->forward(torch::relu(theta_x + phi_g));
    const torch::Tensor flat = scores.view({scores.size(0), 1, -1});
    torch::Tensor a;
    switch (normalisation_) {
      case Normalisation::Sigmoid:
        a = torch::sigmoid(scores);
        break;
      case Normalisation::Softmax:
        a = torch::softmax(flat, 2).view_as(scores);
        break;
      case Normalisation::Mean:
        a = (flat / flat.sum(2, true)).view_as(scores);
        break;
      case Normalisation::MeanFlow: {
        const torch::Tensor shifted = flat - std::get<0>(flat.min(2, true));
        a = (shifted / shifted.sum(2, true)).view_as(scores);
        break;
      }
      case Normalisation::RangeNormalise: {
        const torch::Tensor low = std::get<0>(flat.min(2, true));
        const torch::Tensor high = std::get<0>(flat.max(2, true));
        a = ((flat - low) / (high - low)).view_as(scores);
        break;
      }
    }
    const torch::Tensor alpha = bilinear.toSize<2>(a, spatial(x));
    return {alpha.expand_as(x) * x, alpha, a};
  }
  Nd<2>::Conv theta{nullptr}, phi{nullptr}, psi{nullptr};
  Normalisation normalisation_;
};
TORCH_MODULE(ClassifierGate);

std::array<int64_t, 4> classifierFilters(int feature_scale) {
  std::array<int64_t, 4> f = {64, 128, 256, 512};
  for (auto& v : f) v /= feature_scale;
  return f;
}

torch::Tensor globalAveragePool(const torch::Tensor& x) {
  return torch::adaptive_avg_pool2d(x, {1, 1}).view({x.size(0), -1});
}

// The five unetConv2 blocks with 2x2 max pooling between them, shared by both classifiers.
class Encoder : public Network {
 protected:
  Encoder(const ZooConfig& c, const std::array<int, 5>& n_convs)
      : filters_(classifierFilters(c.feature_scale)) {
    const auto& f = filters_;
    conv1 = register_module(
        "conv1", UnetConv<2>(c.in_channels, f[0], kKernel3, kPadding1, true, n_convs[0]));
    conv2 =
        register_module("conv2", UnetConv<2>(f[0], f[1], kKernel3, kPadding1, true, n_convs[1]));
    conv3 =
        register_module("conv3", UnetConv<2>(f[1], f[2], kKernel3, kPadding1, true, n_convs[2]));
    conv4 =
        register_module("conv4", UnetConv<2>(f[2], f[3], kKernel3, kPadding1, true, n_convs[3]));
    conv5 =
        register_module("conv5", UnetConv<2>(f[3], f[3], kKernel3, kPadding1, true, n_convs[4]));
  }
  struct Features {
    torch::Tensor c3, c4, c5;
  };
  Features encode(const torch::Tensor& x) {
    const Size3 two = {2, 2, 1};
    const torch::Tensor c1 = conv1->forward(x);
    keep("conv1", c1);
    const torch::Tensor c2 = conv2->forward(Nd<2>::maxPool(c1, two));
    keep("conv2", c2);
    const torch::Tensor c3 = conv3->forward(Nd<2>::maxPool(c2, two));
    keep("conv3", c3);
    const torch::Tensor c4 = conv4->forward(Nd<2>::maxPool(c3, two));
    keep("conv4", c4);
    const torch::Tensor c5 = conv5->forward(Nd<2>::maxPool(c4, two));
    keep("conv5", c5);
    return {c3, c4, c5};
  }
  // Global pooling makes the output independent of the size: no padding to a multiple.
  Size3 sizeMultiple() const override { return {1, 1, 1}; }

  std::array<int64_t, 4> filters_;
  UnetConv<2> conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
};

// sononet (n_convs 2, 2, 3, 3, 3) and sononet2 (3, 3, 3, 2, 2): the adaptation layers conv5_p and
// conv6_p map conv5 to the classes, then a global average pool gives the logits.
class SononetNetwork : public Encoder {
 public:
  SononetNetwork(const ZooConfig& c, const std::array<int, 5>& n_convs) : Encoder(c, n_convs) {
    conv5_p = register_module("conv5_p", Unit("cbr_unit", filters_[3], filters_[2], true));
    conv6_p = register_module("conv6_p", Unit("cb_unit", filters_[2], c.n_classes, false));
  }
  NetworkOutput run(const torch::Tensor& x, bool) override {
    const Features features = encode(x);
    NetworkOutput out;
    out.heads = {globalAveragePool(conv6_p->forward(conv5_p->forward(features.c5)))};
    return out;
  }
  std::vector<GateGrid> gates() const override { return {}; }

 private:
  Unit conv5_p{nullptr}, conv6_p{nullptr};
};

// sononet_grid_attention (AG-SonoNet): gates on conv3 and conv4, both gated by conv5; each gate's
// attention-weighted features summed over the image, and conv5's global average, feed the heads of
// the aggregation mode.
class AgSononetNetwork : public Encoder {
 public:
  explicit AgSononetNetwork(const ZooConfig& c)
      : Encoder(c, {3, 3, 3, 2, 2}), mode_(c.aggregation_mode) {
    const auto& f = filters_;
    const Normalisation normalisation = normalisations().at(c.nonlocal_mode);
    score1 =
        register_module("compatibility_score1", ClassifierGate(f[2], f[3], f[3], normalisation));
    score2 =
        register_module("compatibility_score2", ClassifierGate(f[3], f[3], f[3], normalisation));
    const int64_t concatenated = f[2] + f[3] + f[3];
    if (mode_ == "concat") {
      classifier = register_module("classifier", torch::nn::Linear(concatenated, c.n_classes));
      return;
    }
    classifier1 = register_module("classifier1", torch::nn::Linear(f[2], c.n_classes));
    classifier2 = register_module("classifier2", torch::nn::Linear(f[3], c.n_classes));
    classifier3 = register_module("classifier3", torch::nn::Linear(f[3], c.n_classes));
    if (mode_ == "deep_sup")
      classifier = register_module("classifier", torch::nn::Linear(concatenated, c.n_classes));
    if (mode_ == "ft")
      classifier = register_module("classifier", torch::nn::Linear(3 * c.n_classes, c.n_classes));
  }

  NetworkOutput run(const torch::Tensor& x, bool capture_gates) override {
    const Features features = encode(x);
    const int64_t batch = x.size(0);
    const torch::Tensor pooled = globalAveragePool(features.c5);
    const GateResult r1 = score1->forward(features.c3, features.c5);
    keep("compatibility_score1", r1.output);
    const GateResult r2 = score2->forward(features.c4, features.c5);
    keep("compatibility_score2", r2.output);
    const torch::Tensor g1 = r1.output.view({batch, filters_[2], -1}).sum(-1);
    const torch::Tensor g2 = r2.output.view({batch, filters_[3], -1}).sum(-1);
    NetworkOutput out;
    if (mode_ == "concat") {
      out.heads = {classifier->forward(torch::cat({g1, g2, pooled}, 1))};
    } else {
      std::vector<torch::Tensor> separate = {classifier1->forward(g1), classifier2->forward(g2),
                                             classifier3->forward(pooled)};
      if (mode_ == "mean") out.heads = separate;
      if (mode_ == "deep_sup") {
        out.heads = {classifier->forward(torch::cat({g1, g2, pooled}, 1))};
        out.heads.insert(out.heads.end(), separate.begin(), separate.end());
      }
      if (mode_ == "ft") out.heads = {classifier->forward(torch::cat(separate, 1))};
    }
    if (capture_gates)
      out.gates = {{"compatibility_score1", r1.alpha, r1.coarse},
                   {"compatibility_score2", r2.alpha, r2.coarse}};
    return out;
  }

  std::vector<GateGrid> gates() const override {
    return {{"compatibility_score1", Size3{4, 4, 1}, Size3{4, 4, 1}},
            {"compatibility_score2", Size3{8, 8, 1}, Size3{8, 8, 1}}};
  }

 private:
  std::string mode_;
  ClassifierGate score1{nullptr}, score2{nullptr};
  torch::nn::Linear classifier{nullptr}, classifier1{nullptr}, classifier2{nullptr},
      classifier3{nullptr};
};

const std::vector<std::string> kAggregationModes = {"concat", "mean", "deep_sup", "ft"};

std::string listed(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

}  // namespace

std::vector<std::string> classifierHeads(const ZooConfig& c) {
  if (c.architecture != "sononet_grid_attention") return {"logits"};
  if (c.aggregation_mode == "mean") return {"classifier1", "classifier2", "classifier3"};
  if (c.aggregation_mode == "deep_sup")
    return {"concat", "classifier1", "classifier2", "classifier3"};
  if (c.aggregation_mode == "ft") return {"ft"};
  return {"concat"};
}

std::shared_ptr<Network> makeClassifier(const ZooConfig& c) {
  if (!isClassifierArchitecture(c.architecture))
    throw UsageError(fmt::format("unknown classifier architecture '{}' (known: {})", c.architecture,
                                 listed(classifierArchitectures())));
  if (c.dimensions != 2)
    throw UsageError(fmt::format("{} is a 2D network (tensor_dim \"2D\"), not {}D", c.architecture,
                                 c.dimensions));
  if (c.architecture == "sononet")
    return std::make_shared<SononetNetwork>(c, std::array{2, 2, 3, 3, 3});
  if (c.architecture == "sononet2")
    return std::make_shared<SononetNetwork>(c, std::array{3, 3, 3, 2, 2});
  if (!normalisations().count(c.nonlocal_mode)) {
    std::vector<std::string> modes;
    for (const auto& [name, n] : normalisations()) modes.push_back(name);
    throw UsageError(fmt::format("sononet_grid_attention: nonlocal_mode '{}' is not one of {}",
                                 c.nonlocal_mode, listed(modes)));
  }
  if (std::find(kAggregationModes.begin(), kAggregationModes.end(), c.aggregation_mode) ==
      kAggregationModes.end())
    throw UsageError(fmt::format("sononet_grid_attention: aggregation_mode '{}' is not one of {}",
                                 c.aggregation_mode, listed(kAggregationModes)));
  return std::make_shared<AgSononetNetwork>(c);
}

}  // namespace gatescope::zoo
