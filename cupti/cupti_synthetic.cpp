#include "cupti/detail/cupti_synthetic.hpp"

#include <cstring>

#include "cupti/detail/cupti_library.hpp"

namespace p4s::cupti::detail {
namespace {

uint8_t to_cupti(MemcpyKind k) {
  switch (k) {
    case MemcpyKind::kHostToDevice: return CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
    case MemcpyKind::kDeviceToHost: return CUPTI_ACTIVITY_MEMCPY_KIND_DTOH;
    case MemcpyKind::kDeviceToDevice: return CUPTI_ACTIVITY_MEMCPY_KIND_DTOD;
    case MemcpyKind::kHostToHost: return CUPTI_ACTIVITY_MEMCPY_KIND_HTOH;
    case MemcpyKind::kPeerToPeer: return CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
    case MemcpyKind::kArray: return CUPTI_ACTIVITY_MEMCPY_KIND_HTOA;
    case MemcpyKind::kUnknown: break;
  }
  return CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN;
}

CUpti_ActivityMemoryKind to_cupti(MemoryKind k) {
  switch (k) {
    case MemoryKind::kPageable: return CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE;
    case MemoryKind::kPinned: return CUPTI_ACTIVITY_MEMORY_KIND_PINNED;
    case MemoryKind::kDevice: return CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    case MemoryKind::kArray: return CUPTI_ACTIVITY_MEMORY_KIND_ARRAY;
    case MemoryKind::kManaged: return CUPTI_ACTIVITY_MEMORY_KIND_MANAGED;
    case MemoryKind::kDeviceStatic: return CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC;
    case MemoryKind::kManagedStatic: return CUPTI_ACTIVITY_MEMORY_KIND_MANAGED_STATIC;
    case MemoryKind::kUnknown: break;
  }
  return CUPTI_ACTIVITY_MEMORY_KIND_UNKNOWN;
}

}  // namespace

void SyntheticCuptiBuffer::append(const void* record, size_t size) {
  // CUPTI's records are 8-byte aligned structs (PACKED_ALIGNMENT), so sizes are multiples of 8.
  const uint8_t* p = static_cast<const uint8_t*>(record);
  bytes_.insert(bytes_.end(), p, p + size);
}

SyntheticCuptiBuffer& SyntheticCuptiBuffer::add_kernel(const KernelRecord& r,
                                                       const std::string& raw_name) {
  names_.push_back(raw_name);
  KernelActivity k;
  std::memset(&k, 0, sizeof k);
  k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
  k.start = r.start_ns;
  k.end = r.end_ns;
  k.completed = r.end_ns;
  k.deviceId = r.device_id;
  k.contextId = r.context_id;
  k.streamId = r.stream_id;
  k.correlationId = r.correlation_id;
  k.gridX = r.grid_x;
  k.gridY = r.grid_y;
  k.gridZ = r.grid_z;
  k.blockX = r.block_x;
  k.blockY = r.block_y;
  k.blockZ = r.block_z;
  k.registersPerThread = static_cast<uint16_t>(r.registers_per_thread);
  k.staticSharedMemory = r.static_shared_bytes;
  k.dynamicSharedMemory = r.dynamic_shared_bytes;
  k.graphNodeId = r.graph_node_id;
  k.name = names_.back().c_str();
  append(&k, sizeof k);
  return *this;
}

SyntheticCuptiBuffer& SyntheticCuptiBuffer::add_memcpy(const MemcpyRecord& r) {
  MemcpyActivity m;
  std::memset(&m, 0, sizeof m);
  m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
  m.copyKind = to_cupti(r.kind);
  m.bytes = r.bytes;
  m.start = r.start_ns;
  m.end = r.end_ns;
  m.deviceId = r.device_id;
  m.contextId = r.context_id;
  m.streamId = r.stream_id;
  m.correlationId = r.correlation_id;
  append(&m, sizeof m);
  return *this;
}

SyntheticCuptiBuffer& SyntheticCuptiBuffer::add_memset(const MemsetRecord& r) {
  MemsetActivity m;
  std::memset(&m, 0, sizeof m);
  m.kind = CUPTI_ACTIVITY_KIND_MEMSET;
  m.value = r.value;
  m.bytes = r.bytes;
  m.start = r.start_ns;
  m.end = r.end_ns;
  m.deviceId = r.device_id;
  m.contextId = r.context_id;
  m.streamId = r.stream_id;
  m.correlationId = r.correlation_id;
  append(&m, sizeof m);
  return *this;
}

SyntheticCuptiBuffer& SyntheticCuptiBuffer::add_memory(const MemoryRecord& r) {
  MemoryActivity m;
  std::memset(&m, 0, sizeof m);
  m.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
  m.memoryOperationType = r.operation == MemoryOperation::kAllocation
                              ? CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION
                              : CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
  m.memoryKind = to_cupti(r.memory_kind);
  m.address = r.address;
  m.bytes = r.bytes;
  m.timestamp = r.timestamp_ns;
  m.deviceId = r.device_id;
  m.contextId = r.context_id;
  m.streamId = r.stream_id;
  m.correlationId = r.correlation_id;
  m.isAsync = r.is_async ? 1 : 0;
  if (r.has_pool) {
    m.memoryPoolConfig.memoryPoolType = CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL;
    m.memoryPoolConfig.address = r.pool_address;
    m.memoryPoolConfig.releaseThreshold = r.pool_release_threshold_bytes;
    m.memoryPoolConfig.pool.size = r.pool_size_bytes;
    m.memoryPoolConfig.utilizedSize = r.pool_utilized_bytes;
  }
  append(&m, sizeof m);
  return *this;
}

SyntheticCuptiBuffer& SyntheticCuptiBuffer::add_api_call(const ApiRecord& r) {
  ApiActivity a;
  std::memset(&a, 0, sizeof a);
  a.kind = r.domain == ApiDomain::kRuntime ? CUPTI_ACTIVITY_KIND_RUNTIME : CUPTI_ACTIVITY_KIND_DRIVER;
  a.cbid = r.callback_id;
  a.start = r.start_ns;
  a.end = r.end_ns;
  a.threadId = r.thread_id;
  a.correlationId = r.correlation_id;
  append(&a, sizeof a);
  return *this;
}

SyntheticCuptiBuffer& SyntheticCuptiBuffer::add_other() {
  CUpti_ActivityExternalCorrelation o;
  std::memset(&o, 0, sizeof o);
  o.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
  o.externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0;
  append(&o, sizeof o);
  return *this;
}

size_t SyntheticCuptiBuffer::write_to(uint8_t* buffer, size_t capacity) const {
  if (buffer == nullptr || bytes_.size() > capacity) return 0;
  std::memcpy(buffer, bytes_.data(), bytes_.size());
  return bytes_.size();
}

ActivityBuffer SyntheticCuptiBuffer::to_buffer() const {
  ActivityBuffer b(bytes_.empty() ? kActivityBufferAlignment : bytes_.size());
  b.set_valid_bytes(write_to(b.data(), b.capacity()));
  return b;
}

}  // namespace p4s::cupti::detail
