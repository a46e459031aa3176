// A `p4s` subcommand: its name, a one-line summary, and its entry point. Entry points get the
// arguments after the subcommand's name and return the process exit status:
// 0 success, 2 bad input (a one-line reason already printed on stderr), 1 anything else.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace p4s::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
// A check found what it guards against (p4s fit --check, p4s compare --threshold).
inline constexpr int kExitCheckFailed = 3;

// Thrown by commands for bad input; main prints "p4s <command>: <what>" and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

}  // namespace p4s::cli
