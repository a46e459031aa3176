// The project's predictors: they recover a runtime and coefficients from synthetic
// measurements made by the simulation itself, round-trip through JSON, and are deterministic.
#include <gtest/gtest.h>

#include <algorithm>
#include <armadillo>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fit/cost_terms.hpp"
#include "fit/evaluation.hpp"
#include "fit/model_file.hpp"
#include "fit/perf4sight_model.hpp"
#include "fit/network_analysis.hpp"
#include "fit/p4s_model.hpp"
#include "fit/results.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"

namespace p4s::fit {
namespace {

// Synthetic CPU measurements: mem_alloc is the simulated peak under `truth`; latency is a
// known sum of cost terms; mem_used a fixed footprint plus the peak.
struct Synthetic {
  NetworkLibrary library;
  std::vector<Observation> obs;
  DeviceRuntime truth;
};

void make_synthetic(Synthetic& s) {
  s.truth.kind = DeviceKind::kCpu;
  s.truth.cpu_channel_block = 16;
  s.truth.cpu_threads = 1;
  s.truth.relu6_inplace_copies_input = true;
  s.truth.adaptive_pool_saves_input = true;
  AnalysisCache cache;
  for (const char* name : {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "mobilenetv2_cifar10",
                           "mobilenetv2_cifar10_p70_s2", "squeezenet1.1_cifar10", "vgg11bn_cifar10_p30_s1",
                           "mnasnet1.0_cifar10_p40_s3"}) {
    const ResolvedNet& net = s.library.get(name);
    const NetworkAnalysis& a = cache.get(net, s.truth);
    for (int64_t batch : {1, 4, 16, 64}) {
      Observation o;
      o.net = &net;
      o.family = family_of(name);
      o.batch = batch;
      o.values.mem_alloc = a.sim_peak_bytes(batch);
      o.values.mem_used = 50e6 + a.sim_peak_bytes(batch);
      // Every layer costs its dispatch plus its work (the summed form), known coefficients; a
      // convolution on the BLAS path at this batch without padding its channels to tiles.
      double t = 2.0;
      for (const LayerCost& c : a.layer_costs()) {
        const double conv_flops = batch < c.blas_below_batch ? c.blas_flops : c.tile_flops;
        t += 0.01 * c.ops + 1e-9 * (conv_flops + c.linear_flops) * batch + 2e-8 * (c.bytes * batch + c.fixed_bytes) +
             3e-9 * c.depthwise_flops * batch + 4e-8 * c.depthwise_gemm_flops * batch;
      }
      o.values.latency_ms = t;
      s.obs.push_back(o);
    }
  }
}

std::vector<const Observation*> all(const std::vector<Observation>& v) {
  std::vector<const Observation*> p;
  for (const Observation& o : v) p.push_back(&o);
  return p;
}

std::vector<DeviceRuntime> cpu_candidates() {
  ResultSet r;
  r.context["p4s_device"] = "cpu";
  r.context["p4s_threads"] = "1";
  r.context["p4s_libtorch"] = "1.13.0";
  return candidate_runtimes(r);
}

TEST(P4sModel, RecoversTheRuntimeAndTheCoefficientsOfSyntheticData) {
  Synthetic s;
  make_synthetic(s);
  AnalysisCache cache;
  const P4sModel m = train_p4s_model(all(s.obs), {}, cpu_candidates(), cache);
  EXPECT_EQ(m.runtime.relu6_inplace_copies_input, true);
  EXPECT_EQ(m.runtime.adaptive_pool_saves_input, true);
  ASSERT_TRUE(m.has(Target::kMemAlloc));
  EXPECT_NEAR(m.memory.at(Target::kMemAlloc).coefficients(1), 1.0, 1e-6);
  EXPECT_NEAR(m.memory.at(Target::kMemUsed).coefficients(0), 50e6, 1e3);
  for (const Observation& o : s.obs) {
    const NetworkAnalysis& a = cache.get(*o.net, m.runtime);
    EXPECT_NEAR(*m.predict(a, o.batch, Target::kMemAlloc), *o.values.mem_alloc, 1e-6 * *o.values.mem_alloc);
    EXPECT_NEAR(*m.predict(a, o.batch, Target::kLatencyMs), *o.values.latency_ms, 1e-6 * *o.values.latency_ms);
  }
  ASSERT_TRUE(m.latency);
  EXPECT_EQ(m.latency->combine, Combine::kSum);  // a CPU runs what it dispatches
  // A depthwise convolution costs its taps (k x k per output), not its bytes.
  EXPECT_NEAR(m.latency->coefficients(7), 3e-9, 1e-12);
  EXPECT_NEAR(m.latency->coefficients(4), 0.0, 1e-12);
  // MnasNet's 5x5 weight gradients on oneDNN's GEMM path cost more per tap.
  EXPECT_NEAR(m.latency->coefficients(8), 4e-8, 1e-11);
  EXPECT_FALSE(m.has(Target::kMemReserved));  // no CUDA data
  EXPECT_FALSE(m.capacity_bytes.has_value());  // nothing ran out of memory
  for (const auto& [t, lm] : m.memory) EXPECT_FALSE(lm.ceiling.has_value()) << target_name(t);
}

// The simulated step that `p4s predict --peak` shows is the one whose peak the memory models
// weigh (through its envelope: exact on a CPU, within the 512-byte rounding of the live tensors
// on CUDA), on either runtime.
TEST(NetworkAnalysis, TheSimulatedStepPeaksAtTheSimulatedPeak) {
  NetworkLibrary library;
  DeviceRuntime cuda, cpu;
  cpu.kind = DeviceKind::kCpu;
  AnalysisCache cache;
  for (const char* name : {"resnet18_cifar10_p50_s1", "mobilenetv2_cifar10", "squeezenet1.1"})
    for (const DeviceRuntime& runtime : {cuda, cpu}) {
      const NetworkAnalysis& a = cache.get(library.get(name), runtime);
      for (int64_t batch : {1, 3, 16, 64}) {
        SCOPED_TRACE(std::string(name) + " batch " + std::to_string(batch));
        const MemorySimResult sim = a.simulate(batch);
        if (runtime.kind == DeviceKind::kCpu)
          EXPECT_EQ(static_cast<double>(sim.peak_bytes), a.sim_peak_bytes(batch));
        else
          EXPECT_NEAR(static_cast<double>(sim.peak_bytes), a.sim_peak_bytes(batch), 1e-3 * a.sim_peak_bytes(batch));
        EXPECT_GE(sim.peak_layer, 0);
      }
      EXPECT_THROW(a.simulate(a.max_batch() + 1), std::out_of_range);
    }
}

// A GPU step as a queue: the host dispatches layer after layer; the device starts a layer's
// work once it is dispatched and the layer before is done. Simulated here event by event, and
// recovered by the fit's closed form (the largest dispatch-prefix plus work-suffix). With
// `small_extra`, one-group convolutions cost that much more per FLOP below batch 16, which the
// fit finds; without, it finds no threshold. MnasNet's 5x5 depthwise layers run PyTorch's
// generic depthwise kernel, at a rate of their own.
std::vector<Observation> queued_steps(NetworkLibrary& library, AnalysisCache& cache, double small_extra) {
  DeviceRuntime cuda;  // kind kCuda
  std::vector<Observation> obs;
  bool some_dispatch_bound = false, some_work_bound = false;
  for (const char* name : {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "mobilenetv2_cifar10_p70_s2",
                           "mobilenetv2", "squeezenet1.1_cifar10", "vgg11bn_cifar10_p30_s1", "mnasnet1.0_cifar10"}) {
    const ResolvedNet& net = library.get(name);
    const NetworkAnalysis& a = cache.get(net, cuda);
    for (int64_t batch : {1, 2, 8, 16, 32, 128, 256}) {
      const double tile_rate = 2e-10 + (batch < 16 ? small_extra : 0.0);
      double host = 0, device = 0, dispatch = 0, work = 0;
      for (const LayerCost& c : a.layer_costs()) {
        const double d = 0.05 * c.ops;  // depthwise kernels are dispatched as any other
        const double w = tile_rate * c.tile_flops * batch + 4e-9 * (c.bytes * batch + c.fixed_bytes) +
                         8e-9 * c.depthwise_bytes * batch + 2e-10 * c.linear_flops * batch +
                         3e-9 * c.generic_depthwise_flops * batch;
        host += d;
        device = std::max(device, host) + w;
        dispatch += d;
        work += w;
      }
      some_dispatch_bound |= dispatch > 1.5 * work;
      some_work_bound |= work > 1.5 * dispatch;
      Observation o;
      o.net = &net;
      o.family = family_of(name);
      o.batch = batch;
      o.values.latency_ms = 3.0 + device;
      obs.push_back(o);
    }
  }
  EXPECT_TRUE(some_dispatch_bound && some_work_bound);  // both regimes are in the data
  return obs;
}

TEST(P4sModel, OnACudaDeviceLatencyIsThePipelineOfDispatchAndWork) {
  NetworkLibrary library;
  AnalysisCache cache;
  DeviceRuntime cuda;
  for (double small_extra : {0.0, 4e-9}) {
    SCOPED_TRACE(small_extra);
    const std::vector<Observation> obs = queued_steps(library, cache, small_extra);
    const P4sModel m = train_p4s_model(all(obs), {}, {cuda}, cache);
    ASSERT_TRUE(m.latency);
    EXPECT_EQ(m.latency->combine, Combine::kPipeline);
    EXPECT_NEAR(m.latency->step_ms, 3.0, 1e-3);
    EXPECT_NEAR(m.latency->coefficients(1), 0.05, 1e-6);
    EXPECT_EQ(m.latency->coefficients(6), 0.0);  // no extra dispatch cost for depthwise kernels
    EXPECT_NEAR(m.latency->coefficients(2), 2e-10, 1e-14);
    EXPECT_EQ(m.latency->small_batch_below, small_extra > 0 ? 16 : 0);
    EXPECT_NEAR(m.latency->coefficients(10), small_extra, 1e-14);
    EXPECT_NEAR(m.latency->coefficients(11), 3e-9, 1e-12);
    const P4sModel reread = P4sModel::from_json(m.to_json());
    EXPECT_EQ(m.to_json()["targets"]["latency_ms"]["combine"], "pipeline");
    EXPECT_EQ(reread.latency->small_batch_below, m.latency->small_batch_below);
    for (const Observation& o : obs) {
      const NetworkAnalysis& a = cache.get(*o.net, m.runtime);
      EXPECT_NEAR(*m.predict(a, o.batch, Target::kLatencyMs), *o.values.latency_ms, 1e-6 * *o.values.latency_ms)
          << o.net->spec.name << " bs " << o.batch;
      EXPECT_EQ(*reread.predict(a, o.batch, Target::kLatencyMs), *m.predict(a, o.batch, Target::kLatencyMs));
    }
  }
}

TEST(CostTerms, ConvolutionsOnTheCpuBlasPathAreNotPaddedToTiles) {
  // A pruned 1x1 convolution, 5 -> 7 channels at 56x56: LibTorch 1.13 on one CPU thread runs
  // it as a BLAS GEMM below batch 16, oneDNN above, which computes whole tiles of channels.
  const std::map<std::string, int64_t> args{{"cin", 5}, {"cout", 7}, {"k", 1}, {"s", 1}, {"g", 1}, {"hw", 56}, {"bs", 4}};
  CostOptions cpu;
  cpu.cpu = true;
  const auto costs = layer_case_costs("Conv2d", args, cpu);
  ASSERT_TRUE(costs);
  const LayerCost& conv = costs->front();
  EXPECT_EQ(conv.blas_below_batch, 16);
  const double passes = 3;  // forward, weight gradient, input gradient
  EXPECT_DOUBLE_EQ(conv.blas_flops, 2.0 * 5 * 7 * 56 * 56 * passes);
  EXPECT_DOUBLE_EQ(conv.tile_flops, 2.0 * 32 * 32 * 56 * 56 * passes);
  // Off the CPU there is no BLAS path.
  const LayerCost gpu = layer_case_costs("Conv2d", args)->front();
  EXPECT_EQ(gpu.blas_below_batch, 0);
  EXPECT_EQ(gpu.blas_flops, 0);
}

// oneDNN computes a depthwise convolution's forward and input gradient with its jit kernels for
// every kernel size, its weight gradient only for 3x3: other sizes take the GEMM path.
TEST(CostTerms, OnTheCpuADepthwiseWeightGradientOtherThan3x3RunsAsGemms) {
  const double out = 96.0 * 8 * 8;  // per sample, stride 1
  CostOptions cpu;
  cpu.cpu = true;
  for (int64_t k : {3, 5, 7}) {
    const std::map<std::string, int64_t> args{{"cin", 96}, {"cout", 96}, {"k", k}, {"s", 1}, {"g", 96}, {"hw", 8}, {"bs", 8}};
    const double taps = 2.0 * k * k * out;  // one pass
    const LayerCost c = layer_case_costs("Conv2d", args, cpu)->front();
    const LayerCost g = layer_case_costs("Conv2d", args)->front();
    if (k == 3) {
      EXPECT_DOUBLE_EQ(c.depthwise_gemm_flops, 0);
      EXPECT_DOUBLE_EQ(c.depthwise_flops, 3 * taps);
    } else {
      EXPECT_DOUBLE_EQ(c.depthwise_gemm_flops, taps) << k;
      EXPECT_DOUBLE_EQ(c.depthwise_flops, 2 * taps) << k;  // forward, input gradient
    }
    EXPECT_DOUBLE_EQ(g.depthwise_gemm_flops, 0) << k;  // a GPU has no such split
    EXPECT_DOUBLE_EQ(c.generic_depthwise_flops, 0) << k;
  }
}

// PyTorch's CUDA depthwise kernels are compiled for 3x3 and 1x1 filters; other sizes run a
// generic kernel, whose taps are a quantity of their own (every pass); a CPU has no such split.
TEST(CostTerms, OnAGpuDepthwiseFiltersOtherThan3x3And1x1RunAGenericKernel) {
  const double out = 96.0 * 8 * 8;  // per sample, stride 1
  for (int64_t k : {1, 3, 5, 7}) {
    const std::map<std::string, int64_t> args{{"cin", 96}, {"cout", 96}, {"k", k}, {"s", 1}, {"g", 96}, {"hw", 8}, {"bs", 8}};
    const double taps = 2.0 * k * k * out;  // one pass
    const LayerCost g = layer_case_costs("Conv2d", args)->front();
    const bool own_kernel = k == 1 || k == 3;
    EXPECT_DOUBLE_EQ(g.depthwise_flops, own_kernel ? 3 * taps : 0) << k;
    EXPECT_DOUBLE_EQ(g.generic_depthwise_flops, own_kernel ? 0 : 3 * taps) << k;
    EXPECT_DOUBLE_EQ(g.depthwise_bytes, 2 * 96.0 * 8 * 8 * 4 * 3) << k;  // input and output, each pass
    EXPECT_EQ(g.depthwise_ops, 3) << k;
  }
  // A grouped convolution that is not depthwise runs as GEMMs whatever its filter.
  const std::map<std::string, int64_t> grouped{{"cin", 96}, {"cout", 96}, {"k", 5}, {"s", 1}, {"g", 32}, {"hw", 8}, {"bs", 8}};
  EXPECT_EQ(layer_case_costs("Conv2d", grouped)->front().generic_depthwise_flops, 0);
}

// A grouped convolution's FLOPs, each group's channels padded to tiles, are its own quantity.
TEST(CostTerms, GroupedConvolutionsCountApartFromThoseWithOneGroup) {
  const std::map<std::string, int64_t> grouped{{"cin", 128}, {"cout", 128}, {"k", 3}, {"s", 1}, {"g", 32}, {"hw", 8}, {"bs", 8}};
  CostOptions cpu;
  cpu.cpu = true;
  cpu.channel_tile = 16;
  const LayerCost c = layer_case_costs("Conv2d", grouped, cpu)->front();
  EXPECT_EQ(c.tile_flops, 0);
  EXPECT_DOUBLE_EQ(c.grouped_flops, 2.0 * 32 * 16 * 16 * 3 * 3 * 8 * 8 * 3);  // 4 channels a group -> 16
  std::map<std::string, int64_t> dense = grouped;
  dense["g"] = 1;
  const LayerCost d = layer_case_costs("Conv2d", dense, cpu)->front();
  EXPECT_EQ(d.grouped_flops, 0);
  EXPECT_DOUBLE_EQ(d.tile_flops, 2.0 * 128 * 128 * 3 * 3 * 8 * 8 * 3);
}

// Convolutions cost whole tiles of channels, as wide as the device's kernels compute them: GEMM
// tiles of 32 on a GPU, oneDNN's blocks of the runtime's width on a CPU.
TEST(CostTerms, ChannelTilesAreTheDevicesKernelWidth) {
  const std::map<std::string, int64_t> args{{"cin", 17}, {"cout", 5}, {"k", 3}, {"s", 1}, {"g", 1}, {"hw", 8}, {"bs", 32}};
  const double per_tile_pair = 2.0 * 3 * 3 * 8 * 8 * 3;  // 3x3 at 8x8; forward and two gradients
  DeviceRuntime gpu;
  EXPECT_DOUBLE_EQ(layer_case_costs("Conv2d", args, cost_options(gpu))->front().tile_flops, 32 * 32 * per_tile_pair);
  DeviceRuntime cpu;
  cpu.kind = DeviceKind::kCpu;
  cpu.cpu_channel_block = 16;  // AVX-512
  EXPECT_DOUBLE_EQ(layer_case_costs("Conv2d", args, cost_options(cpu))->front().tile_flops, 32 * 16 * per_tile_pair);
  cpu.cpu_channel_block = 8;  // AVX2
  EXPECT_DOUBLE_EQ(layer_case_costs("Conv2d", args, cost_options(cpu))->front().tile_flops, 24 * 8 * per_tile_pair);
  const std::map<std::string, int64_t> linear{{"in", 17}, {"out", 5}, {"bs", 32}};
  cpu.cpu_channel_block = 16;
  EXPECT_DOUBLE_EQ(layer_case_costs("Linear", linear, cost_options(cpu))->front().linear_flops, 2.0 * 32 * 16 * 3);
}

TEST(P4sModel, LearnsCapacityFromOutOfMemorySteps) {
  Synthetic s;
  make_synthetic(s);
  // Everything over 200 MB of simulated peak "ran out of memory".
  for (Observation& o : s.obs)
    if (*o.values.mem_used > 200e6) {
      o.fits = false;
      o.values = Measured{};
    }
  AnalysisCache cache;
  const P4sModel m = train_p4s_model(all(s.obs), {}, cpu_candidates(), cache);
  ASSERT_TRUE(m.capacity_bytes.has_value());
  EXPECT_EQ(m.capacity_target, Target::kMemUsed);
  for (const Observation& o : s.obs) {
    const double p = *m.predict(cache.get(*o.net, m.runtime), o.batch, Target::kMemUsed);
    EXPECT_EQ(p <= *m.capacity_bytes, o.fits) << o.net->spec.name << " " << o.batch;
  }
}

// Past the device's limit a step that still runs reports no more memory (a Jetson's memory is
// full; the kernel reclaims or swaps out the rest): the fit learns that ceiling where the data reaches the limit, predictions stop
// there, and fits / does not fit compares what the step asks for.
TEST(P4sModel, MemoryUsedStopsAtTheDevicesCeilingWhereTheDataReachesIt) {
  Synthetic s;
  make_synthetic(s);
  constexpr double kCeiling = 150e6, kCapacity = 400e6;
  size_t saturated = 0, out_of_memory = 0;
  for (Observation& o : s.obs) {
    const double demand = *o.values.mem_used;
    if (demand > kCapacity) {
      o.fits = false;
      o.values = Measured{};
      ++out_of_memory;
    } else if (demand > kCeiling) {
      o.values.mem_used = kCeiling;
      ++saturated;
    }
  }
  ASSERT_GE(saturated, 3u);
  ASSERT_GE(out_of_memory, 3u);
  AnalysisCache cache;
  const P4sModel m = train_p4s_model(all(s.obs), {}, cpu_candidates(), cache);
  const LinearMemoryModel& used = m.memory.at(Target::kMemUsed);
  ASSERT_TRUE(used.ceiling.has_value());
  EXPECT_EQ(*used.ceiling, kCeiling);
  EXPECT_FALSE(m.memory.at(Target::kMemAlloc).ceiling.has_value());  // allocations fail, they do not stop
  ASSERT_TRUE(m.capacity_bytes.has_value());
  EXPECT_EQ(m.capacity_target, Target::kMemUsed);
  // The linear part comes from the steps below the ceiling, undisturbed by those at it.
  EXPECT_NEAR(used.coefficients(0), 50e6, 1e3);
  EXPECT_NEAR(used.coefficients(1), 1.0, 1e-6);
  for (const Observation& o : s.obs) {
    const NetworkAnalysis& a = cache.get(*o.net, m.runtime);
    const double p = *m.predict(a, o.batch, Target::kMemUsed), d = *m.demand(a, o.batch, Target::kMemUsed);
    EXPECT_EQ(p, std::min(d, kCeiling));
    EXPECT_NEAR(d, 50e6 + a.sim_peak_bytes(o.batch), 1e-6 * d);
    // The steps that ran out of memory asked for more than the ceiling: the capped figure would
    // call every one of them fitting.
    EXPECT_EQ(d <= *m.capacity_bytes, o.fits) << o.net->spec.name << " " << o.batch;
    if (o.fits) {
      EXPECT_NEAR(p, *o.values.mem_used, 1e-6 * p) << o.net->spec.name << " " << o.batch;
    }
  }
  // Without steps that ran out of memory nothing says the data reached the limit.
  for (Observation& o : s.obs) o.fits = true;
  std::vector<const Observation*> ran;
  for (const Observation& o : s.obs)
    if (o.values.mem_used) ran.push_back(&o);
  EXPECT_FALSE(train_p4s_model(ran, {}, cpu_candidates(), cache).memory.at(Target::kMemUsed).ceiling.has_value());
}

TEST(P4sModel, JsonRoundTripKeepsEveryPrediction) {
  Synthetic s;
  make_synthetic(s);
  AnalysisCache cache;
  P4sModel m = train_p4s_model(all(s.obs), {}, cpu_candidates(), cache);
  m.memory.at(Target::kMemUsed).ceiling = 120e6;  // below some steps' demand
  const P4sModel back = P4sModel::from_json(nlohmann::json::parse(m.to_json().dump()));
  EXPECT_EQ(back.to_json(), m.to_json());
  EXPECT_EQ(back.memory.at(Target::kMemUsed).ceiling, 120e6);
  for (const Observation& o : s.obs)
    for (Target t : kAllTargets) {
      EXPECT_EQ(back.predict(cache.get(*o.net, back.runtime), o.batch, t),
                m.predict(cache.get(*o.net, m.runtime), o.batch, t));
      EXPECT_EQ(back.demand(cache.get(*o.net, back.runtime), o.batch, t),
                m.demand(cache.get(*o.net, m.runtime), o.batch, t));
    }
}

TEST(P4sModel, FromJsonRefusesMalformedModels) {
  Synthetic s;
  make_synthetic(s);
  AnalysisCache cache;
  const nlohmann::json good = train_p4s_model(all(s.obs), {}, cpu_candidates(), cache).to_json();
  auto refuse = [&](const std::function<void(nlohmann::json&)>& breaks, const std::string& part) {
    nlohmann::json j = good;
    breaks(j);
    try {
      P4sModel::from_json(j);
      ADD_FAILURE() << "accepted: " << j.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  refuse([](nlohmann::json& j) { j.erase("runtime"); }, "runtime");
  refuse([](nlohmann::json& j) { j["runtime"]["kind"] = "tpu"; }, "kind");
  refuse([](nlohmann::json& j) { j["targets"]["mem_alloc"]["coefficients"] = {1.0}; }, "differ in number");
  refuse([](nlohmann::json& j) { j["targets"]["mem_alloc"]["coefficients"] = {-1.0, 1.0}; }, "non-negative");
  refuse([](nlohmann::json& j) { j["targets"]["mem_alloc"]["features"] = {"one", "magic"}; }, "unknown feature");
  refuse([](nlohmann::json& j) { j["targets"]["mem_alloc"]["features"] = {"one", "allocator_reserved"}; }, "CUDA");
  refuse([](nlohmann::json& j) { j["targets"]["mem_used"]["ceiling"] = -5.0; }, "ceiling must be positive");
  refuse([](nlohmann::json& j) { j["targets"]["mem_used"]["ceiling"] = 0.0; }, "ceiling must be positive");
  refuse([](nlohmann::json& j) { j["targets"]["mem_used"]["ceiling"] = "high"; }, "ceiling");
  refuse([](nlohmann::json& j) { j["targets"]["speed"] = nlohmann::json::object(); }, "unknown target");
  refuse([](nlohmann::json& j) { j["targets"]["latency_ms"]["combine"] = "product"; }, "combine");
  refuse([](nlohmann::json& j) { j["targets"]["latency_ms"]["coefficients"] = {1.0, 2.0}; }, "number of coefficients");
  refuse([](nlohmann::json& j) { j["targets"]["latency_ms"]["coefficient_names"][2] = "per_flop_ms"; }, "names differ");
  refuse([](nlohmann::json& j) { j["targets"]["latency_ms"]["coefficient_names"].push_back("per_layer_ms"); },
         "names differ");
  refuse([](nlohmann::json& j) { j["targets"]["latency_ms"]["coefficient_names"] = nlohmann::json::array(); },
         "names differ");
}

// A model file written before the last latency coefficients existed lists fewer names; it reads,
// and predicts as it did: the coefficients it lacks are 0.
// A small network with a grouped (not depthwise) convolution, `groups` groups of 32 channels.
modelgen::NetSpec grouped_net(const std::string& name, int groups) {
  const std::string g = std::to_string(groups);
  return modelgen::parse_netspec(R"({"netspec": 1, "name": ")" + name + R"(", "input": {"channels": 3,
      "height": 16, "width": 16}, "classes": 10, "layers": [
      {"name": "stem", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 32,
       "kernel": [3, 3], "padding": [1, 1]},
      {"name": "r1", "op": "relu", "inputs": ["stem"]},
      {"name": "grouped", "op": "conv2d", "inputs": ["r1"], "in_channels": 32, "out_channels": 32,
       "kernel": [3, 3], "padding": [1, 1], "groups": )" + g + R"(},
      {"name": "r2", "op": "relu", "inputs": ["grouped"]},
      {"name": "wide", "op": "conv2d", "inputs": ["r2"], "in_channels": 32, "out_channels": 64, "kernel": [1, 1]},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["wide"], "output_size": [1, 1]},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 64, "out_features": 10}],
      "output": "fc"})",
                                 name + ".json");
}

TEST(P4sModel, ReadsModelFilesWrittenWithFewerLatencyCoefficients) {
  NetworkLibrary library;
  // Depthwise layers, 5x5 among them, and a network with a grouped convolution: every
  // coefficient older files lack has something to cost.
  const ResolvedNet& mnasnet = library.get("mnasnet1.0_cifar10");
  const ResolvedNet& grouped = library.add(grouped_net("grouped", 4), "test");
  DeviceRuntime cuda;
  DeviceRuntime cpu;
  cpu.kind = DeviceKind::kCpu;
  AnalysisCache cache;
  std::vector<Observation> obs;
  for (int64_t batch : {1, 4, 16, 64}) {
    Observation o;
    o.net = &mnasnet;
    o.family = "mnasnet1.0";
    o.batch = batch;
    o.values.latency_ms = 10.0 + 0.5 * static_cast<double>(batch);
    obs.push_back(o);
  }
  P4sModel m = train_p4s_model(all(obs), {}, {cuda}, cache);
  ASSERT_TRUE(m.latency);
  // Host-bound at small batches, so that a depthwise kernel's extra dispatch cost shows, and
  // tap and grouped costs that show at large ones; the last coefficients are what older files
  // cannot hold: per_generic_depthwise_flop_ms (the newest), per_small_batch_flop_ms (with
  // small_batch_below), per_grouped_flop_ms, per_depthwise_gemm_flop_ms, per_depthwise_flop_ms,
  // then per_depthwise_op_ms.
  m.latency->coefficients = arma::vec{2.0, 0.05, 1e-12, 1e-10, 1e-10, 1e-12, 0.25, 1e-7, 1e-6, 1e-8, 1e-8, 1e-6};
  m.latency->small_batch_below = 16;
  for (size_t lacking : {1u, 2u, 3u, 4u, 5u, 6u}) {
    P4sModel on = m;
    on.runtime = lacking == 4 ? cpu : cuda;  // the depthwise GEMM pass is the CPU's
    const ResolvedNet& net = lacking == 3 ? grouped : mnasnet;
    const NetworkAnalysis& a = cache.get(net, on.runtime);
    nlohmann::json old = on.to_json();
    nlohmann::json& lat = old["targets"]["latency_ms"];
    if (lacking >= 2) lat.erase("small_batch_below");
    for (size_t k = 0; k < lacking; ++k) {
      lat["coefficient_names"].erase(lat["coefficient_names"].size() - 1);
      lat["coefficients"].erase(lat["coefficients"].size() - 1);
    }
    const char* last[] = {"", "per_small_batch_flop_ms", "per_grouped_flop_ms", "per_depthwise_gemm_flop_ms",
                          "per_depthwise_flop_ms", "per_depthwise_op_ms", "per_linear_flop_ms"};
    ASSERT_EQ(lat["coefficient_names"].back(), last[lacking]);
    const P4sModel read = P4sModel::from_json(old);
    const arma::vec& w = read.latency->coefficients;
    ASSERT_EQ(w.n_elem, latency_coefficient_names().size());
    // What the file's model costed those quantities with when it was written: generic depthwise
    // kernels and the depthwise GEMM pass as the other taps, small batches as large ones,
    // grouped convolutions as the rest, the rest nothing.
    EXPECT_EQ(w(11), lacking >= 5 ? 0.0 : m.latency->coefficients(7));
    if (lacking >= 2) {
      EXPECT_EQ(read.latency->small_batch_below, 0);
      EXPECT_EQ(w(10), 0.0);
    }
    if (lacking >= 3) {
      EXPECT_EQ(w(9), w(2));
    }
    if (lacking >= 4) {
      EXPECT_EQ(w(8), lacking >= 5 ? 0.0 : m.latency->coefficients(7));
    }
    if (lacking >= 5) {
      EXPECT_EQ(w(7), 0.0);
    }
    if (lacking >= 6) {
      EXPECT_EQ(w(6), 0.0);
    }
    for (arma::uword i = 0; i + lacking < w.n_elem; ++i) EXPECT_EQ(w(i), m.latency->coefficients(i)) << i;
    P4sModel as_read = on;
    as_read.latency->coefficients = w;
    if (lacking >= 2) as_read.latency->small_batch_below = 0;
    for (int64_t batch : {1, 8, 100})
      EXPECT_EQ(*read.predict(a, batch, Target::kLatencyMs), *as_read.predict(a, batch, Target::kLatencyMs));
    // What the lacking coefficients cost: a small batch's extra work, the work at a large
    // batch, the dispatch at a small one.
    const int64_t shows = lacking == 2 ? 8 : lacking <= 5 ? 100 : 1;
    EXPECT_GT(*on.predict(a, shows, Target::kLatencyMs), *as_read.predict(a, shows, Target::kLatencyMs) + 1.0)
        << lacking;
  }
}

// Grouped convolutions cost their own rate per FLOP where the data has them (ResNeXt's shapes
// run other oneDNN kernels than one-group ones); without them, the rate of the rest.
TEST(P4sModel, GroupedConvolutionsGetTheirOwnRateOnlyWhereTheDataHasThem) {
  NetworkLibrary library;
  const std::vector<const ResolvedNet*> nets{&library.get("resnet18_cifar10"), &library.get("vgg11bn_cifar10_p30_s1"),
                                             &library.add(grouped_net("grouped_4", 4), "test"),
                                             &library.add(grouped_net("grouped_8", 8), "test")};
  DeviceRuntime cpu;
  cpu.kind = DeviceKind::kCpu;
  AnalysisCache cache;
  std::vector<Observation> with, without;
  for (const ResolvedNet* net : nets) {
    const NetworkAnalysis& a = cache.get(*net, cpu);
    for (int64_t batch : {16, 32, 64, 128}) {  // oneDNN's path throughout: no BLAS convolutions
      double t = 2.0;
      for (const LayerCost& c : a.layer_costs())
        t += 0.01 * c.ops + 1e-9 * (c.tile_flops + c.linear_flops) * batch + 5e-9 * c.grouped_flops * batch +
             2e-8 * (c.bytes * batch + c.fixed_bytes);
      Observation o;
      o.net = net;
      o.family = family_of(net->spec.name);
      o.batch = batch;
      o.values.latency_ms = t;
      with.push_back(o);
      if (net->spec.name.rfind("grouped", 0) != 0) without.push_back(o);
    }
  }
  const P4sModel m = train_p4s_model(all(with), {}, {cpu}, cache);
  ASSERT_TRUE(m.latency);
  EXPECT_NEAR(m.latency->coefficients(2), 1e-9, 1e-12);
  EXPECT_NEAR(m.latency->coefficients(9), 5e-9, 1e-11);
  const P4sModel dense = train_p4s_model(all(without), {}, {cpu}, cache);
  ASSERT_TRUE(dense.latency);
  EXPECT_NEAR(dense.latency->coefficients(2), 1e-9, 1e-12);
  EXPECT_EQ(dense.latency->coefficients(9), dense.latency->coefficients(2));
}

TEST(Evaluation, MetricsOfKnownPredictions) {
  const Metrics m = metrics_of({110, 90, 100, 150}, {100, 100, 100, 100});
  EXPECT_EQ(m.n, 4u);
  EXPECT_DOUBLE_EQ(m.mape, 17.5);
  EXPECT_DOUBLE_EQ(m.worst, 50.0);
  EXPECT_DOUBLE_EQ(m.within10, 75.0);
}

TEST(Evaluation, LevelRemovedDividesOutEachNetworksMedianRatio) {
  const std::vector<PredictedPoint> points = {
      // a: 1.2 times at every batch size, a level and nothing else
      {"a", "f", 2, 100, 120}, {"a", "f", 4, 200, 240}, {"a", "f", 8, 400, 480},
      // b: ratios 0.9, 1.0, 1.1, median 1.0: 10% off twice, whatever the level
      {"b", "f", 2, 100, 90}, {"b", "f", 4, 100, 100}, {"b", "f", 8, 100, 110},
      // c: two ratios, 1.0 and 1.2, the level their mean
      {"c", "g", 2, 100, 100}, {"c", "g", 4, 100, 120},
      // d: one step, no level to tell from its error
      {"d", "g", 2, 100, 300},
  };
  const Metrics m = level_removed(points);
  EXPECT_EQ(m.n, 8u);
  const double c = 100.0 * (1.0 - 1.0 / 1.1);  // each of c's two steps, 1.1 being the level
  EXPECT_NEAR(m.mape, (0 + 0 + 0 + 10 + 0 + 10 + c + c) / 8, 1e-9);
  EXPECT_NEAR(m.worst, 10.0, 1e-9);
  EXPECT_EQ(level_removed({}).n, 0u);
}

TEST(Evaluation, LeaveOneFamilyOutPredictsEachFamilyFromTheOthers) {
  Synthetic s;
  make_synthetic(s);
  EvaluationOptions eo;
  eo.baseline = true;
  const Evaluation ev = evaluate_leave_one_family_out(s.obs, {}, cpu_candidates(), eo);
  EXPECT_EQ(ev.families, (std::vector<std::string>{"mnasnet1.0", "mobilenetv2", "resnet18", "squeezenet1.1", "vgg11bn"}));
  ASSERT_EQ(ev.methods.size(), 2u);
  EXPECT_EQ(ev.methods[0].method, "p4s");
  EXPECT_EQ(ev.methods[1].method, "perf4sight");
  const TargetEvaluation& alloc = ev.methods[0].targets.at(Target::kMemAlloc);
  EXPECT_EQ(alloc.overall.n, s.obs.size());
  EXPECT_EQ(alloc.by_family.size(), 5u);
  // The synthetic mem_alloc is the simulation itself: held out or not, it is exact.
  EXPECT_LT(alloc.overall.worst, 1e-6);
  EXPECT_EQ(alloc.level_removed.n, alloc.overall.n);  // every network measured at several batch sizes
  EXPECT_LT(alloc.level_removed.worst, 1e-6);
  // Each target and family, for both methods, as level_removed of its own points.
  for (const MethodEvaluation& me : ev.methods)
    for (const auto& [t, te] : me.targets) {
      EXPECT_EQ(te.level_removed.mape, level_removed(te.points).mape) << me.method;
      ASSERT_EQ(te.level_removed_by_family.size(), 5u);
      for (const auto& [f, m] : te.level_removed_by_family) {
        std::vector<PredictedPoint> mine;
        for (const PredictedPoint& p : te.points)
          if (p.family == f) mine.push_back(p);
        EXPECT_EQ(m.mape, level_removed(mine).mape) << me.method << " " << f;
        EXPECT_GT(m.n, 0u);
      }
    }
  std::vector<Observation> one_family;
  for (const Observation& o : s.obs)
    if (o.family == "resnet18") one_family.push_back(o);
  EXPECT_THROW(evaluate_leave_one_family_out(one_family, {}, cpu_candidates(), eo), InputError);
}

// Models fitted on the other families predict a family's steps exactly as leave-one-family-out's
// fold for that family does: the same fits, the same predictions, nothing refitted.
TEST(Evaluation, FittedModelsPredictAFamilyAsItsLeaveOneOutFoldDoes) {
  Synthetic s;
  make_synthetic(s);
  EvaluationOptions eo;
  eo.baseline = true;
  const Evaluation lofo = evaluate_leave_one_family_out(s.obs, {}, cpu_candidates(), eo);
  const std::string held_out = "mobilenetv2";
  std::vector<const Observation*> train;
  std::vector<Observation> test;
  for (const Observation& o : s.obs) {
    if (o.family == held_out) test.push_back(o);
    else train.push_back(&o);
  }
  AnalysisCache cache;
  ModelFile ours, baseline;
  ours.method = "p4s";
  ours.p4s = train_p4s_model(train, {}, cpu_candidates(), cache);
  baseline.method = "perf4sight";
  baseline.perf4sight = train_perf4sight_model(train, eo.seed);
  // Given baseline first: the project's method still comes first.
  const Evaluation ev = evaluate_fitted_models(test, {&baseline, &ours});
  EXPECT_EQ(ev.kind, EvaluationKind::kFittedModels);
  EXPECT_EQ(ev.families, std::vector<std::string>{held_out});
  ASSERT_EQ(ev.methods.size(), 2u);
  EXPECT_EQ(ev.methods[0].method, "p4s");
  EXPECT_EQ(ev.methods[1].method, "perf4sight");
  size_t compared = 0;
  for (size_t m = 0; m < 2; ++m)
    for (const auto& [t, te] : lofo.methods[m].targets) {
      std::vector<PredictedPoint> fold;
      for (const PredictedPoint& p : te.points)
        if (p.family == held_out) fold.push_back(p);
      const TargetEvaluation& now = ev.methods[m].targets.at(t);
      ASSERT_EQ(now.points.size(), fold.size()) << target_name(t);
      for (size_t i = 0; i < fold.size(); ++i) {
        EXPECT_EQ(now.points[i].net, fold[i].net);
        EXPECT_EQ(now.points[i].batch, fold[i].batch);
        EXPECT_DOUBLE_EQ(now.points[i].predicted, fold[i].predicted) << target_name(t) << " " << fold[i].net;
        ++compared;
      }
      EXPECT_DOUBLE_EQ(now.overall.mape, te.by_family.at(held_out).mape) << target_name(t);
      EXPECT_DOUBLE_EQ(now.by_family.at(held_out).worst, te.by_family.at(held_out).worst) << target_name(t);
    }
  EXPECT_GE(compared, 2 * 3 * test.size());  // both methods, the three targets the data has
  // The measurements' own smoothness is the same reference.
  EXPECT_DOUBLE_EQ(ev.reference.at(Target::kMemAlloc).overall.mape,
                   neighbour_interpolation(test).at(Target::kMemAlloc).overall.mape);

  EXPECT_THROW(evaluate_fitted_models(test, {}), InputError);
  EXPECT_THROW(evaluate_fitted_models(test, {&ours, &ours}), InputError);
  ModelFile empty;
  empty.method = "p4s";
  EXPECT_THROW(evaluate_fitted_models(test, {&empty}), InputError);
}

// The largest held-out errors of the first method, per target, largest first, with the other
// method's prediction of the same step where it has one.
TEST(Evaluation, WorstPredictionsAreTheFirstMethodsLargestErrorsBesideTheOthers) {
  auto point = [](const std::string& net, int64_t batch, double measured, double predicted) {
    PredictedPoint p;
    p.net = net;
    p.family = net.substr(0, net.find('_'));
    p.batch = batch;
    p.measured = measured;
    p.predicted = predicted;
    return p;
  };
  Evaluation ev;
  ev.families = {"a", "b"};
  MethodEvaluation ours{"p4s", {}, {}};
  ours.targets[Target::kLatencyMs].points = {point("a_1", 2, 100, 105), point("b_1", 4, 100, 150),
                                             point("a_2", 8, 200, 100), point("b_2", 2, 100, 90)};
  ours.targets[Target::kMemAlloc].points = {point("a_1", 2, 1000, 1010)};
  MethodEvaluation baseline{"perf4sight", {}, {}};
  baseline.targets[Target::kLatencyMs].points = {point("a_2", 8, 200, 210), point("b_1", 4, 100, 60)};
  ev.methods = {ours, baseline};

  const std::vector<WorstPrediction> w = worst_predictions(ev, 2);
  ASSERT_EQ(w.size(), 3u);  // two for latency; memory has only one point
  EXPECT_EQ(w[0].target, Target::kLatencyMs);
  EXPECT_EQ(w[0].method, "p4s");
  EXPECT_EQ(w[0].point.net, "a_2");  // 50% and 50%: ties go by net name
  EXPECT_EQ(w[0].point.batch, 8);
  EXPECT_DOUBLE_EQ(w[0].error, 50.0);
  EXPECT_DOUBLE_EQ(w[0].others.at("perf4sight"), 210.0);
  EXPECT_EQ(w[1].point.net, "b_1");
  EXPECT_DOUBLE_EQ(w[1].error, 50.0);
  EXPECT_DOUBLE_EQ(w[1].others.at("perf4sight"), 60.0);
  EXPECT_EQ(w[2].target, Target::kMemAlloc);
  EXPECT_NEAR(w[2].error, 1.0, 1e-12);
  EXPECT_TRUE(w[2].others.empty());  // the baseline did not predict mem_alloc here
  EXPECT_TRUE(worst_predictions(ev, 0).empty());
  EXPECT_TRUE(worst_predictions(Evaluation{}, 3).empty());
}

// The reference: each interior step of a network interpolated between its neighbouring batch
// sizes; ends, steps that did not fit, missing values and repeated batch sizes handled.
TEST(Evaluation, NeighbourInterpolationPredictsEachStepFromTheSameNetworksNeighbours) {
  NetworkLibrary library;
  const ResolvedNet& a = library.get("resnet18_cifar10");
  const ResolvedNet& b = library.get("mobilenetv2_cifar10");
  std::vector<Observation> obs;
  auto step = [&](const ResolvedNet& net, int64_t batch, std::optional<double> latency, std::optional<double> alloc,
                  bool fits = true) {
    Observation o;
    o.net = &net;
    o.family = family_of(net.spec.name);
    o.batch = batch;
    o.fits = fits;
    if (fits) {
      o.values.latency_ms = latency;
      o.values.mem_alloc = alloc;
    }
    obs.push_back(o);
  };
  // Given out of order: the interpolation sorts by batch size.
  step(a, 8, 30.0, 800.0);
  step(a, 2, 10.0, 200.0);
  step(a, 4, 26.0, 400.0);   // latency between 10 and 30 at batches 2 and 8: 16.667
  step(a, 4, 99.0, 999.0);   // the same batch again: the first is kept
  step(a, 16, 50.0, std::nullopt);
  step(a, 32, 0.0, 0.0, false);  // did not fit: neither predicted nor a neighbour
  step(b, 2, 5.0, 100.0);        // two steps only: nothing to interpolate
  step(b, 4, 7.0, 150.0);

  const std::map<Target, TargetEvaluation> r = neighbour_interpolation(obs);
  const TargetEvaluation& lat = r.at(Target::kLatencyMs);
  ASSERT_EQ(lat.points.size(), 2u);  // batches 4 and 8 of resnet18_cifar10
  EXPECT_EQ(lat.points[0].net, "resnet18_cifar10");
  EXPECT_EQ(lat.points[0].family, "resnet18");
  EXPECT_EQ(lat.points[0].batch, 4);
  EXPECT_DOUBLE_EQ(lat.points[0].measured, 26.0);
  EXPECT_NEAR(lat.points[0].predicted, 10.0 + 20.0 * 2.0 / 6.0, 1e-12);
  EXPECT_EQ(lat.points[1].batch, 8);
  EXPECT_DOUBLE_EQ(lat.points[1].predicted, 26.0 + 24.0 * 4.0 / 12.0);  // 34 against 30
  EXPECT_NEAR(lat.overall.mape, 0.5 * (100.0 * (26.0 - 50.0 / 3.0) / 26.0 + 100.0 * 4.0 / 30.0), 1e-9);
  EXPECT_EQ(lat.by_family.size(), 1u);
  // mem_alloc has no value at batch 16: batch 8 is the last, so only batch 4 is predicted.
  const TargetEvaluation& alloc = r.at(Target::kMemAlloc);
  ASSERT_EQ(alloc.points.size(), 1u);
  EXPECT_DOUBLE_EQ(alloc.points[0].predicted, 400.0);
  EXPECT_DOUBLE_EQ(alloc.overall.mape, 0.0);
  EXPECT_EQ(r.count(Target::kMemReserved), 0u);

  // The evaluation carries it beside the methods.
  Synthetic s;
  make_synthetic(s);
  EvaluationOptions eo;
  eo.baseline = false;
  const Evaluation ev = evaluate_leave_one_family_out(s.obs, {}, cpu_candidates(), eo);
  const TargetEvaluation& ref = ev.reference.at(Target::kMemAlloc);
  EXPECT_EQ(ref.points.size(), 7u * 2u);  // seven networks at batches 1, 4, 16, 64: two interior each
  EXPECT_EQ(ref.by_family.size(), 5u);
}

}  // namespace
}  // namespace p4s::fit
