// One image inspected in the workbench gives what `gatescope evaluate` saved for the same case and
// models: the same predictions, gate maps and metrics (the fixture's demo evaluation).
#include "workbench/app/image_inspection.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/plugin/plugin_loader.hpp"

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
