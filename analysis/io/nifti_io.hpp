#pragma once

#include <filesystem>

#include "analysis/core/image.hpp"

namespace gatescope {

// Reads a NIfTI-1 or NIfTI-2 file (.nii or .nii.gz). Header checks (datatype, dims, size against
// the file) happen before the voxel buffer is allocated. World geometry follows nibabel: the
// sform when its code is set, else the qform, else nibabel's fallback affine.
[[nodiscard]] Image readNifti(const std::filesystem::path& path);
// Header only: dims, datatype, geometry, scaling - without reading the voxels.
[[nodiscard]] ImageHeader readNiftiHeader(const std::filesystem::path& path);

// Writes `image` as NIfTI (gzip-compressed when the name ends in .gz), atomically. NIfTI-2 is
// written when the header asks for it or when a dimension exceeds NIfTI-1's 32767 limit.
void writeNifti(const std::filesystem::path& path, const Image& image);

}  // namespace gatescope
