// Bad input: a file, a field in it or a command-line argument that the project cannot use.
// Every reader throws InputError; the command lines map it to exit status 2 in one place and
// print what() as the one line a user reads, so it names the file, the field and the problem.
// Other exceptions (std::logic_error and friends) are programming errors or failures of the
// environment (a disk that is full), never a user's mistake.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace p4s {

// `text` with every ASCII control character (a byte below 0x20, or 0x7f) written as \xNN, so
// that a message quoting outside text (a name read from a file, a path) stays on one line.
// Other bytes, UTF-8 included, are kept.
std::string printable(std::string_view text);

class InputError : public std::runtime_error {
 public:
  // "<source>: <where>: <problem>", or "<source>: <problem>" when `where` is empty. `source`
  // names the file or the flag; `where` the field, entry or layer (`field "classes"`).
  InputError(const std::string& source, const std::string& where, const std::string& problem);
  // A message already composed ("<file>: <field>: <problem>").
  explicit InputError(const std::string& message);

  const std::string& source() const { return source_; }  // empty for a composed message
  const std::string& where() const { return where_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string source_, where_, problem_;
};

}  // namespace p4s
