// Google Benchmark result files (results_format/reader.hpp). The reader may throw InputError only;
// what it returns must be usable as data: sorted, positive batch sizes, finite non-negative
// measurements, and a run count behind every case.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>

#include "fuzz/fuzz_target.hpp"
#include "results_format/reader.hpp"

namespace {

using namespace p4s;

void check_values(const results::Measured& m, bool fits, const std::string& what) {
  bool any = false;
  for (results::Target t : results::kAllTargets) {
    if (const auto& v = m.get(t)) {
      any = true;
      P4S_FUZZ_CHECK(std::isfinite(*v) && *v >= 0,
                     what + ": " + results::target_name(t) + " = " + std::to_string(*v));
    }
  }
  if (!fits) P4S_FUZZ_CHECK(!any, what + ": a case that did not fit has values");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::as_text(data, size);
  const auto set = fuzz::only_throws<InputError>(
      "parse_results", "fuzz: ", [&] { return results::parse_results(text, "fuzz"); });
  if (!set) return 0;
  P4S_FUZZ_CHECK(set->sources.size() == 1 && set->sources[0] == "fuzz", "sources");
  P4S_FUZZ_CHECK(set->failed_other >= 0, "failed_other");
  for (size_t i = 0; i < set->nets.size(); ++i) {
    const results::NetResult& r = set->nets[i];
    const std::string what = "nets[" + std::to_string(i) + "] " + r.net;
    P4S_FUZZ_CHECK(!r.net.empty() && r.batch > 0 && r.runs > 0, what);
    if (i > 0)
      P4S_FUZZ_CHECK(std::tie(set->nets[i - 1].net, set->nets[i - 1].batch, set->nets[i - 1].recipe) <
                         std::tie(r.net, r.batch, r.recipe),
                     what + ": not sorted, or a case twice");
    check_values(r.values, r.fits, what);
  }
  for (size_t i = 0; i < set->layers.size(); ++i) {
    const results::LayerResult& r = set->layers[i];
    const std::string what = "layers[" + std::to_string(i) + "] " + r.kind;
    P4S_FUZZ_CHECK(!r.args.empty() && r.runs > 0, what);
    if (i > 0)
      P4S_FUZZ_CHECK(std::tie(set->layers[i - 1].kind, set->layers[i - 1].args, set->layers[i - 1].recipe) <
                         std::tie(r.kind, r.args, r.recipe),
                     what + ": not sorted, or a case twice");
    check_values(r.values, r.fits, what);
  }
  return 0;
}
