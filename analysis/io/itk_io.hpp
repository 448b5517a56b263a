#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/core/image.hpp"

namespace gatescope {

// NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd) and DICOM through ITK (docs/image-io.md). ITK works
// in LPS world coordinates; these functions convert to and from gatescope's RAS, so an image read
// here has the same world coordinates as the same image read from NIfTI.

// Built without ITK (-DGATESCOPE_ITK=OFF), the functions below throw a FormatError that says so.

// Reads a NRRD or MetaImage file: 2D, 3D or 4D (the 4th axis, or the components of a vector
// pixel, become channels). Header checks and the file sizes are verified before the voxels are
// allocated; a header that names a missing data file is a FormatError naming both.
[[nodiscard]] Image readItkImage(const std::filesystem::path& path);

// Writes NRRD or MetaImage atomically (a detached header's data file is moved into place before
// the header). .nrrd and .mha are gzip/zlib-compressed, .nhdr and .mhd write an uncompressed raw
// file beside the header. A scaled image is written with its real values (docs/image-io.md).
void writeItkImage(const std::filesystem::path& path, const Image& image);

// The DICOM series found in a folder (files that are not DICOM are skipped).
struct DicomSeriesInfo {
  std::string uid;  // SeriesInstanceUID
  std::string description;
  std::string modality;
  int64_t files = 0;
};
[[nodiscard]] std::vector<DicomSeriesInfo> listDicomSeries(const std::filesystem::path& folder);

// Reads one DICOM series from a folder (or a single DICOM file): slices sorted by their position
// along the slice normal, rescale slope and intercept applied, evenly spaced slices required.
// `series_uid` picks the series where the folder holds several (empty: there must be one).
[[nodiscard]] Image readDicom(const std::filesystem::path& path,
                              const std::string& series_uid = {});

}  // namespace gatescope
