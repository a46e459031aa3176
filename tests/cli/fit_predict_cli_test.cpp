// `p4s fit` and `p4s predict` as scripts run them (../shared/interfaces.md, section 3): the real
// binary on the real TX2 results, its outputs, exit statuses and refusals.
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

// One fitted model shared by the tests of this file (ctest runs each test in its own process).
class FitPredictCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(temp_path("model.json"));
    const Outcome r = p4s({"fit", "--out", *model_, "--netspecs", kTx2 + "/netspecs", kTx2 + "/results.json"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() { delete model_; }
  static std::string* model_;
};
std::string* FitPredictCli::model_ = nullptr;

TEST_F(FitPredictCli, FitWritesAModelAndAReportWithTheBaselineBeside) {
  const std::string model = temp_path("reported_model.json"), report = temp_path("report");
  const Outcome r = p4s({"fit", "--out", model, "--netspecs", kTx2 + "/netspecs", "--report", report,
                         kTx2 + "/results.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string* report_ = &report;
  const std::string* fit_out_ = &r.out;
  EXPECT_EQ(read_file(model), read_file(*model_));  // the report changes nothing in the model
  ASSERT_TRUE(exists(*model_));
  const nlohmann::json m = nlohmann::json::parse(read_file(*model_));
  EXPECT_EQ(m["format"]["name"], "p4s-model");
  EXPECT_EQ(m["format"]["version"], "2.2");
  EXPECT_EQ(m["method"], "p4s");
  EXPECT_EQ(m["fitted_on"]["measurements"], 933);
  EXPECT_EQ(m["targets"], nlohmann::json({"latency_ms", "mem_alloc", "mem_reserved", "mem_used"}));
  EXPECT_TRUE(exists(*report_ + "/report.md"));
  const nlohmann::json ev = nlohmann::json::parse(read_file(*report_ + "/evaluation.json"));
  EXPECT_EQ(ev["families"], nlohmann::json({"mobilenetv2", "resnet18", "squeezenet"}));
  EXPECT_TRUE(ev["methods"].contains("p4s"));
  EXPECT_TRUE(ev["methods"].contains("perf4sight"));
  // Each method's figures with the networks' levels removed, beside its own; every TX2 network
  // ran at two batch sizes or more, so they cover every prediction. Not the reference's.
  for (const char* method : {"p4s", "perf4sight"})
    for (const char* t : {"latency_ms", "mem_alloc", "mem_reserved", "mem_used"}) {
      const nlohmann::json& tj = ev["methods"][method]["targets"][t];
      ASSERT_TRUE(tj.contains("level_removed")) << method << " " << t;
      EXPECT_EQ(tj["level_removed"]["n"], tj["n"]) << method << " " << t;
      EXPECT_EQ(tj["level_removed"]["by_family"].size(), 3u);
    }
  EXPECT_FALSE(ev["reference"]["targets"]["mem_alloc"].contains("level_removed"));
  const std::string md = read_file(*report_ + "/report.md");
  EXPECT_NE(md.find("| target | method | MAPE | level removed | <=10% | mobilenetv2 | resnet18 | squeezenet |"),
            std::string::npos) << md;
  EXPECT_NE(fit_out_->find("MAPE with each network's level removed, p4s (ours): latency_ms "), std::string::npos)
      << *fit_out_;
  EXPECT_NE(fit_out_->find("Leave-one-family-out"), std::string::npos) << *fit_out_;
  EXPECT_NE(fit_out_->find("perf4sight (baseline)"), std::string::npos);
}

TEST_F(FitPredictCli, FittingTwiceGivesTheSameBytes) {
  const std::string again = temp_path("model_again.json");
  const Outcome r = p4s({"fit", "--out", again, "--netspecs", kTx2 + "/netspecs", kTx2 + "/results.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(again), read_file(*model_));
}

TEST_F(FitPredictCli, PredictJsonHasOneKeyPerTarget) {
  const Outcome r = p4s({"predict", "--model", *model_, "--batch", "2,32", "--json", "--netspecs",
                         kTx2 + "/netspecs", "resnet18_50", kTx2 + "/netspecs/squeezenet_0.json", "mobilenetv2"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["predictions"].size(), 6u);
  const nlohmann::json& p = j["predictions"][1];
  EXPECT_EQ(p["net"], "resnet18_50");
  EXPECT_EQ(p["batch"], 32);
  for (const char* k : {"latency_ms", "mem_alloc", "mem_reserved", "mem_used"}) EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_EQ(p.size(), 6u);
  // Memory grows with the batch; the built-in mobilenetv2 resolves by name.
  EXPECT_GT(j["predictions"][1]["mem_alloc"].get<double>(), j["predictions"][0]["mem_alloc"].get<double>());
  EXPECT_EQ(j["predictions"][4]["net"], "mobilenetv2");
}

TEST_F(FitPredictCli, BudgetGivesLargestBatchesAndARanking) {
  const Outcome r = p4s({"predict", "--model", *model_, "--batch", "16", "--json", "--budget", "2G",
                         "resnet18", "mobilenetv2", "squeezenet1.0"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json b = nlohmann::json::parse(r.out)["budget"];
  EXPECT_EQ(b["target"], "mem_reserved");
  ASSERT_EQ(b["largest_batch"].size(), 3u);
  for (const auto& lb : b["largest_batch"]) EXPECT_GT(lb["batch"].get<int>(), 0);
  ASSERT_FALSE(b["ranking"].empty());
  for (size_t i = 1; i < b["ranking"].size(); ++i)
    EXPECT_LE(b["ranking"][i - 1]["latency_ms"].get<double>(), b["ranking"][i]["latency_ms"].get<double>());
  // The largest batch really is the edge: one more sample goes over the budget.
  const int lb = b["largest_batch"][0]["batch"].get<int>();
  const Outcome edge = p4s({"predict", "--model", *model_, "--batch", std::to_string(lb) + "," + std::to_string(lb + 1),
                            "--json", "resnet18"});
  const nlohmann::json e = nlohmann::json::parse(edge.out)["predictions"];
  EXPECT_LE(e[0]["mem_reserved"].get<double>(), 2.0 * 1024 * 1024 * 1024);
  EXPECT_GT(e[1]["mem_reserved"].get<double>(), 2.0 * 1024 * 1024 * 1024);
}

// Past the device's limit the TX2 reports no more mem_used (its model stops at a ceiling); what
// fits and what a budget allows compare what a step asks for, which grows on.
TEST_F(FitPredictCli, FitsAndBudgetsCompareDemandPastTheCeiling) {
  const nlohmann::json model = nlohmann::json::parse(read_file(*model_));
  ASSERT_TRUE(model["model"]["targets"]["mem_used"].contains("ceiling"));
  const double ceiling = model["model"]["targets"]["mem_used"]["ceiling"].get<double>();
  const Outcome r = p4s({"predict", "--model", *model_, "--batch", "8,2000", "--json", "resnet18"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["predictions"][1]["mem_used"].get<double>(), ceiling);
  const Outcome table = p4s({"predict", "--model", *model_, "--batch", "8,2000", "resnet18"});
  ASSERT_EQ(table.status, 0) << table.err;
  const size_t small = table.out.find("\nresnet18"), large = table.out.find("\nresnet18", small + 1);
  ASSERT_NE(large, std::string::npos) << table.out;
  EXPECT_EQ(table.out.substr(table.out.find('\n', small + 1) - 3, 3), "yes") << table.out;
  EXPECT_EQ(table.out.substr(table.out.find('\n', large + 1) - 2, 2), "no") << table.out;
  // A budget on a target with a ceiling below it: without the demand every batch would fit.
  nlohmann::json capped = model;
  capped["model"]["targets"]["mem_reserved"]["ceiling"] = 1024.0 * 1024 * 1024;
  const std::string capped_path = temp_path("capped_model.json");
  write_file_atomically(capped_path, capped.dump());
  auto largest = [&](const std::string& m) {
    const Outcome b = p4s({"predict", "--model", m, "--batch", "16", "--json", "--budget", "2G", "resnet18"});
    EXPECT_EQ(b.status, 0) << b.err;
    return nlohmann::json::parse(b.out)["budget"]["largest_batch"][0]["batch"].get<int64_t>();
  };
  EXPECT_EQ(largest(capped_path), largest(*model_));
  EXPECT_LT(largest(capped_path), 1000);
}

// --peak: where the simulated step peaks and what is live then, beside the predictions.
TEST_F(FitPredictCli, PeakSaysWhereTheSimulatedStepPeaksAndWhatIsLiveThen) {
  const Outcome r = p4s({"predict", "--model", *model_, "--batch", "8,64", "--json", "--peak", "resnet18"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json ps = nlohmann::json::parse(r.out)["predictions"];
  ASSERT_EQ(ps.size(), 2u);
  for (const nlohmann::json& p : ps) {
    const nlohmann::json& k = p["peak"];
    // ResNet-18 peaks as backward begins its last convolution: every activation is still held.
    EXPECT_EQ(k["phase"], "backward");
    EXPECT_EQ(k["layer"], "layer4_1_conv2");
    int64_t sum = 0;
    for (const auto& [phase, bytes] : k["live_by_phase"].items()) sum += bytes.get<int64_t>();
    EXPECT_EQ(sum, k["bytes"].get<int64_t>());
    EXPECT_GT(k["live_by_phase"]["forward"].get<int64_t>(), k["live_by_phase"]["backward"].get<int64_t>());
    EXPECT_GT(p["mem_alloc"].get<int64_t>(), 0);
  }
  // What the step began with differs between the batch sizes by the 56 more input images
  // (3x224x224 floats, whole 512-byte blocks; the labels take one block at either size).
  EXPECT_EQ(ps[1]["peak"]["live_by_phase"]["before_step"].get<int64_t>() -
                ps[0]["peak"]["live_by_phase"]["before_step"].get<int64_t>(),
            56 * 3 * 224 * 224 * 4);
  const Outcome table = p4s({"predict", "--model", *model_, "--batch", "8", "--peak", "resnet18"});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("where the simulated step peaks"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("layer4_1_conv2"), std::string::npos) << table.out;
  // perf4sight's method simulates nothing: --peak is refused for its models.
  const std::string baseline = temp_path("perf4sight_model.json");
  ASSERT_EQ(p4s({"fit", "--out", baseline, "--method", "perf4sight", "--netspecs", kTx2 + "/netspecs",
                 kTx2 + "/results.json"}).status, 0);
  const Outcome refused = p4s({"predict", "--model", baseline, "--batch", "8", "--peak", "resnet18"});
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("--peak"), std::string::npos) << refused.err;
}

TEST_F(FitPredictCli, PredictTableIsForPeople) {
  const Outcome r = p4s({"predict", "--model", *model_, "--batch", "8", "resnet18"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("latency_ms"), std::string::npos);
  EXPECT_NE(r.out.find("mem_alloc MiB"), std::string::npos);
  EXPECT_NE(r.out.find("fits?"), std::string::npos);
}

void expect_bad_input(const std::vector<std::string>& args, const std::string& message_part) {
  const Outcome r = p4s(args);
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(message_part), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(FitPredictCli, BadInputIsOneLineAndExitTwoWithNothingWritten) {
  const std::string out = temp_path("never.json");
  expect_bad_input({"fit", "--out", out, kTx2 + "/results.json"}, "is not a built-in network");
  expect_bad_input({"fit", "--out", out, "/nonexistent.json"}, "/nonexistent.json: cannot open");
  expect_bad_input({"fit", "--out", out, std::string(P4S_SOURCE_DIR) + "/README.md"}, "not valid JSON");
  expect_bad_input({"fit", "--out", out, "--method", "magic", kTx2 + "/results.json"}, "--method");
  expect_bad_input({"fit", kTx2 + "/results.json"}, "--out is required");
  expect_bad_input({"fit", "--out", out, "--bogus", kTx2 + "/results.json"}, "unknown option");
  EXPECT_FALSE(exists(out));
  expect_bad_input({"predict", "--model", *model_, "--batch", "0", "resnet18"}, "--batch");
  expect_bad_input({"predict", "--model", *model_, "--batch", "2", "nonet"}, "nonet");
  expect_bad_input({"predict", "--model", *model_, "--batch", "2", "--budget", "-3G", "resnet18"}, "--budget");
  expect_bad_input({"predict", "--model", kTx2 + "/results.json", "--batch", "2", "resnet18"}, "not a p4s model file");
  const std::string newer = temp_path("newer.json");
  std::string text = read_file(*model_);
  text.replace(text.find("\"version\": \"2.2\""), 16, "\"version\": \"2.9\"");
  write_file_atomically(newer, text);
  expect_bad_input({"predict", "--model", newer, "--batch", "2", "resnet18"}, "newer than this reader");
}


// Each recipe flag changes the step predicted: Adam's two state tensors a parameter against
// SGD's momentum; plain SGD holds neither; a frozen prefix saves no activations. The model's
// data had the default recipe alone: another is predicted with warnings, and said so in JSON.
TEST_F(FitPredictCli, PredictFollowsTheRecipeFlags) {
  auto predict = [&](std::vector<std::string> flags) {
    std::vector<std::string> args{"predict", "--model", *model_, "--batch", "16", "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("resnet18");
    const Outcome r = p4s(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return std::make_pair(nlohmann::json::parse(r.out), r.err);
  };
  const auto [plain_default, no_warning] = predict({});
  EXPECT_TRUE(no_warning.empty()) << no_warning;
  EXPECT_FALSE(plain_default.contains("warnings"));
  EXPECT_FALSE(plain_default["predictions"][0].contains("recipe"));
  auto alloc = [](const nlohmann::json& j) { return j["predictions"][0]["mem_alloc"].get<double>(); };
  const double sgd = alloc(plain_default);

  const auto [adam, adam_err] = predict({"--optimizer", "adam"});
  EXPECT_GT(alloc(adam), sgd);
  EXPECT_EQ(adam["predictions"][0]["recipe"]["optimizer"], "adam");
  EXPECT_EQ(adam["predictions"][0]["recipe"]["weight_decay"], 0.0);
  ASSERT_EQ(adam["warnings"].size(), 1u);
  EXPECT_NE(adam["warnings"][0].get<std::string>().find("optimizer adam"), std::string::npos);
  EXPECT_NE(adam_err.find("p4s predict: warning: "), std::string::npos);

  const auto [bare, bare_err] = predict({"--momentum", "0", "--weight-decay", "0"});
  EXPECT_LT(alloc(bare), sgd);
  EXPECT_TRUE(bare_err.empty()) << bare_err;  // SGD without its settings: the optimizer is covered

  const auto [frozen, frozen_err] = predict({"--train-from", "layer4_0_conv1"});
  EXPECT_LT(alloc(frozen), sgd / 2);
  EXPECT_EQ(frozen["predictions"][0]["recipe"]["train_from"], "layer4_0_conv1");
  EXPECT_NE(frozen_err.find("frozen prefix"), std::string::npos);
  const auto [eval_bn, eval_bn_err] = predict({"--train-from", "layer4_0_conv1", "--freeze-bn"});
  EXPECT_LE(alloc(eval_bn), alloc(frozen));
  EXPECT_EQ(eval_bn["predictions"][0]["recipe"]["freeze_bn"], true);
  EXPECT_EQ(eval_bn["warnings"].size(), 2u);

  // bf16 autocast: half-precision activations, float32 parameters and gradients; no data of it,
  // and its latency from the float32 terms, both said.
  const auto [bf16, bf16_err] = predict({"--precision", "bf16"});
  EXPECT_LT(alloc(bf16), sgd);
  EXPECT_GT(alloc(bf16), sgd / 2);
  EXPECT_EQ(bf16["predictions"][0]["recipe"]["precision"], "bf16");
  ASSERT_EQ(bf16["warnings"].size(), 2u);
  EXPECT_NE(bf16_err.find("under bf16 autocast"), std::string::npos) << bf16_err;
  EXPECT_NE(bf16_err.find("float32 kernels' fitted rates"), std::string::npos) << bf16_err;

  // PyTorch's Python optimizers and zero_grad(set_to_none=True): foreach holds every
  // parameter's temporary at once, fused none; gradients set to none are absent from forward.
  const auto [foreach_step, foreach_err] = predict({"--optimizer-impl", "foreach"});
  const auto [fused_step, fused_err] = predict({"--optimizer-impl", "fused"});
  EXPECT_GE(alloc(foreach_step), alloc(fused_step));
  EXPECT_EQ(foreach_step["predictions"][0]["recipe"]["optimizer_impl"], "foreach");
  const auto [to_none, to_none_err] = predict({"--zero-grad", "none"});
  EXPECT_LE(alloc(to_none), sgd);
  EXPECT_EQ(to_none["predictions"][0]["recipe"]["zero_grad"], "none");

  // The table names the recipe.
  const Outcome table = p4s({"predict", "--model", *model_, "--batch", "16", "--optimizer", "adamw", "resnet18"});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("recipe: adamw lr 0.001 weight decay 0.01, fp32"), std::string::npos) << table.out;
}

TEST_F(FitPredictCli, RecipesThatCannotBePredictedAreRefused) {
  auto refuse = [&](std::vector<std::string> flags, const std::string& message) {
    std::vector<std::string> args{"predict", "--model", *model_, "--batch", "16"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("resnet18");
    expect_bad_input(args, message);
  };
  refuse({"--optimizer", "lamb"}, "--optimizer: \"lamb\" is not sgd, sgd-nesterov, adam or adamw");
  refuse({"--precision", "fp8"}, "--precision: \"fp8\" is not fp32, bf16 or fp16");
  refuse({"--train-from", "layer9"}, "network \"resnet18\": --train-from \"layer9\" names no layer of the network");
  refuse({"--freeze-bn"}, "--freeze-bn: needs --train-from");
  refuse({"--optimizer-impl", "jit"}, "--optimizer-impl: \"jit\" is not libtorch, for-loop, foreach or fused");
  refuse({"--zero-grad", "maybe"}, "--zero-grad: \"maybe\" is not zero or none");
  refuse({"--momentum", "-1"}, "--momentum: \"-1\" is not a non-negative number");
  refuse({"--optimizer", "sgd-nesterov", "--momentum", "0"}, "sgd-nesterov needs a momentum above 0");
  // perf4sight's features know no recipe: it refuses one its data did not have.
  const std::string baseline = temp_path("baseline.json");
  const Outcome fit = p4s({"fit", "--method", "perf4sight", "--out", baseline, "--netspecs", kTx2 + "/netspecs",
                           kTx2 + "/results.json"});
  ASSERT_EQ(fit.status, 0) << fit.err;
  expect_bad_input({"predict", "--model", baseline, "--batch", "16", "--optimizer", "adam", "resnet18"},
                   "a perf4sight model predicts the steps of its data's recipe");
  EXPECT_EQ(p4s({"predict", "--model", baseline, "--batch", "16", "resnet18"}).status, 0);
}

}  // namespace
}  // namespace p4s
