// Results that survive a killed sweep: Google Benchmark's JSON file reporter, rewritten
// atomically (common/atomic_file.hpp) after every reported case, so that the file on disk is
// always complete, valid JSON holding the cases finished so far.
//
// The text is Google Benchmark's own: a benchmark::JSONReporter writes into memory, and each
// checkpoint is that text closed as JSONReporter::Finalize closes it. Readers of Google
// Benchmark's JSON (fit/results.hpp, Google Benchmark's tools) read a checkpoint and the final
// file alike; the final file is byte for byte what --benchmark_out writes, but for what the
// bench adds: context entries known only as the run goes on (the device's state at its end),
// and, on a resume, the entries of the earlier runs before this run's.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace p4s::bench {

class CheckpointingJsonReporter : public benchmark::BenchmarkReporter {
 public:
  // Replaces the file at a path with the text, atomically; throws std::runtime_error (one line
  // naming the path) when it cannot.
  using Writer = std::function<void(const std::string& path, const std::string& text)>;
  // Told of a failed write (the error's one line); the next checkpoint tries again.
  using ErrorSink = std::function<void(const std::string& message)>;

  // `path`: the results file. Nothing is written before ReportContext. `write` defaults to
  // write_file_atomically.
  explicit CheckpointingJsonReporter(std::string path, ErrorSink on_error = {}, Writer write = {});

  // Entries of earlier runs of the sweep (JSON text each), kept before this run's in every
  // checkpoint and in the final file (--p4s_resume). Set before the run.
  void set_prior_entries(std::vector<std::string> entries) { prior_ = std::move(entries); }
  // Context entries added to every checkpoint and the final file, asked for at each write.
  using ContextExtras = std::function<std::vector<std::pair<std::string, std::string>>()>;
  void set_context_extras(ContextExtras extras) { extras_ = std::move(extras); }

  // Each writes a checkpoint: the context and the cases so far, as a complete JSON document.
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  // Writes the final file: Google Benchmark's JSON as its own reporter ends it.
  void Finalize() override;

  const std::string& path() const { return path_; }
  // Checkpoints written (the final write included).
  int writes() const { return writes_; }
  // Reported runs (entries of the "benchmarks" list) so far.
  std::size_t runs() const { return runs_; }
  // Whether the last write failed, and why; a later successful write clears it.
  const std::optional<std::string>& error() const { return error_; }
  // Whether Finalize ran and its write succeeded: the file is Google Benchmark's final text.
  bool complete() const { return complete_; }
  // Seconds spent composing and writing checkpoints, for the cost of checkpointing.
  double write_seconds() const { return write_seconds_; }
  // The text a checkpoint would hold now.
  std::string checkpoint_text() const;

 private:
  void write(const std::string& text);
  // Google Benchmark's text with the prior entries and the context extras spliced in.
  std::string with_additions(std::string text) const;

  std::string path_;
  ErrorSink on_error_;
  Writer writer_;
  std::ostringstream text_;    // what the JSONReporter has written so far
  benchmark::JSONReporter json_;
  std::string closing_;        // what JSONReporter::Finalize appends
  std::vector<std::string> prior_;
  ContextExtras extras_;
  std::size_t runs_ = 0;
  int writes_ = 0;
  bool complete_ = false;
  std::optional<std::string> error_;
  double write_seconds_ = 0;
};

}  // namespace p4s::bench
