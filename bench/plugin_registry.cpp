#include "bench/plugin_registry.hpp"

#include <benchmark/benchmark.h>
#include <errno.h>  // program_invocation_short_name (GNU)

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <utility>

#include "bench/sweep.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/module_training_step.hpp"
#include "modelgen/torch/torchscript_import.hpp"
#include "results_format/format.hpp"

namespace p4s::bench {

// A registered network: a NetSpec one (`net` set) or a module (`module` set), and how its
// cases run.
struct PluginRegistry::Entry {
  std::string name;
  std::string source;
  std::shared_ptr<const BenchNet> net;
  std::shared_ptr<const ModuleNet> module;
  NetCases cases;
};

namespace {

// What is known of a module as a NetSpec, found once per run where needed (the flops counter,
// --p4s_netspec_out) and shared by its cases.
struct Description {
  std::optional<modelgen::NetSpec> spec;
  std::optional<modelgen::ShapedNet> shapes;
  std::string why_not;  // when spec is absent
};

Description describe(const ModuleNet& net) {
  Description d;
  try {
    d.spec = describe_module(net);
    d.shapes = modelgen::infer_shapes(*d.spec, net.name);
  } catch (const std::exception& e) {
    d.spec.reset();
    d.why_not = e.what();
  }
  return d;
}

void check_batches(const std::vector<int64_t>& batches, const std::string& source) {
  for (int64_t b : batches)
    if (b < 1) throw InputError(source, "batches", "batch size " + std::to_string(b) + " is below 1");
}

PreparedCase module_case(const std::shared_ptr<const ModuleNet>& net, const std::shared_ptr<const Description>& d,
                         int64_t batch, const c10::Device& device, const results::Recipe& recipe,
                         const modelgen_torch::LossFn& loss, std::string name) {
  PreparedCase p;
  // Built here to count its parameters; the case's build takes this very module.
  auto module = std::make_shared<torch::nn::AnyModule>(net->factory());
  if (module->is_empty()) throw InputError(net->name, "factory", "returned an empty module");
  p.params = modelgen_torch::parameter_count(*module->ptr());
  if (d->shapes) {
    p.flops = d->shapes->training_flops(batch);
  } else {
    p.flops.reset();
  }
  p.name = std::move(name);
  p.build = [net, module, batch, device, recipe, loss]() -> Step {
    auto step = std::make_shared<modelgen_torch::ModuleTrainingStep>(std::move(*module), net->input, net->classes,
                                                                     batch, device, net->name, recipe, loss);
    return [step] { step->run(); };
  };
  return p;
}

}  // namespace

modelgen::NetSpec describe_module(const ModuleNet& net) {
  torch::nn::AnyModule module = net.factory();
  if (module.is_empty()) throw InputError(net.name, "factory", "returned an empty module");
  modelgen_torch::ImportOptions options;
  options.input = net.input;
  options.name = net.name;
  return modelgen_torch::import_traced_module(module, net.name, options);
}

void PluginRegistry::check_new_name(const std::string& name, const std::string& source) const {
  if (name.empty()) throw InputError(source, "name", "is empty");
  for (char c : name)
    if (c == '/' || c == ' ' || c == '\t' || c == '\n')
      throw InputError(source, "name", "\"" + printable(name) + "\" cannot name a case (no '/' or spaces)");
  for (const auto& e : nets_)
    if (e->name == name) throw InputError(source, "name", "\"" + name + "\" is already the name of " + e->source);
}

void PluginRegistry::add_netspec(modelgen::NetSpec spec, const std::string& source, NetCases cases) {
  check_new_name(spec.name, source);
  check_batches(cases.batches, source);
  modelgen::ShapedNet shapes = modelgen::infer_shapes(spec, source);
  auto e = std::make_shared<Entry>();
  e->name = spec.name;
  e->source = source;
  e->net = std::make_shared<const BenchNet>(BenchNet{std::move(spec), std::move(shapes), source, {}});
  e->cases = std::move(cases);
  nets_.push_back(std::move(e));
}

void PluginRegistry::add_module(ModuleNet net, NetCases cases) {
  const std::string source = "module " + net.name;
  check_new_name(net.name, source);
  check_batches(cases.batches, source);
  if (!net.factory) throw InputError(source, "factory", "is empty");
  if (net.input.channels < 1 || net.input.height < 1 || net.input.width < 1)
    throw InputError(source, "input", "sizes must be at least 1, got " + std::to_string(net.input.channels) + "x" +
                                          std::to_string(net.input.height) + "x" + std::to_string(net.input.width));
  if (net.classes < 1) throw InputError(source, "classes", "must be at least 1, got " + std::to_string(net.classes));
  auto e = std::make_shared<Entry>();
  e->name = net.name;
  e->source = source;
  e->module = std::make_shared<const ModuleNet>(std::move(net));
  e->cases = std::move(cases);
  nets_.push_back(std::move(e));
}

void PluginRegistry::add_layer_sweep(const std::string& sweep) {
  if (!is_sweep_name(sweep))
    throw InputError("RegisterLayerCases", "sweep", "\"" + sweep + "\" is not a sweep (" + sweep_names_text() + ")");
  if (std::find(sweeps_.begin(), sweeps_.end(), sweep) == sweeps_.end()) sweeps_.push_back(sweep);
}

RegisteredCases PluginRegistry::register_pending(const PluginRun& run, const std::set<std::string>& skip) {
  RegisteredCases out;
  const RunSettings& settings = run.settings;
  if (run.netspec_out) {
    std::error_code ec;
    std::filesystem::create_directories(*run.netspec_out, ec);
    if (ec) throw InputError("--p4s_netspec_out=" + *run.netspec_out, "", "cannot make the folder: " + ec.message());
  }
  for (; registered_sweeps_ < sweeps_.size(); ++registered_sweeps_) {
    Sweep layers_only = sweep_preset(sweeps_[registered_sweeps_]);
    layers_only.networks.clear();
    layers_only.recipes.clear();
    RegisteredCases r = register_cases(layers_only, {}, {}, settings, skip);
    out.registered.insert(out.registered.end(), r.registered.begin(), r.registered.end());
    out.skipped.insert(out.skipped.end(), r.skipped.begin(), r.skipped.end());
  }
  for (; registered_nets_ < nets_.size(); ++registered_nets_) {
    const std::shared_ptr<const Entry> e = nets_[registered_nets_];
    const results::Recipe recipe = e->cases.recipe.value_or(settings.recipe);
    if (recipe.precision == results::Precision::kFp16 && settings.device.is_cpu())
      throw InputError(e->source, "recipe", "fp16 (float16 autocast with a gradient scaler) runs on CUDA only; on the CPU use bf16");
    std::string parts;
    for (const std::string& part : results::recipe_name_parts(recipe, settings.recipe)) parts += "/" + part;
    std::shared_ptr<const Description> description;
    if (e->module) {
      description = std::make_shared<const Description>(describe(*e->module));
      if (!description->spec)
        std::cerr << program_invocation_short_name << ": " << e->name << ": no NetSpec (" << description->why_not
                  << "): its cases have no flops counter, and p4s cannot predict it\n";
    }
    if (run.netspec_out) {
      const std::string path = (std::filesystem::path(*run.netspec_out) / (e->name + ".json")).string();
      if (e->net) modelgen::write_netspec(e->net->spec, path);
      else if (description->spec) modelgen::write_netspec(*description->spec, path);
    }
    for (int64_t batch : e->cases.batches.empty() ? run.default_batches : e->cases.batches) {
      const std::string name = results::net_case_name(e->name, batch) + parts;
      if (skip.count(name)) {
        out.skipped.push_back(name);
        continue;
      }
      out.registered.push_back(name);
      auto* b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
        run_case(state, [&] {
          return e->net ? net_case(e->net, batch, settings.device, recipe, name, e->cases.loss)
                        : module_case(e->module, description, batch, settings.device, recipe, e->cases.loss, name);
        }, settings);
      });
      b->UseManualTime()->Unit(benchmark::kMillisecond);
    }
  }
  return out;
}

}  // namespace p4s::bench
