// The seam between the project and CUPTI's activity API. One implementation talks to CUPTI
// (cupti_activity_api.cpp, or a stub when built without CUPTI); tests implement it with
// synthetic buffers. KernelCapture (kernel_capture.hpp) is the consumer-facing class on top.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cupti/activity_buffer.hpp"
#include "cupti/records.hpp"

namespace p4s::cupti {

// Whether kernel capture can run here, and if not, why.
struct Availability {
  bool available = false;
  // Off: why, e.g. "no CUDA driver (libcuda.so.1 not found)". On: what was found.
  std::string detail;

  // The one line to print: "kernel capture on: <detail>" or "kernel capture off: <detail>".
  std::string line() const;
  static Availability on(std::string detail) { return {true, std::move(detail)}; }
  static Availability off(std::string reason) { return {false, std::move(reason)}; }
};

// Success, or a one-line message naming what failed.
struct Status {
  bool ok = true;
  std::string message;
  static Status success() { return {}; }
  static Status failure(std::string message) { return {false, std::move(message)}; }
  explicit operator bool() const { return ok; }
};

// Which activity to record.
struct ActivityKinds {
  bool kernels = true;        // CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL
  bool memcpy = true;         // CUPTI_ACTIVITY_KIND_MEMCPY
  bool memset = true;         // CUPTI_ACTIVITY_KIND_MEMSET
  bool device_memory = true;  // CUPTI_ACTIVITY_KIND_MEMORY2: allocations and releases
  // Runtime/driver records of the calls that launch work (cudaLaunchKernel, cuLaunchKernel,
  // cudaMemcpy*, cudaMemset*, graph launches): they attribute kernels to phases.
  bool launch_api = true;

  static ActivityKinds all() { return {}; }
  static ActivityKinds none() { return {false, false, false, false, false}; }
};

class ActivityApi {
 public:
  virtual ~ActivityApi() = default;

  virtual Availability availability() const = 0;
  // Starts recording `kinds`. Fails (without throwing) when unavailable or when a CUPTI call
  // fails; then nothing stays enabled.
  virtual Status enable(const ActivityKinds& kinds) = 0;
  virtual Status disable() = 0;
  // Forced flush: every buffer, even with incomplete records, is completed. Precondition: the
  // caller has synchronized the device, or records of running work are incomplete.
  virtual Status flush() = 0;
  // Completed buffers, handed over to the caller (oldest first).
  virtual std::vector<ActivityBuffer> activity_buffers() = 0;
  // Decodes the records of one buffer, appending to `out`.
  virtual Status process_activities(const ActivityBuffer& buffer, ActivityRecords& out) = 0;
  // Records CUPTI dropped since the last call (no buffer space). Never silently zero: a failure
  // to ask is returned in `status`.
  virtual uint64_t dropped_records(Status* status) = 0;
  // Errors recorded inside CUPTI's callbacks since the last call.
  virtual std::vector<std::string> take_errors() = 0;
  // Now, on the clock of the records' timestamps, in ns.
  virtual uint64_t now_ns() const = 0;
};

// Where the CUPTI-backed implementation looks for the driver and for CUPTI.
struct CuptiOptions {
  std::string driver_library = "libcuda.so.1";
  // Empty: $P4S_CUPTI_LIBRARY if set, else the libcupti found when the project was configured,
  // else libcupti.so.<major> on the loader's search path.
  std::string cupti_library;
  // Host buffers lent to CUPTI. They take effect for the first usable capture in a process
  // (CUPTI's callbacks, and so the pool, are process-wide).
  BufferPoolOptions buffers;
  // Device-side buffer for kernel timestamps (CUPTI_ACTIVITY_ATTR_DEVICE_BUFFER_SIZE); 0 keeps
  // CUPTI's default. Raise it when a capture reports kernels without timestamps.
  size_t device_buffer_bytes = 0;
};

// The CUPTI-backed implementation; with P4S_HAVE_CUPTI off, one that says it was built without
// CUPTI. Never throws and never fails to construct: availability() says whether it works.
// At most one can be usable at a time in a process (CUPTI's callbacks are process-wide); a
// second one reports itself unavailable while the first lives.
std::unique_ptr<ActivityApi> make_cupti_activity_api(const CuptiOptions& options = {});

// An implementation that is always off for `reason`.
std::unique_ptr<ActivityApi> make_unavailable_activity_api(std::string reason);

// True when this build includes the CUPTI-backed implementation.
bool built_with_cupti();

}  // namespace p4s::cupti
