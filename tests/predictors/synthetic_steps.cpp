#include "tests/predictors/synthetic_steps.hpp"

#include "predictors/p4s/runtime_candidates.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::test {

void make_synthetic_steps(Steps& s) {
  s.truth.kind = sim::DeviceKind::kCpu;
  s.truth.cpu_channel_block = 16;
  s.truth.cpu_threads = 1;
  s.truth.relu6_inplace_copies_input = true;
  s.truth.adaptive_pool_saves_input = true;
  sim::AnalysisCache cache;
  for (const char* name : {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "mobilenetv2_cifar10",
                           "mobilenetv2_cifar10_p70_s2", "squeezenet1.1_cifar10", "vgg11bn_cifar10_p30_s1",
                           "mnasnet1.0_cifar10_p40_s3"}) {
    const modelgen::ResolvedNet& net = s.library.get(name);
    const sim::NetworkAnalysis& a = cache.get(net, s.truth);
    for (int64_t batch : {1, 4, 16, 64}) {
      predictors::Observation o;
      o.net = &net;
      o.family = modelgen::family_of(name);
      o.batch = batch;
      o.values.mem_alloc = a.sim_peak_bytes(batch);
      o.values.mem_used = 50e6 + a.sim_peak_bytes(batch);
      // Every layer costs its dispatch plus its work (the summed form), known coefficients; a
      // convolution on the BLAS path at this batch without padding its channels to tiles.
      double t = 2.0;
      for (const sim::LayerCost& c : a.layer_costs()) {
        const double conv_flops = batch < c.blas_below_batch ? c.blas_flops : c.tile_flops;
        t += 0.01 * c.ops + 1e-9 * (conv_flops + c.linear_flops) * batch + 2e-8 * (c.bytes * batch + c.fixed_bytes) +
             3e-9 * c.depthwise_flops * batch + 4e-8 * c.depthwise_gemm_flops * batch;
      }
      o.values.latency_ms = t;
      s.obs.push_back(o);
    }
  }
}

void add_simulated_steps(Steps& s, const std::vector<std::string>& nets, const std::vector<int64_t>& batches,
                         double alloc_scale, double alloc_fixed, double latency_per_op, double latency_fixed,
                         const results::Recipe& recipe) {
  sim::AnalysisCache cache;
  s.truth = cpu_candidates().front();
  const sim::DeviceRuntime& truth = s.truth;
  for (const std::string& name : nets) {
    const modelgen::ResolvedNet& net = s.library.get(name);
    const sim::NetworkAnalysis& a = cache.get(net, truth, recipe);
    for (int64_t batch : batches) {
      predictors::Observation o;
      o.net = &net;
      o.family = modelgen::family_of(name);
      o.batch = batch;
      o.recipe = recipe;
      o.values.mem_alloc = alloc_scale * a.sim_peak_bytes(batch) + alloc_fixed;
      double ops = 0;
      for (const sim::LayerCost& c : a.layer_costs()) ops += c.ops;
      o.values.latency_ms = latency_fixed + latency_per_op * ops;
      s.obs.push_back(o);
    }
  }
}

std::vector<const predictors::Observation*> pointers(const std::vector<predictors::Observation>& v) {
  std::vector<const predictors::Observation*> p;
  for (const predictors::Observation& o : v) p.push_back(&o);
  return p;
}

std::vector<sim::DeviceRuntime> cpu_candidates() {
  results::ResultSet r;
  r.context["p4s_device"] = "cpu";
  r.context["p4s_threads"] = "1";
  r.context["p4s_libtorch"] = "1.13.0";
  return predictors::candidate_runtimes(r);
}

}  // namespace p4s::test
