#include "renderers/scene_recipes.hpp"

namespace gatescope {

ScalarLayer attentionLayer(const Volume<float>& gate, const AttentionLook& look) {
  ScalarLayer layer;
  layer.volume = &gate;
  layer.colormap = look.colormap;
  layer.lo = 0.0;
  layer.hi = 1.0;
  layer.opacity = look.opacity;
  if (look.threshold > 0.0) layer.threshold = look.threshold;
  layer.interpolation = look.interpolation;
  return layer;
}

ScalarLayer differenceLayer(const Volume<float>& difference) {
  ScalarLayer layer;
  layer.volume = &difference;
  layer.colormap = ColormapName::Diverging;
  layer.lo = -1.0;
  layer.hi = 1.0;
  layer.opacity = 0.85;
  layer.interpolation = Interpolation::Nearest;
  return layer;
}

VolumeScene gateVolumeScene(const GateVolumeRequest& request, std::vector<LegendEntry>* legend) {
  VolumeScene scene;
  scene.image = request.image;
  scene.gate = request.gate;
  scene.colormap = request.colormap;
  scene.threshold = request.threshold;
  scene.max_opacity = request.max_opacity;
  const int focus = request.focus_label;
  const auto addSurfaces = [&](const Volume<int32_t>& labels, Rgba color, const std::string& what) {
    bool any = false;
    for (const auto& [value, name] : request.label_names)
      if (value > 0 && (focus == 0 || value == focus)) {
        scene.surfaces.push_back({&labels, value, color, kSurfaceOpacity, false});
        any = true;
      }
    if (request.label_names.empty()) {
      scene.surfaces.push_back({&labels, focus > 0 ? focus : 1, color, kSurfaceOpacity, false});
      any = true;
    }
    if (any && legend)
      legend->push_back(
          {what + (request.focus_label_name.empty() ? "" : " (" + request.focus_label_name + ")"),
           color});
  };
  if (request.reference)
    addSurfaces(*request.reference, request.reference_color, "reference surface");
  if (request.prediction)
    addSurfaces(*request.prediction, request.prediction_color, "prediction surface");
  return scene;
}

}  // namespace gatescope
