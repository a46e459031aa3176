// The memory simulation (sim/memory_sim.hpp) against real LibTorch training steps on this
// CPU: the peak that the tracking allocator measures over a steady-state step (after warm-up
// steps) must equal the simulated peak to the byte. Networks: the real TX2 NetSpecs of three
// families at pruning levels that keep the steps quick, and a few batch sizes each, covering
// the backend's kernel paths (single samples, small and large batches).
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <fstream>
#include <string>

#include "bench/mem_alloc.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/torch/training_step.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s {
namespace {

// oneDNN's blocked layout is 16 channels wide with AVX-512, 8 with AVX2.
int channel_block() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) return line.find(" avx512f") != std::string::npos ? 16 : 8;
  return 8;
}

struct Case {
  const char* net;
  int64_t batch;
};

class MemorySimAgainstLibTorch : public testing::TestWithParam<Case> {};

TEST_P(MemorySimAgainstLibTorch, PeakEqualsTheTrackingAllocatorsToTheByte) {
  bench::CpuAllocationTracker& tracker = bench::CpuAllocationTracker::install();
  const std::string path = test::kTx2Dir + "/" + GetParam().net + ".json";
  const modelgen::NetSpec spec = modelgen::read_netspec(path);
  const modelgen::ShapedNet shapes = modelgen::infer_shapes(spec);
  const int64_t batch = GetParam().batch;

  int64_t measured = 0;
  {
    const int64_t before = tracker.live_bytes();
    modelgen_torch::TrainingStep step(spec, batch, torch::kCPU, path);
    step.run();  // warm-up: gradients and momentum buffers are born here
    step.run();
    tracker.reset_peak();
    step.run();
    measured = tracker.peak_bytes() - before;
  }
  const auto backend = sim::make_libtorch_cpu_backend(channel_block(), at::get_num_threads());
  sim::RuntimeOptions options;  // LibTorch's semantics are the defaults
  options.relu6_inplace_copies_input = true;
  options.adaptive_pool_saves_input = true;
  const int64_t simulated = sim::simulate_training_step(spec, shapes, batch, *backend, options).peak_bytes;
  EXPECT_EQ(simulated, measured) << GetParam().net << " at batch " << batch << ": measured " << measured
                                  << " bytes, simulated " << simulated;
}

INSTANTIATE_TEST_SUITE_P(Tx2Networks, MemorySimAgainstLibTorch,
                         testing::Values(Case{"resnet18_85", 1}, Case{"resnet18_85", 5},
                                         Case{"resnet18_90", 16}, Case{"mobilenetv2_85", 1},
                                         Case{"mobilenetv2_85", 6}, Case{"mobilenetv2_90", 17},
                                         Case{"squeezenet_75", 1}, Case{"squeezenet_75", 4},
                                         Case{"squeezenet_90", 16}),
                         [](const testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.net) + "_bs" + std::to_string(p.param.batch);
                         });

}  // namespace
}  // namespace p4s
