#include "sim/device_runtime.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/input_error.hpp"
#include "common/json_integer.hpp"
#include "common/number_text.hpp"

namespace p4s::sim {
namespace {

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

}  // namespace p4s::sim
