// The built-in families: torchvision's parameter counts and module names for the ImageNet
// variants, the documented CIFAR variants, and the width multipliers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "modelgen/builtin.hpp"
#include "modelgen/families.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {
namespace {

struct Count {
  const char* family;
  int64_t params;  // torchvision's num_params for the ImageNet network
};

// From torchvision's weight metadata (num_params); GoogLeNet's is without the auxiliary heads.
const Count kTorchvisionParams[] = {
    {"resnet18", 11'689'512},     {"resnet34", 21'797'672},      {"resnet50", 25'557'032},
    {"mobilenetv2", 3'504'872},   {"squeezenet1.0", 1'248'424},  {"squeezenet1.1", 1'235'496},
    {"googlenet", 6'624'904},     {"alexnet", 61'100'840},       {"vgg11", 132'863'336},
    {"vgg11bn", 132'868'840},     {"vgg16", 138'357'544},        {"vgg16bn", 138'365'992},
    {"mnasnet1.0", 4'383'312},
    // NetSpec 1.1 families: torchvision 0.29's models, counted (sum of parameter numels).
    {"mobilenetv3small", 2'542'856}, {"mobilenetv3large", 5'483'032}, {"efficientnetb0", 5'288'548},
    {"efficientnetb1", 7'794'184},   {"efficientnetb2", 9'109'994},   {"efficientnetb3", 12'233'232},
    {"shufflenetv2x0.5", 1'366'792}, {"shufflenetv2x1.0", 2'278'604}, {"shufflenetv2x1.5", 3'503'624},
    {"shufflenetv2x2.0", 7'393'996}, {"regnety400mf", 4'344'144},     {"regnety800mf", 6'432'512},
    {"regnety1.6gf", 11'202'430},    {"convnexttiny", 28'589'128},    {"densenet121", 7'978'856},
};

NetSpec imagenet(const char* family) { return make_builtin_network(std::string(family)); }

TEST(Families, EveryFamilyHasAParameterCountToCheck) {
  ASSERT_EQ(families().size(), std::size(kTorchvisionParams));
  for (const Count& c : kTorchvisionParams) EXPECT_NE(find_family(c.family), nullptr) << c.family;
}

TEST(Families, ImageNetVariantsHaveTorchvisionParameterCounts) {
  for (const Count& c : kTorchvisionParams) {
    SCOPED_TRACE(c.family);
    const NetSpec spec = imagenet(c.family);
    EXPECT_EQ(spec.name, c.family);
    EXPECT_EQ(spec.input, (InputSpec{3, 224, 224}));
    EXPECT_EQ(spec.classes, 1000);
    EXPECT_EQ(infer_shapes(spec).params, c.params);
  }
}

TEST(Families, FamilyIdsHaveNoUnderscore) {
  for (const Family& f : families()) EXPECT_EQ(f.id.find('_'), std::string_view::npos) << f.id;
}

// Layer names are torchvision's module names with '.' as '_'.
struct NamedLayer {
  const char* family;
  const char* layer;
  Op op;
};

const NamedLayer kNamedLayers[] = {
    {"resnet18", "layer1_0_conv1", Op::kConv2d},
    {"resnet18", "layer2_0_downsample_0", Op::kConv2d},
    {"resnet18", "layer4_1_bn2", Op::kBatchNorm2d},
    {"resnet50", "layer1_0_downsample_1", Op::kBatchNorm2d},
    {"resnet50", "layer4_2_conv3", Op::kConv2d},
    {"mobilenetv2", "features_0_0", Op::kConv2d},
    {"mobilenetv2", "features_1_conv_0_0", Op::kConv2d},  // t = 1: the depthwise conv comes first
    {"mobilenetv2", "features_1_conv_1", Op::kConv2d},
    {"mobilenetv2", "features_2_conv_1_0", Op::kConv2d},
    {"mobilenetv2", "features_17_conv_3", Op::kBatchNorm2d},
    {"mobilenetv2", "features_18_2", Op::kRelu6},
    {"mobilenetv2", "classifier_0", Op::kDropout},
    {"mobilenetv2", "classifier_1", Op::kLinear},
    {"squeezenet1.0", "features_3_expand3x3", Op::kConv2d},
    {"squeezenet1.0", "features_12_squeeze_activation", Op::kRelu},
    {"squeezenet1.0", "classifier_1", Op::kConv2d},
    {"squeezenet1.1", "features_12_expand1x1", Op::kConv2d},
    {"googlenet", "conv1_conv", Op::kConv2d},
    {"googlenet", "inception3a_branch3_1_conv", Op::kConv2d},
    {"googlenet", "inception5b_branch4_0", Op::kMaxPool2d},
    {"googlenet", "fc", Op::kLinear},
    {"alexnet", "features_10", Op::kConv2d},
    {"alexnet", "classifier_6", Op::kLinear},
    {"vgg11", "features_18", Op::kConv2d},
    {"vgg11bn", "features_26", Op::kBatchNorm2d},
    {"vgg16", "features_30", Op::kMaxPool2d},
    {"vgg16bn", "features_43", Op::kMaxPool2d},
    {"vgg16bn", "classifier_6", Op::kLinear},
    {"mnasnet1.0", "layers_8_0_layers_3", Op::kConv2d},
    {"mnasnet1.0", "layers_13_0_layers_7", Op::kBatchNorm2d},
    {"mnasnet1.0", "layers_14", Op::kConv2d},
    {"mnasnet1.0", "classifier_1", Op::kLinear},
    {"mobilenetv3small", "features_0_2", Op::kHardswish},
    {"mobilenetv3small", "features_1_block_1_fc2", Op::kConv2d},
    {"mobilenetv3small", "features_1_block_1_scale_activation", Op::kHardsigmoid},
    {"mobilenetv3small", "features_1_block_1_mul", Op::kMul},
    {"mobilenetv3small", "features_11_add", Op::kAdd},
    {"mobilenetv3small", "features_12_0", Op::kConv2d},
    {"mobilenetv3small", "classifier_3", Op::kLinear},
    {"mobilenetv3large", "features_1_block_0_0", Op::kConv2d},  // no expansion: depthwise first
    {"mobilenetv3large", "features_15_block_2_activation", Op::kRelu},
    {"mobilenetv3large", "classifier_1", Op::kHardswish},
    {"efficientnetb0", "features_1_0_block_1_activation", Op::kSilu},
    {"efficientnetb0", "features_1_0_block_1_scale_activation", Op::kSigmoid},
    {"efficientnetb0", "features_2_1_stochastic_depth", Op::kDropPath},
    {"efficientnetb0", "features_7_0_block_3_1", Op::kBatchNorm2d},
    {"efficientnetb0", "features_8_0", Op::kConv2d},
    {"efficientnetb3", "features_6_5_add", Op::kAdd},
    {"shufflenetv2x1.0", "stage2_0_branch1_2", Op::kConv2d},
    {"shufflenetv2x1.0", "stage2_1_chunk_1", Op::kSlice},
    {"shufflenetv2x1.0", "stage3_7_cat", Op::kConcat},
    {"shufflenetv2x1.0", "stage4_3_channel_shuffle", Op::kChannelShuffle},
    {"shufflenetv2x1.0", "conv5_0", Op::kConv2d},
    {"shufflenetv2x1.0", "fc", Op::kLinear},
    {"regnety400mf", "stem_0", Op::kConv2d},
    {"regnety400mf", "trunk_output_block1_block1-0_proj_0", Op::kConv2d},
    {"regnety400mf", "trunk_output_block3_block3-5_f_se_fc1", Op::kConv2d},
    {"regnety400mf", "trunk_output_block4_block4-5_activation", Op::kRelu},
    {"regnety1.6gf", "trunk_output_block3_block3-16_f_c_1", Op::kBatchNorm2d},
    {"convnexttiny", "features_0_1", Op::kLayerNorm2d},
    {"convnexttiny", "features_1_0_block_3", Op::kConv2d},
    {"convnexttiny", "features_1_0_block_4", Op::kGelu},
    {"convnexttiny", "features_5_8_layer_scale", Op::kScale},
    {"convnexttiny", "features_7_2_stochastic_depth", Op::kDropPath},
    {"convnexttiny", "features_6_1", Op::kConv2d},
    {"convnexttiny", "classifier_2", Op::kLinear},
    {"densenet121", "features_denseblock1_denselayer2_cat", Op::kConcat},
    {"densenet121", "features_denseblock3_denselayer24_conv2", Op::kConv2d},
    {"densenet121", "features_denseblock4_cat", Op::kConcat},
    {"densenet121", "features_transition3_pool", Op::kAvgPool2d},
    {"densenet121", "features_norm5", Op::kBatchNorm2d},
    {"densenet121", "classifier", Op::kLinear},
};

TEST(Families, LayerNamesFollowTorchvisionModules) {
  for (const NamedLayer& n : kNamedLayers) {
    SCOPED_TRACE(std::string(n.family) + " " + n.layer);
    const NetSpec spec = imagenet(n.family);
    const int i = spec.find_layer(n.layer);
    ASSERT_GE(i, 0);
    EXPECT_EQ(spec.layers[static_cast<size_t>(i)].op, n.op);
  }
}

TEST(Families, GoogLeNetFiveByFiveBranchIsThreeByThreeAsInTorchvision) {
  const NetSpec spec = imagenet("googlenet");
  int branches = 0;
  for (const Layer& l : spec.layers) {
    if (l.name.find("branch3_1_conv") == std::string::npos) continue;
    ++branches;
    EXPECT_EQ(l.conv().kernel, (Hw{3, 3})) << l.name;
  }
  EXPECT_EQ(branches, 9);
  // transform_input=False: the first layer reads the input directly.
  EXPECT_EQ(spec.layers.front().inputs, std::vector<std::string>{"input"});
}

TEST(Families, DropoutAsInTorchvision) {
  auto dropouts = [](const NetSpec& spec) {
    std::vector<double> p;
    for (const Layer& l : spec.layers)
      if (l.op == Op::kDropout) p.push_back(l.dropout().p);
    return p;
  };
  EXPECT_EQ(dropouts(imagenet("alexnet")), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(dropouts(imagenet("vgg16")), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(dropouts(imagenet("mobilenetv2")), (std::vector<double>{0.2}));
  EXPECT_EQ(dropouts(imagenet("mnasnet1.0")), (std::vector<double>{0.2}));
  EXPECT_EQ(dropouts(imagenet("googlenet")), (std::vector<double>{0.2}));
  EXPECT_EQ(dropouts(imagenet("squeezenet1.1")), (std::vector<double>{0.5}));
  EXPECT_TRUE(dropouts(imagenet("resnet50")).empty());
  EXPECT_EQ(dropouts(imagenet("mobilenetv3small")), (std::vector<double>{0.2}));
  EXPECT_EQ(dropouts(imagenet("efficientnetb1")), (std::vector<double>{0.2}));
  EXPECT_EQ(dropouts(imagenet("efficientnetb2")), (std::vector<double>{0.3}));
  EXPECT_EQ(dropouts(imagenet("efficientnetb3")), (std::vector<double>{0.3}));
  EXPECT_TRUE(dropouts(imagenet("convnexttiny")).empty());
  EXPECT_TRUE(dropouts(imagenet("densenet121")).empty());
}

std::vector<double> drop_paths(const NetSpec& spec) {
  std::vector<double> p;
  for (const Layer& l : spec.layers)
    if (l.op == Op::kDropPath) p.push_back(l.dropout().p);
  return p;
}

TEST(Families, StochasticDepthAsInTorchvision) {
  // EfficientNet-B0: 0.2 x block / 16 over all 16 blocks; only the 9 residual blocks call it.
  const std::vector<double> b0 = drop_paths(imagenet("efficientnetb0"));
  const int residual_blocks[] = {2, 4, 6, 7, 9, 10, 12, 13, 14};
  ASSERT_EQ(b0.size(), std::size(residual_blocks));
  for (size_t i = 0; i < b0.size(); ++i) EXPECT_DOUBLE_EQ(b0[i], 0.2 * residual_blocks[i] / 16) << i;
  EXPECT_EQ(drop_paths(imagenet("efficientnetb3")).size(), 19u);
  // ConvNeXt-T: 0.1 x block / 17, the first block's p = 0 kept.
  const std::vector<double> cn = drop_paths(imagenet("convnexttiny"));
  ASSERT_EQ(cn.size(), 18u);
  EXPECT_EQ(cn.front(), 0.0);
  EXPECT_DOUBLE_EQ(cn[5], 0.1 * 5 / 17.0);
  EXPECT_DOUBLE_EQ(cn.back(), 0.1);
}

// In-place where torchvision's modules are: Conv2dNormActivation's and the blocks' activations;
// squeeze-excitation's are not, but EfficientNet's SiLU is (torchvision passes inplace=True).
TEST(Families, ActivationsInPlaceAsInTorchvision) {
  auto inplace = [](const NetSpec& spec, const char* name) {
    return spec.layers[static_cast<size_t>(spec.find_layer(name))].activation().inplace;
  };
  const NetSpec v3 = imagenet("mobilenetv3large");
  EXPECT_TRUE(inplace(v3, "features_0_2"));
  EXPECT_TRUE(inplace(v3, "features_4_block_0_2"));
  EXPECT_FALSE(inplace(v3, "features_4_block_2_activation"));
  EXPECT_FALSE(inplace(v3, "features_4_block_2_scale_activation"));
  EXPECT_TRUE(inplace(v3, "classifier_1"));
  const NetSpec eff = imagenet("efficientnetb0");
  EXPECT_TRUE(inplace(eff, "features_2_0_block_2_activation"));
  EXPECT_FALSE(inplace(eff, "features_2_0_block_2_scale_activation"));
  const NetSpec reg = imagenet("regnety400mf");
  EXPECT_FALSE(inplace(reg, "trunk_output_block2_block2-0_f_se_activation"));
  EXPECT_TRUE(inplace(reg, "trunk_output_block2_block2-0_activation"));
  EXPECT_FALSE(inplace(imagenet("convnexttiny"), "features_3_0_block_4"));  // GELU has no in-place form
}

// The shape that reaches global pooling (or the flatten, where there is none).
TensorShape last_feature_map(const NetSpec& spec) {
  const ShapedNet net = infer_shapes(spec);
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].op == Op::kFlatten || spec.layers[i].op == Op::kAdaptiveAvgPool2d)
      return net.shape_of(net.layers[i].inputs.front());
  return {};
}

TEST(Families, CifarVariantsAreValidForTenAndHundredClasses) {
  for (const Family& f : families()) {
    for (const char* tag : {"_cifar10", "_cifar100"}) {
      const std::string name = std::string(f.id) + tag;
      SCOPED_TRACE(name);
      const NetSpec spec = make_builtin_network(name);
      EXPECT_EQ(spec.name, name);
      EXPECT_EQ(spec.input, (InputSpec{3, 32, 32}));
      EXPECT_EQ(spec.classes, std::string(tag) == "_cifar10" ? 10 : 100);
      const ShapedNet net = infer_shapes(spec);
      EXPECT_EQ(net.layers[static_cast<size_t>(net.output)].out, (TensorShape{spec.classes, 1, 1, true}));
    }
  }
}

TEST(Families, CifarStemsAsDocumented) {
  // ResNet: 3x3 stride-1 stem, no max pool, 4x4 at the end.
  const NetSpec r = make_builtin_network("resnet18_cifar10");
  EXPECT_EQ(r.layers[0].conv().kernel, (Hw{3, 3}));
  EXPECT_EQ(r.layers[0].conv().stride, (Hw{1, 1}));
  EXPECT_LT(r.find_layer("maxpool"), 0);
  EXPECT_EQ(last_feature_map(r), (TensorShape{512, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("resnet50_cifar100")), (TensorShape{2048, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("mobilenetv2_cifar10")), (TensorShape{1280, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("mnasnet1.0_cifar10")), (TensorShape{1280, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("googlenet_cifar10")), (TensorShape{1024, 8, 8, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("squeezenet1.0_cifar10")), (TensorShape{10, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("squeezenet1.1_cifar10")), (TensorShape{10, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("alexnet_cifar10")), (TensorShape{256, 4, 4, false}));
  EXPECT_EQ(last_feature_map(make_builtin_network("vgg16bn_cifar10")), (TensorShape{512, 1, 1, false}));
}

// The shape that reaches the head's global pooling (the last adaptive pool: squeeze-excitation
// pools come earlier).
TensorShape head_feature_map(const NetSpec& spec) {
  const ShapedNet net = infer_shapes(spec);
  TensorShape last;
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].op == Op::kAdaptiveAvgPool2d) last = net.shape_of(net.layers[i].inputs.front());
  return last;
}

TEST(Families, NetSpec11CifarVariantsEndAtFourPixels) {
  EXPECT_EQ(head_feature_map(make_builtin_network("mobilenetv3small_cifar10")), (TensorShape{576, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("mobilenetv3large_cifar10")), (TensorShape{960, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("efficientnetb0_cifar10")), (TensorShape{1280, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("efficientnetb3_cifar100")), (TensorShape{1536, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("shufflenetv2x1.0_cifar10")), (TensorShape{1024, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("regnety400mf_cifar10")), (TensorShape{440, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("convnexttiny_cifar10")), (TensorShape{768, 4, 4, false}));
  EXPECT_EQ(head_feature_map(make_builtin_network("densenet121_cifar10")), (TensorShape{1024, 4, 4, false}));
  // ImageNet ends at 7x7.
  EXPECT_EQ(head_feature_map(imagenet("regnety1.6gf")), (TensorShape{888, 7, 7, false}));
  EXPECT_EQ(head_feature_map(imagenet("densenet121")), (TensorShape{1024, 7, 7, false}));
  // ConvNeXt's CIFAR stem: 3x3 stride 1 with its bias; ShuffleNet and DenseNet lose the max pool.
  const NetSpec cn = make_builtin_network("convnexttiny_cifar10");
  EXPECT_EQ(cn.layers[0].conv().kernel, (Hw{3, 3}));
  EXPECT_EQ(cn.layers[0].conv().stride, (Hw{1, 1}));
  EXPECT_TRUE(cn.layers[0].conv().bias);
  EXPECT_LT(make_builtin_network("shufflenetv2x0.5_cifar10").find_layer("maxpool"), 0);
  EXPECT_LT(make_builtin_network("densenet121_cifar10").find_layer("features_pool0"), 0);
}

TEST(Families, CifarParameterCounts) {
  // The usual CIFAR ResNets (3x3 stem, no max pool): the widely quoted counts.
  EXPECT_EQ(infer_shapes(make_builtin_network("resnet18_cifar10")).params, 11'173'962);
  EXPECT_EQ(infer_shapes(make_builtin_network("resnet34_cifar10")).params, 21'282'122);
  EXPECT_EQ(infer_shapes(make_builtin_network("resnet50_cifar10")).params, 23'520'842);
  // Where only strides and pools change, only the classifier differs from ImageNet's.
  auto classifier_swap = [](const char* family, int64_t in_features, int64_t classes) {
    return infer_shapes(make_builtin_network(family)).params - (in_features * 1000 + 1000) +
           (in_features * classes + classes);
  };
  EXPECT_EQ(infer_shapes(make_builtin_network("mobilenetv2_cifar100")).params,
            classifier_swap("mobilenetv2", 1280, 100));
  EXPECT_EQ(infer_shapes(make_builtin_network("mnasnet1.0_cifar10")).params,
            classifier_swap("mnasnet1.0", 1280, 10));
  // GoogLeNet's conv1 also shrinks from 7x7 to 3x3 (64 filters of 3 channels).
  EXPECT_EQ(infer_shapes(make_builtin_network("googlenet_cifar10")).params,
            classifier_swap("googlenet", 1024, 10) - 64 * 3 * (49 - 9));
  // VGG-16: torchvision's 13 convolutions (14,714,688) and a 512-512-512-classes classifier.
  EXPECT_EQ(infer_shapes(make_builtin_network("vgg16_cifar10")).params,
            14'714'688 + 2 * (512 * 512 + 512) + (512 * 10 + 10));
  // AlexNet: 3x3 stem (64), torchvision's other convolutions, 4096-1024-1024-classes.
  const int64_t alexnet_convs = (3 * 9 * 64 + 64) + (64 * 25 * 192 + 192) + (192 * 9 * 384 + 384) +
                                (384 * 9 * 256 + 256) + (256 * 9 * 256 + 256);
  EXPECT_EQ(infer_shapes(make_builtin_network("alexnet_cifar100")).params,
            alexnet_convs + (4096 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 100 + 100));
}

TEST(Families, MnasnetWidthsHaveTorchvisionParameterCounts) {
  EXPECT_EQ(infer_shapes(make_builtin_network("mnasnet1.0_w0.5")).params, 2'218'512);   // mnasnet0_5
  EXPECT_EQ(infer_shapes(make_builtin_network("mnasnet1.0_w0.75")).params, 3'170'208);  // mnasnet0_75
  EXPECT_EQ(infer_shapes(make_builtin_network("mnasnet1.0_w1.3")).params, 6'282'256);   // mnasnet1_3
}

TEST(Families, MobileNetV2WidthRoundsToEightAsTorchvision) {
  const NetSpec half = make_builtin_network("mobilenetv2_w0.5");
  EXPECT_EQ(half.layers[0].conv().out_channels, 16);
  EXPECT_EQ(half.layers[static_cast<size_t>(half.find_layer("features_1_conv_1"))].conv().out_channels, 8);
  EXPECT_EQ(half.layers[static_cast<size_t>(half.find_layer("features_18_0"))].conv().out_channels, 1280);
  const NetSpec wide = make_builtin_network("mobilenetv2_w1.4");
  EXPECT_EQ(wide.layers[0].conv().out_channels, 48);  // _make_divisible(44.8, 8)
  EXPECT_EQ(wide.layers[static_cast<size_t>(wide.find_layer("features_18_0"))].conv().out_channels, 1792);
  // _make_divisible never rounds down by more than 10%: 0.35 * 16 = 5.6 -> 8.
  const NetSpec narrow = make_builtin_network("mobilenetv2_w0.35");
  EXPECT_EQ(narrow.layers[static_cast<size_t>(narrow.find_layer("features_1_conv_1"))].conv().out_channels, 8);
}

// Counted with torchvision 0.29: mobilenet_v3_*(width_mult=w); EfficientNet(
// _efficientnet_conf(width_mult=family x w)); RegNet(BlockParams) and ShuffleNetV2, DenseNet,
// ConvNeXt built with the widths the README's rules give.
TEST(Families, NetSpec11WidthsHaveTorchvisionParameterCounts) {
  const Count counts[] = {
      {"mobilenetv3large_w0.75", 3'377'576}, {"mobilenetv3small_w0.5", 917'264},
      {"mobilenetv3small_w1.3", 3'928'192},  {"efficientnetb0_w0.5", 1'712'522},
      {"efficientnetb2_w1.5", 19'677'708},   {"regnety400mf_w0.5", 1'317'312},
      {"regnety1.6gf_w0.75", 7'219'552},     {"shufflenetv2x1.0_w0.5", 836'143},
      {"densenet121_w0.5", 2'274'728},       {"convnexttiny_w0.5", 7'438'360},
  };
  for (const Count& c : counts) EXPECT_EQ(infer_shapes(make_builtin_network(c.family)).params, c.params) << c.family;
}

TEST(Families, RegNetWidthsStayMultiplesOfTheGroupWidth) {
  // 0.5 x 104 = 52 -> _make_divisible(52, 8) = 56: 7 groups of 8.
  const NetSpec r = make_builtin_network("regnety400mf_w0.5");
  const Conv2dAttrs& b = r.layers[static_cast<size_t>(r.find_layer("trunk_output_block2_block2-0_f_b_0"))].conv();
  EXPECT_EQ(b.out_channels, 56);
  EXPECT_EQ(b.groups, 7);
  // SE squeezes to round(0.25 x the block input): 0.25 x 24 (the first stage's width).
  const NetSpec full = imagenet("regnety400mf");
  EXPECT_EQ(full.layers[static_cast<size_t>(full.find_layer("trunk_output_block2_block2-0_f_se_fc1"))].conv().out_channels, 12);
  EXPECT_EQ(full.layers[static_cast<size_t>(full.find_layer("trunk_output_block2_block2-1_f_se_fc1"))].conv().out_channels, 26);
}

TEST(Families, ShuffleNetWidthsKeepUnitsEven) {
  // 0.3 x 58 = 17.4 -> 17 per branch, 34 per stage-2 unit; slices halve it.
  const NetSpec s = make_builtin_network("shufflenetv2x1.0_w0.3");
  EXPECT_EQ(s.layers[static_cast<size_t>(s.find_layer("stage2_1_chunk_1"))].slice().start, 17);
  EXPECT_EQ(s.layers[static_cast<size_t>(s.find_layer("stage2_1_chunk_1"))].slice().end, 34);
}

TEST(Families, OtherFamiliesScaleChannelsAndRoundHalfUp) {
  const NetSpec r = make_builtin_network("resnet18_w0.5");
  EXPECT_EQ(r.layers[0].conv().out_channels, 32);
  EXPECT_EQ(r.layers[static_cast<size_t>(r.find_layer("fc"))].linear().in_features, 256);
  const NetSpec v = make_builtin_network("vgg11_w0.25");
  EXPECT_EQ(v.layers[0].conv().out_channels, 16);
  EXPECT_EQ(v.layers[static_cast<size_t>(v.find_layer("classifier_0"))].linear().out_features, 1024);
  // 0.3 * 96 = 28.8 -> 29; 0.3 * 16 = 4.8 -> 5; the classifier conv keeps the classes.
  const NetSpec s = make_builtin_network("squeezenet1.0_w0.3");
  EXPECT_EQ(s.layers[0].conv().out_channels, 29);
  EXPECT_EQ(s.layers[static_cast<size_t>(s.find_layer("features_3_squeeze"))].conv().out_channels, 5);
  EXPECT_EQ(s.layers[static_cast<size_t>(s.find_layer("classifier_1"))].conv().out_channels, 1000);
  // Widths scale every family validly, narrow and wide.
  for (const Family& f : families())
    for (const char* w : {"_w0.1", "_w0.5", "_w2"}) {
      SCOPED_TRACE(std::string(f.id) + w);
      EXPECT_NO_THROW(infer_shapes(make_builtin_network(std::string(f.id) + "_cifar10" + w)));
    }
}

}  // namespace
}  // namespace p4s::modelgen
