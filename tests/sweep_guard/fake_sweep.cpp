// A stand-in for the bench in the supervisor's tests: "runs" the cases named on its command
// line into a results file as the bench does (with --resume: skipping the cases the file holds;
// else writing it afresh),
// keeps the case in progress, and faults in a case as FAKE_FAULT=<kind>:<case> says (kill,
// abort, hang, segv), each case measured appended as a line to a log, so that a test can tell
// that no case ran twice.
//   fake_sweep RESULTS PROGRESS LOG CASE... [--resume]
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/atomic_file.hpp"
#include "sweep_guard/case_progress.hpp"
#include "sweep_guard/prior_results.hpp"

int main(int argc, char** argv) {
  using json = nlohmann::ordered_json;
  if (argc < 4) return 2;
  const std::string results = argv[1], progress = argv[2], log = argv[3];
  std::vector<std::string> cases;
  bool resume = false;
  for (int i = 4; i < argc; ++i) {
    if (std::string(argv[i]) == "--resume")
      resume = true;
    else
      cases.push_back(argv[i]);
  }
  json doc = {{"context", {{"p4s_schema_version", "1"}}}, {"benchmarks", json::array()}};
  if (resume && std::filesystem::exists(results)) doc = json::parse(p4s::read_file(results));
  else p4s::write_file_atomically(results, doc.dump(2));
  const p4s::sweep_guard::PriorResults prior = p4s::sweep_guard::parse_prior_results(doc.dump(), results);
  const char* fault_env = std::getenv("FAKE_FAULT");
  const std::string fault = fault_env == nullptr ? "" : fault_env;
  for (const std::string& name : cases) {
    if (prior.done.count(name) != 0) continue;
    p4s::sweep_guard::write_case_progress(progress, name);
    if (fault == "kill:" + name) std::raise(SIGKILL);
    if (fault == "segv:" + name) {
      std::signal(SIGSEGV, SIG_DFL);  // past a sanitizer's handler: the signal is the death
      std::raise(SIGSEGV);
    }
    if (fault == "abort:" + name) {
      std::cerr << "fake_sweep: an assertion failed in " << name << std::endl;
      std::abort();
    }
    if (fault == "hang:" + name)
      while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
    if (fault == "exit2:" + name) return 2;
    std::ofstream(log, std::ios::app) << name << "\n";
    const std::string run = name + "/manual_time";
    doc["benchmarks"].push_back({{"name", run}, {"run_name", run}, {"run_type", "iteration"}, {"real_time", 1.0},
                                 {"time_unit", "ms"}});
    p4s::write_file_atomically(results, doc.dump(2));
  }
  return 0;
}
