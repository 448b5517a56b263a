#include "renderers/canvas.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <span>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"

namespace gatescope {

namespace {

constexpr const char* kFontFamily = "DejaVu Sans";

void setColor(cairo_t* cr, Rgba c) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0);
}

void selectFont(cairo_t* cr, double size_pt, bool bold) {
  cairo_select_font_face(cr, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size_pt);
}

// Unhinted metrics make text widths the same at every DPI and in vector output, so a layout
// measured once fits every format.
void useUnhintedText(cairo_t* cr) {
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_set_font_options(cr, options);
  cairo_font_options_destroy(options);
}

cairo_surface_t* surfaceFromImage(const RgbaImage& image) {
  cairo_surface_t* surface =
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, image.width, image.height);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw Error("cannot create a " + std::to_string(image.width) + "x" +
                std::to_string(image.height) + " image for drawing");
  }
  cairo_surface_flush(surface);
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int y = 0; y < image.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<ptrdiff_t>(y) * stride);
    for (int x = 0; x < image.width; ++x) {
      const Rgba c = image.at(x, y);
      const auto premultiply = [&](uint8_t v) {
        return static_cast<uint32_t>((v * c.a + 127) / 255);
      };
      row[x] = (static_cast<uint32_t>(c.a) << 24) | (premultiply(c.r) << 16) |
               (premultiply(c.g) << 8) | premultiply(c.b);
    }
  }
  cairo_surface_mark_dirty(surface);
  return surface;
}

RgbaImage imageFromSurface(cairo_surface_t* surface) {
  cairo_surface_flush(surface);
  const int width = cairo_image_surface_get_width(surface),
            height = cairo_image_surface_get_height(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  RgbaImage image(width, height);
  for (int y = 0; y < height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<ptrdiff_t>(y) * stride);
    for (int x = 0; x < width; ++x) {
      const uint32_t p = row[x];
      const uint32_t a = p >> 24;
      const auto unpremultiply = [a](uint32_t v) {
        return static_cast<uint8_t>(a == 0 ? 0 : (v * 255 + a / 2) / a);
      };
      image.set(x, y,
                {unpremultiply((p >> 16) & 255), unpremultiply((p >> 8) & 255),
                 unpremultiply(p & 255), static_cast<uint8_t>(a)});
    }
  }
  return image;
}

cairo_status_t appendToBytes(void* closure, const unsigned char* data, unsigned int length) {
  try {
    static_cast<std::vector<uint8_t>*>(closure)->insert(
        static_cast<std::vector<uint8_t>*>(closure)->end(), data, data + length);
    return CAIRO_STATUS_SUCCESS;
  } catch (...) {
    return CAIRO_STATUS_WRITE_ERROR;
  }
}

}  // namespace

FigureFormat figureFormatOf(const std::filesystem::path& path) {
  if (hasExtension(path, ".png")) return FigureFormat::Png;
  if (hasExtension(path, ".pdf")) return FigureFormat::Pdf;
  if (hasExtension(path, ".svg")) return FigureFormat::Svg;
  throw UsageError(path.string() + ": unsupported figure format '" + path.extension().string() +
                   "' (supported: .png, .pdf, .svg)");
}

struct Canvas::Impl {
  double width = 0.0, height = 0.0;
  cairo_surface_t* recording = nullptr;
  cairo_t* cr = nullptr;
  // Text is measured on a separate context so measuring never disturbs the drawing state.
  cairo_surface_t* measure_surface = nullptr;
  cairo_t* measure = nullptr;

  ~Impl() {
    cairo_destroy(measure);
    cairo_surface_destroy(measure_surface);
    cairo_destroy(cr);
    cairo_surface_destroy(recording);
  }

  // Plays the recorded drawing into `target`, scaled from points to the target's units.
  void replay(cairo_surface_t* target, double scale) const {
    cairo_t* out = cairo_create(target);
    cairo_scale(out, scale, scale);
    cairo_set_source_surface(out, recording, 0.0, 0.0);
    cairo_paint(out);
    const cairo_status_t status = cairo_status(out);
    cairo_destroy(out);
    if (status != CAIRO_STATUS_SUCCESS)
      throw Error(std::string("drawing the figure failed: ") + cairo_status_to_string(status));
  }

  void stroke(const std::vector<std::pair<double, double>>& points, Rgba color, double width_pt,
              double dash) {
    if (points.size() < 2) return;
    cairo_move_to(cr, points.front().first, points.front().second);
    for (size_t i = 1; i < points.size(); ++i) cairo_line_to(cr, points[i].first, points[i].second);
    setColor(cr, color);
    cairo_set_line_width(cr, width_pt);
    cairo_set_dash(cr, &dash, dash > 0.0 ? 1 : 0, 0.0);
    cairo_stroke(cr);
  }

  std::vector<uint8_t> vectorBytes(FigureFormat format, const std::filesystem::path& path) const {
    std::vector<uint8_t> bytes;
    cairo_surface_t* surface = nullptr;
    if (format == FigureFormat::Pdf) {
      surface = cairo_pdf_surface_create_for_stream(appendToBytes, &bytes, width, height);
    } else {
      surface = cairo_svg_surface_create_for_stream(appendToBytes, &bytes, width, height);
      cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PT);
    }
    try {
      replay(surface, 1.0);
    } catch (const Error& e) {
      cairo_surface_destroy(surface);
      throw Error(path.string() + ": " + e.what());
    }
    cairo_surface_finish(surface);
    const cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS)
      throw Error(path.string() + ": cannot encode the figure: " + cairo_status_to_string(status));
    return bytes;
  }
};

Canvas::Canvas(double width_pt, double height_pt, Rgba background)
    : impl_(std::make_unique<Impl>()) {
  if (!(width_pt > 0.0 && height_pt > 0.0))
    throw UsageError("canvas size must be positive, got " + std::to_string(width_pt) + " x " +
                     std::to_string(height_pt) + " pt");
  impl_->width = width_pt;
  impl_->height = height_pt;
  const cairo_rectangle_t extents{0.0, 0.0, width_pt, height_pt};
  impl_->recording = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
  impl_->cr = cairo_create(impl_->recording);
  impl_->measure_surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  impl_->measure = cairo_create(impl_->measure_surface);
  if (cairo_status(impl_->cr) != CAIRO_STATUS_SUCCESS ||
      cairo_status(impl_->measure) != CAIRO_STATUS_SUCCESS)
    throw Error("cannot create a drawing surface");
  useUnhintedText(impl_->cr);
  useUnhintedText(impl_->measure);
  rectangle(0.0, 0.0, width_pt, height_pt, background);
}

Canvas::~Canvas() = default;
Canvas::Canvas(Canvas&&) noexcept = default;
Canvas& Canvas::operator=(Canvas&&) noexcept = default;

double Canvas::width() const {
  return impl_->width;
}
double Canvas::height() const {
  return impl_->height;
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgba color, double width_pt,
                  double dash) {
  impl_->stroke({{x0, y0}, {x1, y1}}, color, width_pt, dash);
}

void Canvas::polyline(const std::vector<std::pair<double, double>>& points, Rgba color,
                      double width_pt) {
  impl_->stroke(points, color, width_pt, 0.0);
}

void Canvas::rectangle(double x, double y, double w, double h, Rgba fill) {
  cairo_t* cr = impl_->cr;
  cairo_rectangle(cr, x, y, w, h);
  setColor(cr, fill);
  cairo_fill(cr);
}

void Canvas::rectangleOutline(double x, double y, double w, double h, Rgba color, double width_pt) {
  cairo_t* cr = impl_->cr;
  cairo_rectangle(cr, x, y, w, h);
  setColor(cr, color);
  cairo_set_line_width(cr, width_pt);
  cairo_set_dash(cr, nullptr, 0, 0.0);
  cairo_stroke(cr);
}

void Canvas::circle(double cx, double cy, double radius, Rgba fill) {
  cairo_t* cr = impl_->cr;
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx, cy, radius, 0.0, 2.0 * std::numbers::pi);
  setColor(cr, fill);
  cairo_fill(cr);
}

void Canvas::text(double x, double y, const std::string& text, double size_pt, Rgba color,
                  TextAlign align, double degrees, bool bold) {
  if (text.empty()) return;
  const double width = textWidth(text, size_pt, bold);
  const double offset = align == TextAlign::Left     ? 0.0
                        : align == TextAlign::Center ? -0.5 * width
                                                     : -width;
  cairo_t* cr = impl_->cr;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -degrees * std::numbers::pi / 180.0);
  selectFont(cr, size_pt, bold);
  setColor(cr, color);
  cairo_move_to(cr, offset, 0.0);
  cairo_show_text(cr, text.c_str());
  cairo_new_path(cr);
  cairo_restore(cr);
}

double Canvas::textWidth(const std::string& text, double size_pt, bool bold) const {
  selectFont(impl_->measure, size_pt, bold);
  cairo_text_extents_t extents;
  cairo_text_extents(impl_->measure, text.c_str(), &extents);
  return extents.x_advance;
}

void Canvas::image(const RgbaImage& image, double x, double y, double w, double h, bool smooth) {
  if (image.empty() || w <= 0.0 || h <= 0.0) return;
  cairo_surface_t* surface = surfaceFromImage(image);
  cairo_t* cr = impl_->cr;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / image.width, h / image.height);
  cairo_set_source_surface(cr, surface, 0.0, 0.0);
  cairo_pattern_t* pattern = cairo_get_source(cr);
  cairo_pattern_set_filter(pattern, smooth ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST);
  // Padding keeps bilinear sampling from fading the border pixels towards transparent.
  cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD);
  cairo_rectangle(cr, 0.0, 0.0, image.width, image.height);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(surface);  // the recording keeps its own reference
}

void Canvas::write(const std::filesystem::path& path, double dpi) const {
  const FigureFormat format = figureFormatOf(path);
  if (format == FigureFormat::Png) {
    writeRgbaPng(path, rasterize(dpi), dpi);
    return;
  }
  const std::vector<uint8_t> bytes = impl_->vectorBytes(format, path);
  writeFileAtomically(path, std::span<const uint8_t>(bytes));
}

RgbaImage Canvas::rasterize(double dpi) const {
  if (!(dpi > 0.0 && dpi <= 2400.0))
    throw UsageError("raster resolution must be within (0, 2400] dpi, got " + std::to_string(dpi));
  const double scale = dpi / 72.0;
  const int width = std::max(1, static_cast<int>(std::lround(impl_->width * scale)));
  const int height = std::max(1, static_cast<int>(std::lround(impl_->height * scale)));
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw Error("cannot create a " + std::to_string(width) + "x" + std::to_string(height) +
                " raster for the figure");
  }
  try {
    impl_->replay(surface, scale);
  } catch (...) {
    cairo_surface_destroy(surface);
    throw;
  }
  RgbaImage image = imageFromSurface(surface);
  cairo_surface_destroy(surface);
  return image;
}

}  // namespace gatescope
