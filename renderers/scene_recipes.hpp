#pragma once

// One recipe per scene: `gatescope render` and the workbench fill in options, the recipe builds
// the layer or scene, so the same request gives the same pixels in both (docs/rendering.md).
#include <map>
#include <string>
#include <vector>

#include "renderers/plot_axes.hpp"
#include "renderers/slice_compositor.hpp"
#include "renderers/volume_view.hpp"

namespace gatescope {

// How attention coefficients look over a slice.
struct AttentionLook {
  ColormapName colormap = ColormapName::Jet;
  double opacity = 0.5;
  double threshold = 0.0;  // coefficients below are transparent; 0: none are
  Interpolation interpolation = Interpolation::Linear;  // Nearest: a native gate, blocky
};

// A gate's coefficients through the colour map over [0, 1].
[[nodiscard]] ScalarLayer attentionLayer(const Volume<float>& gate, const AttentionLook& look);

// A - B (probabilities, or +1/-1 where only one model predicts the label; NaN where they agree) on
// the diverging map over [-1, 1] at 0.85 opacity, sampled by nearest neighbour so that agreement
// does not bleed into its neighbours.
[[nodiscard]] ScalarLayer differenceLayer(const Volume<float>& difference);

// The 3D scene of one gate with the reference's and a prediction's surfaces.
struct GateVolumeRequest {
  const Volume<float>* image = nullptr;  // context
  const Volume<float>* gate = nullptr;   // on the image's grid
  ColormapName colormap = ColormapName::Jet;
  double threshold = 0.3;
  double max_opacity = 0.6;
  const Volume<int32_t>* reference = nullptr;
  const Volume<int32_t>* prediction = nullptr;
  Rgba reference_color = kReferenceColor;
  Rgba prediction_color = kModelAColor;
  // Surfaces for every named label above 0 (only `focus_label` when set); without names, label 1
  // (or the focus label).
  std::map<int, std::string> label_names;
  int focus_label = 0;
  std::string focus_label_name;  // added to the legend's entries
};
inline constexpr double kSurfaceOpacity = 0.35;

// The scene (camera and size left to the caller); `legend`, when given, gets an entry per kind of
// surface drawn ("reference surface (liver)").
[[nodiscard]] VolumeScene gateVolumeScene(const GateVolumeRequest& request,
                                          std::vector<LegendEntry>* legend = nullptr);

}  // namespace gatescope
