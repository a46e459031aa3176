// The results' context (Google Benchmark's AddCustomContext): what a result file needs to be
// read later, keys prefixed "p4s_" (bench/README.md, "Context"). Gathering reads the machine;
// making the key/value list is pure, so that it is testable on fixed inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "results_format/recipe.hpp"

namespace p4s::bench {

struct GpuInfo {  // filled by the CUDA path (cuda_device.hpp); absent on the CPU
  std::string name;                // "NVIDIA H100 80GB HBM3"
  std::string driver;              // the NVIDIA driver, as nvidia-smi says it: "580.65.06"
  std::string cuda;                // the CUDA runtime: "13.0"
  std::string cudnn;               // "9.10.2", or "none"
  std::string cuda_driver;         // the newest CUDA the driver supports: "13.0"
  std::string compute_capability;  // "9.0"
  int64_t memory_bytes = 0;        // the device's total memory
  int index = 0;                   // CUDA device index
  std::string allocator;           // the caching allocator's backend: "native", "cudaMallocAsync"
  std::string pci_bus_id;          // "0000:3B:00.0": NVML finds the same device by it
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
  std::optional<std::string> allocator_protocol;  // GPU runs: when the cache is emptied
  std::optional<std::string> mem_limit_method;    // with a limit: how it is enforced
  std::string kernel_capture;                     // the kernel capture line ("kernel capture ...")
  std::optional<std::string> cpu_malloc;          // CPU: configure_cpu_malloc's line
  std::optional<std::string> dpkg_status_text;    // /var/lib/dpkg/status, read for JetPack
  std::optional<results::Recipe> recipe;          // the cases' training recipe (recipe.hpp's keys)
};

// The context entries, in a fixed order; absent inputs give absent keys.
std::vector<std::pair<std::string, std::string>> make_context(const ContextInputs& in);

// The CPU's model name from /proc/cpuinfo text ("model name", else "Hardware", else
// "Processor" lines, for ARM boards), or "unknown".
std::string cpu_model(const std::string& cpuinfo_text);

// The widest vector extension oneDNN uses on this CPU, from /proc/cpuinfo's "flags": "avx512"
// (avx512f), "avx2", else "other" (ARM boards among them). It sets the width of oneDNN's
// blocked layouts, which the memory simulation needs (16 channels with AVX-512, 8 with AVX2).
std::string cpu_isa(const std::string& cpuinfo_text);

// "R32.6.1" from /etc/nv_tegra_release's "# R32 (release), REVISION: 6.1, ..." first line;
// the line itself when it has another form; nullopt for empty text.
std::optional<std::string> l4t_release(const std::string& tegra_release_text);

// The JetPack release from the text of /var/lib/dpkg/status: the Version of the installed
// "nvidia-jetpack" package ("6.0+b106" -> "6.0+b106"), or nullopt when it is not installed.
std::optional<std::string> jetpack_release(const std::string& dpkg_status_text);

// The driver version in /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64 Kernel
// Module  580.65.06  Sun Jul ..." -> "580.65.06"), or "" when the text has none.
std::string nvidia_driver_version(const std::string& proc_version_text);

// cuDNN's version number as text: 91002 -> "9.10.2" (cuDNN 9 numbers major * 10000 + minor * 100
// + patch), 8907 -> "8.9.7" (cuDNN 8 and older: major * 1000 + minor * 100 + patch).
std::string cudnn_version_string(int64_t version);

// Reads the machine's part of the inputs: /proc/cpuinfo, /etc/nv_tegra_release (and, where it
// exists, /var/lib/dpkg/status), LibTorch's thread count and version. The caller fills the rest.
ContextInputs read_machine_context();

}  // namespace p4s::bench
