// The bench executable: Google Benchmark's main, with our flags parsed first and our cases
// registered at run time. Exit status: 0 success, 2 bad input (one line on stderr), 1 else.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/benchmark_args.hpp"
#include "bench/case_limits.hpp"
#include "bench/checkpoint_reporter.hpp"
#include "bench/context.hpp"
#include "bench/cpu_malloc.hpp"
#include "bench/cuda_device.hpp"
#include "bench/device.hpp"
#include "bench/device_memory_meter.hpp"
#include "bench/display_reporter.hpp"
#include "bench/kernel_counters.hpp"
#include "bench/mem_alloc.hpp"
#include "bench/memory_meter.hpp"
#include "bench/networks.hpp"
#include "bench/options.hpp"
#include "bench/registration.hpp"
#include "bench/run_case.hpp"
#include "bench/step_timer.hpp"
#include "bench/sweep.hpp"
#include "cupti/kernel_capture.hpp"
#include "cupti/kernel_trace.hpp"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitFailure = 1;

using namespace p4s::bench;

// The folder a file is to be written in must exist before a long run starts, and the file must
// not be a folder.
void check_output_folder(const std::string& flag, const std::string& path) {
  if (std::filesystem::is_directory(path)) throw OptionError(flag + "=" + path + ": is a folder, not a file");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw OptionError(flag + "=" + path + ": the folder " + parent.string() + " does not exist");
}

// Kernel capture for the run: started where asked for and possible. `line` says whether it
// runs, and if not why, in one line ("kernel capture on: ..." / "kernel capture off: ...").
struct Capture {
  std::optional<p4s::cupti::KernelCapture> capture;  // set and started when on
  std::string line;
};

Capture start_capture(const Options& options, const ResolvedDevice& device) {
  Capture c;
  if (!options.kernel_capture) {
    c.line = "kernel capture off: --p4s_kernel_capture=off";
    return c;
  }
  p4s::cupti::KernelCapture capture = p4s::cupti::KernelCapture::with_cupti();
  if (!capture.available()) {
    c.line = capture.availability().line();  // why CUPTI cannot run here
  } else if (!device.cuda()) {
    c.line = "kernel capture off: the cases run on the CPU (--p4s_device=cpu)";
  } else if (const p4s::cupti::Status s = capture.start(); !s) {
    c.line = "kernel capture off: cannot start it: " + s.message;
  } else {
    c.line = capture.availability().line();
    c.capture.emplace(std::move(capture));
  }
  return c;
}

int run(int argc, char** argv) {
  // First, so that every CPU tensor of the run is tracked.
  CpuAllocationTracker& tracker = CpuAllocationTracker::install();

  ParsedArgs parsed;
  BenchmarkArgs user_gb;
  std::vector<BenchNet> nets;
  ResolvedDevice device;
  std::unique_ptr<CudaDevice> cuda;
  std::optional<double> memory_fraction;
  try {
    parsed = parse_args(std::vector<std::string>(argv, argv + argc));
    if (parsed.rest.empty()) parsed.rest.push_back("bench");  // argc == 0
    user_gb = check_benchmark_args(std::vector<std::string>(parsed.rest.begin() + 1, parsed.rest.end()),
                                   benchmark_environment());
    nets = load_networks(parsed.options);
    {
      const std::vector<int64_t> fallback =
          parsed.options.net_batches.value_or(sweep_preset(parsed.options.sweep).net_batches);
      const std::string flag = parsed.options.net_batches ? "--p4s_batch" : "--p4s_sweep=" + parsed.options.sweep;
      for (const BenchNet& net : nets) check_network_batches({net}, net.batches.empty() ? fallback : net.batches, flag);
    }
    if (parsed.options.kernel_trace_path)
      check_output_folder("--p4s_kernel_trace", *parsed.options.kernel_trace_path);
    device = resolve_device(parsed.options.device, cuda_status());
    if (device.cuda()) {
      cuda = CudaDevice::open(device.index);
      if (parsed.options.mem_limit_bytes)
        memory_fraction = memory_fraction_for_limit(*parsed.options.mem_limit_bytes, cuda->total_memory_bytes());
    }
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
  gb_args.insert(gb_args.begin(), parsed.rest.front());
  gb_args.insert(gb_args.end(), user_gb.args.begin(), user_gb.args.end());
  std::vector<char*> gb_argv;
  for (std::string& arg : gb_args) gb_argv.push_back(arg.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  gb_argv.push_back(nullptr);
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (gb_argc > 1) {
    // What Google Benchmark did not take: one line for all of it.
    std::cerr << "bench: " << gb_argv[1] << ": unknown argument"
              << (gb_argc > 2 ? " (and " + std::to_string(gb_argc - 2) + " more)" : std::string())
              << " (see --help)\n";
    return kExitBadInput;
  }

  if (options.threads) at::set_num_threads(*options.threads);
  ContextInputs context = read_machine_context();
  context.device = device.name();
  context.sweep = sweep.name;
  context.mem_limit_bytes = options.mem_limit_bytes;

  // The measuring seams of the device.
  std::unique_ptr<CpuMemoryMeter> cpu_meter;
  std::unique_ptr<DeviceMemoryMeter> gpu_meter;
  SteadyClockTimer steady_timer;
  RunSettings settings;
  settings.warmup_steps = sweep.warmup_steps;
  if (cuda) {
    if (memory_fraction) cuda->set_memory_fraction(*memory_fraction);
    gpu_meter = std::make_unique<DeviceMemoryMeter>(cuda->memory());
    settings.meter = gpu_meter.get();
    settings.timer = &cuda->timer();
    settings.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(cuda->index()));
    context.gpu = cuda->info();
    context.mem_used_method = DeviceMemoryMeter::mem_used_method();
    context.allocator_protocol = DeviceMemoryMeter::allocator_protocol();
    context.mem_limit_method =
        "caching allocator memory fraction (setMemoryFraction): caps the bytes it reserves";
  } else {
    try {
      context.cpu_malloc = configure_cpu_malloc(options.cpu_malloc_steady);
    } catch (const std::runtime_error& e) {
      std::cerr << "bench: " << e.what() << "\n";
      return kExitBadInput;
    }
    tracker.set_limit_bytes(options.mem_limit_bytes);
    cpu_meter = std::make_unique<CpuMemoryMeter>(tracker);
    if (!cpu_meter->peak_reset_error().empty())
      std::cerr << "bench: cannot reset the peak resident memory (/proc/self/clear_refs: "
                << cpu_meter->peak_reset_error()
                << "); mem_used is the largest VmRSS after each step, a lower bound of the peak\n";
    settings.meter = cpu_meter.get();
    settings.timer = &steady_timer;
    context.mem_used_method = cpu_meter->mem_used_method();
    context.mem_limit_method = "CPU tensor allocations beyond the live bytes refused";
  }

  // Kernel capture: started before the first case is built, so that CUPTI sees its memory.
  Capture capture = start_capture(options, device);
  context.kernel_capture = capture.line;
  std::unique_ptr<KernelCounterObserver> observer;
  if (capture.capture) {
    KernelCounterOptions counter_options;
    counter_options.keep_trace = options.kernel_trace_path.has_value();
    observer = std::make_unique<KernelCounterObserver>(*capture.capture, [&cuda] { cuda->synchronize(); },
                                                       counter_options);
    settings.observer = observer.get();
  }

  for (const auto& [key, value] : make_context(context)) benchmark::AddCustomContext(key, value);
  register_cases(sweep, nets, options.net_batches.value_or(sweep.net_batches), settings);
  // The JSON results are rewritten after every case, so that a killed sweep leaves them valid.
  DisplayReporter display;
  display.say_at_start("bench: " + capture.line);  // said once cases run
  std::optional<CheckpointingJsonReporter> results;
  if (user_gb.json_out)
    results.emplace(*user_gb.json_out, [](const std::string& error) {
      std::cerr << "bench: " << error << "; the run goes on, the next case's checkpoint tries again\n";
    });
  const size_t selected = benchmark::RunSpecifiedBenchmarks(&display, results ? &*results : nullptr);
  benchmark::Shutdown();
  if (selected == 0) {
    // Google Benchmark selected no case (a filter that matches none, or is no regular
    // expression) and ran nothing.
    const std::string why = display.selection_error();
    std::cerr << "bench: --benchmark_filter=" << user_gb.filter.value_or(".") << ": "
              << (why.empty() ? "selects no case" : why) << "\n";
    return kExitBadInput;
  }
  if (results && results->error()) {
    // The final write failed (the checkpoint before it, if any, is on disk).
    std::cerr << "bench: " << *results->error() << "\n";
    return kExitFailure;
  }

  if (observer && observer->failed_marks() > 0)
    std::cerr << "bench: warning: " << observer->failed_marks() << " phase marks could not be recorded\n";
  if (options.kernel_trace_path) {
    p4s::cupti::KernelTrace trace = observer ? observer->trace() : p4s::cupti::KernelTrace{};
    trace.capture = capture.line;
    p4s::cupti::write_kernel_trace(*options.kernel_trace_path, trace);
  }
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
