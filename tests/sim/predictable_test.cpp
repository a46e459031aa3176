// How far predictions reach: batches beyond petabytes are refused, not overflowed.
#include <gtest/gtest.h>

#include <stdexcept>

#include "modelgen/network_library.hpp"
#include "sim/network_analysis.hpp"
#include "sim/predictable.hpp"

namespace p4s::sim {
namespace {

TEST(Predictable, BatchesBeyondPetabytesAreRefusedNotOverflowed) {
  modelgen::NetworkLibrary library;
  const modelgen::ResolvedNet& r18 = library.get("resnet18");
  const int64_t most = sim::max_predictable_batch(r18.shapes);
  EXPECT_GT(most, int64_t{1} << 20);  // every batch a command accepts
  EXPECT_LE(sim::step_bytes_bound(r18.shapes, most), sim::kMaxPredictableBytes);
  EXPECT_GT(sim::step_bytes_bound(r18.shapes, most + 1), sim::kMaxPredictableBytes);
  // The bound is above what the simulation holds.
  sim::DeviceRuntime cuda;
  cuda.kind = sim::DeviceKind::kCuda;
  sim::NetworkAnalysis a(r18, cuda);
  EXPECT_LT(a.sim_peak_bytes(64), sim::step_bytes_bound(r18.shapes, 64));
  EXPECT_LT(a.allocator_reserved_bytes(64), sim::step_bytes_bound(r18.shapes, 64));
  EXPECT_THROW(a.memory_feature("allocator_reserved", most + 1), std::out_of_range);
  EXPECT_THROW(a.allocator_reserved_bytes(most + 1), std::out_of_range);
}

}  // namespace
}  // namespace p4s::sim
