#include "bench/display_reporter.hpp"

#include <iostream>

namespace p4s::bench {

DisplayReporter::DisplayReporter() : DisplayReporter(std::unique_ptr<benchmark::BenchmarkReporter>(benchmark::CreateDefaultDisplayReporter())) {}

DisplayReporter::DisplayReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner) : inner_(std::move(inner)) {
  // Google Benchmark writes its selection errors to this reporter's error stream, and the
  // rest of the display (the context header included) through the inner reporter's.
  SetErrorStream(&said_);
}

bool DisplayReporter::ReportContext(const Context& context) {
  // Cases were selected: whatever was said before goes where it would have gone.
  if (!said_.str().empty()) {
    inner_->GetErrorStream() << said_.str();
    said_.str("");
  }
  SetErrorStream(&inner_->GetErrorStream());
  if (!at_start_.empty()) inner_->GetErrorStream() << at_start_ << "\n";
  return inner_->ReportContext(context);
}

void DisplayReporter::ReportRuns(const std::vector<Run>& runs) {
  inner_->ReportRuns(runs);
  if (on_case_ && !runs.empty()) on_case_(runs);
}

void DisplayReporter::Finalize() { inner_->Finalize(); }

std::string DisplayReporter::selection_error() const {
  std::string s = said_.str();
  const size_t end = s.find_last_not_of(" \n\r\t");
  s.erase(end == std::string::npos ? 0 : end + 1);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace p4s::bench
