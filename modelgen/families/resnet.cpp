// ResNet-18/34/50 as torchvision.models.resnet builds them (ResNet-50 is v1.5: the stride sits
// on the 3x3 convolution). Layer names are torchvision's module names with '.' as '_'; a module
// applied more than once (a block's `relu`) gets `_1`, `_2` on its later uses, as torch.fx
// names them; the residual sum is `<block>_add`.
//
// CIFAR variant: the stem is a 3x3 stride-1 convolution without the max pool, so the four
// stages run at 32, 16, 8 and 4 pixels; the rest is unchanged.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

enum class Block { kBasic, kBottleneck };

Tensor basic_block(NetBuilder& b, const std::string& p, const Tensor& x, int64_t planes,
                   int64_t stride) {
  Tensor out = b.conv2d(p + "_conv1", x, planes, 3, stride, 1);
  out = b.batchnorm2d(p + "_bn1", out);
  out = b.relu(p + "_relu", out);
  out = b.conv2d(p + "_conv2", out, planes, 3, 1, 1);
  out = b.batchnorm2d(p + "_bn2", out);
  Tensor identity = x;
  if (stride != 1 || x.shape.channels != planes) {
    identity = b.conv2d(p + "_downsample_0", x, planes, 1, stride, 0);
    identity = b.batchnorm2d(p + "_downsample_1", identity);
  }
  out = b.add(p + "_add", out, identity);
  return b.relu(p + "_relu_1", out);
}

Tensor bottleneck_block(NetBuilder& b, const std::string& p, const Tensor& x, int64_t planes,
                        int64_t stride) {
  const int64_t expanded = planes * 4;
  Tensor out = b.conv2d(p + "_conv1", x, planes, 1, 1, 0);
  out = b.batchnorm2d(p + "_bn1", out);
  out = b.relu(p + "_relu", out);
  out = b.conv2d(p + "_conv2", out, planes, 3, stride, 1);
  out = b.batchnorm2d(p + "_bn2", out);
  out = b.relu(p + "_relu_1", out);
  out = b.conv2d(p + "_conv3", out, expanded, 1, 1, 0);
  out = b.batchnorm2d(p + "_bn3", out);
  Tensor identity = x;
  if (stride != 1 || x.shape.channels != expanded) {
    identity = b.conv2d(p + "_downsample_0", x, expanded, 1, stride, 0);
    identity = b.batchnorm2d(p + "_downsample_1", identity);
  }
  out = b.add(p + "_add", out, identity);
  return b.relu(p + "_relu_2", out);
}

NetSpec build_resnet(const FamilySpec& spec, Block block, const int (&blocks)[4]) {
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = spec.cifar() ? b.conv2d("conv1", b.input(), spec.scale(64), 3, 1, 1)
                          : b.conv2d("conv1", b.input(), spec.scale(64), 7, 2, 3);
  x = b.batchnorm2d("bn1", x);
  x = b.relu("relu", x);
  if (!spec.cifar()) x = b.maxpool2d("maxpool", x, 3, 2, 1);
  const int64_t planes[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int i = 0; i < blocks[stage]; ++i) {
      const std::string prefix = "layer" + std::to_string(stage + 1) + "_" + std::to_string(i);
      const int64_t stride = (stage > 0 && i == 0) ? 2 : 1;
      const int64_t p = spec.scale(planes[stage]);
      x = block == Block::kBasic ? basic_block(b, prefix, x, p, stride)
                                 : bottleneck_block(b, prefix, x, p, stride);
    }
  }
  x = b.adaptive_avgpool2d("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace

NetSpec build_resnet18(const FamilySpec& spec) { return build_resnet(spec, Block::kBasic, {2, 2, 2, 2}); }
NetSpec build_resnet34(const FamilySpec& spec) { return build_resnet(spec, Block::kBasic, {3, 4, 6, 3}); }
NetSpec build_resnet50(const FamilySpec& spec) {
  return build_resnet(spec, Block::kBottleneck, {3, 4, 6, 3});
}

}  // namespace p4s::modelgen
