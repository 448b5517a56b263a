#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/core/volume.hpp"
#include "analysis/evaluation/saved_case.hpp"
#include "renderers/canvas.hpp"
#include "renderers/colormap.hpp"
#include "renderers/plot_axes.hpp"
#include "renderers/slice_compositor.hpp"
#include "renderers/window_level.hpp"

namespace gatescope {

// Paper figures made of slice pictures: a grid of panels with column and row titles, panel
// letters, a scale bar, a colour bar and a legend, drawn on a Canvas (PNG at a DPI, PDF, SVG).

struct FigurePanel {
  RgbaImage picture;
  double pixel_mm = 1.0;  // physical size of a picture pixel, for the scale bar
  std::string caption;    // small text under the panel (e.g. "slice 24")
};

struct ColorbarSpec {
  ColormapName colormap = ColormapName::Jet;
  double lo = 0.0, hi = 1.0;
  std::string label;
};

struct PanelGrid {
  std::string title;
  std::vector<std::string> column_titles;  // above the first row
  std::vector<std::string> row_titles;     // left of each row, rotated
  std::vector<std::vector<FigurePanel>> rows;
  std::vector<ColorbarSpec> colorbars;  // right of the grid, one above the other
  std::vector<LegendEntry> legend;      // under the grid
  double scale_bar_mm = 0.0;            // 0: a round length near a quarter of a panel; < 0: none
  bool panel_letters = true;            // a, b, c ... in reading order
  double panel_width_pt = 130.0;        // each column's width; heights follow the pictures' aspect
};

// Lays out and draws the grid. Panels of a column share its width; a row is as tall as its
// tallest panel at that width. UsageError for an empty grid.
[[nodiscard]] Canvas drawPanelGrid(const PanelGrid& grid);

// --- the figures `gatescope render` makes ------------------------------------------------------

// A slice to show: plane and index (-1: the middle, or the reference label's centre when the
// figure has a focus label).
struct SliceChoice {
  Plane plane = Plane::Axial;
  int64_t slice = -1;
};

struct FigureStyle {
  WindowLevel window{40.0, 400.0};
  ColormapName attention_colormap = ColormapName::Jet;
  ColormapName attribution_colormap = ColormapName::Inferno;  // another kind of map, another map
  double attention_opacity = 0.5;
  double attention_threshold = 0.0;  // coefficients below are transparent
  Interpolation interpolation = Interpolation::Linear;
  Rgba reference_color = kReferenceColor;  // yellow contours
  Rgba prediction_color = kModelAColor;    // contours of the model shown (model A's magenta)
  int focus_label = 0;  // 0: every label; else contours (and the default slices) of this label
  std::string focus_label_name;
  double panel_width_pt = 130.0;
  // Pictures are composited at about this resolution for their printed size (smooth image, crisp
  // contours ~0.7 pt wide); 0: one pixel per voxel at the finer in-plane spacing.
  double resolution_dpi = 200.0;
  std::string title;
};

// Where a label's voxels are centred (voxel coordinates), or nullopt when it is absent.
[[nodiscard]] std::optional<Vec3> labelCentre(const Volume<int32_t>& labels, int label);
// The slice index a choice resolves to for this case (the label's centre, else the middle).
[[nodiscard]] int64_t resolveSlice(const SliceChoice& choice, const CaseVolumes& c,
                                   int focus_label);

// The attribution maps a figure shows: "gradcam@conv2,conv3" (those layers), "gradcam" (every
// layer the model has maps of), "gradient_x_input" (input methods), each the map of the focus
// label's class (without one, the lowest class the model has maps of), shown as its positive part
// divided by its maximum (docs/attribution.md). Empty: none.
struct AttributionChoice {
  std::vector<std::string> specs;
};

// One map of a model to show: its title ("gradcam@conv3 class 1") and values.
struct NamedMap {
  std::string title;
  const Volume<float>* values = nullptr;
};
// The maps `choice` names that `model` has, in the order named; UsageError naming the maps the
// model has when one is missing (and how to make them).
[[nodiscard]] std::vector<NamedMap> attributionMaps(const ModelOutputs& model,
                                                    const AttributionChoice& choice,
                                                    int focus_label);

// Rows = the model's gates (plus their mean when it has several) and the attribution maps chosen,
// columns = the slices; each panel the image with the map over it and the reference and prediction
// contours. One colour bar per kind of map.
[[nodiscard]] PanelGrid gateFigure(const CaseVolumes& c, const ModelOutputs& model,
                                   const std::vector<SliceChoice>& slices, const FigureStyle& style,
                                   const AttributionChoice& attributions = {});

// Rows = the slices, columns = model A (its gate mean over the image, then each attribution map
// chosen), model B (the same, where it has them) and their difference: the focus label's
// probability A - B on the diverging map (or, without probabilities, where the two predictions
// disagree), with reference and prediction contours.
[[nodiscard]] PanelGrid comparisonFigure(const CaseVolumes& c, const ModelOutputs& a,
                                         const ModelOutputs& b,
                                         const std::vector<SliceChoice>& slices,
                                         const FigureStyle& style,
                                         const AttributionChoice& attributions = {});

// The paper's figure of classifiers, for images of a classifiers' evaluation: one row per image,
// titled with its true class; columns the image (with the outline of its telling structure where
// it has a mask or box), then per model of `models` (indices into each case's models) each of its
// gates' maps over the image, each divided by its maximum (AG-SonoNet's gates sum to one over the
// image) - or, for an ungated model, the image alone - the model's first panel
// captioned with its predicted class, that class's probability and whether it is right.
// UsageError for no cases, a case that is not a classification case or lacks a model.
// `attributions` ("gradcam@conv3", ...): per model after its gates, the map of each image's true
// class that the evaluation saved (--attribution with --save-predictions), in the attribution
// colour map; UsageError naming the maps a model has when one is missing.
[[nodiscard]] PanelGrid classificationGateFigure(const std::vector<SavedCase>& cases,
                                                 const std::vector<size_t>& models,
                                                 const FigureStyle& style,
                                                 const std::vector<std::string>& attributions = {});

// A lightbox: slices first..last (step) of one plane in `columns` columns, each with the gate (when
// given) and the contours.
[[nodiscard]] PanelGrid montageFigure(const CaseVolumes& c, const ModelOutputs* model,
                                      const std::string& gate, Plane plane, int64_t first,
                                      int64_t last, int64_t step, int columns,
                                      const FigureStyle& style);

// The gate called `gate` ("mean": the mean of the model's gates, computed into `mean`); UsageError
// listing the model's gates when it has no such gate.
[[nodiscard]] const Volume<float>& findGate(const ModelOutputs& model, const std::string& gate,
                                            Volume<float>& mean);

// The label's probability A - B (for label 0: the foreground's, 1 - P(background)), NaN where the
// two agree within 0.05 so that agreement shows the image below.
[[nodiscard]] Volume<float> probabilityDifference(const Volume<float>& a, const Volume<float>& b,
                                                  int label);
// +1 where only A predicts the label (any label for 0), -1 where only B does, NaN elsewhere.
[[nodiscard]] Volume<float> predictionDisagreement(const Volume<int32_t>& a,
                                                   const Volume<int32_t>& b, int label);

// The mean of several gates' coefficients (all on one grid).
[[nodiscard]] Volume<float> meanOfGates(
    const std::vector<std::pair<std::string, Volume<float>>>& gates);

}  // namespace gatescope
