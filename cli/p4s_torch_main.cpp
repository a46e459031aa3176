// p4s-torch: the p4s commands that need LibTorch, which p4s itself does not link. `p4s nets
// import ...` runs `p4s-torch nets import ...` found next to it; run directly, it behaves the
// same. Exit status: 0 success, 2 bad input (one line on stderr), 1 anything else.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace p4s::cli {
int run_nets_import(const std::vector<std::string>& args);
}  // namespace p4s::cli

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2 || args[0] != "nets" || args[1] != "import") {
    std::fprintf(stderr, "usage: p4s-torch nets import MODEL.pt [options] (see 'p4s nets --help')\n");
    return p4s::cli::kExitBadInput;
  }
  return p4s::cli::run_command("p4s nets", p4s::cli::run_nets_import,
                               std::vector<std::string>(args.begin() + 2, args.end()));
}
