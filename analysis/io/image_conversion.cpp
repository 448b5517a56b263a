#include "analysis/io/image_conversion.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "analysis/core/error.hpp"

namespace gatescope {

std::optional<DataType> dataTypeFromName(std::string_view name) {
  for (DataType type : {DataType::UInt8, DataType::Int8, DataType::Int16, DataType::UInt16,
                        DataType::Int32, DataType::Float32, DataType::Float64})
    if (name == dataTypeName(type)) return type;
  return std::nullopt;
}

namespace {

template <typename T>
AnyVolume storedAs(const Volume<double>& real, const std::string& source) {
  if constexpr (std::is_integral_v<T>) {
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    const auto values = real.values();
    for (size_t n = 0; n < values.size(); ++n) {
      const double x = values[n];
      if (x != std::nearbyint(x) || x < lo || x > hi)
        throw FormatError(fmt::format(
            "{}: value {} (voxel {}) is not {} {}; choose a wider or "
            "floating-point datatype",
            source, x, n, x == std::nearbyint(x) ? "within the range of" : "an integer for",
            dataTypeName(dataTypeOf<T>())));
    }
  }
  return convertVolume<T>(real);
}

}  // namespace

Image withDataType(const Image& image, DataType type, const std::string& source) {
  const Volume<double> real = toDoubleVolume(image);
  Image out;
  out.header = image.header;
  out.header.scaling = {};
  switch (type) {
    case DataType::UInt8:
      out.voxels = storedAs<uint8_t>(real, source);
      break;
    case DataType::Int8:
      out.voxels = storedAs<int8_t>(real, source);
      break;
    case DataType::Int16:
      out.voxels = storedAs<int16_t>(real, source);
      break;
    case DataType::UInt16:
      out.voxels = storedAs<uint16_t>(real, source);
      break;
    case DataType::Int32:
      out.voxels = storedAs<int32_t>(real, source);
      break;
    case DataType::Float32:
      out.voxels = storedAs<float>(real, source);
      break;
    case DataType::Float64:
      out.voxels = storedAs<double>(real, source);
      break;
  }
  return out;
}

}  // namespace gatescope
