#include "bench/sweep.hpp"

#include <cmath>
#include <cstdint>
#include <locale>
#include <sstream>
#include <stdexcept>

#include "modelgen/builtin.hpp"
#include "modelgen/families.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"

namespace p4s::bench {
namespace {

constexpr std::string_view kNames[] = {"quick", "standard", "full", "none"};

// Layers of real networks at their ImageNet (224 x 224) sizes: {cin, cout, k, s, g, hw}.
// torchvision's ResNet-18/50, ResNeXt-50 32x4d, MobileNetV2, MnasNet 1.0, SqueezeNet 1.0,
// VGG-16, GoogLeNet as published (5 x 5 branches), EfficientNet-B0 and ConvNeXt-T.
const std::vector<Conv2dShape> kConvAll = {
    {3, 64, 7, 2, 1, 224},         // ResNet conv1, GoogLeNet conv1
    {64, 64, 3, 1, 1, 56},         // ResNet layer1
    {64, 128, 3, 2, 1, 56},        // ResNet layer2.0.conv1
    {64, 128, 1, 2, 1, 56},        // ResNet layer2.0.downsample
    {128, 128, 3, 1, 1, 28},       // ResNet layer2
    {128, 256, 3, 2, 1, 28},       // ResNet layer3.0.conv1
    {256, 256, 3, 1, 1, 14},       // ResNet layer3
    {256, 512, 3, 2, 1, 14},       // ResNet layer4.0.conv1
    {512, 512, 3, 1, 1, 7},        // ResNet layer4
    {256, 64, 1, 1, 1, 56},        // ResNet-50 bottleneck reduce
    {64, 256, 1, 1, 1, 56},        // ResNet-50 bottleneck expand
    {1024, 256, 1, 1, 1, 14},      // ResNet-50 layer3 reduce
    {128, 128, 3, 1, 32, 56},      // ResNeXt-50 layer1 grouped
    {256, 256, 3, 2, 32, 56},      // ResNeXt-50 layer2.0 grouped
    {1024, 1024, 3, 2, 32, 14},    // ResNeXt-50 layer4.0 grouped
    {3, 32, 3, 2, 1, 224},         // MobileNetV2 stem
    {32, 32, 3, 1, 32, 112},       // MobileNetV2 depthwise
    {32, 16, 1, 1, 1, 112},        // MobileNetV2 project
    {16, 96, 1, 1, 1, 112},        // MobileNetV2 expand
    {96, 96, 3, 2, 96, 112},       // MobileNetV2 depthwise, stride 2
    {144, 144, 3, 1, 144, 56},     // MobileNetV2 depthwise
    {144, 24, 1, 1, 1, 56},        // MobileNetV2 project
    {192, 192, 3, 2, 192, 28},     // MobileNetV2 depthwise, stride 2
    {384, 384, 3, 1, 384, 14},     // MobileNetV2 depthwise
    {960, 960, 3, 1, 960, 7},      // MobileNetV2 depthwise
    {320, 1280, 1, 1, 1, 7},       // MobileNetV2 last conv
    {72, 72, 5, 2, 72, 56},        // MnasNet depthwise 5x5, stride 2
    {480, 480, 5, 1, 480, 14},     // MnasNet depthwise 5x5
    {3, 96, 7, 2, 1, 224},         // SqueezeNet conv1
    {96, 16, 1, 1, 1, 54},         // SqueezeNet fire2 squeeze
    {16, 64, 1, 1, 1, 54},         // SqueezeNet fire2 expand 1x1
    {16, 64, 3, 1, 1, 54},         // SqueezeNet fire2 expand 3x3
    {256, 32, 1, 1, 1, 27},        // SqueezeNet fire5 squeeze
    {48, 192, 3, 1, 1, 27},        // SqueezeNet fire6 expand 3x3
    {512, 64, 1, 1, 1, 13},        // SqueezeNet fire9 squeeze
    {64, 256, 3, 1, 1, 13},        // SqueezeNet fire9 expand 3x3
    {512, 1000, 1, 1, 1, 13},      // SqueezeNet classifier
    {3, 64, 3, 1, 1, 224},         // VGG-16 conv1_1
    {64, 64, 3, 1, 1, 224},        // VGG-16 conv1_2
    {128, 128, 3, 1, 1, 112},      // VGG-16 conv2_2
    {256, 256, 3, 1, 1, 56},       // VGG-16 conv3
    {512, 512, 3, 1, 1, 28},       // VGG-16 conv4
    {512, 512, 3, 1, 1, 14},       // VGG-16 conv5
    {64, 192, 3, 1, 1, 56},        // GoogLeNet conv3
    {192, 64, 1, 1, 1, 28},        // GoogLeNet inception3a 1x1
    {96, 128, 3, 1, 1, 28},        // GoogLeNet inception3a 3x3
    {16, 32, 5, 1, 1, 28},         // GoogLeNet inception3a 5x5
    {16, 48, 5, 1, 1, 14},         // GoogLeNet inception4a 5x5
    {832, 384, 1, 1, 1, 7},        // GoogLeNet inception5b 1x1
    {144, 144, 5, 2, 144, 56},     // EfficientNet-B0 stage 3 depthwise 5x5, stride 2
    {240, 240, 5, 1, 240, 28},     // EfficientNet-B0 stage 3 depthwise 5x5
    {672, 672, 5, 2, 672, 14},     // EfficientNet-B0 stage 6 depthwise 5x5, stride 2
    {1152, 1152, 5, 1, 1152, 7},   // EfficientNet-B0 stage 6 depthwise 5x5
    {96, 96, 7, 1, 96, 56},        // ConvNeXt-T stage 1 depthwise 7x7
    {192, 192, 7, 1, 192, 28},     // ConvNeXt-T stage 2 depthwise 7x7
    {384, 384, 7, 1, 384, 14},     // ConvNeXt-T stage 3 depthwise 7x7
    {768, 768, 7, 1, 768, 7},      // ConvNeXt-T stage 4 depthwise 7x7
};

// Classifiers: ResNet-18, ResNet-50, MobileNetV2, GoogLeNet, VGG-16 fc6, fc7, fc8.
const std::vector<LinearShape> kLinearAll = {
    {512, 1000}, {2048, 1000}, {1280, 1000}, {1024, 1000}, {25088, 4096}, {4096, 4096}, {4096, 1000},
};

// Batch norms after the convolutions above: {c, hw}.
const std::vector<BatchNorm2dShape> kBatchNormAll = {
    {64, 112}, {64, 56}, {128, 28}, {256, 14}, {512, 7},           // ResNet
    {32, 112}, {96, 56}, {144, 56}, {192, 28}, {960, 7}, {1280, 7},  // MobileNetV2
    {256, 56}, {1024, 14}, {2048, 7},                                // ResNet-50
};

// Element-wise activations where the NetSpec 1.1 families apply them: {kind, c, hw}. Sigmoid
// and Hardsigmoid appear only as squeeze-excitation's scale, on [c, 1, 1].
const std::vector<ActivationShape> kActivationAll = {
    {LayerKind::kSiLU, 32, 112},       // EfficientNet-B0 stem
    {LayerKind::kSiLU, 96, 112},       // EfficientNet-B0 stage 2 expand
    {LayerKind::kSiLU, 144, 56},       // EfficientNet-B0 stage 3 expand
    {LayerKind::kSiLU, 240, 28},       // EfficientNet-B0 stage 4 expand
    {LayerKind::kSiLU, 672, 14},       // EfficientNet-B0 stage 6 expand
    {LayerKind::kSiLU, 1152, 7},       // EfficientNet-B0 stage 7 expand
    {LayerKind::kSiLU, 1280, 7},       // EfficientNet-B0 last conv
    {LayerKind::kHardswish, 16, 112},  // MobileNetV3 stem
    {LayerKind::kHardswish, 96, 28},   // MobileNetV3-Small expand, stride-2 block
    {LayerKind::kHardswish, 240, 28},  // MobileNetV3-Large expand, stride-2 block
    {LayerKind::kHardswish, 480, 14},  // MobileNetV3-Large expand
    {LayerKind::kHardswish, 672, 14},  // MobileNetV3-Large expand
    {LayerKind::kHardswish, 576, 7},   // MobileNetV3-Small last conv
    {LayerKind::kHardswish, 960, 7},   // MobileNetV3-Large last conv
    {LayerKind::kHardsigmoid, 72, 1},  // MobileNetV3-Large squeeze-excitation scales
    {LayerKind::kHardsigmoid, 480, 1},
    {LayerKind::kHardsigmoid, 960, 1},
    {LayerKind::kSigmoid, 96, 1},      // EfficientNet-B0 squeeze-excitation scales
    {LayerKind::kSigmoid, 1152, 1},
    {LayerKind::kSigmoid, 440, 1},     // RegNetY-400MF stage 4 squeeze-excitation scale
    {LayerKind::kGELU, 384, 56},       // ConvNeXt-T stage 1 (4 x 96 channels)
    {LayerKind::kGELU, 768, 28},       // ConvNeXt-T stage 2
    {LayerKind::kGELU, 1536, 14},      // ConvNeXt-T stage 3
    {LayerKind::kGELU, 3072, 7},       // ConvNeXt-T stage 4
};

// ConvNeXt-T's layer norms over channels (stem and blocks of each stage): {c, hw}.
const std::vector<LayerNorm2dShape> kLayerNormAll = {{96, 56}, {192, 28}, {384, 14}, {768, 7}};

// ShuffleNetV2's channel shuffles (2 groups) at each stage's output: {c, g, hw}.
const std::vector<ChannelShuffleShape> kShuffleAll = {
    {48, 2, 28},                              // ShuffleNetV2 0.5x stage 2
    {116, 2, 28}, {232, 2, 14}, {464, 2, 7},  // ShuffleNetV2 1.0x stages 2, 3, 4
    {244, 2, 28}, {976, 2, 7},                // ShuffleNetV2 2.0x stages 2 and 4
};

// MobileNetV3's squeeze-excitation blocks (ReLU, Hardsigmoid), {c, r, hw}: r is
// _make_divisible(c / 4, 8).
const std::vector<SqueezeExcitationShape> kSqueezeExcitationAll = {
    {16, 8, 56},     // MobileNetV3-Small block 1
    {96, 24, 14},    // MobileNetV3-Small block 4
    {576, 144, 7},   // MobileNetV3-Small last blocks
    {72, 24, 28},    // MobileNetV3-Large block 4
    {120, 32, 28},   // MobileNetV3-Large blocks 5, 6
    {480, 120, 14},  // MobileNetV3-Large block 11
    {672, 168, 14},  // MobileNetV3-Large block 12
    {960, 240, 7},   // MobileNetV3-Large last blocks
};

// quick: one or two shapes of every kind of layer (kernels 1, 3, 5, 7; strides 1 and 2;
// dense, grouped, depthwise), chosen among the cheaper ones.
const std::vector<Conv2dShape> kConvQuick = {
    {64, 64, 3, 1, 1, 56},      // ResNet layer1: 3x3, stride 1
    {64, 128, 3, 2, 1, 56},     // ResNet layer2.0.conv1: 3x3, stride 2
    {64, 128, 1, 2, 1, 56},     // ResNet downsample: 1x1, stride 2
    {512, 512, 3, 1, 1, 7},     // ResNet layer4: many channels, small image
    {3, 64, 7, 2, 1, 224},      // ResNet conv1: 7x7, stride 2
    {16, 32, 5, 1, 1, 28},      // GoogLeNet 5x5
    {144, 24, 1, 1, 1, 56},     // MobileNetV2 project: 1x1, stride 1
    {128, 128, 3, 1, 32, 56},   // ResNeXt grouped
    {32, 32, 3, 1, 32, 112},    // MobileNetV2 depthwise, stride 1
    {96, 96, 3, 2, 96, 112},    // MobileNetV2 depthwise, stride 2
    {480, 480, 5, 1, 480, 14},  // MnasNet depthwise 5x5
    {16, 64, 3, 1, 1, 54},      // SqueezeNet expand 3x3
    {768, 768, 7, 1, 768, 7},   // ConvNeXt-T depthwise 7x7
};
const std::vector<LinearShape> kLinearQuick = {{512, 1000}, {1280, 1000}};
const std::vector<BatchNorm2dShape> kBatchNormQuick = {{64, 56}, {32, 112}, {512, 7}};
const std::vector<ActivationShape> kActivationQuick = {
    {LayerKind::kSiLU, 1152, 7},        // EfficientNet-B0 stage 7 expand
    {LayerKind::kHardswish, 960, 7},    // MobileNetV3-Large last conv
    {LayerKind::kHardsigmoid, 960, 1},  // MobileNetV3-Large squeeze-excitation scale
    {LayerKind::kSigmoid, 1152, 1},     // EfficientNet-B0 squeeze-excitation scale
    {LayerKind::kGELU, 3072, 7},        // ConvNeXt-T stage 4
};
const std::vector<LayerNorm2dShape> kLayerNormQuick = {{768, 7}};             // ConvNeXt-T stage 4
const std::vector<ChannelShuffleShape> kShuffleQuick = {{464, 2, 7}};         // ShuffleNetV2 1.0x stage 4
const std::vector<SqueezeExcitationShape> kSqueezeExcitationQuick = {
    {96, 24, 14},   // MobileNetV3-Small block 4
    {960, 240, 7},  // MobileNetV3-Large last blocks
};

// Built-in networks: a group is some base networks (a family with its dataset and width, e.g.
// "resnet18_cifar10"), each in some pruning variants, each variant at the group's batch sizes.
struct Variant {
  int level_percent;  // 0: unpruned
  uint64_t seed;
};
struct NetworkGroup {
  std::vector<std::string> bases;
  std::vector<Variant> variants;
  std::vector<int64_t> batches;
};

// A variant beyond the level pruning can reach on a base (RegNetY's grouped convolutions keep
// their channels) is left out.
std::vector<SweepNetwork> expand(const std::vector<NetworkGroup>& groups) {
  std::vector<SweepNetwork> out;
  for (const NetworkGroup& g : groups)
    for (const std::string& base : g.bases) {
      int reach = 0;
      for (const Variant& v : g.variants)
        if (v.level_percent > reach) {
          reach = modelgen::RandomChannelPruner(modelgen::make_builtin_network(base)).highest_level();
          break;
        }
      for (const Variant& v : g.variants) {
        if (v.level_percent > reach) continue;
        modelgen::NetworkId id = modelgen::parse_network_name(base);
        id.prune_percent = v.level_percent;
        id.seed = v.level_percent > 0 ? v.seed : 0;
        out.push_back(SweepNetwork{modelgen::network_name(id), g.batches});
      }
    }
  return out;
}

// quick: four families at CIFAR size, pruned and not, and ResNet-18 at ImageNet size.
std::vector<SweepNetwork> quick_networks() {
  return expand({
      {{"resnet18_cifar10", "mobilenetv2_cifar10"}, {{0, 0}, {50, 1}}, {2, 8}},
      {{"squeezenet1.1_cifar10", "vgg11bn_cifar10"}, {{0, 0}}, {2, 8}},
      {{"resnet18"}, {{50, 1}}, {2}},
  });
}

// standard: training data for the fit stage that a 2-core CPU measures in under an hour
// (bench/README.md, "Run times"): sixteen families (the fit holds one out at a time), CIFAR-10
// variants at six pruning levels and seeds up to batch 32..128, ImageNet variants at three up
// to batch 2..16, CIFAR-100, and the NetSpec 1.1 families (squeeze-excitation, SiLU, Hardswish,
// shuffles, layer norm, dense blocks) at CIFAR-10 size at three levels up to batch 16.
std::vector<SweepNetwork> standard_networks() {
  const std::vector<Variant> cifar = {{0, 0}, {25, 1}, {50, 1}, {50, 2}, {75, 1}, {90, 1}};
  const std::vector<Variant> imagenet = {{0, 0}, {50, 1}, {75, 2}};
  return expand({
      {{"resnet18_cifar10"}, cifar, {1, 4, 16, 64}},
      {{"vgg11bn_cifar10", "squeezenet1.1_cifar10", "alexnet_cifar10"}, cifar, {1, 4, 16, 64, 128}},
      {{"mobilenetv2_cifar10", "mnasnet1.0_cifar10"}, cifar, {1, 4, 16, 32}},
      {{"resnet18_cifar100"}, {{0, 0}, {50, 1}}, {1, 16, 64}},
      {{"resnet18", "alexnet", "squeezenet1.1", "mobilenetv2"}, imagenet, {1, 4, 16}},
      {{"googlenet", "mnasnet1.0"}, imagenet, {1, 4}},
      {{"resnet50", "vgg16"}, imagenet, {1, 2}},
      // The NetSpec 1.1 families at CIFAR-10 size; ConvNeXt-T, the largest, pruned only.
      {{"mobilenetv3small_cifar10", "mobilenetv3large_cifar10", "efficientnetb0_cifar10", "shufflenetv2x1.0_cifar10",
        "regnety400mf_cifar10", "densenet121_cifar10"},
       {{0, 0}, {50, 1}, {75, 1}},
       {1, 4, 16}},
      {{"convnexttiny_cifar10"}, {{50, 1}, {75, 1}, {90, 1}}, {1, 4, 16}},
  });
}

// full: every family at ImageNet and CIFAR-10 size, unpruned and at five levels (two of them
// with a second seed), at batch sizes up to 128 (ImageNet) and 256 (CIFAR): for devices where
// a step takes milliseconds. Cases that do not fit the device are out-of-memory entries.
std::vector<SweepNetwork> full_networks() {
  std::vector<std::string> families, cifar;
  for (const modelgen::Family& f : modelgen::families()) {
    families.emplace_back(f.id);
    cifar.push_back(std::string(f.id) + "_cifar10");
  }
  const std::vector<Variant> variants = {{0, 0},  {10, 1}, {30, 1}, {30, 2},
                                         {50, 1}, {70, 1}, {70, 2}, {90, 1}};
  return expand({
      {families, variants, {1, 2, 4, 8, 16, 32, 64, 128}},
      {cifar, variants, {1, 2, 4, 8, 16, 32, 64, 128, 256}},
      {{"resnet18_cifar100", "mobilenetv2_cifar100"}, {{0, 0}, {50, 1}}, {1, 4, 16, 64, 256}},
  });
}

}  // namespace

bool is_sweep_name(std::string_view name) {
  for (std::string_view n : kNames)
    if (n == name) return true;
  return false;
}

std::string sweep_names_text() { return "quick, standard, full or none"; }

std::string train_from_at_share(const modelgen::NetSpec& spec, double share) {
  if (!(share > 0 && share < 1)) throw std::invalid_argument("train_from_at_share: the share must be in (0, 1)");
  const size_t n = spec.layers.size();
  for (size_t i = static_cast<size_t>(std::ceil(share * static_cast<double>(n))); i < n; ++i) {
    const modelgen::Op op = spec.layers[i].op;
    if (op == modelgen::Op::kConv2d || op == modelgen::Op::kLinear) return spec.layers[i].name;
  }
  throw std::invalid_argument("network \"" + spec.name + "\" has no convolution or linear layer past " +
                              std::to_string(share) + " of its layers");
}

namespace {

results::Recipe with_optimizer(results::Optimizer o) {
  results::Recipe r;
  results::use_optimizer(r, o);
  return r;
}

// Adam over every layer, Adam and SGD (frozen batch norms in eval mode) over the last third:
// the optimizer's state and a frozen prefix, what fine-tuning on a device changes most.
std::vector<SweepRecipe> recipes_of(const std::vector<std::string>& nets, const std::vector<int64_t>& batches,
                                    bool more) {
  results::Recipe sgd_eval_bn;
  sgd_eval_bn.freeze_bn = true;
  std::vector<SweepRecipe> out = {
      {with_optimizer(results::Optimizer::kAdam), 0, nets, batches},
      {with_optimizer(results::Optimizer::kAdam), 2.0 / 3.0, nets, batches},
      {sgd_eval_bn, 2.0 / 3.0, nets, batches},
  };
  if (more) {
    results::Recipe plain;
    plain.momentum = 0;
    plain.weight_decay = 0;
    out.push_back({with_optimizer(results::Optimizer::kAdamW), 0, nets, batches});
    out.push_back({with_optimizer(results::Optimizer::kSgdNesterov), 0, nets, batches});
    out.push_back({plain, 0, nets, batches});
  }
  return out;
}

}  // namespace

Sweep sweep_preset(std::string_view name) {
  Sweep s;
  s.name = std::string(name);
  if (name == "quick") {
    s.conv2d = kConvQuick;
    s.linear = kLinearQuick;
    s.batchnorm2d = kBatchNormQuick;
    s.activation = kActivationQuick;
    s.layernorm2d = kLayerNormQuick;
    s.channel_shuffle = kShuffleQuick;
    s.squeeze_excitation = kSqueezeExcitationQuick;
    s.layer_batches = {1, 4, 16};
    s.networks = quick_networks();
    s.net_batches = {2, 8};
    s.recipes = {{with_optimizer(results::Optimizer::kAdam), 0, {"resnet18_cifar10"}, {8}},
                 {with_optimizer(results::Optimizer::kAdam), 2.0 / 3.0, {"mobilenetv2_cifar10"}, {8}}};
    s.warmup_steps = 1;
    s.repetitions = 1;
    s.min_time_s = 0.1;
  } else if (name == "standard") {
    s.conv2d = kConvAll;
    s.linear = kLinearAll;
    s.batchnorm2d = kBatchNormAll;
    s.activation = kActivationAll;
    s.layernorm2d = kLayerNormAll;
    s.channel_shuffle = kShuffleAll;
    s.squeeze_excitation = kSqueezeExcitationAll;
    s.layer_batches = {1, 8, 32};
    s.networks = standard_networks();
    s.net_batches = {2, 4, 8, 16, 32};
    s.recipes = recipes_of({"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10", "vgg11bn_cifar10"},
                           {4, 16}, false);
    s.warmup_steps = 2;
    s.repetitions = 3;
    s.min_time_s = 0.2;
  } else if (name == "full") {
    s.conv2d = kConvAll;
    s.linear = kLinearAll;
    s.batchnorm2d = kBatchNormAll;
    s.activation = kActivationAll;
    s.layernorm2d = kLayerNormAll;
    s.channel_shuffle = kShuffleAll;
    s.squeeze_excitation = kSqueezeExcitationAll;
    s.layer_batches = {1, 2, 4, 8, 16, 32, 64};
    s.networks = full_networks();
    s.recipes = recipes_of({"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10", "vgg11bn_cifar10",
                            "mnasnet1.0_cifar10", "alexnet_cifar10"},
                           {4, 16, 64}, true);
    s.net_batches = {2, 4, 8, 16, 32, 64, 128, 256};
    s.warmup_steps = 3;
    s.repetitions = 5;
    s.min_time_s = 0.5;
  } else if (name == "none") {
    // No cases of its own: only the networks a run names (--p4s_net, --p4s_netspec) or a
    // plugin registers, measured as quick measures them.
    s.net_batches = {2, 8};
    s.warmup_steps = 1;
    s.repetitions = 1;
    s.min_time_s = 0.1;
  } else {
    throw std::invalid_argument("\"" + std::string(name) + "\" is not a sweep (" + sweep_names_text() + ")");
  }
  return s;
}

std::vector<std::string> benchmark_flags(const Sweep& sweep) {
  std::ostringstream min_time;
  min_time.imbue(std::locale::classic());
  min_time << sweep.min_time_s;
  std::vector<std::string> flags = {"--benchmark_min_time=" + min_time.str(),
                                    "--benchmark_repetitions=" + std::to_string(sweep.repetitions)};
  // The console shows the aggregates; the file keeps every repetition too (p4s compare tests them).
  if (sweep.repetitions > 1) flags.push_back("--benchmark_display_aggregates_only=true");
  return flags;
}

}  // namespace p4s::bench
