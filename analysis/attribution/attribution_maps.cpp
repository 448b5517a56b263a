#include "analysis/attribution/attribution_maps.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <sstream>

#include "analysis/attention/gate_resampling.hpp"
#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"

namespace gatescope {

std::string AttributionMap::key() const {
  return std::string(attributionMethodName(method)) + "@" + layer;
}

AttributionSpec parseAttributionSpec(const std::string& text, const std::string& what) {
  const size_t at = text.find('@');
  const std::string name = text.substr(0, at);
  const auto method = parseAttributionMethod(name);
  if (!method)
    throw UsageError(
        fmt::format("{}: unknown method '{}' (gradcam, hirescam, gradient, gradient_x_input, "
                    "integrated_gradients, occlusion)",
                    what, name));
  AttributionSpec spec{*method, {}};
  if (at == std::string::npos) return spec;
  if (!isLayerMethod(*method))
    throw UsageError(
        fmt::format("{}: {} explains the input and takes no layers ('{}')", what, name, text));
  std::stringstream list(text.substr(at + 1));
  for (std::string layer; std::getline(list, layer, ',');) {
    if (layer.empty()) throw UsageError(fmt::format("{}: an empty layer name in '{}'", what, text));
    spec.layers.push_back(layer);
  }
  if (spec.layers.empty()) throw UsageError(fmt::format("{}: no layers after '@'", what));
  return spec;
}

std::vector<std::string> defaultAttributionLayers(const std::vector<LayerInfo>& layers) {
  std::vector<std::string> skips, all;
  for (const auto& layer : layers) {
    all.push_back(layer.name);
    if (layer.name == "conv2" || layer.name == "conv3" || layer.name == "conv4")
      skips.push_back(layer.name);
  }
  return skips.empty() ? all : skips;
}

namespace {

// A volume (channels, voxels in [c][k][j][i] order) as a network input (1, C, i, j[, k]), zero
// beyond the image up to `padded`.
template <typename T>
TensorData toInput(const Volume<T>& v, int dimensions, const Index3& padded) {
  const Index3& d = v.dims();
  TensorData t;
  t.shape = {1, v.channels(), padded[0], padded[1]};
  if (dimensions == 3) t.shape.push_back(padded[2]);
  const int64_t pk = dimensions == 3 ? padded[2] : 1;
  t.values.assign(static_cast<size_t>(v.channels() * padded[0] * padded[1] * pk), 0.0f);
  for (int64_t c = 0; c < v.channels(); ++c)
    for (int64_t k = 0; k < d[2]; ++k)
      for (int64_t j = 0; j < d[1]; ++j)
        for (int64_t i = 0; i < d[0]; ++i)
          t.values[static_cast<size_t>(((c * padded[0] + i) * padded[1] + j) * pk + k)] =
              static_cast<float>(v(i, j, k, c));
  return t;
}

// The first geometry.dims voxels of a map (1, 1, i, j[, k]) as a volume with that geometry.
Volume<float> fromMap(const TensorData& map, const Geometry& geometry) {
  const int64_t ni = map.shape[2], nj = map.shape[3], nk = map.shape.size() > 4 ? map.shape[4] : 1;
  Volume<float> v(geometry);
  const Index3& d = geometry.dims;
  if (d[0] > ni || d[1] > nj || d[2] > nk)
    throw Error(fmt::format("an attribution map of {} voxels does not cover {}",
                            fmt::join(map.shape, "x"), geometry.describe()));
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i)
        v(i, j, k) = map.values[static_cast<size_t>((i * nj + j) * nk + k)];
  return v;
}

// A 2D tensor (N, C, a, b) as (N, C, b, a): a classifier takes a PNG as (row, column), the
// transpose of the image's (i, j) (docs/models.md).
TensorData swapInPlaneAxes(const TensorData& t) {
  if (t.shape.size() != 4) return t;
  const int64_t planes = t.shape[0] * t.shape[1], a = t.shape[2], b = t.shape[3];
  TensorData out{{t.shape[0], t.shape[1], b, a}, std::vector<float>(t.values.size())};
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t x = 0; x < a; ++x)
      for (int64_t y = 0; y < b; ++y)
        out.values[static_cast<size_t>((p * b + y) * a + x)] =
            t.values[static_cast<size_t>((p * a + x) * b + y)];
  return out;
}

// A layer's map on its own grid (1, 1, spatial), `stride` times coarser than the input's: the
// voxels that cover the image.
Volume<float> nativeMap(const TensorData& map, const Geometry& image,
                        const std::array<int64_t, 3>& stride, int dimensions) {
  Index3 step{1, 1, 1}, covered{1, 1, 1};
  for (size_t a = 0; a < static_cast<size_t>(dimensions); ++a) {
    step[a] = stride[a];
    covered[a] = (image.dims[a] + step[a] - 1) / step[a];
  }
  return fromMap(map, strideGrid(image, step, covered));
}

}  // namespace

std::vector<std::string> resolveAttributionLayers(ModelAdapter& model,
                                                  const std::vector<std::string>& asked) {
  const std::vector<LayerInfo> known = model.layers();
  if (known.empty())
    throw UsageError(model.info().name +
                     ": the model has no named layers for Grad-CAM or HiResCAM (a TorchScript "
                     "model lists them as \"feature/<name>\" outputs); use an input method");
  if (asked.empty()) return defaultAttributionLayers(known);
  for (const auto& name : asked)
    if (std::none_of(known.begin(), known.end(), [&](const auto& l) { return l.name == name; })) {
      std::vector<std::string> names;
      for (const auto& l : known) names.push_back(l.name);
      throw UsageError(fmt::format("{} has no layer '{}' (it has: {})", model.info().name, name,
                                   fmt::join(names, ", ")));
    }
  return asked;
}

std::vector<AttributionMap> attributeImage(ModelAdapter& model, const Image& image,
                                           const AttributionJob& job) {
  const ModelInfo& info = model.info();
  const bool classifier = info.task == "classification";
  // A classifier makes the image its channels (as classify does); a PNG goes in as (row, column).
  Volume<float> input =
      classifier ? toModelChannels(toFloatVolume(image), info.in_channels) : toFloatVolume(image);
  const bool picture = classifier && image.header.format == ImageFormat::Png;
  const auto oriented = [picture](const TensorData& t) { return picture ? swapInPlaneAxes(t) : t; };
  checkModelInput(input, info);
  if (classifier && (job.region == "reference" || !job.window.empty()))
    throw UsageError(info.name +
                     " is a classifier: its score is a class's logit, with no region or windows");
  if (info.preprocessing.normalize == "zscore") normalizeZScore(input);
  // Windows pad the image themselves, exactly as a prediction's do; a classifier is never padded
  // (zeros would change its answer).
  const Index3 padded =
      job.window.empty() && !classifier ? paddedDims(input.dims(), info) : input.dims();

  AttributionRequest request;
  request.steps = job.steps;
  request.patch = job.patch;
  request.stride = job.stride;
  request.region = job.region;
  for (int a = 0; a < info.dimensions; ++a)
    request.extent.push_back(input.dims()[static_cast<size_t>(a)]);
  if (picture) std::swap(request.extent[0], request.extent[1]);
  if (job.region == "reference") {
    if (!job.reference) throw UsageError("region reference needs a label image");
    if (!job.reference->geometry().sameGrid(input.geometry()))
      throw GeometryError("the reference labels' grid differs from the image's: " +
                          job.reference->geometry().difference(input.geometry()));
    request.reference = toInput(*job.reference, info.dimensions, padded);
  }
  const TensorData tensor = oriented(toInput(input, info.dimensions, padded));

  request.classes = job.classes;
  if (request.classes.empty())  // a segmentation's foreground classes, a classifier's every class
    for (int64_t c = classifier ? 0 : 1; c < info.n_classes; ++c) request.classes.push_back(c);
  for (const int64_t c : request.classes)
    if (c < 0 || c >= info.n_classes)
      throw UsageError(
          fmt::format("{} has classes 0-{}, not {}", info.name, info.n_classes - 1, c));
  std::vector<std::string> layers;
  std::map<std::string, std::array<int64_t, 3>> strides;
  if (std::any_of(job.methods.begin(), job.methods.end(), isLayerMethod)) {
    layers = resolveAttributionLayers(model, job.layers);
    for (const auto& layer : model.layers()) strides[layer.name] = layer.stride;
  }
  if (!job.window.empty()) {
    request.window = job.window;
    request.overlap = job.overlap;
    request.alignment = windowAlignment(info, false);
    for (const auto& layer : layers)
      for (size_t a = 0; a < request.alignment.size(); ++a)
        request.alignment[a] = std::lcm(request.alignment[a], strides[layer][a]);
  }

  std::vector<AttributionMap> maps;
  const auto total = static_cast<int64_t>(job.methods.size());
  int64_t done = 0;
  for (const AttributionMethod method : job.methods) {
    const std::string stage =
        fmt::format("{} class{} {}", attributionMethodName(method),
                    request.classes.size() > 1 ? "es" : "", fmt::join(request.classes, ","));
    const bool reports_steps = method == AttributionMethod::IntegratedGradients ||
                               method == AttributionMethod::Occlusion || !job.window.empty();
    request.method = method;
    request.layers = isLayerMethod(method) ? layers : std::vector<std::string>{};
    request.progress = nullptr;
    if (job.progress && reports_steps)
      request.progress = [&](int64_t d, int64_t t) { job.progress({stage, d, t}); };
    const auto start = std::chrono::steady_clock::now();
    const std::vector<AttributionResult> results = model.attribute(tensor, request);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < results.size(); ++i) {
      const AttributionResult& result = results[i];
      for (size_t n = 0; n < result.maps.size(); ++n) {
        AttributionMap m;
        m.method = method;
        m.layer = result.maps[n].first;
        m.target_class = request.classes[i];
        m.map = fromMap(oriented(result.maps[n].second), input.geometry());
        if (n < result.native.size())
          m.native = nativeMap(oriented(result.native[n].second), input.geometry(),
                               strides[m.layer], info.dimensions);
        m.region = result.region;
        m.score = result.score;
        m.completeness_error = result.completeness_error;
        m.seconds = seconds;
        maps.push_back(std::move(m));
      }
    }
    ++done;
    if (job.progress && !reports_steps) job.progress({stage, done, total});
  }
  return maps;
}

std::string classMapName(const std::string& key, int64_t target_class) {
  return fmt::format("{} class {}", key, target_class);
}

std::optional<std::pair<std::string, int64_t>> splitClassMapName(const std::string& name) {
  const size_t at = name.rfind(" class ");
  if (at == std::string::npos) return std::nullopt;
  const std::string number = name.substr(at + 7);
  if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::pair{name.substr(0, at), std::stoll(number)};
}

Volume<float> positiveOverMaximum(const Volume<float>& map, int64_t channel) {
  Volume<float> evidence(map.geometry());
  const auto in = map.channel(channel);
  float peak = 0.0f;
  for (const float v : in) peak = std::max(peak, v);
  if (peak > 0.0f) {
    auto out = evidence.values();
    for (size_t n = 0; n < out.size(); ++n) out[n] = std::max(in[n], 0.0f) / peak;
  }
  return evidence;
}

AttentionStatistics attributionStatistics(const Volume<float>& map,
                                          const Volume<uint8_t>& reference,
                                          const AttentionOptions& options) {
  return attentionStatistics(positiveOverMaximum(map), reference, options).front();
}

}  // namespace gatescope
