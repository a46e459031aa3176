#include "modelgen/families.hpp"

#include <stdexcept>
#include <utility>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/network_name.hpp"

namespace p4s::modelgen {

InputSpec dataset_input(Dataset dataset) {
  return dataset == Dataset::kImageNet ? InputSpec{3, 224, 224} : InputSpec{3, 32, 32};
}

int64_t dataset_classes(Dataset dataset) {
  switch (dataset) {
    case Dataset::kImageNet: return 1000;
    case Dataset::kCifar10: return 10;
    case Dataset::kCifar100: return 100;
  }
  return 0;
}

std::string_view dataset_tag(Dataset dataset) {
  switch (dataset) {
    case Dataset::kImageNet: return "";
    case Dataset::kCifar10: return "cifar10";
    case Dataset::kCifar100: return "cifar100";
  }
  return "";
}

const std::vector<Family>& families() {
  static const std::vector<Family> kFamilies = {
      {"resnet18", "resnet18", "ResNet-18: basic residual blocks [2, 2, 2, 2]", build_resnet18},
      {"resnet34", "resnet34", "ResNet-34: basic residual blocks [3, 4, 6, 3]", build_resnet34},
      {"resnet50", "resnet50", "ResNet-50 (v1.5): bottleneck blocks [3, 4, 6, 3]", build_resnet50},
      {"mobilenetv2", "mobilenet_v2",
       "MobileNetV2: inverted residuals with depthwise convolutions, ReLU6", build_mobilenetv2},
      {"squeezenet1.0", "squeezenet1_0", "SqueezeNet 1.0: fire modules, 7x7 stem, conv classifier",
       build_squeezenet1_0},
      {"squeezenet1.1", "squeezenet1_1", "SqueezeNet 1.1: fire modules, 3x3 stem, earlier pooling",
       build_squeezenet1_1},
      {"googlenet", "googlenet", "GoogLeNet (Inception v1) without auxiliary heads",
       build_googlenet},
      {"alexnet", "alexnet", "AlexNet: 5 convolutions, 3 fully connected layers", build_alexnet},
      {"vgg11", "vgg11", "VGG-11 (configuration A), no batch norm", build_vgg11},
      {"vgg11bn", "vgg11_bn", "VGG-11 (configuration A) with batch norm", build_vgg11bn},
      {"vgg16", "vgg16", "VGG-16 (configuration D), no batch norm", build_vgg16},
      {"vgg16bn", "vgg16_bn", "VGG-16 (configuration D) with batch norm", build_vgg16bn},
      {"mnasnet1.0", "mnasnet1_0", "MnasNet-B1, depth multiplier 1.0", build_mnasnet1_0},
      {"mobilenetv3small", "mobilenet_v3_small",
       "MobileNetV3-Small: inverted residuals, squeeze-excitation, Hardswish", build_mobilenetv3small},
      {"mobilenetv3large", "mobilenet_v3_large",
       "MobileNetV3-Large: inverted residuals, squeeze-excitation, Hardswish", build_mobilenetv3large},
      {"efficientnetb0", "efficientnet_b0", "EfficientNet-B0: MBConv blocks with SiLU, SE, stochastic depth",
       build_efficientnetb0},
      {"efficientnetb1", "efficientnet_b1", "EfficientNet-B1: B0 at depth 1.1", build_efficientnetb1},
      {"efficientnetb2", "efficientnet_b2", "EfficientNet-B2: B0 at width 1.1, depth 1.2", build_efficientnetb2},
      {"efficientnetb3", "efficientnet_b3", "EfficientNet-B3: B0 at width 1.2, depth 1.4", build_efficientnetb3},
      {"shufflenetv2x0.5", "shufflenet_v2_x0_5", "ShuffleNetV2 0.5x: channel split and shuffle units",
       build_shufflenetv2x0_5},
      {"shufflenetv2x1.0", "shufflenet_v2_x1_0", "ShuffleNetV2 1.0x: channel split and shuffle units",
       build_shufflenetv2x1_0},
      {"shufflenetv2x1.5", "shufflenet_v2_x1_5", "ShuffleNetV2 1.5x: channel split and shuffle units",
       build_shufflenetv2x1_5},
      {"shufflenetv2x2.0", "shufflenet_v2_x2_0", "ShuffleNetV2 2.0x: channel split and shuffle units",
       build_shufflenetv2x2_0},
      {"regnety400mf", "regnet_y_400mf", "RegNetY-400MF: grouped bottlenecks with squeeze-excitation",
       build_regnety400mf},
      {"regnety800mf", "regnet_y_800mf", "RegNetY-800MF: grouped bottlenecks with squeeze-excitation",
       build_regnety800mf},
      {"regnety1.6gf", "regnet_y_1_6gf", "RegNetY-1.6GF: grouped bottlenecks with squeeze-excitation",
       build_regnety1_6gf},
      {"convnexttiny", "convnext_tiny", "ConvNeXt-T: 7x7 depthwise blocks, LayerNorm, GELU, layer scale",
       build_convnexttiny},
      {"densenet121", "densenet121", "DenseNet-121: dense blocks [6, 12, 24, 16], growth 32",
       build_densenet121},
  };
  return kFamilies;
}

const Family* find_family(std::string_view id) {
  for (const Family& f : families())
    if (f.id == id) return &f;
  return nullptr;
}

NetSpec build_family(const Family& family, Dataset dataset, int width_permille, std::string name) {
  if (width_permille < kMinWidthPermille || width_permille > kMaxWidthPermille)
    throw std::invalid_argument("width multiplier " + format_width(width_permille) + " is outside [0.1, 4]");
  FamilySpec spec;
  spec.name = std::move(name);
  spec.dataset = dataset;
  spec.width_permille = width_permille;
  return family.build(spec);
}

}  // namespace p4s::modelgen
