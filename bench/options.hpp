// The bench's own command-line flags, all spelled --p4s_<name>=<value>, parsed before Google
// Benchmark sees the rest. Pure parsing: no file is read here. A bad flag is an InputError
// whose what() is one line that starts with the flag, e.g.
// "--p4s_sweep=fast: not a sweep (quick, standard, full or none)".
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/input_error.hpp"
#include "results_format/recipe.hpp"

namespace p4s::bench {

enum class DeviceKind { kCpu, kCuda };

// --p4s_device=cpu, cuda (device 0) or cuda:N.
struct DeviceChoice {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // CUDA device index
  std::string text() const;  // as the flag spells it: "cpu", "cuda", "cuda:1"
  friend bool operator==(const DeviceChoice& a, const DeviceChoice& b) {
    return a.kind == b.kind && a.index == b.index;
  }
};

struct Options {
  std::string sweep = "quick";                      // --p4s_sweep: a preset of sweep.hpp
  bool sweep_given = false;                         // --p4s_sweep was given
  std::optional<std::string> netspec_out;           // --p4s_netspec_out=DIR
  std::optional<std::vector<int64_t>> net_batches;  // --p4s_batch=2,8,32: overrides the preset's
  std::vector<std::string> netspec_paths;           // --p4s_netspec=FILE, repeatable, in order
  std::vector<std::string> net_names;               // --p4s_net=NAME: built-in networks, in order
  std::optional<int64_t> mem_limit_bytes;           // --p4s_mem_limit=BYTES (suffix K, M, G, T)
  std::optional<int> threads;                       // --p4s_threads=N: LibTorch's intra-op threads
  std::optional<DeviceChoice> device;               // --p4s_device: default CUDA where usable
  bool kernel_capture = true;                       // --p4s_kernel_capture=on|off
  std::optional<std::string> kernel_trace_path;     // --p4s_kernel_trace=FILE
  bool cpu_malloc_steady = true;                    // --p4s_cpu_malloc=steady|system (cpu_malloc.hpp)
  // Surviving the device (sweep_guard/): --p4s_resume continues into the results file,
  // skipping the cases it holds; --p4s_isolate runs the sweep in a child process that is
  // started again after it dies; --p4s_case_timeout=SECONDS stops a case that runs longer
  // (implies --p4s_isolate); --p4s_progress=FILE names the case now running in FILE.
  bool resume = false;
  bool isolate = false;
  std::optional<double> case_timeout_s;
  std::optional<std::string> progress_path;
  // The training recipe of every case: --p4s_optimizer, --p4s_lr, --p4s_momentum,
  // --p4s_weight_decay, --p4s_precision, --p4s_train_from (network cases), --p4s_freeze_bn.
  results::Recipe recipe;
};

struct ParsedArgs {
  Options options;
  std::vector<std::string> rest;  // every other argument, in order, argv[0] first
};

// Splits argv into our flags and the rest. Throws InputError for an unknown --p4s_ flag, a
// flag without "=value", or a bad value (a --p4s_net name that breaks the name grammar among
// them; whether a pruning level can be reached is known only once the network is built).
ParsedArgs parse_args(const std::vector<std::string>& args);

// "4096", "512K", "512M", "4G", "1T" (binary: K = 1024) -> bytes. Throws
// std::invalid_argument for anything else, zero, or a value beyond int64.
int64_t parse_bytes(std::string_view text);

// The help text of our flags, one per line.
std::string options_help();

}  // namespace p4s::bench
