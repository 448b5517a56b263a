#pragma once

#include <filesystem>

#include "analysis/core/image.hpp"

namespace gatescope {

// Reads an 8- or 16-bit gray, RGB or palette PNG as a 2D volume: i = column, j = row (row 0 is
// the top of the picture), one slice. Gray -> 1 channel, RGB -> 3 channels, palette -> the palette
// indices (label images). Alpha is dropped. PNG has no voxel spacing: pixels are 1 mm (the pHYs
// density is a display resolution - often a default 72 dpi - and goes to header.png_dpi).
[[nodiscard]] Image readPng(const std::filesystem::path& path);

// Writes a one-slice uint8/uint16 volume with 1 (gray), 3 (RGB) or 4 (RGBA) channels, atomically,
// with a pHYs chunk when header.png_dpi is set (figures).
void writePng(const std::filesystem::path& path, const Image& image);

}  // namespace gatescope
