// A model of PyTorch's CUDA caching allocator, replaying the allocations and releases of a
// simulated training step (memory_sim.hpp) to find what the allocator reserves from the device
// (`mem_reserved`) and what it counts as allocated (`mem_alloc`: whole blocks, so a request
// served by a larger cached block that is not split counts the whole block).
//
// The allocator rounds requests to 512 bytes; requests up to 1 MiB come from a small pool of
// 2 MiB segments, larger ones from a large pool (segments of 20 MiB for requests under 10 MiB,
// else the request rounded up to 2 MiB); a request takes the smallest cached free block that
// fits (best fit, lowest address on ties) and splits it when enough remains (small pool:
// 512 bytes; large pool: more than 1 MiB); freed blocks merge with free neighbours.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/memory_sim.hpp"

namespace p4s::sim {

struct CachingAllocatorConfig {
  int64_t min_block_bytes = 512;
  int64_t small_request_bytes = int64_t{1} << 20;   // requests up to this use the small pool
  int64_t small_segment_bytes = int64_t{2} << 20;
  int64_t large_segment_bytes = int64_t{20} << 20;  // for requests under min_large_alloc
  int64_t min_large_alloc_bytes = int64_t{10} << 20;
  int64_t large_round_bytes = int64_t{2} << 20;
  // Blocks at least this large are never split, and requests of this size or more only take
  // blocks that are not much larger (PyTorch's max_split_size_mb; unlimited by default).
  int64_t max_split_bytes = INT64_MAX;
  // Release cached segments that are entirely free before each step (torch.cuda.empty_cache(),
  // as perf4sight's profiler did before every measured step).
  bool empty_cache_before_steps = false;
};

struct AllocatorReplay {
  int64_t peak_reserved_bytes = 0;   // during the last step, from its start
  int64_t peak_allocated_bytes = 0;  // during the last step, whole blocks counted
  int64_t reserved_at_start_bytes = 0;  // when the last step began
  int segments = 0;                  // segments reserved at the end
};

// Replays `events` (MemoryEvent::step tells the steps apart; the last step is the measured
// one). Events must be well formed: each tensor allocated once, released at most once.
AllocatorReplay replay_caching_allocator(const std::vector<MemoryEvent>& events,
                                         const CachingAllocatorConfig& config = {});

}  // namespace p4s::sim
