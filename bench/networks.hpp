// The networks of the Net/<net>/bs:<N> cases. Every source of networks joins in
// load_networks(): NetSpec files (--p4s_netspec), built-in networks by name (--p4s_net), and
// the sweep preset's built-in networks.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "bench/sweep.hpp"
#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::bench {

struct BenchNet {
  modelgen::NetSpec spec;
  modelgen::ShapedNet shapes;         // for the params and flops counters
  std::string source;                 // where it came from, named in errors: a file,
                                      // "--p4s_net=NAME", or "sweep standard"
  std::vector<int64_t> batches = {};  // the batch sizes it runs at; empty: the caller's
};

// Every network of a run, in this order: the NetSpec files (options.netspec_paths), the
// built-in networks of options.net_names, then the networks of `sweep` that neither already
// names (an explicit network replaces the sweep's of the same name). Files and named networks
// run at options.net_batches, else at sweep.net_batches; the sweep's networks at their own
// batch sizes, unless options.net_batches is given. Throws InputError for an unreadable or
// invalid file, a built-in name that cannot be built (a pruning level it cannot reach), a name
// that cannot stand in a case name (empty, or with '/' or a space), and an explicit name given
// twice.
std::vector<BenchNet> load_networks(const Options& options, const Sweep& sweep);

// As above, with the sweep preset that options.sweep names.
std::vector<BenchNet> load_networks(const Options& options);

}  // namespace p4s::bench
