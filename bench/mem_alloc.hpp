// mem_alloc on the CPU: a wrapper around LibTorch's CPU allocator that counts the bytes of
// every live CPU tensor (weights, gradients, optimiser state, activations, workspaces) and
// their peak, and can refuse allocations beyond a limit to emulate a smaller device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace p4s::bench {

class CpuAllocationTracker {
 public:
  // Installs the tracker as LibTorch's CPU allocator (c10::SetCPUAllocator), wrapping the one
  // in place, and returns it. Later calls return the same tracker. Memory allocated before
  // the first call is not counted, and neither is its release. Not thread-safe against
  // concurrent allocation: call it at start-up. Throws std::runtime_error when the allocator
  // in place cannot be wrapped.
  static CpuAllocationTracker& install();

  // Bytes held by live tensor storage allocated since install() (requested sizes).
  int64_t live_bytes() const;
  // The most live_bytes() has been since the last reset_peak() (or install()).
  int64_t peak_bytes() const;
  // Starts a new peak from the bytes live now, e.g. before the measured steps.
  void reset_peak();

  // With a limit, an allocation that would take live_bytes() over it throws
  // c10::OutOfMemoryError (a c10::Error, as LibTorch's own out-of-memory errors), whose
  // message starts with "out of memory". nullopt removes the limit. Precondition: > 0.
  void set_limit_bytes(std::optional<int64_t> limit_bytes);
  std::optional<int64_t> limit_bytes() const;

  CpuAllocationTracker(const CpuAllocationTracker&) = delete;
  CpuAllocationTracker& operator=(const CpuAllocationTracker&) = delete;

 private:
  CpuAllocationTracker() = default;
};

}  // namespace p4s::bench
