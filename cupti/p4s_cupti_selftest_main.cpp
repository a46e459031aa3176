// p4s_cupti_selftest: checks kernel capture end to end on this machine's GPU (selftest.hpp).
//
//   p4s_cupti_selftest [--p4s_kernel_trace=FILE] [--require_capture]
//
// Prints the availability line, then what was checked. Exit status: 0 when every check held or
// when capture is off here (unless --require_capture, then 1); 1 when a check failed; 2 on bad
// arguments.
#include <cstdio>
#include <cstring>
#include <string>

#include "cupti/selftest.hpp"

int main(int argc, char** argv) {
  p4s::cupti::SelftestOptions options;
  bool require = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::string trace_flag = "--p4s_kernel_trace=";
    if (arg.compare(0, trace_flag.size(), trace_flag) == 0 && arg.size() > trace_flag.size()) {
      options.kernel_trace_path = arg.substr(trace_flag.size());
    } else if (arg == "--require_capture") {
      require = true;
    } else if (arg == "--help" || arg == "-h") {
      std::puts("usage: p4s_cupti_selftest [--p4s_kernel_trace=FILE] [--require_capture]");
      return 0;
    } else {
      std::fprintf(stderr, "p4s_cupti_selftest: unknown argument '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  const p4s::cupti::SelftestReport r = p4s::cupti::run_cupti_selftest(options);
  std::puts(r.availability_line.c_str());
  if (!r.ran) {
    std::puts("self-test skipped: kernel capture is off here");
    return require ? 1 : 0;
  }
  for (const std::string& c : r.checks) std::printf("ok:   %s\n", c.c_str());
  for (const std::string& f : r.failures) std::printf("FAIL: %s\n", f.c_str());
  for (const auto& [name, value] : r.counters) std::printf("counter %s = %.9g\n", name.c_str(), value);
  std::printf("self-test %s\n", r.passed() ? "passed" : "FAILED");
  return r.passed() ? 0 : 1;
}
