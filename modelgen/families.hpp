// The built-in CNN families: torchvision's ImageNet networks, exactly (parameter counts and
// module names), and their CIFAR variants. Each family builds an unpruned NetSpec for a
// dataset and a width multiplier; names and pruning are in network_name.hpp and builtin.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modelgen/netspec.hpp"

namespace p4s::modelgen {

// The input size and class count a network is built for.
enum class Dataset {
  kImageNet,  // 3x224x224, 1000 classes
  kCifar10,   // 3x32x32, 10 classes
  kCifar100,  // 3x32x32, 100 classes
};

InputSpec dataset_input(Dataset dataset);
int64_t dataset_classes(Dataset dataset);
// "" for ImageNet, "cifar10", "cifar100": the name part that says the dataset.
std::string_view dataset_tag(Dataset dataset);

// The width multiplier is kept in thousandths so that names round-trip exactly.
inline constexpr int kDefaultWidthPermille = 1000;
inline constexpr int kMinWidthPermille = 100;   // 0.1
inline constexpr int kMaxWidthPermille = 4000;  // 4

struct FamilySpec;  // how a family is built (families/family_builders.hpp)

struct Family {
  std::string_view id;           // "resnet18": no '_', the text before a name's first '_'
  std::string_view torchvision;  // the torchvision constructor its ImageNet variant matches
  std::string_view description;  // one line
  NetSpec (*build)(const FamilySpec& spec);
};

// Every family, in the order `p4s nets list` shows them.
const std::vector<Family>& families();
// The family with that id, or nullptr.
const Family* find_family(std::string_view id);

// The unpruned network of a family. `name` becomes NetSpec::name. Preconditions: width within
// [kMinWidthPermille, kMaxWidthPermille] (std::invalid_argument otherwise).
NetSpec build_family(const Family& family, Dataset dataset, int width_permille, std::string name);

}  // namespace p4s::modelgen
