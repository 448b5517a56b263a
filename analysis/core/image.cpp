#include "analysis/core/image.hpp"

#include <cmath>
#include <limits>

namespace gatescope {

const char* dataTypeName(DataType type) {
  switch (type) {
    case DataType::UInt8:
      return "uint8";
    case DataType::Int8:
      return "int8";
    case DataType::Int16:
      return "int16";
    case DataType::UInt16:
      return "uint16";
    case DataType::Int32:
      return "int32";
    case DataType::Float32:
      return "float32";
    case DataType::Float64:
      return "float64";
  }
  return "unknown";
}

bool isIntegerType(DataType type) {
  return type != DataType::Float32 && type != DataType::Float64;
}

int bytesPerValue(DataType type) {
  switch (type) {
    case DataType::UInt8:
    case DataType::Int8:
      return 1;
    case DataType::Int16:
    case DataType::UInt16:
      return 2;
    case DataType::Int32:
    case DataType::Float32:
      return 4;
    case DataType::Float64:
      return 8;
  }
  return 0;
}

const char* imageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::Nifti1:
      return "nifti1";
    case ImageFormat::Nifti2:
      return "nifti2";
    case ImageFormat::Png:
      return "png";
    case ImageFormat::Nrrd:
      return "nrrd";
    case ImageFormat::MetaImage:
      return "metaimage";
    case ImageFormat::Dicom:
      return "dicom";
  }
  return "unknown";
}

DataType Image::dataType() const {
  return std::visit(
      [](const auto& v) { return dataTypeOf<typename std::decay_t<decltype(v)>::value_type>(); },
      voxels);
}

const Geometry& Image::geometry() const {
  return std::visit([](const auto& v) -> const Geometry& { return v.geometry(); }, voxels);
}

int64_t Image::channels() const {
  return std::visit([](const auto& v) { return v.channels(); }, voxels);
}

namespace {
template <typename Real>
Volume<Real> scaledVolume(const Image& image) {
  const Scaling s = image.header.scaling;
  return std::visit(
      [&](const auto& v) {
        Volume<Real> out(v.geometry(), v.channels());
        auto in = v.values();
        auto dst = out.values();
        if (s.isIdentity()) {
          for (size_t n = 0; n < in.size(); ++n) dst[n] = static_cast<Real>(in[n]);
        } else {
          for (size_t n = 0; n < in.size(); ++n)
            dst[n] = static_cast<Real>(s.slope * static_cast<double>(in[n]) + s.intercept);
        }
        return out;
      },
      image.voxels);
}
}  // namespace

Volume<float> toFloatVolume(const Image& image) {
  return scaledVolume<float>(image);
}
Volume<double> toDoubleVolume(const Image& image) {
  return scaledVolume<double>(image);
}

Volume<int32_t> toLabelVolume(const Image& image, const std::string& source) {
  if (isIntegerType(image.dataType()) && image.header.scaling.isIdentity())
    return std::visit([](const auto& v) { return convertVolume<int32_t>(v); }, image.voxels);
  const Volume<double> real = toDoubleVolume(image);
  Volume<int32_t> out(real.geometry(), real.channels());
  auto in = real.values();
  auto dst = out.values();
  for (size_t n = 0; n < in.size(); ++n) {
    const double value = in[n];
    if (!std::isfinite(value) || value != std::round(value) ||
        std::abs(value) > std::numeric_limits<int32_t>::max())
      throw FormatError(source + ": not a label image: voxel " + std::to_string(n) +
                        " has the non-integer value " + std::to_string(value));
    dst[n] = static_cast<int32_t>(value);
  }
  return out;
}

}  // namespace gatescope
