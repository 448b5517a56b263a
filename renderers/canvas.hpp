#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "renderers/rgba_image.hpp"

namespace gatescope {

// A 2D drawing in points (1/72 inch, y down) that is written as PNG (raster at a chosen DPI), PDF
// or SVG (vector: lines stay lines, raster panels are embedded images; PDF keeps text as text with
// an embedded font subset, cairo's SVG draws text as glyph outlines, so it looks the same but
// cannot be selected or edited). Drawing is recorded once and replayed into each output, so every
// format shows the same figure. Implemented on cairo (text in DejaVu Sans through fontconfig,
// unhinted metrics so measured widths hold at every DPI).
enum class TextAlign { Left, Center, Right };
enum class FigureFormat { Png, Pdf, Svg };

// The format a file name asks for (.png, .pdf, .svg); throws UsageError naming the file otherwise.
[[nodiscard]] FigureFormat figureFormatOf(const std::filesystem::path& path);

class Canvas {
 public:
  Canvas(double width_pt, double height_pt, Rgba background = {255, 255, 255, 255});
  ~Canvas();
  Canvas(Canvas&&) noexcept;
  Canvas& operator=(Canvas&&) noexcept;

  [[nodiscard]] double width() const;
  [[nodiscard]] double height() const;

  // Lines and shapes; `width_pt` is the stroke width. `dash` > 0 draws dashed lines with dashes and
  // gaps `dash` points long.
  void line(double x0, double y0, double x1, double y1, Rgba color, double width_pt = 1.0,
            double dash = 0.0);
  void polyline(const std::vector<std::pair<double, double>>& points, Rgba color,
                double width_pt = 1.0);
  void rectangle(double x, double y, double w, double h, Rgba fill);
  void rectangleOutline(double x, double y, double w, double h, Rgba color, double width_pt = 1.0);
  void circle(double cx, double cy, double radius, Rgba fill);
  // Text with its baseline at y (anchored left/centre/right at x), rotated counter-clockwise by
  // `degrees` about the anchor. Sizes in points.
  void text(double x, double y, const std::string& text, double size_pt,
            Rgba color = {0, 0, 0, 255}, TextAlign align = TextAlign::Left, double degrees = 0.0,
            bool bold = false);
  // Width of `text` at this size (for layout).
  [[nodiscard]] double textWidth(const std::string& text, double size_pt, bool bold = false) const;
  // A raster image scaled into the box; `smooth` = bilinear, else nearest (pixels stay sharp).
  void image(const RgbaImage& image, double x, double y, double w, double h, bool smooth = false);

  // Writes the drawing atomically: PNG at `dpi` (pixels = points * dpi / 72, with a pHYs chunk),
  // PDF or SVG by the file's extension. Throws Error naming the file on failure.
  void write(const std::filesystem::path& path, double dpi = 150.0) const;
  // The drawing rasterised at `dpi` (tests, the workbench): round(points * dpi / 72) pixels,
  // straight alpha (opaque unless the background is transparent).
  [[nodiscard]] RgbaImage rasterize(double dpi = 72.0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatescope
