// mem_used on the CPU: the process's resident memory from /proc/self/status, and the reset of
// its peak (VmHWM) through /proc/self/clear_refs, so that a peak covers only the measured
// steps. Parsing is separate from reading so that it can be tested on fixed text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace p4s::bench {

struct ResidentMemory {
  int64_t rss_bytes = 0;   // VmRSS: resident now
  int64_t peak_bytes = 0;  // VmHWM: the most resident since start or the last reset
};

// VmRSS and VmHWM from the text of /proc/<pid>/status, or nullopt if either is missing.
std::optional<ResidentMemory> parse_proc_status(const std::string& status_text);

// The process's resident memory now. Throws std::runtime_error when /proc/self/status cannot
// be read or parsed (not Linux).
ResidentMemory read_resident_memory();

// Resets VmHWM to VmRSS by writing "5" to /proc/self/clear_refs. Returns an empty string on
// success, else the reason it failed (e.g. "Permission denied").
std::string reset_peak_resident();

}  // namespace p4s::bench
