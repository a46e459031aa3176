// The project's predictors: they recover a runtime and coefficients from synthetic
// measurements made by the simulation itself, round-trip through JSON, and are deterministic.
#include <gtest/gtest.h>

#include <algorithm>
#include <armadillo>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"
#include "predictors/model_file.hpp"
#include "predictors/p4s/p4s_model.hpp"
#include "results_format/reader.hpp"
#include "sim/cost_terms.hpp"
#include "sim/network_analysis.hpp"
#include "tests/predictors/synthetic_steps.hpp"

namespace p4s::predictors {
namespace {

TEST(P4sModel, RecoversTheRuntimeAndTheCoefficientsOfSyntheticData) {
  test::Steps s;
  test::make_synthetic_steps(s);
  sim::AnalysisCache cache;
  const P4sModel m = train_p4s_model(test::pointers(s.obs), {}, test::cpu_candidates(), cache);
  EXPECT_EQ(m.runtime.relu6_inplace_copies_input, true);
  EXPECT_EQ(m.runtime.adaptive_pool_saves_input, true);
  ASSERT_TRUE(m.has(results::Target::kMemAlloc));
  EXPECT_NEAR(m.memory.at(results::Target::kMemAlloc).coefficients(1), 1.0, 1e-6);
  EXPECT_NEAR(m.memory.at(results::Target::kMemUsed).coefficients(0), 50e6, 1e3);
  for (const Observation& o : s.obs) {
    const sim::NetworkAnalysis& a = cache.get(*o.net, m.runtime);
    EXPECT_NEAR(*m.predict(a, o.batch, results::Target::kMemAlloc), *o.values.mem_alloc, 1e-6 * *o.values.mem_alloc);
    EXPECT_NEAR(*m.predict(a, o.batch, results::Target::kLatencyMs), *o.values.latency_ms, 1e-6 * *o.values.latency_ms);
  }
  ASSERT_TRUE(m.latency);
  EXPECT_EQ(m.latency->combine, Combine::kSum);  // a CPU runs what it dispatches
  // A depthwise convolution costs its taps (k x k per output), not its bytes.
  EXPECT_NEAR(m.latency->coefficients(7), 3e-9, 1e-12);
  EXPECT_NEAR(m.latency->coefficients(4), 0.0, 1e-12);
  // MnasNet's 5x5 weight gradients on oneDNN's GEMM path cost more per tap.
  EXPECT_NEAR(m.latency->coefficients(8), 4e-8, 1e-11);
  EXPECT_FALSE(m.has(results::Target::kMemReserved));  // no CUDA data
  EXPECT_FALSE(m.capacity_bytes.has_value());  // nothing ran out of memory
  for (const auto& [t, lm] : m.memory) EXPECT_FALSE(lm.ceiling.has_value()) << results::target_name(t);
}


// A GPU step as a queue: the host dispatches layer after layer; the device starts a layer's
// work once it is dispatched and the layer before is done. Simulated here event by event, and
// recovered by the fit's closed form (the largest dispatch-prefix plus work-suffix). With
// `small_extra`, one-group convolutions cost that much more per FLOP below batch 16, which the
// fit finds; without, it finds no threshold. MnasNet's 5x5 depthwise layers run PyTorch's
// generic depthwise kernel, at a rate of their own.
std::vector<Observation> queued_steps(modelgen::NetworkLibrary& library, sim::AnalysisCache& cache, double small_extra) {
  sim::DeviceRuntime cuda;  // kind kCuda
  std::vector<Observation> obs;
  bool some_dispatch_bound = false, some_work_bound = false;
  for (const char* name : {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "mobilenetv2_cifar10_p70_s2",
                           "mobilenetv2", "squeezenet1.1_cifar10", "vgg11bn_cifar10_p30_s1", "mnasnet1.0_cifar10"}) {
    const modelgen::ResolvedNet& net = library.get(name);
    const sim::NetworkAnalysis& a = cache.get(net, cuda);
    for (int64_t batch : {1, 2, 8, 16, 32, 128, 256}) {
      const double tile_rate = 2e-10 + (batch < 16 ? small_extra : 0.0);
      double host = 0, device = 0, dispatch = 0, work = 0;
      for (const sim::LayerCost& c : a.layer_costs()) {
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
      o.family = modelgen::family_of(name);
      o.batch = batch;
      o.values.latency_ms = 3.0 + device;
      obs.push_back(o);
    }
  }
  EXPECT_TRUE(some_dispatch_bound && some_work_bound);  // both regimes are in the data
  return obs;
}

TEST(P4sModel, OnACudaDeviceLatencyIsThePipelineOfDispatchAndWork) {
  modelgen::NetworkLibrary library;
  sim::AnalysisCache cache;
  sim::DeviceRuntime cuda;
  for (double small_extra : {0.0, 4e-9}) {
    SCOPED_TRACE(small_extra);
    const std::vector<Observation> obs = queued_steps(library, cache, small_extra);
    const P4sModel m = train_p4s_model(test::pointers(obs), {}, {cuda}, cache);
    ASSERT_TRUE(m.latency);
    EXPECT_EQ(m.latency->combine, Combine::kPipeline);
    EXPECT_NEAR(m.latency->step_ms, 3.0, 1e-3);
    EXPECT_NEAR(m.latency->coefficients(1), 0.05, 1e-6);
    EXPECT_EQ(m.latency->coefficients(6), 0.0);  // no extra dispatch cost for depthwise kernels
    EXPECT_NEAR(m.latency->coefficients(2), 2e-10, 1e-14);
    EXPECT_EQ(m.latency->small_batch_below, small_extra > 0 ? 16 : 0);
    EXPECT_NEAR(m.latency->coefficients(10), small_extra, 1e-14);
    EXPECT_NEAR(m.latency->coefficients(11), 3e-9, 1e-12);
    const P4sModel reread = P4sModel::from_json(m.to_json(), current_model_format());
    EXPECT_EQ(m.to_json()["targets"]["latency_ms"]["combine"], "pipeline");
    EXPECT_EQ(reread.latency->small_batch_below, m.latency->small_batch_below);
    for (const Observation& o : obs) {
      const sim::NetworkAnalysis& a = cache.get(*o.net, m.runtime);
      EXPECT_NEAR(*m.predict(a, o.batch, results::Target::kLatencyMs), *o.values.latency_ms, 1e-6 * *o.values.latency_ms)
          << o.net->spec.name << " bs " << o.batch;
      EXPECT_EQ(*reread.predict(a, o.batch, results::Target::kLatencyMs), *m.predict(a, o.batch, results::Target::kLatencyMs));
    }
  }
}

TEST(P4sModel, LearnsCapacityFromOutOfMemorySteps) {
  test::Steps s;
  test::make_synthetic_steps(s);
  // Everything over 200 MB of simulated peak "ran out of memory".
  for (Observation& o : s.obs)
    if (*o.values.mem_used > 200e6) {
      o.fits = false;
      o.values = results::Measured{};
    }
  sim::AnalysisCache cache;
  const P4sModel m = train_p4s_model(test::pointers(s.obs), {}, test::cpu_candidates(), cache);
  ASSERT_TRUE(m.capacity_bytes.has_value());
  EXPECT_EQ(m.capacity_target, results::Target::kMemUsed);
  for (const Observation& o : s.obs) {
    const double p = *m.predict(cache.get(*o.net, m.runtime), o.batch, results::Target::kMemUsed);
    EXPECT_EQ(p <= *m.capacity_bytes, o.fits) << o.net->spec.name << " " << o.batch;
  }
}

// Past the device's limit a step that still runs reports no more memory (a Jetson's memory is
// full; the kernel reclaims or swaps out the rest): the fit learns that ceiling where the data reaches the limit, predictions stop
// there, and fits / does not fit compares what the step asks for.
TEST(P4sModel, MemoryUsedStopsAtTheDevicesCeilingWhereTheDataReachesIt) {
  test::Steps s;
  test::make_synthetic_steps(s);
  constexpr double kCeiling = 150e6, kCapacity = 400e6;
  size_t saturated = 0, out_of_memory = 0;
  for (Observation& o : s.obs) {
    const double demand = *o.values.mem_used;
    if (demand > kCapacity) {
      o.fits = false;
      o.values = results::Measured{};
      ++out_of_memory;
    } else if (demand > kCeiling) {
      o.values.mem_used = kCeiling;
      ++saturated;
    }
  }
  ASSERT_GE(saturated, 3u);
  ASSERT_GE(out_of_memory, 3u);
  sim::AnalysisCache cache;
  const P4sModel m = train_p4s_model(test::pointers(s.obs), {}, test::cpu_candidates(), cache);
  const LinearMemoryModel& used = m.memory.at(results::Target::kMemUsed);
  ASSERT_TRUE(used.ceiling.has_value());
  EXPECT_EQ(*used.ceiling, kCeiling);
  EXPECT_FALSE(m.memory.at(results::Target::kMemAlloc).ceiling.has_value());  // allocations fail, they do not stop
  ASSERT_TRUE(m.capacity_bytes.has_value());
  EXPECT_EQ(m.capacity_target, results::Target::kMemUsed);
  // The linear part comes from the steps below the ceiling, undisturbed by those at it.
  EXPECT_NEAR(used.coefficients(0), 50e6, 1e3);
  EXPECT_NEAR(used.coefficients(1), 1.0, 1e-6);
  for (const Observation& o : s.obs) {
    const sim::NetworkAnalysis& a = cache.get(*o.net, m.runtime);
    const double p = *m.predict(a, o.batch, results::Target::kMemUsed), d = *m.demand(a, o.batch, results::Target::kMemUsed);
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
  EXPECT_FALSE(train_p4s_model(ran, {}, test::cpu_candidates(), cache).memory.at(results::Target::kMemUsed).ceiling.has_value());
}

TEST(P4sModel, JsonRoundTripKeepsEveryPrediction) {
  test::Steps s;
  test::make_synthetic_steps(s);
  sim::AnalysisCache cache;
  P4sModel m = train_p4s_model(test::pointers(s.obs), {}, test::cpu_candidates(), cache);
  m.memory.at(results::Target::kMemUsed).ceiling = 120e6;  // below some steps' demand
  const P4sModel back = P4sModel::from_json(nlohmann::json::parse(m.to_json().dump()), current_model_format());
  EXPECT_EQ(back.to_json(), m.to_json());
  EXPECT_EQ(back.memory.at(results::Target::kMemUsed).ceiling, 120e6);
  for (const Observation& o : s.obs)
    for (results::Target t : results::kAllTargets) {
      EXPECT_EQ(back.predict(cache.get(*o.net, back.runtime), o.batch, t),
                m.predict(cache.get(*o.net, m.runtime), o.batch, t));
      EXPECT_EQ(back.demand(cache.get(*o.net, back.runtime), o.batch, t),
                m.demand(cache.get(*o.net, m.runtime), o.batch, t));
    }
}

TEST(P4sModel, FromJsonRefusesMalformedModels) {
  test::Steps s;
  test::make_synthetic_steps(s);
  sim::AnalysisCache cache;
  const nlohmann::json good = train_p4s_model(test::pointers(s.obs), {}, test::cpu_candidates(), cache).to_json();
  auto refuse = [&](const std::function<void(nlohmann::json&)>& breaks, const std::string& part) {
    nlohmann::json j = good;
    breaks(j);
    try {
      P4sModel::from_json(j, current_model_format());
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
  modelgen::NetworkLibrary library;
  // Depthwise layers, 5x5 among them, and a network with a grouped convolution: every
  // coefficient older files lack has something to cost.
  const modelgen::ResolvedNet& mnasnet = library.get("mnasnet1.0_cifar10");
  const modelgen::ResolvedNet& grouped = library.add(grouped_net("grouped", 4), "test");
  sim::DeviceRuntime cuda;
  sim::DeviceRuntime cpu;
  cpu.kind = sim::DeviceKind::kCpu;
  sim::AnalysisCache cache;
  std::vector<Observation> obs;
  for (int64_t batch : {1, 4, 16, 64}) {
    Observation o;
    o.net = &mnasnet;
    o.family = "mnasnet1.0";
    o.batch = batch;
    o.values.latency_ms = 10.0 + 0.5 * static_cast<double>(batch);
    obs.push_back(o);
  }
  P4sModel m = train_p4s_model(test::pointers(obs), {}, {cuda}, cache);
  ASSERT_TRUE(m.latency);
  // Host-bound at small batches, so that a depthwise kernel's extra dispatch cost shows, and
  // tap and grouped costs that show at large ones; the last coefficients are what older files
  // cannot hold: per_transcendental_ms (the newest, which no file of format 1 had, so it goes
  // in every case below), per_generic_depthwise_flop_ms, per_small_batch_flop_ms (with
  // small_batch_below), per_grouped_flop_ms, per_depthwise_gemm_flop_ms, per_depthwise_flop_ms,
  // then per_depthwise_op_ms.
  m.latency->coefficients = arma::vec{2.0, 0.05, 1e-12, 1e-10, 1e-10, 1e-12, 0.25, 1e-7, 1e-6, 1e-8, 1e-8, 1e-6, 1e-9};
  m.latency->small_batch_below = 16;
  for (size_t lacking : {1u, 2u, 3u, 4u, 5u, 6u}) {
    P4sModel on = m;
    on.runtime = lacking == 4 ? cpu : cuda;  // the depthwise GEMM pass is the CPU's
    const modelgen::ResolvedNet& net = lacking == 3 ? grouped : mnasnet;
    const sim::NetworkAnalysis& a = cache.get(net, on.runtime);
    nlohmann::json old = on.to_json();
    nlohmann::json& lat = old["targets"]["latency_ms"];
    if (lacking >= 2) lat.erase("small_batch_below");
    for (size_t k = 0; k < lacking + 1; ++k) {
      lat["coefficient_names"].erase(lat["coefficient_names"].size() - 1);
      lat["coefficients"].erase(lat["coefficients"].size() - 1);
    }
    const char* last[] = {"", "per_small_batch_flop_ms", "per_grouped_flop_ms", "per_depthwise_gemm_flop_ms",
                          "per_depthwise_flop_ms", "per_depthwise_op_ms", "per_linear_flop_ms"};
    ASSERT_EQ(lat["coefficient_names"].back(), last[lacking]);
    const P4sModel read = P4sModel::from_json(old, ModelFormatVersion{1, 0});  // before major.minor
    const arma::vec& w = read.latency->coefficients;
    ASSERT_EQ(w.n_elem, latency_coefficient_names().size());
    // What the file's model costed those quantities with when it was written: generic depthwise
    // kernels and the depthwise GEMM pass as the other taps, small batches as large ones,
    // grouped convolutions as the rest, the rest nothing.
    EXPECT_EQ(w(12), 0.0);
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
    for (arma::uword i = 0; i + lacking + 1 < w.n_elem; ++i) EXPECT_EQ(w(i), m.latency->coefficients(i)) << i;
    P4sModel as_read = on;
    as_read.latency->coefficients = w;
    if (lacking >= 2) as_read.latency->small_batch_below = 0;
    for (int64_t batch : {1, 8, 100})
      EXPECT_EQ(*read.predict(a, batch, results::Target::kLatencyMs), *as_read.predict(a, batch, results::Target::kLatencyMs));
    // What the lacking coefficients cost: a small batch's extra work, the work at a large
    // batch, the dispatch at a small one.
    const int64_t shows = lacking == 2 ? 8 : lacking <= 5 ? 100 : 1;
    EXPECT_GT(*on.predict(a, shows, results::Target::kLatencyMs), *as_read.predict(a, shows, results::Target::kLatencyMs) + 1.0)
        << lacking;
  }
}

// Grouped convolutions cost their own rate per FLOP where the data has them (ResNeXt's shapes
// run other oneDNN kernels than one-group ones); without them, the rate of the rest.
TEST(P4sModel, GroupedConvolutionsGetTheirOwnRateOnlyWhereTheDataHasThem) {
  modelgen::NetworkLibrary library;
  const std::vector<const modelgen::ResolvedNet*> nets{&library.get("resnet18_cifar10"), &library.get("vgg11bn_cifar10_p30_s1"),
                                             &library.add(grouped_net("grouped_4", 4), "test"),
                                             &library.add(grouped_net("grouped_8", 8), "test")};
  sim::DeviceRuntime cpu;
  cpu.kind = sim::DeviceKind::kCpu;
  sim::AnalysisCache cache;
  std::vector<Observation> with, without;
  for (const modelgen::ResolvedNet* net : nets) {
    const sim::NetworkAnalysis& a = cache.get(*net, cpu);
    for (int64_t batch : {16, 32, 64, 128}) {  // oneDNN's path throughout: no BLAS convolutions
      double t = 2.0;
      for (const sim::LayerCost& c : a.layer_costs())
        t += 0.01 * c.ops + 1e-9 * (c.tile_flops + c.linear_flops) * batch + 5e-9 * c.grouped_flops * batch +
             2e-8 * (c.bytes * batch + c.fixed_bytes);
      Observation o;
      o.net = net;
      o.family = modelgen::family_of(net->spec.name);
      o.batch = batch;
      o.values.latency_ms = t;
      with.push_back(o);
      if (net->spec.name.rfind("grouped", 0) != 0) without.push_back(o);
    }
  }
  const P4sModel m = train_p4s_model(test::pointers(with), {}, {cpu}, cache);
  ASSERT_TRUE(m.latency);
  EXPECT_NEAR(m.latency->coefficients(2), 1e-9, 1e-12);
  EXPECT_NEAR(m.latency->coefficients(9), 5e-9, 1e-11);
  const P4sModel dense = train_p4s_model(test::pointers(without), {}, {cpu}, cache);
  ASSERT_TRUE(dense.latency);
  EXPECT_NEAR(dense.latency->coefficients(2), 1e-9, 1e-12);
  EXPECT_EQ(dense.latency->coefficients(9), dense.latency->coefficients(2));
}

}  // namespace
}  // namespace p4s::predictors
