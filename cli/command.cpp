#include "cli/command.hpp"

#include <cstdio>
#include <exception>

namespace p4s::cli {

int run_command(const std::string& label, int (*run)(const std::vector<std::string>& args),
                const std::vector<std::string>& args) {
  try {
    return run(args);
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s: %s\n", label.c_str(), e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", label.c_str(), e.what());
    return kExitFailure;
  }
}

}  // namespace p4s::cli
