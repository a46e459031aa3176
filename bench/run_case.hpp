// Measuring one case inside Google Benchmark: build, warm up, then exactly one training step
// per measured iteration, timed by a StepTimer (manual time), with memory counters from a
// MemoryMeter. Nothing escapes: every failure becomes a SkipWithError entry.
#pragma once

#include <benchmark/benchmark.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "bench/memory_meter.hpp"
#include "bench/step_observer.hpp"
#include "bench/step_timer.hpp"
#include "results_format/recipe.hpp"

namespace p4s::bench {

// One training step of a built case; owns (through its captures) what the step touches, so
// destroying it releases the case's memory.
using Step = std::function<void()>;

struct PreparedCase {
  int64_t params = 0;  // the params counter
  // The flops counter: floating-point operations of one step; absent where they are unknown
  // (a user's module that cannot be described as a NetSpec), and then no counter.
  std::optional<int64_t> flops = 0;
  std::function<Step()> build;  // builds the case (weights, batch) and returns its step
  std::string name;    // the case's name without Google Benchmark's suffixes (labels traces)
};

struct RunSettings {
  int warmup_steps = 1;  // >= 1
  MemoryMeter* meter = nullptr;
  StepTimer* timer = nullptr;
  c10::Device device = c10::Device(c10::kCPU);  // where cases build their modules and batches
  StepObserver* observer = nullptr;              // optional: kernel capture
  results::Recipe recipe = results::default_recipe();  // every case's (a layer case's without train_from)
  // Told each case's name as it starts (before its build), e.g. to keep --p4s_progress; an
  // exception from it fails the case.
  std::function<void(const std::string&)> on_case_start = nullptr;
};

// Runs the case: prepare() (counters; may throw for bad arguments), on_case_start, meter.before_build(),
// build(), warm-up steps, meter.before_measure() and observer.before_measure(), then one step
// per benchmark iteration with its time from the timer; the observer's before_step/after_step
// and the meter's after_step surround each step outside the timed region, and the observer's
// phase marks are installed on this thread during the measured steps. Sets the counters
// mem_alloc, mem_used (and mem_reserved where the meter has it), flops, params and the
// observer's, as plain values (not rates). Any exception ends the case with
// state.SkipWithError(failure_message(...)); the built case is destroyed first. In every case
// meter.after_case() runs last, once the built case is destroyed (on a GPU it empties the
// allocator's cache, which an out-of-memory case leaves full).
void run_case(benchmark::State& state, const std::function<PreparedCase()>& prepare,
              const RunSettings& settings);

// Whether the exception is an allocation failure: std::bad_alloc, c10::OutOfMemoryError (the
// CUDA caching allocator's), or a c10::Error whose message says "out of memory" (CUDA's own
// cudaErrorMemoryAllocation, "CUDA error: out of memory"), "not enough memory" (LibTorch's CPU
// wording) or that cuBLAS or cuDNN could not allocate (*_STATUS_ALLOC_FAILED).
bool is_out_of_memory(const std::exception_ptr& e);

// The error message for a failed case: "out of memory: <what>" for allocation failures,
// "this LibTorch cannot run the step in its precision: <what>" where a kernel has no bfloat16
// or float16 version, else the exception's message (LibTorch's without its C++ backtrace), on
// one line.
std::string failure_message(const std::exception_ptr& e);

}  // namespace p4s::bench
