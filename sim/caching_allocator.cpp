#include "sim/caching_allocator.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace p4s::sim {
namespace {

struct Block {
  int64_t size = 0;
  int64_t addr = 0;
  int segment = -1;
  int prev = -1;  // neighbours within the segment
  int next = -1;
  bool allocated = false;
  bool small = false;
};

class CachingAllocator {
 public:
  explicit CachingAllocator(const CachingAllocatorConfig& c) : c_(c) {}

  int malloc(int64_t request) {
    const int64_t size = round(request);
    const bool small = size <= c_.small_request_bytes;
    int b = best_fit(size, small);
    if (b < 0) b = new_segment(size, small);
    take(b);
    if (should_split(b, size)) split(b, size);
    allocated_ += blocks_[b].size;
    peak_allocated_ = std::max(peak_allocated_, allocated_);
    return b;
  }

  void free(int b) {
    Block& blk = blocks_[static_cast<size_t>(b)];
    allocated_ -= blk.size;
    blk.allocated = false;
    // Merge with free neighbours, then cache the result.
    for (int n : {blk.prev, blk.next}) {
      if (n < 0 || blocks_[static_cast<size_t>(n)].allocated) continue;
      pool(blocks_[n].small).erase(key(n));
      merge(b, n);
    }
    pool(blk.small).insert(key(b));
  }

  // Releases every cached segment that holds a single free block.
  void empty_cache() {
    for (auto* p : {&small_pool_, &large_pool_}) {
      for (auto it = p->begin(); it != p->end();) {
        const Block& blk = blocks_[static_cast<size_t>(std::get<2>(*it))];
        if (blk.prev < 0 && blk.next < 0) {
          reserved_ -= blk.size;
          --segments_;
          it = p->erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  void reset_peaks() {
    peak_reserved_ = reserved_;
    peak_allocated_ = allocated_;
  }

  int64_t reserved() const { return reserved_; }
  int64_t peak_reserved() const { return peak_reserved_; }
  int64_t peak_allocated() const { return peak_allocated_; }
  int segments() const { return segments_; }

 private:
  using Key = std::tuple<int64_t, int64_t, int>;  // size, address, block
  Key key(int b) const { return Key{blocks_[b].size, blocks_[b].addr, b}; }
  std::set<Key>& pool(bool small) { return small ? small_pool_ : large_pool_; }

  int64_t round(int64_t request) const {
    const int64_t m = c_.min_block_bytes;
    return request < m ? m : (request + m - 1) / m * m;
  }

  int best_fit(int64_t size, bool small) {
    std::set<Key>& p = pool(small);
    for (auto it = p.lower_bound(Key{size, INT64_MIN, -1}); it != p.end(); ++it) {
      const int64_t bs = std::get<0>(*it);
      // Oversize blocks serve only requests of their own kind and close size.
      if (size < c_.max_split_bytes && bs >= c_.max_split_bytes) return -1;
      if (size >= c_.max_split_bytes && bs >= size + c_.large_segment_bytes) return -1;
      return std::get<2>(*it);
    }
    return -1;
  }

  int new_segment(int64_t size, bool small) {
    int64_t bytes;
    if (small)
      bytes = c_.small_segment_bytes;
    else if (size < c_.min_large_alloc_bytes)
      bytes = c_.large_segment_bytes;
    else
      bytes = (size + c_.large_round_bytes - 1) / c_.large_round_bytes * c_.large_round_bytes;
    Block blk;
    blk.size = bytes;
    blk.addr = next_addr_;
    blk.segment = segments_total_++;
    blk.small = small;
    next_addr_ += bytes;
    reserved_ += bytes;
    ++segments_;
    peak_reserved_ = std::max(peak_reserved_, reserved_);
    blocks_.push_back(blk);
    const int b = static_cast<int>(blocks_.size() - 1);
    pool(small).insert(key(b));
    return b;
  }

  void take(int b) {
    pool(blocks_[b].small).erase(key(b));
    blocks_[b].allocated = true;
  }

  bool should_split(int b, int64_t size) const {
    const Block& blk = blocks_[static_cast<size_t>(b)];
    const int64_t remaining = blk.size - size;
    if (blk.small) return remaining >= c_.min_block_bytes;
    return blk.size < c_.max_split_bytes && remaining > c_.small_request_bytes;
  }

  void split(int b, int64_t size) {
    Block rest;
    {
      Block& blk = blocks_[static_cast<size_t>(b)];
      rest.size = blk.size - size;
      rest.addr = blk.addr + size;
      rest.segment = blk.segment;
      rest.prev = b;
      rest.next = blk.next;
      rest.small = blk.small;
      blk.size = size;
    }
    blocks_.push_back(rest);
    const int r = static_cast<int>(blocks_.size() - 1);
    if (rest.next >= 0) blocks_[static_cast<size_t>(rest.next)].prev = r;
    blocks_[static_cast<size_t>(b)].next = r;
    pool(rest.small).insert(key(r));
  }

  // Absorbs free neighbour n into b.
  void merge(int b, int n) {
    Block& blk = blocks_[static_cast<size_t>(b)];
    Block& nb = blocks_[static_cast<size_t>(n)];
    if (nb.addr < blk.addr) {
      blk.addr = nb.addr;
      blk.prev = nb.prev;
      if (nb.prev >= 0) blocks_[static_cast<size_t>(nb.prev)].next = b;
    } else {
      blk.next = nb.next;
      if (nb.next >= 0) blocks_[static_cast<size_t>(nb.next)].prev = b;
    }
    blk.size += nb.size;
    nb.size = 0;
    nb.prev = nb.next = -1;
  }

  const CachingAllocatorConfig& c_;
  std::vector<Block> blocks_;
  std::set<Key> small_pool_, large_pool_;
  int64_t next_addr_ = 0;
  int64_t reserved_ = 0, peak_reserved_ = 0;
  int64_t allocated_ = 0, peak_allocated_ = 0;
  int segments_ = 0, segments_total_ = 0;
};

}  // namespace

AllocatorReplay replay_caching_allocator(const std::vector<MemoryEvent>& events,
                                         const CachingAllocatorConfig& config) {
  int last_step = 0;
  for (const MemoryEvent& e : events) last_step = std::max(last_step, e.step);
  CachingAllocator a(config);
  std::unordered_map<int, int> block_of;  // tensor -> block (absent: zero bytes)
  int step = 0;
  AllocatorReplay out;
  for (const MemoryEvent& e : events) {
    if (e.step != step) {
      step = e.step;
      // perf4sight's order: reset the peak statistics, then empty the cache.
      if (step == last_step) a.reset_peaks();
      if (config.empty_cache_before_steps && step > 0) a.empty_cache();
      if (step == last_step) out.reserved_at_start_bytes = a.reserved();
    }
    if (e.alloc) {
      if (e.bytes == 0) continue;  // empty tensors take no block
      if (!block_of.emplace(e.tensor, a.malloc(e.bytes)).second)
        throw std::invalid_argument("replay_caching_allocator: tensor " + std::to_string(e.tensor) + " allocated twice");
    } else {
      auto it = block_of.find(e.tensor);
      if (it == block_of.end()) {
        if (e.bytes == 0) continue;
        throw std::invalid_argument("replay_caching_allocator: tensor " + std::to_string(e.tensor) + " released but not held");
      }
      a.free(it->second);
      block_of.erase(it);
    }
  }
  out.peak_reserved_bytes = a.peak_reserved();
  out.peak_allocated_bytes = a.peak_allocated();
  out.segments = a.segments();
  return out;
}

}  // namespace p4s::sim
