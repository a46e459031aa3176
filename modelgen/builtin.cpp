#include "modelgen/builtin.hpp"

#include <string>

#include "modelgen/families.hpp"
#include "modelgen/pruning.hpp"

namespace p4s::modelgen {

uint64_t pruning_rng_seed(const NetworkId& id) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  for (unsigned char c : network_name(id)) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV prime
  }
  // splitmix64's finalizer spreads names that differ in one character over all bits.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

NetSpec make_builtin_network(const NetworkId& id) {
  const std::string name = network_name(id);  // checks every field
  const Family& family = *find_family(id.family);
  if (id.prune_percent == 0) return build_family(family, id.dataset, id.width_permille, name);
  const RandomChannelPruner pruner(build_family(family, id.dataset, id.width_permille, name));
  return pruner.prune(id.prune_percent, pruning_rng_seed(id), name).spec;
}

NetSpec make_builtin_network(std::string_view name) {
  return make_builtin_network(parse_network_name(name));
}

std::optional<NetSpec> builtin_network(std::string_view name) {
  NetworkId id;
  try {
    id = parse_network_name(name);
  } catch (const NetworkNameError&) {
    return std::nullopt;
  }
  return make_builtin_network(id);
}

}  // namespace p4s::modelgen
