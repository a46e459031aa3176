#include "bench/mem_alloc.hpp"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>

#include <atomic>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "modelgen/torch/torch_compat.hpp"

namespace p4s::bench {
namespace {

// Each block carries its requested size in a header in front of the data. The header is as
// large as LibTorch's CPU alignment (64 bytes), so the data keeps that alignment, and the
// data pointer is also the context, as LibTorch's raw interface (raw_allocate /
// raw_deallocate, through which oneDNN allocates its workspaces) requires.
constexpr size_t kHeaderBytes = 64;
static_assert(kHeaderBytes >= sizeof(size_t) && kHeaderBytes % alignof(std::max_align_t) == 0);

// Fails with a clear message, rather than an abstract-class error, should torch_compat.hpp's
// version threshold not match the LibTorch being built against.
static_assert(std::is_same_v<decltype(&c10::Allocator::allocate),
                             c10::DataPtr (c10::Allocator::*)(size_t) P4S_TORCH_ALLOCATE_CONST>,
              "torch_compat.hpp: P4S_TORCH_ALLOCATE_CONST does not match c10::Allocator::allocate "
              "of this LibTorch; correct the version threshold there");

class TrackingAllocator final : public c10::Allocator {
 public:
  explicit TrackingAllocator(c10::Allocator* inner)
      : inner_(inner), inner_free_(inner->raw_deleter()) {}

  c10::DataPtr allocate(size_t n) P4S_TORCH_ALLOCATE_CONST override {
    if (n == 0) return inner_->allocate(0);  // nothing to count; the inner null block
    const int64_t bytes = static_cast<int64_t>(n);
    const int64_t live = live_.fetch_add(bytes) + bytes;
    const int64_t limit = limit_.load();
    if (limit > 0 && live > limit) {
      live_.fetch_sub(bytes);
      C10_THROW_ERROR(OutOfMemoryError,
                      c10::str("out of memory: tried to allocate ", n, " bytes with ", live - bytes,
                               " bytes in use, over the memory limit of ", limit, " bytes"));
    }
    void* base = nullptr;
    try {
      base = inner_->raw_allocate(n + kHeaderBytes);
    } catch (...) {
      live_.fetch_sub(bytes);
      throw;
    }
    raise_peak(live);
    std::memcpy(base, &n, sizeof n);
    void* data = static_cast<char*>(base) + kHeaderBytes;
    return {data, data, &free_block, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &free_block; }

  void copy_data(void* dest, const void* src, size_t n) const P4S_TORCH_COPY_DATA_OVERRIDE {
    std::memcpy(dest, src, n);
  }

  // Frees a block of the installed tracker; a plain function, as LibTorch's deleters are.
  static void free_block(void* data);

  int64_t live() const { return live_.load(); }
  int64_t peak() const { return peak_.load(); }
  void reset_peak() { peak_.store(live_.load()); }
  void set_limit(int64_t limit) { limit_.store(limit); }
  int64_t limit() const { return limit_.load(); }

 private:
  void raise_peak(int64_t live) const {
    int64_t peak = peak_.load();
    while (live > peak && !peak_.compare_exchange_weak(peak, live)) {
    }
  }
  void release(void* data) {
    void* base = static_cast<char*>(data) - kHeaderBytes;
    size_t n = 0;
    std::memcpy(&n, base, sizeof n);
    live_.fetch_sub(static_cast<int64_t>(n));
    inner_free_(base);
  }

  c10::Allocator* inner_;
  c10::DeleterFnPtr inner_free_;
  // Mutable: LibTorch 1.13 calls allocate() on a const allocator.
  mutable std::atomic<int64_t> live_{0};
  mutable std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> limit_{0};  // 0: none
};

// The installed tracker; it lives as long as the process, since blocks it handed out may be
// freed at any time, static destruction included.
TrackingAllocator* g_tracker = nullptr;

void TrackingAllocator::free_block(void* data) {
  if (data != nullptr) g_tracker->release(data);
}

}  // namespace

CpuAllocationTracker& CpuAllocationTracker::install() {
  static CpuAllocationTracker* const handle = [] {
    c10::Allocator* inner = c10::GetCPUAllocator();
    if (inner->raw_deleter() == nullptr)
      throw std::runtime_error(
          "cannot track CPU memory: LibTorch's CPU allocator has no raw deleter to wrap");
    g_tracker = new TrackingAllocator(inner);
    // The highest priority, so that nothing registered later replaces it unnoticed.
    c10::SetCPUAllocator(g_tracker, std::numeric_limits<uint8_t>::max());
    if (c10::GetCPUAllocator() != g_tracker)
      throw std::runtime_error("cannot track CPU memory: LibTorch kept its CPU allocator");
    return new CpuAllocationTracker();
  }();
  return *handle;
}

int64_t CpuAllocationTracker::live_bytes() const { return g_tracker->live(); }
int64_t CpuAllocationTracker::peak_bytes() const { return g_tracker->peak(); }
void CpuAllocationTracker::reset_peak() { g_tracker->reset_peak(); }

void CpuAllocationTracker::set_limit_bytes(std::optional<int64_t> limit_bytes) {
  g_tracker->set_limit(limit_bytes.value_or(0));
}

std::optional<int64_t> CpuAllocationTracker::limit_bytes() const {
  const int64_t limit = g_tracker->limit();
  if (limit <= 0) return std::nullopt;
  return limit;
}

}  // namespace p4s::bench
