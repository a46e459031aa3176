#include "bench/run_case.hpp"

#include <c10/util/Exception.h>

#include <new>
#include <optional>

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

void set_counter(benchmark::State& state, const char* name, int64_t value, bool bytes) {
  // kDefaults: the value as it is, neither a rate nor averaged over iterations.
  state.counters[name] = benchmark::Counter(static_cast<double>(value), benchmark::Counter::kDefaults,
                                            bytes ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000);
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
    return msg.find("out of memory") != std::string::npos ||
           msg.find("not enough memory") != std::string::npos;
  } catch (...) {
    return false;
  }
}

std::string failure_message(const std::exception_ptr& e) {
  const std::string what = one_line(what_of(e));
  if (!is_out_of_memory(e) || what.rfind("out of memory", 0) == 0) return what;
  return "out of memory: " + what;
}

void run_case(benchmark::State& state, const std::function<PreparedCase()>& prepare,
              const RunSettings& settings) {
  std::exception_ptr failure;
  try {
    const PreparedCase prepared = prepare();
    settings.meter->before_build();
    Step step = prepared.build();
    for (int i = 0; i < settings.warmup_steps; ++i) step();
    settings.meter->before_measure();
    for (auto _ : state) {
      settings.timer->start();
      step();
      state.SetIterationTime(settings.timer->stop_seconds());
      settings.meter->after_step();
    }
    const MemoryCounters m = settings.meter->after_measure();
    set_counter(state, "mem_alloc", m.mem_alloc, true);
    if (m.mem_reserved) set_counter(state, "mem_reserved", *m.mem_reserved, true);
    set_counter(state, "mem_used", m.mem_used, true);
    set_counter(state, "flops", prepared.flops, false);
    set_counter(state, "params", prepared.params, false);
  } catch (...) {
    // Reported once the step and its tensors are gone, so the next case starts clean.
    failure = std::current_exception();
  }
  if (failure) state.SkipWithError(failure_message(failure).c_str());
}

}  // namespace p4s::bench
