// Measuring one case inside Google Benchmark: build, warm up, then exactly one training step
// per measured iteration, timed by a StepTimer (manual time), with memory counters from a
// MemoryMeter. Nothing escapes: every failure becomes a SkipWithError entry.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "bench/memory_meter.hpp"
#include "bench/step_timer.hpp"

namespace p4s::bench {

// One training step of a built case; owns (through its captures) what the step touches, so
// destroying it releases the case's memory.
using Step = std::function<void()>;

struct PreparedCase {
  int64_t params = 0;  // the params counter
  int64_t flops = 0;   // the flops counter: floating-point operations of one step
  std::function<Step()> build;  // builds the case (weights, batch) and returns its step
};

struct RunSettings {
  int warmup_steps = 1;  // >= 1
  MemoryMeter* meter = nullptr;
  StepTimer* timer = nullptr;
};

// Runs the case: prepare() (counters; may throw for bad arguments), meter.before_build(),
// build(), warm-up steps, meter.before_measure(), then one step per benchmark iteration with
// its time from the timer. Sets the counters mem_alloc, mem_used (and mem_reserved where the
// meter has it), flops and params, as plain values (not rates). Any exception ends the case
// with state.SkipWithError(failure_message(...)); the built case is destroyed first.
void run_case(benchmark::State& state, const std::function<PreparedCase()>& prepare,
              const RunSettings& settings);

// Whether the exception is an allocation failure: std::bad_alloc, or a c10::Error whose
// message says "out of memory" or "not enough memory" (LibTorch's CPU wording).
bool is_out_of_memory(const std::exception_ptr& e);

// The error message for a failed case: "out of memory: <what>" for allocation failures,
// else the exception's message (LibTorch's without its C++ backtrace), on one line.
std::string failure_message(const std::exception_ptr& e);

}  // namespace p4s::bench
