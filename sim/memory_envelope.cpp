#include "sim/memory_envelope.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace p4s::sim {
namespace {

// Live bytes after each event of the measured step (and before it), allocation rounding
// applied per tensor as the simulation does.
std::vector<double> live_trajectory(const MemorySimResult& r, int64_t round, double& before) {
  auto rounded = [round](int64_t b) {
    return static_cast<double>(round <= 1 || b == 0 ? b : (b + round - 1) / round * round);
  };
  int last = 0;
  for (const MemoryEvent& e : r.events) last = std::max(last, e.step);
  std::unordered_map<int, double> size;
  double live = 0;
  std::vector<double> out;
  before = -1;
  for (const MemoryEvent& e : r.events) {
    if (e.step == last && before < 0) before = live;
    const double b = rounded(e.bytes);
    if (e.alloc) {
      size[e.tensor] = b;
      live += b;
    } else {
      live -= size[e.tensor];
    }
    if (e.step == last && e.alloc) out.push_back(live);
  }
  if (before < 0) before = live;
  return out;
}

}  // namespace

MemoryEnvelope::MemoryEnvelope(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net,
                               const MemoryBackend& backend, const RuntimeOptions& options,
                               const results::Recipe& recipe) {
  RuntimeOptions o = options;
  o.record_events = true;
  // A single sample also changes what the framework does: a slice of some channels, or
  // concat's gradient views, are contiguous for one sample and strided (copied by the layers
  // that need them contiguous) for more.
  std::vector<int64_t> starts{1, 2};
  for (int64_t b : backend.batch_breakpoints())
    if (b > starts.back()) starts.push_back(b);
  for (size_t i = 0; i < starts.size(); ++i) {
    Range range;
    range.first = starts[i];
    range.last = i + 1 < starts.size() ? starts[i + 1] - 1 : INT64_MAX;
    double before0 = 0, before1 = 0;
    const std::vector<double> a = live_trajectory(simulate_training_step(spec, net, range.first, backend, o, recipe), o.round_bytes, before0);
    std::vector<double> b = a;
    before1 = before0;
    if (range.last > range.first)
      b = live_trajectory(simulate_training_step(spec, net, range.first + 1, backend, o, recipe), o.round_bytes, before1);
    if (a.size() != b.size())
      throw std::logic_error("memory envelope: the step's allocations differ between batch " +
                             std::to_string(range.first) + " and " + std::to_string(range.first + 1));
    range.persistent = Line{before0, before1 - before0};
    std::vector<Line> lines{range.persistent};
    for (size_t e = 0; e < a.size(); ++e) lines.push_back(Line{a[e], b[e] - a[e]});
    // Upper envelope over batch >= first: sort by slope, keep lines that are on top somewhere.
    std::sort(lines.begin(), lines.end(), [](const Line& x, const Line& y) {
      return x.per_batch != y.per_batch ? x.per_batch < y.per_batch : x.at_start < y.at_start;
    });
    std::vector<Line> hull;
    for (const Line& l : lines) {
      while (!hull.empty() && hull.back().per_batch == l.per_batch) hull.pop_back();
      // Drop hull lines beaten everywhere in the range (x >= 0) by their neighbours.
      while (!hull.empty() && hull.back().at_start <= l.at_start) hull.pop_back();
      while (hull.size() >= 2) {
        const Line& p = hull[hull.size() - 2];
        const Line& q = hull.back();
        // q is useless if l overtakes p no later than q does.
        const double x_pl = (p.at_start - l.at_start) / (l.per_batch - p.per_batch);
        const double x_pq = (p.at_start - q.at_start) / (q.per_batch - p.per_batch);
        if (x_pl <= x_pq) hull.pop_back(); else break;
      }
      hull.push_back(l);
    }
    range.hull = std::move(hull);
    ranges_.push_back(std::move(range));
  }
}

double MemoryEnvelope::peak_bytes(int64_t batch) const {
  if (batch < 1) throw std::invalid_argument("memory envelope: batch must be >= 1");
  for (const Range& r : ranges_) {
    if (batch < r.first || batch > r.last) continue;
    const double x = static_cast<double>(batch - r.first);
    double best = 0;
    for (const Line& l : r.hull) best = std::max(best, l.at_start + l.per_batch * x);
    return best;
  }
  return 0;  // unreachable: the ranges cover every batch >= 1
}

double MemoryEnvelope::persistent_bytes(int64_t batch) const {
  for (const Range& r : ranges_)
    if (batch >= r.first && batch <= r.last)
      return r.persistent.at_start + r.persistent.per_batch * static_cast<double>(batch - r.first);
  return 0;
}

}  // namespace p4s::sim
