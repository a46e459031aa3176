// Strict parsing of numbers given as text (command-line values): the whole text, nothing
// around it.
#pragma once

#include <optional>
#include <string>

namespace p4s {

// The whole text as a finite decimal number, or nullopt (empty, leading space, trailing
// characters, out of double's range, NaN or infinity).
std::optional<double> parse_finite_number(const std::string& text);

}  // namespace p4s
