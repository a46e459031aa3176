// p4s: the command line of the torch-free side (fit, predict, evaluate, compare, nets).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace p4s::cli {
// Each command lives in its own file.
int run_nets(const std::vector<std::string>& args);
int run_fit(const std::vector<std::string>& args);
int run_predict(const std::vector<std::string>& args);
int run_compare(const std::vector<std::string>& args);
int run_evaluate(const std::vector<std::string>& args);
}  // namespace p4s::cli

namespace {

using p4s::cli::Command;

const Command kCommands[] = {
    {"fit", "learn memory and latency predictors from benchmark results", p4s::cli::run_fit},
    {"predict", "predict training-step memory and latency with a fitted model", p4s::cli::run_predict},
    {"evaluate", "judge fitted models on measurements they were not fitted on", p4s::cli::run_evaluate},
    {"nets", "list the built-in networks and export them as NetSpec files", p4s::cli::run_nets},
    {"compare", "compare two sets of benchmark results case by case, with significance tests",
     p4s::cli::run_compare},
};

void print_usage(std::FILE* to) {
  std::fprintf(to, "usage: p4s <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(to, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(to, "\n'p4s <command> --help' describes a command.\n");
}

// "fit, predict, evaluate, nets, compare".
std::string command_names() {
  std::string names;
  for (const Command& c : kCommands) names += std::string(names.empty() ? "" : ", ") + c.name;
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  // Bad input is one line, as everywhere; the usage is for --help.
  if (argc < 2) {
    std::fprintf(stderr, "p4s: give a command: %s (see 'p4s --help')\n", command_names().c_str());
    return p4s::cli::kExitBadInput;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return p4s::cli::kExitOk;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    return p4s::cli::run_command(std::string("p4s ") + c.name, c.run, args);
  }
  std::fprintf(stderr, "p4s: unknown command '%s': the commands are %s (see 'p4s --help')\n", name.c_str(),
               command_names().c_str());
  return p4s::cli::kExitBadInput;
}
