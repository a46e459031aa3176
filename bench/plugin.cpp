// The public plugin API (include/perf4sight/benchmark.hpp) over the plugin registry and the
// suite's main.
#include "perf4sight/benchmark.hpp"

#include <iostream>
#include <utility>

#include "bench/main_run.hpp"
#include "bench/plugin_registry.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"

// Defined (as 1) by P4S_BENCHMARK_MAIN(); constant-initialised, so that it is seen before any
// static object is constructed. Absent otherwise: a weak reference then has the address null.
extern "C" const int p4s_plugin_main_is_defined __attribute__((weak));

namespace perf4sight {
namespace {

p4s::bench::PluginRegistry& registry() {
  static auto* const r = new p4s::bench::PluginRegistry;  // never destroyed: benchmarks point into it
  return *r;
}

bool plugin_main_defined() { return &p4s_plugin_main_is_defined != nullptr; }

// Whether registrations went to Google Benchmark at once, set up with the defaults.
bool registered_with_defaults = false;

// After a registration: without the plugin's main, nothing else will register it with Google
// Benchmark, so it is registered now, set up with the defaults of the flags.
void settle() {
  if (plugin_main_defined()) return;
  registry().register_pending(p4s::bench::default_plugin_run());
  registered_with_defaults = true;
}

p4s::modelgen::InputSpec input_spec(ImageInput in) { return {in.channels, in.height, in.width}; }

p4s::bench::NetCases cases_of(const CaseOptions& options) { return {options.batches, options.recipe, options.loss}; }

}  // namespace

void RegisterNetSpec(const NetSpec& spec, const CaseOptions& options) {
  registry().add_netspec(spec, "NetSpec " + spec.name, cases_of(options));
  settle();
}

void RegisterNetSpecFile(const std::string& path, const CaseOptions& options) {
  registry().add_netspec(p4s::modelgen::read_netspec(path), path, cases_of(options));
  settle();
}

void RegisterBuiltinNet(const std::string& name, const CaseOptions& options) {
  const std::string source = "built-in network " + name;
  NetSpec spec;
  try {
    spec = p4s::modelgen::make_builtin_network(name);
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  registry().add_netspec(std::move(spec), source, cases_of(options));
  settle();
}

void RegisterModule(const std::string& name, ModuleFactory factory, ImageInput input, int64_t classes,
                    const CaseOptions& options) {
  registry().add_module(p4s::bench::ModuleNet{name, std::move(factory), input_spec(input), classes}, cases_of(options));
  settle();
}

void RegisterLayerCases(const std::string& sweep) {
  registry().add_layer_sweep(sweep);
  settle();
}

NetSpec DescribeModule(const std::string& name, const ModuleFactory& factory, ImageInput input) {
  if (!factory) throw InputError("module " + name, "factory", "is empty");
  return p4s::bench::describe_module(p4s::bench::ModuleNet{name, factory, input_spec(input), 0});
}

int Main(int argc, char** argv) {
  if (registered_with_defaults) {
    std::cerr << (argc > 0 && argv[0] ? argv[0] : "perf4sight")
              << ": cases were registered before perf4sight::Main with the flags' defaults: define main with "
                 "P4S_BENCHMARK_MAIN(), which keeps them for the --p4s_ flags\n";
    return 2;
  }
  p4s::bench::MainConfig config;
  config.default_sweep = "none";
  config.registry = &registry();
  return p4s::bench::run_main(argc, argv, config);
}

}  // namespace perf4sight
