// Strict parsing of numbers given as text (command-line values, names, file fields): the whole
// text, nothing around it.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace p4s {

// The whole text as a finite decimal number, or nullopt (empty, leading space, trailing
// characters, out of double's range, NaN or infinity).
std::optional<double> parse_finite_number(const std::string& text);

// The whole text as a decimal integer of type Int, or nullopt: empty, a sign other than a
// leading '-' (none at all for an unsigned Int), a space or any other character, or a value
// outside Int's range.
template <typename Int>
std::optional<Int> parse_integer(std::string_view text) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  if (text.empty()) return std::nullopt;
  Int v{};
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || stop != end) return std::nullopt;
  return v;
}

}  // namespace p4s
