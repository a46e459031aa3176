#include "sweep_guard/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/input_error.hpp"
#include "common/number_text.hpp"
#include "results_format/reader.hpp"
#include "sweep_guard/case_progress.hpp"
#include "sweep_guard/prior_results.hpp"

namespace p4s::sweep_guard {
namespace {

using json = nlohmann::ordered_json;

// The signal the supervisor itself was asked to stop by (0: none).
volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int signal) { g_stop_signal = signal; }

std::optional<uint64_t> read_oom_kill_count() {
  std::ifstream in("/proc/vmstat");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return oom_kill_count(text.str());
}

// The child's stderr, passed through line by line, its last non-empty line kept.
class StderrRelay {
 public:
  void take(const char* data, size_t n) {
    std::cerr.write(data, static_cast<std::streamsize>(n));
    std::cerr.flush();
    for (size_t i = 0; i < n; ++i) {
      if (data[i] == '\n') {
        end_line();
      } else if (partial_.size() < 4096) {
        partial_ += data[i];
      }
    }
  }
  std::string last_line() {
    end_line();
    return last_;
  }

 private:
  void end_line() {
    if (partial_.find_first_not_of(" \t\r") != std::string::npos) last_ = partial_;
    partial_.clear();
  }
  std::string partial_, last_;
};

std::string one_line(std::string s, size_t most) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  const size_t b = s.find_first_not_of(' ');
  s = b == std::string::npos ? std::string() : s.substr(b, s.find_last_not_of(' ') - b + 1);
  if (s.size() > most) s = s.substr(0, most - 3) + "...";
  return s;
}

size_t entries_in(const std::string& results_path) {
  if (::access(results_path.c_str(), F_OK) != 0) return 0;
  return read_prior_results(results_path).entries.size();
}

// Starts the child with its stderr on a pipe; returns its pid and the pipe's read end.
std::pair<pid_t, int> start_child(const SupervisorOptions& o, bool resume) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("cannot make a pipe: ") + std::strerror(errno));
  std::vector<char*> argv;
  std::vector<std::string> args = o.child_args;
  if (resume) args.push_back(o.resume_arg);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  // Made before the fork: the child may only write it.
  const std::string exec_failed = o.program + ": cannot start the sweep's process\n";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot start the sweep's process: ") + std::strerror(errno));
  if (pid == 0) {
    // The child dies with its supervisor, so that no orphaned sweep goes on measuring.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(o.executable.c_str(), argv.data());
    (void)!::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Waits for the child, relaying its stderr and running the watchdog over the case in progress.
ChildEnd watch_child(pid_t pid, int err_fd, const SupervisorOptions& o) {
  using clock = std::chrono::steady_clock;
  ChildEnd end;
  StderrRelay relay;
  std::optional<std::string> running;
  clock::time_point since = clock::now();
  bool open = true, exited = false;
  char buf[4096];
  while (open || !exited) {
    if (open) {
      pollfd p{err_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        const ssize_t n = ::read(err_fd, buf, sizeof buf);
        if (n > 0) relay.take(buf, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR) open = false;
      }
    } else {
      ::usleep(20000);
    }
    if (!exited) {
      const pid_t r = ::waitpid(pid, &end.wait_status, WNOHANG);
      if (r == pid) exited = true;
    }
    if (g_stop_signal != 0 && !exited) ::kill(pid, g_stop_signal);
    if (!exited && o.case_timeout_s && !end.stopped_by_watchdog) {
      const std::optional<std::string> now = read_case_progress(o.progress_path);
      if (now != running) {
        running = now;
        since = clock::now();
      } else if (running && std::chrono::duration<double>(clock::now() - since).count() > *o.case_timeout_s) {
        end.stopped_by_watchdog = true;
        end.case_timeout_s = *o.case_timeout_s;
        ::kill(pid, SIGKILL);
      }
    }
  }
  ::close(err_fd);
  end.last_stderr_line = relay.last_line();
  return end;
}

}  // namespace

std::string signal_name(int signal) {
  switch (signal) {
    case SIGKILL: return "SIGKILL";
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGPIPE: return "SIGPIPE";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    default: return "signal " + std::to_string(signal);
  }
}

std::string death_message(const ChildEnd& end) {
  if (end.stopped_by_watchdog) {
    std::ostringstream t;
    t << end.case_timeout_s;
    return "timed out: still running after " + t.str() + " s (--p4s_case_timeout)";
  }
  const std::string last = one_line(end.last_stderr_line, 300);
  if (!WIFSIGNALED(end.wait_status)) return "ended with exit status " + std::to_string(WEXITSTATUS(end.wait_status));
  const int sig = WTERMSIG(end.wait_status);
  if (sig == SIGKILL) {
    if (!end.oom_kill_seen) return "out of memory (killed by SIGKILL; presumed: this kernel counts no OOM kills)";
    return *end.oom_kill_seen ? "out of memory (killed by SIGKILL)" : "killed by SIGKILL";
  }
  if (sig == SIGABRT) return last.empty() ? "aborted" : "aborted: " + last;
  return "crashed (" + signal_name(sig) + ")" + (last.empty() ? "" : ": " + last);
}

std::optional<uint64_t> oom_kill_count(const std::string& vmstat_text) {
  std::istringstream in(vmstat_text);
  std::string key, value;
  while (in >> key >> value)
    if (key == "oom_kill") return parse_integer<uint64_t>(value);
  return std::nullopt;
}

std::string died_case_entry(const std::string& case_name, const std::string& message) {
  const std::string run_name = case_name + "/manual_time";
  json e = {{"name", run_name},           {"run_name", run_name},     {"run_type", "iteration"},
            {"repetitions", 1},           {"repetition_index", 0},    {"threads", 1},
            {"error_occurred", true},     {"error_message", message}, {"iterations", 0},
            {"real_time", 0.0},           {"cpu_time", 0.0},          {"time_unit", "ms"}};
  return e.dump(2);
}

void record_died_case(const std::string& results_path, const std::string& case_name, const std::string& message) {
  std::string text;
  try {
    text = read_file(results_path);
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
  json doc;
  try {
    doc = json::parse(results::null_nonfinite_tokens(text));
  } catch (const json::exception&) {
    throw InputError(results_path, "", "not valid JSON: cannot record the case that died");
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    throw InputError(results_path, "field \"benchmarks\"", "missing or not a list: cannot record the case that died");
  doc["benchmarks"].push_back(json::parse(died_case_entry(case_name, message)));
  write_file_atomically(results_path, doc.dump(2) + "\n");
}

int supervise(const SupervisorOptions& o) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &sa, nullptr);
  for (int start = 1;; ++start) {
    // A first start that does not resume writes the file afresh.
    const bool resume = start > 1 || o.resume_first;
    const size_t entries_before = resume ? entries_in(o.results_path) : 0;
    std::remove(o.progress_path.c_str());
    const std::optional<uint64_t> ooms_before = read_oom_kill_count();
    const auto [pid, err_fd] = start_child(o, resume);
    ChildEnd end = watch_child(pid, err_fd, o);
    const std::optional<uint64_t> ooms_after = read_oom_kill_count();
    if (ooms_before && ooms_after) end.oom_kill_seen = *ooms_after > *ooms_before;
    if (g_stop_signal != 0) {
      std::cerr << o.program << ": stopped by " << signal_name(g_stop_signal) << "; run again with --p4s_resume to go on\n";
      return 128 + g_stop_signal;
    }
    if (WIFEXITED(end.wait_status) && !end.stopped_by_watchdog) return WEXITSTATUS(end.wait_status);
    const int sig = WIFSIGNALED(end.wait_status) ? WTERMSIG(end.wait_status) : 0;
    if (!end.stopped_by_watchdog && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)) {
      std::cerr << o.program << ": the sweep's process was stopped by " << signal_name(sig)
                << "; run again with --p4s_resume to go on\n";
      return 128 + sig;
    }
    const std::string message = death_message(end);
    const std::optional<std::string> in_case = read_case_progress(o.progress_path);
    // The file as the child left it, read once: the cases it holds and its entries.
    std::optional<PriorResults> left;
    if (::access(o.results_path.c_str(), F_OK) == 0) left = read_prior_results(o.results_path);
    if (in_case && left && left->done.count(*in_case) == 0) {
      record_died_case(o.results_path, *in_case, message);
      std::cerr << o.program << ": " << *in_case << ": " << message << "; recorded, the sweep goes on (start " << start + 1
                << ")\n";
      continue;
    }
    if (left && left->entries.size() > entries_before) {
      std::cerr << o.program << ": the sweep's process died between cases (" << message << "); the sweep goes on\n";
      continue;
    }
    std::cerr << o.program << ": the sweep's process died outside any case (" << message
              << ") with no case finished since it started; stopping\n";
    return 1;
  }
}

}  // namespace p4s::sweep_guard
