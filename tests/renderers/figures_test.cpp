// Figure layouts: where panels land on the page (worked out from the documented layout constants),
// what the gate, comparison and montage figures put in their panels, and a baseline picture.
#include "renderers/figures.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/core/error.hpp"
#include "tests/renderers/baseline_image.hpp"

using namespace gatescope;

namespace {

Geometry lps(Index3 dims, Vec3 spacing) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  g.direction = {{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}};
  return g;
}

FigurePanel solid(int w, int h, Rgba color) {
  FigurePanel panel;
  panel.picture = RgbaImage(w, h, color);
  return panel;
}

// A 40 x 32 x 12 case at 1 x 1 x 3 mm: a bright disc (the organ, label 1) left of centre in the
// picture, a gate that peaks on it, a prediction shifted by 3 voxels, probabilities to match.
struct SyntheticCase {
  CaseVolumes c;
  ModelOutputs a, b;
  SyntheticCase() {
    const Geometry g = lps({40, 32, 12}, {1.0, 1.0, 3.0});
    c.id = "case_7";
    c.image = Volume<float>(g, 1, -100.0f);
    c.reference = Volume<int32_t>(g);
    a.name = "A: gated";
    b.name = "B: baseline";
    a.prediction = Volume<int32_t>(g);
    b.prediction = Volume<int32_t>(g);
    a.probabilities = Volume<float>(g, 2);
    b.probabilities = Volume<float>(g, 2);
    Volume<float> coarse(g), fine(g);
    for (int k = 0; k < 12; ++k)
      for (int j = 0; j < 32; ++j)
        for (int i = 0; i < 40; ++i) {
          const double r = std::hypot(i - 12.0, j - 16.0, (k - 6.0) * 3.0);
          const bool organ = r < 7.0;
          c.image(i, j, k) = organ ? 80.0f : 0.0f;
          (*c.reference)(i, j, k) = organ ? 1 : 0;
          (*a.prediction)(i, j, k) = std::hypot(i - 13.0, j - 16.0, (k - 6.0) * 3.0) < 7.0 ? 1 : 0;
          (*b.prediction)(i, j, k) = std::hypot(i - 15.0, j - 16.0, (k - 6.0) * 3.0) < 7.0 ? 1 : 0;
          (*a.probabilities)(i, j, k, 1) = (*a.prediction)(i, j, k) ? 0.9f : 0.1f;
          (*b.probabilities)(i, j, k, 1) = (*b.prediction)(i, j, k) ? 0.9f : 0.1f;
          (*a.probabilities)(i, j, k, 0) = 1.0f - (*a.probabilities)(i, j, k, 1);
          (*b.probabilities)(i, j, k, 0) = 1.0f - (*b.probabilities)(i, j, k, 1);
          coarse(i, j, k) = static_cast<float>(std::exp(-r * r / 200.0));
          fine(i, j, k) = static_cast<float>(std::exp(-r * r / 40.0));
        }
    a.gates = {{"attentionblock2", fine}, {"attentionblock3", coarse}};
  }
};

}  // namespace

TEST_CASE("panel grids are laid out as documented", "[figures]") {
  PanelGrid grid;
  grid.rows = {{solid(10, 20, {255, 0, 0, 255}), solid(10, 10, {0, 255, 0, 255})},
               {solid(10, 10, {0, 0, 255, 255})}};
  grid.panel_letters = false;
  grid.scale_bar_mm = -1;
  grid.panel_width_pt = 100;
  const Canvas canvas = drawPanelGrid(grid);
  // margins 8, two columns of 100 with a gap of 4; rows as tall as their tallest panel (200, 100).
  CHECK(canvas.width() == Approx(8 + 100 + 4 + 100 + 8));
  CHECK(canvas.height() == Approx(8 + 200 + 4 + 100 + 8));
  const RgbaImage page = canvas.rasterize(72.0);
  REQUIRE(page.width == 220);
  REQUIRE(page.height == 320);
  CHECK(page.at(58, 108) == Rgba{255, 0, 0, 255});       // first panel, 100 x 200 from (8, 8)
  CHECK(page.at(162, 58) == Rgba{0, 255, 0, 255});       // second panel from (112, 8), 100 x 100
  CHECK(page.at(162, 150) == Rgba{255, 255, 255, 255});  // below the short second panel: paper
  CHECK(page.at(58, 262) == Rgba{0, 0, 255, 255});       // second row from y = 8 + 200 + 4
  CHECK(page.at(4, 4) == Rgba{255, 255, 255, 255});
  CHECK_THROWS_AS(drawPanelGrid(PanelGrid{}), UsageError);
}

TEST_CASE("slices default to the focus label's centre", "[figures]") {
  const SyntheticCase s;
  const auto centre = labelCentre(*s.c.reference, 1);
  REQUIRE(centre);
  CHECK((*centre)[0] == Approx(12.0));
  CHECK((*centre)[1] == Approx(16.0));
  CHECK((*centre)[2] == Approx(6.0));
  CHECK_FALSE(labelCentre(*s.c.reference, 2));
  CHECK(resolveSlice({Plane::Axial, -1}, s.c, 1) == 6);
  CHECK(resolveSlice({Plane::Sagittal, -1}, s.c, 1) == 12);  // sagittal slices run along i
  CHECK(resolveSlice({Plane::Axial, -1}, s.c, 0) == 6);      // no focus: the middle (12 / 2)
  CHECK(resolveSlice({Plane::Coronal, 3}, s.c, 1) == 3);
  CHECK_THROWS_WITH(resolveSlice({Plane::Axial, 12}, s.c, 1),
                    Catch::Contains("axial slice 12 is out of range (0 to 11)"));
}

TEST_CASE("the gate figure has a row per gate and their mean", "[figures]") {
  const SyntheticCase s;
  FigureStyle style;
  style.window = WindowLevel::fromRange(0, 100);
  style.focus_label = 1;
  style.resolution_dpi = 0;  // one pixel per voxel
  const PanelGrid grid = gateFigure(s.c, s.a, {{Plane::Axial, -1}, {Plane::Coronal, -1}}, style);
  REQUIRE(grid.rows.size() == 3);
  CHECK(grid.row_titles ==
        std::vector<std::string>{"attentionblock2", "attentionblock3", "mean of gates"});
  CHECK(grid.column_titles == std::vector<std::string>{"axial 6", "coronal 16"});
  // Axial panels: 40 x 32 pixels at 1 mm. Coronal: 40 x 36 (12 slices of 3 mm).
  CHECK(grid.rows[0][0].picture.width == 40);
  CHECK(grid.rows[0][0].picture.height == 32);
  CHECK(grid.rows[0][1].picture.height == 36);
  // The mean of two gates, voxel by voxel.
  const Volume<float> mean = meanOfGates(s.a.gates);
  CHECK(mean(12, 16, 6) == Approx(1.0));
  CHECK(mean(20, 16, 6) == Approx((std::exp(-64.0 / 40.0) + std::exp(-64.0 / 200.0)) / 2.0));
  // At the gate's peak (voxel 12, 16 -> pixel 12, 16) jet's top colour is blended at 0.5 over the
  // image's 80 -> gray floor(80 / 100 * 256) = 204.
  const Rgba top = colormap(ColormapName::Jet).table[255];
  const Rgba peak = grid.rows[0][0].picture.at(12, 16);
  CHECK(peak.r == ((204 * 128 + top.r * 128) >> 8));
  CHECK(peak.b == ((204 * 128 + top.b * 128) >> 8));
  // The reference contour (yellow) at the disc's edge on the organ's row: i = 12 - 6 = 6.
  CHECK(grid.rows[0][0].picture.at(6, 16) == style.reference_color);
  CHECK(grid.legend.size() == 2);
  CHECK(grid.colorbars.size() == 1);
  ModelOutputs gateless = s.b;
  CHECK_THROWS_WITH(gateFigure(s.c, gateless, {{Plane::Axial, -1}}, style),
                    Catch::Contains("has no attention gates"));
}

TEST_CASE("the comparison shows A, B and where their probabilities differ", "[figures]") {
  const SyntheticCase s;
  FigureStyle style;
  style.window = WindowLevel::fromRange(0, 100);
  style.focus_label = 1;
  style.focus_label_name = "organ";
  style.resolution_dpi = 0;
  const PanelGrid grid = comparisonFigure(s.c, s.a, s.b, {{Plane::Axial, -1}}, style);
  REQUIRE(grid.rows.size() == 1);
  REQUIRE(grid.rows[0].size() == 3);
  CHECK(grid.column_titles[2] == "difference");
  const RgbaImage& diff = grid.rows[0][2].picture;
  // A's disc is centred at i = 13, B's at 15, radius 7: i = 6..7 only A (+0.8), i = 21 only B
  // (-0.8), the middle both (difference 0: the image shows through).
  const auto& div = colormap(ColormapName::Diverging).table;
  const int alpha = static_cast<int>(std::lround(0.85 * 256));
  auto over = [&](int below, int c) { return (below * (256 - alpha) + c * alpha) >> 8; };
  const Rgba only_a = diff.at(7, 16), only_b = diff.at(21, 16), both = diff.at(14, 16);
  const int index_a = static_cast<int>((0.8f + 1.0) * 128.0),
            index_b = static_cast<int>((-0.8f + 1.0) * 128.0);
  // Pixel 7 is inside the reference (i >= 6), gray 204; pixel 21 is outside (0).
  CHECK(only_a.r == over(204, div[index_a].r));
  CHECK(only_a.b == over(204, div[index_a].b));
  CHECK(only_b.r == over(0, div[index_b].r));
  CHECK(only_b.b == over(0, div[index_b].b));
  CHECK(both == Rgba{204, 204, 204, 255});
  CHECK(grid.colorbars.back().colormap == ColormapName::Diverging);
  CHECK(grid.colorbars.back().label == "P(organ): A - B");
}

TEST_CASE("attribution maps are rows and columns of their own, with their own colour bar",
          "[figures]") {
  SyntheticCase s;
  // Display maps (positive part / max) for classes 1 and 2 of both models: class 1 peaks at voxel
  // (12, 16, 6), class 2 at (30, 16, 6); A also has conv2.
  const Geometry g = s.c.image.geometry();
  const auto bump = [&](double ci) {
    Volume<float> v(g);
    for (int k = 0; k < 12; ++k)
      for (int j = 0; j < 32; ++j)
        for (int i = 0; i < 40; ++i)
          v(i, j, k) = static_cast<float>(
              std::exp(-std::pow(std::hypot(i - ci, j - 16.0, (k - 6.0) * 3.0), 2) / 30.0));
    return v;
  };
  for (ModelOutputs* m : {&s.a, &s.b}) {
    m->attributions.emplace_back("gradcam@conv3 class 1", bump(12.0));
    m->attributions.emplace_back("gradcam@conv3 class 2", bump(30.0));
  }
  s.a.attributions.emplace_back("gradcam@conv2 class 1", bump(12.0));
  FigureStyle style;
  style.window = WindowLevel::fromRange(0, 100);
  style.resolution_dpi = 0;
  style.focus_label = 1;
  const std::vector<SliceChoice> axial = {{Plane::Axial, 6}};

  // The ungated model: its Grad-CAM alone, in the attribution colour map over the image.
  const PanelGrid b_grid = gateFigure(s.c, s.b, axial, style, {{"gradcam@conv3"}});
  CHECK(b_grid.row_titles == std::vector<std::string>{"gradcam@conv3 class 1"});
  REQUIRE(b_grid.colorbars.size() == 1);
  CHECK(b_grid.colorbars[0].colormap == style.attribution_colormap);
  CHECK(b_grid.colorbars[0].label == "attribution (positive / max)");
  const Rgba top = colormap(style.attribution_colormap).table[255];
  const Rgba peak = b_grid.rows[0][0].picture.at(12, 16);
  CHECK(peak.r == ((204 * 128 + top.r * 128) >> 8));
  CHECK(peak.g == ((204 * 128 + top.g * 128) >> 8));
  // Another class: its own map (the peak moves to i = 30, outside the organ: gray 0 below).
  style.focus_label = 2;
  const PanelGrid second = gateFigure(s.c, s.b, axial, style, {{"gradcam@conv3"}});
  CHECK(second.row_titles == std::vector<std::string>{"gradcam@conv3 class 2"});
  CHECK(second.rows[0][0].picture.at(30, 16).r == ((0 * 128 + top.r * 128) >> 8));
  style.focus_label = 0;  // no focus: the lowest class saved
  CHECK(gateFigure(s.c, s.b, axial, style, {{"gradcam"}}).row_titles ==
        std::vector<std::string>{"gradcam@conv3 class 1"});
  style.focus_label = 1;

  // The gated model: gates, their mean, then every Grad-CAM layer it has; two colour bars.
  const PanelGrid a_grid = gateFigure(s.c, s.a, axial, style, {{"gradcam"}});
  CHECK(a_grid.row_titles == std::vector<std::string>{"attentionblock2", "attentionblock3",
                                                      "mean of gates", "gradcam@conv3 class 1",
                                                      "gradcam@conv2 class 1"});
  REQUIRE(a_grid.colorbars.size() == 2);
  CHECK(a_grid.colorbars[0].label == "attention coefficient");

  // A's gates and Grad-CAM beside B's Grad-CAM at the same layer, then the difference.
  const PanelGrid compared = comparisonFigure(s.c, s.a, s.b, axial, style, {{"gradcam@conv3"}});
  CHECK(compared.column_titles ==
        std::vector<std::string>{"A: gated (gate mean)", "A: gradcam@conv3 class 1",
                                 "B: gradcam@conv3 class 1", "difference"});
  REQUIRE(compared.rows[0].size() == 4);
  CHECK(compared.rows[0][2].picture.at(12, 16) == peak);
  CHECK(compared.colorbars.size() == 3);

  // A map a model does not have: the maps it has, and how to make them.
  CHECK_THROWS_WITH(gateFigure(s.c, s.b, axial, style, {{"gradcam@conv2"}}),
                    Catch::Contains("no attribution map gradcam@conv2 for class 1") &&
                        Catch::Contains("gradcam@conv3 class 1") &&
                        Catch::Contains("--attribution"));
  CHECK_THROWS_WITH(gateFigure(s.c, s.b, axial, style, {{"sharpness"}}),
                    Catch::Contains("unknown method 'sharpness'"));
}

TEST_CASE("a montage lays out the slice range in rows", "[figures]") {
  const SyntheticCase s;
  FigureStyle style;
  const PanelGrid grid = montageFigure(s.c, &s.a, "mean", Plane::Axial, 2, 10, 2, 3, style);
  REQUIRE(grid.rows.size() == 2);  // slices 2, 4, 6 | 8, 10
  CHECK(grid.rows[0].size() == 3);
  CHECK(grid.rows[1].size() == 2);
  CHECK(grid.rows[1][1].caption == "slice 10");
  CHECK_THROWS_WITH(
      montageFigure(s.c, &s.a, "attentionblock9", Plane::Axial, 0, 3, 1, 3, style),
      Catch::Contains("no gate 'attentionblock9'") && Catch::Contains("attentionblock2"));
  CHECK_THROWS_WITH(montageFigure(s.c, &s.a, "mean", Plane::Axial, 0, 12, 1, 3, style),
                    Catch::Contains("the image has slices 0 to 11"));
}

TEST_CASE("a gate figure matches its baseline picture", "[figures]") {
  const SyntheticCase s;
  FigureStyle style;
  style.window = WindowLevel::fromRange(0, 100);
  style.focus_label = 1;
  style.focus_label_name = "organ";
  style.panel_width_pt = 90;
  PanelGrid grid = gateFigure(
      s.c, s.a, {{Plane::Axial, -1}, {Plane::Coronal, -1}, {Plane::Sagittal, -1}}, style);
  const RgbaImage page = drawPanelGrid(grid).rasterize(100.0);
  // Text is drawn by the system's DejaVu fonts: a few pixels may differ between versions.
  test::requireMatchesBaseline(page, "figure_gates", {48, 0.01, 2.0});
}

TEST_CASE("the classification figure shows each image's gates and the models' answers",
          "[figures]") {
  // A 40 x 32 picture as a PNG reads (one slice, identity direction): a bright disc at (12, 16),
  // the telling structure; model A's one gate peaks there with a maximum of 0.05 (AG-SonoNet's
  // gates sum to one over the image), model B has no gates.
  Geometry g;
  g.dims = {40, 32, 1};
  SavedCase s;
  s.volumes.id = "heart/plane_7.png";
  s.volumes.true_class = 1;
  s.volumes.image = Volume<float>(g);
  s.volumes.reference = Volume<int32_t>(g);
  s.class_names = {"abdomen", "heart", "brain"};
  Volume<float> gate(g);
  for (int j = 0; j < 32; ++j)
    for (int i = 0; i < 40; ++i) {
      const double r = std::hypot(i - 12.0, j - 16.0);
      s.volumes.image(i, j, 0) = r < 5.0 ? 80.0f : 0.0f;
      (*s.volumes.reference)(i, j, 0) = r < 5.0 ? 1 : 0;
      gate(i, j, 0) = static_cast<float>(0.05 * std::exp(-r * r / 40.0));
    }
  ModelOutputs& a = s.models.emplace_back();
  a.name = "A: gated";
  a.gates = {{"compatibility_score1", gate}};
  a.classification = ClassAnswer{1, {0.05, 0.9, 0.05}};
  ModelOutputs& b = s.models.emplace_back();
  b.name = "B: baseline";
  b.classification = ClassAnswer{2, {0.2, 0.2, 0.6}};
  FigureStyle style;
  style.window = WindowLevel::fromRange(0, 100);
  style.resolution_dpi = 0;  // one pixel per pixel

  const PanelGrid grid = classificationGateFigure({s, s}, {0, 1}, style);
  REQUIRE(grid.rows.size() == 2);
  REQUIRE(grid.rows[0].size() == 3);
  CHECK(grid.column_titles ==
        std::vector<std::string>{"image", "A: compatibility_score1", "B: baseline (no gates)"});
  CHECK(grid.row_titles == std::vector<std::string>{"true: heart", "true: heart"});
  CHECK(grid.rows[0][0].caption == "plane_7.png");
  CHECK(grid.rows[0][1].caption == "A: heart 0.90, right");
  CHECK(grid.rows[0][2].caption == "B: brain 0.60, wrong");
  // Picture pixel (x, y) is PNG column x, row y. At the gate's peak its map divided by its maximum
  // is 1: jet's top colour blended at 0.5 over the disc's gray floor(80 / 100 * 256) = 204; the
  // image and the ungated model's panel show the gray alone.
  const Rgba top = colormap(ColormapName::Jet).table[255];
  const Rgba peak = grid.rows[0][1].picture.at(12, 16);
  CHECK(peak.r == ((204 * 128 + top.r * 128) >> 8));
  CHECK(peak.b == ((204 * 128 + top.b * 128) >> 8));
  CHECK(grid.rows[0][0].picture.at(12, 16) == Rgba{204, 204, 204, 255});
  CHECK(grid.rows[0][2].picture.at(12, 16) == Rgba{204, 204, 204, 255});
  // The structure's outline at its left edge (i = 12 - 4 = 8), in every panel.
  for (int c = 0; c < 3; ++c) CHECK(grid.rows[0][c].picture.at(8, 16) == style.reference_color);
  REQUIRE(grid.colorbars.size() == 1);
  CHECK(grid.colorbars[0].label == "attention / its maximum");
  CHECK(grid.legend.size() == 1);

  // Attribution maps (saved for display: positive part / max) after each model's gates; a model
  // without the map named is refused, naming the maps it has.
  Volume<float> evidence(g);
  evidence(30, 8, 0) = 1.0f;
  SavedCase explained = s;
  explained.models[1].attributions = {{"gradcam@conv3 class 1", evidence}};
  CHECK_THROWS_WITH(classificationGateFigure({explained}, {0, 1}, style, {"gradcam@conv3"}),
                    Catch::Contains("A: gated has no attribution map gradcam@conv3"));
  explained.models[0].attributions = {{"gradcam@conv3 class 1", evidence}};
  const PanelGrid with_maps =
      classificationGateFigure({explained}, {0, 1}, style, {"gradcam@conv3"});
  CHECK(with_maps.column_titles == std::vector<std::string>{"image", "A: compatibility_score1",
                                                            "A: gradcam@conv3",
                                                            "B: gradcam@conv3"});
  REQUIRE(with_maps.rows[0].size() == 4);
  CHECK(with_maps.rows[0][3].caption == "B: brain 0.60, wrong");  // the model's first panel
  const Rgba hot = colormap(style.attribution_colormap).table[255];
  const Rgba shown = with_maps.rows[0][2].picture.at(30, 8);  // over the image's 0
  CHECK(shown.r == ((0 * 128 + hot.r * 128) >> 8));
  CHECK(shown.g == ((0 * 128 + hot.g * 128) >> 8));
  REQUIRE(with_maps.colorbars.size() == 2);
  CHECK(with_maps.colorbars[1].colormap == style.attribution_colormap);

  SavedCase unanswered = s;
  unanswered.models[1].classification.reset();
  CHECK_THROWS_WITH(classificationGateFigure({unanswered}, {0, 1}, style),
                    Catch::Contains("no answer of model B"));
  CHECK_THROWS_WITH(classificationGateFigure({}, {0}, style), Catch::Contains("at least one"));
}
