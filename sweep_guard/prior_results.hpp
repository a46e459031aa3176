// Resuming a sweep: what an existing results file already holds. A results file is Google
// Benchmark JSON as the bench writes it (complete after every case, bench/checkpoint_reporter);
// the cases it holds are not run again, its entries are kept as they are, and its context must
// match the new run's where it matters, so that one file never mixes two setups.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace p4s::sweep_guard {

struct PriorResults {
  // Context values as text (non-string values as their JSON), keyed by name.
  std::map<std::string, std::string> context;
  // Each entry of "benchmarks" as JSON text, in file order, unchanged in meaning.
  std::vector<std::string> entries;
  // The cases the file holds, by the bench's case name (run_name without Google Benchmark's
  // parts): a case reported is done, whether it ran, ran out of memory or failed.
  std::set<std::string> done;
};

// Reads a results file. Throws InputError (one line naming the file and the field) when it is
// not JSON, has no "benchmarks" list, or an entry has no name.
PriorResults read_prior_results(const std::string& path);
// The same, from the file's text (`source` names it in errors).
PriorResults parse_prior_results(std::string_view text, const std::string& source);

// The bench's case name of a run: Google Benchmark's parts removed from its end
// ("Net/resnet18/bs:8/opt:adam/manual_time/repeats:3" -> "Net/resnet18/bs:8/opt:adam").
std::string case_name_of_run(std::string_view run_name);

// The bench's context keys that say how the file came about rather than what it measured (the
// device's state, how often the sweep was resumed): they may differ on a resume.
bool is_run_state_key(std::string_view key);

// The first context key that matters whose value differs (every "p4s_" key but the run state,
// and the host name), as "<key>: \"<old>\" in the file, \"<new>\" now"; nullopt when none does.
// A key missing on one side differs; its value is then written "(none)".
std::optional<std::string> context_difference(const std::map<std::string, std::string>& in_file,
                                              const std::map<std::string, std::string>& now);

// The context key counting the resumes of a sweep into one file.
inline constexpr const char* kResumesKey = "p4s_resumes";

}  // namespace p4s::sweep_guard
