#pragma once

#include <filesystem>
#include <string>

#include "analysis/core/image.hpp"

namespace gatescope {

// Formats by file name (docs/image-io.md): .nii, .nii.gz (NIfTI-1/2), .png, and through ITK .nrrd,
// .nhdr (NRRD), .mha, .mhd (MetaImage) and .dcm or a folder (DICOM, read only). Anything else is a
// FormatError that lists what is supported.
[[nodiscard]] bool isSupportedImageName(const std::filesystem::path& path);
// True for the formats that are read and written (not DICOM).
[[nodiscard]] bool isWritableImageName(const std::filesystem::path& path);

struct ImageReadOptions {
  std::string dicom_series;  // SeriesInstanceUID, where a DICOM folder holds several series
};
[[nodiscard]] Image readImage(const std::filesystem::path& path,
                              const ImageReadOptions& options = {});
void writeImage(const std::filesystem::path& path, const Image& image);

}  // namespace gatescope
