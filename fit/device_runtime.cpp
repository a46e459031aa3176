#include "fit/device_runtime.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/json_integer.hpp"
#include "common/input_error.hpp"
#include "common/number_text.hpp"

namespace p4s::fit {
namespace {

bool context_has(const ResultSet& r, const std::string& key, const std::string& needle) {
  auto it = r.context.find(key);
  if (it == r.context.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v.find(needle) != std::string::npos;
}

int context_int(const ResultSet& r, const std::string& key, int fallback) {
  auto it = r.context.find(key);
  if (it == r.context.end()) return fallback;
  const std::optional<int> v = parse_integer<int>(it->second);
  return v ? std::max(1, *v) : fallback;
}

// The framework's version from the context: "framework": "PyTorch 1.6.0" (perf4sight's
// data) or "p4s_libtorch": "1.13.0" (the bench's). {0, 0} when unknown.
std::pair<int, int> framework_version(const ResultSet& r) {
  for (const char* key : {"p4s_libtorch", "framework"}) {
    auto it = r.context.find(key);
    if (it == r.context.end()) continue;
    const std::string& v = it->second;
    const size_t d = v.find_first_of("0123456789");
    if (d == std::string::npos) continue;
    int major = 0, minor = 0;
    if (std::sscanf(v.c_str() + d, "%d.%d", &major, &minor) == 2) return {major, minor};
  }
  return {0, 0};
}

template <typename T>
T field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(std::string("runtime: field \"") + key + "\" is missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(std::string("runtime: field \"") + key + "\" has the wrong type");
  }
}

// An integer field within int's range (json_integer: a float or a wider integer is refused).
int int_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(std::string("runtime: field \"") + key + "\" is missing");
  const std::optional<int> v = json_integer<int>(*it);
  if (!v) throw InputError(std::string("runtime: field \"") + key + "\" must be an integer in int's range");
  return *v;
}

}  // namespace

std::unique_ptr<MemoryBackend> DeviceRuntime::backend() const {
  if (kind == DeviceKind::kCpu) return make_libtorch_cpu_backend(cpu_channel_block, cpu_threads);
  return make_cuda_backend();
}

RuntimeOptions DeviceRuntime::sim_options() const {
  RuntimeOptions o;
  o.round_bytes = kind == DeviceKind::kCuda ? 512 : 1;
  o.relu6_inplace_copies_input = relu6_inplace_copies_input;
  o.adaptive_pool_saves_input = adaptive_pool_saves_input;
  o.inplace_grad_accumulation = inplace_grad_accumulation;
  return o;
}

CachingAllocatorConfig DeviceRuntime::allocator() const {
  CachingAllocatorConfig c;
  c.empty_cache_before_steps = empty_cache_before_steps;
  return c;
}

std::string DeviceRuntime::describe() const {
  std::string s = kind == DeviceKind::kCpu
                      ? "CPU (oneDNN blocks of " + std::to_string(cpu_channel_block) + " channels, " +
                            std::to_string(cpu_threads) + " thread" + (cpu_threads == 1 ? "" : "s") + ")"
                      : std::string("CUDA (caching allocator") +
                            (empty_cache_before_steps ? ", cache emptied before each step)" : ")");
  s += "; in-place ReLU6 ";
  s += relu6_inplace_copies_input ? "saves a copy of its input" : "saves its result";
  s += "; adaptive pooling ";
  s += adaptive_pool_saves_input ? "saves its input" : "saves no input";
  s += "; gradients accumulated ";
  s += inplace_grad_accumulation ? "in place" : "out of place";
  return s;
}

nlohmann::json DeviceRuntime::to_json() const {
  nlohmann::json j;
  j["kind"] = kind == DeviceKind::kCpu ? "cpu" : "cuda";
  if (kind == DeviceKind::kCpu) {
    j["cpu_channel_block"] = cpu_channel_block;
    j["cpu_threads"] = cpu_threads;
  } else {
    j["empty_cache_before_steps"] = empty_cache_before_steps;
  }
  j["relu6_inplace_copies_input"] = relu6_inplace_copies_input;
  j["adaptive_pool_saves_input"] = adaptive_pool_saves_input;
  j["inplace_grad_accumulation"] = inplace_grad_accumulation;
  return j;
}

DeviceRuntime DeviceRuntime::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("runtime: must be an object");
  DeviceRuntime r;
  const std::string kind = field<std::string>(j, "kind");
  if (kind == "cpu") {
    r.kind = DeviceKind::kCpu;
    r.cpu_channel_block = int_field(j, "cpu_channel_block");
    r.cpu_threads = int_field(j, "cpu_threads");
    if (r.cpu_channel_block < 1 || r.cpu_threads < 1)
      throw InputError("runtime: cpu_channel_block and cpu_threads must be positive");
  } else if (kind == "cuda") {
    r.kind = DeviceKind::kCuda;
    r.empty_cache_before_steps = field<bool>(j, "empty_cache_before_steps");
  } else {
    throw InputError("runtime: field \"kind\" must be \"cpu\" or \"cuda\", got \"" + kind + "\"");
  }
  r.relu6_inplace_copies_input = field<bool>(j, "relu6_inplace_copies_input");
  r.adaptive_pool_saves_input = field<bool>(j, "adaptive_pool_saves_input");
  r.inplace_grad_accumulation = field<bool>(j, "inplace_grad_accumulation");
  return r;
}

bool DeviceRuntime::operator==(const DeviceRuntime& o) const {
  return to_json() == o.to_json();
}

DeviceKind device_kind_of(const ResultSet& results) {
  if (context_has(results, "p4s_device", "cuda")) return DeviceKind::kCuda;
  if (context_has(results, "p4s_device", "cpu")) return DeviceKind::kCpu;
  for (const NetResult& n : results.nets)
    if (n.values.mem_reserved) return DeviceKind::kCuda;
  return DeviceKind::kCpu;
}

std::vector<DeviceRuntime> candidate_runtimes(const ResultSet& results) {
  DeviceRuntime base;
  base.kind = device_kind_of(results);
  base.cpu_threads = context_int(results, "p4s_threads", 1);
  std::vector<int> blocks{16};
  if (base.kind == DeviceKind::kCpu) {
    if (context_has(results, "p4s_cpu_isa", "avx512"))
      blocks = {16};
    else if (context_has(results, "p4s_cpu_isa", "avx2"))
      blocks = {8};
    else
      blocks = {16, 8};
  }
  // Where the measurements cannot tell the semantics apart (a family without ReLU6, say),
  // the fit keeps the first candidate: the semantics of the framework's version. PyTorch 1.6
  // (perf4sight's TX2 data) keeps in-place ReLU6's result and no input of a 1x1 adaptive
  // pooling; LibTorch 1.13, measured with the tracking allocator, copies and keeps both.
  const auto [major, minor] = framework_version(results);
  const bool old_framework = major == 1 && minor < 10;
  const int preferred = old_framework ? 0 : 3;
  std::vector<DeviceRuntime> out;
  for (int block : blocks)
    for (int i = 0; i < 8; ++i) {
      const int bits = i ^ preferred;  // the preferred semantics first
      DeviceRuntime r = base;
      r.cpu_channel_block = block;
      r.relu6_inplace_copies_input = bits & 1;
      r.adaptive_pool_saves_input = bits & 2;
      r.inplace_grad_accumulation = bits & 4;
      out.push_back(r);
    }
  return out;
}

}  // namespace p4s::fit
