// `p4s evaluate`: the committed TX2 model judged on the TX2 families it was not fitted on
// (results/jetson-tx2/pytorch-1.6/held-out), as a user and CI run it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/atomic_file.hpp"
#include "tests/cli/run_p4s.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s {
namespace {

using test::exists;
using test::Outcome;
using test::p4s;
using test::temp_path;

const std::string& kTx2 = test::kTx2Results;
const std::string kModel = kTx2 + "/model.json";
const std::string kHeld = kTx2 + "/held-out";

size_t ran_cases(const std::string& results) {
  size_t n = 0;
  const nlohmann::json j = nlohmann::json::parse(read_file(results));
  for (const nlohmann::json& b : j["benchmarks"])
    n += !b.value("error_occurred", false);
  return n;
}

TEST(EvaluateCli, JsonGivesEveryRunStepPerTargetAndTheModelsFittedOn) {
  const Outcome r = p4s({"evaluate", "--model", kModel, "--netspecs", kHeld + "/netspecs", "--json", kHeld + "/results.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["evaluation"], "fitted-models");
  EXPECT_EQ(j["families"], nlohmann::json({"googlenet", "mnasnet", "resnet50"}));
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["method"], "p4s");
  EXPECT_EQ(j["models"][0]["families"], nlohmann::json({"mobilenetv2", "resnet18", "squeezenet"}));
  ASSERT_TRUE(j["methods"].contains("p4s"));
  EXPECT_FALSE(j["methods"].contains("perf4sight"));
  const size_t ran = ran_cases(kHeld + "/results.json");
  ASSERT_GT(ran, 0u);
  for (const char* t : {"latency_ms", "mem_alloc", "mem_reserved", "mem_used"}) {
    const nlohmann::json& tj = j["methods"]["p4s"]["targets"][t];
    EXPECT_EQ(tj["n"], ran) << t;
    size_t by_family = 0;
    for (const auto& [f, m] : tj["by_family"].items()) by_family += m["n"].get<size_t>();
    EXPECT_EQ(by_family, ran) << t;
  }
  // Every case, run or out of memory, has a fits / does-not-fit verdict.
  EXPECT_EQ(j["methods"]["p4s"]["fits"]["n"], nlohmann::json::parse(read_file(kHeld + "/results.json"))["benchmarks"].size());
}

TEST(EvaluateCli, ResultsTheModelWasFittedOnAreSaidToBeNotHeldOut) {
  const Outcome r = p4s({"evaluate", "--model", kModel, "--netspecs", kTx2 + "/netspecs", kTx2 + "/results.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("note: not all held out, although the p4s model was fitted on mobilenetv2, resnet18, "
                       "squeezenet too"),
            std::string::npos)
      << r.out;
  const Outcome held = p4s({"evaluate", "--model", kModel, "--netspecs", kHeld + "/netspecs", kHeld + "/results.json"});
  ASSERT_EQ(held.status, 0) << held.err;
  EXPECT_EQ(held.out.find("not all held out"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("Fitted models predicting these results"), std::string::npos) << held.out;
}

TEST(EvaluateCli, ReportAndItsCheckAgainstACommittedReport) {
  const std::string report = temp_path("evaluate_report");
  const std::vector<std::string> base = {"evaluate", "--model", kModel, "--netspecs", kHeld + "/netspecs",
                                         "--report", report, kHeld + "/results.json"};
  const Outcome r = p4s(base);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string md = read_file(report + "/report.md");
  EXPECT_NE(md.find("# Evaluation report"), std::string::npos);
  EXPECT_NE(md.find("## Models evaluated"), std::string::npos);
  EXPECT_NE(md.find("| googlenet | mnasnet | resnet50 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("held out |"), std::string::npos);
  std::vector<std::string> check = base;
  check.insert(check.begin() + 1, "--check");
  const Outcome same = p4s(check);
  EXPECT_EQ(same.status, 0) << same.err;
  // A committed report that claims more, or less, than the model gives fails the check, naming
  // the file and the figure.
  const std::string committed = read_file(report + "/evaluation.json");
  for (double factor : {0.5, 2.0}) {
    nlohmann::json ev = nlohmann::json::parse(committed);
    nlohmann::json& mape = ev["methods"]["p4s"]["targets"]["mem_alloc"]["mape"];
    mape = mape.get<double>() * factor;
    write_file_atomically(report + "/evaluation.json", ev.dump(1) + "\n");
    const Outcome differs = p4s(check);
    EXPECT_EQ(differs.status, 3);
    EXPECT_NE(differs.err.find(report + "/evaluation.json: differs from what the data give: field "
                                        "\"methods.p4s.targets.mem_alloc.mape\": committed " + mape.dump()),
              std::string::npos)
        << differs.err;
  }
}

TEST(EvaluateCli, BadInputIsOneLineAndExitTwo) {
  const std::string results = kHeld + "/results.json";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const Case cases[] = {
      {{"evaluate", "--netspecs", kHeld + "/netspecs", results}, "--model"},
      {{"evaluate", "--model", kModel, "--model", kModel, "--netspecs", kHeld + "/netspecs", results},
       "is a second p4s model"},
      {{"evaluate", "--model", kModel, "--netspecs", kHeld + "/netspecs", "--check", results}, "--check"},
      {{"evaluate", "--model", kModel, results}, "give its folder with --netspecs"},
      {{"evaluate", "--model", kTx2 + "/no-such-model.json", "--netspecs", kHeld + "/netspecs", results},
       "no-such-model.json"},
      {{"evaluate", "--model", kModel}, "no result files"},
  };
  for (const Case& c : cases) {
    const Outcome r = p4s(c.args);
    EXPECT_EQ(r.status, 2) << c.says << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
  }
}

}  // namespace
}  // namespace p4s
