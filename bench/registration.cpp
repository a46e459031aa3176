#include "bench/registration.hpp"

#include <c10/core/Device.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "modelgen/torch/training_step.hpp"
#include "results_format/format.hpp"

namespace p4s::bench {
namespace {

// What every case shares: manual time (the StepTimer's) in milliseconds. The sweep's minimum
// time and repetitions come as Google Benchmark flags (benchmark_flags), so that names stay
// free of their suffixes.
void configure(benchmark::internal::Benchmark* b) {
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}

// A layer case trains its one layer: the recipe's optimizer and precision, no frozen part.
results::Recipe layer_recipe(results::Recipe r) {
  r.train_from.clear();
  r.freeze_bn = false;
  return r;
}

// One family per shape (its batch sizes are the family's argument sets): Google Benchmark
// warns about families of more than 100 argument sets, and names do not depend on families.
// The shape says its kind (the activations' shapes share one type).
// Whether a case is to be left out; notes it as skipped or registered.
struct Skipping {
  const std::set<std::string>& skip;
  RegisteredCases& out;
  bool operator()(const std::string& case_name) const {
    const bool skipped = skip.count(case_name) != 0;
    (skipped ? out.skipped : out.registered).push_back(case_name);
    return skipped;
  }
};

template <typename Shape>
void register_layer_kind(const std::vector<Shape>& shapes, const Sweep& sweep, const RunSettings& settings,
                         const Skipping& skipping) {
  if (sweep.layer_batches.empty()) return;
  for (const Shape& shape : shapes) {
    const LayerKind kind = results::kind_of(shape);
    std::vector<int64_t> batches;
    for (int64_t batch : sweep.layer_batches)
      if (!skipping(layer_case_name(kind, case_args(shape, batch)))) batches.push_back(batch);
    if (batches.empty()) continue;  // a benchmark without argument sets would run once without them
    const std::string name(layer_kind_name(kind));
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [kind, settings](benchmark::State& state) {
      run_case(state, [&state, kind, device = settings.device, recipe = layer_recipe(settings.recipe)] {
        std::vector<int64_t> args(layer_arg_names(kind).size());
        for (size_t i = 0; i < args.size(); ++i) args[i] = state.range(static_cast<int>(i));
        const LayerCase c = make_layer_case(kind, args);
        PreparedCase p;
        p.params = c.params;
        p.flops = c.flops;
        p.name = layer_case_name(kind, args);
        p.build = [c, device, recipe]() -> Step {
          auto step = std::make_shared<modelgen_torch::LayerTrainingStep>(c.layers, c.input, c.batch, device, recipe);
          return [step] { step->run(); };
        };
        return p;
      }, settings);
    });
    b->ArgNames(layer_arg_names(kind));
    for (int64_t batch : batches) b->Args(case_args(shape, batch));
    configure(b);
  }
}


// The sweep's own recipes, each on its networks (those loaded) at its batch sizes, one
// benchmark per case: Google Benchmark puts arguments last, and the recipe's parts follow the
// batch.
void register_sweep_recipes(const Sweep& sweep, const std::vector<BenchNet>& nets, const RunSettings& settings,
                            const Skipping& skipping) {
  for (const SweepRecipe& sr : sweep.recipes)
    for (const std::string& name : sr.networks) {
      auto it = std::find_if(nets.begin(), nets.end(), [&](const BenchNet& n) { return n.spec.name == name; });
      if (it == nets.end()) continue;
      auto shared = std::make_shared<const BenchNet>(*it);
      results::Recipe recipe = sr.recipe;
      if (sr.train_from_share > 0) recipe.train_from = train_from_at_share(shared->spec, sr.train_from_share);
      std::string parts;
      for (const std::string& part : results::recipe_name_parts(recipe, settings.recipe)) parts += "/" + part;
      for (int64_t batch : sr.batches) {
        const std::string case_name = results::net_case_name(name, batch) + parts;
        if (skipping(case_name)) continue;
        auto* b = benchmark::RegisterBenchmark(case_name.c_str(), [=](benchmark::State& state) {
          run_case(state, [=] { return net_case(shared, batch, settings.device, recipe, case_name); }, settings);
        });
        configure(b);
      }
    }
}

}  // namespace

PreparedCase net_case(const std::shared_ptr<const BenchNet>& net, int64_t batch, const c10::Device& device,
                      const results::Recipe& recipe, std::string name, modelgen_torch::LossFn loss) {
  PreparedCase p;
  p.params = net->shapes.params;
  p.flops = net->shapes.training_flops(batch);
  p.name = std::move(name);
  p.build = [net, batch, device, recipe, loss = std::move(loss)]() -> Step {
    auto step = std::make_shared<modelgen_torch::TrainingStep>(net->spec, batch, device, net->source, recipe, loss);
    return [step] { step->run(); };
  };
  return p;
}

RegisteredCases register_cases(const Sweep& sweep, const std::vector<BenchNet>& nets,
                               const std::vector<int64_t>& net_batches, const RunSettings& settings,
                               const std::set<std::string>& skip) {
  RegisteredCases out;
  const Skipping skipping{skip, out};
  register_layer_kind(sweep.conv2d, sweep, settings, skipping);
  register_layer_kind(sweep.linear, sweep, settings, skipping);
  register_layer_kind(sweep.batchnorm2d, sweep, settings, skipping);
  register_layer_kind(sweep.activation, sweep, settings, skipping);
  register_layer_kind(sweep.layernorm2d, sweep, settings, skipping);
  register_layer_kind(sweep.channel_shuffle, sweep, settings, skipping);
  register_layer_kind(sweep.squeeze_excitation, sweep, settings, skipping);

  for (const BenchNet& net : nets) {
    std::vector<int64_t> batches;
    for (int64_t batch : net.batches.empty() ? net_batches : net.batches)
      if (!skipping(results::net_case_name(net.spec.name, batch))) batches.push_back(batch);
    if (batches.empty()) continue;
    auto shared = std::make_shared<const BenchNet>(net);
    auto* b = benchmark::RegisterBenchmark(
        results::net_case_family(net.spec.name).c_str(), [shared, settings](benchmark::State& state) {
          run_case(state, [&state, shared, device = settings.device, recipe = settings.recipe] {
            const int64_t batch = state.range(0);
            return net_case(shared, batch, device, recipe, results::net_case_name(shared->spec.name, batch));
          }, settings);
        });
    b->ArgName(results::kBatchArg);
    for (int64_t batch : batches) b->Arg(batch);
    configure(b);
  }
  // The sweep's other recipes measure against the default step, not against a recipe the run
  // was asked for.
  if (settings.recipe == results::default_recipe()) register_sweep_recipes(sweep, nets, settings, skipping);
  return out;
}

}  // namespace p4s::bench
