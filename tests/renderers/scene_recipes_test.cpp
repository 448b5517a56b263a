// The recipes `gatescope render` and the workbench share: what each layer and scene holds for a
// request (expected values are the request's, or the documented constants).
#include "renderers/scene_recipes.hpp"

#include <catch2/catch.hpp>

using namespace gatescope;

TEST_CASE("attention and difference layers", "[render]") {
  Volume<float> gate(Geometry{});
  const ScalarLayer a =
      attentionLayer(gate, {ColormapName::Viridis, 0.4, 0.2, Interpolation::Nearest});
  CHECK(a.volume == &gate);
  CHECK(a.colormap == ColormapName::Viridis);
  CHECK(a.lo == 0.0);
  CHECK(a.hi == 1.0);
  CHECK(a.opacity == 0.4);
  CHECK(a.threshold == 0.2);
  CHECK(a.interpolation == Interpolation::Nearest);
  CHECK_FALSE(attentionLayer(gate, {ColormapName::Jet, 0.5, 0.0}).threshold);  // 0: nothing hidden
  const ScalarLayer d = differenceLayer(gate);
  CHECK(d.colormap == ColormapName::Diverging);
  CHECK(d.lo == -1.0);
  CHECK(d.hi == 1.0);
  CHECK(d.opacity == 0.85);
  CHECK(d.interpolation == Interpolation::Nearest);
}

TEST_CASE("the 3D gate scene: surfaces per label, the focus label only, legend entries",
          "[render]") {
  Volume<float> image(Geometry{}), gate(Geometry{});
  Volume<int32_t> reference(Geometry{}), prediction(Geometry{});
  GateVolumeRequest request;
  request.image = &image;
  request.gate = &gate;
  request.threshold = 0.4;
  request.reference = &reference;
  request.prediction = &prediction;
  request.label_names = {{0, "background"}, {1, "liver"}, {2, "kidney"}};
  std::vector<LegendEntry> legend;
  VolumeScene scene = gateVolumeScene(request, &legend);
  CHECK(scene.image == &image);
  CHECK(scene.gate == &gate);
  CHECK(scene.threshold == 0.4);
  REQUIRE(scene.surfaces.size() == 4);  // labels 1 and 2 of the reference, then of the prediction
  CHECK(scene.surfaces[0].labels == &reference);
  CHECK(scene.surfaces[0].color == kReferenceColor);
  CHECK(scene.surfaces[1].label == 2);
  CHECK(scene.surfaces[2].labels == &prediction);
  CHECK(scene.surfaces[2].color == kModelAColor);
  CHECK(scene.surfaces[3].opacity == kSurfaceOpacity);
  REQUIRE(legend.size() == 2);
  CHECK(legend[0].text == "reference surface");

  request.focus_label = 2;
  request.focus_label_name = "kidney";
  legend.clear();
  scene = gateVolumeScene(request, &legend);
  REQUIRE(scene.surfaces.size() == 2);
  CHECK(scene.surfaces[0].label == 2);
  CHECK(legend[1].text == "prediction surface (kidney)");

  request.label_names.clear();  // no names: the focus label (else 1)
  request.prediction = nullptr;
  scene = gateVolumeScene(request);
  REQUIRE(scene.surfaces.size() == 1);
  CHECK(scene.surfaces[0].label == 2);
}
