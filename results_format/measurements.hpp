// What results files hold, as data: measured training steps of networks and layers, each
// run as written and the runs merged per case. The reader (reader.hpp) makes them; the fit
// and the comparison read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results_format/format.hpp"
#include "results_format/recipe.hpp"

namespace p4s::results {

// One measured quantity per target, absent where the file has none.
struct Measured {
  std::optional<double> latency_ms;
  std::optional<double> mem_alloc;
  std::optional<double> mem_reserved;
  std::optional<double> mem_used;

  const std::optional<double>& get(Target t) const;
  std::optional<double>& get(Target t);
};

// One network at one batch size: a training step that ran (values are medians over the
// repetitions and files that measured it), or one that did not fit in memory.
struct NetResult {
  std::string net;  // the NetSpec's name
  int64_t batch = 0;
  bool fits = true;  // false: every run of it ran out of memory
  Measured values;   // empty when !fits
  int runs = 0;      // repetitions (or files) behind the medians
  Recipe recipe;     // the step's: its file's context, then its name's parts
};

// One layer case: `kind` ("Conv2d", "Linear", "BatchNorm2d", ...) and its named arguments.
struct LayerResult {
  std::string kind;
  std::map<std::string, int64_t> args;  // e.g. {"cin": 64, "cout": 64, "k": 3, ..., "bs": 32}
  bool fits = true;
  Measured values;
  int runs = 0;
  Recipe recipe;  // train_from is always empty: a layer case trains its one layer
};

// A case's identity: a network at a batch size, or a layer kind with its arguments, trained by
// a recipe. Google Benchmark's own name parts (`/manual_time`, `/repeats:5`, `/threads:2`, ...)
// are not part of it, so runs that differ only in those are the same case.
struct CaseId {
  bool is_net = false;
  std::string name;                     // the net's name, or the layer kind
  int64_t batch = 0;                    // networks only
  std::map<std::string, int64_t> args;  // layers only (they carry "bs" among them)
  Recipe recipe;
  bool operator<(const CaseId& o) const;
  bool operator==(const CaseId& o) const;
};

// One successful entry of a result file, as written: an iteration run (a repetition), or a
// `median` aggregate standing for `weight` repetitions.
struct Run {
  std::optional<double> latency_ms;        // real_time in milliseconds
  std::map<std::string, double> counters;  // every numeric user counter, e.g. "mem_alloc";
                                           // NaN / Infinity values are left out
  std::size_t source = 0;                  // index into RunSet::sources
  bool median_aggregate = false;
  int weight = 1;  // repetitions it stands for: 1 for an iteration run
};

// Every entry of one case in the files read, before any merging.
struct CaseRuns {
  CaseId id;
  std::string label;      // the case's name as first read, without Google Benchmark's parts,
                          // its recipe's parts where it is not the default one:
                          // "Net/resnet18/bs:32", "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32",
                          // "Net/resnet18/bs:32/opt:adam"
  std::vector<Run> runs;  // successful entries, in file order
  int out_of_memory = 0;  // error entries that ran out of memory
  int failed = 0;         // other error entries
  std::string failure;    // the first other error's message
};

struct RunSet {
  std::vector<CaseRuns> cases;                 // sorted by id
  std::vector<std::string> sources;            // the files read
  std::vector<std::string> passed_over;        // JSON files without Google Benchmark output
  std::map<std::string, std::string> context;  // the first file's context, as strings
};

struct ResultSet {
  std::vector<NetResult> nets;      // sorted by (net, batch, recipe)
  std::vector<LayerResult> layers;  // sorted by (kind, args, recipe)
  std::vector<std::string> sources; // the files read
  std::map<std::string, std::string> context;  // the first file's context, as strings
  int failed_other = 0;  // error entries that were not out-of-memory (not data; counted)
};

}  // namespace p4s::results
