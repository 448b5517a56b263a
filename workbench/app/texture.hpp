#pragma once

#include <cstdint>

#include "renderers/rgba_image.hpp"

namespace gatescope::workbench {

// An OpenGL texture holding a renderer picture (RGBA, first row at the top, as ImGui::Image draws
// it with its default UVs). Re-uploading a picture of the same size reuses the texture's storage.
class Texture {
 public:
  Texture() = default;
  ~Texture();
  Texture(const Texture&) = delete;
  Texture& operator=(const Texture&) = delete;

  void upload(const RgbaImage& picture);
  [[nodiscard]] void* id() const { return reinterpret_cast<void*>(static_cast<intptr_t>(name_)); }
  [[nodiscard]] bool empty() const { return name_ == 0; }
  [[nodiscard]] int width() const { return width_; }
  [[nodiscard]] int height() const { return height_; }
  [[nodiscard]] uint64_t uploads() const { return uploads_; }

 private:
  unsigned name_ = 0;
  int width_ = 0, height_ = 0;
  uint64_t uploads_ = 0;
};

}  // namespace gatescope::workbench
