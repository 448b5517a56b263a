// One image inspected in the workbench gives what `gatescope evaluate` saved for the same case and
// models: the same predictions, gate maps and metrics (the fixture's demo evaluation); attribution
// maps computed for a case there.
#include "workbench/app/image_inspection.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "analysis/core/image.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "workbench/app/case_attribution.hpp"

using namespace gatescope;
namespace fs = std::filesystem;

namespace {

const fs::path kDemo = fs::path(GATESCOPE_TEST_FIXTURES) / "demo_evaluation";
const fs::path kModels = fs::path(GATESCOPE_SOURCE_DIR) / "data" / "demo" / "models";

workbench::ImageInspectionRequest demoRequest() {
  workbench::ImageInspectionRequest request;
  request.image = kDemo / "dataset" / "imagesTs" / "abdomen_041.nii.gz";
  request.reference = kDemo / "dataset" / "labelsTs" / "abdomen_041.nii.gz";
  request.models = {kModels / "gated" / "model.json", kModels / "baseline" / "model.json"};
  request.device = "cpu";
  return request;
}

}  // namespace

TEST_CASE("an inspected image matches the saved evaluation of the same case", "[image]") {
  std::vector<std::string> steps;
  const workbench::ImageInspection result = workbench::inspectImage(
      demoRequest(), pluginRegistry(), [&](const std::string& line) { steps.push_back(line); });
  REQUIRE(result.loaded.models.size() == 2);
  CHECK(steps.size() >= 5);
  CHECK(result.loaded.label_names.at(1) == "liver");
  std::ifstream file(kDemo / "evaluation" / "report.json");
  const nlohmann::json report = nlohmann::json::parse(file);
  nlohmann::json saved_case;
  for (const auto& c : report["cases"])
    if (c["id"] == "abdomen_041") saved_case = c;
  REQUIRE(saved_case.is_object());
  const char* keys[] = {"A", "B"};
  for (size_t m = 0; m < 2; ++m) {
    INFO("model " << keys[m]);
    const ModelOutputs& outputs = result.loaded.models[m];
    const fs::path saved = kDemo / "evaluation" / "predictions" / keys[m] / "abdomen_041";
    const Volume<int32_t> labels = toLabelVolume(readImage(saved / "labels.nii.gz"), "labels");
    REQUIRE(outputs.prediction);
    CHECK(std::equal(labels.values().begin(), labels.values().end(),
                     outputs.prediction->values().begin()));
    for (const auto& [name, gate] : outputs.gates) {
      const Volume<float> file_gate =
          toFloatVolume(readImage(saved / "gates" / (name + ".nii.gz")));
      float worst = 0.0f;
      for (size_t v = 0; v < gate.values().size(); ++v)
        worst = std::max(worst, std::abs(gate.values()[v] - file_gate.values()[v]));
      CHECK(worst < 1e-6f);
    }
    for (const char* label : {"1", "2"}) {
      const auto& expected = saved_case["models"][keys[m]]["labels"][label];
      CHECK(result.metrics[m][label]["dice"].get<double>() ==
            Approx(expected["dice"].get<double>()).margin(1e-12));
      CHECK(result.metrics[m][label]["tp"] == expected["tp"]);
    }
  }
  CHECK(result.loaded.models[0].gates.size() == 3);
  CHECK(result.loaded.models[0].native_gates.size() == 3);
  CHECK(result.loaded.models[1].gates.empty());
}

TEST_CASE("inspecting an image refuses a reference on another grid and a missing model",
          "[image]") {
  workbench::ImageInspectionRequest request = demoRequest();
  request.models.resize(1);
  request.reference = fs::path(GATESCOPE_SOURCE_DIR) / "data" / "demo" / "brain_pd_slice.png";
  CHECK_THROWS_AS(workbench::inspectImage(request, pluginRegistry()), GeometryError);
  CHECK_THROWS_WITH(workbench::inspectImage(request, pluginRegistry()),
                    Catch::Contains("brain_pd_slice.png: lies on"));
  request.models.clear();
  CHECK_THROWS_WITH(workbench::inspectImage(request, pluginRegistry()),
                    Catch::Contains("give model A"));
  request = demoRequest();
  request.models = {kModels / "nowhere" / "model.json"};
  CHECK_THROWS_WITH(workbench::inspectImage(request, pluginRegistry()), Catch::Contains("nowhere"));
}

// Maps computed for the shown case: the class asked for, named as evaluate names saved maps, shown
// as the positive part over the maximum of the map `attribute` computes; cancellation stops it.
TEST_CASE("maps computed for a case in the workbench are attribute's, normalised for display",
          "[image]") {
  const Image image = readImage(kDemo / "dataset" / "imagesTs" / "abdomen_041.nii.gz");
  workbench::CaseAttributionRequest request;
  request.image = toFloatVolume(image);
  request.models = {{1, kModels / "baseline" / "model.json"}};
  request.method = AttributionMethod::GradCam;
  request.layers = {"conv3", "conv4"};
  request.target_class = 2;
  request.device = "cpu";
  std::vector<std::string> lines;
  const auto results = workbench::attributeCase(
      request, pluginRegistry(), [&](double, const std::string& line) { lines.push_back(line); });
  REQUIRE(results.size() == 1);
  CHECK(results[0].model == 1);
  REQUIRE(results[0].maps.size() == 2);
  CHECK(results[0].maps[0].first == "gradcam@conv3 class 2");
  CHECK(results[0].maps[1].first == "gradcam@conv4 class 2");
  CHECK(lines.size() >= 2);

  auto model = pluginRegistry().loadModel(kModels / "baseline" / "model.json", {"cpu"});
  AttributionJob job;
  job.methods = {AttributionMethod::GradCam};
  job.layers = {"conv3"};
  job.classes = {2};
  const std::vector<AttributionMap> raw = attributeImage(*model, image, job);
  REQUIRE(raw.size() == 1);
  float peak = 0.0f;
  for (const float v : raw[0].map.values()) peak = std::max(peak, v);
  REQUIRE(peak > 0.0f);
  const auto shown = results[0].maps[0].second.values();
  const auto values = raw[0].map.values();
  double worst = 0.0;
  for (size_t n = 0; n < values.size(); ++n)
    worst = std::max(worst, std::abs(static_cast<double>(shown[n]) -
                                     std::max(values[n], 0.0f) / static_cast<double>(peak)));
  CHECK(worst < 1e-6);

  std::atomic<bool> cancel{true};
  request.cancel = &cancel;
  CHECK_THROWS_WITH(workbench::attributeCase(request, pluginRegistry()), "cancelled");
  request.cancel = nullptr;
  request.target_class = 9;
  CHECK_THROWS_WITH(workbench::attributeCase(request, pluginRegistry()),
                    Catch::Contains("classes 0-") && Catch::Contains("not 9"));
}

TEST_CASE("a report's model file is found where it was, or beside the evaluation", "[image]") {
  const fs::path manifest = kModels / "gated" / "model.json";
  CHECK(workbench::locateModelFile(manifest.string(), kDemo) == manifest);
  const fs::path dir = fs::path(GATESCOPE_TEST_OUTPUT) / "locate_model" / "evaluation";
  fs::create_directories(dir / "models");
  std::ofstream(dir / "models" / "m.json") << "{}";
  CHECK(workbench::locateModelFile("models/m.json", dir) == dir / "models" / "m.json");
  CHECK_THROWS_WITH(workbench::locateModelFile("gone/m.json", dir),
                    Catch::Contains("gone/m.json") && Catch::Contains("not there"));
}
