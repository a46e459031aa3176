// How long predictions take: Google Benchmark cases over a fitted model (by default the TX2
// model under results/). Analysis/<net>: analysing a network (simulation envelope, cost
// terms), done once per network; Predict/<target>/<net>: one prediction at one batch size
// through the Predictor interface once the network's analysis (and, for mem_reserved, that
// batch's allocator replay) is kept by the predictor.
//   p4s_predict_benchmark [--p4s_model=MODEL.json] [Google Benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "modelgen/network_library.hpp"
#include "predictors/model_file.hpp"
#include "sim/network_analysis.hpp"

namespace {

using namespace p4s;

const char* const kNets[] = {"resnet18", "mobilenetv2", "squeezenet1.0", "resnet50_p50_s1", "vgg16bn"};
constexpr int64_t kBatch = 32;

}  // namespace

int main(int argc, char** argv) {
  std::string model_path = P4S_DEFAULT_MODEL;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--p4s_model=", 12) == 0)
      model_path = argv[i] + 12;
    else
      rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 2;

  static predictors::ModelFile model;
  try {
    model = predictors::read_model(model_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "p4s_predict_benchmark: %s\n", e.what());
    return 2;
  }
  const sim::DeviceRuntime* runtime = model.predictor->runtime();
  if (!runtime) {
    std::fprintf(stderr, "p4s_predict_benchmark: %s: not a model that simulates a step\n", model_path.c_str());
    return 2;
  }
  static modelgen::NetworkLibrary library;
  for (const char* name : kNets) {
    const modelgen::ResolvedNet& net = library.get(name);
    benchmark::RegisterBenchmark(("Analysis/" + net.spec.name).c_str(), [&net, runtime](benchmark::State& state) {
      for (auto _ : state) {
        sim::NetworkAnalysis a(net, *runtime);
        benchmark::DoNotOptimize(a.sim_peak_bytes(kBatch));
      }
    })->Unit(benchmark::kMillisecond);
    for (results::Target t : model.targets()) {
      benchmark::RegisterBenchmark(
          (std::string("Predict/") + results::target_name(t) + "/" + net.spec.name + "/bs:" + std::to_string(kBatch)).c_str(),
          [&net, t](benchmark::State& state) {
            const predictors::Predictor& p = *model.predictor;
            benchmark::DoNotOptimize(p.predict(net, kBatch, t));  // warms the network's and this batch's caches
            for (auto _ : state) benchmark::DoNotOptimize(p.predict(net, kBatch, t));
          })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::AddCustomContext("p4s_model", model_path);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
