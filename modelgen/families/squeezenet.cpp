// SqueezeNet 1.0 and 1.1 as torchvision.models.squeezenet1_0 / squeezenet1_1 build them:
// features_0..12 (stem, max pools with ceil mode, fire modules whose expand branches each have
// their own ReLU before the concatenation `<fire>_cat`), then classifier_0 (dropout 0.5),
// classifier_1 (1x1 conv to the classes), classifier_2 (ReLU), classifier_3 (global average
// pooling) and `flatten`. The classifier convolution makes the classes, so it is never pruned.
//
// CIFAR variant: the stem is a 3x3 stride-1 convolution with padding 1 (same channels); the
// three max pools stay, so the fire modules run at 16, 8 and 4 pixels.
#include <string>
#include <vector>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

struct FireSpec {
  int64_t squeeze, expand1x1, expand3x3;
};

Tensor fire(NetBuilder& b, const FamilySpec& spec, const std::string& p, const Tensor& x,
            const FireSpec& f) {
  Tensor s = b.conv2d(p + "_squeeze", x, spec.scale(f.squeeze), 1, 1, 0, 1, true);
  s = b.relu(p + "_squeeze_activation", s);
  Tensor e1 = b.conv2d(p + "_expand1x1", s, spec.scale(f.expand1x1), 1, 1, 0, 1, true);
  e1 = b.relu(p + "_expand1x1_activation", e1);
  Tensor e3 = b.conv2d(p + "_expand3x3", s, spec.scale(f.expand3x3), 3, 1, 1, 1, true);
  e3 = b.relu(p + "_expand3x3_activation", e3);
  return b.concat(p + "_cat", {e1, e3});
}

// One entry of torchvision's `features` list: a fire module or a max pool ("M").
struct Item {
  bool pool;
  FireSpec fire;
};

NetSpec build_squeezenet(const FamilySpec& spec, int64_t stem_channels, int64_t stem_kernel,
                         const std::vector<Item>& items) {
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = spec.cifar()
                 ? b.conv2d("features_0", b.input(), spec.scale(stem_channels), 3, 1, 1, 1, true)
                 : b.conv2d("features_0", b.input(), spec.scale(stem_channels), stem_kernel, 2, 0, 1, true);
  x = b.relu("features_1", x);
  x = b.maxpool2d("features_2", x, 3, 2, 0, true);
  int index = 3;
  for (const Item& item : items) {
    const std::string p = "features_" + std::to_string(index++);
    x = item.pool ? b.maxpool2d(p, x, 3, 2, 0, true) : fire(b, spec, p, x, item.fire);
  }
  x = b.dropout("classifier_0", x, 0.5);
  x = b.conv2d("classifier_1", x, spec.classes(), 1, 1, 0, 1, true);
  x = b.relu("classifier_2", x);
  x = b.adaptive_avgpool2d("classifier_3", x, 1, 1);
  x = b.flatten("flatten", x);
  return std::move(b).finish(x);
}

constexpr Item kPool{true, {0, 0, 0}};
Item fire_item(int64_t s, int64_t e) { return Item{false, {s, e, e}}; }

}  // namespace

NetSpec build_squeezenet1_0(const FamilySpec& spec) {
  return build_squeezenet(spec, 96, 7,
                          {fire_item(16, 64), fire_item(16, 64), fire_item(32, 128), kPool,
                           fire_item(32, 128), fire_item(48, 192), fire_item(48, 192),
                           fire_item(64, 256), kPool, fire_item(64, 256)});
}

NetSpec build_squeezenet1_1(const FamilySpec& spec) {
  return build_squeezenet(spec, 64, 3,
                          {fire_item(16, 64), fire_item(16, 64), kPool, fire_item(32, 128),
                           fire_item(32, 128), kPool, fire_item(48, 192), fire_item(48, 192),
                           fire_item(64, 256), fire_item(64, 256)});
}

}  // namespace p4s::modelgen
