// Reading Google Benchmark result files: the real TX2 file, repetitions and aggregates,
// NaN / Infinity tokens, layer cases, and refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "common/atomic_file.hpp"
#include "results_format/reader.hpp"

namespace p4s::results {
namespace {

const std::string kTx2 = std::string(P4S_SOURCE_DIR) + "/results/jetson-tx2/pytorch-1.6/results.json";

const NetResult* find(const ResultSet& r, const std::string& net, int64_t batch) {
  for (const NetResult& n : r.nets)
    if (n.net == net && n.batch == batch) return &n;
  return nullptr;
}

TEST(Results, ReadsTheTx2File) {
  const ResultSet r = read_results({kTx2});
  ASSERT_EQ(r.nets.size(), 933u);
  int ran = 0;
  for (const NetResult& n : r.nets) ran += n.fits;
  EXPECT_EQ(ran, 685);
  const NetResult* a = find(r, "resnet18_0", 32);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->fits);
  EXPECT_NEAR(*a->values.latency_ms, 699.0, 1.0);
  EXPECT_DOUBLE_EQ(*a->values.mem_alloc, 889566310);
  EXPECT_DOUBLE_EQ(*a->values.mem_reserved, 1186149171);
  EXPECT_DOUBLE_EQ(*a->values.mem_used, 2630667469);
  const NetResult* oom = find(r, "resnet18_0", 200);
  ASSERT_NE(oom, nullptr);
  EXPECT_FALSE(oom->fits);
  EXPECT_FALSE(oom->values.latency_ms.has_value());
  EXPECT_EQ(r.context.at("device"), "NVIDIA Jetson TX2 (8 GB shared memory)");
}

TEST(Results, PrefersTheMedianAggregateOverIterations) {
  const std::string text = R"({"context": {}, "benchmarks": [
    {"name": "Net/a/bs:4/manual_time", "run_name": "Net/a/bs:4/manual_time", "run_type": "iteration",
     "repetitions": 3, "real_time": 10, "time_unit": "ms", "mem_alloc": 100},
    {"name": "Net/a/bs:4/manual_time", "run_name": "Net/a/bs:4/manual_time", "run_type": "iteration",
     "repetitions": 3, "real_time": 30, "time_unit": "ms", "mem_alloc": 300},
    {"name": "Net/a/bs:4/manual_time", "run_name": "Net/a/bs:4/manual_time", "run_type": "iteration",
     "repetitions": 3, "real_time": 20, "time_unit": "ms", "mem_alloc": 200},
    {"name": "Net/a/bs:4/manual_time_mean", "run_name": "Net/a/bs:4/manual_time", "run_type": "aggregate",
     "aggregate_name": "mean", "repetitions": 3, "real_time": 99, "time_unit": "ms", "mem_alloc": 999},
    {"name": "Net/a/bs:4/manual_time_median", "run_name": "Net/a/bs:4/manual_time", "run_type": "aggregate",
     "aggregate_name": "median", "repetitions": 3, "real_time": 21, "time_unit": "ms", "mem_alloc": 201}]})";
  const ResultSet r = parse_results(text, "agg.json");
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_EQ(r.nets[0].net, "a");
  EXPECT_EQ(r.nets[0].batch, 4);
  EXPECT_DOUBLE_EQ(*r.nets[0].values.latency_ms, 21);
  EXPECT_DOUBLE_EQ(*r.nets[0].values.mem_alloc, 201);
  EXPECT_EQ(r.nets[0].runs, 3);
}

TEST(Results, TakesTheMedianOfIterationsAndConvertsUnits) {
  const std::string text = R"({"benchmarks": [
    {"name": "Net/b/bs:2/repeats:3", "run_type": "iteration", "real_time": 3000, "time_unit": "us"},
    {"name": "Net/b/bs:2/repeats:3", "run_type": "iteration", "real_time": 1000000, "time_unit": "ns"},
    {"name": "Net/b/bs:2/repeats:3", "run_type": "iteration", "real_time": 0.002, "time_unit": "s"}]})";
  const ResultSet r = parse_results(text, "it.json");
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_DOUBLE_EQ(*r.nets[0].values.latency_ms, 2.0);
  EXPECT_EQ(r.nets[0].runs, 3);
}

TEST(Results, ToleratesNanAndInfinityTokens) {
  const std::string text = R"({"benchmarks": [
    {"name": "Net/c/bs:8", "real_time": 5, "time_unit": "ms", "mem_alloc": NaN, "mem_used": -Infinity,
     "mem_reserved": Infinity, "label": "NaN inside a string stays"}]})";
  const ResultSet r = parse_results(text, "nan.json");
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_FALSE(r.nets[0].values.mem_alloc.has_value());
  EXPECT_FALSE(r.nets[0].values.mem_reserved.has_value());
  EXPECT_FALSE(r.nets[0].values.mem_used.has_value());
  EXPECT_DOUBLE_EQ(*r.nets[0].values.latency_ms, 5);
  EXPECT_EQ(null_nonfinite_tokens(R"({"a": "NaN", "b": -NaN, "c": -1e-5, "d": true})"),
            R"({"a": "NaN", "b": null, "c": -1e-5, "d": true})");
}

TEST(Results, ReadsLayerCasesAndOutOfMemoryEntries) {
  const std::string text = R"({"benchmarks": [
    {"name": "Conv2d/cin:64/cout:128/k:3/s:2/g:1/hw:56/bs:32/manual_time", "real_time": 7, "time_unit": "ms", "mem_alloc": 10},
    {"name": "Net/d/bs:512/manual_time", "error_occurred": true, "error_message": "out of memory: CPU allocator"},
    {"name": "Net/d/bs:16/manual_time", "error_occurred": true, "error_message": "some other failure"},
    {"name": "Predict/one_net", "real_time": 3, "time_unit": "us"}]})";
  const ResultSet r = parse_results(text, "layers.json");
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].kind, "Conv2d");
  EXPECT_EQ(r.layers[0].args.at("cin"), 64);
  EXPECT_EQ(r.layers[0].args.at("bs"), 32);
  EXPECT_EQ(r.layers[0].args.count("manual_time"), 0u);
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_FALSE(r.nets[0].fits);
  EXPECT_EQ(r.nets[0].batch, 512);
  EXPECT_EQ(r.failed_other, 1);
}

TEST(Results, MergesTheSameCaseAcrossFiles) {
  const std::string dir = testing::TempDir();
  p4s::write_file_atomically(dir + "/r1.json", R"({"benchmarks": [{"name": "Net/e/bs:2", "real_time": 1, "time_unit": "ms"}]})");
  p4s::write_file_atomically(dir + "/r2.json", R"({"benchmarks": [{"name": "Net/e/bs:2", "real_time": 3, "time_unit": "ms"},
      {"name": "Net/e/bs:2", "real_time": 2, "time_unit": "ms"}]})");
  const ResultSet r = read_results({dir + "/r1.json", dir + "/r2.json"});
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_DOUBLE_EQ(*r.nets[0].values.latency_ms, 2);
  EXPECT_EQ(r.nets[0].runs, 3);
}

void expect_refused(const std::string& text, const std::string& message_part) {
  try {
    parse_results(text, "bad.json");
    FAIL() << "accepted: " << text;
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("bad.json", 0), 0u) << what;
    EXPECT_NE(what.find(message_part), std::string::npos) << what;
  }
}

// A case's numbers are whole decimal integers: a layer case with any other argument text (a sign
// other than '-', a fraction, 19 digits) is none of ours and is passed over; a network's batch
// size that is not a positive integer, or beyond the bench's limit, is refused.
TEST(Results, ReadsCaseNumbersStrictly) {
  const auto layer = [](const std::string& args) {
    return R"({"benchmarks": [{"name": "Conv2d/cin:3/cout:8/k:3/s:1/g:1/)" + args +
           R"(/manual_time", "real_time": 7, "time_unit": "ms"}]})";
  };
  EXPECT_EQ(parse_results(layer("hw:32/bs:4"), "l.json").layers.size(), 1u);
  EXPECT_EQ(parse_results(layer("hw:-32/bs:4"), "l.json").layers.at(0).args.at("hw"), -32);
  EXPECT_EQ(parse_results(layer("hw:999999999999999999/bs:4"), "l.json").layers.size(), 1u);
  for (const char* args : {"hw:+32/bs:4", "hw:3.5/bs:4", "hw:32x/bs:4", "hw:1000000000000000000/bs:4",
                           "hw:-1000000000000000000/bs:4", "hw:99999999999999999999/bs:4"})
    EXPECT_TRUE(parse_results(layer(args), "l.json").layers.empty()) << args;
  expect_refused(layer("hw:32/bs:0"), "batch size in \"bs:0\" must be from 1 to 16777216");
  const auto net = [](const std::string& batch) {
    return R"({"benchmarks": [{"name": "Net/x/bs:)" + batch + R"(", "real_time": 1}]})";
  };
  EXPECT_EQ(parse_results(net("0016"), "n.json").nets.at(0).batch, 16);
  for (const char* batch : {"-2", "+2", "2.0", "", "99999999999999999999"})
    expect_refused(net(batch), "must be a positive integer");
  expect_refused(net("1234567890123456789"), "is more than 16777216");
}

TEST(Results, RefusesWhatIsNotGoogleBenchmarkOutput) {
  expect_refused("{", "not valid JSON");
  expect_refused(R"({"netspec": 1})", "not Google Benchmark output");
  expect_refused(R"({"benchmarks": [3]})", "benchmarks[0]");
  expect_refused(R"({"benchmarks": [{"name": "Net/x/bs:0", "real_time": 1}]})", "must be a positive integer");
  expect_refused(R"({"benchmarks": [{"name": "Net/x"}]})", "Net/<net>/bs:<N>");
  expect_refused(R"({"benchmarks": [{"name": "Net/x/bs:2", "real_time": 1, "mem_alloc": -5}]})",
                 "field \"mem_alloc\" must not be negative");
  expect_refused(R"({"benchmarks": [{"name": "Net/x/bs:2", "real_time": 1, "time_unit": "h"}]})",
                 "unknown unit");
  EXPECT_THROW(read_results({"/nonexistent/results.json"}), InputError);
  EXPECT_THROW(read_results({}), InputError);
}

// Found by fuzzing: fields of the wrong type escaped as nlohmann's type_error (or, for a huge
// "repetitions", converted with undefined behaviour), numbers beyond double as out_of_range,
// latencies beyond double after unit conversion were read as infinite, names with newlines
// broke the one-line message, and absurd nesting overflowed the stack when quoted.
TEST(Results, RefusesFieldsOfTheWrongTypeAndOutOfRangeNumbers) {
  const auto entry = [](const std::string& fields) {
    return R"({"benchmarks": [{"name": "Net/x/bs:2", "real_time": 1, )" + fields + "}]}";
  };
  expect_refused(entry(R"("error_occurred": 1)"), "field \"error_occurred\" must be true or false, got 1");
  expect_refused(entry(R"("run_type": 5)"), "field \"run_type\" must be a string, got 5");
  expect_refused(entry(R"("run_name": ["Net/x/bs:2"])"), "field \"run_name\" must be a string");
  expect_refused(entry(R"("error_occurred": true, "error_message": {})"), "field \"error_message\" must be a string");
  expect_refused(entry(R"("time_unit": 1)"), "field \"time_unit\" must be a string");
  expect_refused(entry(R"("run_type": "aggregate", "aggregate_name": "median", "repetitions": 1e300)"),
                 "field \"repetitions\" must be an integer up to 1000000, got 1e+300");
  expect_refused(entry(R"("run_type": "aggregate", "aggregate_name": "median", "repetitions": "3")"),
                 "field \"repetitions\" must be an integer");
  expect_refused(entry(R"("mem_alloc": 1e999)"), "bad.json: not valid JSON: number overflow parsing '1e999'");
  expect_refused(R"({"benchmarks": [{"name": "Net/x/bs:2", "real_time": 1e308, "time_unit": "s"}]})",
                 "field \"real_time\" is 1e+308: more than a year");
}

TEST(Results, ErrorsStayOneLineAndNestingIsBounded) {
  try {
    parse_results(R"({"benchmarks": [{"name": "Net/a\nb/bs:0"}]})", "bad.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "bad.json: benchmarks[0] \"Net/a\\x0ab/bs:0\": batch size in \"bs:0\" must be a positive integer");
  }
  const size_t depth = 1'000'000;
  expect_refused(R"({"context": {"a": )" + std::string(depth, '[') + std::string(depth, ']') + R"(}, "benchmarks": []})",
                 "bad.json: JSON nested deeper than 64 levels");
  // Google Benchmark's own context (caches: a list of objects) is well within the bound.
  const ResultSet r = parse_results(R"({"context": {"caches": [{"type": "Data", "level": 1}]}, "benchmarks": []})", "ok.json");
  EXPECT_EQ(r.context.at("caches"), R"([{"level":1,"type":"Data"}])");
}


// A file's context names its recipe; a case whose recipe differs says so after the batch. The
// same network and batch under two recipes are two cases.
TEST(Results, ReadsEachCasesRecipeFromTheContextAndItsName) {
  const std::string text = R"({"context": {"p4s_optimizer": "adamw", "p4s_train_from": "fc"}, "benchmarks": [
    {"name": "Net/a/bs:4/manual_time", "real_time": 10, "time_unit": "ms", "mem_alloc": 100},
    {"name": "Net/a/bs:4/opt:sgd/from:conv%2F1/manual_time", "real_time": 12, "time_unit": "ms", "mem_alloc": 120},
    {"name": "Net/a/bs:4/prec:bf16/freeze_bn:1/repeats:3", "real_time": 8, "time_unit": "ms", "mem_alloc": 80},
    {"name": "Linear/in:8/out:3/bs:4/opt:adam/manual_time", "real_time": 1, "time_unit": "ms", "mem_alloc": 10},
    {"name": "Linear/in:8/out:3/bs:4/manual_time", "real_time": 1, "time_unit": "ms", "mem_alloc": 11}]})";
  const ResultSet r = parse_results(text, "recipes.json");
  ASSERT_EQ(r.nets.size(), 3u);
  std::map<double, Recipe> by_alloc;
  for (const NetResult& n : r.nets) by_alloc[*n.values.mem_alloc] = n.recipe;
  const Recipe& file = by_alloc.at(100);
  EXPECT_EQ(file.optimizer, Optimizer::kAdamW);
  EXPECT_DOUBLE_EQ(file.weight_decay, 1e-2);  // AdamW's own
  EXPECT_EQ(file.train_from, "fc");
  const Recipe& sgd = by_alloc.at(120);
  EXPECT_EQ(sgd.optimizer, Optimizer::kSgd);
  EXPECT_DOUBLE_EQ(sgd.lr, 0.1);  // SGD's own settings, as a sweep runs it
  EXPECT_DOUBLE_EQ(sgd.momentum, 0.9);
  EXPECT_EQ(sgd.train_from, "conv/1");
  const Recipe& bf16 = by_alloc.at(80);
  EXPECT_EQ(bf16.optimizer, Optimizer::kAdamW);
  EXPECT_EQ(bf16.precision, Precision::kBf16);
  EXPECT_TRUE(bf16.freeze_bn);
  // Layer cases keep the optimizer and precision, never the trainable part.
  ASSERT_EQ(r.layers.size(), 2u);
  for (const LayerResult& l : r.layers) {
    EXPECT_TRUE(l.recipe.train_from.empty());
    EXPECT_EQ(l.recipe.optimizer, *l.values.mem_alloc == 10 ? Optimizer::kAdam : Optimizer::kAdamW);
  }
  // Labels name the recipe where it is not the default.
  const RunSet runs = parse_runs(text, "recipes.json");
  std::vector<std::string> labels;
  for (const CaseRuns& c : runs.cases) labels.push_back(c.label);
  EXPECT_NE(std::find(labels.begin(), labels.end(), "Net/a/bs:4/opt:adamw/from:fc"), labels.end());
  EXPECT_NE(std::find(labels.begin(), labels.end(), "Net/a/bs:4/from:conv%2F1"), labels.end());
  EXPECT_NE(std::find(labels.begin(), labels.end(), "Linear/in:8/out:3/bs:4/opt:adam"), labels.end());
}

TEST(Results, FilesWithoutARecipeMeanTheDefaultOne) {
  const ResultSet r = read_results({kTx2});
  for (const NetResult& n : r.nets) ASSERT_EQ(n.recipe, default_recipe()) << n.net;
}

TEST(Results, RefusesBadRecipesNamingTheFileAndField) {
  auto error = [](const std::string& text) {
    try {
      parse_results(text, "bad.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(R"({"context": {"p4s_optimizer": "lamb"}, "benchmarks": []})"),
            "bad.json: field \"context.p4s_optimizer\": \"lamb\" is not sgd, sgd-nesterov, adam or adamw");
  EXPECT_EQ(error(R"({"benchmarks": [{"name": "Net/a/bs:4/prec:fp8", "real_time": 1, "time_unit": "ms"}]})"),
            "bad.json: benchmarks[0] \"Net/a/bs:4/prec:fp8\": \"prec:fp8\": not a precision (fp32, bf16, fp16)");
  EXPECT_NE(error(R"({"benchmarks": [{"name": "Linear/in:8/out:3/bs:4/from:fc", "real_time": 1, "time_unit": "ms"}]})")
                .find("a layer case trains its one layer"),
            std::string::npos);
}

}  // namespace
}  // namespace p4s::results
