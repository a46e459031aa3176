// A `p4s` subcommand: its name, a one-line summary, and its entry point. Entry points get the
// arguments after the subcommand's name and return the process exit status; they throw
// p4s::InputError for bad input, and run_command turns what they throw into a status.
#pragma once

#include <string>
#include <vector>

#include "common/input_error.hpp"

namespace p4s::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
// A check found what it guards against (p4s fit --check, p4s compare --threshold).
inline constexpr int kExitCheckFailed = 3;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

// Runs `run` on `args`: its own status, or for what it throws one line "<label>: <what>" on
// stderr and kExitBadInput for an InputError, kExitFailure for anything else. The one place
// where exceptions become exit statuses.
int run_command(const std::string& label, int (*run)(const std::vector<std::string>& args),
                const std::vector<std::string>& args);

}  // namespace p4s::cli
