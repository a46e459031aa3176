// Crash isolation for a sweep: the sweep runs in a child process (the bench itself; after a
// death, resuming into its results file); when the child dies in a case (killed by the kernel's OOM killer, an
// abort in a driver or the framework, a crash, the case watchdog), the supervisor records that
// case in the results file as an error entry that says how it died, and starts the child again,
// which skips every case the file holds. The decisions (how a death reads, what its entry is)
// are pure functions; `supervise` is the process handling around them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p4s::sweep_guard {

// How the child ended, as waitpid said, with what the supervisor knew about it.
struct ChildEnd {
  int wait_status = 0;
  bool stopped_by_watchdog = false;    // the supervisor killed it: the case ran too long
  double case_timeout_s = 0;           // the watchdog's limit, when it stopped the case
  // Whether the kernel's OOM killer killed a process while the child ran (/proc/vmstat's
  // oom_kill went up); nullopt where the kernel does not count them.
  std::optional<bool> oom_kill_seen;
  std::string last_stderr_line;        // the child's last non-empty line on stderr
};

// A signal's name: "SIGKILL", "SIGSEGV", ..., else "signal <n>".
std::string signal_name(int signal);

// The error message of the case the child died in:
//   stopped by the watchdog:  "timed out: still running after <s> s (--p4s_case_timeout)"
//   SIGKILL, OOM kill seen:   "out of memory (killed by SIGKILL)"
//   SIGKILL, no OOM counter:  "out of memory (killed by SIGKILL; presumed: this kernel counts
//                             no OOM kills)"
//   SIGKILL, none counted:    "killed by SIGKILL"
//   SIGABRT:                  "aborted: <last stderr line>" ("aborted" without one)
//   another signal:           "crashed (<SIGNAME>): <last stderr line>"
// Only the messages that say "out of memory" make the case "did not fit" for `p4s fit`.
std::string death_message(const ChildEnd& end);

// /proc/vmstat's oom_kill counter, from its text; nullopt where it has none (kernels before 4.13).
std::optional<uint64_t> oom_kill_count(const std::string& vmstat_text);

// The error entry of a case that died, as Google Benchmark writes a failed case (the bench's
// cases use manual time, so the run name ends "/manual_time"), as JSON text.
std::string died_case_entry(const std::string& case_name, const std::string& message);

// Appends the entry of a case that died to the results file, atomically; throws InputError
// when the file is not a results file, std::runtime_error when it cannot be written.
void record_died_case(const std::string& results_path, const std::string& case_name, const std::string& message);

struct SupervisorOptions {
  std::string executable;               // the bench to run ("/proc/self/exe")
  std::vector<std::string> child_args;  // its arguments, argv[0] first
  // Whether the first start resumes into the results file (--p4s_resume given); every later
  // start does, with `resume_arg` added.
  bool resume_first = false;
  std::string resume_arg = "--p4s_resume";
  std::string results_path;             // the JSON results file the child writes
  std::string progress_path;            // the child's --p4s_progress file
  std::optional<double> case_timeout_s;
  std::string program = "bench";        // what its messages start with ("bench: ...")
};

// Runs the child until it ends on its own: returns its exit status (0 done, 2 bad input, ...).
// A death in a case is recorded and the child started again; a death outside any case with no
// case finished since the last start ends the supervision with status 1, and a child stopped by
// SIGINT, SIGTERM or SIGHUP (or a supervisor that got one) with 128 + the signal, nothing
// recorded. Says on stderr what happened; the child's stderr passes through.
int supervise(const SupervisorOptions& options);

}  // namespace p4s::sweep_guard
