// Activity buffers: the bytes CUPTI writes records into, and the pool that lends them to CUPTI
// and hands completed ones to the consumer. Plain C++ (no CUPTI types), so that tests can drive
// it with synthetic buffers from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace p4s::cupti {

// CUPTI requires activity buffers aligned to 8 bytes (ACTIVITY_RECORD_ALIGNMENT).
inline constexpr size_t kActivityBufferAlignment = 8;

// One buffer of raw activity records. Owns its memory; move-only.
class ActivityBuffer {
 public:
  // Allocates `capacity_bytes` (rounded up to the alignment). Throws std::bad_alloc.
  explicit ActivityBuffer(size_t capacity_bytes);

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }
  // Bytes holding records (CUPTI's validSize); 0 until the buffer is completed.
  size_t valid_bytes() const { return valid_bytes_; }
  void set_valid_bytes(size_t n) { valid_bytes_ = n <= capacity_ ? n : capacity_; }
  // Gives up the memory without freeing it (for buffers another party may still write).
  void leak() noexcept { static_cast<void>(data_.release()); }

 private:
  struct Free {
    void operator()(uint8_t* p) const noexcept;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t capacity_ = 0;
  size_t valid_bytes_ = 0;
};

struct BufferPoolOptions {
  // CUPTI recommends 1 to 10 MB per buffer; fewer, larger buffers mean fewer callbacks.
  size_t buffer_bytes = size_t{4} << 20;
  // Buffers lent to CUPTI plus completed buffers not yet taken by the consumer. At the cap a
  // request is declined, CUPTI drops records and counts them (reported by KernelCapture).
  size_t max_buffers = 64;
};

// Lends buffers to CUPTI and hands completed ones to the consumer. The two callback bodies are
// noexcept (an exception must never cross CUPTI's C callbacks): failures are logged once to
// stderr and recorded, to be read with take_errors(). Thread-safe.
class ActivityBufferPool {
 public:
  explicit ActivityBufferPool(BufferPoolOptions options = {});
  ~ActivityBufferPool();
  ActivityBufferPool(const ActivityBufferPool&) = delete;
  ActivityBufferPool& operator=(const ActivityBufferPool&) = delete;

  // Body of CUPTI's buffer-requested callback: sets *buffer/*size to a fresh aligned buffer,
  // or to nullptr/0 when the cap is reached or memory is short. *max_records = 0 (fill it).
  void on_buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) noexcept;
  // Body of CUPTI's buffer-completed callback: the buffer becomes available to take_completed().
  // An empty buffer is released at once; an unknown pointer is recorded as an error.
  void on_buffer_completed(uint8_t* buffer, size_t size, size_t valid_bytes) noexcept;

  // Completed buffers, oldest first; the pool forgets them.
  std::vector<ActivityBuffer> take_completed();
  // Errors recorded by the callbacks since the last call (at most a few, then a count).
  std::vector<std::string> take_errors();

  size_t in_flight() const;   // lent to CUPTI, not yet completed
  size_t completed() const;   // completed, not yet taken
  uint64_t declined_requests() const;
  const BufferPoolOptions& options() const { return options_; }

  // Gives up buffers still lent to CUPTI without freeing them: used at teardown, when CUPTI
  // might still write into them. Returns how many were abandoned.
  size_t abandon_in_flight() noexcept;

 private:
  void record_error(std::string message) noexcept;

  const BufferPoolOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<const uint8_t*, ActivityBuffer> lent_;
  std::vector<ActivityBuffer> completed_;
  uint64_t declined_ = 0;
  std::vector<std::string> errors_;
  uint64_t errors_not_kept_ = 0;
  bool cap_reported_ = false;
};

}  // namespace p4s::cupti
