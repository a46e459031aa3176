// A portable random source for the fit stage: the same seed gives the same numbers on every
// platform and standard library.
//
// std::mt19937_64's output sequence is fixed by the C++ standard, but the std distributions
// (uniform_real_distribution, uniform_int_distribution, ...) are implementation-defined, so
// this class takes the engine's raw 64-bit outputs and converts them itself:
//   - uniform01(): the top 53 bits of one output times 2^-53, a double in [0, 1) on the grid
//     k * 2^-53 (every value exactly representable, no rounding, no bias);
//   - below(n): an integer in [0, n) by rejection of the engine's incomplete last block, so
//     it is exactly uniform (no modulo bias).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace p4s {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // The engine's next raw output.
  uint64_t next() { return engine_(); }

  // Uniform double in [0, 1): (next() >> 11) * 2^-53.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n). Precondition: n > 0.
  uint64_t below(uint64_t n);

 private:
  std::mt19937_64 engine_;
};

// Seeds for `count` independent streams derived from one seed: the first `count` raw outputs
// of std::mt19937_64(seed). Gives every tree of a forest its own stream, so trees can be grown
// in any order or in parallel and still come out the same.
std::vector<uint64_t> stream_seeds(uint64_t seed, std::size_t count);

}  // namespace p4s
