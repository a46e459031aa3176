#include "sweep_guard/supervisor.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/atomic_file.hpp"
#include "results_format/reader.hpp"
#include "sweep_guard/prior_results.hpp"

namespace p4s::sweep_guard {
namespace {

int killed_by(int sig) { return sig; }  // waitpid's status of a death by `sig` (no core dump)
int exited_with(int code) { return code << 8; }

TEST(DeathMessage, SaysHowTheCaseDied) {
  ChildEnd e;
  e.wait_status = killed_by(SIGKILL);
  e.oom_kill_seen = true;
  EXPECT_EQ(death_message(e), "out of memory (killed by SIGKILL)");
  e.oom_kill_seen = false;
  EXPECT_EQ(death_message(e), "killed by SIGKILL");
  e.oom_kill_seen.reset();
  EXPECT_EQ(death_message(e), "out of memory (killed by SIGKILL; presumed: this kernel counts no OOM kills)");
  e.wait_status = killed_by(SIGABRT);
  e.last_stderr_line = "  terminate called after throwing an instance of 'c10::Error'\t";
  EXPECT_EQ(death_message(e), "aborted: terminate called after throwing an instance of 'c10::Error'");
  e.last_stderr_line.clear();
  EXPECT_EQ(death_message(e), "aborted");
  e.wait_status = killed_by(SIGSEGV);
  e.last_stderr_line = "x";
  EXPECT_EQ(death_message(e), "crashed (SIGSEGV): x");
  e.wait_status = killed_by(SIGKILL);
  e.stopped_by_watchdog = true;
  e.case_timeout_s = 2.5;
  EXPECT_EQ(death_message(e), "timed out: still running after 2.5 s (--p4s_case_timeout)");
  e = ChildEnd{};
  e.wait_status = exited_with(3);
  EXPECT_EQ(death_message(e), "ended with exit status 3");
  EXPECT_EQ(signal_name(64), "signal 64");
}

TEST(DeathMessage, LongLinesAreCut) {
  ChildEnd e;
  e.wait_status = killed_by(SIGABRT);
  e.last_stderr_line = std::string(1000, 'a');
  EXPECT_EQ(death_message(e).size(), std::string("aborted: ").size() + 300);
}

TEST(OomKillCount, FromVmstat) {
  EXPECT_EQ(oom_kill_count("pgfault 10\noom_kill 7\nnr_free_pages 3\n"), 7u);
  EXPECT_EQ(oom_kill_count("pgfault 10\n"), std::nullopt);
}

TEST(DiedCaseEntry, ReadsAsAFailedCase) {
  const nlohmann::json e = nlohmann::json::parse(died_case_entry("Net/a/bs:8", "killed by SIGKILL"));
  EXPECT_EQ(e["name"], "Net/a/bs:8/manual_time");
  EXPECT_EQ(e["run_name"], "Net/a/bs:8/manual_time");
  EXPECT_EQ(e["error_occurred"], true);
  EXPECT_EQ(e["error_message"], "killed by SIGKILL");
  EXPECT_EQ(case_name_of_run(e["run_name"].get<std::string>()), "Net/a/bs:8");
}

// For the fit, a case that died is a step that did not fit only when memory killed it.
TEST(DiedCaseEntry, OnlyMemoryDeathsAreStepsThatDidNotFit) {
  const std::string text = "{\"context\": {}, \"benchmarks\": [" + died_case_entry("Net/a/bs:8", "out of memory (killed by SIGKILL)") +
                           ", " + died_case_entry("Net/a/bs:16", "killed by SIGKILL") + ", " +
                           died_case_entry("Net/a/bs:32", "aborted: x") + ", " +
                           died_case_entry("Net/a/bs:64", "timed out: still running after 9 s (--p4s_case_timeout)") +
                           "]}";
  const results::ResultSet rs = results::parse_results(text, "died.json");
  ASSERT_EQ(rs.nets.size(), 1u);
  EXPECT_EQ(rs.nets[0].batch, 8);
  EXPECT_FALSE(rs.nets[0].fits);
  EXPECT_EQ(rs.failed_other, 3);
}

TEST(RecordDiedCase, AppendsAndKeepsTheRest) {
  const std::string path = ::testing::TempDir() + "record_died.json";
  write_file_atomically(path, R"({"context": {"p4s_threads": "1"}, "benchmarks": [{"name": "Net/a/bs:2/manual_time"}]})");
  record_died_case(path, "Net/a/bs:4", "aborted: x");
  const PriorResults p = read_prior_results(path);
  EXPECT_EQ(p.done, (std::set<std::string>{"Net/a/bs:2", "Net/a/bs:4"}));
  EXPECT_EQ(p.context.at("p4s_threads"), "1");
  write_file_atomically(path, "[");
  EXPECT_THROW(record_died_case(path, "Net/a/bs:4", "x"), std::runtime_error);
}

// The supervisor around the stand-in sweep (fake_sweep.cpp), in a folder of its own.
class Supervise : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "supervise_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ::unsetenv("FAKE_FAULT");
  }
  void TearDown() override { ::unsetenv("FAKE_FAULT"); }

  SupervisorOptions options(const std::vector<std::string>& cases) const {
    SupervisorOptions o;
    o.executable = P4S_FAKE_SWEEP_EXE;
    o.results_path = dir_ + "results.json";
    o.progress_path = dir_ + "progress";
    o.resume_arg = "--resume";
    o.child_args = {"fake_sweep", o.results_path, o.progress_path, dir_ + "log"};
    o.child_args.insert(o.child_args.end(), cases.begin(), cases.end());
    return o;
  }
  // Each case measured, with how often.
  std::map<std::string, int> measured() const {
    std::map<std::string, int> n;
    std::ifstream in(dir_ + "log");
    for (std::string line; std::getline(in, line);) ++n[line];
    return n;
  }
  // Each case's error message in the results ("" where it ran).
  std::map<std::string, std::string> results() const {
    const nlohmann::json doc = nlohmann::json::parse(read_file(dir_ + "results.json"));
    std::map<std::string, std::string> out;
    for (const auto& e : doc["benchmarks"])
      out[case_name_of_run(e["name"].get<std::string>())] = e.value("error_message", "");
    return out;
  }

  std::string dir_;
};

TEST_F(Supervise, ACleanSweepEndsWithItsStatus) {
  EXPECT_EQ(supervise(options({"A", "B"})), 0);
  EXPECT_EQ(measured(), (std::map<std::string, int>{{"A", 1}, {"B", 1}}));
  ::setenv("FAKE_FAULT", "exit2:A", 1);
  std::filesystem::remove(dir_ + "results.json");
  EXPECT_EQ(supervise(options({"A", "B"})), 2);  // bad input: not a death, nothing recorded
}

TEST_F(Supervise, AFirstStartResumesOnlyWhenAskedTo) {
  ASSERT_EQ(supervise(options({"A", "B"})), 0);
  ASSERT_EQ(supervise(options({"A", "B"})), 0);  // afresh: both measured again, the file rewritten
  EXPECT_EQ(measured(), (std::map<std::string, int>{{"A", 2}, {"B", 2}}));
  EXPECT_EQ(results().size(), 2u);
  SupervisorOptions o = options({"A", "B", "C"});
  o.resume_first = true;
  ASSERT_EQ(supervise(o), 0);  // resumed: only C
  EXPECT_EQ(measured(), (std::map<std::string, int>{{"A", 2}, {"B", 2}, {"C", 1}}));
}

TEST_F(Supervise, AKilledCaseIsRecordedAndTheSweepGoesOn) {
  ::setenv("FAKE_FAULT", "kill:B", 1);
  EXPECT_EQ(supervise(options({"A", "B", "C"})), 0);
  EXPECT_EQ(measured(), (std::map<std::string, int>{{"A", 1}, {"C", 1}}));
  const auto r = results();
  EXPECT_EQ(r.at("A"), "");
  EXPECT_EQ(r.at("C"), "");
  // Killed by a signal sent to it, not by the OOM killer (unless the kernel cannot tell).
  EXPECT_TRUE(r.at("B") == "killed by SIGKILL" || r.at("B").rfind("out of memory (killed by SIGKILL; presumed", 0) == 0)
      << r.at("B");
}

TEST_F(Supervise, AnAbortSaysItsLastWords) {
  ::setenv("FAKE_FAULT", "abort:A", 1);
  EXPECT_EQ(supervise(options({"A", "B"})), 0);
  EXPECT_EQ(results().at("A"), "aborted: fake_sweep: an assertion failed in A");
  EXPECT_EQ(measured(), (std::map<std::string, int>{{"B", 1}}));
}

TEST_F(Supervise, ACrashSaysItsSignal) {
  ::setenv("FAKE_FAULT", "segv:B", 1);
  EXPECT_EQ(supervise(options({"A", "B"})), 0);
  EXPECT_EQ(results().at("B").rfind("crashed (SIGSEGV)", 0), 0u) << results().at("B");
}

TEST_F(Supervise, TheWatchdogStopsAHungCase) {
  ::setenv("FAKE_FAULT", "hang:B", 1);
  SupervisorOptions o = options({"A", "B", "C"});
  o.case_timeout_s = 0.5;
  EXPECT_EQ(supervise(o), 0);
  EXPECT_EQ(results().at("B"), "timed out: still running after 0.5 s (--p4s_case_timeout)");
  EXPECT_EQ(measured(), (std::map<std::string, int>{{"A", 1}, {"C", 1}}));
}

TEST_F(Supervise, ADeathOutsideAnyCaseStops) {
  SupervisorOptions o = options({"A"});
  o.executable = "/bin/sh";
  o.child_args = {"sh", "-c", "kill -9 $$"};
  EXPECT_EQ(supervise(o), 1);
  EXPECT_FALSE(std::filesystem::exists(o.results_path));
}

TEST_F(Supervise, AChildStoppedByTermIsNotACrash) {
  SupervisorOptions o = options({"A"});
  o.executable = "/bin/sh";
  o.child_args = {"sh", "-c", "kill -TERM $$"};
  EXPECT_EQ(supervise(o), 128 + SIGTERM);
}

}  // namespace
}  // namespace p4s::sweep_guard
