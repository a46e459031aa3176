// Outside text (names read from files, paths, command-line arguments) as error messages quote
// it. Errors are one line, so a name that holds a newline must not break one in two.
#pragma once

#include <string>
#include <string_view>

namespace p4s::modelgen {

// `text` with every ASCII control character (a byte below 0x20, or 0x7f) written as \xNN, so
// that a message quoting it stays on one line. Other bytes, UTF-8 included, are kept.
std::string printable(std::string_view text);

}  // namespace p4s::modelgen
