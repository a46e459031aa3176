// An end-to-end check of kernel capture on a real GPU, without LibTorch: through the CUDA
// driver API it allocates, copies, sets memory and launches a small PTX kernel in three marked
// phases, then checks that every record came back with the right counts, sizes, phases and
// timestamps. Where capture is off (no GPU, driver or CUPTI) it does nothing and says why.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cupti/activity_api.hpp"

namespace p4s::cupti {

struct SelftestOptions {
  CuptiOptions cupti;
  std::string kernel_trace_path;  // when set, the capture is written there as a kernel trace
  int launches_per_phase = 4;
};

struct SelftestReport {
  std::string availability_line;
  bool ran = false;  // false: capture is off here (availability_line says why)
  std::vector<std::string> checks;    // what was verified, one line each
  std::vector<std::string> failures;  // what did not hold, one line each
  std::map<std::string, double> counters;  // the step's counters (counters.hpp)
  bool passed() const { return ran && failures.empty(); }
};

SelftestReport run_cupti_selftest(const SelftestOptions& options = {});

}  // namespace p4s::cupti
