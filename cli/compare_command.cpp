// `p4s compare OLD NEW`: two sets of Google Benchmark results, case by case, with a
// Mann-Whitney U test on every metric that has repetitions on both sides. The comparison
// itself is fit/compare.hpp; its table and JSON, fit/compare_report.hpp.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "common/number_text.hpp"
#include "compare/compare.hpp"
#include "compare/compare_report.hpp"
#include "results_format/reader.hpp"

namespace p4s::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: p4s compare [options] OLD NEW\n"
    "\n"
    "Compares two sets of Google Benchmark results (e.g. one device before and after a JetPack\n"
    "or LibTorch upgrade) case by case. OLD and NEW are each a result file, or a folder: every\n"
    "*.json file directly in it (JSON files there that hold no results, such as NetSpecs, are\n"
    "passed over and named). Cases are matched by name, Net/<net>/bs:<N> or a layer case,\n"
    "without Google Benchmark's own parts such as /manual_time or /repeats:5.\n"
    "\n"
    "Per case that ran on both sides, every metric present on both: latency_ms (real_time) and\n"
    "every numeric user counter (mem_alloc, mem_reserved, mem_used, kernel counters, ...), as the\n"
    "medians of the repetitions, their relative change, and a two-sided Mann-Whitney U test where\n"
    "both sides have at least 2 repetitions (exact when nothing is tied and a side has at most 8\n"
    "values, else the normal approximation with tie and continuity correction, as\n"
    "scipy.stats.mannwhitneyu). Then the geometric mean of new/old per metric, the cases on one\n"
    "side only, and the cases that did not fit in memory.\n"
    "\n"
    "options:\n"
    "  --alpha A        significance level, 0 < A < 1 (default 0.05)\n"
    "  --threshold PCT  exit with status 3 when a case that is on both sides got worse by more\n"
    "                   than PCT percent (PCT >= 0) on latency or a memory metric (larger is\n"
    "                   worse), significantly; or when it ran before and now does not (out of\n"
    "                   memory or another error). Where a metric cannot be tested (fewer than 2\n"
    "                   repetitions on a side, or too few to ever reach p < A, as with 3 + 3),\n"
    "                   the plain relative change of the medians decides, and the table marks\n"
    "                   it with ~\n"
    "  --metrics LIST   compare only these metrics, comma-separated (e.g. latency_ms,mem_alloc)\n"
    "  --json           print one JSON object (\"schema_version\": 1) instead of the table\n"
    "\n"
    "exit status: 0 compared (and no case worse than --threshold), 3 a case worse than\n"
    "--threshold, 2 bad input (a file, a folder or an option), 1 anything else.\n";

struct CompareArgs {
  std::vector<std::string> paths;
  compare::CompareOptions options;
  bool json = false;
};

std::vector<std::string> split_list(const std::string& flag, const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw InputError(flag + " " + text + ": an empty metric name");
    items.push_back(item);
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

CompareArgs parse_args(const std::vector<std::string>& args) {
  const Arguments parsed(args, {{"--alpha"}, {"--threshold"}, {"--metrics"}, {"--json", false}});
  CompareArgs a;
  a.paths = parsed.positionals();
  a.json = parsed.has("--json");
  if (parsed.has("--alpha")) {
    const std::string& text = parsed.value("--alpha");
    const std::optional<double> v = parse_finite_number(text);
    if (!v || !(*v > 0 && *v < 1)) throw InputError("--alpha " + text + ": must be a number between 0 and 1");
    a.options.alpha = *v;
  }
  if (parsed.has("--threshold")) {
    const std::string& text = parsed.value("--threshold");
    const std::optional<double> v = parse_finite_number(text);
    if (!v || *v < 0) throw InputError("--threshold " + text + ": must be a percentage >= 0");
    a.options.threshold_pct = *v;
  }
  if (parsed.has("--metrics")) a.options.metrics = split_list("--metrics", parsed.value("--metrics"));
  if (a.paths.size() != 2)
    throw InputError(a.paths.size() < 2 ? "give two result files or folders: OLD NEW"
                                        : "unexpected argument \"" + a.paths[2] + "\": give two result files or folders");
  return a;
}

// The result files a command-line path stands for: the file itself, or a folder's *.json
// files (not its subfolders: results/<device>/<stack>/netspecs/ holds NetSpecs), by name.
std::vector<std::string> result_files(const std::string& path, bool& is_folder) {
  std::error_code ec;
  is_folder = fs::is_directory(path, ec);
  if (!is_folder) return {path};  // read_runs names a missing or unreadable file
  std::vector<std::string> files;
  fs::directory_iterator it(path, ec);
  if (ec) throw InputError(path + ": cannot list the folder: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw InputError(path + ": cannot list the folder: " + ec.message());
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (files.empty()) throw InputError(path + ": the folder holds no *.json result files");
  std::sort(files.begin(), files.end());
  return files;
}

results::RunSet read_side(const std::string& path) {
  bool folder = false;
  const std::vector<std::string> files = result_files(path, folder);
  results::RunSet runs = results::read_runs(files, folder);
  if (runs.sources.empty())
    throw InputError(path + ": none of the folder's " + std::to_string(files.size()) +
                     " *.json files holds Google Benchmark output");
  return runs;
}

}  // namespace

int run_compare(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return kExitOk;
    }
  const CompareArgs a = parse_args(args);
  const results::RunSet old_runs = read_side(a.paths[0]);
  const results::RunSet new_runs = read_side(a.paths[1]);
  compare::Comparison c = compare::compare_runs(old_runs, new_runs, a.options);
  c.old_label = a.paths[0];
  c.new_label = a.paths[1];
  for (const std::string& m : a.options.metrics)
    if (!c.old_metrics.count(m) && !c.new_metrics.count(m))
      throw InputError("--metrics: no case has a metric \"" + m + "\" in " + a.paths[0] + " or " + a.paths[1]);
  if (a.json)
    // Context strings come from the files as they are; bytes that are not UTF-8 are replaced.
    std::printf("%s\n", compare::comparison_json(c).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else
    std::printf("%s", compare::comparison_table(c).c_str());
  return compare::compare_exit_status(c);
}

}  // namespace p4s::cli
