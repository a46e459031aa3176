// perf4sight's Google Benchmark plugin: training-step cases registered from a user's own code
// into Google Benchmark's registry, measured and named as the suite's bench measures its own
// (manual time per step after warm-up, the memory counters mem_alloc / mem_used /
// mem_reserved, params and flops, kernel counters on a GPU, an out-of-memory step reported as
// a skipped case "out of memory: ...", and the results' p4s_* context keys), so that
// `p4s fit`, `p4s evaluate` and `p4s compare` read the output like the suite's.
//
// A network case is named Net/<net>/bs:<N>, with the recipe's parts after the batch where a
// case's recipe differs from the run's (Net/<net>/bs:<N>/opt:adam). Layer cases are the
// suite's (Conv2d/cin:.../bs:<N>, ...): what `p4s fit` learns per-layer costs from.
//
//   #include <perf4sight/benchmark.hpp>
//   static const bool registered = [] {
//     perf4sight::CaseOptions options;
//     options.batches = {8, 32};
//     perf4sight::RegisterModule("tiny_resnet", [] { return torch::nn::AnyModule(TinyResNet(10)); },
//                                {3, 32, 32}, 10, options);
//     perf4sight::RegisterLayerCases("quick");
//     return true;
//   }();
//   P4S_BENCHMARK_MAIN();   // or BENCHMARK_MAIN(): the same cases, without the --p4s_ flags
//
// Which main runs decides when the cases are set up:
// - P4S_BENCHMARK_MAIN(): the suite's own main (bench is this main with no cases of its own
//   but its sweep's). Registrations made before it are kept until the --p4s_ flags are read
//   (device, recipe, batch sizes, memory limit, threads, --p4s_resume / --p4s_isolate /
//   --p4s_case_timeout, --p4s_netspec_out=DIR ...; --help lists them), then registered with
//   Google Benchmark. No sweep runs unless --p4s_sweep names one.
// - BENCHMARK_MAIN() or a main of the user's own that calls benchmark::RunSpecifiedBenchmarks:
//   the first registration sets the run up with the defaults of those flags (the CUDA device
//   where one is usable, else the CPU; the default recipe) and adds the context keys; each
//   registration then registers its cases with Google Benchmark at once.
//
// Registration throws p4s::InputError (a one-line message naming the network, the field and
// what is wrong) for a bad name, batch size, file or recipe. Registering is not thread-safe:
// register from one thread, before the benchmarks run.
#pragma once

#include <torch/nn/modules/container/any.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "modelgen/netspec.hpp"
#include "results_format/recipe.hpp"

namespace perf4sight {

using NetSpec = p4s::modelgen::NetSpec;
using Recipe = p4s::results::Recipe;
using InputError = p4s::InputError;

// One sample of a network's input: a float image [channels, height, width].
struct ImageInput {
  int64_t channels = 3;
  int64_t height = 224;
  int64_t width = 224;
};

// How a network's cases run.
struct CaseOptions {
  // The batch sizes, one case each; empty: the run's (--p4s_batch, else the sweep's network
  // batch sizes).
  std::vector<int64_t> batches;
  // The training recipe (optimizer, precision, a frozen part ...); unset: the run's
  // (--p4s_optimizer ...). A recipe other than the run's names its parts in the case names.
  std::optional<Recipe> recipe;
  // The loss from the [N, classes] logits and the int64 labels [N] (random, in [0, classes));
  // unset: cross-entropy, the step every result means and `p4s` simulates. The results do not
  // say which loss ran: one that differs is the user's to keep apart (its own --benchmark_out).
  std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& labels)> loss;
};

// Builds a user's module afresh, on the CPU, in its initial state; called once per case (and
// once more where the module is described as a NetSpec). The module's forward takes one
// float [N, C, H, W] batch and returns [N, classes] logits; the step trains it with
// cross-entropy against random labels, as every case of the suite.
using ModuleFactory = std::function<torch::nn::AnyModule()>;

// A network described as a NetSpec (NetSpec 1.1), named by its `name`.
void RegisterNetSpec(const NetSpec& spec, const CaseOptions& options = {});
// A NetSpec file.
void RegisterNetSpecFile(const std::string& path, const CaseOptions& options = {});
// A built-in network by its name (`p4s nets list`: resnet18, mobilenet_v3_small_cifar10_p50 ...).
void RegisterBuiltinNet(const std::string& name, const CaseOptions& options = {});
// A user's module (any torch::nn::Module with a forward of one tensor). `name` is the case
// names' <net>. With a recipe's train_from, the parameters registered before the first one
// of the submodule of that path ("layer3", "features.4") are frozen (with freeze_bn, the
// batch norms among them in eval mode).
void RegisterModule(const std::string& name, ModuleFactory factory, ImageInput input, int64_t classes,
                    const CaseOptions& options = {});
// The layer cases of a sweep preset ("quick", "standard" or "full") at its layer batch sizes:
// the single-layer training steps from which `p4s fit` learns per-layer costs.
void RegisterLayerCases(const std::string& sweep);

// The module as a NetSpec: traced on a CPU batch in training mode and read op by op as
// `p4s-torch nets import` reads TorchScript (its layers named after the module's submodules:
// layer1.0.conv1 -> layer1_0_conv1), so that `p4s predict` can predict it. Throws
// p4s::InputError naming `name` for ops outside NetSpec, each listed.
NetSpec DescribeModule(const std::string& name, const ModuleFactory& factory, ImageInput input);

// The plugin's main: parses the --p4s_ flags and Google Benchmark's, registers the cases
// registered so far (and a sweep's, with --p4s_sweep), runs them, and writes the results as
// bench does (a JSON file rewritten after every case, so that a killed run leaves it valid).
// Exit status: 0 success, 2 bad input (one line on stderr), 1 else. Use it through
// P4S_BENCHMARK_MAIN(), which tells registrations made before main to wait for it.
int Main(int argc, char** argv);

}  // namespace perf4sight

// Defines main() as perf4sight::Main. The constant it defines is seen by every registration,
// even one made while static objects are constructed, before main runs.
#define P4S_BENCHMARK_MAIN()                                                    \
  extern "C" const int p4s_plugin_main_is_defined;                              \
  extern "C" const int p4s_plugin_main_is_defined = 1;                          \
  int main(int argc, char** argv) { return ::perf4sight::Main(argc, argv); }    \
  int main(int, char**)
