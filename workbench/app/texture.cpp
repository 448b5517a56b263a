#include "workbench/app/texture.hpp"

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>

namespace gatescope::workbench {

Texture::~Texture() {
  if (name_) glDeleteTextures(1, &name_);
}

void Texture::upload(const RgbaImage& picture) {
  if (picture.empty()) return;
  if (!name_) {
    glGenTextures(1, &name_);
    glBindTexture(GL_TEXTURE_2D, name_);
    // Pictures are composited at the resolution they are shown: no smoothing on top.
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
  glBindTexture(GL_TEXTURE_2D, name_);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  if (picture.width == width_ && picture.height == height_) {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE,
                    picture.pixels.data());
  } else {
    width_ = picture.width;
    height_ = picture.height;
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width_, height_, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 picture.pixels.data());
  }
  ++uploads_;
}

}  // namespace gatescope::workbench
