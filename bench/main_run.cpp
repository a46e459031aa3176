#include "bench/main_run.hpp"

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <set>

#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
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
#include "common/number_text.hpp"
#include "modelgen/netspec_io.hpp"
#include "cupti/kernel_capture.hpp"
#include "cupti/kernel_trace.hpp"
#include "sweep_guard/case_progress.hpp"
#include "sweep_guard/device_state.hpp"
#include "sweep_guard/prior_results.hpp"
#include "sweep_guard/supervisor.hpp"
#include "sweep_guard/sweep_progress.hpp"

namespace p4s::bench {
namespace {

constexpr int kExitBadInput = 2;

// What messages start with: the program's name and ": ".
std::string g_prefix = "bench: ";

std::string program_name(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr || argv[0][0] == '\0') return "bench";
  return std::filesystem::path(argv[0]).filename().string();
}
constexpr int kExitFailure = 1;

using p4s::InputError;

// The folder a file is to be written in must exist before a long run starts, and the file must
// not be a folder.
void check_output_folder(const std::string& flag, const std::string& path) {
  if (std::filesystem::is_directory(path)) throw InputError(flag + "=" + path + ": is a folder, not a file");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw InputError(flag + "=" + path + ": the folder " + parent.string() + " does not exist");
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

// What the run is asked to do, and on what: read and checked before anything long starts.
struct Inputs {
  ParsedArgs parsed;
  BenchmarkArgs user_gb;                  // the user's Google Benchmark flags
  std::vector<BenchNet> nets;
  ResolvedDevice device;
  std::unique_ptr<CudaDevice> cuda;       // open when the device is CUDA
  std::optional<double> memory_fraction;  // --p4s_mem_limit as a share of the GPU
};

// Every network at every batch it runs at (its own, else --p4s_batch's or the sweep's) must
// fit in 64 bits.
void check_batches(const Options& options, const std::vector<BenchNet>& nets) {
  const std::vector<int64_t> fallback = options.net_batches.value_or(sweep_preset(options.sweep).net_batches);
  const std::string flag = options.net_batches ? "--p4s_batch" : "--p4s_sweep=" + options.sweep;
  for (const BenchNet& net : nets) check_network_batches({net}, net.batches.empty() ? fallback : net.batches, flag);
}

// --p4s_train_from: the networks without that layer are left out (said on stderr), so that a
// sweep's own networks need not have it; none having it is bad input.
void keep_networks_with_train_from(const Options& options, std::vector<BenchNet>& nets) {
  const std::string& layer = options.recipe.train_from;
  if (layer.empty()) return;
  std::vector<BenchNet> kept;
  std::string left_out;
  for (BenchNet& net : nets) {
    const auto& layers = net.spec.layers;
    if (std::any_of(layers.begin(), layers.end(), [&](const p4s::modelgen::Layer& l) { return l.name == layer; }))
      kept.push_back(std::move(net));
    else
      left_out += (left_out.empty() ? "" : ", ") + net.spec.name;
  }
  if (kept.empty()) throw InputError("--p4s_train_from=" + layer + ": no network has a layer of that name");
  if (!left_out.empty())
    std::cerr << g_prefix << "--p4s_train_from=" << layer << ": left out the networks without that layer: " << left_out
              << "\n";
  nets = std::move(kept);
}

// Parses and checks the flags, loads the networks and opens the device. Throws InputError or
// InputError for bad input.
Inputs read_inputs(int argc, char** argv, const std::string& default_sweep) {
  Inputs in;
  in.parsed = parse_args(std::vector<std::string>(argv, argv + argc));
  if (!in.parsed.options.sweep_given) in.parsed.options.sweep = default_sweep;
  if (in.parsed.rest.empty()) in.parsed.rest.push_back("bench");  // argc == 0
  in.user_gb = check_benchmark_args(std::vector<std::string>(in.parsed.rest.begin() + 1, in.parsed.rest.end()),
                                    benchmark_environment());
  const Options& options = in.parsed.options;
  in.nets = load_networks(options);
  check_batches(options, in.nets);
  keep_networks_with_train_from(options, in.nets);
  if (options.kernel_trace_path) check_output_folder("--p4s_kernel_trace", *options.kernel_trace_path);
  in.device = resolve_device(options.device, cuda_status());
  if (!in.device.cuda() && options.recipe.precision == p4s::results::Precision::kFp16)
    throw InputError("--p4s_precision=fp16: float16 autocast with a gradient scaler runs on CUDA only; on the "
                     "CPU use bf16");
  if (in.device.cuda()) {
    in.cuda = CudaDevice::open(in.device.index);
    if (options.mem_limit_bytes)
      in.memory_fraction = memory_fraction_for_limit(*options.mem_limit_bytes, in.cuda->total_memory_bytes());
  }
  return in;
}

// Google Benchmark's command line. It keeps argv[0] (the executable named in the results), so
// this lives as long as the run.
struct BenchmarkCommandLine {
  std::vector<std::string> args;
  std::vector<char*> argv;
  int argc = 0;
};

// Initializes Google Benchmark with the sweep's flags, then the user's, which override them;
// false, said on stderr, when it leaves arguments it does not know. It exits itself for --help.
bool initialize_benchmark(const Inputs& in, const Sweep& sweep, BenchmarkCommandLine& gb) {
  gb.args = benchmark_flags(sweep);
  gb.args.insert(gb.args.begin(), in.parsed.rest.front());
  gb.args.insert(gb.args.end(), in.user_gb.args.begin(), in.user_gb.args.end());
  for (std::string& arg : gb.args) gb.argv.push_back(arg.data());
  gb.argc = static_cast<int>(gb.argv.size());
  gb.argv.push_back(nullptr);
  benchmark::Initialize(&gb.argc, gb.argv.data());
  if (gb.argc > 1) {
    // What Google Benchmark did not take: one line for all of it.
    std::cerr << g_prefix << gb.argv[1] << ": unknown argument"
              << (gb.argc > 2 ? " (and " + std::to_string(gb.argc - 2) + " more)" : std::string())
              << " (see --help)\n";
    return false;
  }
  return true;
}

// The measuring seams of the device, which `settings` points into.
struct Seams {
  std::unique_ptr<CpuMemoryMeter> cpu_meter;
  std::unique_ptr<DeviceMemoryMeter> gpu_meter;
  SteadyClockTimer steady_timer;
  RunSettings settings;
};

// Measures on the GPU (its caching allocator, its used memory, CUDA events), its caching
// allocator capped at memory_fraction when given.
void measure_on_cuda(CudaDevice& cuda, std::optional<double> memory_fraction, Seams& seams, ContextInputs& context) {
  if (memory_fraction) cuda.set_memory_fraction(*memory_fraction);
  seams.gpu_meter = std::make_unique<DeviceMemoryMeter>(cuda.memory());
  seams.settings.meter = seams.gpu_meter.get();
  seams.settings.timer = &cuda.timer();
  seams.settings.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(cuda.index()));
  context.gpu = cuda.info();
  context.mem_used_method = DeviceMemoryMeter::mem_used_method();
  context.allocator_protocol = DeviceMemoryMeter::allocator_protocol();
  context.mem_limit_method = "caching allocator memory fraction (setMemoryFraction): caps the bytes it reserves";
}

// Measures on the CPU: the tracked tensor allocations, the resident memory and the steady
// clock. False, said on stderr, when glibc's malloc cannot be set up as asked.
bool measure_on_cpu(const Options& options, CpuAllocationTracker& tracker, Seams& seams, ContextInputs& context) {
  try {
    context.cpu_malloc = configure_cpu_malloc(options.cpu_malloc_steady);
  } catch (const std::runtime_error& e) {
    std::cerr << g_prefix << e.what() << "\n";
    return false;
  }
  tracker.set_limit_bytes(options.mem_limit_bytes);
  seams.cpu_meter = std::make_unique<CpuMemoryMeter>(tracker);
  if (!seams.cpu_meter->peak_reset_error().empty())
    std::cerr << g_prefix << "cannot reset the peak resident memory (/proc/self/clear_refs: "
              << seams.cpu_meter->peak_reset_error()
              << "); mem_used is the largest VmRSS after each step, a lower bound of the peak\n";
  seams.settings.meter = seams.cpu_meter.get();
  seams.settings.timer = &seams.steady_timer;
  context.mem_used_method = seams.cpu_meter->mem_used_method();
  context.mem_limit_method = "CPU tensor allocations beyond the live bytes refused";
  return true;
}

// The observer that counts each step's kernels, when the capture runs; null otherwise.
std::unique_ptr<KernelCounterObserver> observe_kernels(Capture& capture, const Options& options,
                                                       std::unique_ptr<CudaDevice>& cuda) {
  if (!capture.capture) return nullptr;
  KernelCounterOptions counter_options;
  counter_options.keep_trace = options.kernel_trace_path.has_value();
  return std::make_unique<KernelCounterObserver>(*capture.capture, [&cuda] { cuda->synchronize(); }, counter_options);
}

// What a run adds to its results file besides Google Benchmark's text (--p4s_resume, the
// device's state at the end).
struct ResultsAdditions {
  std::vector<std::string> prior_entries;
  CheckpointingJsonReporter::ContextExtras context_extras;
  std::vector<std::string> skipped;  // cases not registered: the resumed file holds them
  size_t selected = 0;               // the cases the filter selects, for the progress lines
};

// How many of the cases Google Benchmark's filter selects (its regular expressions are POSIX
// extended ones, matched against the name with its "/manual_time"; a leading '-' negates the
// filter); 0 for a filter that is no regular expression.
size_t count_selected(const std::optional<std::string>& filter, const std::vector<std::string>& names) {
  std::string spec = filter.value_or(".");
  if (spec.empty() || spec == "all") spec = ".";
  const bool negative = spec[0] == '-';
  if (negative) spec.erase(0, 1);
  try {
    const std::regex re(spec, std::regex::extended | std::regex::nosubs);
    return static_cast<size_t>(std::count_if(names.begin(), names.end(), [&](const std::string& n) {
      return negative != std::regex_search(n + "/manual_time", re);
    }));
  } catch (const std::regex_error&) {
    return 0;
  }
}

// Runs the registered cases; the exit status: 0, 2 when the filter selects none, 1 when the
// JSON results cannot be written.
int run_cases(const BenchmarkArgs& user_gb, const std::string& capture_line, ResultsAdditions additions) {
  // The JSON results are rewritten after every case, so that a killed sweep leaves them valid.
  DisplayReporter display;
  display.say_at_start(g_prefix + capture_line);  // said once cases run
  const auto seconds = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  p4s::sweep_guard::SweepProgress progress(additions.selected, seconds());
  display.on_case_reported([&](const std::vector<benchmark::BenchmarkReporter::Run>& runs) {
    const std::string name = p4s::sweep_guard::case_name_of_run(runs.front().run_name.str());
    if (const auto line = progress.case_done(name, seconds())) std::cerr << g_prefix << *line << std::endl;
  });
  std::optional<CheckpointingJsonReporter> results;
  if (user_gb.json_out) {
    results.emplace(*user_gb.json_out, [](const std::string& error) {
      std::cerr << g_prefix << error << "; the run goes on, the next case's checkpoint tries again\n";
    });
    results->set_prior_entries(std::move(additions.prior_entries));
    results->set_context_extras(std::move(additions.context_extras));
  }
  const size_t selected = benchmark::RunSpecifiedBenchmarks(&display, results ? &*results : nullptr);
  benchmark::Shutdown();
  if (selected == 0 && count_selected(user_gb.filter, additions.skipped) > 0) {
    std::cerr << g_prefix << "--p4s_resume: every selected case is already in " << user_gb.json_out.value_or("")
              << "; nothing left to run\n";
    return 0;
  }
  if (selected == 0) {
    // Google Benchmark selected no case (a filter that matches none, or is no regular
    // expression) and ran nothing.
    const std::string why = display.selection_error();
    std::cerr << g_prefix << "--benchmark_filter=" << user_gb.filter.value_or(".") << ": "
              << (why.empty() ? "selects no case" : why) << "\n";
    return kExitBadInput;
  }
  if (results && results->error()) {
    // The final write failed (the checkpoint before it, if any, is on disk).
    std::cerr << g_prefix << *results->error() << "\n";
    return kExitFailure;
  }
  return 0;
}

// --p4s_isolate: the sweep runs in a child process, this one supervises it (sweep_guard/
// supervisor.hpp). nullopt when not asked for. Only the flags are read here: the supervisor
// loads no network and never touches the device; the child checks everything else.
std::optional<int> supervise_if_asked(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  const ParsedArgs parsed = parse_args(args);
  const Options& options = parsed.options;
  if (!options.isolate) return std::nullopt;
  const BenchmarkArgs gb = check_benchmark_args(
      std::vector<std::string>(parsed.rest.begin() + (parsed.rest.empty() ? 0 : 1), parsed.rest.end()),
      benchmark_environment());
  if (!gb.json_out)
    throw InputError(std::string(options.case_timeout_s ? "--p4s_case_timeout" : "--p4s_isolate") +
                     ": needs a JSON results file (--benchmark_out=FILE), which the sweep resumes into after its "
                     "process dies");
  p4s::sweep_guard::SupervisorOptions s;
  s.executable = "/proc/self/exe";
  s.results_path = *gb.json_out;
  s.progress_path = options.progress_path.value_or(*gb.json_out + ".progress");
  s.case_timeout_s = options.case_timeout_s;
  s.program = g_prefix.substr(0, g_prefix.size() - 2);
  s.child_args.push_back(args.empty() ? std::string("bench") : args[0]);
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--p4s_isolate" || a == "--p4s_resume" || a.rfind("--p4s_case_timeout=", 0) == 0 ||
        a.rfind("--p4s_progress=", 0) == 0)
      continue;
    s.child_args.push_back(a);
  }
  s.child_args.push_back("--p4s_progress=" + s.progress_path);
  s.resume_first = options.resume;
  const int status = p4s::sweep_guard::supervise(s);
  if (!options.progress_path) std::remove(s.progress_path.c_str());
  return status;
}

// --p4s_resume: the cases the results file already holds, checked to be of the same setup as
// this run's context. Throws InputError for a file that is no results file or another setup.
struct Resume {
  std::optional<p4s::sweep_guard::PriorResults> prior;  // absent: no file yet, or no resume
};

Resume read_resume(const Options& options, const BenchmarkArgs& user_gb,
                   const std::vector<std::pair<std::string, std::string>>& context) {
  Resume r;
  if (!options.resume) return r;
  if (!user_gb.json_out) throw InputError("--p4s_resume: needs a JSON results file (--benchmark_out=FILE) to resume into");
  const std::string& path = *user_gb.json_out;
  if (!std::filesystem::exists(path)) return r;
  r.prior = p4s::sweep_guard::read_prior_results(path);
  std::map<std::string, std::string> now(context.begin(), context.end());
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) now["host_name"] = host;
  if (const auto diff = p4s::sweep_guard::context_difference(r.prior->context, now))
    throw InputError("--p4s_resume: " + path + ": another setup than this run's (" + *diff +
                     "); write to another --benchmark_out");
  return r;
}

// The context entries of the sweep's start: the device's state now, or on a resume the state
// the file says the sweep started in, and the count of resumes.
std::vector<std::pair<std::string, std::string>> start_entries(const Resume& resume,
                                                               const p4s::sweep_guard::DeviceStateReader& state) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!resume.prior) return p4s::sweep_guard::device_state_entries(state.read(), "start");
  for (const auto& [key, value] : resume.prior->context)
    if (key.rfind("p4s_state_start_", 0) == 0) out.emplace_back(key, value);
  int resumes = 0;
  if (const auto it = resume.prior->context.find(p4s::sweep_guard::kResumesKey); it != resume.prior->context.end())
    resumes = p4s::parse_integer<int>(it->second).value_or(0);
  out.emplace_back(p4s::sweep_guard::kResumesKey, std::to_string(resumes + 1));
  return out;
}

// Says how many phase marks were lost, and writes the kernel trace where asked for.
void finish_capture(const Options& options, const Capture& capture, const KernelCounterObserver* observer) {
  if (observer && observer->failed_marks() > 0)
    std::cerr << g_prefix << "warning: " << observer->failed_marks() << " phase marks could not be recorded\n";
  if (options.kernel_trace_path) {
    p4s::cupti::KernelTrace trace = observer ? observer->trace() : p4s::cupti::KernelTrace{};
    trace.capture = capture.line;
    p4s::cupti::write_kernel_trace(*options.kernel_trace_path, trace);
  }
}

// What measures a run's cases, and what its results' context says of them. Set up in place:
// the settings point into it.
struct Measuring {
  ContextInputs context;
  Seams seams;
  Capture capture;
  std::unique_ptr<KernelCounterObserver> observer;
};

// Threads, the device's meters and timer, and the kernel capture (started before the first
// case is built, so that CUPTI sees its memory). False, said on stderr, where glibc's malloc
// cannot be set up as asked.
bool set_up_measuring(const Options& options, const Sweep& sweep, const ResolvedDevice& device,
                      std::unique_ptr<CudaDevice>& cuda, std::optional<double> memory_fraction,
                      CpuAllocationTracker& tracker, Measuring& m) {
  if (options.threads) at::set_num_threads(*options.threads);
  m.context = read_machine_context();
  m.context.device = device.name();
  m.context.sweep = sweep.name;
  m.context.mem_limit_bytes = options.mem_limit_bytes;
  m.context.recipe = options.recipe;
  m.seams.settings.warmup_steps = sweep.warmup_steps;
  m.seams.settings.recipe = options.recipe;
  if (cuda)
    measure_on_cuda(*cuda, memory_fraction, m.seams, m.context);
  else if (!measure_on_cpu(options, tracker, m.seams, m.context))
    return false;
  m.capture = start_capture(options, device);
  m.context.kernel_capture = m.capture.line;
  m.observer = observe_kernels(m.capture, options, cuda);
  m.seams.settings.observer = m.observer.get();
  return true;
}

// Each network's NetSpec as DIR/<name>.json (--p4s_netspec_out).
void write_netspecs(const std::string& dir, const std::vector<BenchNet>& nets) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError("--p4s_netspec_out=" + dir + ": cannot make the folder: " + ec.message());
  for (const BenchNet& net : nets)
    p4s::modelgen::write_netspec(net.spec, (std::filesystem::path(dir) / (net.spec.name + ".json")).string());
}

int run(int argc, char** argv, const MainConfig& config) {
  // First, so that every CPU tensor of the run is tracked.
  CpuAllocationTracker& tracker = CpuAllocationTracker::install();
  try {
    if (const std::optional<int> status = supervise_if_asked(argc, argv)) return *status;
  } catch (const InputError& e) {
    std::cerr << g_prefix << e.what() << "\n";
    return kExitBadInput;
  }
  Inputs in;
  try {
    in = read_inputs(argc, argv, config.default_sweep);
  } catch (const InputError& e) {
    std::cerr << g_prefix << e.what() << "\n";
    return kExitBadInput;
  }
  const Options& options = in.parsed.options;
  const Sweep sweep = sweep_preset(options.sweep);
  for (const std::string& arg : in.parsed.rest)
    if (arg == "--help") std::cout << options_help() << "\n";
  BenchmarkCommandLine gb;
  if (!initialize_benchmark(in, sweep, gb)) return kExitBadInput;

  Measuring m;
  if (!set_up_measuring(options, sweep, in.device, in.cuda, in.memory_fraction, tracker, m)) return kExitBadInput;
  ContextInputs& context = m.context;
  Seams& seams = m.seams;
  const Capture& capture = m.capture;
  const KernelCounterObserver* observer = m.observer.get();

  const std::vector<std::pair<std::string, std::string>> entries = make_context(context);
  Resume resume;
  try {
    resume = read_resume(options, in.user_gb, entries);
  } catch (const InputError& e) {
    std::cerr << g_prefix << e.what() << "\n";
    return kExitBadInput;
  }
  const p4s::sweep_guard::DeviceStateReader state(
      context.gpu && !context.gpu->pci_bus_id.empty() ? std::optional<std::string>(context.gpu->pci_bus_id)
                                                      : std::nullopt);
  for (const auto& [key, value] : entries) benchmark::AddCustomContext(key, value);
  for (const auto& [key, value] : start_entries(resume, state)) benchmark::AddCustomContext(key, value);
  seams.settings.on_case_start = [progress = options.progress_path](const std::string& name) {
    if (progress) p4s::sweep_guard::write_case_progress(*progress, name);
    p4s::sweep_guard::fault_if_asked(name);
  };
  ResultsAdditions additions;
  const std::set<std::string> done = resume.prior ? resume.prior->done : std::set<std::string>{};
  const std::vector<int64_t> net_batches = options.net_batches.value_or(sweep.net_batches);
  RegisteredCases cases = register_cases(sweep, in.nets, net_batches, seams.settings, done);
  try {
    if (options.netspec_out) write_netspecs(*options.netspec_out, in.nets);
    if (config.registry) {
      RegisteredCases more = config.registry->register_pending(PluginRun{seams.settings, net_batches, options.netspec_out}, done);
      cases.registered.insert(cases.registered.end(), more.registered.begin(), more.registered.end());
      cases.skipped.insert(cases.skipped.end(), more.skipped.begin(), more.skipped.end());
    }
  } catch (const InputError& e) {
    std::cerr << g_prefix << e.what() << "\n";
    return kExitBadInput;
  }
  additions.selected = count_selected(in.user_gb.filter, cases.registered);
  additions.skipped = std::move(cases.skipped);
  if (resume.prior) additions.prior_entries = resume.prior->entries;
  additions.context_extras = [&state] { return p4s::sweep_guard::device_state_entries(state.read(), "end"); };
  if (const int status = run_cases(in.user_gb, capture.line, std::move(additions)); status != 0) return status;
  finish_capture(options, capture, observer);
  return 0;
}

}  // namespace

const PluginRun& default_plugin_run() {
  // Made once and never destroyed: benchmarks registered with Google Benchmark point into it
  // until the process exits.
  struct DefaultRun {
    Options options;
    std::unique_ptr<CudaDevice> cuda;
    Measuring measuring;
    std::optional<p4s::sweep_guard::DeviceStateReader> state;
    PluginRun run;
  };
  static const DefaultRun* const made = [] {
    CpuAllocationTracker& tracker = CpuAllocationTracker::install();
    auto* d = new DefaultRun;
    d->options.sweep = "none";
    const Sweep sweep = sweep_preset(d->options.sweep);
    const ResolvedDevice device = resolve_device(std::nullopt, cuda_status());
    if (device.cuda()) d->cuda = CudaDevice::open(device.index);
    if (!set_up_measuring(d->options, sweep, device, d->cuda, std::nullopt, tracker, d->measuring))
      throw std::runtime_error("cannot set glibc's malloc up to measure on the CPU");
    const ContextInputs& context = d->measuring.context;
    d->state.emplace(context.gpu && !context.gpu->pci_bus_id.empty() ? std::optional<std::string>(context.gpu->pci_bus_id)
                                                                    : std::nullopt);
    for (const auto& [key, value] : make_context(context)) benchmark::AddCustomContext(key, value);
    for (const auto& [key, value] : p4s::sweep_guard::device_state_entries(d->state->read(), "start"))
      benchmark::AddCustomContext(key, value);
    d->run.settings = d->measuring.seams.settings;
    d->run.settings.on_case_start = [](const std::string& name) { p4s::sweep_guard::fault_if_asked(name); };
    d->run.default_batches = sweep.net_batches;
    return d;
  }();
  return made->run;
}

int run_main(int argc, char** argv, const MainConfig& config) {
  g_prefix = program_name(argc, argv) + ": ";
  try {
    return run(argc, argv, config);
  } catch (const std::exception& e) {
    std::cerr << g_prefix << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace p4s::bench
