// The CUPTI-backed ActivityApi: owns CUPTI's activity API for the process, as Kineto's
// CuptiActivityApi does. Buffers are lent to CUPTI from a pool with a cap, completed buffers are
// handed to the consumer under a mutex, flushes are forced, and dropped records are counted.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <utility>
#include <vector>

#include "cupti/activity_api.hpp"
#include "cupti/detail/cupti_decode.hpp"
#include "cupti/detail/cupti_library.hpp"
#include "cupti/driver_probe.hpp"

namespace p4s::cupti {
namespace {

// CUPTI's buffer callbacks carry no user pointer, so they reach the pool through process-wide
// state. It is never destroyed: CUPTI may flush, and call back, from its own exit handler after
// static destructors have run.
struct ProcessState {
  std::mutex mutex;
  bool owned = false;  // a usable CuptiActivityApi exists
  bool callbacks_registered = false;
  ActivityBufferPool* pool = nullptr;  // created with the first usable instance's options
};

ProcessState& process_state() {
  static auto* state = new ProcessState();
  return *state;
}

std::atomic<ActivityBufferPool*> g_pool{nullptr};

// The C callbacks: no exception may cross them (the pool's bodies are noexcept).
void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) noexcept {
  if (ActivityBufferPool* pool = g_pool.load(std::memory_order_acquire)) {
    pool->on_buffer_requested(buffer, size, max_records);
    return;
  }
  if (buffer != nullptr) *buffer = nullptr;
  if (size != nullptr) *size = 0;
  if (max_records != nullptr) *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext /*context*/, uint32_t /*stream_id*/, uint8_t* buffer,
                               size_t size, size_t valid_bytes) noexcept {
  if (ActivityBufferPool* pool = g_pool.load(std::memory_order_acquire)) {
    pool->on_buffer_completed(buffer, size, valid_bytes);
  }
}

// The CUDA major version a CUPTI library belongs to; its driver must support at least that
// major version (CUPTI follows minor version compatibility from CUDA 12 on).
int cupti_cuda_major(const detail::CuptiLibrary& lib) {
  if (lib.api_version >= 100000) return static_cast<int>(lib.api_version / 10000);
  return CUDA_VERSION / 1000;
}

class CuptiActivityApi final : public ActivityApi {
 public:
  explicit CuptiActivityApi(const CuptiOptions& options);
  ~CuptiActivityApi() override;
  CuptiActivityApi(const CuptiActivityApi&) = delete;
  CuptiActivityApi& operator=(const CuptiActivityApi&) = delete;

  Availability availability() const override { return availability_; }
  Status enable(const ActivityKinds& kinds) override;
  Status disable() override;
  Status flush() override;
  std::vector<ActivityBuffer> activity_buffers() override;
  Status process_activities(const ActivityBuffer& buffer, ActivityRecords& out) override;
  uint64_t dropped_records(Status* status) override;
  std::vector<std::string> take_errors() override;
  uint64_t now_ns() const override;

 private:
  Status enable_kind(CUpti_ActivityKind kind);
  Status enable_launch_calls();

  const CuptiOptions options_;
  Availability availability_ = Availability::off("not probed");
  const detail::CuptiLibrary* lib_ = nullptr;
  ActivityBufferPool* pool_ = nullptr;
  bool owner_ = false;
  bool ever_enabled_ = false;
  std::vector<CUpti_ActivityKind> enabled_kinds_;
  std::vector<detail::LaunchCallback> enabled_calls_;
  detail::NameCache names_;
};

CuptiActivityApi::CuptiActivityApi(const CuptiOptions& options) : options_(options) {
  ProcessState& state = process_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (state.owned) {
    availability_ = Availability::off(
        "another kernel capture is active in this process (CUPTI's activity callbacks are "
        "process-wide)");
    return;
  }
  // The driver first: without it CUPTI loads but every activity call fails with
  // CUPTI_ERROR_UNKNOWN, which says nothing useful.
  const DriverProbe driver = probe_cuda_driver(options.driver_library);
  if (!driver.usable) {
    availability_ = Availability::off(driver.reason);
    return;
  }
  std::string why;
  const detail::CuptiLibrary* lib = detail::load_cupti_library(options.cupti_library, &why);
  if (lib == nullptr) {
    availability_ = Availability::off(why);
    return;
  }
  if (driver.driver_version / 1000 < cupti_cuda_major(*lib)) {
    availability_ = Availability::off(
        "the CUDA driver supports CUDA " + cuda_version_string(driver.driver_version) +
        ", older than the CUDA " + std::to_string(cupti_cuda_major(*lib)) + ".x of " +
        detail::describe_library(*lib) +
        " (update the driver, or configure with CUDAToolkit_ROOT set to a toolkit of the "
        "driver's CUDA major version)");
    return;
  }
  lib_ = lib;
  if (state.pool == nullptr) state.pool = new ActivityBufferPool(options.buffers);
  pool_ = state.pool;
  g_pool.store(pool_, std::memory_order_release);
  state.owned = owner_ = true;
  availability_ = Availability::on(detail::describe_library(*lib) + ", CUDA driver " +
                                   cuda_version_string(driver.driver_version) + ", " +
                                   std::to_string(driver.device_count) + " device(s)");
}

CuptiActivityApi::~CuptiActivityApi() {
  if (!owner_) return;
  if (Status s = disable(); !s) std::fprintf(stderr, "p4s cupti: %s\n", s.message.c_str());
  if (ever_enabled_) {
    // Take back every buffer CUPTI holds before this capture goes away.
    if (Status s = flush(); !s) std::fprintf(stderr, "p4s cupti: %s\n", s.message.c_str());
    static_cast<void>(pool_->take_completed());
    if (const size_t n = pool_->abandon_in_flight(); n > 0) {
      std::fprintf(stderr, "p4s cupti: %zu activity buffers still held by CUPTI were left allocated\n",
                   n);
    }
  }
  ProcessState& state = process_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.owned = false;
}

Status CuptiActivityApi::enable_kind(CUpti_ActivityKind kind) {
  Status s = P4S_CUPTI_CALL(*lib_, cuptiActivityEnable, kind);
  if (s) enabled_kinds_.push_back(kind);
  return s;
}

Status CuptiActivityApi::enable_launch_calls() {
  if (lib_->cuptiActivityEnableRuntimeApi != nullptr && lib_->cuptiActivityEnableDriverApi != nullptr) {
    // Only the calls that launch work: one record per launch instead of one per API call.
    for (detail::LaunchCallback& c : detail::list_launch_callbacks(*lib_)) {
      const Status s = c.domain == ApiDomain::kRuntime
                           ? P4S_CUPTI_CALL(*lib_, cuptiActivityEnableRuntimeApi, c.callback_id, 1)
                           : P4S_CUPTI_CALL(*lib_, cuptiActivityEnableDriverApi, c.callback_id, 1);
      if (!s) return Status::failure(s.message + " (for " + c.name + ")");
      enabled_calls_.push_back(std::move(c));
    }
    if (!enabled_calls_.empty()) return Status::success();
  }
  // Older CUPTI: every runtime and driver call is recorded; correct, with more records.
  if (Status s = enable_kind(CUPTI_ACTIVITY_KIND_RUNTIME); !s) return s;
  return enable_kind(CUPTI_ACTIVITY_KIND_DRIVER);
}

Status CuptiActivityApi::enable(const ActivityKinds& kinds) {
  if (!availability_.available) return Status::failure(availability_.line());
  if (!enabled_kinds_.empty() || !enabled_calls_.empty()) {
    return Status::failure("CUPTI activity is already enabled");
  }
  {
    ProcessState& state = process_state();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!state.callbacks_registered) {
      if (Status s = P4S_CUPTI_CALL(*lib_, cuptiActivityRegisterCallbacks, buffer_requested,
                                    buffer_completed);
          !s) {
        return s;
      }
      state.callbacks_registered = true;
    }
  }
  // Start clean: records of an earlier capture are not this one's.
  static_cast<void>(pool_->take_completed());
  static_cast<void>(pool_->take_errors());
  size_t stale = 0;
  static_cast<void>(lib_->cuptiActivityGetNumDroppedRecords(nullptr, 0, &stale));

  if (options_.device_buffer_bytes > 0) {
    size_t value = options_.device_buffer_bytes;
    size_t value_size = sizeof value;
    if (Status s = P4S_CUPTI_CALL(*lib_, cuptiActivitySetAttribute,
                                  CUPTI_ACTIVITY_ATTR_DEVICE_BUFFER_SIZE, &value_size, &value);
        !s) {
      return s;
    }
  }

  ever_enabled_ = true;
  Status s = Status::success();
  if (s && kinds.kernels) s = enable_kind(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  if (s && kinds.memcpy) s = enable_kind(CUPTI_ACTIVITY_KIND_MEMCPY);
  if (s && kinds.memset) s = enable_kind(CUPTI_ACTIVITY_KIND_MEMSET);
  if (s && kinds.device_memory) s = enable_kind(CUPTI_ACTIVITY_KIND_MEMORY2);
  if (s && kinds.launch_api) s = enable_launch_calls();
  if (!s) static_cast<void>(disable());  // all or nothing
  return s;
}

Status CuptiActivityApi::disable() {
  if (lib_ == nullptr) return Status::success();
  Status first = Status::success();
  auto keep_first = [&](Status s) {
    if (first && !s) first = std::move(s);
  };
  for (const detail::LaunchCallback& c : enabled_calls_) {
    keep_first(c.domain == ApiDomain::kRuntime
                   ? P4S_CUPTI_CALL(*lib_, cuptiActivityEnableRuntimeApi, c.callback_id, 0)
                   : P4S_CUPTI_CALL(*lib_, cuptiActivityEnableDriverApi, c.callback_id, 0));
  }
  enabled_calls_.clear();
  for (CUpti_ActivityKind kind : enabled_kinds_) {
    keep_first(P4S_CUPTI_CALL(*lib_, cuptiActivityDisable, kind));
  }
  enabled_kinds_.clear();
  return first;
}

Status CuptiActivityApi::flush() {
  if (lib_ == nullptr || !ever_enabled_) return Status::success();
  // No lock may be held here: CUPTI calls buffer_completed from inside the flush.
  return P4S_CUPTI_CALL(*lib_, cuptiActivityFlushAll, CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
}

std::vector<ActivityBuffer> CuptiActivityApi::activity_buffers() {
  if (pool_ == nullptr) return {};
  return pool_->take_completed();
}

Status CuptiActivityApi::process_activities(const ActivityBuffer& buffer, ActivityRecords& out) {
  if (lib_ == nullptr) return Status::failure(availability_.line());
  return detail::decode_activity_buffer(*lib_, buffer.data(), buffer.valid_bytes(), out, names_);
}

uint64_t CuptiActivityApi::dropped_records(Status* status) {
  if (status != nullptr) *status = Status::success();
  if (lib_ == nullptr) return 0;
  size_t dropped = 0;
  // Since CUDA 6 every buffer is global: the null context and stream 0 ask about all of them.
  const Status s =
      P4S_CUPTI_CALL(*lib_, cuptiActivityGetNumDroppedRecords, nullptr, 0, &dropped);
  if (status != nullptr) *status = s;
  return dropped;
}

std::vector<std::string> CuptiActivityApi::take_errors() {
  if (pool_ == nullptr) return {};
  std::vector<std::string> errors = pool_->take_errors();
  if (const uint64_t declined = pool_->declined_requests(); declined > 0 && !errors.empty()) {
    errors.push_back(std::to_string(declined) + " buffer requests declined so far in this process");
  }
  return errors;
}

uint64_t CuptiActivityApi::now_ns() const {
  uint64_t t = 0;
  if (lib_ != nullptr && lib_->cuptiGetTimestamp(&t) == CUPTI_SUCCESS) return t;
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::unique_ptr<ActivityApi> make_cupti_activity_api(const CuptiOptions& options) {
  return std::make_unique<CuptiActivityApi>(options);
}

bool built_with_cupti() { return true; }

}  // namespace p4s::cupti
