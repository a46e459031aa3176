// The fit stage on data that is thin, degenerate or at the edges of its units: a single
// measurement, two, every one at one batch size, one family, one target, constant and
// duplicate columns, memory in the terabytes and latency in microseconds, steps that only ran
// out of memory. Every outcome is a model of finite numbers or a clear refusal; a model with a
// NaN is never written; values no training step can have are refused when read.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "fit/capacity.hpp"
#include "fit/evaluation.hpp"
#include "fit/model_file.hpp"
#include "fit/nnls.hpp"
#include "fit/p4s_model.hpp"
#include "fit/predictable.hpp"
#include "fit/results.hpp"

namespace p4s::fit {
namespace {

// ---- non-negative least squares ----

// The best residual over every subset of columns whose unconstrained least-squares solution
// is non-negative: the NNLS optimum, found the slow way.
double brute_force_residual(const arma::mat& A, const arma::vec& b) {
  double best = arma::norm(b);
  const arma::uword n = A.n_cols;
  for (arma::uword mask = 1; mask < (arma::uword{1} << n); ++mask) {
    std::vector<arma::uword> cols;
    for (arma::uword j = 0; j < n; ++j)
      if (mask & (arma::uword{1} << j)) cols.push_back(j);
    const arma::mat S = A.cols(arma::uvec(cols));
    const arma::vec x = arma::pinv(S) * b;
    if (x.min() < 0) continue;
    best = std::min(best, arma::norm(S * x - b));
  }
  return best;
}

TEST(NnlsRobustness, OptimalAndFiniteOnDegenerateProblems) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 300; ++trial) {
    const arma::uword m = 1 + trial % 7, n = 1 + trial % 5;
    arma::mat A(m, n);
    for (double& v : A) v = normal(rng);
    // Degenerate columns: a duplicate, a near duplicate, zeros, a constant, huge and tiny scales.
    if (n > 1 && trial % 6 == 1) A.col(n - 1) = A.col(0);
    if (n > 1 && trial % 6 == 2) A.col(n - 1) = A.col(0) * (1 + 1e-13);
    if (trial % 6 == 3) A.col(0).zeros();
    if (trial % 6 == 4) A.col(0).fill(1.0);
    if (trial % 6 == 5) A.col(0) *= 1e12;
    if (n > 1 && trial % 6 == 5) A.col(1) *= 1e-9;
    arma::vec b(m);
    for (double& v : b) v = normal(rng);
    if (trial % 11 == 0) b.zeros();
    SCOPED_TRACE(trial);
    const NnlsResult r = nnls(A, b);
    ASSERT_TRUE(r.x.is_finite());
    EXPECT_GE(r.x.min(), 0.0);
    EXPECT_LE(r.residual_norm, brute_force_residual(A, b) + 1e-7 * (1 + arma::norm(b)));
  }
}

// Nearly dependent columns of scales far apart, where a step of the active-set method was
// 0 / 0 and the solution came out NaN (found by random search; column-major).
TEST(NnlsRobustness, StepsThatWereZeroOverZero) {
  struct Problem {
    arma::uword m, n;
    std::vector<double> a, b;
  };
  const std::vector<Problem> problems = {
      {4, 3,
       {0.0056559946025130144, -0.0018285328141913421, 0, -0.0017987639088950904, -0.0066078705483245022,
        0.018794969520611472, -0.0017040018182855139, -0.0068922850586697476, -3848.6961315864392,
        12895.238528262269, -1191.7678153179954, -5066.1931848817212},
       {-338.36785931629134, 1133.7616394786987, -104.78179551937791, -445.43100980004482}},
      {3, 4,
       {-3.1216198571162288e-06, 0.00026917698772342273, 0, 107.88093100975898, 8.5368181506825778,
        5.7779565912040596, 0.00044077982330826686, 0.020331298028064531, 3.6202412322522008e-05,
        6.1192094423393739e-05, 9.0978643599400149e-06, 3.2800065257542555e-06},
       {109.45672397620559, 8.6967543066160591, 5.8623757972850319}},
      {3, 3,
       {0, 3.658415151189638e-06, -1.6144173229243229e-05, 28508.141586884511, 10334.377324666984,
        5965.3227453315794, 1.7436145644981149e-06, 6.7051524985346322e-07, 1.9520104614120882e-07},
       {32426.069901860821, 11754.65053155743, 6785.148415831799}},
  };
  for (const Problem& p : problems) {
    const arma::mat A(p.a.data(), p.m, p.n);
    const arma::vec b(p.b);
    const NnlsResult r = nnls(A, b);
    ASSERT_TRUE(r.x.is_finite()) << A;
    EXPECT_GE(r.x.min(), 0.0);
    EXPECT_LE(r.residual_norm, brute_force_residual(A, b) + 1e-6 * (1 + arma::norm(b)));
  }
}

TEST(NnlsRobustness, RelativeFitAcrossUnitsFarApart) {
  // Memory in bytes (1e12) predicting latency in ms (1e-3), and the other way round.
  arma::mat X(2, 30);
  arma::rowvec y_ms(30), y_bytes(30);
  for (arma::uword i = 0; i < 30; ++i) {
    X(0, i) = 1.0;
    X(1, i) = 1e12 * (1.0 + i);
    y_ms(i) = 3e-3 + 2e-16 * X(1, i);
    y_bytes(i) = 5e11 + 0.75 * X(1, i);
  }
  const arma::vec w = fit_relative_nnls(X, y_ms);
  ASSERT_TRUE(w.is_finite());
  EXPECT_NEAR(w(0), 3e-3, 1e-12);
  EXPECT_NEAR(w(1), 2e-16, 1e-25);
  const arma::vec v = fit_relative_nnls(X, y_bytes);
  EXPECT_NEAR(v(0) / 5e11, 1.0, 1e-9);
  EXPECT_NEAR(v(1), 0.75, 1e-9);
}

TEST(NnlsRobustness, OneSampleAndConstantColumnsGiveAFiniteExactFit) {
  arma::mat one(2, 1);
  one(0, 0) = 1.0;
  one(1, 0) = 4e9;
  const arma::vec w1 = fit_relative_nnls(one, arma::rowvec{2e9});
  ASSERT_TRUE(w1.is_finite());
  EXPECT_NEAR(w1(0) + 4e9 * w1(1), 2e9, 1.0);
  // Two identical feature rows (a constant column twice) and one sample per row of X.
  arma::mat X(3, 5);
  arma::rowvec y(5);
  for (arma::uword i = 0; i < 5; ++i) {
    X(0, i) = 1.0;
    X(1, i) = 7.0;
    X(2, i) = 7.0;
    y(i) = 21.0;
  }
  const arma::vec w = fit_relative_nnls(X, y);
  ASSERT_TRUE(w.is_finite());
  EXPECT_NEAR(arma::as_scalar(w.t() * X.col(0)), 21.0, 1e-9);
}

// ---- the project's model on thin or extreme data ----

struct Data {
  NetworkLibrary library;
  std::vector<Observation> obs;
};

std::vector<DeviceRuntime> cpu_candidates() {
  ResultSet r;
  r.context["p4s_device"] = "cpu";
  r.context["p4s_threads"] = "1";
  r.context["p4s_libtorch"] = "1.13.0";
  return candidate_runtimes(r);
}

// Observations of `nets` at `batches` with values made by the simulation: mem_alloc =
// alloc_scale * peak + alloc_fixed, latency = latency_per_op * ops + latency_fixed (the
// dispatch side of the latency model alone, so that it can be fitted exactly).
void synthesize(Data& d, const std::vector<std::string>& nets, const std::vector<int64_t>& batches,
                double alloc_scale, double alloc_fixed, double latency_per_op, double latency_fixed) {
  AnalysisCache cache;
  const DeviceRuntime truth = cpu_candidates().front();
  for (const std::string& name : nets) {
    const ResolvedNet& net = d.library.get(name);
    const NetworkAnalysis& a = cache.get(net, truth);
    for (int64_t batch : batches) {
      Observation o;
      o.net = &net;
      o.family = family_of(name);
      o.batch = batch;
      o.values.mem_alloc = alloc_scale * a.sim_peak_bytes(batch) + alloc_fixed;
      double ops = 0;
      for (const LayerCost& c : a.layer_costs()) ops += c.ops;
      o.values.latency_ms = latency_fixed + latency_per_op * ops;
      d.obs.push_back(o);
    }
  }
}

std::vector<const Observation*> all(const std::vector<Observation>& v) {
  std::vector<const Observation*> p;
  for (const Observation& o : v) p.push_back(&o);
  return p;
}

// The model as a file: every number finite, and it reads back to the same text.
void expect_writable(const P4sModel& p) {
  ModelFile m;
  m.method = "p4s";
  m.data_digest = "fnv1a64:0000000000000000";
  m.p4s = p;
  const std::string text = model_to_json(m);
  EXPECT_EQ(model_to_json(parse_model(text, "m.json")), text);
}

void expect_finite_predictions(const P4sModel& m, const Data& d, AnalysisCache& cache) {
  for (const Observation& o : d.obs)
    for (int64_t batch : {int64_t{1}, o.batch, int64_t{4096}})
      for (Target t : kAllTargets)
        if (const std::optional<double> p = m.predict(cache.get(*o.net, m.runtime), batch, t)) {
          EXPECT_TRUE(std::isfinite(*p)) << target_name(t) << " at " << batch;
          EXPECT_GE(*p, 0.0) << target_name(t) << " at " << batch;
        }
}

TEST(FitRobustness, OneMeasurementFitsItExactly) {
  Data d;
  synthesize(d, {"resnet18_cifar10"}, {8}, 1.0, 3e6, 0.02, 1.5);
  AnalysisCache cache;
  const P4sModel m = train_p4s_model(all(d.obs), {}, cpu_candidates(), cache);
  ASSERT_TRUE(m.has(Target::kMemAlloc));
  ASSERT_TRUE(m.has(Target::kLatencyMs));
  const NetworkAnalysis& a = cache.get(*d.obs[0].net, m.runtime);
  EXPECT_NEAR(*m.predict(a, 8, Target::kMemAlloc), *d.obs[0].values.mem_alloc, 1e-6 * *d.obs[0].values.mem_alloc);
  EXPECT_NEAR(*m.predict(a, 8, Target::kLatencyMs), *d.obs[0].values.latency_ms, 1e-6 * *d.obs[0].values.latency_ms);
  EXPECT_FALSE(m.capacity_bytes);
  expect_finite_predictions(m, d, cache);
  expect_writable(m);
}

TEST(FitRobustness, TwoMeasurementsAndAllAtOneBatchSize) {
  for (const auto& [nets, batches] :
       std::vector<std::pair<std::vector<std::string>, std::vector<int64_t>>>{
           {{"resnet18_cifar10"}, {2, 32}},
           {{"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10", "vgg11_cifar10"}, {16}}}) {
    Data d;
    synthesize(d, nets, batches, 1.0, 3e6, 0.02, 1.5);
    AnalysisCache cache;
    const P4sModel m = train_p4s_model(all(d.obs), {}, cpu_candidates(), cache);
    for (const Observation& o : d.obs) {
      const NetworkAnalysis& a = cache.get(*o.net, m.runtime);
      EXPECT_NEAR(*m.predict(a, o.batch, Target::kMemAlloc) / *o.values.mem_alloc, 1.0, 1e-6) << o.net->spec.name;
    }
    expect_finite_predictions(m, d, cache);
    expect_writable(m);
  }
}

TEST(FitRobustness, TerabytesAndMicrosecondsFitWithoutLosingPrecision) {
  Data d;
  // Memory of a thousand times the simulated peak plus a terabyte; latency of microseconds.
  synthesize(d, {"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10"}, {1, 4, 16}, 1000.0, 1e12,
             1e-6, 2e-3);
  AnalysisCache cache;
  const P4sModel m = train_p4s_model(all(d.obs), {}, cpu_candidates(), cache);
  for (const Observation& o : d.obs) {
    const NetworkAnalysis& a = cache.get(*o.net, m.runtime);
    EXPECT_NEAR(*m.predict(a, o.batch, Target::kMemAlloc) / *o.values.mem_alloc, 1.0, 1e-6);
    EXPECT_NEAR(*m.predict(a, o.batch, Target::kLatencyMs) / *o.values.latency_ms, 1.0, 1e-6);
  }
  expect_finite_predictions(m, d, cache);
  expect_writable(m);
}

TEST(FitRobustness, OneTargetAloneGivesAModelOfThatTarget) {
  Data d;
  synthesize(d, {"resnet18_cifar10", "squeezenet1.1_cifar10"}, {2, 8}, 1.0, 3e6, 0.02, 1.5);
  std::vector<Observation> latency_only = d.obs, alloc_only = d.obs;
  for (Observation& o : latency_only) o.values.mem_alloc.reset();
  for (Observation& o : alloc_only) o.values.latency_ms.reset();
  AnalysisCache cache;
  const P4sModel l = train_p4s_model(all(latency_only), {}, cpu_candidates(), cache);
  EXPECT_TRUE(l.has(Target::kLatencyMs));
  EXPECT_FALSE(l.has(Target::kMemAlloc));
  EXPECT_FALSE(l.capacity_bytes);
  expect_writable(l);
  const P4sModel a = train_p4s_model(all(alloc_only), {}, cpu_candidates(), cache);
  EXPECT_FALSE(a.has(Target::kLatencyMs));
  EXPECT_TRUE(a.has(Target::kMemAlloc));
  expect_writable(a);
}

TEST(FitRobustness, OnlyOutOfMemoryStepsAreRefusedAndOneOfEachGivesACapacity) {
  Data d;
  synthesize(d, {"resnet18_cifar10"}, {8, 64}, 1.0, 3e6, 0.02, 1.5);
  std::vector<Observation> oom = d.obs;
  for (Observation& o : oom) {
    o.fits = false;
    o.values = Measured{};
  }
  AnalysisCache cache;
  try {
    train_p4s_model(all(oom), {}, cpu_candidates(), cache);
    ADD_FAILURE() << "fitted on nothing";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing to fit"), std::string::npos) << e.what();
  }
  // One step that ran, one that did not: a capacity between them.
  std::vector<Observation> both = {d.obs[0], oom[1]};
  const P4sModel m = train_p4s_model(all(both), {}, cpu_candidates(), cache);
  ASSERT_TRUE(m.capacity_bytes);
  EXPECT_TRUE(std::isfinite(*m.capacity_bytes));
  const NetworkAnalysis& a = cache.get(*d.obs[0].net, m.runtime);
  EXPECT_GT(*m.capacity_bytes, *m.predict(a, 8, m.capacity_target));
  EXPECT_LT(*m.capacity_bytes, *m.predict(a, 64, m.capacity_target));
  expect_writable(m);
}

TEST(FitRobustness, AFoldWithNothingToFitIsNamedAndTheOthersAreEvaluated) {
  Data d;
  synthesize(d, {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "squeezenet1.1_cifar10", "vgg11_cifar10"}, {2, 8},
             1.0, 3e6, 0.02, 1.5);
  // Only vgg11's steps ran; resnet18's and squeezenet's all ran out of memory. Holding out
  // vgg11 leaves nothing to fit.
  for (Observation& o : d.obs)
    if (o.family == "resnet18" || o.family == "squeezenet1.1") {
      o.fits = false;
      o.values = Measured{};
    }
  const Evaluation ev = evaluate_leave_one_family_out(d.obs, {}, cpu_candidates());
  ASSERT_EQ(ev.not_evaluated.size(), 1u);
  EXPECT_NE(ev.not_evaluated.at("vgg11").find("nothing to fit"), std::string::npos);
  ASSERT_EQ(ev.methods.size(), 2u);  // both methods, on the folds that could be fitted
  for (const MethodEvaluation& me : ev.methods) {
    // Held out, resnet18 and squeezenet are judged fits / does not fit by a fit on vgg11 and
    // the other; vgg11 itself, whose values are the only ones, is not predicted.
    EXPECT_EQ(me.fits.n, 6u) << me.method;  // two resnet18 networks and one squeezenet, at 2 batches
    EXPECT_TRUE(me.targets.empty()) << me.method;
  }
}

TEST(FitRobustness, OneFamilyCannotBeEvaluated) {
  Data d;
  synthesize(d, {"resnet18_cifar10", "resnet18_cifar10_p50_s1"}, {2, 8}, 1.0, 3e6, 0.02, 1.5);
  EXPECT_THROW(evaluate_leave_one_family_out(d.obs, {}, cpu_candidates()), InputError);
}

// ---- a model with a NaN is never written ----

TEST(FitRobustness, AModelWithANonFiniteNumberIsRefusedNamingTheField) {
  Data d;
  synthesize(d, {"resnet18_cifar10"}, {2, 8}, 1.0, 3e6, 0.02, 1.5);
  AnalysisCache cache;
  ModelFile m;
  m.method = "p4s";
  m.data_digest = data_digest(d.obs);
  m.p4s = train_p4s_model(all(d.obs), {}, cpu_candidates(), cache);
  const std::string path = testing::TempDir() + "/fit_robustness_nan_model.json";
  write_file_atomically(path, "previous");
  for (const auto& [mutate, field] : std::vector<std::pair<std::function<void(ModelFile&)>, std::string>>{
           {[](ModelFile& f) { f.p4s->memory[Target::kMemAlloc].coefficients(1) = std::nan(""); },
            "model.targets.mem_alloc.coefficients[1]"},
           {[](ModelFile& f) { f.p4s->latency->scale = std::numeric_limits<double>::infinity(); },
            "model.targets.latency_ms.scale"},
           {[](ModelFile& f) { f.p4s->capacity_bytes = -std::numeric_limits<double>::infinity(); },
            "model.capacity.bytes"}}) {
    ModelFile bad = m;
    mutate(bad);
    try {
      write_model(bad, path);
      ADD_FAILURE() << field << ": written";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), path + ": field \"" + field + "\": not a finite number; a model with NaN or "
                                                                       "Infinity is not written");
    }
    EXPECT_EQ(read_file(path), "previous");
  }
  std::remove(path.c_str());
}

TEST(FitRobustness, CapacityIgnoresPredictionsThatSayNothing) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(fit_capacity({{0.0, true}, {0.0, false}}));
  EXPECT_FALSE(fit_capacity({{nan, false}, {5.0, true}}));
  const std::optional<double> c = fit_capacity({{nan, true}, {inf, false}, {4.0, true}, {8.0, false}});
  ASSERT_TRUE(c);
  EXPECT_DOUBLE_EQ(*c, 6.0);
  const std::optional<double> top = fit_capacity({{1e308, false}, {1.7e308, false}});
  if (top) {
    EXPECT_TRUE(std::isfinite(*top) && *top > 0);
  }
}

// ---- how far predictions reach ----

TEST(Predictable, BatchesBeyondPetabytesAreRefusedNotOverflowed) {
  NetworkLibrary library;
  const ResolvedNet& r18 = library.get("resnet18");
  const int64_t most = max_predictable_batch(r18.shapes);
  EXPECT_GT(most, int64_t{1} << 20);  // every batch a command accepts
  EXPECT_LE(step_bytes_bound(r18.shapes, most), kMaxPredictableBytes);
  EXPECT_GT(step_bytes_bound(r18.shapes, most + 1), kMaxPredictableBytes);
  // The bound is above what the simulation holds.
  DeviceRuntime cuda;
  cuda.kind = DeviceKind::kCuda;
  NetworkAnalysis a(r18, cuda);
  EXPECT_LT(a.sim_peak_bytes(64), step_bytes_bound(r18.shapes, 64));
  EXPECT_LT(a.allocator_reserved_bytes(64), step_bytes_bound(r18.shapes, 64));
  EXPECT_THROW(a.memory_feature("allocator_reserved", most + 1), std::out_of_range);
  EXPECT_THROW(a.allocator_reserved_bytes(most + 1), std::out_of_range);
}

// ---- values no training step can have ----

void expect_refused(const std::string& entry, const std::string& message_part) {
  const std::string text = R"({"context": {}, "benchmarks": [)" + entry + "]}";
  try {
    parse_results(text, "bad.json");
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
  EXPECT_NO_THROW(parse_results(
      R"({"benchmarks": [{)" + net + R"(, "real_time": 0, "error_occurred": true, "error_message": "out of memory"}]})",
      "ok.json"));
  // NaN is missing, not wrong; mem_used may be 0 (nothing above what was in use before).
  const ResultSet r = parse_results(R"({"benchmarks": [{)" + net + R"(, "real_time": NaN, "mem_alloc": 10, "mem_used": 0}]})",
                                    "ok.json");
  ASSERT_EQ(r.nets.size(), 1u);
  EXPECT_FALSE(r.nets[0].values.latency_ms);
  EXPECT_EQ(*r.nets[0].values.mem_used, 0.0);
}

TEST(ResultsRobustness, RefusesANewerSchemaVersion) {
  const std::string entry = R"([{"name": "Net/x/bs:2", "real_time": 5, "time_unit": "ms"}])";
  try {
    parse_results(R"({"context": {"p4s_schema_version": "2"}, "benchmarks": )" + entry + "}", "new.json");
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "new.json: field \"context.p4s_schema_version\": version 2 is newer than this reader understands (1)");
  }
  EXPECT_THROW(parse_results(R"({"context": {"p4s_schema_version": "one"}, "benchmarks": )" + entry + "}", "x.json"),
               InputError);
  EXPECT_NO_THROW(parse_results(R"({"context": {"p4s_schema_version": "1"}, "benchmarks": )" + entry + "}", "x.json"));
}

}  // namespace
}  // namespace p4s::fit
