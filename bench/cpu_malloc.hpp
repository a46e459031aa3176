// How glibc's malloc serves LibTorch's CPU tensors during a sweep.
//
// By default glibc maps large blocks with mmap and hands freed memory back to the system, with
// thresholds that move with the process's history. A training step then pays page faults for
// fresh pages on some runs and not on others: the same case measured 2.3 ms in one process and
// 11.5 ms in the next. "Steady" turns mmap off (M_MMAP_MAX = 0) and automatic trimming off
// (M_TRIM_THRESHOLD at its largest), so that from the warm-up on each step reuses the heap's
// pages, as a long training run settles to; the meter still trims the heap before each case
// is built, so that cases do not inherit each other's memory.
#pragma once

#include <string>

namespace p4s::bench {

// Applies the setting to this process. Returns the context line that says what is in force
// ("steady: ..." or "system: ..."), or throws std::runtime_error when glibc refuses it.
std::string configure_cpu_malloc(bool steady);

}  // namespace p4s::bench
