#include "bench/checkpoint_reporter.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

#include "common/atomic_file.hpp"

namespace p4s::bench {
namespace {

// What Google Benchmark's JSONReporter writes when the run ends: the list and the object
// closed. Asked of the reporter itself, so that it stays right for the library linked.
std::string json_closing() {
  std::ostringstream out;
  benchmark::JSONReporter r;
  r.SetOutputStream(&out);
  r.SetErrorStream(&out);
  r.Finalize();
  return out.str();
}

}  // namespace

CheckpointingJsonReporter::CheckpointingJsonReporter(std::string path, ErrorSink on_error, Writer write)
    : path_(std::move(path)),
      on_error_(std::move(on_error)),
      writer_(write ? std::move(write) : Writer(&p4s::write_file_atomically)),
      closing_(json_closing()) {
  json_.SetOutputStream(&text_);
  json_.SetErrorStream(&text_);
}

std::string CheckpointingJsonReporter::checkpoint_text() const { return text_.str() + closing_; }

bool CheckpointingJsonReporter::ReportContext(const Context& context) {
  if (!json_.ReportContext(context)) return false;
  write(checkpoint_text());
  return true;
}

void CheckpointingJsonReporter::ReportRuns(const std::vector<Run>& runs) {
  if (runs.empty()) return;  // the JSONReporter writes nothing for these either
  json_.ReportRuns(runs);
  runs_ += runs.size();
  write(checkpoint_text());
}

void CheckpointingJsonReporter::Finalize() {
  json_.Finalize();
  write(text_.str());
  complete_ = !error_;
}

void CheckpointingJsonReporter::write(const std::string& text) {
  const auto start = std::chrono::steady_clock::now();
  try {
    writer_(path_, text);
    ++writes_;
    error_.reset();
  } catch (const std::exception& e) {
    // Said once per run of failures: a full disk fails every checkpoint until it is not.
    const bool first = !error_;
    error_ = e.what();
    if (first && on_error_) on_error_(*error_);
  }
  write_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace p4s::bench
