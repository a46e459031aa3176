// Names of the built-in networks (modelgen/network_name.hpp, modelgen/builtin.hpp): any text
// gives a network or a one-line NetworkNameError. A name that parses is the canonical name of
// what it says, and builds a valid NetSpec of that name unless its level is out of reach.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"
#include "modelgen/shapes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p4s::modelgen;
  using p4s::fuzz::must_not_throw;
  const std::string name = p4s::fuzz::as_text(data, size);
  const auto id = p4s::fuzz::only_throws<NetworkNameError>(
      "parse_network_name", "\"", [&] { return parse_network_name(name); });
  if (!id) return 0;
  const std::string canonical = must_not_throw("network_name", [&] { return network_name(*id); });
  P4S_FUZZ_CHECK(canonical == name, "parsed \"" + name + "\" but its canonical name is \"" + canonical + "\"");

  // The only refusal left is a pruning level that the network cannot reach.
  const auto spec = p4s::fuzz::only_throws<PruneError>(
      "make_builtin_network", "", [&] { return make_builtin_network(*id); });
  if (!spec) return 0;
  P4S_FUZZ_CHECK(spec->name == name, "built \"" + spec->name + "\"");
  must_not_throw("infer_shapes of a built-in network", [&] { return infer_shapes(*spec, name); });
  return 0;
}
