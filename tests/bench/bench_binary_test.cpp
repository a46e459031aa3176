// The real bench binary, run on small filters: case names follow the documented grammar, the
// JSON carries the counters and context, a memory limit gives an out-of-memory entry and the
// run goes on, and bad input exits with status 2 before anything runs.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "results_format/reader.hpp"
#include "tests/run_program.hpp"

extern char** environ;

namespace p4s {
namespace {

using nlohmann::json;

using Result = test::ProgramResult;
using test::slurp;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "p4s_bench_binary_" + std::to_string(getpid()) + "_" + name;
}

// Runs the bench with `args`, capturing stdout and stderr.
Result run_bench(const std::vector<std::string>& args) { return test::run_program(P4S_BENCH_EXE, args, temp_path("")); }

int count_lines_with(const std::string& text, const std::string& part) {
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) n += line.find(part) != std::string::npos;
  return n;
}

// conv -> relu -> pool -> flatten -> linear, with `width` hidden units before the classifier.
std::string write_net(const std::string& name, int64_t width) {
  const std::string path = temp_path(name + ".json");
  write_file_atomically(path, R"({"netspec": 1, "name": ")" + name + R"(", "classes": 10,
    "input": {"channels": 3, "height": 16, "width": 16},
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 3, "padding": 1, "bias": false},
      {"name": "bn", "op": "batchnorm2d", "inputs": ["conv"], "features": 8},
      {"name": "relu", "op": "relu", "inputs": ["bn"], "inplace": true},
      {"name": "pool", "op": "adaptive_avgpool2d", "inputs": ["relu"], "output_size": [2, 2]},
      {"name": "flat", "op": "flatten", "inputs": ["pool"]},
      {"name": "fc1", "op": "linear", "inputs": ["flat"], "in_features": 32, "out_features": )" +
                                std::to_string(width) + R"(},
      {"name": "fc2", "op": "linear", "inputs": ["fc1"], "in_features": )" + std::to_string(width) +
                                R"(, "out_features": 10}],
    "output": "fc2"})");
  return path;
}

// The documented name grammar (bench/README.md, "Case names"), without Google Benchmark's
// suffixes.
const std::regex kConv(R"(^Conv2d/cin:(\d+)/cout:(\d+)/k:(\d+)/s:(\d+)/g:(\d+)/hw:(\d+)/bs:(\d+)(/.*)?$)");
const std::regex kLinear(R"(^Linear/in:(\d+)/out:(\d+)/bs:(\d+)(/.*)?$)");
const std::regex kBatchNorm(R"(^BatchNorm2d/c:(\d+)/hw:(\d+)/bs:(\d+)(/.*)?$)");
const std::regex kNet(R"(^Net/([^/ ]+)/bs:(\d+)(/.*)?$)");
// The NetSpec 1.1 kinds: the activations, layer norm, channel shuffle, squeeze-excitation.
const std::regex kNewKind(
    R"(^((SiLU|Hardswish|Hardsigmoid|Sigmoid|GELU|LayerNorm2d)/c:(\d+)/hw:(\d+)|ChannelShuffle/c:(\d+)/g:(\d+)/hw:(\d+)|SqueezeExcitation/c:(\d+)/r:(\d+)/hw:(\d+))/bs:(\d+)(/.*)?$)");

// The listed cases; picks the Conv2d case with the fewest multiply-accumulates.
std::string cheapest_conv(const std::string& listing) {
  std::istringstream lines(listing);
  std::string line, best;
  double best_macs = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, kConv)) continue;
    double macs = 1;
    for (int i : {1, 2, 3, 3, 7}) macs *= std::stod(m[i]);
    const double out_hw = std::stod(m[6]) / std::stod(m[4]);
    macs *= out_hw * out_hw / std::stod(m[5]);
    if (best.empty() || macs < best_macs) {
      best = line.substr(0, line.find("/bs:")) + "/bs:" + m[7].str() + "/";
      best_macs = macs;
    }
  }
  return best;
}

class BenchBinary : public ::testing::Test {
 protected:
  void SetUp() override { tiny_ = write_net("p4s_tiny", 16); }
  void TearDown() override { std::remove(tiny_.c_str()); }
  std::string tiny_;
};

TEST_F(BenchBinary, ListedNamesFollowTheGrammar) {
  const Result r = run_bench({"--p4s_netspec=" + tiny_, "--p4s_batch=2,8", "--benchmark_list_tests"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int conv = 0, linear = 0, bn = 0, net = 0;
  std::set<std::string> new_kinds;
  while (std::getline(lines, line)) {
    conv += std::regex_match(line, kConv);
    linear += std::regex_match(line, kLinear);
    bn += std::regex_match(line, kBatchNorm);
    net += std::regex_match(line, kNet);
    if (std::regex_match(line, kNewKind)) new_kinds.insert(line.substr(0, line.find('/')));
    EXPECT_TRUE(std::regex_match(line, kConv) || std::regex_match(line, kLinear) ||
                std::regex_match(line, kBatchNorm) || std::regex_match(line, kNet) ||
                std::regex_match(line, kNewKind))
        << line;
  }
  EXPECT_GT(conv, 0);
  EXPECT_GT(linear, 0);
  EXPECT_GT(bn, 0);
  // quick covers every kind.
  EXPECT_EQ(new_kinds, (std::set<std::string>{"SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "GELU", "LayerNorm2d",
                                              "ChannelShuffle", "SqueezeExcitation"}));
  // The file's network first, at the two batch sizes; then the quick sweep's built-in networks,
  // at the same batch sizes (--p4s_batch replaces their own).
  std::vector<std::string> nets;
  std::istringstream again(r.out);
  while (std::getline(again, line))
    if (line.rfind("Net/", 0) == 0) nets.push_back(line);
  ASSERT_EQ(static_cast<int>(nets.size()), net);
  ASSERT_GT(nets.size(), 2u + 6u);
  EXPECT_EQ(nets[0], "Net/p4s_tiny/bs:2/manual_time");
  EXPECT_EQ(nets[1], "Net/p4s_tiny/bs:8/manual_time");
  for (const char* name : {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "mobilenetv2_cifar10_p50_s1"})
    for (const char* bs : {"2", "8"}) {
      const std::string entry = std::string("Net/") + name + "/bs:" + bs + "/manual_time";
      EXPECT_NE(std::find(nets.begin(), nets.end(), entry), nets.end()) << entry;
    }
}

TEST_F(BenchBinary, BuiltInNetworksByNameRunAtTheBatchSizesGiven) {
  const Result r = run_bench({"--p4s_net=squeezenet1.1_cifar10_p50_s3", "--p4s_net=resnet18_w0.5",
                              "--p4s_batch=1,4", "--benchmark_list_tests", "--benchmark_filter=^Net/"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Net/squeezenet1.1_cifar10_p50_s3/bs:1/manual_time\n"
                        "Net/squeezenet1.1_cifar10_p50_s3/bs:4/manual_time\n"
                        "Net/resnet18_w0.5/bs:1/manual_time\n"
                        "Net/resnet18_w0.5/bs:4/manual_time\n", 0), 0u) << r.out;
}

TEST_F(BenchBinary, WritesCountersAndContextToJson) {
  const Result listing = run_bench({"--benchmark_list_tests"});
  ASSERT_EQ(listing.status, 0) << listing.err;
  const std::string conv = cheapest_conv(listing.out);
  ASSERT_FALSE(conv.empty()) << listing.out;

  const std::string out = temp_path("run.json");
  const Result r = run_bench({"--p4s_device=cpu", "--p4s_netspec=" + tiny_, "--p4s_batch=2,3",
                              "--benchmark_filter=^(Net/p4s_tiny/|" + conv + ")", "--benchmark_min_time=0.01",
                              "--benchmark_out=" + out, "--benchmark_out_format=json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(out));
  std::remove(out.c_str());

  // One line says that kernel capture is off, and why.
  const std::regex off_line(R"((^|\n)bench: kernel capture off: [^\n]+\n)");
  EXPECT_TRUE(std::regex_search(r.err, off_line)) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "bench: kernel capture"), 1) << r.err;

  const json& ctx = j.at("context");
  EXPECT_EQ(ctx.at("p4s_schema_version"), "1");
  EXPECT_EQ(ctx.at("p4s_device"), "cpu");
  EXPECT_EQ(ctx.at("p4s_sweep"), "quick");
  for (const char* key : {"p4s_cpu_model", "p4s_threads", "p4s_libtorch", "p4s_mem_used_method"})
    EXPECT_TRUE(ctx.contains(key)) << key;
  EXPECT_EQ(ctx.at("p4s_kernel_capture").get<std::string>().rfind("kernel capture off: ", 0), 0u);
  EXPECT_NE(r.err.find(ctx.at("p4s_kernel_capture").get<std::string>()), std::string::npos);
  for (const char* key : {"p4s_mem_limit", "p4s_gpu_name", "p4s_cuda", "p4s_cudnn", "p4s_allocator_protocol"})
    EXPECT_FALSE(ctx.contains(key)) << key;

  const modelgen::ShapedNet tiny = modelgen::infer_shapes(modelgen::read_netspec(tiny_));
  std::vector<std::string> names;
  for (const json& b : j.at("benchmarks")) {
    const std::string name = b.at("name");
    names.push_back(name);
    SCOPED_TRACE(name);
    ASSERT_FALSE(b.value("error_occurred", false)) << b.value("error_message", "");
    EXPECT_GT(b.at("mem_alloc").get<double>(), 0);
    EXPECT_TRUE(b.contains("mem_used"));
    EXPECT_FALSE(b.contains("mem_reserved"));
    for (const char* kernel_counter : {"kernels", "kernel_time", "gpu_busy", "cuda_malloc_peak"})
      EXPECT_FALSE(b.contains(kernel_counter)) << kernel_counter;
    EXPECT_GT(b.at("flops").get<double>(), 0);
    EXPECT_GT(b.at("real_time").get<double>(), 0);
    EXPECT_EQ(b.at("time_unit"), "ms");
    std::smatch m;
    if (std::regex_match(name, m, kNet)) {
      EXPECT_EQ(m[1].str(), "p4s_tiny");
      const int64_t bs = std::stoll(m[2]);
      EXPECT_EQ(b.at("params").get<double>(), static_cast<double>(tiny.params));
      EXPECT_EQ(b.at("flops").get<double>(), static_cast<double>(tiny.training_flops(bs)));
      // Weights, gradients and momentum are live during the step.
      EXPECT_GE(b.at("mem_alloc").get<double>(), 3.0 * 4 * static_cast<double>(tiny.params));
    }
  }
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], conv + "manual_time");
  EXPECT_EQ(names[1], "Net/p4s_tiny/bs:2/manual_time");
  EXPECT_EQ(names[2], "Net/p4s_tiny/bs:3/manual_time");
}

// A recipe's cases: written with it in the context, read back by the reader as that recipe;
// Adam's two state tensors a parameter make the step larger than SGD's, training fc2 alone
// smaller; networks without the --p4s_train_from layer (the sweep's own) are left out, said once.
TEST_F(BenchBinary, RecipeFlagsRunThatStepAndWriteItsRecipe) {
  auto run = [&](const std::vector<std::string>& recipe) {
    const std::string out = temp_path("recipe.json");
    std::vector<std::string> args{"--p4s_device=cpu", "--p4s_netspec=" + tiny_, "--p4s_batch=2",
                                  "--benchmark_filter=^Net/p4s_tiny/", "--benchmark_min_time=0.01",
                                  "--benchmark_out=" + out, "--benchmark_out_format=json"};
    args.insert(args.end(), recipe.begin(), recipe.end());
    const Result r = run_bench(args);
    EXPECT_EQ(r.status, 0) << r.err;
    const results::ResultSet set = results::read_results({out});
    std::remove(out.c_str());
    EXPECT_EQ(set.nets.size(), 1u);
    return std::make_pair(set.nets.at(0), r.err);
  };
  const auto [sgd, sgd_err] = run({});
  EXPECT_EQ(sgd.recipe, results::default_recipe());
  const auto [adam, adam_err] = run({"--p4s_optimizer=adam"});
  EXPECT_EQ(adam.recipe.optimizer, results::Optimizer::kAdam);
  EXPECT_GT(*adam.values.mem_alloc, *sgd.values.mem_alloc);
  const auto [late, late_err] = run({"--p4s_optimizer=adam", "--p4s_train_from=fc2", "--p4s_freeze_bn"});
  EXPECT_EQ(late.recipe.train_from, "fc2");
  EXPECT_TRUE(late.recipe.freeze_bn);
  EXPECT_LT(*late.values.mem_alloc, *adam.values.mem_alloc);
  EXPECT_NE(late_err.find("bench: --p4s_train_from=fc2: left out the networks without that layer: "), std::string::npos)
      << late_err;
  EXPECT_EQ(count_lines_with(late_err, "left out the networks"), 1);

  const Result none = run_bench({"--p4s_train_from=no_such_layer", "--benchmark_list_tests"});
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.err, "bench: --p4s_train_from=no_such_layer: no network has a layer of that name\n");
}

// The sweep's own recipes: cases named with their parts after the batch, read back as those
// recipes; none where the run has a recipe of its own.
TEST_F(BenchBinary, TheSweepsRecipesAreCasesNamedWithTheirParts) {
  const Result listing = run_bench({"--benchmark_list_tests", "--benchmark_filter=^Net/"});
  ASSERT_EQ(listing.status, 0) << listing.err;
  EXPECT_NE(listing.out.find("Net/resnet18_cifar10/bs:8/opt:adam/manual_time\n"), std::string::npos) << listing.out;
  EXPECT_EQ(count_lines_with(listing.out, "/opt:adam/from:"), 1) << listing.out;
  const Result own = run_bench({"--benchmark_list_tests", "--p4s_optimizer=adamw", "--benchmark_filter=^Net/"});
  ASSERT_EQ(own.status, 0) << own.err;
  EXPECT_EQ(count_lines_with(own.out, "/opt:"), 0) << own.out;

  const std::string out = temp_path("sweep_recipe.json");
  const Result r = run_bench({"--p4s_device=cpu", "--benchmark_filter=^Net/mobilenetv2_cifar10/bs:8/opt:adam/from:",
                              "--benchmark_min_time=0.01", "--benchmark_out=" + out, "--benchmark_out_format=json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const results::ResultSet set = results::read_results({out});
  std::remove(out.c_str());
  ASSERT_EQ(set.nets.size(), 1u);
  EXPECT_EQ(set.nets[0].recipe.optimizer, results::Optimizer::kAdam);
  EXPECT_FALSE(set.nets[0].recipe.train_from.empty());
  EXPECT_TRUE(set.nets[0].fits);
}

TEST_F(BenchBinary, ImpossibleMemoryLimitGivesAnOutOfMemoryEntryAndTheRunGoesOn) {
  const std::string big = write_net("p4s_big", 1 << 16);  // 2.7 M parameters: 10 MB of weights
  const std::string out = temp_path("oom.json");
  const Result r = run_bench({"--p4s_device=cpu", "--p4s_netspec=" + big, "--p4s_netspec=" + tiny_, "--p4s_batch=2",
                              "--p4s_mem_limit=4M", "--benchmark_filter=^Net/p4s_", "--benchmark_min_time=0.01",
                              "--benchmark_out=" + out, "--benchmark_out_format=json"});
  std::remove(big.c_str());
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(j.at("context").at("p4s_mem_limit"), std::to_string(4 << 20));
  const json& runs = j.at("benchmarks");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].at("name"), "Net/p4s_big/bs:2/manual_time");
  EXPECT_TRUE(runs[0].at("error_occurred").get<bool>());
  EXPECT_EQ(runs[0].at("error_message").get<std::string>().rfind("out of memory", 0), 0u) << runs[0];
  EXPECT_EQ(runs[1].at("name"), "Net/p4s_tiny/bs:2/manual_time");
  EXPECT_FALSE(runs[1].value("error_occurred", false)) << runs[1];
  EXPECT_GT(runs[1].at("mem_alloc").get<double>(), 0);
  EXPECT_LE(runs[1].at("mem_alloc").get<double>(), 4 << 20);
}

// A network sweep under a memory limit, as a smaller device: every step whose tensors would
// go over it is an out-of-memory entry, the others are measured as usual, and the run goes on
// through the sweep. Two built-in networks at batch sizes 1 and 2 (13 MB of live tensors or
// less) and 64 and 128 (118 MB or more, measured without a limit).
TEST_F(BenchBinary, NetworkSweepUnderAMemoryLimitHasOutOfMemoryEntriesWhereItWouldNotFit) {
  const std::string out = temp_path("sweep_limit.json");
  const int64_t limit = int64_t{64} << 20;
  const Result r = run_bench({"--p4s_net=squeezenet1.1_cifar10", "--p4s_net=mobilenetv2_cifar10_p90_s1",
                              "--p4s_batch=1,64,2,128", "--p4s_mem_limit=64M",
                              "--benchmark_filter=^Net/(squeezenet1.1_cifar10|mobilenetv2_cifar10_p90_s1)/",
                              "--benchmark_min_time=0.01", "--benchmark_out=" + out, "--benchmark_out_format=json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(j.at("context").at("p4s_mem_limit"), std::to_string(limit));
  const json& runs = j.at("benchmarks");
  ASSERT_EQ(runs.size(), 8u);
  size_t i = 0;
  for (const char* net : {"squeezenet1.1_cifar10", "mobilenetv2_cifar10_p90_s1"})
    for (int bs : {1, 64, 2, 128}) {
      const json& b = runs[i++];
      SCOPED_TRACE(b.dump());
      EXPECT_EQ(b.at("name"), std::string("Net/") + net + "/bs:" + std::to_string(bs) + "/manual_time");
      if (bs > 2) {
        EXPECT_TRUE(b.value("error_occurred", false));
        EXPECT_EQ(b.value("error_message", "").rfind("out of memory: ", 0), 0u);
      } else {
        EXPECT_FALSE(b.value("error_occurred", false));
        EXPECT_GT(b.at("mem_alloc").get<double>(), 0);
        EXPECT_LE(b.at("mem_alloc").get<double>(), static_cast<double>(limit));
        EXPECT_GT(b.at("real_time").get<double>(), 0);
      }
    }
}

// conv (1x1, to `in_features` channels over `hw` x `hw`) -> pool -> flatten -> linear
// `in_features` x `out_features`: weights or activations far beyond what the tests allow.
std::string write_wide_net(const std::string& name, int64_t in_features, int64_t out_features, int64_t hw = 16) {
  const std::string path = temp_path(name + ".json");
  const std::string side = std::to_string(hw);
  write_file_atomically(path, R"({"netspec": 1, "name": ")" + name + R"(", "classes": )" +
                                  std::to_string(out_features) + R"(,
    "input": {"channels": 1, "height": )" + side + R"(, "width": )" + side + R"(},
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 1, "out_channels": )" +
                                  std::to_string(in_features) + R"(, "kernel": 1, "bias": false},
      {"name": "pool", "op": "adaptive_avgpool2d", "inputs": ["conv"], "output_size": [1, 1]},
      {"name": "flat", "op": "flatten", "inputs": ["pool"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": )" +
                                  std::to_string(in_features) + R"(, "out_features": )" +
                                  std::to_string(out_features) + R"(}],
    "output": "fc"})");
  return path;
}

// A case that cannot run, between two that can: an error entry, and the next case starts with
// its memory released: its mem_alloc is what the same network measured before the failure.
TEST_F(BenchBinary, ACaseThatCannotRunInTheMiddleIsAnEntryAndTheNextStartsClean) {
  // 2^20 x 2^12 weights: 16 GiB of float32, refused at once under a 4 MiB limit.
  const std::string huge = write_wide_net("p4s_huge", 1 << 12, 1 << 20);
  const std::string twin = write_net("p4s_tiny_twin", 16);  // the tiny network under another name
  const std::string out = temp_path("middle.json");
  const Result r = run_bench({"--p4s_device=cpu", "--p4s_netspec=" + tiny_, "--p4s_netspec=" + huge,
                              "--p4s_netspec=" + twin, "--p4s_batch=2", "--p4s_mem_limit=4M",
                              "--benchmark_filter=^Net/p4s_", "--benchmark_min_time=0.01", "--benchmark_out=" + out,
                              "--benchmark_out_format=json"});
  std::remove(huge.c_str());
  std::remove(twin.c_str());
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(out));
  std::remove(out.c_str());
  const json& runs = j.at("benchmarks");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].at("name"), "Net/p4s_tiny/bs:2/manual_time");
  EXPECT_EQ(runs[1].at("name"), "Net/p4s_huge/bs:2/manual_time");
  EXPECT_TRUE(runs[1].at("error_occurred").get<bool>());
  EXPECT_EQ(runs[1].at("error_message").get<std::string>().rfind("out of memory", 0), 0u) << runs[1];
  EXPECT_EQ(runs[2].at("name"), "Net/p4s_tiny_twin/bs:2/manual_time");
  ASSERT_FALSE(runs[2].value("error_occurred", false)) << runs[2];
  // Nothing of the failed case is still held: the same network, the same bytes.
  EXPECT_EQ(runs[2].at("mem_alloc").get<double>(), runs[0].at("mem_alloc").get<double>());
  EXPECT_GT(runs[2].at("mem_alloc").get<double>(), 0);
}

// The results file is rewritten after every case: a sweep killed midway leaves valid JSON of
// the cases it finished, which the fit stage reads.
TEST_F(BenchBinary, AKilledSweepLeavesValidJsonOfTheCasesDone) {
  const std::string out = temp_path("killed.json");
  std::remove(out.c_str());
  std::string batches = "1";
  for (int b = 2; b <= 200; ++b) batches += "," + std::to_string(b);  // far more than it will run
  std::vector<std::string> args = {P4S_BENCH_EXE, "--p4s_device=cpu", "--p4s_netspec=" + tiny_,
                                   "--p4s_batch=" + batches, "--benchmark_filter=^Net/p4s_tiny/",
                                   "--benchmark_min_time=0.02", "--benchmark_out=" + out,
                                   "--benchmark_out_format=json"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, P4S_BENCH_EXE, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  // Wait for a few cases on disk, then kill it without warning.
  constexpr size_t kCases = 3;
  size_t seen = 0;
  for (int i = 0; i < 6000 && seen < kCases; ++i) {
    usleep(10000);
    std::ifstream in(out);
    if (!in.good()) continue;
    const std::string text = slurp(out);
    // Every state of the file is complete JSON: written whole and renamed into place.
    const json j = json::parse(text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << text;
    seen = j.at("benchmarks").size();
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the sweep ended before it was killed";
  ASSERT_GE(seen, kCases);

  const std::string text = slurp(out);
  const json j = json::parse(text);
  const json& runs = j.at("benchmarks");
  ASSERT_GE(runs.size(), kCases);
  ASSERT_LT(runs.size(), 200u);
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].at("name"), "Net/p4s_tiny/bs:" + std::to_string(i + 1) + "/manual_time");
    EXPECT_GT(runs[i].at("mem_alloc").get<double>(), 0);
  }
  EXPECT_EQ(j.at("context").at("p4s_schema_version"), "1");
  const results::ResultSet rs = results::parse_results(text, out);
  EXPECT_EQ(rs.nets.size(), runs.size());
  std::remove(out.c_str());
}

// Other formats are Google Benchmark's to write, as before.
TEST_F(BenchBinary, OtherOutputFormatsAreWrittenByGoogleBenchmark) {
  const std::string out = temp_path("results.csv");
  const Result r = run_bench({"--p4s_device=cpu", "--p4s_netspec=" + tiny_, "--p4s_batch=2",
                              "--benchmark_filter=^Net/p4s_", "--benchmark_min_time=0.01", "--benchmark_out=" + out,
                              "--benchmark_out_format=csv"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string text = slurp(out);
  std::remove(out.c_str());
  // Google Benchmark's CSV: its context lines, then the header and one row per case.
  EXPECT_NE(text.find("\nname,iterations,real_time"), std::string::npos) << text;
  EXPECT_NE(text.find("\"Net/p4s_tiny/bs:2/manual_time\""), std::string::npos) << text;
}

TEST_F(BenchBinary, BadInputExitsWith2NamingItBeforeAnythingRuns) {
  const std::string out = temp_path("never.json");
  const std::vector<std::string> gb = {"--benchmark_out=" + out, "--benchmark_filter=BatchNorm2d"};
  auto expect_bad = [&](const std::vector<std::string>& args, const std::string& named) {
    std::vector<std::string> all = args;
    all.insert(all.end(), gb.begin(), gb.end());
    const Result r = run_bench(all);
    EXPECT_EQ(r.status, 2) << named;
    EXPECT_EQ(r.err.rfind("bench: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(std::ifstream(out).good()) << "results were written";
  };
  expect_bad({"--p4s_sweep=huge"}, "--p4s_sweep");
  expect_bad({"--p4s_mem_limit=4X"}, "--p4s_mem_limit");
  expect_bad({"--p4s_batch=2,-8"}, "--p4s_batch");
  expect_bad({"--p4s_threads=0"}, "--p4s_threads");
  expect_bad({"--p4s_color=red"}, "--p4s_color");
  expect_bad({"--p4s_device=tpu"}, "--p4s_device");
  // No machine has 1024 CUDA devices: refused here for want of CUDA, elsewhere for the index.
  expect_bad({"--p4s_device=cuda:1023"}, "--p4s_device=cuda:1023: ");
  expect_bad({"--p4s_kernel_capture=maybe"}, "--p4s_kernel_capture");
  expect_bad({"--p4s_kernel_trace=" + temp_path("no_such_folder") + "/trace.json"}, "does not exist");
  expect_bad({"--p4s_kernel_trace=" + ::testing::TempDir()}, "is a folder, not a file");
  expect_bad({"--p4s_netspec=" + temp_path("missing.json")}, temp_path("missing.json"));
  const std::string bad = temp_path("bad.json");
  write_file_atomically(bad, R"({"netspec": 1, "name": "bad", "classes": 10,
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [{"name": "x", "op": "conv3d", "inputs": ["input"]}], "output": "x"})");
  expect_bad({"--p4s_netspec=" + tiny_, "--p4s_netspec=" + bad}, bad);
  expect_bad({"--p4s_netspec=" + tiny_, "--p4s_netspec=" + tiny_}, "already the name of");
  expect_bad({"--p4s_net=resnet19"}, "--p4s_net: \"resnet19\": ");
  expect_bad({"--p4s_net=resnet18_p50"}, "--p4s_net: ");
  expect_bad({"--p4s_net=squeezenet1.0_w0.1_p95_s1"}, "--p4s_net=squeezenet1.0_w0.1_p95_s1: ");
  std::remove(bad.c_str());

  // NetSpec files that are no NetSpec, or a broken one: each named, with the field.
  const std::vector<std::pair<std::string, std::string>> netspecs = {
      {"", "the file is empty"},
      {R"({"netspec": 1, "name": )", "not valid JSON"},
      {R"({"context": {}, "benchmarks": []})", "field \"netspec\": is missing: not a NetSpec file"},
      {R"({"netspec": 2, "name": "n", "classes": 10, "input": {"channels": 3, "height": 8, "width": 8},
          "layers": [], "output": "x"})", "field \"netspec\": format version 2"},
      {R"({"netspec": 1, "name": "n", "classes": NaN, "input": {"channels": 3, "height": 8, "width": 8},
          "layers": [], "output": "x"})", "not valid JSON"},
      {R"({"netspec": 1, "name": "n", "classes": 10, "input": {"channels": -3, "height": 8, "width": 8},
          "layers": [{"name": "x", "op": "relu", "inputs": ["input"]}], "output": "x"})", "channels"},
      {R"({"netspec": 1, "name": "n", "classes": 10, "input": {"channels": 3, "height": 8, "width": 8},
          "layers": [{"name": "x", "op": "linear", "inputs": ["input"], "in_features": 1, "out_features": 0}],
          "output": "x"})", "layer \"x\""},
  };
  for (const auto& [text, problem] : netspecs) {
    write_file_atomically(bad, text);
    SCOPED_TRACE(text);
    expect_bad({"--p4s_netspec=" + bad}, bad + ": ");
    const Result r = run_bench({"--p4s_netspec=" + bad, "--benchmark_out=" + out});
    EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
  }
  std::remove(bad.c_str());

  // Absurd sizes, and a network whose tensors would overflow 64-bit counts at a batch.
  const std::string wide = write_wide_net("p4s_wide", 1 << 15, 10, 1 << 12);  // 2^39 floats per sample
  expect_bad({"--p4s_netspec=" + wide, "--p4s_batch=2,4194304"},
             "--p4s_batch: " + wide + ": network \"p4s_wide\" at batch 4194304: its tensors or its step's FLOPs");
  std::remove(wide.c_str());
  expect_bad({"--p4s_batch=99999999999"}, "--p4s_batch: \"99999999999\" is not a batch size");
  expect_bad({"--p4s_mem_limit=0"}, "--p4s_mem_limit");
  expect_bad({"--p4s_mem_limit=99999999999T"}, "more bytes than a 64-bit count holds");

  // Google Benchmark's own flags, checked first: one line, status 2, nothing written (Google
  // Benchmark itself answers some of these with its usage and status 0).
  expect_bad({"--benchmark_format=xml"}, "--benchmark_format=xml: not a format");
  expect_bad({"--benchmark_out_format=yaml"}, "--benchmark_out_format=yaml");
  expect_bad({"--benchmark_out=" + temp_path("no_such_folder") + "/r.json"}, "does not exist");
  expect_bad({"--benchmark_repetitions=0"}, "--benchmark_repetitions=0");
  expect_bad({"--benchmark_min_time=abc"}, "--benchmark_min_time=abc");
  expect_bad({"--benchmark_time_unit=min"}, "--benchmark_time_unit=min");
  expect_bad({"--benchmark_bogus=1"}, "--benchmark_bogus=1: unknown argument");
  expect_bad({"stray", "--benchmark_bogus=1"}, "stray: unknown argument (and 1 more)");
}

TEST_F(BenchBinary, AFilterThatSelectsNoCaseIsBadInput) {
  const std::string out = temp_path("never.json");
  for (const std::string& filter : {std::string("^NoSuchCase$"), std::string("(")}) {
    const Result r = run_bench({"--benchmark_filter=" + filter, "--benchmark_out=" + out});
    SCOPED_TRACE(filter);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.rfind("bench: --benchmark_filter=" + filter + ": ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::ifstream(out).good()) << "results were written";
  }
}

TEST_F(BenchBinary, CaptureOffAndKernelTraceOnTheCpuStillWriteAValidTrace) {
  const std::string trace = temp_path("trace.json");
  const Result r = run_bench({"--p4s_device=cpu", "--p4s_kernel_capture=off", "--p4s_kernel_trace=" + trace,
                              "--p4s_netspec=" + tiny_, "--p4s_batch=2", "--benchmark_filter=^Net/p4s_",
                              "--benchmark_min_time=0.01"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("bench: kernel capture off: --p4s_kernel_capture=off\n"), std::string::npos) << r.err;
  const json t = json::parse(slurp(trace));
  std::remove(trace.c_str());
  EXPECT_EQ(t.at("format"), "p4s_kernel_trace");
  EXPECT_EQ(t.at("capture"), "kernel capture off: --p4s_kernel_capture=off");
  EXPECT_TRUE(t.at("steps").empty());
  EXPECT_TRUE(t.at("kernels").empty());
}

// The CUDA path, run only where this bench can use a GPU: it asks the binary itself.
class BenchBinaryCuda : public BenchBinary {
 protected:
  void SetUp() override {
    BenchBinary::SetUp();
    const Result probe = run_bench({"--p4s_device=cuda", "--benchmark_list_tests"});
    if (probe.status != 0) GTEST_SKIP() << "no usable CUDA device: " << probe.err;
  }
};

TEST_F(BenchBinaryCuda, NetworkAndLayerCasesRunOnTheGpuWithAllocatorAndKernelCounters) {
  const std::string out = temp_path("cuda.json");
  const std::string trace = temp_path("cuda_trace.json");
  const Result r = run_bench({"--p4s_device=cuda", "--p4s_netspec=" + tiny_, "--p4s_batch=2,8",
                              "--benchmark_filter=^(Net/|Linear/in:512/out:1000/bs:16)", "--benchmark_min_time=0.01",
                              "--p4s_kernel_trace=" + trace, "--benchmark_out=" + out,
                              "--benchmark_out_format=json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(out));
  std::remove(out.c_str());
  const json& ctx = j.at("context");
  EXPECT_EQ(ctx.at("p4s_device"), "cuda");
  for (const char* key : {"p4s_gpu_name", "p4s_gpu_driver", "p4s_cuda", "p4s_cudnn", "p4s_cuda_driver",
                          "p4s_gpu_compute_capability", "p4s_gpu_memory", "p4s_allocator_protocol",
                          "p4s_cuda_allocator"})
    EXPECT_TRUE(ctx.contains(key)) << key;
  const bool capture = ctx.at("p4s_kernel_capture").get<std::string>().rfind("kernel capture on: ", 0) == 0;
  EXPECT_EQ(count_lines_with(r.err, "bench: kernel capture"), 1) << r.err;
  ASSERT_FALSE(j.at("benchmarks").empty());
  for (const json& b : j.at("benchmarks")) {
    SCOPED_TRACE(b.at("name").get<std::string>());
    ASSERT_FALSE(b.value("error_occurred", false)) << b.value("error_message", "");
    const double real_ms = b.at("real_time").get<double>();
    EXPECT_GT(real_ms, 0);
    EXPECT_GT(b.at("mem_alloc").get<double>(), 0);
    EXPECT_GE(b.at("mem_reserved").get<double>(), b.at("mem_alloc").get<double>());
    EXPECT_GE(b.at("mem_used").get<double>(), 0);
    if (!capture) continue;
    EXPECT_GT(b.at("kernels").get<double>(), 0);
    EXPECT_GT(b.at("kernel_time").get<double>(), 0);
    EXPECT_LE(b.at("kernel_time").get<double>(), real_ms * 1.05 + 0.05);
    EXPECT_GT(b.at("gpu_busy").get<double>(), 0);
    EXPECT_LE(b.at("gpu_busy").get<double>(), 1);
    for (const char* phase : {"fwd_time", "bwd_time", "step_time"}) EXPECT_GT(b.at(phase).get<double>(), 0) << phase;
    EXPECT_GT(b.at("cuda_malloc_peak").get<double>(), 0);
  }
  const json t = json::parse(slurp(trace));
  std::remove(trace.c_str());
  EXPECT_EQ(t.at("capture"), ctx.at("p4s_kernel_capture"));
  if (capture) {
    ASSERT_FALSE(t.at("steps").empty());
    EXPECT_EQ(t.at("steps")[0].at("label").get<std::string>().rfind("Linear/in:512/out:1000/bs:16", 0), 0u);
    EXPECT_FALSE(t.at("kernels").empty());
  }
}

TEST_F(BenchBinaryCuda, OutOfMemoryOnTheGpuIsAnEntryAndTheSweepGoesOn) {
  // 11 M parameters: weights, gradients and momentum take 132 MB, over a 64 MiB device.
  const std::string big = write_net("p4s_gpu_big", 1 << 18);
  const std::string out = temp_path("cuda_oom.json");
  const Result r = run_bench({"--p4s_device=cuda", "--p4s_netspec=" + big, "--p4s_netspec=" + tiny_,
                              "--p4s_batch=2", "--p4s_mem_limit=64M", "--benchmark_filter=^Net/p4s_",
                              "--benchmark_min_time=0.01", "--benchmark_out=" + out, "--benchmark_out_format=json"});
  std::remove(big.c_str());
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(j.at("context").at("p4s_mem_limit"), std::to_string(64 << 20));
  const json& runs = j.at("benchmarks");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_TRUE(runs[0].at("error_occurred").get<bool>());
  EXPECT_EQ(runs[0].at("error_message").get<std::string>().rfind("out of memory: ", 0), 0u) << runs[0];
  EXPECT_FALSE(runs[1].value("error_occurred", false)) << runs[1];
  EXPECT_LE(runs[1].at("mem_reserved").get<double>(), 64 << 20);
}

// Surviving the device (sweep_guard/): a sweep resumed into its results file, a case that kills
// its process recorded while the sweep goes on in a new one, a hung case stopped.
class SweepGuard : public BenchBinary {
 protected:
  void TearDown() override {
    ::unsetenv("P4S_BENCH_FAULT");
    BenchBinary::TearDown();
  }
  std::vector<std::string> sweep(const std::string& out, const std::string& batches = "1,2,3,4") const {
    return {"--p4s_device=cpu",           "--p4s_netspec=" + tiny_,   "--p4s_batch=" + batches,
            "--benchmark_filter=^Net/p4s_tiny/", "--benchmark_min_time=0.01", "--benchmark_out=" + out,
            "--p4s_threads=1"};
  }
  static std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  // Each entry's case name with its error message ("" where it ran), in file order.
  static std::vector<std::pair<std::string, std::string>> entries(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> out;
    const json doc = json::parse(slurp(path));
    for (const json& e : doc.at("benchmarks"))
      out.emplace_back(e.at("name").get<std::string>(), e.value("error_message", ""));
    return out;
  }
  static std::string tiny_case(int batch) { return "Net/p4s_tiny/bs:" + std::to_string(batch) + "/manual_time"; }
};

TEST_F(SweepGuard, AKilledSweepResumedHasTheCasesOfAnUninterruptedOne) {
  const std::string whole = temp_path("whole.json"), resumed = temp_path("resumed.json");
  std::remove(whole.c_str());
  std::remove(resumed.c_str());
  ASSERT_EQ(run_bench(sweep(whole)).status, 0);

  ::setenv("P4S_BENCH_FAULT", "kill:Net/p4s_tiny/bs:3", 1);
  EXPECT_NE(run_bench(sweep(resumed)).status, 0);  // killed
  const json before = json::parse(slurp(resumed));
  ASSERT_EQ(before.at("benchmarks").size(), 2u);
  ::unsetenv("P4S_BENCH_FAULT");
  const Result r = run_bench(plus(sweep(resumed), {"--p4s_resume"}));
  ASSERT_EQ(r.status, 0) << r.err;
  // The progress line after the last case counts the cases this run has to do.
  EXPECT_NE(r.err.find("bench: [2/2] Net/p4s_tiny/bs:4 done; 0:"), std::string::npos) << r.err;
  ASSERT_EQ(entries(whole).size(), 4u);
  EXPECT_EQ(entries(resumed), entries(whole));  // every case once, in order, none lost
  const json after = json::parse(slurp(resumed));
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(after["benchmarks"][i], before["benchmarks"][i]);  // kept as measured
  EXPECT_EQ(after.at("context").at("p4s_resumes"), "1");
  for (const auto& [key, value] : before.at("context").items()) {
    if (key.rfind("p4s_state_start_", 0) == 0) {
      EXPECT_EQ(after.at("context").at(key), value) << key;
    }
  }
  EXPECT_TRUE(after.at("context").contains("p4s_state_end_cpu_mhz") ||
              !before.at("context").contains("p4s_state_start_cpu_mhz"));
  EXPECT_EQ(results::parse_results(slurp(resumed), resumed).nets.size(), 4u);

  // Nothing left: the file stays as it is.
  const std::string text = slurp(resumed);
  const Result again = run_bench(plus(sweep(resumed), {"--p4s_resume"}));
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("nothing left to run"), std::string::npos) << again.err;
  EXPECT_EQ(slurp(resumed), text);
  std::remove(whole.c_str());
  std::remove(resumed.c_str());
}

TEST_F(SweepGuard, ResumeRefusesAnotherSetup) {
  const std::string out = temp_path("setup.json");
  std::remove(out.c_str());
  ASSERT_EQ(run_bench(sweep(out, "1")).status, 0);
  const std::string text = slurp(out);
  std::vector<std::string> other = plus(sweep(out, "1,2"), {"--p4s_resume", "--p4s_threads=2"});
  const Result r = run_bench(other);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "bench: --p4s_resume: " + out +
                       ": another setup than this run's (p4s_threads: \"1\" in the file, \"2\" now); write to "
                       "another --benchmark_out\n");
  EXPECT_EQ(slurp(out), text);
  std::remove(out.c_str());
}

TEST_F(SweepGuard, AnIsolatedSweepRecordsHowItsCasesDiedAndGoesOn) {
  const std::string out = temp_path("isolated.json");
  std::remove(out.c_str());
  ::setenv("P4S_BENCH_FAULT", "abort:Net/p4s_tiny/bs:2", 1);
  const Result r = run_bench(plus(sweep(out), {"--p4s_isolate"}));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto e = entries(out);
  ASSERT_EQ(e.size(), 4u) << r.err << slurp(out);
  // The case that died is recorded where the sweep was, the later ones follow.
  EXPECT_EQ(e[0], std::make_pair(tiny_case(1), std::string()));
  EXPECT_EQ(e[1], std::make_pair(tiny_case(2), std::string("aborted: bench: P4S_BENCH_FAULT: aborting in Net/p4s_tiny/bs:2")));
  EXPECT_EQ(e[2], std::make_pair(tiny_case(3), std::string()));
  EXPECT_EQ(e[3], std::make_pair(tiny_case(4), std::string()));
  EXPECT_FALSE(std::ifstream(out + ".progress").good());  // its own progress file is gone
  // Not memory: the fit does not count it as a step that did not fit.
  const results::ResultSet rs = results::parse_results(slurp(out), out);
  ASSERT_EQ(rs.nets.size(), 3u);
  for (const auto& n : rs.nets) EXPECT_TRUE(n.fits) << n.batch;
}

TEST_F(SweepGuard, AnIsolatedSweepRecordsAKilledCase) {
  const std::string out = temp_path("isolated_kill.json");
  std::remove(out.c_str());
  ::setenv("P4S_BENCH_FAULT", "kill:Net/p4s_tiny/bs:1", 1);
  const Result r = run_bench(plus(sweep(out, "1,2"), {"--p4s_isolate"}));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto e = entries(out);
  ASSERT_EQ(e.size(), 2u) << r.err << slurp(out);
  EXPECT_EQ(e[0].first, tiny_case(1));
  // Sent by the bench itself, not the OOM killer, unless this kernel cannot tell them apart.
  EXPECT_TRUE(e[0].second == "killed by SIGKILL" || e[0].second.rfind("out of memory (killed by SIGKILL; presumed", 0) == 0)
      << e[0].second;
  EXPECT_EQ(e[1], std::make_pair(tiny_case(2), std::string()));
}

TEST_F(SweepGuard, TheWatchdogStopsAHungCaseAndTheSweepGoesOn) {
  const std::string out = temp_path("hung.json"), progress = temp_path("hung.progress");
  std::remove(out.c_str());
  ::setenv("P4S_BENCH_FAULT", "hang:Net/p4s_tiny/bs:1", 1);
  const Result r = run_bench(plus(sweep(out, "1,2"), {"--p4s_case_timeout=1.5", "--p4s_progress=" + progress}));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto e = entries(out);
  ASSERT_EQ(e.size(), 2u) << r.err << slurp(out);
  EXPECT_EQ(e[0], std::make_pair(tiny_case(1), std::string("timed out: still running after 1.5 s (--p4s_case_timeout)")));
  EXPECT_EQ(e[1], std::make_pair(tiny_case(2), std::string()));
  EXPECT_EQ(slurp(progress), "Net/p4s_tiny/bs:2\n");  // the user's progress file is kept
  std::remove(progress.c_str());
}

TEST_F(SweepGuard, BadFlagsExitWith2) {
  const auto err = [&](const std::vector<std::string>& args) {
    const Result r = run_bench(args);
    EXPECT_EQ(r.status, 2) << r.err;
    return r.err;
  };
  const std::vector<std::string> no_out = {"--p4s_device=cpu", "--benchmark_filter=^Net/"};
  EXPECT_EQ(err(plus(no_out, {"--p4s_resume", "--p4s_net=resnet18"})),
            "bench: --p4s_resume: needs a JSON results file (--benchmark_out=FILE) to resume into\n");
  EXPECT_EQ(err(plus(no_out, {"--p4s_isolate"})),
            "bench: --p4s_isolate: needs a JSON results file (--benchmark_out=FILE), which the sweep resumes into "
            "after its process dies\n");
  EXPECT_EQ(err(plus(no_out, {"--p4s_case_timeout=0"})),
            "bench: --p4s_case_timeout: \"0\" is not a number of seconds above 0, at most a week\n");
  EXPECT_EQ(err(plus(no_out, {"--p4s_resume=1"})), "bench: --p4s_resume: takes no value\n");
  const std::string broken = temp_path("broken.json");
  write_file_atomically(broken, "{\"benchmarks\": 3}");
  EXPECT_EQ(err({"--p4s_device=cpu", "--p4s_netspec=" + tiny_, "--p4s_resume", "--benchmark_out=" + broken}),
            "bench: " + broken + ": field \"benchmarks\": missing or not a list: not a results file to resume\n");
  std::remove(broken.c_str());
}

}  // namespace
}  // namespace p4s
