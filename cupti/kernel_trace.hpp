// The per-kernel trace (--p4s_kernel_trace=FILE): every record of a capture, with the steps'
// windows, as one JSON document.
//
//   {"format": "p4s_kernel_trace", "schema_version": 1, "clock": "cupti_ns",
//    "capture": "kernel capture on: ...", "dropped_records": 0,
//    "steps":   [{"start_ns", "end_ns", "phases": [{"phase", "start_ns", "end_ns"}],
//                 "label"}],   // "label" optional, on every step or on none
//    "kernels": [{"name", "family", "start_ns", "end_ns", "device", "context", "stream",
//                 "correlation_id", "grid": [x,y,z], "block": [x,y,z], "registers_per_thread",
//                 "static_shared_bytes", "dynamic_shared_bytes", "graph_node_id",
//                 "step", "phase"}],
//    "memcpy":  [{"kind", "bytes", "start_ns", "end_ns", "device", "context", "stream",
//                 "correlation_id", "step", "phase"}],
//    "memset":  [{"bytes", "value", "start_ns", "end_ns", ..., "step", "phase"}],
//    "memory":  [{"operation", "memory_kind", "address", "bytes", "timestamp_ns", "device",
//                 "context", "stream", "correlation_id", "is_async",
//                 "pool": {"address", "release_threshold_bytes", "size_bytes",
//                          "utilized_bytes"}}],   // "pool" only for pool allocations
//    "launch_calls": [{"domain", "callback_id", "start_ns", "end_ns", "thread_id",
//                      "correlation_id"}]}
//
// Times are ns on CUPTI's clock. "family", "step" (index into "steps", or null) and "phase"
// (or null) are derived on writing and ignored on reading. Readers refuse another format or
// schema version.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cupti/phases.hpp"
#include "cupti/records.hpp"

namespace p4s::cupti {

inline constexpr int kKernelTraceSchemaVersion = 1;

struct KernelTrace {
  std::string capture;  // the availability line
  uint64_t dropped_records = 0;
  std::vector<StepWindow> steps;
  ActivityRecords records;
  // What each step was (e.g. the benchmark case it belongs to): empty, or one per step.
  std::vector<std::string> step_labels;
};

// The trace as JSON text (pretty-printed, ends with a newline). Throws std::invalid_argument
// when step_labels is neither empty nor one per step.
std::string kernel_trace_json(const KernelTrace& trace);
// Writes the trace atomically (common/atomic_file.hpp). Throws std::runtime_error naming the
// path when it cannot; the file is then left as it was.
void write_kernel_trace(const std::string& path, const KernelTrace& trace);
// Reads a trace. Throws std::runtime_error "<source>: <field>: <problem>" on anything
// malformed or of another format/version.
KernelTrace parse_kernel_trace(const std::string& text, const std::string& source);

}  // namespace p4s::cupti
