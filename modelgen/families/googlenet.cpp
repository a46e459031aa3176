// GoogLeNet (Inception v1) as torchvision.models.googlenet(aux_logits=False) builds it, with
// torchvision's default transform_input=False (no input transformation layers) and its
// "5x5" branch (branch3) as torchvision has it: a 3x3 convolution. BasicConv2d is conv (no
// bias), BN and an in-place ReLU, named `<module>_conv`, `<module>_bn`, `<module>_relu`.
// Head: avgpool (global), flatten, dropout (0.2), fc.
//
// CIFAR variant: conv1 is a 3x3 stride-1 convolution and maxpool1 and maxpool2 are left out,
// so the inception stages run at 32, 16 and 8 pixels; the rest is unchanged.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

Tensor basic_conv(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                  int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
  Tensor y = b.conv2d(p + "_conv", x, out, kernel, stride, padding);
  y = b.batchnorm2d(p + "_bn", y);
  return b.relu(p + "_relu", y);
}

struct InceptionSpec {
  int64_t ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
};

Tensor inception(NetBuilder& b, const FamilySpec& spec, const std::string& p, const Tensor& x,
                 const InceptionSpec& s) {
  const Tensor b1 = basic_conv(b, p + "_branch1", x, spec.scale(s.ch1x1), 1);
  Tensor b2 = basic_conv(b, p + "_branch2_0", x, spec.scale(s.ch3x3red), 1);
  b2 = basic_conv(b, p + "_branch2_1", b2, spec.scale(s.ch3x3), 3, 1, 1);
  Tensor b3 = basic_conv(b, p + "_branch3_0", x, spec.scale(s.ch5x5red), 1);
  b3 = basic_conv(b, p + "_branch3_1", b3, spec.scale(s.ch5x5), 3, 1, 1);
  Tensor b4 = b.maxpool2d(p + "_branch4_0", x, 3, 1, 1, true);
  b4 = basic_conv(b, p + "_branch4_1", b4, spec.scale(s.pool_proj), 1);
  return b.concat(p + "_cat", {b1, b2, b3, b4});
}

}  // namespace

NetSpec build_googlenet(const FamilySpec& spec) {
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = spec.cifar() ? basic_conv(b, "conv1", b.input(), spec.scale(64), 3, 1, 1)
                          : basic_conv(b, "conv1", b.input(), spec.scale(64), 7, 2, 3);
  if (!spec.cifar()) x = b.maxpool2d("maxpool1", x, 3, 2, 0, true);
  x = basic_conv(b, "conv2", x, spec.scale(64), 1);
  x = basic_conv(b, "conv3", x, spec.scale(192), 3, 1, 1);
  if (!spec.cifar()) x = b.maxpool2d("maxpool2", x, 3, 2, 0, true);
  x = inception(b, spec, "inception3a", x, {64, 96, 128, 16, 32, 32});
  x = inception(b, spec, "inception3b", x, {128, 128, 192, 32, 96, 64});
  x = b.maxpool2d("maxpool3", x, 3, 2, 0, true);
  x = inception(b, spec, "inception4a", x, {192, 96, 208, 16, 48, 64});
  x = inception(b, spec, "inception4b", x, {160, 112, 224, 24, 64, 64});
  x = inception(b, spec, "inception4c", x, {128, 128, 256, 24, 64, 64});
  x = inception(b, spec, "inception4d", x, {112, 144, 288, 32, 64, 64});
  x = inception(b, spec, "inception4e", x, {256, 160, 320, 32, 128, 128});
  x = b.maxpool2d("maxpool4", x, 2, 2, 0, true);
  x = inception(b, spec, "inception5a", x, {256, 160, 320, 32, 128, 128});
  x = inception(b, spec, "inception5b", x, {384, 192, 384, 48, 128, 128});
  x = b.adaptive_avgpool2d("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.dropout("dropout", x, 0.2);
  x = b.linear("fc", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace p4s::modelgen
