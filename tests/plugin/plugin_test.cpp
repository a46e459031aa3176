// The plugin as a user's binary uses it (plugin_cases.cpp, under the plugin's main and under
// Google Benchmark's): the registered cases' names, their counters and the results' context,
// the modules' NetSpecs; and, in this process, a module described as a NetSpec whose simulated
// peak memory equals the measured one to the byte, the frozen part of a module, and the
// registry's checks.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <ATen/ops/mse_loss.h>
#include <ATen/ops/one_hot.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench/mem_alloc.hpp"
#include "bench/plugin_registry.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/module_training_step.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"
#include "tests/cpu_channel_block.hpp"
#include "tests/plugin/tiny_modules.hpp"
#include "tests/run_program.hpp"

namespace p4s {
namespace {

using nlohmann::json;

using Result = test::ProgramResult;
using test::slurp;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "p4s_plugin_" + std::to_string(getpid()) + "_" + name;
}

Result run(const std::string& exe, const std::vector<std::string>& args) {
  return test::run_program(exe, args, temp_path(""));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const std::string& l : lines_of(text))
    if (l == line) return true;
  return false;
}

TEST(PluginMain, ListsTheRegisteredCasesAndNoSweepUnlessAsked) {
  const Result r = run(P4S_PLUGIN_MAIN_EXE, {"--benchmark_list_tests"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> expected = {
      "Net/tiny_resnet/bs:2/manual_time", "Net/tiny_resnet/bs:4/manual_time",
      "Net/tiny_resnet_tuned/bs:2/opt:adam/from:layer2/manual_time", "Net/abs_net/bs:2/manual_time",
      "Net/resnet18_cifar10/bs:2/manual_time"};
  std::vector<std::string> nets;
  int layer_cases = 0;
  for (const std::string& l : lines_of(r.out)) (l.rfind("Net/", 0) == 0 ? nets.push_back(l) : void(++layer_cases));
  EXPECT_EQ(nets, expected);
  EXPECT_GT(layer_cases, 10);  // RegisterLayerCases("quick")
  EXPECT_TRUE(has_line(r.out, "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:1/manual_time"));

  // --p4s_sweep adds a sweep's cases to the registered ones.
  const Result with_sweep = run(P4S_PLUGIN_MAIN_EXE, {"--p4s_sweep=quick", "--benchmark_list_tests"});
  ASSERT_EQ(with_sweep.status, 0) << with_sweep.err;
  EXPECT_TRUE(has_line(with_sweep.out, "Net/mobilenetv2_cifar10/bs:8/manual_time"));  // the sweep's networks
}

TEST(PluginMain, MeasuresAModuleCaseWithTheSuitesCountersContextAndNetSpec) {
  const std::string results = temp_path("plugin.json"), nets = temp_path("nets");
  const Result r = run(P4S_PLUGIN_MAIN_EXE, {"--benchmark_filter=Net/(tiny_resnet|abs_net)/bs:2/manual_time",
                                             "--benchmark_out=" + results, "--p4s_netspec_out=" + nets,
                                             "--benchmark_min_time=0.01"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string program = std::filesystem::path(P4S_PLUGIN_MAIN_EXE).filename().string();
  EXPECT_NE(r.err.find(program + ": abs_net: no NetSpec ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("aten::abs"), std::string::npos) << r.err;
  // The progress line names the program, not the suite's bench.
  EXPECT_NE(r.err.find(program + ": [2/2] "), std::string::npos) << r.err;
  const json j = json::parse(slurp(results));
  EXPECT_EQ(j.at("context").at("p4s_device"), "cpu");
  EXPECT_EQ(j.at("context").at("p4s_sweep"), "none");
  EXPECT_EQ(j.at("context").at("p4s_optimizer"), "sgd");
  std::map<std::string, json> by_name;
  for (const json& b : j.at("benchmarks")) by_name[b.at("name").get<std::string>()] = b;
  ASSERT_EQ(by_name.size(), 2u) << j.dump(1);
  const json& tiny = by_name.at("Net/tiny_resnet/bs:2/manual_time");
  EXPECT_GT(tiny.at("mem_alloc").get<double>(), 0);
  EXPECT_GT(tiny.at("mem_used").get<double>(), 0);
  EXPECT_GT(tiny.at("real_time").get<double>(), 0);
  EXPECT_EQ(tiny.at("params").get<int64_t>(), modelgen_torch::parameter_count(*test::TinyResNet(10)));
  EXPECT_FALSE(by_name.at("Net/abs_net/bs:2/manual_time").contains("flops"));  // not described

  // The module as a NetSpec: the same parameters, and the flops counter is its step's.
  const modelgen::NetSpec spec = modelgen::read_netspec(nets + "/tiny_resnet.json");
  const modelgen::ShapedNet shapes = modelgen::infer_shapes(spec);
  EXPECT_EQ(shapes.params, tiny.at("params").get<int64_t>());
  EXPECT_EQ(tiny.at("flops").get<int64_t>(), shapes.training_flops(2));
  EXPECT_FALSE(std::filesystem::exists(nets + "/abs_net.json"));
  // Not remove_all: the torch wheel's libtorch.so exports a std::filesystem of its own (an older
  // libstdc++'s), which takes the calls of whatever links it, and its remove_all crashes.
  for (const auto& entry : std::filesystem::directory_iterator(nets)) std::filesystem::remove(entry.path());
  std::filesystem::remove(nets);
  std::remove(results.c_str());
}

TEST(PluginMain, BadFlagsAreOneLineNamingTheProgram) {
  const Result r = run(P4S_PLUGIN_MAIN_EXE, {"--p4s_batch=0", "--benchmark_list_tests"});
  EXPECT_EQ(r.status, 2);
  const std::string program = std::filesystem::path(P4S_PLUGIN_MAIN_EXE).filename().string();
  EXPECT_EQ(r.err, program + ": --p4s_batch: \"0\" is not a batch size (a whole number from 1 to 16777216)\n");
}

TEST(GoogleBenchmarkMain, RegistersTheSameCasesWithTheContextKeys) {
  const Result list = run(P4S_GOOGLE_MAIN_EXE, {"--benchmark_list_tests"});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_TRUE(has_line(list.out, "Net/tiny_resnet/bs:4/manual_time"));
  EXPECT_TRUE(has_line(list.out, "Net/tiny_resnet_tuned/bs:2/opt:adam/from:layer2/manual_time"));

  const std::string results = temp_path("google.json");
  const Result r = run(P4S_GOOGLE_MAIN_EXE, {"--benchmark_filter=Net/tiny_resnet_tuned/", "--benchmark_out=" + results,
                                             "--benchmark_min_time=0.01"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(results));
  EXPECT_EQ(j.at("context").at("p4s_device"), "cpu");
  EXPECT_EQ(j.at("context").at("p4s_optimizer"), "sgd");
  EXPECT_TRUE(j.at("context").contains("p4s_state_start_cpu_governor") || j.at("context").size() > 10);
  ASSERT_EQ(j.at("benchmarks").size(), 1u);
  const json& b = j.at("benchmarks").at(0);
  EXPECT_EQ(b.at("name"), "Net/tiny_resnet_tuned/bs:2/opt:adam/from:layer2/manual_time");
  EXPECT_GT(b.at("mem_alloc").get<double>(), 0);
  std::remove(results.c_str());
}

using test::channel_block;

// A module nobody wrote as a NetSpec, described by tracing, for the default recipe and for
// Adam with a frozen part. The trace sees ops, not the forward's C++ variables: a NetSpec
// network frees each activation after its last consumer, while the module's locals (x in
// `x = layer2(layer1(x))`) hold theirs until they are assigned or go out of scope, as Python's
// do. So the measured peak is at least the simulated one, and above it by no more than the
// tensors such locals hold: here, bounded by two of the largest activations.
TEST(DescribedModule, SimulatedPeakBoundsTheModulesMeasuredStep) {
  bench::CpuAllocationTracker& tracker = bench::CpuAllocationTracker::install();
  const bench::ModuleNet net{"tiny_resnet", [] { return torch::nn::AnyModule(test::TinyResNet(10)); }, {3, 16, 16}, 10};
  const modelgen::NetSpec spec = bench::describe_module(net);
  EXPECT_EQ(spec.name, "tiny_resnet");
  EXPECT_EQ(spec.classes, 10);
  EXPECT_GE(spec.find_layer("layer2_down_conv"), 0);
  const modelgen::ShapedNet shapes = modelgen::infer_shapes(spec);
  int64_t largest = 0;  // elements of one sample's largest activation
  for (const modelgen::LayerShape& l : shapes.layers) largest = std::max(largest, l.out.numel());
  results::Recipe adam;
  adam.optimizer = results::Optimizer::kAdam;
  adam.train_from = "layer2";
  for (const results::Recipe& recipe : {results::default_recipe(), adam}) {
    for (int64_t batch : {1, 6}) {
      int64_t measured = 0;
      {
        const int64_t before = tracker.live_bytes();
        modelgen_torch::ModuleTrainingStep step(net.factory(), spec.input, 10, batch, torch::kCPU, "tiny_resnet", recipe);
        step.run();
        step.run();
        tracker.reset_peak();
        step.run();
        measured = tracker.peak_bytes() - before;
      }
      results::Recipe sim_recipe = recipe;
      if (!recipe.train_from.empty()) sim_recipe.train_from = "layer2_conv1";  // the NetSpec's first layer of layer2
      const auto backend = sim::make_libtorch_cpu_backend(channel_block(), at::get_num_threads());
      sim::RuntimeOptions options;
      options.relu6_inplace_copies_input = true;
      options.adaptive_pool_saves_input = true;
      const int64_t simulated =
          sim::simulate_training_step(spec, shapes, batch, *backend, options, sim_recipe).peak_bytes;
      EXPECT_GE(measured, simulated) << "batch " << batch << ", " << recipe.describe();
      EXPECT_LE(measured - simulated, 2 * largest * batch * 4) << "batch " << batch << ", " << recipe.describe();
    }
  }
}

TEST(ModuleTrainingStep, FreezesWhatComesBeforeTrainFrom) {
  test::TinyResNet m(10);
  const std::vector<torch::Tensor> trainable = modelgen_torch::freeze_module_before(*m, "layer2", true, "tiny");
  int64_t n = 0;
  for (const torch::Tensor& p : trainable) n += p.numel();
  EXPECT_EQ(n, modelgen_torch::parameter_count(*m->layer2) + modelgen_torch::parameter_count(*m->fc));
  EXPECT_FALSE(m->stem->weight.requires_grad());
  EXPECT_FALSE(m->layer1->bn1->is_training());
  EXPECT_TRUE(m->layer2->bn1->is_training());
  try {
    modelgen_torch::freeze_module_before(*m, "layer9", false, "tiny");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "tiny: train_from: \"layer9\" names no submodule with parameters");
  }
}

TEST(ModuleTrainingStep, AForwardThatReturnsNoLogitsIsNamed) {
  modelgen_torch::ModuleTrainingStep step(torch::nn::AnyModule(test::TinyResNet(10)), {3, 8, 8}, 7, 2, torch::kCPU,
                                          "module tiny");
  try {
    step.run();
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "module tiny: forward: returned a tensor of sizes [2, 10], not [2, 7] logits");
  }
}

TEST(ModuleTrainingStep, RunsTheGivenLossInsteadOfCrossEntropy) {
  int calls = 0;
  modelgen_torch::ModuleTrainingStep step(
      torch::nn::AnyModule(test::TinyResNet(10)), {3, 8, 8}, 10, 2, torch::kCPU, "tiny", results::default_recipe(),
      [&calls](const torch::Tensor& logits, const torch::Tensor& labels) {
        ++calls;
        return at::mse_loss(logits, at::one_hot(labels, 10).to(logits.scalar_type()));
      });
  step.run();
  step.run();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(step.last_loss().dim(), 0);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(PluginRegistry, RefusesBadRegistrationsInOneLine) {
  bench::PluginRegistry r;
  const auto factory = [] { return torch::nn::AnyModule(test::TinyResNet(10)); };
  EXPECT_EQ(error_of([&] { r.add_module({"a/b", factory, {3, 8, 8}, 10}, {}); }),
            "module a/b: name: \"a/b\" cannot name a case (no '/' or spaces)");
  EXPECT_EQ(error_of([&] { r.add_module({"", factory, {3, 8, 8}, 10}, {}); }), "module : name: is empty");
  EXPECT_EQ(error_of([&] { r.add_module({"m", factory, {3, 8, 8}, 10}, {{4, 0}, std::nullopt, nullptr}); }),
            "module m: batches: batch size 0 is below 1");
  EXPECT_EQ(error_of([&] { r.add_module({"m", factory, {3, 0, 8}, 10}, {}); }),
            "module m: input: sizes must be at least 1, got 3x0x8");
  EXPECT_EQ(error_of([&] { r.add_module({"m", factory, {3, 8, 8}, 0}, {}); }),
            "module m: classes: must be at least 1, got 0");
  EXPECT_EQ(error_of([&] { r.add_module({"m", nullptr, {3, 8, 8}, 10}, {}); }), "module m: factory: is empty");
  r.add_module({"m", factory, {3, 8, 8}, 10}, {});
  EXPECT_EQ(error_of([&] { r.add_module({"m", factory, {3, 8, 8}, 10}, {}); }),
            "module m: name: \"m\" is already the name of module m");
  EXPECT_EQ(error_of([&] { r.add_layer_sweep("fast"); }),
            "RegisterLayerCases: sweep: \"fast\" is not a sweep (quick, standard, full or none)");
  EXPECT_FALSE(r.empty());
}

TEST(DescribedModule, OpsOutsideNetSpecAreListed) {
  const bench::ModuleNet net{"abs_net", [] { return torch::nn::AnyModule(test::AbsNet(5)); }, {3, 8, 8}, 5};
  const std::string e = error_of([&] { bench::describe_module(net); });
  EXPECT_EQ(e.rfind("abs_net: 1 op is outside NetSpec 1.1: aten::abs", 0), 0u) << e;
}

}  // namespace
}  // namespace p4s
