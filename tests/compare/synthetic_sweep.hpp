// Synthetic result files shaped like the bench suite's: layer and network cases, named as the
// bench names them (`.../manual_time`), several repetitions each written as Google Benchmark
// writes them with --benchmark_display_aggregates_only (the iteration entries, then the mean,
// median, stddev and cv aggregates), noisy latencies, deterministic mem_alloc, a noisy mem_used,
// and out-of-memory entries for the largest batch. They stand in for pairs of real runs until
// such pairs are kept in tests/data/compare/.
#pragma once

#include <cstdint>
#include <string>

namespace p4s::compare::testdata {

struct SweepModel {
  uint64_t seed = 1;           // the noise; two runs of the same sweep differ only in this
  int repetitions = 5;
  double latency_noise = 0.02; // relative standard deviation of a repetition's latency
  double mem_used_noise = 0.01;
  int threads = 1;             // LibTorch intra-op threads: large cases speed up with more
  double mem_alloc_extra_bytes = 0;  // added to every case's mem_alloc (a new allocator, ...)
  double mem_limit_bytes = 10e9;     // cases whose mem_alloc exceeds it run out of memory
};

// The Google Benchmark JSON text of one run of the sweep.
std::string synthetic_sweep_json(const SweepModel& model);

}  // namespace p4s::compare::testdata
