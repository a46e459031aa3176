#include "cli/arguments.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>

#include <unistd.h>

#include "cli/command.hpp"
#include "common/number_text.hpp"

namespace p4s::cli {

Arguments::Arguments(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      positionals_.push_back(a);
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name = a.substr(0, eq);
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) throw InputError("unknown option \"" + name + "\"");
    std::string value;
    if (!spec->takes_value) {
      if (eq != std::string::npos) throw InputError(name + " takes no value");
    } else if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else {
      if (i + 1 >= args.size()) throw InputError(name + ": missing value");
      value = args[++i];
    }
    auto& v = values_[name];
    if (!v.empty() && !spec->repeatable) throw InputError(name + ": given twice");
    v.push_back(value);
  }
}

const std::string& Arguments::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw InputError(name + " is required");
  return it->second.front();
}

std::vector<std::string> Arguments::values(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t parse_positive_int(const std::string& text, const std::string& what) {
  const std::optional<uint64_t> v = parse_integer<uint64_t>(text);
  if (!v || *v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw InputError(what + ": \"" + text + "\" is not a positive integer");
  if (*v == 0) throw InputError(what + ": must be positive, got " + text);
  return static_cast<int64_t>(*v);
}

std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what, int64_t max_value) {
  std::vector<int64_t> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const int64_t v = parse_positive_int(text.substr(start, comma - start), what);
    if (v > max_value) throw InputError(what + ": " + std::to_string(v) + " is more than " + std::to_string(max_value));
    out.push_back(v);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

namespace {

// The folder a path is in ("." for a bare name).
std::string folder_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? std::string(".") : parent;
}

void check_writable_folder(const std::string& folder, const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec))
    throw InputError(what + " " + path + ": the folder " + folder + " does not exist");
  if (::access(folder.c_str(), W_OK) != 0)
    throw InputError(what + " " + path + ": cannot write in the folder " + folder + ": " + std::strerror(errno));
}

}  // namespace

void check_output_file(const std::string& path, const std::string& what) {
  if (path.empty()) throw InputError(what + ": the file name is empty");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(what + " " + path + ": is a folder, not a file");
  check_writable_folder(folder_of(path), path, what);
}

void check_output_folder(const std::string& path, const std::string& what) {
  if (path.empty()) throw InputError(what + ": the folder name is empty");
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    if (!std::filesystem::is_directory(path, ec)) throw InputError(what + " " + path + ": is a file, not a folder");
    check_writable_folder(path, path, what);
    return;
  }
  check_writable_folder(folder_of(path), path, what);
}

double parse_bytes(const std::string& text, const std::string& what) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || text.empty() || !std::isfinite(v) || v <= 0)
    throw InputError(what + ": \"" + text + "\" is not a positive size in bytes");
  std::string suffix(end);
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1;
  if (!suffix.empty()) {
    const char k = suffix[0];
    scale = k == 'K' ? 1024.0 : k == 'M' ? 1048576.0 : k == 'G' ? 1073741824.0 : k == 'T' ? 1099511627776.0 : 0;
    const std::string rest = suffix.substr(1);
    if (scale == 0 || !(rest.empty() || rest == "B" || rest == "IB"))
      throw InputError(what + ": unknown size suffix in \"" + text + "\" (use K, M, G or T)");
  }
  const double bytes = v * scale;
  if (bytes > 1e18) throw InputError(what + ": " + text + " is absurdly large");
  return bytes;
}

}  // namespace p4s::cli
