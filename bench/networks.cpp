#include "bench/networks.hpp"

#include <exception>
#include <utility>

#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"

namespace p4s::bench {
namespace {

bool has_network(const std::vector<BenchNet>& nets, const std::string& name) {
  for (const BenchNet& n : nets)
    if (n.spec.name == name) return true;
  return false;
}

void add_network(std::vector<BenchNet>& nets, modelgen::NetSpec spec, const std::string& source,
                 std::vector<int64_t> batches) {
  for (char c : spec.name)
    if (c == '/' || c == ' ' || c == '\t' || c == '\n')
      throw InputError(source + ": field \"name\": \"" + spec.name +
                         "\" cannot name a case (no '/' or spaces)");
  for (const BenchNet& n : nets)
    if (n.spec.name == spec.name)
      throw InputError(source + ": field \"name\": \"" + spec.name + "\" is already the name of " +
                         n.source);
  modelgen::ShapedNet shapes = modelgen::infer_shapes(spec, source);
  nets.push_back(BenchNet{std::move(spec), std::move(shapes), source, std::move(batches)});
}

// The built-in network `name`; a name it cannot build is the flag's (or the sweep's) error.
modelgen::NetSpec build_builtin(const std::string& name, const std::string& source) {
  try {
    return modelgen::make_builtin_network(name);
  } catch (const InputError& e) {  // a name that does not parse, a level it cannot reach
    throw InputError(source + ": " + e.what());
  }
}

}  // namespace

std::vector<BenchNet> load_networks(const Options& options, const Sweep& sweep) {
  const std::vector<int64_t>& explicit_batches = options.net_batches ? *options.net_batches : sweep.net_batches;
  std::vector<BenchNet> nets;
  for (const std::string& path : options.netspec_paths) {
    add_network(nets, modelgen::read_netspec(path), path, explicit_batches);
  }
  for (const std::string& name : options.net_names) {
    const std::string source = "--p4s_net=" + name;
    modelgen::NetSpec spec = build_builtin(name, source);
    // The canonical name is what results carry; the grammar already refused other spellings.
    add_network(nets, std::move(spec), source, explicit_batches);
  }
  const std::string sweep_source = "sweep " + sweep.name;
  for (const SweepNetwork& n : sweep.networks) {
    if (has_network(nets, n.name)) continue;
    add_network(nets, build_builtin(n.name, sweep_source), sweep_source,
                options.net_batches ? *options.net_batches : n.batches);
  }
  return nets;
}

std::vector<BenchNet> load_networks(const Options& options) {
  return load_networks(options, sweep_preset(options.sweep));
}

}  // namespace p4s::bench
