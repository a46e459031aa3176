// Network cases whose tensors or FLOPs would overflow 64-bit counts at a batch are refused
// before anything runs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/case_limits.hpp"
#include "bench/options.hpp"
#include "modelgen/netspec_io.hpp"

namespace p4s::bench {
namespace {

// One 1x1 convolution to `channels` channels over a `hw` x `hw` input, pooled, classified.
BenchNet wide_net(int64_t channels, int64_t hw) {
  const std::string c = std::to_string(channels), s = std::to_string(hw);
  modelgen::NetSpec spec = modelgen::parse_netspec(R"({"netspec": 1, "name": "wide", "classes": 10,
    "input": {"channels": 1, "height": )" + s + R"(, "width": )" + s + R"(},
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 1, "out_channels": )" + c +
                                                   R"(, "kernel": 1, "bias": false},
      {"name": "pool", "op": "adaptive_avgpool2d", "inputs": ["conv"], "output_size": [1, 1]},
      {"name": "flat", "op": "flatten", "inputs": ["pool"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": )" + c + R"(, "out_features": 10}],
    "output": "fc"})",
                                                   "wide.json");
  modelgen::ShapedNet shapes = modelgen::infer_shapes(spec, "wide.json");
  return BenchNet{std::move(spec), std::move(shapes), "wide.json"};
}

TEST(CaseLimits, SmallNetworksRunAtEveryBatchTheFlagsAccept) {
  const BenchNet n = wide_net(16, 32);
  EXPECT_TRUE(fits_in_64_bits(n.shapes, 1));
  EXPECT_TRUE(fits_in_64_bits(n.shapes, int64_t{1} << 24));
  EXPECT_NO_THROW(check_network_batches({n}, {1, 8, int64_t{1} << 24}, "--p4s_batch"));
}

TEST(CaseLimits, HugeActivationsAtAHugeBatchAreRefusedNamingTheNetwork) {
  // 2^39 floats per sample: 2 TiB at batch 1, past 2^62 bytes at batch 2^22.
  const BenchNet n = wide_net(int64_t{1} << 15, int64_t{1} << 12);
  EXPECT_TRUE(fits_in_64_bits(n.shapes, 1));
  EXPECT_FALSE(fits_in_64_bits(n.shapes, int64_t{1} << 22));
  EXPECT_FALSE(fits_in_64_bits(n.shapes, 0));
  try {
    check_network_batches({n}, {2, int64_t{1} << 22}, "--p4s_batch");
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "--p4s_batch: wide.json: network \"wide\" at batch 4194304: its tensors or its "
                                     "step's FLOPs would pass 2^62, beyond what 64-bit counts hold");
  }
}

}  // namespace
}  // namespace p4s::bench
