#include "results_format/measurements.hpp"

namespace p4s::results {

const std::optional<double>& Measured::get(Target t) const {
  switch (t) {
    case Target::kLatencyMs: return latency_ms;
    case Target::kMemAlloc: return mem_alloc;
    case Target::kMemReserved: return mem_reserved;
    case Target::kMemUsed: return mem_used;
  }
  return latency_ms;
}

std::optional<double>& Measured::get(Target t) {
  return const_cast<std::optional<double>&>(static_cast<const Measured&>(*this).get(t));
}

}  // namespace p4s::results
