// The memory envelope gives the simulation's peak at any batch size from a few simulations.
#include <gtest/gtest.h>

#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_envelope.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::sim {
namespace {

void expect_envelope_matches(const modelgen::NetSpec& spec, const MemoryBackend& backend, RuntimeOptions o,
                             double tolerance) {
  const auto net = modelgen::infer_shapes(spec);
  const MemoryEnvelope env(spec, net, backend, o);
  for (int64_t batch : {1, 2, 3, 7, 15, 16, 17, 64, 200, 1000}) {
    const MemorySimResult r = simulate_training_step(spec, net, batch, backend, o);
    EXPECT_NEAR(env.peak_bytes(batch), static_cast<double>(r.peak_bytes), tolerance * r.peak_bytes)
        << spec.name << " batch " << batch;
    EXPECT_NEAR(env.persistent_bytes(batch), static_cast<double>(r.persistent_bytes), tolerance * r.persistent_bytes);
  }
}

TEST(MemoryEnvelope, IsExactWithoutRoundingOnEveryKernelPath) {
  const std::string dir = test::kTx2Dir + "/";
  const auto cpu = make_libtorch_cpu_backend(16, 1);
  RuntimeOptions o;
  o.relu6_inplace_copies_input = true;
  o.adaptive_pool_saves_input = true;
  for (const char* name : {"resnet18_70", "mobilenetv2_50", "squeezenet_30"})
    expect_envelope_matches(modelgen::read_netspec(dir + name + ".json"), *cpu, o, 0.0);
  expect_envelope_matches(modelgen::make_builtin_network("googlenet_cifar10"), *cpu, o, 0.0);
}

TEST(MemoryEnvelope, StaysWithinTheRoundingOfLiveTensors) {
  const auto cuda = make_cuda_backend();
  RuntimeOptions o;
  o.round_bytes = 512;
  expect_envelope_matches(modelgen::make_builtin_network("resnet18_p50_s1"), *cuda, o, 1e-3);
  expect_envelope_matches(modelgen::make_builtin_network("vgg11bn_cifar100"), *cuda, o, 1e-3);
}

TEST(MemoryEnvelope, RefusesBatchZero) {
  const auto cuda = make_cuda_backend();
  const auto spec = modelgen::make_builtin_network("resnet18_cifar10");
  const MemoryEnvelope env(spec, modelgen::infer_shapes(spec), *cuda, {});
  EXPECT_THROW(env.peak_bytes(0), std::invalid_argument);
}

}  // namespace
}  // namespace p4s::sim
