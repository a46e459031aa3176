// A user's benchmark binary as the plugin's tests run it: modules, a built-in network and a
// recipe registered while static objects are constructed, under the plugin's main
// (P4S_TEST_PLUGIN_MAIN) or Google Benchmark's own.
#include <benchmark/benchmark.h>

#include <perf4sight/benchmark.hpp>

#include "tests/plugin/tiny_modules.hpp"

namespace {

perf4sight::CaseOptions at(std::vector<int64_t> batches, std::optional<perf4sight::Recipe> recipe = std::nullopt) {
  perf4sight::CaseOptions o;
  o.batches = std::move(batches);
  o.recipe = std::move(recipe);
  return o;
}

const bool registered = [] {
  using p4s::test::AbsNet;
  using p4s::test::TinyResNet;
  perf4sight::RegisterModule("tiny_resnet", [] { return torch::nn::AnyModule(TinyResNet(10)); }, {3, 16, 16}, 10,
                             at({2, 4}));
  perf4sight::Recipe adam;
  adam.optimizer = p4s::results::Optimizer::kAdam;
  adam.lr = 1e-3;
  adam.weight_decay = 0;
  adam.train_from = "layer2";
  perf4sight::RegisterModule("tiny_resnet_tuned", [] { return torch::nn::AnyModule(TinyResNet(10)); }, {3, 16, 16},
                             10, at({2}, adam));
  perf4sight::RegisterModule("abs_net", [] { return torch::nn::AnyModule(AbsNet(5)); }, {3, 8, 8}, 5, at({2}));
  perf4sight::RegisterBuiltinNet("resnet18_cifar10", at({2}));
  perf4sight::RegisterLayerCases("quick");
  return true;
}();

}  // namespace

#ifdef P4S_TEST_PLUGIN_MAIN
P4S_BENCHMARK_MAIN();
#else
BENCHMARK_MAIN();
#endif
