// The bench executable: Google Benchmark's main, with our flags parsed first and our cases
// registered at run time. Exit status: 0 success, 2 bad input (one line on stderr), 1 else.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "bench/context.hpp"
#include "bench/mem_alloc.hpp"
#include "bench/memory_meter.hpp"
#include "bench/networks.hpp"
#include "bench/options.hpp"
#include "bench/registration.hpp"
#include "bench/run_case.hpp"
#include "bench/step_timer.hpp"
#include "bench/sweep.hpp"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitFailure = 1;

int run(int argc, char** argv) {
  using namespace p4s::bench;
  // First, so that every CPU tensor of the run is tracked.
  CpuAllocationTracker& tracker = CpuAllocationTracker::install();

  ParsedArgs parsed;
  std::vector<BenchNet> nets;
  try {
    parsed = parse_args(std::vector<std::string>(argv, argv + argc));
    nets = load_networks(parsed.options);
  } catch (const OptionError& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const NetworkError& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return kExitBadInput;
  }
  const Options& options = parsed.options;
  const Sweep sweep = sweep_preset(options.sweep);
  for (const std::string& arg : parsed.rest)
    if (arg == "--help") std::cout << options_help() << "\n";

  // Google Benchmark's flags: the sweep's first, then the user's, which override them.
  // Google Benchmark exits itself for --help.
  std::vector<std::string> gb_args = benchmark_flags(sweep);
  if (parsed.rest.empty()) parsed.rest.push_back("bench");  // argc == 0
  gb_args.insert(gb_args.begin(), parsed.rest.front());
  gb_args.insert(gb_args.end(), parsed.rest.begin() + 1, parsed.rest.end());
  std::vector<char*> gb_argv;
  for (std::string& arg : gb_args) gb_argv.push_back(arg.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  gb_argv.push_back(nullptr);
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return kExitBadInput;

  tracker.set_limit_bytes(options.mem_limit_bytes);
  if (options.threads) at::set_num_threads(*options.threads);
  CpuMemoryMeter meter(tracker);
  if (!meter.peak_reset_error().empty())
    std::cerr << "bench: cannot reset the peak resident memory (/proc/self/clear_refs: "
              << meter.peak_reset_error()
              << "); mem_used is the largest VmRSS after each step, a lower bound of the peak\n";
  SteadyClockTimer timer;

  ContextInputs context = read_machine_context();
  context.sweep = sweep.name;
  context.mem_limit_bytes = options.mem_limit_bytes;
  context.mem_used_method = meter.mem_used_method();
  for (const auto& [key, value] : make_context(context)) benchmark::AddCustomContext(key, value);

  RunSettings settings;
  settings.warmup_steps = sweep.warmup_steps;
  settings.meter = &meter;
  settings.timer = &timer;
  register_cases(sweep, nets, options.net_batches.value_or(sweep.net_batches), settings);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return kExitFailure;
  }
}
