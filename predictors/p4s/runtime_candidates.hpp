// Which device runtimes (sim/device_runtime.hpp) the fit chooses among for a set of results:
// what their context settles (the device, LibTorch's threads, the CPU's vector width, the
// framework's version) is fixed, the rest is tried.
#pragma once

#include <vector>

#include "results_format/reader.hpp"
#include "sim/device_runtime.hpp"

namespace p4s::predictors {

// CUDA when the results carry `mem_reserved` or their context names a CUDA device.
sim::DeviceKind device_kind_of(const results::ResultSet& results);

// The runtimes the fit chooses among for these results: the semantics that differ between
// framework versions, and the CPU layout width, where the context does not settle them. The
// allocator protocol (empty_cache_before_steps) is chosen separately, on mem_reserved.
std::vector<sim::DeviceRuntime> candidate_runtimes(const results::ResultSet& results);

}  // namespace p4s::predictors
