#include "common/rng.hpp"

#include <limits>
#include <stdexcept>

namespace p4s {

uint64_t Rng::below(uint64_t n) {
  if (n == 0) throw std::invalid_argument("Rng::below: n must be positive");
  // Accept only outputs below the largest multiple of n that fits in 2^64, so every residue
  // is equally likely. 2^64 mod n == (2^64 - n) mod n, computed without overflow.
  const uint64_t rejected = (std::numeric_limits<uint64_t>::max() - n + 1) % n;
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - rejected;  // inclusive
  uint64_t r = next();
  while (r > limit) r = next();
  return r % n;
}

std::vector<uint64_t> stream_seeds(uint64_t seed, std::size_t count) {
  std::mt19937_64 engine(seed);
  std::vector<uint64_t> seeds(count);
  for (uint64_t& s : seeds) s = engine();
  return seeds;
}

}  // namespace p4s
