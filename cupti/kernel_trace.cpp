#include "cupti/kernel_trace.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <utility>

#include "common/atomic_file.hpp"
#include "cupti/kernel_family.hpp"
#include "cupti/step_aggregate.hpp"

namespace p4s::cupti {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "p4s_kernel_trace";

// Index of the first step whose window holds [start, end), or null.
json step_of(uint64_t start, uint64_t end, const std::vector<StepWindow>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].holds(start, end)) return i;
  }
  return nullptr;
}

json phase_of(uint32_t correlation_id, const json& step, const std::vector<StepWindow>& steps,
              const LaunchIndex& launches) {
  if (step.is_null()) return nullptr;
  const std::optional<Phase> p =
      launch_phase(correlation_id, steps[step.get<size_t>()], launches);
  if (!p) return nullptr;
  return std::string(phase_name(*p));
}

// --- writing -------------------------------------------------------------------------------

// The steps' windows and phases, with their labels when there are any.
json steps_json(const KernelTrace& t) {
  if (!t.step_labels.empty() && t.step_labels.size() != t.steps.size()) {
    throw std::invalid_argument("kernel trace: " + std::to_string(t.step_labels.size()) +
                                " step labels for " + std::to_string(t.steps.size()) + " steps");
  }
  json steps = json::array();
  for (size_t i = 0; i < t.steps.size(); ++i) {
    const StepWindow& w = t.steps[i];
    json phases = json::array();
    for (const PhaseSpan& p : w.phases) {
      phases.push_back(
          {{"phase", std::string(phase_name(p.phase))}, {"start_ns", p.start_ns}, {"end_ns", p.end_ns}});
    }
    json step = {{"start_ns", w.start_ns}, {"end_ns", w.end_ns}, {"phases", phases}};
    if (!t.step_labels.empty()) step["label"] = t.step_labels[i];
    steps.push_back(std::move(step));
  }
  return steps;
}

// The kernels, each with its family and the step and phase it ran in.
json kernels_json(const KernelTrace& t, const LaunchIndex& launches) {
  json kernels = json::array();
  for (const KernelRecord& k : t.records.kernels) {
    const json step = k.has_timestamps() ? step_of(k.start_ns, k.end_ns, t.steps) : json(nullptr);
    kernels.push_back({{"name", k.name},
                       {"family", std::string(family_name(classify_kernel(k.name)))},
                       {"start_ns", k.start_ns},
                       {"end_ns", k.end_ns},
                       {"device", k.device_id},
                       {"context", k.context_id},
                       {"stream", k.stream_id},
                       {"correlation_id", k.correlation_id},
                       {"grid", {k.grid_x, k.grid_y, k.grid_z}},
                       {"block", {k.block_x, k.block_y, k.block_z}},
                       {"registers_per_thread", k.registers_per_thread},
                       {"static_shared_bytes", k.static_shared_bytes},
                       {"dynamic_shared_bytes", k.dynamic_shared_bytes},
                       {"graph_node_id", k.graph_node_id},
                       {"step", step},
                       {"phase", phase_of(k.correlation_id, step, t.steps, launches)}});
  }
  return kernels;
}

// The copies, each with the step and phase it ran in.
json memcpys_json(const KernelTrace& t, const LaunchIndex& launches) {
  json memcpys = json::array();
  for (const MemcpyRecord& m : t.records.memcpys) {
    const json step = step_of(m.start_ns, m.end_ns, t.steps);
    memcpys.push_back({{"kind", std::string(memcpy_kind_name(m.kind))},
                       {"bytes", m.bytes},
                       {"start_ns", m.start_ns},
                       {"end_ns", m.end_ns},
                       {"device", m.device_id},
                       {"context", m.context_id},
                       {"stream", m.stream_id},
                       {"correlation_id", m.correlation_id},
                       {"step", step},
                       {"phase", phase_of(m.correlation_id, step, t.steps, launches)}});
  }
  return memcpys;
}

// The memsets, each with the step and phase it ran in.
json memsets_json(const KernelTrace& t, const LaunchIndex& launches) {
  json memsets = json::array();
  for (const MemsetRecord& m : t.records.memsets) {
    const json step = step_of(m.start_ns, m.end_ns, t.steps);
    memsets.push_back({{"bytes", m.bytes},
                       {"value", m.value},
                       {"start_ns", m.start_ns},
                       {"end_ns", m.end_ns},
                       {"device", m.device_id},
                       {"context", m.context_id},
                       {"stream", m.stream_id},
                       {"correlation_id", m.correlation_id},
                       {"step", step},
                       {"phase", phase_of(m.correlation_id, step, t.steps, launches)}});
  }
  return memsets;
}

// The allocations and releases; "pool" only for those of a memory pool.
json memory_json(const KernelTrace& t) {
  json memory = json::array();
  for (const MemoryRecord& m : t.records.memory) {
    json r = {{"operation", m.operation == MemoryOperation::kAllocation ? "allocation" : "release"},
              {"memory_kind", std::string(memory_kind_name(m.memory_kind))},
              {"address", m.address},
              {"bytes", m.bytes},
              {"timestamp_ns", m.timestamp_ns},
              {"device", m.device_id},
              {"context", m.context_id},
              {"stream", m.stream_id},
              {"correlation_id", m.correlation_id},
              {"is_async", m.is_async}};
    if (m.has_pool) {
      r["pool"] = {{"address", m.pool_address},
                   {"release_threshold_bytes", m.pool_release_threshold_bytes},
                   {"size_bytes", m.pool_size_bytes},
                   {"utilized_bytes", m.pool_utilized_bytes}};
    }
    memory.push_back(std::move(r));
  }
  return memory;
}

// The runtime and driver API calls that launched work.
json launch_calls_json(const KernelTrace& t) {
  json calls = json::array();
  for (const ApiRecord& a : t.records.api_calls) {
    calls.push_back({{"domain", a.domain == ApiDomain::kRuntime ? "runtime" : "driver"},
                     {"callback_id", a.callback_id},
                     {"start_ns", a.start_ns},
                     {"end_ns", a.end_ns},
                     {"thread_id", a.thread_id},
                     {"correlation_id", a.correlation_id}});
  }
  return calls;
}

// --- reading -------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw std::runtime_error(source_ + ": " + field + ": " + problem);
  }

  const json& member(const json& obj, const std::string& key, const std::string& where) const {
    if (!obj.is_object()) fail(where, "must be an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(where + "." + key, "missing");
    return *it;
  }

  template <typename T>
  T unsigned_value(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = member(obj, key, where);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      fail(where + "." + key, "must be a non-negative integer");
    }
    const uint64_t u = v.get<uint64_t>();
    if (u > std::numeric_limits<T>::max()) fail(where + "." + key, "out of range");
    return static_cast<T>(u);
  }

  int32_t int_value(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = member(obj, key, where);
    if (!v.is_number_integer()) fail(where + "." + key, "must be an integer");
    const int64_t i = v.get<int64_t>();
    if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max()) {
      fail(where + "." + key, "out of range");
    }
    return static_cast<int32_t>(i);
  }

  std::string string_value(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = member(obj, key, where);
    if (!v.is_string()) fail(where + "." + key, "must be a string");
    return v.get<std::string>();
  }

  bool bool_value(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = member(obj, key, where);
    if (!v.is_boolean()) fail(where + "." + key, "must be true or false");
    return v.get<bool>();
  }

  const json& array(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = member(obj, key, where);
    if (!v.is_array()) fail(where + "." + key, "must be an array");
    return v;
  }

  void dims(const json& obj, const std::string& key, const std::string& where, int32_t& x,
            int32_t& y, int32_t& z) const {
    const json& v = array(obj, key, where);
    if (v.size() != 3) fail(where + "." + key, "must hold three integers");
    for (const json& e : v) {
      if (!e.is_number_integer()) fail(where + "." + key, "must hold three integers");
    }
    x = static_cast<int32_t>(v[0].get<int64_t>());
    y = static_cast<int32_t>(v[1].get<int64_t>());
    z = static_cast<int32_t>(v[2].get<int64_t>());
  }

 private:
  std::string source_;
};

// The document, once its format, schema version and clock are known to be this reader's.
json parse_header(const Reader& rd, const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    rd.fail("(document)", std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) rd.fail("(document)", "must be a JSON object");
  if (rd.string_value(doc, "format", "trace") != kFormat) {
    rd.fail("format", std::string("must be \"") + kFormat + "\"");
  }
  const json& version = rd.member(doc, "schema_version", "trace");
  if (!version.is_number_integer() || version.get<int64_t>() != kKernelTraceSchemaVersion) {
    rd.fail("schema_version", "this reader understands version " +
                                  std::to_string(kKernelTraceSchemaVersion) + " only, not " +
                                  version.dump());
  }
  if (rd.string_value(doc, "clock", "trace") != "cupti_ns") rd.fail("clock", "must be \"cupti_ns\"");
  return doc;
}

// Calls read(element, "key[i]") on each element of the array doc[key], in order.
template <typename Read>
void read_each(const Reader& rd, const json& doc, const std::string& key, Read read) {
  const json& elements = rd.array(doc, key, "trace");
  for (size_t i = 0; i < elements.size(); ++i) read(elements[i], key + "[" + std::to_string(i) + "]");
}

// One step's window and phases, checked as a whole.
StepWindow read_step(const Reader& rd, const json& o, const std::string& where) {
  StepWindow w;
  w.start_ns = rd.unsigned_value<uint64_t>(o, "start_ns", where);
  w.end_ns = rd.unsigned_value<uint64_t>(o, "end_ns", where);
  const json& phases = rd.array(o, "phases", where);
  for (size_t j = 0; j < phases.size(); ++j) {
    const std::string pw = where + ".phases[" + std::to_string(j) + "]";
    const std::string name = rd.string_value(phases[j], "phase", pw);
    const std::optional<Phase> p = phase_from_name(name);
    if (!p) rd.fail(pw + ".phase", "unknown phase \"" + name + "\"");
    w.phases.push_back({*p, rd.unsigned_value<uint64_t>(phases[j], "start_ns", pw),
                        rd.unsigned_value<uint64_t>(phases[j], "end_ns", pw)});
  }
  if (const std::string why = w.check(); !why.empty()) rd.fail(where, why);
  return w;
}

// The steps, and their labels when the first step has one.
void read_steps(const Reader& rd, const json& doc, KernelTrace& t) {
  const json& steps = rd.array(doc, "steps", "trace");
  const bool labelled = !steps.empty() && steps[0].is_object() && steps[0].contains("label");
  read_each(rd, doc, "steps", [&](const json& o, const std::string& where) {
    StepWindow w = read_step(rd, o, where);
    // Labels are optional, but on every step or on none, so that they stay parallel to them.
    if (o.contains("label") != labelled) rd.fail(where + ".label", "every step or none has a label");
    if (labelled) t.step_labels.push_back(rd.string_value(o, "label", where));
    t.steps.push_back(std::move(w));
  });
}

// One element of "kernels".
KernelRecord read_kernel(const Reader& rd, const json& o, const std::string& where) {
  KernelRecord k;
  k.name = rd.string_value(o, "name", where);
  k.start_ns = rd.unsigned_value<uint64_t>(o, "start_ns", where);
  k.end_ns = rd.unsigned_value<uint64_t>(o, "end_ns", where);
  k.device_id = rd.unsigned_value<uint32_t>(o, "device", where);
  k.context_id = rd.unsigned_value<uint32_t>(o, "context", where);
  k.stream_id = rd.unsigned_value<uint32_t>(o, "stream", where);
  k.correlation_id = rd.unsigned_value<uint32_t>(o, "correlation_id", where);
  rd.dims(o, "grid", where, k.grid_x, k.grid_y, k.grid_z);
  rd.dims(o, "block", where, k.block_x, k.block_y, k.block_z);
  k.registers_per_thread = rd.unsigned_value<uint32_t>(o, "registers_per_thread", where);
  k.static_shared_bytes = rd.int_value(o, "static_shared_bytes", where);
  k.dynamic_shared_bytes = rd.int_value(o, "dynamic_shared_bytes", where);
  k.graph_node_id = rd.unsigned_value<uint64_t>(o, "graph_node_id", where);
  return k;
}

// One element of "memcpy"; its kind must be one this reader knows.
MemcpyRecord read_memcpy(const Reader& rd, const json& o, const std::string& where) {
  MemcpyRecord m;
  const std::string kind = rd.string_value(o, "kind", where);
  m.kind = memcpy_kind_from_name(kind);
  if (m.kind == MemcpyKind::kUnknown && kind != "unknown") {
    rd.fail(where + ".kind", "unknown copy kind \"" + kind + "\"");
  }
  m.bytes = rd.unsigned_value<uint64_t>(o, "bytes", where);
  m.start_ns = rd.unsigned_value<uint64_t>(o, "start_ns", where);
  m.end_ns = rd.unsigned_value<uint64_t>(o, "end_ns", where);
  m.device_id = rd.unsigned_value<uint32_t>(o, "device", where);
  m.context_id = rd.unsigned_value<uint32_t>(o, "context", where);
  m.stream_id = rd.unsigned_value<uint32_t>(o, "stream", where);
  m.correlation_id = rd.unsigned_value<uint32_t>(o, "correlation_id", where);
  return m;
}

// One element of "memset".
MemsetRecord read_memset(const Reader& rd, const json& o, const std::string& where) {
  MemsetRecord m;
  m.bytes = rd.unsigned_value<uint64_t>(o, "bytes", where);
  m.value = rd.unsigned_value<uint32_t>(o, "value", where);
  m.start_ns = rd.unsigned_value<uint64_t>(o, "start_ns", where);
  m.end_ns = rd.unsigned_value<uint64_t>(o, "end_ns", where);
  m.device_id = rd.unsigned_value<uint32_t>(o, "device", where);
  m.context_id = rd.unsigned_value<uint32_t>(o, "context", where);
  m.stream_id = rd.unsigned_value<uint32_t>(o, "stream", where);
  m.correlation_id = rd.unsigned_value<uint32_t>(o, "correlation_id", where);
  return m;
}

// "operation" and "memory_kind" of a memory record, refused when unknown.
void read_memory_kinds(const Reader& rd, const json& o, const std::string& where, MemoryRecord& m) {
  const std::string op = rd.string_value(o, "operation", where);
  if (op == "allocation") {
    m.operation = MemoryOperation::kAllocation;
  } else if (op == "release") {
    m.operation = MemoryOperation::kRelease;
  } else {
    rd.fail(where + ".operation", "must be \"allocation\" or \"release\", not \"" + op + "\"");
  }
  const std::string kind = rd.string_value(o, "memory_kind", where);
  m.memory_kind = memory_kind_from_name(kind);
  if (m.memory_kind == MemoryKind::kUnknown && kind != "unknown") {
    rd.fail(where + ".memory_kind", "unknown memory kind \"" + kind + "\"");
  }
}

// One element of "memory", with its pool when it has one.
MemoryRecord read_memory(const Reader& rd, const json& o, const std::string& where) {
  MemoryRecord m;
  read_memory_kinds(rd, o, where, m);
  m.address = rd.unsigned_value<uint64_t>(o, "address", where);
  m.bytes = rd.unsigned_value<uint64_t>(o, "bytes", where);
  m.timestamp_ns = rd.unsigned_value<uint64_t>(o, "timestamp_ns", where);
  m.device_id = rd.unsigned_value<uint32_t>(o, "device", where);
  m.context_id = rd.unsigned_value<uint32_t>(o, "context", where);
  m.stream_id = rd.unsigned_value<uint32_t>(o, "stream", where);
  m.correlation_id = rd.unsigned_value<uint32_t>(o, "correlation_id", where);
  m.is_async = rd.bool_value(o, "is_async", where);
  if (auto it = o.find("pool"); it != o.end()) {  // pool allocations only
    const std::string pw = where + ".pool";
    m.has_pool = true;
    m.pool_address = rd.unsigned_value<uint64_t>(*it, "address", pw);
    m.pool_release_threshold_bytes = rd.unsigned_value<uint64_t>(*it, "release_threshold_bytes", pw);
    m.pool_size_bytes = rd.unsigned_value<uint64_t>(*it, "size_bytes", pw);
    m.pool_utilized_bytes = rd.unsigned_value<uint64_t>(*it, "utilized_bytes", pw);
  }
  return m;
}

// One element of "launch_calls"; its domain is the runtime's or the driver's.
ApiRecord read_launch_call(const Reader& rd, const json& o, const std::string& where) {
  ApiRecord a;
  const std::string domain = rd.string_value(o, "domain", where);
  if (domain == "runtime") {
    a.domain = ApiDomain::kRuntime;
  } else if (domain == "driver") {
    a.domain = ApiDomain::kDriver;
  } else {
    rd.fail(where + ".domain", "must be \"runtime\" or \"driver\", not \"" + domain + "\"");
  }
  a.callback_id = rd.unsigned_value<uint32_t>(o, "callback_id", where);
  a.start_ns = rd.unsigned_value<uint64_t>(o, "start_ns", where);
  a.end_ns = rd.unsigned_value<uint64_t>(o, "end_ns", where);
  a.thread_id = rd.unsigned_value<uint32_t>(o, "thread_id", where);
  a.correlation_id = rd.unsigned_value<uint32_t>(o, "correlation_id", where);
  return a;
}

}  // namespace

std::string kernel_trace_json(const KernelTrace& t) {
  const LaunchIndex launches(t.records.api_calls);
  json doc;
  doc["format"] = kFormat;
  doc["schema_version"] = kKernelTraceSchemaVersion;
  doc["clock"] = "cupti_ns";
  doc["capture"] = t.capture;
  doc["dropped_records"] = t.dropped_records;
  doc["steps"] = steps_json(t);
  doc["kernels"] = kernels_json(t, launches);
  doc["memcpy"] = memcpys_json(t, launches);
  doc["memset"] = memsets_json(t, launches);
  doc["memory"] = memory_json(t);
  doc["launch_calls"] = launch_calls_json(t);
  // Kernel names are not guaranteed to be UTF-8: replace bad bytes rather than throw.
  return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_kernel_trace(const std::string& path, const KernelTrace& trace) {
  write_file_atomically(path, kernel_trace_json(trace));
}

KernelTrace parse_kernel_trace(const std::string& text, const std::string& source) {
  const Reader rd(source);
  const json doc = parse_header(rd, text);
  KernelTrace t;
  t.capture = rd.string_value(doc, "capture", "trace");
  t.dropped_records = rd.unsigned_value<uint64_t>(doc, "dropped_records", "trace");
  read_steps(rd, doc, t);
  // Each record kind in the order the writer puts them.
  read_each(rd, doc, "kernels", [&](const json& o, const std::string& where) {
    t.records.kernels.push_back(read_kernel(rd, o, where));
  });
  read_each(rd, doc, "memcpy", [&](const json& o, const std::string& where) {
    t.records.memcpys.push_back(read_memcpy(rd, o, where));
  });
  read_each(rd, doc, "memset", [&](const json& o, const std::string& where) {
    t.records.memsets.push_back(read_memset(rd, o, where));
  });
  read_each(rd, doc, "memory", [&](const json& o, const std::string& where) {
    t.records.memory.push_back(read_memory(rd, o, where));
  });
  read_each(rd, doc, "launch_calls", [&](const json& o, const std::string& where) {
    t.records.api_calls.push_back(read_launch_call(rd, o, where));
  });
  return t;
}

}  // namespace p4s::cupti
