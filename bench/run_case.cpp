#include "bench/run_case.hpp"

#include <c10/util/Exception.h>

#include <new>
#include <optional>
#include <string>

#include "modelgen/torch/step_phases.hpp"
#include "results_format/format.hpp"

namespace p4s::bench {
namespace {

// The exception's message: c10::Error without its backtrace.
std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const c10::Error& err) {
    return err.what_without_backtrace();
  } catch (const std::exception& err) {
    return err.what();
  } catch (...) {
    return "unknown exception";
  }
}

std::string one_line(std::string s) {
  const size_t end = s.find_last_not_of(" \n\r\t");
  s.erase(end == std::string::npos ? 0 : end + 1);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

void set_counter(benchmark::State& state, const std::string& name, double value, bool bytes) {
  // kDefaults: the value as it is, neither a rate nor averaged over iterations.
  state.counters[name] = benchmark::Counter(value, benchmark::Counter::kDefaults,
                                            bytes ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000);
}

void set_counter(benchmark::State& state, const std::string& name, int64_t value, bool bytes) {
  set_counter(state, name, static_cast<double>(value), bytes);
}

}  // namespace

bool is_out_of_memory(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return true;
  } catch (const c10::OutOfMemoryError&) {
    return true;
  } catch (const c10::Error& err) {
    const std::string msg = err.what_without_backtrace();
    for (const char* wording : {"out of memory", "not enough memory", "STATUS_ALLOC_FAILED"})
      if (msg.find(wording) != std::string::npos) return true;
    return false;
  } catch (...) {
    return false;
  }
}

std::string failure_message(const std::exception_ptr& e) {
  const std::string what = one_line(what_of(e));
  // LibTorch lacks some kernels in half precision (1.13: hardtanh's backward in bfloat16 on
  // the CPU, so ReLU6 networks cannot train under bf16 autocast there).
  for (const char* type : {"'BFloat16'", "'Half'"})
    if (what.find(std::string("not implemented for ") + type) != std::string::npos)
      return "this LibTorch cannot run the step in its precision: " + what;
  if (!is_out_of_memory(e) || what.rfind("out of memory", 0) == 0) return what;
  return "out of memory: " + what;
}

void run_case(benchmark::State& state, const std::function<PreparedCase()>& prepare,
              const RunSettings& settings) {
  std::exception_ptr failure;
  StepObserver* const observer = settings.observer;
  bool observing = false;
  try {
    const PreparedCase prepared = prepare();
    if (settings.on_case_start) settings.on_case_start(prepared.name);
    settings.meter->before_build();
    Step step = prepared.build();
    for (int i = 0; i < settings.warmup_steps; ++i) step();
    settings.meter->before_measure();
    if (observer != nullptr) {
      observer->before_measure(prepared.name);
      observing = true;
    }
    {
      const modelgen_torch::ScopedPhaseObserver phases(observer != nullptr ? observer->phases() : nullptr);
      for (auto _ : state) {
        if (observer != nullptr) observer->before_step();
        settings.timer->start();
        step();
        const double seconds = settings.timer->stop_seconds();
        if (observer != nullptr) observer->after_step();
        state.SetIterationTime(seconds);
        settings.meter->after_step();
      }
    }
    const MemoryCounters m = settings.meter->after_measure();
    set_counter(state, results::target_name(results::Target::kMemAlloc), m.mem_alloc, true);
    if (m.mem_reserved) set_counter(state, results::target_name(results::Target::kMemReserved), *m.mem_reserved, true);
    set_counter(state, results::target_name(results::Target::kMemUsed), m.mem_used, true);
    if (prepared.flops) set_counter(state, results::kFlopsCounter, *prepared.flops, false);
    set_counter(state, results::kParamsCounter, prepared.params, false);
    if (observer != nullptr) {
      observing = false;
      for (const ObservedCounter& c : observer->after_measure()) set_counter(state, c.name, c.value, c.bytes);
    }
  } catch (...) {
    // Reported once the step and its tensors are gone, so the next case starts clean.
    failure = std::current_exception();
  }
  if (observing) observer->abandon();
  try {
    settings.meter->after_case();
  } catch (...) {
    if (!failure) failure = std::current_exception();
  }
  if (failure) state.SkipWithError(failure_message(failure).c_str());
}

}  // namespace p4s::bench
