#include "workbench/app/screenshot.hpp"

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>

#include <vector>

#include "analysis/core/image.hpp"
#include "analysis/io/png_io.hpp"

namespace gatescope::workbench {

void saveFramebuffer(const std::string& path, int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, rgb.data());
  Geometry geometry;
  geometry.dims = {width, height, 1};
  Volume<uint8_t> image(geometry, 3);
  // OpenGL's first row is the bottom of the window; PNG's is the top.
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image(x, height - 1 - y, 0, c) = rgb[(static_cast<size_t>(y) * width + x) * 3 + c];
  writePng(path, makeImage(std::move(image), ImageFormat::Png));
}

}  // namespace gatescope::workbench
