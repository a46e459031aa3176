// The suite's main, shared by the bench executable and the plugin's main (P4S_BENCHMARK_MAIN):
// our flags parsed first, the device and its meters set up, the cases registered (the sweep's,
// --p4s_net / --p4s_netspec networks and a plugin's registrations), run by Google Benchmark
// with the results' context, the JSON results rewritten after every case, and --p4s_resume /
// --p4s_isolate / --p4s_case_timeout (sweep_guard/). Exit status: 0 success, 2 bad input (one
// line on stderr, starting with the program's name), 1 else.
#pragma once

#include <string>

#include "bench/plugin_registry.hpp"

namespace p4s::bench {

struct MainConfig {
  std::string default_sweep = "quick";  // without --p4s_sweep
  PluginRegistry* registry = nullptr;   // registered after the sweep's cases, where given
};

int run_main(int argc, char** argv, const MainConfig& config);

// Under a main other than run_main (Google Benchmark's BENCHMARK_MAIN()): the run set up once
// with the default of every --p4s_ flag (sweep none), its context keys given to Google
// Benchmark. What it returns lives until the process exits. Throws std::runtime_error where
// the device cannot be set up.
const PluginRun& default_plugin_run();

}  // namespace p4s::bench
