// Internal to modelgen: what a family builder gets, the width rules, and the builders.
#pragma once

#include <cstdint>
#include <string>

#include "modelgen/families.hpp"
#include "modelgen/netspec.hpp"

namespace p4s::modelgen {

struct FamilySpec {
  std::string name;  // NetSpec::name
  Dataset dataset = Dataset::kImageNet;
  int width_permille = kDefaultWidthPermille;

  bool cifar() const { return dataset != Dataset::kImageNet; }
  double width() const { return width_permille / 1000.0; }
  InputSpec input() const { return dataset_input(dataset); }
  int64_t classes() const { return dataset_classes(dataset); }
  // The width rule of families without one of their own: round(c * width), halves up, at
  // least 1. Exact integer arithmetic, so identical everywhere.
  int64_t scale(int64_t channels) const;
};

// torchvision's _make_divisible (MobileNetV2): the multiple of `divisor` nearest to `v`, at least
// `divisor`, and not below 90% of `v`.
int64_t make_divisible(double v, int64_t divisor);
// torchvision's _round_to_multiple_of (MNASNet): asymmetric rounding that prefers rounding up.
int64_t round_to_multiple_of(double v, int64_t divisor, double round_up_bias = 0.9);

NetSpec build_resnet18(const FamilySpec& spec);
NetSpec build_resnet34(const FamilySpec& spec);
NetSpec build_resnet50(const FamilySpec& spec);
NetSpec build_mobilenetv2(const FamilySpec& spec);
NetSpec build_squeezenet1_0(const FamilySpec& spec);
NetSpec build_squeezenet1_1(const FamilySpec& spec);
NetSpec build_googlenet(const FamilySpec& spec);
NetSpec build_alexnet(const FamilySpec& spec);
NetSpec build_vgg11(const FamilySpec& spec);
NetSpec build_vgg11bn(const FamilySpec& spec);
NetSpec build_vgg16(const FamilySpec& spec);
NetSpec build_vgg16bn(const FamilySpec& spec);
NetSpec build_mnasnet1_0(const FamilySpec& spec);
NetSpec build_mobilenetv3small(const FamilySpec& spec);
NetSpec build_mobilenetv3large(const FamilySpec& spec);
NetSpec build_efficientnetb0(const FamilySpec& spec);
NetSpec build_efficientnetb1(const FamilySpec& spec);
NetSpec build_efficientnetb2(const FamilySpec& spec);
NetSpec build_efficientnetb3(const FamilySpec& spec);
NetSpec build_shufflenetv2x0_5(const FamilySpec& spec);
NetSpec build_shufflenetv2x1_0(const FamilySpec& spec);
NetSpec build_shufflenetv2x1_5(const FamilySpec& spec);
NetSpec build_shufflenetv2x2_0(const FamilySpec& spec);
NetSpec build_regnety400mf(const FamilySpec& spec);
NetSpec build_regnety800mf(const FamilySpec& spec);
NetSpec build_regnety1_6gf(const FamilySpec& spec);
NetSpec build_convnexttiny(const FamilySpec& spec);
NetSpec build_densenet121(const FamilySpec& spec);

}  // namespace p4s::modelgen
