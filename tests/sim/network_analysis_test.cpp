// The network analysis: the simulated step it shows peaks where its memory envelope says.
#include <gtest/gtest.h>

#include <string>

#include "modelgen/network_library.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::sim {
namespace {

// The simulated step that `p4s predict --peak` shows is the one whose peak the memory models
// weigh (through its envelope: exact on a CPU, within the 512-byte rounding of the live tensors
// on CUDA), on either runtime.
TEST(NetworkAnalysis, TheSimulatedStepPeaksAtTheSimulatedPeak) {
  modelgen::NetworkLibrary library;
  sim::DeviceRuntime cuda, cpu;
  cpu.kind = sim::DeviceKind::kCpu;
  sim::AnalysisCache cache;
  for (const char* name : {"resnet18_cifar10_p50_s1", "mobilenetv2_cifar10", "squeezenet1.1"})
    for (const sim::DeviceRuntime& runtime : {cuda, cpu}) {
      const sim::NetworkAnalysis& a = cache.get(library.get(name), runtime);
      for (int64_t batch : {1, 3, 16, 64}) {
        SCOPED_TRACE(std::string(name) + " batch " + std::to_string(batch));
        const sim::MemorySimResult sim = a.simulate(batch);
        if (runtime.kind == sim::DeviceKind::kCpu)
          EXPECT_EQ(static_cast<double>(sim.peak_bytes), a.sim_peak_bytes(batch));
        else
          EXPECT_NEAR(static_cast<double>(sim.peak_bytes), a.sim_peak_bytes(batch), 1e-3 * a.sim_peak_bytes(batch));
        EXPECT_GE(sim.peak_layer, 0);
      }
      EXPECT_THROW(a.simulate(a.max_batch() + 1), std::out_of_range);
    }
}

}  // namespace
}  // namespace p4s::sim
