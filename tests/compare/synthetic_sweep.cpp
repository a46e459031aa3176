#include "tests/compare/synthetic_sweep.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/rng.hpp"

namespace p4s::compare::testdata {
namespace {

using nlohmann::json;

// Written where Google Benchmark writes a bare NaN (the cv of a counter whose mean is 0); the
// dump's text of this number is replaced by the token.
constexpr double kNanMark = 1.25e-300;

struct Case {
  std::string name;     // without /manual_time
  double flops = 0;     // one training step
  double params = 0;
  double mem_alloc = 0; // bytes
};

std::vector<Case> sweep_cases() {
  std::vector<Case> cases;
  struct Conv { int cin, cout, k, s, g, hw; };
  const Conv convs[] = {{3, 64, 7, 2, 1, 224},  {64, 64, 3, 1, 1, 56},   {128, 128, 3, 1, 1, 28},
                        {256, 256, 3, 1, 1, 14}, {512, 512, 3, 1, 1, 7},  {32, 32, 3, 1, 32, 112},
                        {96, 24, 1, 1, 1, 56},   {64, 128, 1, 2, 1, 56}};
  for (const Conv& c : convs)
    for (int bs : {1, 8, 32}) {
      const double out_hw = c.hw / c.s;
      const double macs = double(bs) * c.cout * out_hw * out_hw * (c.cin / c.g) * c.k * c.k;
      const double params = double(c.cout) * (c.cin / c.g) * c.k * c.k;
      const double act = 4.0 * bs * (double(c.cin) * c.hw * c.hw + double(c.cout) * out_hw * out_hw);
      cases.push_back({"Conv2d/cin:" + std::to_string(c.cin) + "/cout:" + std::to_string(c.cout) +
                           "/k:" + std::to_string(c.k) + "/s:" + std::to_string(c.s) + "/g:" + std::to_string(c.g) +
                           "/hw:" + std::to_string(c.hw) + "/bs:" + std::to_string(bs),
                       6 * macs, params, 12 * params + 2 * act});
    }
  for (const auto& [in, out] : {std::pair{512, 1000}, std::pair{1280, 1000}})
    for (int bs : {1, 8, 32}) {
      const double params = double(in) * out + out;
      cases.push_back({"Linear/in:" + std::to_string(in) + "/out:" + std::to_string(out) + "/bs:" + std::to_string(bs),
                       6.0 * bs * in * out, params, 12 * params + 8.0 * bs * (in + out)});
    }
  for (const auto& [c, hw] : {std::pair{64, 56}, std::pair{256, 14}})
    for (int bs : {1, 8, 32}) {
      const double act = 4.0 * bs * c * hw * hw;
      cases.push_back({"BatchNorm2d/c:" + std::to_string(c) + "/hw:" + std::to_string(hw) + "/bs:" + std::to_string(bs),
                       0, 2.0 * c, 3 * act});
    }
  struct Net { const char* name; double gmacs, params, act_bytes_per_sample; };
  const Net nets[] = {{"resnet18_0", 1.82, 11.7e6, 62e6}, {"mobilenetv2_0", 0.32, 3.5e6, 95e6},
                      {"squeezenet_0", 0.35, 1.25e6, 41e6}};
  for (const Net& n : nets)
    for (int bs : {2, 8, 32, 128, 256})
      cases.push_back({std::string("Net/") + n.name + "/bs:" + std::to_string(bs), 3 * 2 * n.gmacs * 1e9 * bs, n.params,
                       12 * n.params + n.act_bytes_per_sample * bs});
  return cases;
}

// Step time in ms: a fixed overhead, then the work at 30 GFLOP/s on one thread. More threads
// help in proportion to the work: small steps are all overhead and synchronisation.
double latency_ms(const Case& c, int threads) {
  const double one_thread_s = 40e-6 + c.flops / 30e9 + c.mem_alloc / 20e9;
  const double parallel_share = c.flops / (c.flops + 2e8);
  const double speedup = 1 / ((1 - parallel_share) + parallel_share / threads);
  return one_thread_s / speedup * 1e3;
}

double gaussian(Rng& rng) {
  // Box-Muller with uniforms in (0, 1].
  constexpr double kTwoPi = 6.283185307179586;
  const double u1 = 1 - rng.uniform01(), u2 = rng.uniform01();
  return std::sqrt(-2 * std::log(u1)) * std::cos(kTwoPi * u2);
}

json entry(const std::string& name, int family, const std::string& run_type, int reps, int index) {
  json e = {{"name", name}, {"family_index", family}, {"per_family_instance_index", 0},
            {"run_name", name}, {"run_type", run_type}, {"repetitions", reps}, {"threads", 1}};
  if (run_type == "iteration") e["repetition_index"] = index;
  return e;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double stddev_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

}  // namespace

std::string synthetic_sweep_json(const SweepModel& model) {
  Rng rng(model.seed);
  json list = json::array();
  const std::vector<Case> cases = sweep_cases();
  for (size_t family = 0; family < cases.size(); ++family) {
    const Case& c = cases[family];
    const std::string name = c.name + "/manual_time";
    const int reps = model.repetitions;
    const double alloc = c.mem_alloc + model.mem_alloc_extra_bytes;
    if (alloc > model.mem_limit_bytes) {
      for (int r = 0; r < reps; ++r) {
        json e = entry(name, int(family), "iteration", reps, r);
        e.update({{"iterations", 0}, {"real_time", 0}, {"cpu_time", 0}, {"time_unit", "ms"},
                  {"error_occurred", true},
                  {"error_message", "out of memory: p4s_mem_limit: " + std::to_string(std::llround(model.mem_limit_bytes)) +
                                        " bytes would be exceeded"}});
        list.push_back(e);
      }
      continue;
    }
    const double base = latency_ms(c, model.threads);
    std::map<std::string, std::vector<double>> values;
    for (int r = 0; r < reps; ++r) {
      values["real_time"].push_back(base * std::exp(model.latency_noise * gaussian(rng)));
      values["mem_alloc"].push_back(alloc);
      values["mem_used"].push_back((alloc * 1.25 + 30e6) * (1 + model.mem_used_noise * gaussian(rng)));
      values["flops"].push_back(c.flops);
      values["params"].push_back(c.params);
    }
    for (int r = 0; r < reps; ++r) {
      json e = entry(name, int(family), "iteration", reps, r);
      e.update({{"iterations", 3}, {"time_unit", "ms"}});
      for (const auto& [k, v] : values) e[k] = v[size_t(r)];
      e["cpu_time"] = values["real_time"][size_t(r)] * model.threads * 0.9;
      list.push_back(e);
    }
    if (reps < 2) continue;
    for (const char* agg : {"mean", "median", "stddev", "cv"}) {
      json e = entry(name + "_" + agg, int(family), "aggregate", reps, 0);
      e["run_name"] = name;
      e.update({{"aggregate_name", agg}, {"aggregate_unit", std::string(agg) == "cv" ? "percentage" : "time"},
                {"iterations", reps}, {"time_unit", "ms"}});
      for (const auto& [k, v] : values) {
        const std::string a = agg;
        const double m = mean_of(v);
        e[k] = a == "mean" ? m : a == "median" ? median_of(v) : a == "stddev" ? stddev_of(v)
               : m == 0 ? kNanMark : stddev_of(v) / m;
      }
      list.push_back(e);
    }
  }
  const json doc = {
      {"context",
       {{"date", "2024-05-01T10:00:00+00:00"}, {"host_name", "synthetic"}, {"executable", "build/bench/bench"},
        {"num_cpus", 2}, {"mhz_per_cpu", 2400}, {"cpu_scaling_enabled", false}, {"library_build_type", "release"},
        {"p4s_schema_version", "1"}, {"p4s_device", "cpu"}, {"p4s_cpu_model", "Synthetic CPU @ 2.40GHz"},
        {"p4s_threads", std::to_string(model.threads)}, {"p4s_libtorch", "1.13.0"}, {"p4s_sweep", "full"}}},
      {"benchmarks", list}};
  std::string text = doc.dump(1);
  const std::string mark = json(kNanMark).dump();
  for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) text.replace(at, mark.size(), "NaN");
  return text;
}

}  // namespace p4s::compare::testdata
