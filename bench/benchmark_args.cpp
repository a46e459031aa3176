#include "bench/benchmark_args.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bench/options.hpp"
#include "common/number_text.hpp"

namespace p4s::bench {
namespace {

constexpr const char* kGbPrefix = "--benchmark_";
constexpr double kMaxSeconds = 86400;  // a case that needs more than a day is a typo

[[noreturn]] void bad(const std::string& name, const std::string& value, const std::string& problem) {
  throw InputError("--" + name + "=" + value + ": " + problem);
}

// The whole text as a decimal integer within [lo, hi], or nullopt.
std::optional<long> integer(const std::string& text, long lo, long hi) {
  const std::optional<long> v = parse_integer<long>(text);
  if (!v || *v < lo || *v > hi) return std::nullopt;
  return v;
}

void check_format(const std::string& name, const std::string& value) {
  if (value != "console" && value != "json" && value != "csv") bad(name, value, "not a format (console, json or csv)");
}

void check_output_file(const std::string& value) {
  namespace fs = std::filesystem;
  if (value.empty()) bad("benchmark_out", value, "needs a file name");
  std::error_code ec;
  if (fs::is_directory(value, ec)) bad("benchmark_out", value, "is a folder, not a file");
  const fs::path parent = fs::path(value).parent_path();
  const std::string folder = parent.empty() ? std::string(".") : parent.string();
  if (!fs::is_directory(folder, ec)) bad("benchmark_out", value, "the folder " + folder + " does not exist");
  if (::access(folder.c_str(), W_OK) != 0)
    bad("benchmark_out", value, "cannot write in the folder " + folder + ": " + std::strerror(errno));
}

}  // namespace

BenchmarkEnvironment benchmark_environment() {
  return BenchmarkEnvironment{std::getenv("BENCHMARK_OUT"), std::getenv("BENCHMARK_OUT_FORMAT")};
}

BenchmarkArgs check_benchmark_args(const std::vector<std::string>& user_args, const BenchmarkEnvironment& env) {
  BenchmarkArgs out;
  std::optional<std::string> out_file = env.out ? std::optional<std::string>(env.out) : std::nullopt;
  std::string out_format = env.out_format ? env.out_format : "json";
  bool out_flag = false, format_flag = false;
  for (const std::string& arg : user_args) {
    out.args.push_back(arg);
    const size_t eq = arg.find('=');
    const bool gb = arg.compare(0, std::strlen(kGbPrefix), kGbPrefix) == 0 || arg.compare(0, 4, "--v=") == 0;
    if (!gb || eq == std::string::npos) continue;  // Google Benchmark's to take or refuse
    const std::string name = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    if (name == "benchmark_filter") {
      out.filter = v;
    } else if (name == "benchmark_format") {
      check_format(name, v);
    } else if (name == "benchmark_out_format") {
      check_format(name, v);
      out_format = v;
      format_flag = true;
    } else if (name == "benchmark_out") {
      check_output_file(v);
      out_file = v;
      out_flag = true;
    } else if (name == "benchmark_repetitions") {
      if (!integer(v, 1, 1000000)) bad(name, v, "not a whole number from 1 to 1000000");
    } else if (name == "benchmark_min_time") {
      const std::optional<double> sec = parse_finite_number(v);
      if (!sec || *sec <= 0 || *sec > kMaxSeconds) bad(name, v, "not a number of seconds above 0 and at most 86400");
    } else if (name == "benchmark_min_warmup_time") {
      const std::optional<double> sec = parse_finite_number(v);
      if (!sec || *sec < 0 || *sec > kMaxSeconds) bad(name, v, "not a number of seconds from 0 to 86400");
    } else if (name == "benchmark_time_unit") {
      if (v != "ns" && v != "us" && v != "ms" && v != "s") bad(name, v, "not ns, us, ms or s");
    } else if (name == "benchmark_color") {
      if (v.empty()) bad(name, v, "needs a value (auto, true or false)");
    } else if (name == "v") {
      if (!integer(v, -1000, 1000)) bad(name, v, "not a verbosity level (a whole number)");
    }
  }
  // An output file named only in the environment is checked as the flag would be.
  if (out_file && !out_flag && !out_file->empty()) {
    try {
      check_output_file(*out_file);
    } catch (const InputError& e) {
      throw InputError(std::string("BENCHMARK_OUT: ") + e.what());
    }
  }
  if (env.out_format && !format_flag) {
    try {
      check_format("benchmark_out_format", env.out_format);
    } catch (const InputError& e) {
      throw InputError(std::string("BENCHMARK_OUT_FORMAT: ") + e.what());
    }
  }
  if (out_file && !out_file->empty() && out_format == "json") {
    out.json_out = *out_file;
    out.args.push_back("--benchmark_out=/dev/null");
  }
  return out;
}

}  // namespace p4s::bench
