#include "common/input_error.hpp"

namespace p4s {

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

InputError::InputError(const std::string& source, const std::string& where, const std::string& problem)
    : std::runtime_error(printable(source) + ": " + (where.empty() ? "" : printable(where) + ": ") +
                         printable(problem)),
      source_(printable(source)),
      where_(printable(where)),
      problem_(printable(problem)) {}

InputError::InputError(const std::string& message)
    : std::runtime_error(printable(message)), problem_(printable(message)) {}

}  // namespace p4s
