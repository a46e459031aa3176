// The bench's flags: values, defaults, what passes through to Google Benchmark, and the
// one-line errors for bad values and unknown flags.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "bench/sweep.hpp"
#include "modelgen/network_library.hpp"

namespace p4s::bench {
namespace {

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_args(args);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Options, DefaultsWithoutFlags) {
  const ParsedArgs p = parse_args({"bench"});
  EXPECT_EQ(p.options.sweep, "quick");
  EXPECT_FALSE(p.options.net_batches);
  EXPECT_TRUE(p.options.netspec_paths.empty());
  EXPECT_TRUE(p.options.net_names.empty());
  EXPECT_FALSE(p.options.mem_limit_bytes);
  EXPECT_FALSE(p.options.threads);
  EXPECT_EQ(p.rest, std::vector<std::string>{"bench"});
}

TEST(Options, ParsesEveryFlagAndPassesTheRestInOrder) {
  const ParsedArgs p = parse_args({"bench", "--benchmark_filter=Net", "--p4s_sweep=full",
                                   "--p4s_batch=2,8,32", "--p4s_netspec=a.json", "--benchmark_out=x",
                                   "--p4s_netspec=b.json", "--p4s_mem_limit=4G", "--p4s_threads=3",
                                   "--p4s_net=resnet18_p50_s1", "--p4s_net=mobilenetv2_cifar10"});
  EXPECT_EQ(p.options.sweep, "full");
  EXPECT_EQ(*p.options.net_batches, (std::vector<int64_t>{2, 8, 32}));
  EXPECT_EQ(p.options.netspec_paths, (std::vector<std::string>{"a.json", "b.json"}));
  EXPECT_EQ(p.options.net_names, (std::vector<std::string>{"resnet18_p50_s1", "mobilenetv2_cifar10"}));
  EXPECT_EQ(*p.options.mem_limit_bytes, int64_t{4} << 30);
  EXPECT_EQ(*p.options.threads, 3);
  EXPECT_EQ(p.rest, (std::vector<std::string>{"bench", "--benchmark_filter=Net", "--benchmark_out=x"}));
}

TEST(Options, ByteSuffixesAreBinary) {
  EXPECT_EQ(parse_bytes("4096"), 4096);
  EXPECT_EQ(parse_bytes("512K"), 512 * 1024);
  EXPECT_EQ(parse_bytes("512M"), int64_t{512} << 20);
  EXPECT_EQ(parse_bytes("4G"), int64_t{4} << 30);
  EXPECT_EQ(parse_bytes("4g"), int64_t{4} << 30);
  EXPECT_EQ(parse_bytes("2T"), int64_t{2} << 40);
  for (const char* bad : {"", "G", "0", "-1", "4X", "4GB", "1.5G", " 4G", "99999999999999999999", "9000000T"})
    EXPECT_THROW(parse_bytes(bad), std::invalid_argument) << bad;
}

TEST(Options, BadValuesNameTheFlag) {
  EXPECT_EQ(error_of({"bench", "--p4s_sweep=fast"}).rfind("--p4s_sweep: ", 0), 0u);
  EXPECT_NE(error_of({"bench", "--p4s_sweep=fast"}).find("quick, standard, full"), std::string::npos);
  EXPECT_EQ(error_of({"bench", "--p4s_batch=2,x"}).rfind("--p4s_batch: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_batch=0"}).rfind("--p4s_batch: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_batch=2,,8"}).rfind("--p4s_batch: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_batch=8,8"}).rfind("--p4s_batch: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_mem_limit=4X"}).rfind("--p4s_mem_limit: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_threads=0"}).rfind("--p4s_threads: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_threads=two"}).rfind("--p4s_threads: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_netspec="}).rfind("--p4s_netspec: ", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_net="}).rfind("--p4s_net: ", 0), 0u);
}

TEST(Options, BuiltInNetworkNamesFollowTheGrammar) {
  // The name grammar's own one-line reasons, after the flag.
  EXPECT_EQ(error_of({"bench", "--p4s_net=resnet19"}).rfind("--p4s_net: \"resnet19\": ", 0), 0u)
      << error_of({"bench", "--p4s_net=resnet19"});
  EXPECT_NE(error_of({"bench", "--p4s_net=resnet18_p50"}).find("seed"), std::string::npos);
  EXPECT_NE(error_of({"bench", "--p4s_net=resnet18_w1"}).find("resnet18"), std::string::npos);
  for (const char* bad : {"resnet18_p50", "resnet18_w1", "resnet18_p0_s3", "resnet18_cifar10_p96_s1", "vgg16/x"})
    EXPECT_EQ(error_of({"bench", std::string("--p4s_net=") + bad}).rfind("--p4s_net: ", 0), 0u) << bad;
  EXPECT_EQ(error_of({"bench", "--p4s_net=resnet18_cifar100_w0.5_p30_s7"}), "");
}

TEST(Options, DeviceCaptureAndTraceFlags) {
  const ParsedArgs defaults = parse_args({"bench"});
  EXPECT_FALSE(defaults.options.device);
  EXPECT_TRUE(defaults.options.kernel_capture);
  EXPECT_FALSE(defaults.options.kernel_trace_path);

  const ParsedArgs p = parse_args({"bench", "--p4s_device=cuda:3", "--p4s_kernel_capture=off",
                                   "--p4s_kernel_trace=out/trace.json"});
  EXPECT_EQ(*p.options.device, (DeviceChoice{DeviceKind::kCuda, 3}));
  EXPECT_FALSE(p.options.kernel_capture);
  EXPECT_EQ(*p.options.kernel_trace_path, "out/trace.json");
  EXPECT_EQ(*parse_args({"bench", "--p4s_device=cpu"}).options.device, (DeviceChoice{DeviceKind::kCpu, 0}));
  EXPECT_EQ(*parse_args({"bench", "--p4s_device=cuda"}).options.device, (DeviceChoice{DeviceKind::kCuda, 0}));
  EXPECT_EQ(*parse_args({"bench", "--p4s_device=cuda:0"}).options.device, (DeviceChoice{DeviceKind::kCuda, 0}));
  EXPECT_TRUE(parse_args({"bench", "--p4s_kernel_capture=on"}).options.kernel_capture);
  EXPECT_EQ((DeviceChoice{DeviceKind::kCuda, 0}).text(), "cuda");
  EXPECT_EQ((DeviceChoice{DeviceKind::kCuda, 2}).text(), "cuda:2");
  EXPECT_EQ((DeviceChoice{DeviceKind::kCpu, 0}).text(), "cpu");

  for (const char* bad : {"gpu", "CUDA", "cuda:", "cuda:01", "cuda:-1", "cuda:1024", "cuda:x", "cpu:0", ""})
    EXPECT_EQ(error_of({"bench", std::string("--p4s_device=") + bad}),
              std::string("--p4s_device: \"") + bad + "\" is not a device (cpu, cuda or cuda:N)")
        << bad;
  EXPECT_EQ(error_of({"bench", "--p4s_kernel_capture=yes"}), "--p4s_kernel_capture: \"yes\" is not on or off");
  EXPECT_EQ(error_of({"bench", "--p4s_kernel_trace="}), "--p4s_kernel_trace: needs a file name");
}

TEST(Options, CpuMallocIsSteadyUnlessAskedForTheSystemDefaults) {
  EXPECT_TRUE(parse_args({"bench"}).options.cpu_malloc_steady);
  EXPECT_TRUE(parse_args({"bench", "--p4s_cpu_malloc=steady"}).options.cpu_malloc_steady);
  EXPECT_FALSE(parse_args({"bench", "--p4s_cpu_malloc=system"}).options.cpu_malloc_steady);
  EXPECT_EQ(error_of({"bench", "--p4s_cpu_malloc=glibc"}), "--p4s_cpu_malloc: \"glibc\" is not steady or system");
}

TEST(Options, SweepGuardFlags) {
  const Options none = parse_args({"bench"}).options;
  EXPECT_FALSE(none.resume);
  EXPECT_FALSE(none.isolate);
  EXPECT_EQ(none.case_timeout_s, std::nullopt);
  EXPECT_EQ(none.progress_path, std::nullopt);
  const Options o = parse_args({"bench", "--p4s_resume", "--p4s_case_timeout=90.5", "--p4s_progress=p.txt"}).options;
  EXPECT_TRUE(o.resume);
  EXPECT_TRUE(o.isolate);  // a watchdog needs a process it can stop
  EXPECT_EQ(o.case_timeout_s, 90.5);
  EXPECT_EQ(o.progress_path, "p.txt");
  EXPECT_TRUE(parse_args({"bench", "--p4s_isolate"}).options.isolate);
  EXPECT_EQ(error_of({"bench", "--p4s_isolate=on"}), "--p4s_isolate: takes no value");
  EXPECT_EQ(error_of({"bench", "--p4s_case_timeout=-1"}),
            "--p4s_case_timeout: \"-1\" is not a number of seconds above 0, at most a week");
  EXPECT_EQ(error_of({"bench", "--p4s_case_timeout=1e9"}),
            "--p4s_case_timeout: \"1e9\" is not a number of seconds above 0, at most a week");
  EXPECT_EQ(error_of({"bench", "--p4s_progress="}), "--p4s_progress: needs a file name");
}

TEST(Options, FlagWithoutValueIsAnError) {
  EXPECT_NE(error_of({"bench", "--p4s_sweep"}).find("needs a value"), std::string::npos);
  EXPECT_NE(error_of({"bench", "--p4s_netspec", "a.json"}).find("needs a value"), std::string::npos);
}

TEST(Options, UnknownP4sFlagIsAnError) {
  EXPECT_EQ(error_of({"bench", "--p4s_sweeps=quick"}), "--p4s_sweeps: unknown flag (see --help)");
  EXPECT_EQ(error_of({"bench", "--p4s_"}), "--p4s_: unknown flag (see --help)");
}

// The recipe flags: the optimizer's usual settings, then the settings given, whatever the order;
// a bare --p4s_freeze_bn; the default recipe without them.
TEST(Options, RecipeFlagsMakeTheCasesRecipe) {
  EXPECT_EQ(parse_args({"bench"}).options.recipe, results::default_recipe());
  const results::Recipe adamw = parse_args({"bench", "--p4s_weight_decay=0.05", "--p4s_optimizer=adamw"}).options.recipe;
  EXPECT_EQ(adamw.optimizer, results::Optimizer::kAdamW);
  EXPECT_DOUBLE_EQ(adamw.lr, 1e-3);
  EXPECT_DOUBLE_EQ(adamw.weight_decay, 0.05);
  const results::Recipe late =
      parse_args({"bench", "--p4s_train_from=layer4_0_conv1", "--p4s_freeze_bn", "--p4s_momentum=0"}).options.recipe;
  EXPECT_EQ(late.optimizer, results::Optimizer::kSgd);
  EXPECT_DOUBLE_EQ(late.momentum, 0);
  EXPECT_EQ(late.train_from, "layer4_0_conv1");
  EXPECT_TRUE(late.freeze_bn);
  EXPECT_FALSE(parse_args({"bench", "--p4s_train_from=fc", "--p4s_freeze_bn=0"}).options.recipe.freeze_bn);
  EXPECT_EQ(error_of({"bench", "--p4s_optimizer=lamb"}), "--p4s_optimizer: \"lamb\" is not sgd, sgd-nesterov, adam or adamw");
  EXPECT_EQ(parse_args({"bench", "--p4s_precision=bf16"}).options.recipe.precision, results::Precision::kBf16);
  EXPECT_EQ(parse_args({"bench", "--p4s_precision=fp16"}).options.recipe.precision, results::Precision::kFp16);
  EXPECT_EQ(error_of({"bench", "--p4s_precision=fp8"}), "--p4s_precision: \"fp8\" is not fp32, bf16 or fp16");
  EXPECT_TRUE(parse_args({"bench", "--p4s_zero_grad=none"}).options.recipe.zero_grad_to_none);
  EXPECT_FALSE(parse_args({"bench", "--p4s_zero_grad=zero"}).options.recipe.zero_grad_to_none);
  EXPECT_EQ(error_of({"bench", "--p4s_zero_grad=off"}), "--p4s_zero_grad: \"off\" is not zero or none");
  EXPECT_EQ(error_of({"bench", "--p4s_lr=-1"}), "--p4s_lr: \"-1\" is not a non-negative number");
  EXPECT_EQ(error_of({"bench", "--p4s_momentum=nan"}), "--p4s_momentum: \"nan\" is not a non-negative number");
  EXPECT_EQ(error_of({"bench", "--p4s_train_from="}).rfind("--p4s_train_from: needs a layer name", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_freeze_bn"}).rfind("--p4s_freeze_bn: needs --p4s_train_from", 0), 0u);
  EXPECT_EQ(error_of({"bench", "--p4s_optimizer=sgd-nesterov", "--p4s_momentum=0"}).rfind("--p4s_optimizer=sgd-nesterov: needs a momentum", 0),
            0u);
}

TEST(Options, HelpNamesEveryFlag) {
  for (const char* flag : {"--p4s_sweep", "--p4s_netspec", "--p4s_net", "--p4s_batch", "--p4s_mem_limit", "--p4s_threads",
                           "--p4s_device", "--p4s_kernel_capture", "--p4s_kernel_trace", "--p4s_cpu_malloc",
                           "--p4s_optimizer", "--p4s_lr", "--p4s_momentum", "--p4s_weight_decay", "--p4s_precision",
                           "--p4s_train_from", "--p4s_freeze_bn", "--p4s_zero_grad", "--p4s_resume", "--p4s_isolate",
                           "--p4s_case_timeout", "--p4s_progress"})
    EXPECT_NE(options_help().find(flag), std::string::npos) << flag;
}

TEST(Sweep, PresetsGrowFromQuickToFull) {
  const Sweep quick = sweep_preset("quick"), standard = sweep_preset("standard"), full = sweep_preset("full");
  EXPECT_LT(quick.conv2d.size(), standard.conv2d.size());
  EXPECT_LE(standard.layer_batches.size(), full.layer_batches.size());
  EXPECT_GE(quick.warmup_steps, 1);
  EXPECT_GT(standard.warmup_steps, quick.warmup_steps);
  EXPECT_GT(full.warmup_steps, standard.warmup_steps);
  EXPECT_EQ(quick.repetitions, 1);
  EXPECT_GT(standard.repetitions, 1);
  EXPECT_THROW(sweep_preset("huge"), std::invalid_argument);
  EXPECT_TRUE(is_sweep_name("standard"));
  EXPECT_FALSE(is_sweep_name("Quick"));
}

TEST(Sweep, QuickCoversEveryKindOfConvolution) {
  const Sweep quick = sweep_preset("quick");
  bool kernel[8] = {}, stride[3] = {}, dense = false, grouped = false, depthwise = false;
  for (const Conv2dShape& c : quick.conv2d) {
    if (c.k < 8) kernel[c.k] = true;
    if (c.s < 3) stride[c.s] = true;
    dense |= c.g == 1;
    depthwise |= c.g == c.cin && c.g > 1;
    grouped |= c.g > 1 && c.g < c.cin;
  }
  EXPECT_TRUE(kernel[1] && kernel[3] && kernel[5] && kernel[7]);
  EXPECT_TRUE(stride[1] && stride[2]);
  EXPECT_TRUE(dense && grouped && depthwise);
  EXPECT_FALSE(quick.linear.empty());
  EXPECT_FALSE(quick.batchnorm2d.empty());
  EXPECT_FALSE(quick.net_batches.empty());
}

TEST(Sweep, EveryShapeOfEveryPresetMakesAValidCase) {
  for (const char* name : {"quick", "standard", "full"}) {
    const Sweep s = sweep_preset(name);
    for (int64_t bs : s.layer_batches) {
      for (const Conv2dShape& c : s.conv2d) EXPECT_NO_THROW(make_layer_case(LayerKind::kConv2d, case_args(c, bs)));
      for (const LinearShape& c : s.linear) EXPECT_NO_THROW(make_layer_case(LayerKind::kLinear, case_args(c, bs)));
      for (const BatchNorm2dShape& c : s.batchnorm2d)
        EXPECT_NO_THROW(make_layer_case(LayerKind::kBatchNorm2d, case_args(c, bs)));
    }
  }
}

// Each preset measures recipes besides the default step, on networks it measures anyway, at a
// last third that every one of them has; the larger presets more of them.
TEST(Sweep, PresetsMeasureRecipesOnTheirOwnNetworks) {
  size_t last = 0;
  modelgen::NetworkLibrary library;
  for (const char* name : {"quick", "standard", "full"}) {
    const Sweep s = sweep_preset(name);
    EXPECT_GT(s.recipes.size() * s.recipes.front().networks.size(), last) << name;
    last = s.recipes.size() * s.recipes.front().networks.size();
    bool adam = false, frozen = false;
    for (const SweepRecipe& r : s.recipes) {
      EXPECT_NE(r.recipe, results::default_recipe());
      adam |= r.recipe.optimizer == results::Optimizer::kAdam;
      frozen |= r.train_from_share > 0;
      EXPECT_FALSE(r.batches.empty());
      for (const std::string& net : r.networks) {
        const bool measured = std::any_of(s.networks.begin(), s.networks.end(),
                                          [&](const SweepNetwork& n) { return n.name == net; });
        EXPECT_TRUE(measured) << name << ": " << net;
        if (r.train_from_share > 0) {
          EXPECT_NO_THROW(train_from_at_share(library.get(net).spec, r.train_from_share)) << net;
        }
      }
    }
    EXPECT_TRUE(adam && frozen) << name;
  }
}

TEST(Sweep, TrainingFromAShareIsTheFirstConvolutionOrLinearLayerPastIt) {
  modelgen::NetworkLibrary library;
  const modelgen::NetSpec& spec = library.get("resnet18_cifar10").spec;  // 68 layers
  EXPECT_EQ(train_from_at_share(spec, 2.0 / 3.0), "layer4_0_conv1");
  EXPECT_EQ(train_from_at_share(spec, 0.98), "fc");                  // layer 67 of 68
  EXPECT_THROW(train_from_at_share(spec, 0.99), std::invalid_argument);  // past the last
  EXPECT_THROW(train_from_at_share(spec, 0), std::invalid_argument);
  EXPECT_THROW(train_from_at_share(spec, 1), std::invalid_argument);
}

TEST(Sweep, BenchmarkFlagsCarryMinTimeAndRepetitions) {
  Sweep s = sweep_preset("quick");
  s.min_time_s = 0.25;
  s.repetitions = 1;
  EXPECT_EQ(benchmark_flags(s), (std::vector<std::string>{"--benchmark_min_time=0.25", "--benchmark_repetitions=1"}));
  s.repetitions = 3;
  EXPECT_EQ(benchmark_flags(s), (std::vector<std::string>{"--benchmark_min_time=0.25", "--benchmark_repetitions=3",
                                                          "--benchmark_display_aggregates_only=true"}));
}

}  // namespace
}  // namespace p4s::bench
