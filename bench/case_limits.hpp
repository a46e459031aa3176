// What a network case can be run at: its tensors' bytes and its step's FLOPs (the flops counter)
// are 64-bit counts in LibTorch and here, and a NetSpec at an absurd batch overflows them. Such
// pairs are refused before anything runs, rather than overflowing midway.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/networks.hpp"

namespace p4s::bench {

// Whether the network at `batch` keeps every tensor's bytes and its training step's FLOPs below
// 2^62.
bool fits_in_64_bits(const modelgen::ShapedNet& net, int64_t batch);

// Throws InputError naming `flag`, the network's file and name, and the batch, for the first
// pair that does not fit in 64 bits.
void check_network_batches(const std::vector<BenchNet>& nets, const std::vector<int64_t>& batches,
                           const std::string& flag);

}  // namespace p4s::bench
