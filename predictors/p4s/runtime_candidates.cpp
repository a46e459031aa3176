#include "predictors/p4s/runtime_candidates.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <utility>

#include "common/number_text.hpp"
#include "sim/framework_semantics.hpp"

namespace p4s::predictors {
namespace {

using results::ResultSet;
using sim::DeviceKind;
using sim::DeviceRuntime;

bool context_has(const results::ResultSet& r, const std::string& key, const std::string& needle) {
  auto it = r.context.find(key);
  if (it == r.context.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v.find(needle) != std::string::npos;
}

int context_int(const results::ResultSet& r, const std::string& key, int fallback) {
  auto it = r.context.find(key);
  if (it == r.context.end()) return fallback;
  const std::optional<int> v = parse_integer<int>(it->second);
  return v ? std::max(1, *v) : fallback;
}

// The framework's version from the context: "framework": "PyTorch 1.6.0" (perf4sight's
// data) or "p4s_libtorch": "1.13.0" (the bench's); nullopt when neither names one.
std::optional<sim::FrameworkVersion> framework_version(const results::ResultSet& r) {
  for (const char* key : {"p4s_libtorch", "framework"}) {
    auto it = r.context.find(key);
    if (it == r.context.end()) continue;
    if (const auto v = sim::parse_framework_version(it->second)) return v;
  }
  return std::nullopt;
}

}  // namespace

sim::DeviceKind device_kind_of(const results::ResultSet& results) {
  if (context_has(results, "p4s_device", "cuda")) return sim::DeviceKind::kCuda;
  if (context_has(results, "p4s_device", "cpu")) return sim::DeviceKind::kCpu;
  for (const results::NetResult& n : results.nets)
    if (n.values.mem_reserved) return sim::DeviceKind::kCuda;
  return sim::DeviceKind::kCpu;
}

std::vector<sim::DeviceRuntime> candidate_runtimes(const results::ResultSet& results) {
  sim::DeviceRuntime base;
  base.kind = device_kind_of(results);
  base.cpu_threads = context_int(results, "p4s_threads", 1);
  std::vector<int> blocks{16};
  if (base.kind == sim::DeviceKind::kCpu) {
    if (context_has(results, "p4s_cpu_isa", "avx512"))
      blocks = {16};
    else if (context_has(results, "p4s_cpu_isa", "avx2"))
      blocks = {8};
    else
      blocks = {16, 8};
  }
  // Where the measurements cannot tell the semantics apart (a family without ReLU6, say),
  // the fit keeps the first candidate: the likely semantics of the framework's version
  // (sim/framework_semantics.hpp; LibTorch 1.13's when the results name none). A version whose
  // semantics were measured to the byte is not asked to choose among others, which a gap the
  // simulation has elsewhere (a kernel's scratch memory) could tip.
  const std::optional<sim::FrameworkVersion> version = framework_version(results);
  const sim::FrameworkVersion assumed = version ? *version : sim::FrameworkVersion{1, 13};
  const sim::AutogradSemantics likely = sim::likely_semantics(assumed);
  const int preferred = (likely.relu6_inplace_copies_input ? 1 : 0) | (likely.adaptive_pool_saves_input ? 2 : 0) |
                        (likely.inplace_grad_accumulation ? 4 : 0);
  const int candidates = version && sim::measured_semantics(*version) ? 1 : 8;
  std::vector<sim::DeviceRuntime> out;
  for (int block : blocks)
    for (int i = 0; i < candidates; ++i) {
      const int bits = i ^ preferred;  // the preferred semantics first
      sim::DeviceRuntime r = base;
      r.cpu_channel_block = block;
      r.relu6_inplace_copies_input = bits & 1;
      r.adaptive_pool_saves_input = bits & 2;
      r.inplace_grad_accumulation = bits & 4;
      out.push_back(r);
    }
  return out;
}

}  // namespace p4s::predictors
