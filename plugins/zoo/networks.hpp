#pragma once

// The native attention-gated zoo on LibTorch, with the module and parameter names of the original
// Attention-Gated-Networks code so that its state_dict keys map one to one. Internal to plugins/.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "plugins/zoo/zoo_config.hpp"

namespace gatescope::zoo {

struct GateOutput {
  std::string name;      // module name: attentionblock2, attentionblock3, attentionblock4
  torch::Tensor alpha;   // (B, C, spatial): what the gate multiplies into its skip connection, at
                         // the skip connection's grid (the map the original module returns)
  torch::Tensor coarse;  // (B, C, spatial / sub_sample): the compatibility grid before upsampling;
                         // undefined where a model has none (TorchScript)
};

// A gate's grids relative to the input: its map's (the skip connection's) and the coarse one's.
struct GateGrid {
  std::string name;
  std::array<int64_t, 3> stride;
  std::array<int64_t, 3> coarse_stride;
};

struct NetworkOutput {
  torch::Tensor logits;  // segmentation: (B, classes, spatial of the input); classifiers: undefined
  // Classifiers (classifiers.hpp): one (B, classes) logit tensor per head, in the model's head
  // order.
  std::vector<torch::Tensor> heads;
  std::vector<GateOutput> gates;
};

// Named activations a forward recorded: (module path of the original code, output), in forward
// order.
using Activations = std::vector<std::pair<std::string, torch::Tensor>>;

// Every zoo network: a torch::nn::Module whose forward also returns the gates' coefficients.
class Network : public torch::nn::Module {
 public:
  [[nodiscard]] virtual NetworkOutput run(const torch::Tensor& input, bool capture_gates) = 0;
  // run() that also records the outputs of the named modules (`names` empty: every named module
  // the forward passes through: conv1-4, center, attentionblockN, up_concatN). Folding for
  // inference leaves these activations the same function of the input.
  [[nodiscard]] NetworkOutput runCapturing(const torch::Tensor& input,
                                           const std::vector<std::string>& names,
                                           Activations& activations);
  // Gate names in output order, with the strides of each gate's grids relative to the input.
  [[nodiscard]] virtual std::vector<GateGrid> gates() const = 0;
  // Every spatial size must be a multiple of this (pooling levels).
  [[nodiscard]] virtual std::array<int64_t, 3> sizeMultiple() const = 0;
  // One-way switch to an inference-only forward that computes the same function with less work
  // (batch norm folded into the convolutions, linear heads composed). Call after loading the
  // weights and eval(); the module's parameters no longer equal the checkpoint's afterwards.
  virtual void prepareForInference();

 protected:
  // Called by run() for each named activation: kept when a capture asks for it.
  void keep(const char* name, const torch::Tensor& activation);
  void keepEncoder(const torch::Tensor& c1, const torch::Tensor& c2, const torch::Tensor& c3,
                   const torch::Tensor& c4, const torch::Tensor& center) {
    keep("conv1", c1), keep("conv2", c2), keep("conv3", c3), keep("conv4", c4),
        keep("center", center);
  }
  void keepDecoder(const torch::Tensor& u4, const torch::Tensor& u3, const torch::Tensor& u2,
                   const torch::Tensor& u1) {
    keep("up_concat4", u4), keep("up_concat3", u3), keep("up_concat2", u2), keep("up_concat1", u1);
  }

 private:
  Activations* captured_ = nullptr;
  const std::vector<std::string>* wanted_ = nullptr;
};

// Throws UsageError for an unknown architecture or an unsupported dimensionality.
[[nodiscard]] std::shared_ptr<Network> makeNetwork(const ZooConfig& config);
[[nodiscard]] std::vector<std::string> zooArchitectures();

}  // namespace gatescope::zoo
