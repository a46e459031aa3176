// The unpruned built-in ResNet-18, MobileNetV2 and SqueezeNet 1.0 against the NetSpecs that
// were exported from perf4sight's PyTorch models on the Jetson TX2, layer by layer: op,
// attributes, inputs, output shape. Layer names are not compared (ours are torchvision's
// module names). The differences are structural and documented per network below, where
// perf4sight's models are not torchvision's.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "modelgen/builtin.hpp"
#include "modelgen/channel_groups.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::modelgen {
namespace {

NetSpec tx2(const char* file) {
  return read_netspec(test::kTx2Dir + "/" + file);
}

// The spec without the layers `drop` picks (each has one input); their consumers read what
// the dropped layer read.
NetSpec without(NetSpec spec, const std::function<bool(const Layer&)>& drop) {
  std::map<std::string, std::string> bypass;
  auto resolve = [&](std::string name) {
    for (auto it = bypass.find(name); it != bypass.end(); it = bypass.find(name)) name = it->second;
    return name;
  };
  std::vector<Layer> kept;
  for (Layer l : spec.layers) {
    for (std::string& in : l.inputs) in = resolve(in);
    if (drop(l)) {
      bypass[l.name] = l.inputs.front();
      continue;
    }
    kept.push_back(std::move(l));
  }
  spec.layers = std::move(kept);
  spec.output = resolve(spec.output);
  return spec;
}

bool is_op(const Layer& l, Op op) { return l.op == op; }

// Same layers in the same order: ops, attributes, producers (by position; add's two inputs in
// either order), per-sample output shapes, and the output layer.
void expect_same_structure(const NetSpec& ours, const NetSpec& theirs) {
  ASSERT_EQ(ours.layers.size(), theirs.layers.size());
  EXPECT_EQ(ours.input, theirs.input);
  EXPECT_EQ(ours.classes, theirs.classes);
  const ShapedNet a = infer_shapes(ours, ours.name);
  const ShapedNet b = infer_shapes(theirs, theirs.name);
  for (size_t i = 0; i < ours.layers.size(); ++i) {
    const Layer& x = ours.layers[i];
    const Layer& y = theirs.layers[i];
    SCOPED_TRACE("layer #" + std::to_string(i) + ": ours " + x.name + ", theirs " + y.name);
    EXPECT_EQ(x.op, y.op);
    EXPECT_TRUE(x.attrs == y.attrs);
    std::vector<int> in_a = a.layers[i].inputs, in_b = b.layers[i].inputs;
    if (x.op == Op::kAdd) {
      std::sort(in_a.begin(), in_a.end());
      std::sort(in_b.begin(), in_b.end());
    }
    EXPECT_EQ(in_a, in_b);
    EXPECT_EQ(a.layers[i].out, b.layers[i].out);
  }
  EXPECT_EQ(a.output, b.output);
}

TEST(Tx2NetSpecs, Resnet18MatchesLayerByLayer) {
  const NetSpec ours = make_builtin_network("resnet18");
  const NetSpec theirs = tx2("resnet18_0.json");
  expect_same_structure(ours, theirs);
  EXPECT_EQ(infer_shapes(ours).params, infer_shapes(theirs).params);
  // Names differ only where torchvision has no module of that name: the exported file numbers
  // ReLUs and adds through the network (relu_3, add_1) and calls the flatten `view`; ours are
  // per block (layer1_1_relu, layer1_1_add) and `flatten`. Every conv, BN, pool and fc agrees.
  for (size_t i = 0; i < ours.layers.size(); ++i) {
    const Layer& l = ours.layers[i];
    if (l.op != Op::kRelu && l.op != Op::kAdd && l.op != Op::kFlatten) {
      EXPECT_EQ(l.name, theirs.layers[i].name);
    }
  }
}

TEST(Tx2NetSpecs, MobileNetV2MatchesButForTwoDifferences) {
  const NetSpec ours = make_builtin_network("mobilenetv2");
  const NetSpec theirs = tx2("mobilenetv2_0.json");
  // 1. perf4sight's first block (t = 1) keeps a 1x1 expansion conv + BN + ReLU6 (32 -> 32)
  //    that torchvision leaves out: 32*32 + 2*32 = 1088 parameters.
  const std::string extra = "bottlenecks_bottlenecks_0_linear_bottleneck0_0_";
  const NetSpec theirs_aligned = without(theirs, [&](const Layer& l) {
    return l.name == extra + "conv1" || l.name == extra + "bn1" || l.name == "relu6_1";
  });
  EXPECT_EQ(theirs_aligned.layers.size() + 3, theirs.layers.size());
  EXPECT_EQ(infer_shapes(theirs).params - infer_shapes(ours).params, 32 * 32 + 2 * 32);
  // 2. The exported file has no dropout before the classifier (torchvision: Dropout(0.2)).
  const NetSpec ours_aligned = without(ours, [](const Layer& l) { return is_op(l, Op::kDropout); });
  EXPECT_EQ(ours_aligned.layers.size() + 1, ours.layers.size());
  // Otherwise equal; residual adds list the block input first in ours (torchvision's
  // `x + self.conv(x)`), last in theirs, which changes nothing.
  expect_same_structure(ours_aligned, theirs_aligned);
}

TEST(Tx2NetSpecs, SqueezeNetMatchesButForActivationsDropoutAndFlatten) {
  const NetSpec ours = make_builtin_network("squeezenet1.0");
  const NetSpec theirs = tx2("squeezenet_0.json");
  EXPECT_EQ(infer_shapes(ours).params, infer_shapes(theirs).params);
  // 1. ReLUs: torchvision's fire module applies one ReLU to each expand branch before the
  //    concatenation; the exported model applies one ReLU after it. Ours has 26 ReLUs (stem,
  //    3 per fire module, classifier), theirs 18.
  auto count = [](const NetSpec& s, Op op) {
    return std::count_if(s.layers.begin(), s.layers.end(), [op](const Layer& l) { return l.op == op; });
  };
  EXPECT_EQ(count(ours, Op::kRelu), 1 + 3 * 8 + 1);
  EXPECT_EQ(count(theirs, Op::kRelu), 1 + 2 * 8 + 1);
  // 2. The exported file has no Dropout(0.5) before the classifier conv.
  EXPECT_EQ(count(ours, Op::kDropout), 1);
  EXPECT_EQ(count(theirs, Op::kDropout), 0);
  // 3. It flattens twice (a no-op second flatten as its output); torchvision flattens once.
  EXPECT_EQ(count(ours, Op::kFlatten), 1);
  EXPECT_EQ(count(theirs, Op::kFlatten), 2);
  // Without ReLUs, dropout and the second flatten, the networks are the same.
  const NetSpec ours_aligned = without(ours, [](const Layer& l) { return is_op(l, Op::kRelu) || is_op(l, Op::kDropout); });
  const NetSpec theirs_aligned = without(theirs, [](const Layer& l) {
    return is_op(l, Op::kRelu) || (is_op(l, Op::kFlatten) && l.inputs.front() != "classifier_3");
  });
  expect_same_structure(ours_aligned, theirs_aligned);
  // Our names are the exported file's wherever the module exists in both (convs, pools).
  for (size_t i = 0; i < ours_aligned.layers.size(); ++i) {
    const Layer& l = ours_aligned.layers[i];
    if (l.op == Op::kConv2d || l.op == Op::kMaxPool2d || l.op == Op::kAdaptiveAvgPool2d) {
      EXPECT_EQ(l.name, theirs_aligned.layers[i].name);
    }
  }
}

// Our channel groups hold in perf4sight's own pruned networks: every layer that our analysis
// couples has one channel count in each of their files.
TEST(Tx2NetSpecs, PrunedFilesRespectOurChannelGroups) {
  for (const char* family : {"resnet18", "mobilenetv2", "squeezenet"}) {
    const NetSpec base = tx2((std::string(family) + "_0.json").c_str());
    const ChannelGroups groups = analyze_channel_groups(base);
    for (int level : {10, 20, 25, 30, 35, 45, 50, 65, 70, 75, 85, 90}) {
      const NetSpec pruned = tx2((std::string(family) + "_" + std::to_string(level) + ".json").c_str());
      ASSERT_EQ(pruned.layers.size(), base.layers.size());
      SCOPED_TRACE(pruned.name);
      std::map<int, int64_t> seen;
      for (size_t i = 0; i < pruned.layers.size(); ++i) {
        if (pruned.layers[i].op != Op::kConv2d) continue;
        const int g = groups.outputs[i].front().group;
        const int64_t n = pruned.layers[i].conv().out_channels;
        if (!groups.groups[static_cast<size_t>(g)].prunable) {
          EXPECT_EQ(n, base.layers[i].conv().out_channels);
        } else if (!seen.emplace(g, n).second) {
          EXPECT_EQ(seen[g], n) << pruned.layers[i].name;
        }
      }
    }
  }
}

}  // namespace
}  // namespace p4s::modelgen
