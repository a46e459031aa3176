// The results' context (Google Benchmark's AddCustomContext): what a result file needs to be
// read later, keys prefixed "p4s_" (README, "Context"). Gathering reads the machine; making
// the key/value list is pure, so that it is testable on fixed inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace p4s::bench {

inline constexpr const char* kSchemaVersion = "1";

struct GpuInfo {  // filled by a GPU path; absent on the CPU
  std::string name, driver, cuda, cudnn;
};

struct ContextInputs {
  std::string device = "cpu";
  std::string cpuinfo_text;                       // /proc/cpuinfo
  std::optional<std::string> tegra_release_text;  // /etc/nv_tegra_release, on Jetson boards
  int threads = 0;                                // LibTorch intra-op threads
  std::string libtorch_version;
  std::string sweep;
  std::optional<int64_t> mem_limit_bytes;
  std::string mem_used_method;
  std::optional<GpuInfo> gpu;
};

// The context entries, in a fixed order; absent inputs give absent keys.
std::vector<std::pair<std::string, std::string>> make_context(const ContextInputs& in);

// The CPU's model name from /proc/cpuinfo text ("model name", else "Hardware", else
// "Processor" lines, for ARM boards), or "unknown".
std::string cpu_model(const std::string& cpuinfo_text);

// "R32.6.1" from /etc/nv_tegra_release's "# R32 (release), REVISION: 6.1, ..." first line;
// the line itself when it has another form; nullopt for empty text.
std::optional<std::string> l4t_release(const std::string& tegra_release_text);

// Reads the machine's part of the inputs: /proc/cpuinfo, /etc/nv_tegra_release, LibTorch's
// thread count and version. The caller fills sweep, mem_limit_bytes and mem_used_method.
ContextInputs read_machine_context();

}  // namespace p4s::bench
