// The native zoo against PyTorch: the same weights (checkpoints PyTorch saved) and inputs must give
// the same logits and gate coefficients (tests/fixtures/zoo_reference.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "plugins/zoo/native_adapter.hpp"
#include "tests/support/tensor_fixtures.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using test::largestDifference;
using test::readTensor;
namespace fs = std::filesystem;

// The reference gate maps are what the original gate modules return (the coefficients each gate
// multiplies into its skip connection); the coarse grids are sigmoid(psi) before the upsampling.
TEST_CASE("native networks reproduce PyTorch's logits and gates", "[models]") {
  const fs::path dir = test::fixtureDir("zoo");
  std::ifstream in(dir / "zoo.json");
  REQUIRE(in.good());
  const auto models = nlohmann::json::parse(in);
  REQUIRE(models.size() >= 4);
  for (const auto& m : models) {
    DYNAMIC_SECTION(m["name"].get<std::string>()) {
      auto model = loadNativeModel(dir / m["manifest"].get<std::string>(), {"cpu"});
      const ForwardResult result = model->forward(readTensor(dir, m["input"]), true);
      CHECK(largestDifference(result.logits, readTensor(dir, m["logits"])) < 1e-5);
      REQUIRE(result.gates.size() == m["gates"].size());
      const TensorData input = readTensor(dir, m["input"]);
      const auto& declared = model->info().gates;
      REQUIRE(declared.size() == m["gates"].size());
      for (size_t g = 0; g < result.gates.size(); ++g) {
        const auto& [name, alpha] = result.gates[g];
        INFO(name);
        REQUIRE(m["gates"].contains(name));
        const TensorData want = readTensor(dir, m["gates"][name]);
        REQUIRE(alpha.shape == want.shape);
        CHECK(largestDifference(alpha, want) < 1e-5);
        // The declared strides are the ones the maps have.
        CHECK(declared[g].name == name);
        for (size_t a = 2; a < input.shape.size(); ++a) {
          CHECK(input.shape[a] / alpha.shape[a] == declared[g].stride[a - 2]);
          CHECK(input.shape[a] / readTensor(dir, m["coarse"][name]).shape[a] ==
                declared[g].coarse_stride[a - 2]);
        }
      }
      REQUIRE(result.coarse.size() == m["coarse"].size());
      for (const auto& [name, coarse] : result.coarse) {
        INFO(name << " coarse");
        CHECK(largestDifference(coarse, readTensor(dir, m["coarse"][name])) < 1e-5);
      }
    }
  }
}

TEST_CASE("a checkpoint that does not fit names every missing, unexpected and mis-shaped key",
          "[models]") {
  try {
    (void)loadNativeModel(test::fixtureDir("zoo") / "broken.json", {"cpu"});
    FAIL("no error");
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("broken.pth") != std::string::npos);
    CHECK(message.find("2 missing key(s): attentionblock2.gate_block_1.theta.weight, final.bias") !=
          std::string::npos);
    CHECK(message.find("1 unexpected key(s): attentionblock2.gate_block_1.theta.weightt") !=
          std::string::npos);
    CHECK(
        message.find("conv1.conv1.0.weight (expected [16, 1, 3, 3, 3], found [16, 2, 3, 3, 3])") !=
        std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

// Attribution maps against PyTorch autograd with forward hooks on the same weights and input
// (tests/fixtures/zoo_reference.py): Grad-CAM and HiResCAM at encoder layers and a gate, at the
// layer's grid and on the input grid; gradient, gradient x input, integrated gradients (and its
// completeness error), occlusion; regions "predicted" and "all". Maps agree within 1e-4 of the
// reference's largest magnitude (occlusion: 1e-3, see below).
TEST_CASE("attribution maps equal PyTorch autograd's on every zoo network", "[models]") {
  const fs::path dir = test::fixtureDir("zoo");
  std::ifstream in(dir / "zoo.json");
  REQUIRE(in.good());
  const auto models = nlohmann::json::parse(in);
  const auto close = [](const TensorData& got, const TensorData& want, double tolerance = 1e-4) {
    REQUIRE(got.shape == want.shape);
    double scale = 0, worst = 0;
    for (float v : want.values) scale = std::max(scale, std::abs(static_cast<double>(v)));
    for (size_t n = 0; n < got.values.size(); ++n)
      worst = std::max(worst, std::abs(static_cast<double>(got.values[n]) - want.values[n]));
    INFO("largest difference " << worst << ", reference maximum " << scale);
    CHECK(worst <= tolerance * std::max(scale, 1e-6));
  };
  for (const auto& m : models) {
    DYNAMIC_SECTION(m["name"].get<std::string>()) {
      auto model = loadNativeModel(dir / m["manifest"].get<std::string>(), {"cpu"});
      const TensorData input = readTensor(dir, m["input"]);
      const auto& reference = m["attribution"];
      const std::vector<std::string> layers = reference["layers"];
      // Every layer asked for is one the model lists, with its grid's stride.
      const std::vector<LayerInfo> listed = model->layers();
      for (const auto& layer : layers)
        CHECK(std::any_of(listed.begin(), listed.end(),
                          [&](const LayerInfo& l) { return l.name == layer; }));
      for (const auto& [region, expected] : reference["regions"].items()) {
        INFO("region " << region);
        AttributionRequest request;
        request.classes = {reference["class"].get<int64_t>()};
        request.region = region;
        request.steps = reference["steps"];
        request.layers = layers;
        for (const auto method : {AttributionMethod::GradCam, AttributionMethod::HiResCam}) {
          request.method = method;
          const std::vector<AttributionResult> results = model->attribute(input, request);
          REQUIRE(results.size() == 1);
          const AttributionResult& result = results[0];
          CHECK(result.region == expected["used"]);
          REQUIRE(result.maps.size() == layers.size());
          for (size_t n = 0; n < layers.size(); ++n) {
            const auto& want =
                expected["maps"][std::string(attributionMethodName(method)) + "@" + layers[n]];
            INFO(attributionMethodName(method) << "@" << layers[n]);
            close(result.native[n].second, readTensor(dir, want["native"]));
            close(result.maps[n].second, readTensor(dir, want["input"]));
          }
        }
        request.patch = reference["occlusion"]["patch"];
        request.stride = reference["occlusion"]["stride"];
        for (const auto method :
             {AttributionMethod::Gradient, AttributionMethod::GradientXInput,
              AttributionMethod::IntegratedGradients, AttributionMethod::Occlusion}) {
          INFO(attributionMethodName(method));
          request.method = method;
          const std::vector<AttributionResult> results = model->attribute(input, request);
          REQUIRE(results.size() == 1);
          const AttributionResult& result = results[0];
          REQUIRE(result.maps.size() == 1);
          // Occlusion differences two float32 forwards over every voxel; the two implementations'
          // logits differ by about 1e-6 of their size, which leaves a few 1e-4 of the map.
          close(result.maps[0].second,
                readTensor(dir, expected["maps"][attributionMethodName(method)]["input"]),
                method == AttributionMethod::Occlusion ? 1e-3 : 1e-4);
          if (method == AttributionMethod::IntegratedGradients) {
            REQUIRE(result.completeness_error);
            CHECK(*result.completeness_error ==
                  Approx(expected["ig_completeness"].get<double>()).margin(1e-3));
          }
        }
      }
      // The attribution network (batch norms unfolded, for exact gradients) computes the folded
      // inference network's logits: the score over every voxel is their sum.
      {
        AttributionRequest all;
        all.region = "all";
        all.layers = {layers.front()};
        all.classes = {0, reference["class"].get<int64_t>()};
        const std::vector<AttributionResult> scored = model->attribute(input, all);
        const ForwardResult folded = model->forward(input, false);
        const int64_t classes = folded.logits.shape[1];
        const size_t voxels = folded.logits.values.size() / static_cast<size_t>(classes);
        for (size_t n = 0; n < all.classes.size(); ++n) {
          double sum = 0.0, magnitude = 0.0;
          for (size_t v = 0; v < voxels; ++v) {
            const double z = folded.logits.values[static_cast<size_t>(all.classes[n]) * voxels + v];
            sum += z;
            magnitude += std::abs(z);
          }
          INFO("class " << all.classes[n] << ": score " << scored[n].score << ", folded " << sum);
          CHECK(std::abs(scored[n].score - sum) <= 1e-5 * magnitude);
        }
      }
      // Bad requests.
      AttributionRequest bad;
      bad.layers = {"conv9"};
      CHECK_THROWS_WITH(model->attribute(input, bad), "no layer 'conv9' in this network");
      bad.layers = {"conv2"};
      bad.classes = {1, 99};
      CHECK_THROWS_AS(model->attribute(input, bad), UsageError);
    }
  }
}
