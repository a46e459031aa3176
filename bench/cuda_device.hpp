// The CUDA path of the bench: whether it can run here, and one CUDA device's parts for the
// measuring loop: a CUDA-event StepTimer, the caching allocator as a DeviceMemorySource, the
// device's facts for the results' context, and the allocator's memory fraction for
// --p4s_mem_limit. No CUDA type appears here: built against a LibTorch without CUDA,
// cuda_device_stub.cpp takes the place of cuda_device.cpp and says why the path is off.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bench/context.hpp"
#include "bench/device.hpp"
#include "bench/device_memory_meter.hpp"
#include "bench/step_timer.hpp"

namespace p4s::bench {

// Whether this build has the CUDA path, and how many devices it can use now. Initialises the
// CUDA runtime when built with it. Never throws.
CudaStatus cuda_status();

class CudaDevice {
 public:
  // Opens device `index`: makes it the current device and initialises LibTorch's CUDA state
  // (the caching allocator among it). Throws std::runtime_error saying why it cannot.
  // Precondition: cuda_status().usable() and index < its device_count.
  static std::unique_ptr<CudaDevice> open(int index);

  virtual ~CudaDevice() = default;
  virtual int index() const = 0;

  // CUDA events around the step on the device's current stream; stop_seconds() waits for the
  // stop event. start() first waits until the device is idle, so that each step is timed from
  // an idle device whatever the step before left running (the wait is outside the timing).
  virtual StepTimer& timer() = 0;
  // The caching allocator's statistics and the device's used memory (cudaMemGetInfo).
  virtual DeviceMemorySource& memory() = 0;
  // Blocks until the device has finished all its work.
  virtual void synchronize() = 0;

  virtual GpuInfo info() = 0;
  virtual int64_t total_memory_bytes() = 0;
  // Caps what the caching allocator reserves on this device at `fraction` of its memory
  // (torch.cuda.set_per_process_memory_fraction): a request beyond it fails as CUDA out of
  // memory, after the allocator has freed its cache and retried. Precondition: 0 < f <= 1.
  virtual void set_memory_fraction(double fraction) = 0;
};

}  // namespace p4s::bench
