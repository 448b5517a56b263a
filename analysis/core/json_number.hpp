#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

namespace gatescope {

// JSON has no NaN or infinity: reports write them as the strings "nan", "inf", "-inf"
// (docs/evaluation.md); every other value stays a JSON number. Reports use ordered_json so keys
// keep the order they are written in.
[[nodiscard]] inline nlohmann::ordered_json jsonNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

}  // namespace gatescope
