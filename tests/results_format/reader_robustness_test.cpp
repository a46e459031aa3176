// Values no training step can have, and schema versions newer than the reader, are refused.
#include <gtest/gtest.h>

#include <string>

#include "results_format/reader.hpp"

namespace p4s::results {
namespace {

void expect_refused(const std::string& entry, const std::string& message_part) {
  const std::string text = R"({"context": {}, "benchmarks": [)" + entry + "]}";
  try {
    results::parse_results(text, "bad.json");
    ADD_FAILURE() << "accepted: " << entry;
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("bad.json: ", 0), 0u) << what;
    EXPECT_NE(what.find(message_part), std::string::npos) << what;
  }
}

TEST(ResultsRobustness, RefusesValuesAStepThatRanCannotHave) {
  const std::string net = R"("name": "Net/x/bs:2/manual_time", "run_type": "iteration", "time_unit": "ms")";
  expect_refused("{" + net + R"(, "real_time": 0})", "field \"real_time\" is 0: a step that ran takes time");
  expect_refused("{" + net + R"(, "real_time": 1e300})", "field \"real_time\" is 1e+300: more than a year");
  expect_refused("{" + net + R"(, "real_time": 5, "mem_alloc": 0})",
                 "field \"mem_alloc\" is 0: a step that ran holds at least its weights");
  expect_refused("{" + net + R"(, "real_time": 5, "mem_reserved": 0.5})", "field \"mem_reserved\" is 0.5");
  expect_refused("{" + net + R"(, "real_time": 5, "mem_alloc": 1e300})", "more than 2^60 bytes");
  expect_refused(R"({"name": "Net/x/bs:99999999999", "real_time": 5})", "is more than 16777216");
  expect_refused(R"({"name": "Linear/in:8/out:8/bs:0", "real_time": 5})", "must be from 1 to 16777216");
  // A failed step has no values to check.
  EXPECT_NO_THROW(results::parse_results(
      R"({"benchmarks": [{)" + net + R"(, "real_time": 0, "error_occurred": true, "error_message": "out of memory"}]})",
      "ok.json"));
  // NaN is missing, not wrong; mem_used may be 0 (nothing above what was in use before).
  const results::ResultSet r = results::parse_results(R"({"benchmarks": [{)" + net + R"(, "real_time": NaN, "mem_alloc": 10, "mem_used": 0}]})",
                                    "ok.json");
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_FALSE(r.nets[0].values.latency_ms);
  EXPECT_EQ(*r.nets[0].values.mem_used, 0.0);
}

TEST(ResultsRobustness, RefusesANewerSchemaVersion) {
  const std::string entry = R"([{"name": "Net/x/bs:2", "real_time": 5, "time_unit": "ms"}])";
  try {
    results::parse_results(R"({"context": {"p4s_schema_version": "2"}, "benchmarks": )" + entry + "}", "new.json");
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "new.json: field \"context.p4s_schema_version\": version 2 is newer than this reader understands (1)");
  }
  EXPECT_THROW(results::parse_results(R"({"context": {"p4s_schema_version": "one"}, "benchmarks": )" + entry + "}", "x.json"),
               InputError);
  EXPECT_NO_THROW(results::parse_results(R"({"context": {"p4s_schema_version": "1"}, "benchmarks": )" + entry + "}", "x.json"));
}

}  // namespace
}  // namespace p4s::results
