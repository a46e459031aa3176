// Plain activity records: what CUPTI reports about kernels, copies, memsets, device memory and
// launch calls, in the project's own types. Nothing here depends on CUPTI; the decoding from
// CUPTI's structs lives in cupti_decode.cpp.
//
// Timestamps are nanoseconds on CUPTI's clock (KernelCapture::now_ns() reads the same clock), so
// host-side marks and device records can be compared directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace p4s::cupti {

// One kernel execution (CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL).
struct KernelRecord {
  std::string name;  // demangled where the name was mangled ("void at::native::...")
  // Execution interval on the device. Both 0 when CUPTI could not time the kernel (it then
  // ran short of device buffer space); see has_timestamps().
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  uint32_t device_id = 0;
  uint32_t context_id = 0;
  uint32_t stream_id = 0;
  uint32_t correlation_id = 0;  // equals the correlation id of the launch call (ApiRecord)
  int32_t grid_x = 0, grid_y = 0, grid_z = 0;
  int32_t block_x = 0, block_y = 0, block_z = 0;
  uint32_t registers_per_thread = 0;
  int32_t static_shared_bytes = 0;   // per block
  int32_t dynamic_shared_bytes = 0;  // per block
  uint64_t graph_node_id = 0;        // 0 unless launched by a CUDA graph

  bool has_timestamps() const { return !(start_ns == 0 && end_ns == 0) && end_ns >= start_ns; }
  uint64_t duration_ns() const { return has_timestamps() ? end_ns - start_ns : 0; }
  friend bool operator==(const KernelRecord&, const KernelRecord&);
};

// Direction of a copy, as CUPTI's CUpti_ActivityMemcpyKind says it.
enum class MemcpyKind {
  kUnknown,
  kHostToDevice,
  kDeviceToHost,
  kDeviceToDevice,
  kHostToHost,
  kPeerToPeer,
  kArray,  // any copy from or to a CUDA array
};
std::string_view memcpy_kind_name(MemcpyKind kind);  // "htod", "dtoh", ...
MemcpyKind memcpy_kind_from_name(std::string_view name);  // kUnknown when not a known name

// One memory copy (CUPTI_ACTIVITY_KIND_MEMCPY).
struct MemcpyRecord {
  MemcpyKind kind = MemcpyKind::kUnknown;
  uint64_t bytes = 0;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  uint32_t device_id = 0;
  uint32_t context_id = 0;
  uint32_t stream_id = 0;
  uint32_t correlation_id = 0;
  friend bool operator==(const MemcpyRecord&, const MemcpyRecord&);
};

// One memset executed on the device (CUPTI_ACTIVITY_KIND_MEMSET).
struct MemsetRecord {
  uint64_t bytes = 0;
  uint32_t value = 0;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  uint32_t device_id = 0;
  uint32_t context_id = 0;
  uint32_t stream_id = 0;
  uint32_t correlation_id = 0;
  friend bool operator==(const MemsetRecord&, const MemsetRecord&);
};

enum class MemoryOperation { kAllocation, kRelease };

// Where the memory lives, as CUPTI's CUpti_ActivityMemoryKind says it.
enum class MemoryKind {
  kUnknown,
  kPageable,
  kPinned,  // page-locked host memory (cudaHostAlloc)
  kDevice,  // cudaMalloc, cuMemAlloc, cudaMallocAsync
  kArray,
  kManaged,
  kDeviceStatic,
  kManagedStatic,
};
std::string_view memory_kind_name(MemoryKind kind);  // "device", "pinned", ...
MemoryKind memory_kind_from_name(std::string_view name);

// One allocation or release of memory (CUPTI_ACTIVITY_KIND_MEMORY2).
struct MemoryRecord {
  MemoryOperation operation = MemoryOperation::kAllocation;
  MemoryKind memory_kind = MemoryKind::kUnknown;
  uint64_t address = 0;
  uint64_t bytes = 0;
  uint64_t timestamp_ns = 0;
  uint32_t device_id = 0;
  uint32_t context_id = 0;
  uint32_t stream_id = 0;
  uint32_t correlation_id = 0;
  // Stream-ordered allocations (cudaMallocAsync) come from a memory pool; then these say which.
  bool is_async = false;
  bool has_pool = false;
  uint64_t pool_address = 0;
  uint64_t pool_release_threshold_bytes = 0;
  uint64_t pool_size_bytes = 0;      // the pool's size (local pools)
  uint64_t pool_utilized_bytes = 0;  // bytes of the pool in use after this operation
  friend bool operator==(const MemoryRecord&, const MemoryRecord&);
};

enum class ApiDomain { kRuntime, kDriver };

// One CUDA runtime or driver call that launched work (cudaLaunchKernel, cuLaunchKernel,
// cudaMemcpyAsync, ...): CUPTI_ACTIVITY_KIND_RUNTIME / DRIVER. Its host interval says when
// the work was issued, which attributes the work to a training phase (phases.hpp).
struct ApiRecord {
  ApiDomain domain = ApiDomain::kRuntime;
  uint32_t callback_id = 0;  // CUPTI's cbid in that domain
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  uint32_t thread_id = 0;
  uint32_t correlation_id = 0;
  friend bool operator==(const ApiRecord&, const ApiRecord&);
};

// Everything decoded from a set of activity buffers, in the order CUPTI delivered it.
struct ActivityRecords {
  std::vector<KernelRecord> kernels;
  std::vector<MemcpyRecord> memcpys;
  std::vector<MemsetRecord> memsets;
  std::vector<MemoryRecord> memory;
  std::vector<ApiRecord> api_calls;
  uint64_t other_records = 0;  // records of kinds the project does not use

  size_t size() const {
    return kernels.size() + memcpys.size() + memsets.size() + memory.size() + api_calls.size();
  }
  void append(ActivityRecords&& more);
};

}  // namespace p4s::cupti
