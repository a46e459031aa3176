// The networks of the Net/<net>/bs:<N> cases. Every source of networks joins in
// load_networks(): NetSpec files now; modelgen's built-in families are to be added there.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::bench {

// A network that cannot be benchmarked; what() is one line naming its file.
class NetworkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BenchNet {
  modelgen::NetSpec spec;
  modelgen::ShapedNet shapes;  // for the params and flops counters
  std::string source;          // the file it came from, named in errors
};

// Reads and validates the NetSpec files, in order. Throws NetworkError for an unreadable or
// invalid file, for a name that cannot stand in a case name (empty, or with '/' or a space),
// and for a name that an earlier network already has.
std::vector<BenchNet> load_networks(const std::vector<std::string>& netspec_paths);

}  // namespace p4s::bench
