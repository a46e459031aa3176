// CUPTI opened at run time, and its activity records turned into the project's records.
#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cupti/detail/cupti_decode.hpp"
#include "cupti/detail/cupti_library.hpp"
#include "cupti/kernel_family.hpp"
#include "cupti/launch_calls.hpp"


#ifndef P4S_CUPTI_LIBRARY_PATH
#define P4S_CUPTI_LIBRARY_PATH ""
#endif

namespace p4s::cupti::detail {
namespace {

// "13.0" for 130001; the old scheme (v1..v28) has no CUDA version in it.
std::string api_cuda_version(uint32_t api) {
  if (api >= 100000) return std::to_string(api / 10000) + "." + std::to_string(api / 100 % 100);
  return "12.x or older";
}

bool is_new_scheme(uint32_t api) { return api >= 100000; }

// Runs of whitespace and control characters become one space, none at either end: an error
// is one line.
std::string one_line(const char* text) {
  std::string out;
  bool gap = false;
  for (const char* c = text; *c != '\0'; ++c) {
    const auto byte = static_cast<unsigned char>(*c);
    if (byte <= ' ' || byte == 0x7f) {
      gap = !out.empty();
      continue;
    }
    if (gap) out += ' ';
    gap = false;
    out += *c;
  }
  return out;
}

template <typename F>
bool resolve(void* handle, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  return fn != nullptr;
}

// Opens one candidate; nullptr and *why on failure.
const CuptiLibrary* open_library(const std::string& path, std::string* why) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    *why = err != nullptr ? err : (path + ": cannot open");
    return nullptr;
  }
  auto lib = std::make_unique<CuptiLibrary>();
  lib->path = path;
  std::string missing;
  auto need = [&](const char* name, auto& fn) {
    if (!resolve(handle, name, fn)) missing += std::string(missing.empty() ? "" : ", ") + name;
  };
  need("cuptiGetVersion", lib->cuptiGetVersion);
  need("cuptiGetResultString", lib->cuptiGetResultString);
  need("cuptiGetTimestamp", lib->cuptiGetTimestamp);
  need("cuptiGetCallbackName", lib->cuptiGetCallbackName);
  need("cuptiActivityRegisterCallbacks", lib->cuptiActivityRegisterCallbacks);
  need("cuptiActivityEnable", lib->cuptiActivityEnable);
  need("cuptiActivityDisable", lib->cuptiActivityDisable);
  need("cuptiActivityFlushAll", lib->cuptiActivityFlushAll);
  need("cuptiActivityGetNextRecord", lib->cuptiActivityGetNextRecord);
  need("cuptiActivityGetNumDroppedRecords", lib->cuptiActivityGetNumDroppedRecords);
  need("cuptiActivitySetAttribute", lib->cuptiActivitySetAttribute);
  resolve(handle, "cuptiGetErrorMessage", lib->cuptiGetErrorMessage);
  resolve(handle, "cuptiActivityEnableRuntimeApi", lib->cuptiActivityEnableRuntimeApi);
  resolve(handle, "cuptiActivityEnableDriverApi", lib->cuptiActivityEnableDriverApi);
  if (!missing.empty()) {
    *why = path + " lacks " + missing + " (not CUPTI, or too old)";
    return nullptr;  // the handle stays open: harmless, and closing CUPTI is never safe
  }
  if (lib->cuptiGetVersion(&lib->api_version) != CUPTI_SUCCESS) {
    *why = path + ": cuptiGetVersion failed";
    return nullptr;
  }
  const uint32_t built = CUPTI_API_VERSION;
  const uint32_t found = lib->api_version;
  if (is_new_scheme(found) != is_new_scheme(built) ||
      (is_new_scheme(built) && found / 10000 != built / 10000) || found < built) {
    *why = "CUPTI at " + path + " is API version " + std::to_string(found) + " (CUDA " +
           api_cuda_version(found) + "), but this build was compiled against CUPTI API " +
           std::to_string(built) + " (CUDA " + api_cuda_version(built) +
           "), whose activity records it reads; use a CUPTI of that CUDA major version and no "
           "older (P4S_CUPTI_LIBRARY), or rebuild against the toolkit that matches";
    return nullptr;
  }
  return lib.release();  // process lifetime, like the library itself
}

}  // namespace

uint32_t compiled_api_version() { return CUPTI_API_VERSION; }

uint32_t library_api_version(const CuptiLibrary& lib) { return lib.api_version; }

const std::string& library_path(const CuptiLibrary& lib) { return lib.path; }

std::string describe_library(const CuptiLibrary& lib) {
  return "CUPTI " + api_cuda_version(lib.api_version) + " (API " + std::to_string(lib.api_version) +
         ") from " + lib.path;
}

std::string describe_failure(const CuptiLibrary& lib, const char* call, CUptiResult result) {
  std::string text = std::string(call) + " failed: ";
  const char* name = nullptr;
  if (lib.cuptiGetResultString != nullptr &&
      lib.cuptiGetResultString(result, &name) == CUPTI_SUCCESS && name != nullptr) {
    text += name;
  } else {
    text += "CUptiResult " + std::to_string(static_cast<int>(result));
  }
  const char* message = nullptr;
  if (lib.cuptiGetErrorMessage != nullptr &&
      lib.cuptiGetErrorMessage(result, &message) == CUPTI_SUCCESS && message != nullptr) {
    // CUPTI ends some messages with a newline and repeats the name as the message for others.
    const std::string line = one_line(message);
    if (!line.empty() && (name == nullptr || line != name)) text += " (" + line + ")";
  }
  return text;
}

std::string describe_cupti_result(const CuptiLibrary& lib, const char* call, int result) {
  return describe_failure(lib, call, static_cast<CUptiResult>(result));
}

const CuptiLibrary* load_cupti_library(const std::string& requested, std::string* reason) {
  static std::mutex mutex;
  static auto* loaded = new std::map<std::string, const CuptiLibrary*>();  // never destroyed
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = loaded->find(requested); it != loaded->end()) return it->second;

  std::vector<std::string> candidates;
  const char* env = std::getenv("P4S_CUPTI_LIBRARY");
  if (!requested.empty()) {
    candidates.push_back(requested);
  } else if (env != nullptr && env[0] != '\0') {
    candidates.push_back(env);
  } else {
    if (std::string(P4S_CUPTI_LIBRARY_PATH).size() > 0) candidates.push_back(P4S_CUPTI_LIBRARY_PATH);
    candidates.push_back("libcupti.so." + std::to_string(CUDA_VERSION / 1000));
  }
  std::string why_all;
  for (const std::string& c : candidates) {
    std::string why;
    if (const CuptiLibrary* lib = open_library(c, &why)) {
      loaded->emplace(requested, lib);
      return lib;
    }
    why_all += (why_all.empty() ? "" : "; ") + why;
  }
  if (reason != nullptr) *reason = "cannot use CUPTI (" + why_all + ")";
  return nullptr;
}

const std::string& NameCache::demangled(const char* name) {
  static const std::string kUnnamed = "(unnamed kernel)";
  if (name == nullptr) return kUnnamed;
  auto it = names_.find(name);
  if (it == names_.end()) it = names_.emplace(name, demangle_kernel_name(name)).first;
  return it->second;
}

namespace {

MemcpyKind to_memcpy_kind(uint8_t kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD: return MemcpyKind::kHostToDevice;
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH: return MemcpyKind::kDeviceToHost;
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD: return MemcpyKind::kDeviceToDevice;
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH: return MemcpyKind::kHostToHost;
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: return MemcpyKind::kPeerToPeer;
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA: return MemcpyKind::kArray;
    default: return MemcpyKind::kUnknown;
  }
}

MemoryKind to_memory_kind(CUpti_ActivityMemoryKind kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE: return MemoryKind::kPageable;
    case CUPTI_ACTIVITY_MEMORY_KIND_PINNED: return MemoryKind::kPinned;
    case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE: return MemoryKind::kDevice;
    case CUPTI_ACTIVITY_MEMORY_KIND_ARRAY: return MemoryKind::kArray;
    case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED: return MemoryKind::kManaged;
    case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC: return MemoryKind::kDeviceStatic;
    case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED_STATIC: return MemoryKind::kManagedStatic;
    default: return MemoryKind::kUnknown;
  }
}

KernelRecord to_kernel(const KernelActivity& k, NameCache& names) {
  KernelRecord r;
  r.name = names.demangled(k.name);
  r.start_ns = k.start;
  r.end_ns = k.end;
  r.device_id = k.deviceId;
  r.context_id = k.contextId;
  r.stream_id = k.streamId;
  r.correlation_id = k.correlationId;
  r.grid_x = k.gridX;
  r.grid_y = k.gridY;
  r.grid_z = k.gridZ;
  r.block_x = k.blockX;
  r.block_y = k.blockY;
  r.block_z = k.blockZ;
  r.registers_per_thread = k.registersPerThread;
  r.static_shared_bytes = k.staticSharedMemory;
  r.dynamic_shared_bytes = k.dynamicSharedMemory;
  r.graph_node_id = k.graphNodeId;
  return r;
}

MemcpyRecord to_memcpy(const MemcpyActivity& m) {
  MemcpyRecord r;
  r.kind = to_memcpy_kind(m.copyKind);
  r.bytes = m.bytes;
  r.start_ns = m.start;
  r.end_ns = m.end;
  r.device_id = m.deviceId;
  r.context_id = m.contextId;
  r.stream_id = m.streamId;
  r.correlation_id = m.correlationId;
  return r;
}

MemsetRecord to_memset(const MemsetActivity& m) {
  MemsetRecord r;
  r.bytes = m.bytes;
  r.value = m.value;
  r.start_ns = m.start;
  r.end_ns = m.end;
  r.device_id = m.deviceId;
  r.context_id = m.contextId;
  r.stream_id = m.streamId;
  r.correlation_id = m.correlationId;
  return r;
}

MemoryRecord to_memory(const MemoryActivity& m) {
  MemoryRecord r;
  r.operation = m.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE
                    ? MemoryOperation::kRelease
                    : MemoryOperation::kAllocation;
  r.memory_kind = to_memory_kind(m.memoryKind);
  r.address = m.address;
  r.bytes = m.bytes;
  r.timestamp_ns = m.timestamp;
  r.device_id = m.deviceId;
  r.context_id = m.contextId;
  r.stream_id = m.streamId;
  r.correlation_id = m.correlationId;
  r.is_async = m.isAsync != 0;
  r.has_pool = m.memoryPoolConfig.memoryPoolType != CUPTI_ACTIVITY_MEMORY_POOL_TYPE_INVALID;
  if (r.has_pool) {
    r.pool_address = m.memoryPoolConfig.address;
    r.pool_release_threshold_bytes = m.memoryPoolConfig.releaseThreshold;
    // The union holds the size for local pools and the owner's process id for imported ones.
    if (m.memoryPoolConfig.memoryPoolType == CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL) {
      r.pool_size_bytes = m.memoryPoolConfig.pool.size;
    }
    r.pool_utilized_bytes = m.memoryPoolConfig.utilizedSize;
  }
  return r;
}

ApiRecord to_api(const ApiActivity& a, ApiDomain domain) {
  ApiRecord r;
  r.domain = domain;
  r.callback_id = a.cbid;
  r.start_ns = a.start;
  r.end_ns = a.end;
  r.thread_id = a.threadId;
  r.correlation_id = a.correlationId;
  return r;
}

}  // namespace

Status decode_activity_buffer(const CuptiLibrary& lib, const uint8_t* data, size_t valid_bytes,
                              ActivityRecords& out, NameCache& names) {
  if (data == nullptr || valid_bytes == 0) return Status::success();
  // CUPTI's iterator takes a non-const pointer but only reads the buffer.
  uint8_t* buffer = const_cast<uint8_t*>(data);
  CUpti_Activity* record = nullptr;
  for (;;) {
    const CUptiResult r = lib.cuptiActivityGetNextRecord(buffer, valid_bytes, &record);
    if (r == CUPTI_ERROR_MAX_LIMIT_REACHED) return Status::success();
    if (r == CUPTI_ERROR_INVALID_KIND) {
      return Status::failure(describe_failure(lib, "cuptiActivityGetNextRecord", r) +
                             ": the buffer ends with an incomplete or invalid record, which is "
                             "skipped (was the device synchronized before the flush?)");
    }
    if (r != CUPTI_SUCCESS) {
      return Status::failure(describe_failure(lib, "cuptiActivityGetNextRecord", r));
    }
    switch (record->kind) {
      case CUPTI_ACTIVITY_KIND_KERNEL:
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        out.kernels.push_back(to_kernel(*reinterpret_cast<const KernelActivity*>(record), names));
        break;
      case CUPTI_ACTIVITY_KIND_MEMCPY:
        out.memcpys.push_back(to_memcpy(*reinterpret_cast<const MemcpyActivity*>(record)));
        break;
      case CUPTI_ACTIVITY_KIND_MEMSET:
        out.memsets.push_back(to_memset(*reinterpret_cast<const MemsetActivity*>(record)));
        break;
      case CUPTI_ACTIVITY_KIND_MEMORY2: {
        const auto& m = *reinterpret_cast<const MemoryActivity*>(record);
        if (m.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION ||
            m.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE) {
          out.memory.push_back(to_memory(m));
        } else {
          ++out.other_records;
        }
        break;
      }
      case CUPTI_ACTIVITY_KIND_RUNTIME:
        out.api_calls.push_back(
            to_api(*reinterpret_cast<const ApiActivity*>(record), ApiDomain::kRuntime));
        break;
      case CUPTI_ACTIVITY_KIND_DRIVER:
        out.api_calls.push_back(
            to_api(*reinterpret_cast<const ApiActivity*>(record), ApiDomain::kDriver));
        break;
      default:
        ++out.other_records;
        break;
    }
  }
}

std::vector<LaunchCallback> list_launch_callbacks(const CuptiLibrary& lib) {
  std::vector<LaunchCallback> out;
  // Beyond the headers' count too: a newer library may know more calls.
  const struct {
    CUpti_CallbackDomain domain;
    ApiDomain ours;
    uint32_t count;
  } domains[] = {
      {CUPTI_CB_DOMAIN_RUNTIME_API, ApiDomain::kRuntime, CUPTI_RUNTIME_TRACE_CBID_SIZE + 256u},
      {CUPTI_CB_DOMAIN_DRIVER_API, ApiDomain::kDriver, CUPTI_DRIVER_TRACE_CBID_SIZE + 256u},
  };
  for (const auto& d : domains) {
    for (uint32_t cbid = 1; cbid < d.count; ++cbid) {
      const char* name = nullptr;
      if (lib.cuptiGetCallbackName(d.domain, cbid, &name) != CUPTI_SUCCESS || name == nullptr) {
        continue;
      }
      if (is_work_launch_call(d.ours, name)) out.push_back({d.ours, cbid, name});
    }
  }
  return out;
}

}  // namespace p4s::cupti::detail
