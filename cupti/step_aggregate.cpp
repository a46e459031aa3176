#include "cupti/step_aggregate.hpp"

#include <algorithm>
#include <unordered_map>

namespace p4s::cupti {
namespace {

using Interval = std::pair<uint64_t, uint64_t>;

// [start, end) clipped to the window, or nullopt when it does not overlap.
std::optional<Interval> clip(uint64_t start, uint64_t end, const StepWindow& w) {
  if (!w.holds(start, end)) return std::nullopt;
  return Interval{std::max(start, w.start_ns), std::min(end, w.end_ns)};
}

void aggregate_memory(const std::vector<MemoryRecord>& records, const StepWindow& w,
                      MemoryAggregate& out) {
  std::vector<const MemoryRecord*> device;
  for (const MemoryRecord& r : records) {
    if (r.memory_kind == MemoryKind::kDevice && r.timestamp_ns < w.end_ns) device.push_back(&r);
  }
  std::stable_sort(device.begin(), device.end(), [](const MemoryRecord* a, const MemoryRecord* b) {
    return a->timestamp_ns < b->timestamp_ns;
  });

  std::unordered_map<uint64_t, uint64_t> live;  // address -> bytes
  uint64_t known = 0;                           // sum of `live`
  auto allocate = [&](const MemoryRecord& r) {
    auto [it, inserted] = live.try_emplace(r.address, r.bytes);
    if (!inserted) {  // its release was not recorded: the old block is gone
      known -= it->second;
      it->second = r.bytes;
    }
    known += r.bytes;
  };
  // Returns the bytes released, and whether the allocation was known.
  auto release = [&](const MemoryRecord& r) -> std::pair<uint64_t, bool> {
    auto it = live.find(r.address);
    if (it == live.end()) return {r.bytes, false};
    const uint64_t b = it->second;
    known -= b;
    live.erase(it);
    return {b, true};
  };

  size_t i = 0;
  for (; i < device.size() && device[i]->timestamp_ns < w.start_ns; ++i) {
    if (device[i]->operation == MemoryOperation::kAllocation) {
      allocate(*device[i]);
    } else {
      release(*device[i]);  // unknown before the window: nothing to learn
    }
  }
  const uint64_t known_at_start = known;

  // Level relative to the start: `delta` may go below zero through releases of memory allocated
  // before any record, which raise the start level by as much (`unmatched_bytes`).
  int64_t delta = 0;
  int64_t max_delta = 0;
  uint64_t max_at = w.start_ns;
  uint64_t unmatched_bytes = 0;
  for (; i < device.size(); ++i) {
    const MemoryRecord& r = *device[i];
    if (r.operation == MemoryOperation::kAllocation) {
      const auto old = live.find(r.address);
      if (old != live.end()) delta -= static_cast<int64_t>(old->second);
      allocate(r);
      delta += static_cast<int64_t>(r.bytes);
      ++out.allocations;
      out.allocated_bytes += r.bytes;
      if (delta > max_delta) {
        max_delta = delta;
        max_at = r.timestamp_ns;
      }
    } else {
      const auto [bytes, matched] = release(r);
      delta -= static_cast<int64_t>(bytes);
      ++out.releases;
      if (!matched) {
        ++out.unmatched_releases;
        unmatched_bytes += bytes;
      }
    }
  }
  out.start_bytes = known_at_start + unmatched_bytes;
  out.peak_bytes = out.start_bytes + static_cast<uint64_t>(max_delta);
  out.peak_timestamp_ns = max_at;
  out.end_bytes = static_cast<uint64_t>(static_cast<int64_t>(out.start_bytes) + delta);
}

}  // namespace

uint64_t union_length_ns(std::vector<std::pair<uint64_t, uint64_t>> intervals) {
  std::sort(intervals.begin(), intervals.end());
  uint64_t total = 0;
  bool open = false;
  uint64_t cur_start = 0, cur_end = 0;
  for (const auto& [s, e] : intervals) {
    if (e <= s) continue;
    if (open && s <= cur_end) {
      cur_end = std::max(cur_end, e);
      continue;
    }
    if (open) total += cur_end - cur_start;
    cur_start = s;
    cur_end = e;
    open = true;
  }
  if (open) total += cur_end - cur_start;
  return total;
}

LaunchIndex::LaunchIndex(const std::vector<ApiRecord>& api_calls) {
  start_ns_.reserve(api_calls.size());
  for (const ApiRecord& a : api_calls) {
    auto [it, inserted] = start_ns_.try_emplace(a.correlation_id, a.start_ns);
    if (!inserted) it->second = std::min(it->second, a.start_ns);
  }
}

std::optional<uint64_t> LaunchIndex::launch_ns(uint32_t correlation_id) const {
  auto it = start_ns_.find(correlation_id);
  if (it == start_ns_.end()) return std::nullopt;
  return it->second;
}

std::optional<Phase> launch_phase(uint32_t correlation_id, const StepWindow& window,
                                  const LaunchIndex& launches) {
  const std::optional<uint64_t> t = launches.launch_ns(correlation_id);
  if (!t) return std::nullopt;
  return window.phase_at(*t);
}

double StepAggregate::family_share(KernelFamily f) const {
  if (kernel_time_ns == 0) return 0;
  return static_cast<double>(family(f).kernel_time_ns) / static_cast<double>(kernel_time_ns);
}

StepAggregate aggregate_step(const ActivityRecords& records, const StepWindow& window) {
  return aggregate_step(records, window, LaunchIndex(records.api_calls));
}

StepAggregate aggregate_step(const ActivityRecords& records, const StepWindow& window,
                             const LaunchIndex& launches) {
  StepAggregate a;
  a.duration_ns = window.duration_ns();

  std::vector<Interval> all;
  std::array<std::vector<Interval>, 3> by_phase;
  std::vector<Interval> unattributed;
  for (const KernelRecord& k : records.kernels) {
    const std::optional<uint64_t> launched = launches.launch_ns(k.correlation_id);
    if (!k.has_timestamps()) {
      if (launched && *launched >= window.start_ns && *launched < window.end_ns) {
        ++a.kernels_without_timestamps;
      }
      continue;
    }
    const std::optional<Interval> in = clip(k.start_ns, k.end_ns, window);
    if (!in) continue;
    const uint64_t d = in->second - in->first;
    ++a.kernels;
    a.kernel_time_ns += d;
    all.push_back(*in);
    FamilyAggregate& fam = a.families[static_cast<size_t>(classify_kernel(k.name))];
    ++fam.kernels;
    fam.kernel_time_ns += d;

    std::optional<Phase> phase;
    if (launched) {
      phase = window.phase_at(*launched);
    } else {
      ++a.kernels_without_launch;
    }
    PhaseAggregate& p = phase ? a.phases[static_cast<size_t>(*phase)] : a.unattributed;
    ++p.kernels;
    p.kernel_time_ns += d;
    (phase ? by_phase[static_cast<size_t>(*phase)] : unattributed).push_back(*in);
  }
  a.busy_ns = union_length_ns(std::move(all));
  for (size_t i = 0; i < by_phase.size(); ++i) {
    a.phases[i].busy_ns = union_length_ns(std::move(by_phase[i]));
  }
  a.unattributed.busy_ns = union_length_ns(std::move(unattributed));
  a.gpu_busy = a.duration_ns == 0 ? 0.0
                                  : std::min(1.0, static_cast<double>(a.busy_ns) /
                                                      static_cast<double>(a.duration_ns));

  for (const MemcpyRecord& m : records.memcpys) {
    if (const auto in = clip(m.start_ns, m.end_ns, window)) {
      ++a.memcpys;
      a.memcpy_bytes += m.bytes;
      a.memcpy_time_ns += in->second - in->first;
    }
  }
  for (const MemsetRecord& m : records.memsets) {
    if (const auto in = clip(m.start_ns, m.end_ns, window)) {
      ++a.memsets;
      a.memset_bytes += m.bytes;
      a.memset_time_ns += in->second - in->first;
    }
  }
  aggregate_memory(records.memory, window, a.memory);
  return a;
}

std::vector<StepAggregate> aggregate_steps(const ActivityRecords& records,
                                           const std::vector<StepWindow>& windows) {
  const LaunchIndex launches(records.api_calls);
  std::vector<StepAggregate> out;
  out.reserve(windows.size());
  for (const StepWindow& w : windows) out.push_back(aggregate_step(records, w, launches));
  return out;
}

}  // namespace p4s::cupti
