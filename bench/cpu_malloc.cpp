#include "bench/cpu_malloc.hpp"

#include <malloc.h>

#include <climits>
#include <stdexcept>

namespace p4s::bench {

std::string configure_cpu_malloc(bool steady) {
  if (!steady) return "system: glibc's defaults (large blocks mapped, freed memory returned, thresholds adapting)";
  if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TRIM_THRESHOLD, INT_MAX) != 1)
    throw std::runtime_error("--p4s_cpu_malloc=steady: glibc refused mallopt(M_MMAP_MAX / M_TRIM_THRESHOLD)");
  return "steady: glibc mallopt M_MMAP_MAX=0, M_TRIM_THRESHOLD=INT_MAX; the heap is trimmed before each case";
}

}  // namespace p4s::bench
