#include "bench/networks.hpp"

#include "modelgen/netspec_io.hpp"

namespace p4s::bench {
namespace {

void add_network(std::vector<BenchNet>& nets, modelgen::NetSpec spec, const std::string& source) {
  for (char c : spec.name)
    if (c == '/' || c == ' ' || c == '\t' || c == '\n')
      throw NetworkError(source + ": field \"name\": \"" + spec.name +
                         "\" cannot name a case (no '/' or spaces)");
  for (const BenchNet& n : nets)
    if (n.spec.name == spec.name)
      throw NetworkError(source + ": field \"name\": \"" + spec.name + "\" is already the name of " +
                         n.source);
  modelgen::ShapedNet shapes = modelgen::infer_shapes(spec, source);
  nets.push_back(BenchNet{std::move(spec), std::move(shapes), source});
}

}  // namespace

std::vector<BenchNet> load_networks(const std::vector<std::string>& netspec_paths) {
  std::vector<BenchNet> nets;
  for (const std::string& path : netspec_paths) {
    try {
      add_network(nets, modelgen::read_netspec(path), path);
    } catch (const modelgen::NetSpecError& e) {
      throw NetworkError(e.what());
    }
  }
  // Built-in networks (modelgen's families, by name) are added here, through add_network,
  // so that they are checked and named like files.
  return nets;
}

}  // namespace p4s::bench
