// The display reporter keeps what Google Benchmark says before any case runs (why it selected
// none) for the bench's own one-line error, and passes everything else on to the display.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/display_reporter.hpp"

namespace p4s::bench {
namespace {

class Recording : public benchmark::BenchmarkReporter {
 public:
  explicit Recording(std::ostream* err, std::vector<std::string>* calls) : calls_(calls) { SetErrorStream(err); }
  bool ReportContext(const Context&) override {
    calls_->push_back("context");
    return true;
  }
  void ReportRuns(const std::vector<Run>& runs) override { calls_->push_back("runs " + std::to_string(runs.size())); }
  void Finalize() override { calls_->push_back("finalize"); }

 private:
  std::vector<std::string>* calls_;
};

TEST(DisplayReporter, KeepsSelectionErrorsForOneLine) {
  std::ostringstream err;
  std::vector<std::string> calls;
  DisplayReporter d(std::make_unique<Recording>(&err, &calls));
  // As Google Benchmark says it when a filter matches nothing.
  d.GetErrorStream() << "Failed to match any benchmarks against regex: ^Nope\n";
  EXPECT_EQ(d.selection_error(), "Failed to match any benchmarks against regex: ^Nope");
  EXPECT_EQ(err.str(), "");
  EXPECT_TRUE(calls.empty());
}

TEST(DisplayReporter, PassesEverythingOnOnceCasesRun) {
  std::ostringstream err;
  std::vector<std::string> calls;
  DisplayReporter d(std::make_unique<Recording>(&err, &calls));
  d.GetErrorStream() << "a warning before the run\n";
  EXPECT_TRUE(d.ReportContext(benchmark::BenchmarkReporter::Context()));
  d.GetErrorStream() << "during the run\n";
  d.ReportRuns(std::vector<benchmark::BenchmarkReporter::Run>(2));
  d.Finalize();
  EXPECT_EQ(err.str(), "a warning before the run\nduring the run\n");
  EXPECT_EQ(d.selection_error(), "");
  EXPECT_EQ(calls, (std::vector<std::string>{"context", "runs 2", "finalize"}));
}

}  // namespace
}  // namespace p4s::bench
