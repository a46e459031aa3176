// The built-in networks by name (network_name.hpp): a family, built for a dataset and width,
// then randomly channel-pruned (pruning.hpp) when the name has a level. The same name gives
// the same NetSpec on every platform and every run; NetSpec::name is the canonical name.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "modelgen/netspec.hpp"
#include "modelgen/network_name.hpp"

namespace p4s::modelgen {

// The network `id` names. Throws std::invalid_argument for fields out of range and PruneError
// when its level cannot be reached.
NetSpec make_builtin_network(const NetworkId& id);

// The network `name` names. Throws NetworkNameError when the name does not parse (what() says
// which part is wrong and why), PruneError when its level cannot be reached.
NetSpec make_builtin_network(std::string_view name);

// The network `name` names, or nullopt when the name is not a built-in network's (for look-ups
// that fall back to NetSpec files). A name that parses but cannot be built still throws.
std::optional<NetSpec> builtin_network(std::string_view name);

// The std::mt19937_64 seed of a pruned network: a fixed 64-bit hash (FNV-1a, then the
// splitmix64 finalizer) of its canonical name, so that it depends on the family, dataset,
// width, level and seed, and on nothing else.
uint64_t pruning_rng_seed(const NetworkId& id);

}  // namespace p4s::modelgen
