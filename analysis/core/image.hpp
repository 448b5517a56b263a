#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

// Voxel datatypes gatescope reads and writes (names as numpy/nibabel spell them).
enum class DataType { UInt8, Int8, Int16, UInt16, Int32, Float32, Float64 };

[[nodiscard]] const char* dataTypeName(DataType type);
[[nodiscard]] bool isIntegerType(DataType type);
[[nodiscard]] int bytesPerValue(DataType type);

using AnyVolume = std::variant<Volume<uint8_t>, Volume<int8_t>, Volume<int16_t>, Volume<uint16_t>,
                               Volume<int32_t>, Volume<float>, Volume<double>>;

template <typename T>
[[nodiscard]] constexpr DataType dataTypeOf();
template <>
constexpr DataType dataTypeOf<uint8_t>() {
  return DataType::UInt8;
}
template <>
constexpr DataType dataTypeOf<int8_t>() {
  return DataType::Int8;
}
template <>
constexpr DataType dataTypeOf<int16_t>() {
  return DataType::Int16;
}
template <>
constexpr DataType dataTypeOf<uint16_t>() {
  return DataType::UInt16;
}
template <>
constexpr DataType dataTypeOf<int32_t>() {
  return DataType::Int32;
}
template <>
constexpr DataType dataTypeOf<float>() {
  return DataType::Float32;
}
template <>
constexpr DataType dataTypeOf<double>() {
  return DataType::Float64;
}

// Stored value -> real value: slope * stored + intercept (NIfTI scl_slope / scl_inter).
struct Scaling {
  double slope = 1.0;
  double intercept = 0.0;
  [[nodiscard]] bool isIdentity() const { return slope == 1.0 && intercept == 0.0; }
};

enum class ImageFormat { Nifti1, Nifti2, Png, Nrrd, MetaImage, Dicom };
[[nodiscard]] const char* imageFormatName(ImageFormat format);

// Everything a file says besides its voxels.
struct ImageHeader {
  ImageFormat format = ImageFormat::Nifti1;
  bool compressed = false;
  // The file's own dims (1 to 4 entries), e.g. {512, 512} for a 2D image, {96, 96, 48, 3} for 4D.
  std::vector<int64_t> file_dims;
  Scaling scaling;
  int qform_code = 0;  // NIfTI codes; 0 when the file has none (PNG)
  int sform_code = 0;
  // Voxel-to-world matrix exactly as the file's qform/sform gives it (may contain shear).
  Affine affine{};
  std::string description;
  double time_step = 0.0;  // pixdim[4] of 4D NIfTI, kept on write
  double png_dpi = 0.0;    // PNG pHYs density (display/print resolution, not voxel spacing)
};

// An image as read from a file: voxels in their stored datatype plus the header.
struct Image {
  AnyVolume voxels;
  ImageHeader header;

  [[nodiscard]] DataType dataType() const;
  [[nodiscard]] const Geometry& geometry() const;
  [[nodiscard]] int64_t channels() const;
};

// Real (scaled) values as float, applying the header's scaling.
[[nodiscard]] Volume<float> toFloatVolume(const Image& image);
// Real (scaled) values as double.
[[nodiscard]] Volume<double> toDoubleVolume(const Image& image);
// Integer labels. Float images are accepted only when every value is an integer; scaled images
// only when the scaled values are integers. `source` names the file in errors.
[[nodiscard]] Volume<int32_t> toLabelVolume(const Image& image, const std::string& source);

// An Image wrapping a volume, with a header describing it (for writing).
template <typename T>
[[nodiscard]] Image makeImage(Volume<T> volume, ImageFormat format = ImageFormat::Nifti1) {
  Image image{AnyVolume(std::move(volume)), {}};
  const auto& v = std::get<Volume<T>>(image.voxels);
  image.header.format = format;
  image.header.file_dims = {v.dims()[0], v.dims()[1], v.dims()[2]};
  if (v.channels() > 1) image.header.file_dims.push_back(v.channels());
  image.header.affine = v.geometry().affine();
  image.header.qform_code = image.header.sform_code = 2;  // NIFTI_XFORM_ALIGNED_ANAT
  return image;
}

}  // namespace gatescope
