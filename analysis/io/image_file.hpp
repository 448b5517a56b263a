#pragma once

#include <filesystem>

#include "analysis/core/image.hpp"

namespace gatescope {

// Formats by file name: .nii, .nii.gz (NIfTI-1/2), .png. Anything else is a FormatError that
// lists what is supported.
[[nodiscard]] bool isSupportedImageName(const std::filesystem::path& path);
[[nodiscard]] Image readImage(const std::filesystem::path& path);
void writeImage(const std::filesystem::path& path, const Image& image);

}  // namespace gatescope
