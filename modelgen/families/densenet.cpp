// DenseNet-121 as torchvision.models.densenet121 builds it (memory_efficient=False, no
// dropout): features_conv0 (7x7 stride 2), features_norm0, features_relu0, features_pool0, four
// dense blocks of [6, 12, 24, 16] layers with transitions between them (BN, ReLU, 1x1 conv to
// half the channels, 2x2 average pool), features_norm5, the forward's `F.relu(inplace=True)`
// (`relu`), adaptive_avg_pool2d, flatten and classifier. A dense layer concatenates every
// earlier feature map of its block (`<layer>_cat`), then norm1, relu1, conv1 (1x1 to 4 x 32),
// norm2, relu2, conv2 (3x3 to 32); the block ends with the concatenation of all of them
// (`<block>_cat`). The first layer of a block reads the block input directly: torchvision's
// `torch.cat` of that one tensor is a copy, and NetSpec's concat takes two or more.
//
// Width: the generic rule on the growth rate and the stem width; transitions halve.
//
// CIFAR variant: conv0 is a 3x3 stride-1 convolution with padding 1 and pool0 is left out, so
// the dense blocks run at 32, 16, 8 and 4 pixels; the rest is unchanged.
#include <string>
#include <vector>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {
namespace {

Tensor dense_layer(NetBuilder& b, const std::string& p, const std::vector<Tensor>& features,
                   int64_t growth) {
  Tensor y = features.size() == 1 ? features.front() : b.concat(p + "_cat", features);
  y = b.batchnorm2d(p + "_norm1", y);
  y = b.relu(p + "_relu1", y);
  y = b.conv2d(p + "_conv1", y, 4 * growth, 1);
  y = b.batchnorm2d(p + "_norm2", y);
  y = b.relu(p + "_relu2", y);
  return b.conv2d(p + "_conv2", y, growth, 3, 1, 1);
}

Tensor dense_block(NetBuilder& b, const std::string& p, const Tensor& x, int layers, int64_t growth) {
  std::vector<Tensor> features = {x};
  for (int i = 1; i <= layers; ++i)
    features.push_back(dense_layer(b, p + "_denselayer" + std::to_string(i), features, growth));
  return b.concat(p + "_cat", features);
}

}  // namespace

NetSpec build_densenet121(const FamilySpec& spec) {
  const int blocks[4] = {6, 12, 24, 16};
  const int64_t growth = spec.scale(32);
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = spec.cifar() ? b.conv2d("features_conv0", b.input(), spec.scale(64), 3, 1, 1)
                          : b.conv2d("features_conv0", b.input(), spec.scale(64), 7, 2, 3);
  x = b.batchnorm2d("features_norm0", x);
  x = b.relu("features_relu0", x);
  if (!spec.cifar()) x = b.maxpool2d("features_pool0", x, 3, 2, 1);
  for (int i = 0; i < 4; ++i) {
    x = dense_block(b, "features_denseblock" + std::to_string(i + 1), x, blocks[i], growth);
    if (i == 3) break;
    const std::string t = "features_transition" + std::to_string(i + 1);
    x = b.batchnorm2d(t + "_norm", x);
    x = b.relu(t + "_relu", x);
    x = b.conv2d(t + "_conv", x, x.shape.channels / 2, 1);
    x = b.avgpool2d(t + "_pool", x, 2, 2);
  }
  x = b.batchnorm2d("features_norm5", x);
  x = b.relu("relu", x);
  x = b.adaptive_avgpool2d("adaptive_avg_pool2d", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("classifier", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace p4s::modelgen
