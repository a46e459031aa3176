#include "bench/checkpoint_reporter.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include <string_view>

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

// Where the JSONReporter's context object ends and its list of runs begins.
constexpr std::string_view kContextEnd = "\n  },\n  \"benchmarks\": [\n";

// A JSON value's text indented by `spaces` more on every line.
std::string indented(const std::string& text, const std::string& spaces) {
  std::string out = spaces;
  for (char c : text) {
    out += c;
    if (c == '\n') out += spaces;
  }
  return out;
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

std::string CheckpointingJsonReporter::checkpoint_text() const { return with_additions(text_.str() + closing_); }

std::string CheckpointingJsonReporter::with_additions(std::string text) const {
  const auto extras = extras_ ? extras_() : std::vector<std::pair<std::string, std::string>>{};
  if (prior_.empty() && extras.empty()) return text;
  const size_t at = text.find(kContextEnd);
  if (at == std::string::npos)
    throw std::logic_error("Google Benchmark's JSON has no context followed by \"benchmarks\": cannot add to it");
  std::string runs;
  for (size_t i = 0; i < prior_.size(); ++i) runs += (i == 0 ? "" : ",\n") + indented(prior_[i], "    ");
  if (!runs.empty() && runs_ > 0) runs += ",\n";
  text.insert(at + kContextEnd.size(), runs);
  std::string keys;
  for (const auto& [key, value] : extras) keys += ",\n    " + nlohmann::json(key).dump() + ": " + nlohmann::json(value).dump();
  text.insert(at, keys);
  return text;
}

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
  write(with_additions(text_.str()));
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
