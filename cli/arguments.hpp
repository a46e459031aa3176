// Command-line arguments of p4s commands: `--name value`, `--name=value`, flags, repeatable
// options and positional arguments, with one-line errors (InputError) for anything else.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace p4s::cli {

struct OptionSpec {
  std::string name;          // with its dashes, e.g. "--out"
  bool takes_value = true;   // false: a flag
  bool repeatable = false;
};

class Arguments {
 public:
  // Throws InputError for unknown options, missing values, and repeats of a single option.
  Arguments(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The option's value; precondition: has(name) (else InputError saying it is required).
  const std::string& value(const std::string& name) const;
  std::vector<std::string> values(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

// A positive integer; InputError naming `what` otherwise.
int64_t parse_positive_int(const std::string& text, const std::string& what);
// "2,4,8" -> {2, 4, 8}: positive integers, at most `max_value` each.
std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what, int64_t max_value);
// A file a command is to write: its name not empty, not a folder, and its folder existing
// and writable. Checked before any work, so that a long fit does not end in a refusal.
// InputError naming `what` (the option) and the path otherwise.
void check_output_file(const std::string& path, const std::string& what);
// A folder a command is to write files in (made when missing): not a file, and its parent
// existing. InputError otherwise.
void check_output_folder(const std::string& path, const std::string& what);

// A size in bytes: a number with an optional suffix K, M, G, T (powers of 1024; "KiB",
// "MB", "GiB" ... accepted too, all binary). Positive and finite.
double parse_bytes(const std::string& text, const std::string& what);

}  // namespace p4s::cli
