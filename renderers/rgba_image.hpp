#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace gatescope {

// One 8-bit RGBA colour (straight, not premultiplied alpha).
struct Rgba {
  uint8_t r = 0, g = 0, b = 0, a = 255;
  friend bool operator==(const Rgba&, const Rgba&) = default;
};

// A picture the renderers return: rows top to bottom, RGBA per pixel, straight alpha. The CLI
// writes it to a file, the workbench uploads it to an OpenGL texture as it is (GL_RGBA,
// GL_UNSIGNED_BYTE, first row at the top when drawn with ImGui::Image's default UVs).
struct RgbaImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 4

  RgbaImage() = default;
  RgbaImage(int w, int h, Rgba fill = {0, 0, 0, 255});
  [[nodiscard]] bool empty() const { return width == 0 || height == 0; }
  [[nodiscard]] Rgba at(int x, int y) const {
    const uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 4];
    return {p[0], p[1], p[2], p[3]};
  }
  void set(int x, int y, Rgba c) {
    uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 4];
    p[0] = c.r, p[1] = c.g, p[2] = c.b, p[3] = c.a;
  }
};

// Writes the image as an 8-bit PNG, RGB when every pixel is opaque, else RGBA (atomically; `dpi` >
// 0 adds a pHYs chunk).
void writeRgbaPng(const std::filesystem::path& path, const RgbaImage& image, double dpi = 0.0);
// Reads an 8-bit gray, RGB or RGBA PNG (baseline images in tests) as opaque RGBA (alpha dropped).
[[nodiscard]] RgbaImage readRgbaPng(const std::filesystem::path& path);

}  // namespace gatescope
