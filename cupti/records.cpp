#include "cupti/records.hpp"

#include <iterator>
#include <tuple>
#include <utility>

namespace p4s::cupti {
namespace {

template <typename T>
void move_append(std::vector<T>& to, std::vector<T>& from) {
  if (to.empty()) {
    to = std::move(from);
  } else {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  }
  from.clear();
}

}  // namespace

bool operator==(const KernelRecord& a, const KernelRecord& b) {
  return std::tie(a.name, a.start_ns, a.end_ns, a.device_id, a.context_id, a.stream_id,
                  a.correlation_id, a.grid_x, a.grid_y, a.grid_z, a.block_x, a.block_y, a.block_z,
                  a.registers_per_thread, a.static_shared_bytes, a.dynamic_shared_bytes,
                  a.graph_node_id) ==
         std::tie(b.name, b.start_ns, b.end_ns, b.device_id, b.context_id, b.stream_id,
                  b.correlation_id, b.grid_x, b.grid_y, b.grid_z, b.block_x, b.block_y, b.block_z,
                  b.registers_per_thread, b.static_shared_bytes, b.dynamic_shared_bytes,
                  b.graph_node_id);
}

bool operator==(const MemcpyRecord& a, const MemcpyRecord& b) {
  return std::tie(a.kind, a.bytes, a.start_ns, a.end_ns, a.device_id, a.context_id, a.stream_id,
                  a.correlation_id) == std::tie(b.kind, b.bytes, b.start_ns, b.end_ns, b.device_id,
                                                b.context_id, b.stream_id, b.correlation_id);
}

bool operator==(const MemsetRecord& a, const MemsetRecord& b) {
  return std::tie(a.bytes, a.value, a.start_ns, a.end_ns, a.device_id, a.context_id, a.stream_id,
                  a.correlation_id) == std::tie(b.bytes, b.value, b.start_ns, b.end_ns, b.device_id,
                                                b.context_id, b.stream_id, b.correlation_id);
}

bool operator==(const MemoryRecord& a, const MemoryRecord& b) {
  return std::tie(a.operation, a.memory_kind, a.address, a.bytes, a.timestamp_ns, a.device_id,
                  a.context_id, a.stream_id, a.correlation_id, a.is_async, a.has_pool,
                  a.pool_address, a.pool_release_threshold_bytes, a.pool_size_bytes,
                  a.pool_utilized_bytes) ==
         std::tie(b.operation, b.memory_kind, b.address, b.bytes, b.timestamp_ns, b.device_id,
                  b.context_id, b.stream_id, b.correlation_id, b.is_async, b.has_pool,
                  b.pool_address, b.pool_release_threshold_bytes, b.pool_size_bytes,
                  b.pool_utilized_bytes);
}

bool operator==(const ApiRecord& a, const ApiRecord& b) {
  return std::tie(a.domain, a.callback_id, a.start_ns, a.end_ns, a.thread_id, a.correlation_id) ==
         std::tie(b.domain, b.callback_id, b.start_ns, b.end_ns, b.thread_id, b.correlation_id);
}

std::string_view memcpy_kind_name(MemcpyKind kind) {
  switch (kind) {
    case MemcpyKind::kHostToDevice: return "htod";
    case MemcpyKind::kDeviceToHost: return "dtoh";
    case MemcpyKind::kDeviceToDevice: return "dtod";
    case MemcpyKind::kHostToHost: return "htoh";
    case MemcpyKind::kPeerToPeer: return "ptop";
    case MemcpyKind::kArray: return "array";
    case MemcpyKind::kUnknown: break;
  }
  return "unknown";
}

MemcpyKind memcpy_kind_from_name(std::string_view name) {
  for (MemcpyKind k : {MemcpyKind::kHostToDevice, MemcpyKind::kDeviceToHost,
                       MemcpyKind::kDeviceToDevice, MemcpyKind::kHostToHost,
                       MemcpyKind::kPeerToPeer, MemcpyKind::kArray}) {
    if (memcpy_kind_name(k) == name) return k;
  }
  return MemcpyKind::kUnknown;
}

std::string_view memory_kind_name(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::kPageable: return "pageable";
    case MemoryKind::kPinned: return "pinned";
    case MemoryKind::kDevice: return "device";
    case MemoryKind::kArray: return "array";
    case MemoryKind::kManaged: return "managed";
    case MemoryKind::kDeviceStatic: return "device_static";
    case MemoryKind::kManagedStatic: return "managed_static";
    case MemoryKind::kUnknown: break;
  }
  return "unknown";
}

MemoryKind memory_kind_from_name(std::string_view name) {
  for (MemoryKind k : {MemoryKind::kPageable, MemoryKind::kPinned, MemoryKind::kDevice,
                       MemoryKind::kArray, MemoryKind::kManaged, MemoryKind::kDeviceStatic,
                       MemoryKind::kManagedStatic}) {
    if (memory_kind_name(k) == name) return k;
  }
  return MemoryKind::kUnknown;
}

void ActivityRecords::append(ActivityRecords&& more) {
  move_append(kernels, more.kernels);
  move_append(memcpys, more.memcpys);
  move_append(memsets, more.memsets);
  move_append(memory, more.memory);
  move_append(api_calls, more.api_calls);
  other_records += more.other_records;
  more.other_records = 0;
}

}  // namespace p4s::cupti
