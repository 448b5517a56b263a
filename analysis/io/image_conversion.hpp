#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "analysis/core/image.hpp"

namespace gatescope {

// "uint8", "int16", "float32", ... (dataTypeName's spelling) -> the type; nullopt otherwise.
[[nodiscard]] std::optional<DataType> dataTypeFromName(std::string_view name);

// The image's real values (scaling applied, then dropped) stored as `type`, with the same grid and
// header otherwise. An integer type takes only integers within its range: anything else is a
// FormatError naming `source` and the first value that does not fit.
[[nodiscard]] Image withDataType(const Image& image, DataType type, const std::string& source);

}  // namespace gatescope
