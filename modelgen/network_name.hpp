// Names of the built-in networks. One name says everything that makes a network, so that any
// tool (the fit stage among them) can rebuild it from its name alone:
//
//   <family>[_cifar10|_cifar100][_w<width>][_p<level>_s<seed>]
//
// e.g. resnet18, resnet18_p50_s1, mobilenetv2_cifar10_w0.5_p30_s7. Parts come in that order.
// Every network has exactly one name: the parser refuses other spellings of a valid network
// (`_w1`, `_w0.50`, `_p0_s3`) and says the canonical one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/input_error.hpp"
#include "modelgen/families.hpp"

namespace p4s::modelgen {

inline constexpr int kMaxPrunePercent = 95;
// Longer than any built-in network's name (at most 58 characters today); longer text is
// refused before it is split, so absurd input costs nothing.
inline constexpr size_t kMaxNetworkNameLength = 96;

// What a network name says.
struct NetworkId {
  std::string family;                          // a Family::id
  Dataset dataset = Dataset::kImageNet;        // no part / _cifar10 / _cifar100
  int width_permille = kDefaultWidthPermille;  // _w<width>: 1000 = 1.0, at most 3 decimals
  int prune_percent = 0;                       // _p<level>: parameters removed, 0..95
  uint64_t seed = 0;                           // _s<seed>: only with a level above 0

  bool operator==(const NetworkId& o) const {
    return family == o.family && dataset == o.dataset && width_permille == o.width_permille &&
           prune_percent == o.prune_percent && seed == o.seed;
  }
};

// A name that is not a built-in network's. what() is one line: `"<name>": <problem>`, with
// control characters written as \xNN and a name beyond kMaxNetworkNameLength shortened.
class NetworkNameError : public InputError {
 public:
  NetworkNameError(std::string_view name, const std::string& problem);
};

// Parses a network name. Throws NetworkNameError saying which part is wrong and why.
NetworkId parse_network_name(std::string_view name);

// The canonical name of `id` (parse_network_name(network_name(id)) == id). A level of 0 drops
// the seed (the unpruned network has no seed). Throws std::invalid_argument naming the part
// when a field is outside its range or the family is unknown.
std::string network_name(const NetworkId& id);

// "0.5", "1.25", "2": the width as written in names.
std::string format_width(int width_permille);
// Parses a plain decimal number with at most 3 decimals ("0.5", "0.50", "2") into
// thousandths; nullopt when the text is anything else. Ranges are the caller's to check.
std::optional<int> parse_width_permille(std::string_view text);

}  // namespace p4s::modelgen
