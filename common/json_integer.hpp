// A JSON number as an integer of a given type, checked before converting: nlohmann's get<Int>()
// converts a float (1e308) with undefined behaviour and wraps an integer beyond the type.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

namespace p4s {

// The value as an Int, or nullopt: not an integer (a float, a string, ...), or outside Int's
// range.
template <typename Int>
std::optional<Int> json_integer(const nlohmann::json& v) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  using Limits = std::numeric_limits<Int>;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(Limits::max())) return std::nullopt;
    return static_cast<Int>(u);
  }
  if (!v.is_number_integer()) return std::nullopt;
  const int64_t i = v.get<int64_t>();
  if constexpr (std::is_unsigned_v<Int>) {
    if (i < 0 || static_cast<uint64_t>(i) > static_cast<uint64_t>(Limits::max())) return std::nullopt;
  } else {
    if (i < static_cast<int64_t>(Limits::min()) || i > static_cast<int64_t>(Limits::max())) return std::nullopt;
  }
  return static_cast<Int>(i);
}

}  // namespace p4s
