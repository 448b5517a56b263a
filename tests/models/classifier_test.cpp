// The native classifiers (SonoNet, AG-SonoNet) against PyTorch: checkpoints saved by the reference
// networks of tests/fixtures/classifier_reference.py (the original code's module names, random
// weights, non-trivial batch-norm statistics) must give the same logits per head, gate maps and
// aggregated probabilities.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/classification/head_aggregation.hpp"
#include "analysis/core/error.hpp"
#include "plugins/zoo/native_adapter.hpp"
#include "tests/support/tensor_fixtures.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using test::largestDifference;
using test::readTensor;
namespace fs = std::filesystem;

namespace {

nlohmann::json fixtures() {
  std::ifstream in(test::fixtureDir("classifiers") / "classifiers.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("native classifiers reproduce PyTorch's heads, gates and aggregated probabilities",
          "[models]") {
  const fs::path dir = test::fixtureDir("classifiers");
  const auto entries = fixtures();
  REQUIRE(entries.size() >= 8);
  for (const auto& e : entries) {
    DYNAMIC_SECTION(e["name"].get<std::string>()) {
      const fs::path manifest_path = dir / e["manifest"].get<std::string>();
      auto model = loadNativeModel(manifest_path, {"cpu"});
      CHECK(model->info().task == "classification");
      CHECK(model->info().heads == e["head_order"].get<std::vector<std::string>>());
      const TensorData input = readTensor(dir, e["input"]);
      const ForwardResult result = model->forward(input, true);
      CHECK(result.logits.values.empty());
      REQUIRE(result.heads.size() == e["heads"].size());
      for (const auto& [name, logits] : result.heads) {
        INFO("head " << name);
        REQUIRE(e["heads"].contains(name));
        CHECK(largestDifference(logits, readTensor(dir, e["heads"][name])) < 1e-5);
      }
      // Each gate's map, at its grid; the declared strides are the ones the maps have.
      REQUIRE(result.gates.size() == e["gates"].size());
      const auto& declared = model->info().gates;
      REQUIRE(declared.size() == result.gates.size());
      for (size_t g = 0; g < result.gates.size(); ++g) {
        const auto& [name, alpha] = result.gates[g];
        INFO("gate " << name);
        REQUIRE(e["gates"].contains(name));
        CHECK(largestDifference(alpha, readTensor(dir, e["gates"][name])) < 1e-5);
        CHECK(declared[g].name == name);
        for (size_t a = 2; a < 4; ++a)
          CHECK(input.shape[a] / alpha.shape[a] == declared[g].stride[a - 2]);
      }
      // The original AggregatedClassifier's rule over the softmax of every head, per image.
      const ModelManifest manifest = readModelManifest(manifest_path);
      const TensorData want = readTensor(dir, e["probabilities"]);
      const int64_t batch = input.shape[0], classes = manifest.n_classes;
      REQUIRE(want.shape == std::vector<int64_t>{batch, classes});
      for (int64_t b = 0; b < batch; ++b) {
        std::vector<std::vector<double>> per_head;
        for (const auto& [name, logits] : result.heads) {
          std::vector<double> row(logits.values.begin() + b * classes,
                                  logits.values.begin() + (b + 1) * classes);
          per_head.push_back(softmax(row));
        }
        const std::vector<double> p = aggregateHeads(per_head, manifest);
        for (int64_t c = 0; c < classes; ++c)
          CHECK(p[static_cast<size_t>(c)] ==
                Approx(want.values[static_cast<size_t>(b * classes + c)]).margin(1e-6));
      }
    }
  }
}

TEST_CASE("classifier manifests and misuse give errors naming the file", "[models]") {
  const fs::path dir = test::fixtureDir("classifiers");
  const fs::path scratch = test::scratchDir("classifier_errors");
  const auto withField = [&](const std::string& name, const std::string& key,
                             nlohmann::json value) {
    std::ifstream in(dir / "ag_softmax_concat.json");
    nlohmann::json manifest = nlohmann::json::parse(in);
    manifest[key] = std::move(value);
    manifest["weights"] = (dir / "ag_softmax_concat.pth").string();
    const fs::path path = scratch / (name + ".json");
    std::ofstream(path) << manifest.dump();
    return path;
  };
  const auto error = [](const fs::path& path) -> std::string {
    try {
      (void)loadNativeModel(path, {"cpu"});
    } catch (const Error& e) {
      return e.what();
    }
    return "(loaded)";
  };
  const fs::path mode = withField("mode", "nonlocal_mode", "concatenation_debug");
  CHECK_THAT(error(mode), Catch::StartsWith(mode.string()) &&
                              Catch::Contains("nonlocal_mode 'concatenation_debug' is not one of"));
  const fs::path aggregation = withField("aggregation", "aggregation_mode", "sum");
  CHECK_THAT(error(aggregation), Catch::Contains("aggregation_mode 'sum'"));
  const fs::path three_d = withField("three_d", "tensor_dim", "3D");
  CHECK_THAT(error(three_d), Catch::Contains("is a 2D network"));
  const fs::path rule = withField("rule", "aggregation", "weighted_mean");
  CHECK_THAT(error(rule),
             Catch::StartsWith(rule.string()) && Catch::Contains("aggregation_weight"));
  // A checkpoint of another aggregation mode: its heads' keys do not fit.
  const fs::path other = withField("other", "aggregation_mode", "mean");
  CHECK_THAT(error(other), Catch::Contains("classifier1.weight"));

  // Segmentation-only operations refuse a classifier.
  auto model = loadNativeModel(dir / "sononet.json", {"cpu"});
  Image image;
  CHECK_THROWS_WITH(model->predict(image, {}), Catch::Contains("is a classifier"));

  // The heads' aggregation checks the number of heads against the manifest.
  ModelManifest m = readModelManifest(dir / "ag_mean_deep_sup.json");
  CHECK_THROWS_WITH(aggregateHeads({{0.5, 0.5}, {0.2, 0.8}}, m),
                    Catch::Contains("aggregation_weight has 4 weight(s) but the model has 2"));
  m.aggregation = "idx";
  m.aggregation_param = 3;
  CHECK_THROWS_WITH(aggregateHeads({{0.5, 0.5}}, m), Catch::Contains("aggregation_param 3"));
}
