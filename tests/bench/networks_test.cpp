// The networks of a run: NetSpec files, built-in networks by name, and the sweep's built-in
// networks, in that order, each at its batch sizes; the presets' network sets, as training
// data for the fit stage; and the one-line errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/networks.hpp"
#include "bench/sweep.hpp"
#include "common/atomic_file.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::bench {
namespace {

std::string error_of(const Options& options, const Sweep& sweep) {
  try {
    load_networks(options, sweep);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> names_of(const std::vector<BenchNet>& nets) {
  std::vector<std::string> out;
  for (const BenchNet& n : nets) out.push_back(n.spec.name);
  return out;
}

// A sweep with two built-in networks of its own.
Sweep small_sweep() {
  Sweep s = sweep_preset("quick");
  s.networks = {{"resnet18_cifar10", {1, 2}}, {"squeezenet1.1_cifar10_p50_s1", {4}}};
  s.net_batches = {2, 8};
  return s;
}

class NetworksWithFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "p4s_networks_test_" + std::to_string(getpid()) + ".json";
    write_file_atomically(path_, R"({"netspec": 1, "name": "filenet", "classes": 10,
      "input": {"channels": 3, "height": 8, "width": 8},
      "layers": [
        {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 4,
         "kernel": 3, "padding": 1},
        {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["conv"], "output_size": 1},
        {"name": "flat", "op": "flatten", "inputs": ["gap"]},
        {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 4, "out_features": 10}],
      "output": "fc"})");
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(NetworksWithFile, FilesThenNamedThenTheSweepsOwnEachAtItsBatches) {
  Options o;
  o.netspec_paths = {path_};
  o.net_names = {"mobilenetv2_cifar10_p30_s7", "resnet18_cifar10"};
  const std::vector<BenchNet> nets = load_networks(o, small_sweep());
  // resnet18_cifar10 is named explicitly: it runs once, at the explicit batch sizes.
  EXPECT_EQ(names_of(nets), (std::vector<std::string>{"filenet", "mobilenetv2_cifar10_p30_s7", "resnet18_cifar10",
                                                      "squeezenet1.1_cifar10_p50_s1"}));
  ASSERT_EQ(nets.size(), 4u);
  EXPECT_EQ(nets[0].batches, (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(nets[1].batches, (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(nets[2].batches, (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(nets[3].batches, (std::vector<int64_t>{4}));
  EXPECT_EQ(nets[0].source, path_);
  EXPECT_EQ(nets[1].source, "--p4s_net=mobilenetv2_cifar10_p30_s7");
  EXPECT_EQ(nets[3].source, "sweep quick");
  // Built-in networks are modelgen's, shapes and all.
  EXPECT_EQ(nets[1].spec, modelgen::make_builtin_network("mobilenetv2_cifar10_p30_s7"));
  EXPECT_EQ(nets[1].shapes.params, modelgen::infer_shapes(nets[1].spec).params);
}

TEST_F(NetworksWithFile, BatchFlagReplacesEveryNetworksBatches) {
  Options o;
  o.netspec_paths = {path_};
  o.net_names = {"alexnet_cifar10"};
  o.net_batches = std::vector<int64_t>{3, 5};
  for (const BenchNet& n : load_networks(o, small_sweep()))
    EXPECT_EQ(n.batches, (std::vector<int64_t>{3, 5})) << n.spec.name;
}

TEST_F(NetworksWithFile, ANameGivenTwiceIsAnError) {
  Options o;
  o.net_names = {"resnet18_cifar10_p50_s1", "resnet18_cifar10_p50_s1"};
  EXPECT_EQ(error_of(o, small_sweep()),
            "--p4s_net=resnet18_cifar10_p50_s1: field \"name\": \"resnet18_cifar10_p50_s1\" is already the name "
            "of --p4s_net=resnet18_cifar10_p50_s1");
  o.net_names = {"filenet_x"};
  o.netspec_paths = {path_};
  EXPECT_NE(error_of(o, small_sweep()).find("--p4s_net=filenet_x: "), std::string::npos);
}

TEST(Networks, AnUnreachableLevelNamesTheFlag) {
  Options o;
  o.net_names = {"squeezenet1.0_w0.1_p95_s1"};
  const std::string e = error_of(o, small_sweep());
  EXPECT_EQ(e.rfind("--p4s_net=squeezenet1.0_w0.1_p95_s1: ", 0), 0u) << e;
  EXPECT_NE(e.find("out of reach"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(Networks, WithoutFlagsTheRunHasTheSweepsNetworks) {
  const Sweep quick = sweep_preset("quick");
  const std::vector<BenchNet> nets = load_networks(Options{});
  ASSERT_EQ(nets.size(), quick.networks.size());
  for (size_t i = 0; i < nets.size(); ++i) {
    EXPECT_EQ(nets[i].spec.name, quick.networks[i].name);
    EXPECT_EQ(nets[i].batches, quick.networks[i].batches);
  }
}

std::string family_of(const std::string& name) { return name.substr(0, name.find('_')); }

TEST(SweepNetworks, EveryPresetsNetworksAreCanonicalBuildableAndDistinct) {
  for (const char* preset : {"quick", "standard", "full"}) {
    SCOPED_TRACE(preset);
    const Sweep s = sweep_preset(preset);
    EXPECT_FALSE(s.networks.empty());
    std::set<std::string> seen;
    for (const SweepNetwork& n : s.networks) {
      EXPECT_EQ(modelgen::network_name(modelgen::parse_network_name(n.name)), n.name);
      EXPECT_TRUE(seen.insert(n.name).second) << n.name << " twice";
      ASSERT_FALSE(n.batches.empty()) << n.name;
      std::set<int64_t> batches(n.batches.begin(), n.batches.end());
      EXPECT_EQ(batches.size(), n.batches.size()) << n.name;
      EXPECT_GT(*batches.begin(), 0) << n.name;
    }
    // Loading builds and validates every one of them.
    Options o;
    o.sweep = preset;
    EXPECT_EQ(load_networks(o).size(), s.networks.size());
  }
}

// What the fit stage needs of its training data: several families to hold out one at a time,
// pruning levels and seeds, both input sizes, and batch sizes from 1 up.
void expect_training_data(const Sweep& s, size_t min_families, int64_t min_top_batch) {
  std::map<std::string, std::set<int64_t>> batches_of_family;
  std::set<int> levels;
  std::set<uint64_t> seeds;
  bool cifar = false, imagenet = false;
  for (const SweepNetwork& n : s.networks) {
    const modelgen::NetworkId id = modelgen::parse_network_name(n.name);
    batches_of_family[family_of(n.name)].insert(n.batches.begin(), n.batches.end());
    levels.insert(id.prune_percent);
    if (id.prune_percent > 0) seeds.insert(id.seed);
    cifar |= id.dataset != modelgen::Dataset::kImageNet;
    imagenet |= id.dataset == modelgen::Dataset::kImageNet;
  }
  EXPECT_GE(batches_of_family.size(), min_families);
  for (const auto& [family, batches] : batches_of_family) {
    EXPECT_EQ(*batches.begin(), 1) << family;
    EXPECT_GE(batches.size(), 2u) << family;
  }
  int64_t top = 0;
  for (const SweepNetwork& n : s.networks) top = std::max(top, n.batches.back());
  EXPECT_GE(top, min_top_batch);
  EXPECT_GE(levels.size(), 5u);  // 0 and four levels or more
  EXPECT_GE(seeds.size(), 2u);
  EXPECT_TRUE(cifar && imagenet);
}

TEST(SweepNetworks, StandardAndFullMakeTrainingDataForTheFit) {
  expect_training_data(sweep_preset("standard"), 8, 128);
  expect_training_data(sweep_preset("full"), modelgen::families().size(), 256);
}

TEST(SweepNetworks, QuickKeepsToCheapNetworks) {
  // At most ResNet-18 sized: the big ImageNet families (VGG, AlexNet) stay out.
  for (const SweepNetwork& n : sweep_preset("quick").networks) {
    const modelgen::NetworkId id = modelgen::parse_network_name(n.name);
    if (id.dataset == modelgen::Dataset::kImageNet) {
      EXPECT_LT(modelgen::infer_shapes(modelgen::make_builtin_network(id)).params, 12'000'000) << n.name;
      EXPECT_LE(n.batches.back(), 2) << n.name;
    }
    EXPECT_LE(n.batches.back(), 8) << n.name;
  }
}

}  // namespace
}  // namespace p4s::bench
