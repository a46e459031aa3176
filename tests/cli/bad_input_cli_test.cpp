// Bad input on every p4s command, as a table: missing, unreadable and empty files, malformed
// JSON, JSON of the wrong kind, newer format versions, NaN, values no measurement can have,
// absurd sizes and budgets, unknown networks and options. Each gives exit status 2, one line
// on stderr that names the command, the file or option and the problem, nothing on stdout, and
// no output file. (The bench's own table is in tests/bench/bench_binary_test.cpp.)
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "tests/cli/run_p4s.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s {
namespace {

using nlohmann::json;
using test::exists;
using test::Outcome;
using test::p4s;
using test::temp_path;

const std::string& kTx2 = test::kTx2Results;

// Files the cases refer to, made once per test process.
struct Files {
  std::string dir = temp_path("bad_input");
  std::string path(const std::string& name) const { return dir + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    write_file_atomically(path(name), text);
    return path(name);
  }
  Files() { mkdir(dir.c_str(), 0755); }
};

// One result entry of a network case that ran, with these extra fields.
std::string results(const std::string& entries_json, const std::string& context = "{}") {
  return R"({"context": )" + context + R"(, "benchmarks": [)" + entries_json + "]}";
}
std::string ran(const std::string& name, const std::string& fields) {
  return R"({"name": ")" + name + R"(", "run_type": "iteration", "time_unit": "ms", )" + fields + "}";
}

const std::string kNetSpecHead =
    R"({"netspec": 1, "name": "n", "classes": 10, "input": {"channels": 3, "height": 8, "width": 8}, )";

// A NetSpec whose tensors reach 2^39 floats per sample: fine at batch 1, beyond petabytes at
// a million.
const std::string kBigNet = R"({"netspec": 1, "name": "bignet", "classes": 10,
  "input": {"channels": 1, "height": 4096, "width": 4096},
  "layers": [
    {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 1, "out_channels": 32768, "kernel": 1, "bias": false},
    {"name": "bn", "op": "batchnorm2d", "inputs": ["conv"], "features": 32768},
    {"name": "relu", "op": "relu", "inputs": ["bn"], "inplace": false},
    {"name": "pool", "op": "adaptive_avgpool2d", "inputs": ["relu"], "output_size": [1, 1]},
    {"name": "flat", "op": "flatten", "inputs": ["pool"]},
    {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 32768, "out_features": 10}],
  "output": "fc"})";

struct Case {
  std::vector<std::string> args;
  std::string message;  // a part of the one line, after "p4s <command>: "
};

class BadInputCli : public testing::Test {
 protected:
  static void SetUpTestSuite() { f_ = new Files; }
  static void TearDownTestSuite() { delete f_; }

  // The one line, exit status 2, nothing on stdout, and `output` (when named) not made.
  static void expect_bad(const Case& c, const std::string& output = "") {
    const Outcome r = p4s(c.args);
    std::string call;
    for (const std::string& a : c.args) call += a + " ";
    SCOPED_TRACE(call);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("p4s " + c.args[0] + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << "wanted: " << c.message << "\ngot: " << r.err;
    EXPECT_EQ(r.out, "");
    if (!output.empty()) {
      EXPECT_FALSE(exists(output)) << output << " was written";
    }
  }

  static Files* f_;
};
Files* BadInputCli::f_ = nullptr;

TEST_F(BadInputCli, Fit) {
  const Files& f = *f_;
  const std::string out = f.path("never_model.json");
  const std::string tx2 = kTx2 + "/results.json", specs = kTx2 + "/netspecs";
  const std::string empty = f.write("empty.json", ""), blank = f.write("blank.json", " \n\t");
  const std::string broken = f.write("broken.json", R"({"benchmarks": [)");
  const std::string netspec = f.write("a_netspec.json", kNetSpecHead + R"("layers": [], "output": "x"})");
  const std::string array = f.write("array.json", "[1, 2, 3]");
  const std::string newer = f.write("newer.json", results(ran("Net/resnet18/bs:2", R"("real_time": 5)"),
                                                          R"({"p4s_schema_version": "2"})"));
  const std::string all_nan =
      f.write("nan.json", results(ran("Net/resnet18/bs:2", R"("real_time": NaN, "mem_alloc": Infinity)")));
  const std::string negative = f.write("negative.json", results(ran("Net/resnet18/bs:2", R"("real_time": -5)")));
  const std::string zero = f.write("zero.json", results(ran("Net/resnet18/bs:2", R"("real_time": 5, "mem_alloc": 0)")));
  const std::string no_time = f.write("no_time.json", results(ran("Net/resnet18/bs:2", R"("real_time": 0)")));
  const std::string huge_value =
      f.write("huge_value.json", results(ran("Net/resnet18/bs:2", R"("real_time": 5, "mem_alloc": 1e300)")));
  const std::string huge_batch = f.write("huge_batch.json", results(ran("Net/resnet18/bs:99999999999", R"("real_time": 5)")));
  const std::string zero_batch = f.write("zero_batch.json", results(ran("Net/resnet18/bs:0", R"("real_time": 5)")));
  const std::string text_value =
      f.write("text_value.json", results(ran("Net/resnet18/bs:2", R"("real_time": 5, "mem_alloc": "lots")")));
  const std::string bad_unit =
      f.write("bad_unit.json", R"({"benchmarks": [{"name": "Net/resnet18/bs:2", "real_time": 5, "time_unit": "h"}]})");
  const std::string no_cases = f.write("no_cases.json", results(ran("BM_memcpy/8", R"("real_time": 5)")));
  const std::string unknown_net = f.write("unknown_net.json", results(ran("Net/nonet_7/bs:2", R"("real_time": 5)")));
  mkdir(f.path("specs_bad").c_str(), 0755);
  f.write("specs_bad/x.json", kNetSpecHead + R"("layers": [{"name": "x", "op": "conv3d", "inputs": ["input"]}], "output": "x"})");
  mkdir(f.path("specs_big").c_str(), 0755);
  f.write("specs_big/bignet.json", kBigNet);
  const std::string big_batch = f.write("big_batch.json", results(ran("Net/bignet/bs:1000000", R"("real_time": 5)")));
  const std::string a_file = f.write("a_file", "x");

  const std::vector<Case> cases = {
      {{"fit", "--out", out, "/nonexistent/r.json"}, "/nonexistent/r.json: cannot open: No such file or directory"},
      {{"fit", "--out", out, f.dir}, f.dir + ": cannot read: Is a directory"},
      {{"fit", "--out", out, empty}, empty + ": the file is empty"},
      {{"fit", "--out", out, blank}, blank + ": the file is empty"},
      {{"fit", "--out", out, broken}, broken + ": not valid JSON (byte 17)"},
      {{"fit", "--out", out, netspec}, netspec + ": not Google Benchmark output: no \"benchmarks\" list"},
      {{"fit", "--out", out, array}, array + ": not Google Benchmark output"},
      {{"fit", "--out", out, newer},
       newer + ": field \"context.p4s_schema_version\": version 2 is newer than this reader understands (1)"},
      {{"fit", "--out", out, all_nan}, all_nan + ": nothing to fit: no step that ran has a measured latency_ms"},
      {{"fit", "--out", out, negative},
       negative + ": benchmarks[0] \"Net/resnet18/bs:2\": field \"real_time\" must not be negative, got -5"},
      {{"fit", "--out", out, zero}, zero + ": benchmarks[0] \"Net/resnet18/bs:2\": field \"mem_alloc\" is 0: a step that ran holds at least its weights"},
      {{"fit", "--out", out, no_time}, no_time + ": benchmarks[0] \"Net/resnet18/bs:2\": field \"real_time\" is 0: a step that ran takes time"},
      {{"fit", "--out", out, huge_value}, "field \"mem_alloc\" is 1e+300: more than 2^60 bytes"},
      {{"fit", "--out", out, huge_batch}, huge_batch + ": benchmarks[0] \"Net/resnet18/bs:99999999999\": batch size in \"bs:99999999999\" is more than 16777216"},
      {{"fit", "--out", out, zero_batch}, "batch size in \"bs:0\" must be a positive integer"},
      {{"fit", "--out", out, text_value}, "field \"mem_alloc\" must be a number, got \"lots\""},
      {{"fit", "--out", out, bad_unit}, "field \"time_unit\": unknown unit \"h\""},
      {{"fit", "--out", out, no_cases}, no_cases + ": no Net/<net>/bs:<N> cases"},
      {{"fit", "--out", out, unknown_net}, "nonet_7"},
      {{"fit", "--out", out, "--netspecs", "/nonexistent_specs", tx2}, "--netspecs: /nonexistent_specs: cannot read the NetSpec folder"},
      {{"fit", "--out", out, "--netspecs", f.path("specs_bad"), tx2}, f.path("specs_bad/x.json") + ": layer \"x\""},
      {{"fit", "--out", out, "--netspecs", f.path("specs_big"), big_batch},
       "case Net/bignet/bs:1000000: the step's tensors would take more than 2^50 bytes"},
      {{"fit", "--out", f.path("no_such_folder/m.json"), "--netspecs", specs, tx2},
       "--out " + f.path("no_such_folder/m.json") + ": the folder " + f.path("no_such_folder") + " does not exist"},
      {{"fit", "--out", f.dir, "--netspecs", specs, tx2}, "--out " + f.dir + ": is a folder, not a file"},
      {{"fit", "--out", out, "--report", a_file, "--netspecs", specs, tx2}, "--report " + a_file + ": is a file, not a folder"},
      {{"fit", "--out", out, "--report", f.path("no/such/report"), "--netspecs", specs, tx2}, "the folder " + f.path("no/such") + " does not exist"},
      {{"fit", "--out", out, "--method", "magic", tx2}, "--method: must be p4s or perf4sight, got \"magic\""},
      {{"fit", "--out", out, "--seed", "0", tx2}, "--seed: must be positive, got 0"},
      {{"fit", "--out", out, "--seed", "-1", tx2}, "--seed: \"-1\" is not a positive integer"},
      {{"fit", "--out", out, "--bogus", tx2}, "unknown option \"--bogus\""},
      {{"fit", "--out"}, "--out: missing value"},
      {{"fit", tx2}, "--out is required"},
      {{"fit", "--out", out}, "no result files given (see 'p4s fit --help')"},
  };
  for (const Case& c : cases) expect_bad(c, out);
}

TEST_F(BadInputCli, Predict) {
  const Files& f = *f_;
  const std::string model = kTx2 + "/model.json";
  const std::string text = read_file(model);
  auto with = [&](const std::string& name, const std::string& from, const std::string& to) {
    std::string t = text;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return f.write(name, t);
  };
  const std::string newer = with("newer_model.json", "\"version\": \"2.2\"", "\"version\": \"2.9\"");
  const std::string nan_model = with("nan_model.json", "\"step_ms\": ", "\"step_ms\": NaN, \"x\": ");
  const std::string null_coef = with("null_model.json", "\"coefficients\": [", "\"coefficients\": [null, ");
  const std::string neg_scale = with("neg_model.json", "\"scale\": ", "\"scale\": -1, \"was\": ");
  const std::string huge_scale = with("huge_model.json", "\"scale\": ", "\"scale\": 1e308, \"was\": ");
  const std::string small_batch =
      with("small_batch_model.json", "\"small_batch_below\": ", "\"small_batch_below\": 2.5, \"was\": ");
  const std::string empty = f.write("empty_model.json", "");
  const std::string broken = f.write("broken_model.json", "{\"format\": ");
  const std::string netspec_empty = f.write("empty_net.json", "");
  const std::string netspec_broken = f.write("broken_net.json", "{\"netspec\": 1,");
  const std::string netspec_results = f.write("results_net.json", results(ran("Net/x/bs:2", R"("real_time": 5)")));
  const std::string netspec_newer = f.write("newer_net.json", R"({"netspec": 2})");
  const std::string netspec_negative =
      f.write("negative_net.json", R"({"netspec": 1, "name": "n", "classes": 10, "input": {"channels": 3, "height": -8, "width": 8},
          "layers": [{"name": "x", "op": "relu", "inputs": ["input"]}], "output": "x"})");
  const std::string netspec_nan = f.write("nan_net.json", kNetSpecHead + R"("layers": [{"name": "d", "op": "dropout", "inputs": ["input"], "p": NaN}], "output": "d"})");
  const std::string netspec_op = f.write("op_net.json", kNetSpecHead + R"("layers": [{"name": "x", "op": "conv3d", "inputs": ["input"]}], "output": "x"})");
  const std::string big = f.write("bignet.json", kBigNet);
  const std::vector<std::string> m = {"predict", "--model", model};
  auto args = [&](std::vector<std::string> rest) {
    std::vector<std::string> a = m;
    a.insert(a.end(), rest.begin(), rest.end());
    return a;
  };
  const std::vector<Case> cases = {
      {{"predict", "--model", "/nonexistent/m.json", "--batch", "2", "resnet18"}, "/nonexistent/m.json: cannot open"},
      {{"predict", "--model", f.dir, "--batch", "2", "resnet18"}, f.dir + ": cannot read: Is a directory"},
      {{"predict", "--model", empty, "--batch", "2", "resnet18"}, empty + ": the file is empty"},
      {{"predict", "--model", broken, "--batch", "2", "resnet18"}, broken + ": not valid JSON"},
      {{"predict", "--model", kTx2 + "/results.json", "--batch", "2", "resnet18"}, "field \"format\": missing: not a p4s model file"},
      {{"predict", "--model", newer, "--batch", "2", "resnet18"}, newer + ": field \"format.version\": version 2.9 is newer than this reader understands (2.2)"},
      {{"predict", "--model", nan_model, "--batch", "2", "resnet18"}, nan_model + ": not valid JSON"},
      {{"predict", "--model", null_coef, "--batch", "2", "resnet18"}, null_coef + ": model: target"},
      {{"predict", "--model", neg_scale, "--batch", "2", "resnet18"}, "step_ms and scale must be finite and non-negative"},
      {{"predict", "--model", small_batch, "--batch", "2", "resnet18"},
       "small_batch_below must be a non-negative integer"},
      {{"predict", "--model", huge_scale, "--batch", "2", "resnet18"},
       huge_scale + ": its latency_ms for resnet18 at batch 2 is not a finite number: coefficients out of range"},
      {args({"--batch", "0", "resnet18"}), "--batch: must be positive, got 0"},
      {args({"--batch", "-1", "resnet18"}), "--batch: \"-1\" is not a positive integer"},
      {args({"--batch", "two", "resnet18"}), "--batch: \"two\" is not a positive integer"},
      {args({"--batch", "2,", "resnet18"}), "--batch: \"\" is not a positive integer"},
      {args({"--batch", "99999999999", "resnet18"}), "--batch: 99999999999 is more than 1048576"},
      {args({"--batch", "1e3", "resnet18"}), "--batch: \"1e3\" is not a positive integer"},
      {args({"--batch", "2", "--budget", "1e30", "resnet18"}), "--budget: 1e30 is absurdly large"},
      {args({"--batch", "2", "--budget", "nan", "resnet18"}), "--budget: \"nan\" is not a positive size in bytes"},
      {args({"--batch", "2", "--budget", "inf", "resnet18"}), "--budget: \"inf\" is not a positive size in bytes"},
      {args({"--batch", "2", "--budget", "-3G", "resnet18"}), "--budget: \"-3G\" is not a positive size in bytes"},
      {args({"--batch", "2", "--budget", "0", "resnet18"}), "--budget: \"0\" is not a positive size in bytes"},
      {args({"--batch", "2", "--budget", "4X", "resnet18"}), "--budget: unknown size suffix in \"4X\""},
      {args({"--batch", "2", "nonet"}), "\"nonet\""},
      {args({"--batch", "2", "resnet18_p99_s1"}), "resnet18_p99_s1"},
      {args({"--batch", "2", "/nonexistent/net.json"}), "/nonexistent/net.json: cannot open"},
      {args({"--batch", "2", netspec_empty}), netspec_empty + ": the file is empty"},
      {args({"--batch", "2", netspec_broken}), netspec_broken + ": not valid JSON"},
      {args({"--batch", "2", netspec_results}), netspec_results + ": field \"netspec\": is missing: not a NetSpec file"},
      {args({"--batch", "2", netspec_newer}), netspec_newer + ": field \"netspec\": format version 2"},
      {args({"--batch", "2", netspec_negative}), netspec_negative + ": "},
      {args({"--batch", "2", netspec_nan}), netspec_nan + ": not valid JSON"},
      {args({"--batch", "2", netspec_op}), netspec_op + ": layer \"x\""},
      {args({"--batch", "1000000", big}),
       big + ": network \"bignet\": --batch 1000000: its tensors could take up to"},
      {args({"--batch", "2", "--netspecs", "/nonexistent_specs", "resnet18"}), "--netspecs: /nonexistent_specs"},
      {args({"--batch", "2", "--bogus", "resnet18"}), "unknown option \"--bogus\""},
      {{"predict", "--batch", "2", "resnet18"}, "--model is required"},
      {args({"resnet18"}), "--batch is required"},
      {args({"--batch", "2"}), "no network given (see 'p4s predict --help')"},
  };
  for (const Case& c : cases) expect_bad(c);
}

TEST_F(BadInputCli, Compare) {
  const Files& f = *f_;
  const std::string tx2 = kTx2 + "/results.json";
  const std::string empty = f.write("cmp_empty.json", "");
  const std::string broken = f.write("cmp_broken.json", "{");
  const std::string netspec = f.write("cmp_netspec.json", kNetSpecHead + R"("layers": [], "output": "x"})");
  const std::string newer = f.write("cmp_newer.json", results(ran("Net/x/bs:2", R"("real_time": 5)"), R"({"p4s_schema_version": "3"})"));
  const std::string zero = f.write("cmp_zero.json", results(ran("Net/x/bs:2", R"("real_time": 5, "mem_reserved": 0)")));
  mkdir(f.path("cmp_no_json").c_str(), 0755);
  const std::vector<Case> cases = {
      {{"compare", "/nonexistent/a.json", tx2}, "/nonexistent/a.json: cannot open"},
      {{"compare", tx2, empty}, empty + ": the file is empty"},
      {{"compare", broken, tx2}, broken + ": not valid JSON"},
      {{"compare", netspec, tx2}, netspec + ": not Google Benchmark output"},
      {{"compare", newer, tx2}, newer + ": field \"context.p4s_schema_version\": version 3 is newer"},
      {{"compare", zero, tx2}, zero + ": benchmarks[0] \"Net/x/bs:2\": field \"mem_reserved\" is 0"},
      {{"compare", f.path("cmp_no_json"), tx2}, f.path("cmp_no_json") + ": the folder holds no *.json result files"},
      {{"compare", "--threshold", "-1", tx2, tx2}, "--threshold -1: must be a percentage >= 0"},
      {{"compare", "--threshold", "1e400", tx2, tx2}, "--threshold 1e400: must be a percentage >= 0"},
      {{"compare", "--alpha", "2", tx2, tx2}, "--alpha 2: must be a number between 0 and 1"},
      {{"compare", "--alpha", "nan", tx2, tx2}, "--alpha nan: must be a number between 0 and 1"},
      {{"compare", "--metrics", "nothing_like_it", tx2, tx2}, "--metrics: no case has a metric \"nothing_like_it\""},
      {{"compare", "--bogus", tx2, tx2}, "unknown option \"--bogus\""},
      {{"compare", tx2}, "give two result files or folders: OLD NEW"},
      {{"compare", tx2, tx2, tx2}, "unexpected argument"},
  };
  for (const Case& c : cases) expect_bad(c);
}

TEST_F(BadInputCli, Nets) {
  const Files& f = *f_;
  const std::string out = f.path("never_net.json");
  const std::vector<Case> cases = {
      {{"nets"}, "missing subcommand"},
      {{"nets", "bogus"}, "unknown subcommand \"bogus\""},
      {{"nets", "show", "nonet"}, "unknown family \"nonet\""},
      {{"nets", "show", "resnet18", "--prune", "99", "--seed", "1"}, "--prune 99: the level must be a whole percent within 0..95"},
      {{"nets", "show", "resnet18", "--width", "1e30"}, "--width 1e30"},
      {{"nets", "show", "resnet18", "--width", "9"}, "--width 9: must be within [0.1, 4]"},
      {{"nets", "show", "resnet18", "--classes", "7"}, "--classes 7"},
      {{"nets", "show", "resnet18", "--seed", "99999999999999999999999"}, "--seed 99999999999999999999999"},
      {{"nets", "show", "resnet18", "--bogus", "1"}, "unknown option \"--bogus\""},
      {{"nets", "export", "resnet18"}, "-o FILE is missing"},
      {{"nets", "export", "resnet18", "-o", f.path("no_such_folder/n.json")},
       "-o " + f.path("no_such_folder/n.json") + ": the folder " + f.path("no_such_folder") + " does not exist"},
      {{"nets", "export", "resnet18", "-o", f.dir}, "-o " + f.dir + ": is a folder, not a file"},
      {{"nets", "export", "resnet18", "-o", ""}, "-o: the file name is empty"},
      {{"nets", "list", "extra"}, "list takes no arguments"},
  };
  for (const Case& c : cases) expect_bad(c, out);
}

TEST_F(BadInputCli, UnknownOrMissingCommand) {
  const Outcome r = p4s({"fitt"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "p4s: unknown command 'fitt': the commands are fit, predict, evaluate, nets, compare (see 'p4s --help')\n");
  EXPECT_EQ(r.out, "");
  const Outcome none = p4s({});
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.err, "p4s: give a command: fit, predict, evaluate, nets, compare (see 'p4s --help')\n");
  const Outcome help = p4s({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("usage: p4s <command>"), std::string::npos);
}

// A network whose tensors overflow at a huge batch is refused at that batch, predicted at a
// small one, and its largest batch under a budget stays within what can be predicted.
TEST_F(BadInputCli, HugeNetworksArePredictedWhereTheyCanBe) {
  const std::string big = f_->write("bignet_ok.json", kBigNet);
  const std::string model = kTx2 + "/model.json";
  const Outcome r = p4s({"predict", "--model", model, "--batch", "1,8", "--json", "--budget", "900T", big});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["predictions"].size(), 2u);
  for (const json& p : j["predictions"])
    for (const char* k : {"latency_ms", "mem_alloc", "mem_reserved", "mem_used"}) {
      ASSERT_TRUE(p[k].is_number()) << p;
      EXPECT_GT(p[k].get<double>(), 0) << k;
    }
  EXPECT_GT(j["predictions"][1]["mem_reserved"].get<double>(), j["predictions"][0]["mem_reserved"].get<double>());
  // The budget's search stays where predictions reach: its answer can itself be predicted.
  const int64_t lb = j["budget"]["largest_batch"][0]["batch"].get<int64_t>();
  EXPECT_GT(lb, 8);
  const Outcome at = p4s({"predict", "--model", model, "--batch", std::to_string(lb), "--json", big});
  EXPECT_EQ(at.status, 0) << at.err;
  const Outcome beyond = p4s({"predict", "--model", model, "--batch", "1000000", "--json", big});
  EXPECT_EQ(beyond.status, 2);
  EXPECT_NE(beyond.err.find("(the largest batch is " + std::to_string(lb) + ")"), std::string::npos) << beyond.err;
}

// One family: no evaluation is possible, the report says so, and the fit still works.
TEST_F(BadInputCli, OneFamilyFitsAndTheReportSaysWhyThereIsNoEvaluation) {
  json all = json::parse(read_file(kTx2 + "/results.json"));
  json one = all;
  one["benchmarks"] = json::array();
  for (const json& b : all["benchmarks"])
    if (b["name"].get<std::string>().rfind("Net/resnet18_", 0) == 0) one["benchmarks"].push_back(b);
  ASSERT_FALSE(one["benchmarks"].empty());
  const std::string results_path = f_->write("one_family.json", one.dump());
  const std::string model = f_->path("one_family_model.json"), report = f_->path("one_family_report");
  const Outcome r = p4s({"fit", "--out", model, "--report", report, "--netspecs", kTx2 + "/netspecs", results_path});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("No evaluation: leave-one-family-out needs networks of two or more families"), std::string::npos)
      << r.out;
  EXPECT_NE(read_file(report + "/report.md").find("No evaluation"), std::string::npos);
  const json m = json::parse(read_file(model));
  EXPECT_EQ(m["fitted_on"]["families"], json({"resnet18"}));
  EXPECT_EQ(m["targets"], json({"latency_ms", "mem_alloc", "mem_reserved", "mem_used"}));
}

}  // namespace
}  // namespace p4s
