#include "bench/sweep.hpp"

#include <cmath>
#include <cstdint>
#include <locale>
#include <sstream>
#include <stdexcept>

#include "modelgen/families.hpp"
#include "modelgen/network_name.hpp"

namespace p4s::bench {
namespace {

constexpr std::string_view kNames[] = {"quick", "standard", "full"};

// Layers of real networks at their ImageNet (224 x 224) sizes: {cin, cout, k, s, g, hw}.
// torchvision's ResNet-18/50, ResNeXt-50 32x4d, MobileNetV2, MnasNet 1.0, SqueezeNet 1.0,
// VGG-16, and GoogLeNet as published (5 x 5 branches).
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
};
const std::vector<LinearShape> kLinearQuick = {{512, 1000}, {1280, 1000}};
const std::vector<BatchNorm2dShape> kBatchNormQuick = {{64, 56}, {32, 112}, {512, 7}};

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

std::vector<SweepNetwork> expand(const std::vector<NetworkGroup>& groups) {
  std::vector<SweepNetwork> out;
  for (const NetworkGroup& g : groups)
    for (const std::string& base : g.bases)
      for (const Variant& v : g.variants) {
        modelgen::NetworkId id = modelgen::parse_network_name(base);
        id.prune_percent = v.level_percent;
        id.seed = v.level_percent > 0 ? v.seed : 0;
        out.push_back(SweepNetwork{modelgen::network_name(id), g.batches});
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

// standard: training data for the fit stage that a 2-core CPU measures in about half an hour
// (bench/README.md, "Run times"): nine families (the fit holds one out at a time), CIFAR-10 variants at
// six pruning levels and seeds up to batch 32..128, ImageNet variants at three up to batch
// 2..16, and CIFAR-100.
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

std::string sweep_names_text() { return "quick, standard, full"; }

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
    s.layer_batches = {1, 2, 4, 8, 16, 32, 64};
    s.networks = full_networks();
    s.recipes = recipes_of({"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10", "vgg11bn_cifar10",
                            "mnasnet1.0_cifar10", "alexnet_cifar10"},
                           {4, 16, 64}, true);
    s.net_batches = {2, 4, 8, 16, 32, 64, 128, 256};
    s.warmup_steps = 3;
    s.repetitions = 5;
    s.min_time_s = 0.5;
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
