// The console display of a run, as Google Benchmark makes it (--benchmark_format, colours),
// around which the bench keeps what Google Benchmark says when it selects no case: a filter
// that is not a regular expression, or that matches no case. Google Benchmark writes these on
// the display reporter's error stream and runs nothing; the bench turns them into its own one
// line and exit status 2.
#pragma once

#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace p4s::bench {

class DisplayReporter : public benchmark::BenchmarkReporter {
 public:
  // Wraps Google Benchmark's default display reporter (call after benchmark::Initialize).
  DisplayReporter();
  // Wraps `inner` (tests); its own streams stay as they are.
  explicit DisplayReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner);

  // A line said on the display's error stream when the run starts (before the context), and
  // not at all when no case is selected.
  void say_at_start(std::string line) { at_start_ = std::move(line); }
  // Told of each case's runs once the display has shown them (a case's repetitions come
  // together), e.g. to say the sweep's progress.
  void on_case_reported(std::function<void(const std::vector<Run>&)> f) { on_case_ = std::move(f); }

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  // What Google Benchmark said on this reporter's error stream before any case ran (why it
  // selected none), on one line; empty when it said nothing.
  std::string selection_error() const;

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  std::ostringstream said_;
  std::string at_start_;
  std::function<void(const std::vector<Run>&)> on_case_;
};

}  // namespace p4s::bench
