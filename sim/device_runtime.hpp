// How a device runs a training step, as far as memory is concerned: CPU or CUDA, the
// framework's autograd semantics where versions differ, the CPU backend's layout, the CUDA
// caching allocator's protocol. Results files say some of this (their context); the rest is
// chosen by the fit among candidates (predictors/p4s/runtime_candidates.hpp), as the one that
// explains the measurements best.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/caching_allocator.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"

namespace p4s::sim {

enum class DeviceKind { kCpu, kCuda };

struct DeviceRuntime {
  DeviceKind kind = DeviceKind::kCuda;
  int cpu_channel_block = 16;  // oneDNN's blocked layout width (CPU)
  int cpu_threads = 1;         // LibTorch intra-op threads (CPU)
  bool relu6_inplace_copies_input = false;
  bool adaptive_pool_saves_input = false;
  bool inplace_grad_accumulation = false;
  bool empty_cache_before_steps = false;  // CUDA: torch.cuda.empty_cache() before each step

  std::unique_ptr<MemoryBackend> backend() const;
  // Simulation options for the measured (steady-state) step: allocation rounding of the
  // device and the semantics above.
  RuntimeOptions sim_options() const;
  CachingAllocatorConfig allocator() const;

  std::string describe() const;  // one line, for reports
  nlohmann::json to_json() const;
  // Throws InputError naming the field for a malformed object.
  static DeviceRuntime from_json(const nlohmann::json& j);
  bool operator==(const DeviceRuntime& o) const;
};

}  // namespace p4s::sim
