#include "plugins/zoo/state_dict.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <set>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

const std::map<std::string, torch::Dtype>& dtypes() {
  static const std::map<std::string, torch::Dtype> types = {
      {"float32", torch::kFloat32},   {"float64", torch::kFloat64}, {"float16", torch::kFloat16},
      {"bfloat16", torch::kBFloat16}, {"int64", torch::kInt64},     {"int32", torch::kInt32},
      {"int16", torch::kInt16},       {"int8", torch::kInt8},       {"uint8", torch::kUInt8},
      {"bool", torch::kBool}};
  return types;
}

torch::Dtype torchDtype(const std::string& dtype, const std::string& source) {
  const auto it = dtypes().find(dtype);
  if (it == dtypes().end()) throw FormatError(source + ": unsupported tensor dtype " + dtype);
  return it->second;
}

std::string dtypeName(torch::Dtype dtype) {
  for (const auto& [name, type] : dtypes())
    if (type == dtype) return name;
  throw Error(fmt::format("no checkpoint dtype for {}", c10::toString(dtype)));
}

std::string shapeText(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

std::string listed(const std::vector<std::string>& items, size_t limit = 6) {
  std::string s;
  for (size_t n = 0; n < items.size() && n < limit; ++n) s += (n ? ", " : "") + items[n];
  if (items.size() > limit) s += fmt::format(", ... ({} more)", items.size() - limit);
  return s;
}

void appendStateDict(const torch::nn::Module& module, const std::string& prefix,
                     std::vector<CheckpointTensor>& out) {
  const auto append = [&](const std::string& name, const torch::Tensor& value) {
    const torch::Tensor t = value.detach().to(torch::kCPU).contiguous();
    CheckpointTensor c{prefix + name, dtypeName(t.scalar_type()), t.sizes().vec(), {}};
    c.data.resize(static_cast<size_t>(t.numel()) * t.element_size());
    std::memcpy(c.data.data(), t.data_ptr(), c.data.size());
    out.push_back(std::move(c));
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) append(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/false)) append(b.key(), b.value());
  for (const auto& child : module.named_children())
    appendStateDict(*child.value(), prefix + child.key() + ".", out);
}

}  // namespace

namespace {

// Weights that would turn every prediction into NaN (docs/models.md, "Checks on load"): non-finite
// values anywhere, negative batch-norm variances (their square root is NaN).
void checkFinite(const torch::Tensor& value, const std::string& name, const std::string& source) {
  if (!value.is_floating_point()) return;
  const int64_t bad = value.numel() - torch::isfinite(value).sum().item<int64_t>();
  if (bad > 0)
    throw FormatError(fmt::format("{}: {} holds {} non-finite value(s) (NaN or infinity) of {}",
                                  source, name, bad, value.numel()));
  if (name.ends_with("running_var")) {
    const int64_t negative = (value < 0).sum().item<int64_t>();
    if (negative > 0)
      throw FormatError(
          fmt::format("{}: {} holds {} negative batch-norm variance(s)", source, name, negative));
  }
}

}  // namespace

void loadWeights(zoo::Network& network, const std::filesystem::path& path,
                 const ModelManifest& manifest) {
  const Checkpoint checkpoint = readCheckpoint(path);
  const std::string source = path.string();
  std::map<std::string, torch::Tensor> expected;
  for (const auto& p : network.named_parameters()) expected[p.key()] = p.value();
  for (const auto& b : network.named_buffers()) expected[b.key()] = b.value();
  std::vector<std::string> missing, unexpected, misshaped;
  std::set<std::string> seen;
  for (const CheckpointTensor& t : checkpoint.tensors) {
    seen.insert(t.name);
    const auto it = expected.find(t.name);
    if (it == expected.end()) {
      unexpected.push_back(t.name);
      continue;
    }
    if (it->second.sizes().vec() != t.shape) {
      misshaped.push_back(fmt::format("{} (expected {}, found {})", t.name,
                                      shapeText(it->second.sizes()), shapeText(t.shape)));
      continue;
    }
    const torch::Tensor value =
        torch::from_blob(const_cast<uint8_t*>(t.data.data()), t.shape, torchDtype(t.dtype, source));
    checkFinite(value, t.name, source);
    torch::NoGradGuard no_grad;
    it->second.copy_(value.to(it->second.dtype()));
  }
  for (const auto& [name, tensor] : expected)
    if (!seen.count(name) && !name.ends_with("num_batches_tracked")) missing.push_back(name);
  if (missing.empty() && unexpected.empty() && misshaped.empty()) return;
  std::string problem;
  if (!missing.empty())
    problem += fmt::format("{} missing key(s): {}", missing.size(), listed(missing));
  if (!unexpected.empty())
    problem += fmt::format("{}{} unexpected key(s): {}", problem.empty() ? "" : "; ",
                           unexpected.size(), listed(unexpected));
  if (!misshaped.empty())
    problem += fmt::format("{}{} mis-shaped: {}", problem.empty() ? "" : "; ", misshaped.size(),
                           listed(misshaped, 3));
  throw FormatError(fmt::format(
      "{}: checkpoint does not fit {} ({}, feature_scale {}, {} input channel(s), {} classes): {}",
      source, manifest.architecture, manifest.tensor_dim, manifest.feature_scale,
      manifest.in_channels, manifest.n_classes, problem));
}

std::vector<CheckpointTensor> stateDictTensors(const torch::nn::Module& module) {
  std::vector<CheckpointTensor> out;
  appendStateDict(module, "", out);
  return out;
}

}  // namespace gatescope
