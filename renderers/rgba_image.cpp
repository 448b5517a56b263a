#include "renderers/rgba_image.hpp"

#include "analysis/core/error.hpp"
#include "analysis/io/png_io.hpp"

namespace gatescope {

RgbaImage::RgbaImage(int w, int h, Rgba fill)
    : width(w), height(h), pixels(static_cast<size_t>(w) * h * 4) {
  if (w < 0 || h < 0) throw UsageError("image size must not be negative");
  for (size_t p = 0; p < pixels.size(); p += 4) {
    pixels[p] = fill.r, pixels[p + 1] = fill.g, pixels[p + 2] = fill.b, pixels[p + 3] = fill.a;
  }
}

void writeRgbaPng(const std::filesystem::path& path, const RgbaImage& image, double dpi) {
  if (image.empty()) throw UsageError(path.string() + ": nothing to write (empty image)");
  bool has_alpha = false;
  for (size_t p = 3; p < image.pixels.size(); p += 4) has_alpha |= image.pixels[p] != 255;
  const int channels = has_alpha ? 4 : 3;
  Geometry geometry;
  geometry.dims = {image.width, image.height, 1};
  Volume<uint8_t> volume(geometry, channels);
  const int64_t n = static_cast<int64_t>(image.width) * image.height;
  for (int c = 0; c < channels; ++c) {
    auto values = volume.channel(c);
    for (int64_t v = 0; v < n; ++v) values[v] = image.pixels[static_cast<size_t>(v) * 4 + c];
  }
  Image out = makeImage(std::move(volume), ImageFormat::Png);
  out.header.png_dpi = dpi;
  writePng(path, out);
}

RgbaImage readRgbaPng(const std::filesystem::path& path) {
  const Image image = readPng(path);
  const auto* volume = std::get_if<Volume<uint8_t>>(&image.voxels);
  if (!volume) throw FormatError(path.string() + ": expected an 8-bit PNG");
  const Geometry& g = volume->geometry();
  RgbaImage out(static_cast<int>(g.dims[0]), static_cast<int>(g.dims[1]));
  const int64_t n = g.voxelCount();
  for (int64_t v = 0; v < n; ++v)
    for (int c = 0; c < 3; ++c)
      out.pixels[static_cast<size_t>(v) * 4 + c] =
          volume->channel(volume->channels() == 1 ? 0 : c)[v];
  return out;
}

}  // namespace gatescope
