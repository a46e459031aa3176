#include "cupti/activity_buffer.hpp"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <utility>

namespace p4s::cupti {
namespace {

constexpr size_t kMaxKeptErrors = 16;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

void ActivityBuffer::Free::operator()(uint8_t* p) const noexcept { std::free(p); }

ActivityBuffer::ActivityBuffer(size_t capacity_bytes)
    : capacity_(round_up(capacity_bytes == 0 ? kActivityBufferAlignment : capacity_bytes,
                         kActivityBufferAlignment)) {
  // aligned_alloc needs the size to be a multiple of the alignment: it is, by construction.
  void* p = std::aligned_alloc(kActivityBufferAlignment, capacity_);
  if (p == nullptr) throw std::bad_alloc();
  data_.reset(static_cast<uint8_t*>(p));
}

ActivityBufferPool::ActivityBufferPool(BufferPoolOptions options) : options_(options) {}

ActivityBufferPool::~ActivityBufferPool() = default;

void ActivityBufferPool::record_error(std::string message) noexcept {
  // Called with mutex_ held. Logged at once (one line) so that a failure inside a callback is
  // visible even if nobody reads take_errors().
  std::fprintf(stderr, "p4s cupti: %s\n", message.c_str());
  if (errors_.size() < kMaxKeptErrors) {
    try {
      errors_.push_back(std::move(message));
      return;
    } catch (...) {
    }
  }
  ++errors_not_kept_;
}

void ActivityBufferPool::on_buffer_requested(uint8_t** buffer, size_t* size,
                                             size_t* max_records) noexcept {
  if (buffer == nullptr || size == nullptr) return;
  *buffer = nullptr;
  *size = 0;
  if (max_records != nullptr) *max_records = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  if (lent_.size() + completed_.size() >= options_.max_buffers) {
    ++declined_;
    if (!cap_reported_) {
      cap_reported_ = true;
      try {
        record_error("activity buffer cap reached (" + std::to_string(options_.max_buffers) +
                     " buffers of " + std::to_string(options_.buffer_bytes) +
                     " bytes); CUPTI will drop records until buffers are collected");
      } catch (...) {
        ++errors_not_kept_;
      }
    }
    return;
  }
  try {
    ActivityBuffer b(options_.buffer_bytes);
    uint8_t* p = b.data();
    const size_t n = b.capacity();
    lent_.emplace(p, std::move(b));
    *buffer = p;
    *size = n;
  } catch (...) {
    ++declined_;
    try {
      record_error("cannot allocate an activity buffer of " +
                   std::to_string(options_.buffer_bytes) + " bytes; CUPTI will drop records");
    } catch (...) {
      ++errors_not_kept_;
    }
  }
}

void ActivityBufferPool::on_buffer_completed(uint8_t* buffer, size_t /*size*/,
                                             size_t valid_bytes) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = lent_.find(buffer);
  if (it == lent_.end()) {
    // Not ours (or given up at teardown): leave it alone rather than free what we do not own.
    try {
      char text[96];
      std::snprintf(text, sizeof text, "CUPTI completed a buffer this pool did not lend (%p)",
                    static_cast<void*>(buffer));
      record_error(text);
    } catch (...) {
      ++errors_not_kept_;
    }
    return;
  }
  if (valid_bytes == 0) {
    lent_.erase(it);  // nothing in it
    return;
  }
  try {
    it->second.set_valid_bytes(valid_bytes);
    completed_.push_back(std::move(it->second));
    lent_.erase(it);
    cap_reported_ = false;
  } catch (...) {
    // push_back could not grow: the records are lost, and said so.
    lent_.erase(it);
    try {
      record_error("out of memory while queueing a completed activity buffer; its records are lost");
    } catch (...) {
      ++errors_not_kept_;
    }
  }
}

std::vector<ActivityBuffer> ActivityBufferPool::take_completed() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ActivityBuffer> out;
  out.swap(completed_);
  return out;
}

std::vector<std::string> ActivityBufferPool::take_errors() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.swap(errors_);
  if (errors_not_kept_ > 0) {
    out.push_back("... and " + std::to_string(errors_not_kept_) + " more activity buffer errors");
    errors_not_kept_ = 0;
  }
  return out;
}

size_t ActivityBufferPool::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lent_.size();
}

size_t ActivityBufferPool::completed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_.size();
}

uint64_t ActivityBufferPool::declined_requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return declined_;
}

size_t ActivityBufferPool::abandon_in_flight() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t n = lent_.size();
  for (auto& entry : lent_) entry.second.leak();  // CUPTI may still write into these
  lent_.clear();
  return n;
}

}  // namespace p4s::cupti
