// ExtraTreesRegressor: what it learns, sklearn's stopping rules, determinism, refusals, and
// the versioned serialisation.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/rng.hpp"
#include "predictors/perf4sight/extra_trees.hpp"

namespace p4s::predictors {
namespace {

using nlohmann::json;

// Uniform points in [lo, hi)^n_features, one per column, from the project's portable stream.
arma::mat uniform_points(std::size_t n_features, std::size_t n, uint64_t seed, double lo = 0.0,
                         double hi = 1.0) {
  Rng rng(seed);
  arma::mat X(n_features, n);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t f = 0; f < n_features; ++f) X(f, s) = lo + (hi - lo) * rng.uniform01();
  return X;
}

// Three plateaus: 1 where x0 < 0.3; 5 where x0 >= 0.3 and x1 < 0.6; -2 elsewhere.
arma::rowvec plateaus(const arma::mat& X) {
  arma::rowvec y(X.n_cols);
  for (std::size_t s = 0; s < X.n_cols; ++s)
    y[s] = X(0, s) < 0.3 ? 1.0 : (X(1, s) < 0.6 ? 5.0 : -2.0);
  return y;
}

ExtraTreesOptions small(std::size_t n_trees, uint64_t seed = 1) {
  ExtraTreesOptions o;
  o.n_trees = n_trees;
  o.seed = seed;
  return o;
}

TEST(ExtraTrees, RecoversPiecewiseConstantFunctionOnTrainingPoints) {
  const arma::mat X = uniform_points(3, 300, 11);
  const arma::rowvec y = plateaus(X);
  ExtraTreesRegressor forest(small(50));
  const double rmse = forest.Train(X, y);
  EXPECT_EQ(rmse, 0.0);
  arma::rowvec p;
  forest.Predict(X, p);
  ASSERT_EQ(p.n_elem, y.n_elem);
  for (std::size_t s = 0; s < y.n_elem; ++s) EXPECT_EQ(p[s], y[s]) << "sample " << s;
  EXPECT_EQ(forest.NumTrees(), 50u);
  EXPECT_EQ(forest.NumFeatures(), 3u);
}

TEST(ExtraTrees, ApproximatesSmoothFunctionOnHeldOutPoints) {
  auto target = [](const arma::mat& X) {
    arma::rowvec y(X.n_cols);
    for (std::size_t s = 0; s < X.n_cols; ++s) y[s] = X(0, s) * X(0, s) + 3.0 * X(1, s);
    return y;
  };
  const arma::mat X = uniform_points(2, 700, 21, -1.0, 1.0);
  const arma::mat X_test = uniform_points(2, 300, 22, -0.9, 0.9);  // inside the training range
  const arma::rowvec y = target(X), y_test = target(X_test);
  const ExtraTreesRegressor forest(X, y, small(300));
  arma::rowvec p;
  forest.Predict(X_test, p);
  const double rmse = std::sqrt(arma::mean(arma::square(p - y_test)));
  const double spread = arma::stddev(y_test);  // about 1.6
  EXPECT_LT(rmse, 0.05 * spread) << "held-out rmse " << rmse;
  std::printf("smooth: held-out rmse %.4f, spread %.4f\n", rmse, spread);
  // The single-point overload agrees with the batch one, bit for bit.
  EXPECT_EQ(forest.Predict(arma::vec(X_test.col(7))), p[7]);
}

TEST(ExtraTrees, ConstantTargetGivesSingleLeafTrees) {
  const arma::mat X = uniform_points(4, 100, 31);
  const arma::rowvec y(100, arma::fill::value(7.25));
  ExtraTreesRegressor forest(X, y, small(20));
  EXPECT_EQ(forest.NumNodes(), 20u);
  for (std::size_t t = 0; t < forest.NumTrees(); ++t) {
    EXPECT_EQ(forest.NumNodes(t), 1u);
    EXPECT_EQ(forest.Depth(t), 0u);
  }
  EXPECT_EQ(forest.Predict(arma::vec(X.col(3))), 7.25);
  EXPECT_EQ(forest.Predict(arma::vec{5.0, -3.0, 0.0, 1e9}), 7.25);
}

TEST(ExtraTrees, IdenticalSamplesWithDifferentTargetsBecomeOneLeafOfTheirMean) {
  arma::mat X(2, 4);
  X.col(0) = arma::vec{1.0, 2.0};
  X.col(1) = arma::vec{1.0, 2.0};
  X.col(2) = arma::vec{1.0, 2.0};
  X.col(3) = arma::vec{1.0, 2.0};
  const arma::rowvec y{1.0, 2.0, 3.0, 6.0};
  ExtraTreesRegressor forest(X, y, small(5));
  EXPECT_EQ(forest.NumNodes(), 5u);  // no feature varies: nothing to split on
  EXPECT_EQ(forest.Predict(arma::vec{1.0, 2.0}), 3.0);
}

TEST(ExtraTrees, SameDataAndSeedGiveTheSameBytesOnAnyThreadCount) {
  const arma::mat X = uniform_points(6, 200, 41);
  arma::rowvec y = plateaus(X) + 0.1 * X.row(4);
  ExtraTreesOptions one = small(40, 7), many = small(40, 7);
  one.n_threads = 1;
  many.n_threads = 4;
  const ExtraTreesRegressor a(X, y, one), b(X, y, one), c(X, y, many);
  const std::string bytes = a.Serialize();
  EXPECT_EQ(bytes, b.Serialize());
  EXPECT_EQ(bytes, c.Serialize());
}

TEST(ExtraTrees, SeedChangesTheTrees) {
  const arma::mat X = uniform_points(6, 200, 41);
  const arma::rowvec y = plateaus(X) + 0.1 * X.row(4);
  const ExtraTreesRegressor a(X, y, small(40, 7)), b(X, y, small(40, 8));
  EXPECT_NE(a.Serialize(), b.Serialize());
  const arma::mat X_test = uniform_points(6, 50, 42);
  arma::rowvec pa, pb;
  a.Predict(X_test, pa);
  b.Predict(X_test, pb);
  EXPECT_GT(arma::max(arma::abs(pa - pb)), 0.0);
}

TEST(ExtraTrees, ConstantFeaturesDoNotCountAgainstMaxFeatures) {
  // One informative feature among nine constant ones: with max_features = 1 sklearn keeps
  // drawing past constant features, so every split still uses feature 0.
  arma::mat X(10, 200, arma::fill::value(3.0));
  X.row(0) = uniform_points(1, 200, 51);
  arma::rowvec y(200);
  for (std::size_t s = 0; s < 200; ++s) y[s] = X(0, s) < 0.5 ? 0.0 : 10.0;
  ExtraTreesOptions o = small(30);
  o.max_features = 1;
  ExtraTreesRegressor forest(X, y, o);
  const json j = forest.ToJson();
  for (const json& tree : j["trees"])
    for (const json& f : tree["feature"]) EXPECT_TRUE(f == -1 || f == 0) << f;
  arma::rowvec p;
  forest.Predict(X, p);
  EXPECT_TRUE(arma::approx_equal(p, y, "absdiff", 0.0));
}

TEST(ExtraTrees, MaxDepthAndMinSamplesBoundTheTrees) {
  const arma::mat X = uniform_points(3, 100, 61);
  const arma::rowvec y = X.row(0) + X.row(1);  // all distinct: trees grow to one sample a leaf
  {
    const ExtraTreesRegressor full(X, y, small(10));
    for (std::size_t t = 0; t < 10; ++t) EXPECT_EQ(full.NumNodes(t), 199u);  // 100 leaves
  }
  {
    ExtraTreesOptions o = small(10);
    o.max_depth = 3;
    const ExtraTreesRegressor forest(X, y, o);
    for (std::size_t t = 0; t < 10; ++t) EXPECT_EQ(forest.Depth(t), 3u);
  }
  {
    ExtraTreesOptions o = small(10);
    o.min_samples_leaf = 10;  // so at most 10 leaves of >= 10 samples
    const ExtraTreesRegressor forest(X, y, o);
    for (std::size_t t = 0; t < 10; ++t) {
      EXPECT_LE((forest.NumNodes(t) + 1) / 2, 10u);
      EXPECT_GT(forest.NumNodes(t), 1u);
    }
  }
  {
    ExtraTreesOptions o = small(10);
    o.min_samples_split = 101;  // the root is too small to split
    EXPECT_EQ(ExtraTreesRegressor(X, y, o).NumNodes(), 10u);
    o.min_samples_split = 2;
    o.min_samples_leaf = 51;  // no split leaves 51 on both sides
    EXPECT_EQ(ExtraTreesRegressor(X, y, o).NumNodes(), 10u);
  }
}

TEST(ExtraTrees, RefusesBadInput) {
  const arma::mat X = uniform_points(3, 20, 71);
  const arma::rowvec y = X.row(0);
  ExtraTreesRegressor forest(small(5));
  EXPECT_THROW(forest.Train(arma::mat(3, 0), arma::rowvec()), std::invalid_argument);
  EXPECT_THROW(forest.Train(arma::mat(0, 20), y), std::invalid_argument);
  EXPECT_THROW(forest.Train(X, arma::rowvec(19, arma::fill::zeros)), std::invalid_argument);
  arma::mat X_nan = X;
  X_nan(1, 5) = std::nan("");
  try {
    forest.Train(X_nan, y);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("feature 1, sample 5"), std::string::npos) << e.what();
  }
  arma::rowvec y_nan = y;
  y_nan[3] = std::nan("");
  EXPECT_THROW(forest.Train(X, y_nan), std::invalid_argument);
  arma::rowvec y_inf = y;
  y_inf[3] = HUGE_VAL;
  EXPECT_THROW(forest.Train(X, y_inf), std::invalid_argument);
  EXPECT_FALSE(forest.Trained());

  ExtraTreesOptions o = small(5);
  o.n_trees = 0;
  EXPECT_THROW(ExtraTreesRegressor(X, y, o), std::invalid_argument);
  o = small(5);
  o.min_samples_split = 1;
  EXPECT_THROW(ExtraTreesRegressor(X, y, o), std::invalid_argument);
  o = small(5);
  o.min_samples_leaf = 0;
  EXPECT_THROW(ExtraTreesRegressor(X, y, o), std::invalid_argument);
  o = small(5);
  o.max_features = 4;
  EXPECT_THROW(ExtraTreesRegressor(X, y, o), std::invalid_argument);

  arma::rowvec p;
  EXPECT_THROW(forest.Predict(X, p), std::logic_error);
  EXPECT_THROW(forest.ToJson(), std::logic_error);
  forest.Train(X, y);
  EXPECT_THROW(forest.Predict(arma::mat(2, 4, arma::fill::zeros), p), std::invalid_argument);
  EXPECT_THROW(forest.Predict(arma::vec{0.0, std::nan(""), 0.0}), std::invalid_argument);
  // A failed training keeps the forest it had.
  const std::string before = forest.Serialize();
  EXPECT_THROW(forest.Train(X_nan, y), std::invalid_argument);
  EXPECT_EQ(forest.Serialize(), before);
}

TEST(ExtraTreesSerialization, RoundTripPredictsAndSerialisesIdentically) {
  const arma::mat X = uniform_points(5, 150, 81, -1e9, 1e9);
  arma::rowvec y = 1e-3 * X.row(0) % X.row(1) + 0.37 * X.row(2);
  ExtraTreesOptions o = small(25, 12345678901234567890ull);
  o.max_features = 3;
  o.max_depth = 12;
  o.min_samples_leaf = 2;
  const ExtraTreesRegressor forest(X, y, o);
  const std::string text = forest.Serialize();
  const ExtraTreesRegressor back = ExtraTreesRegressor::Deserialize(text);
  EXPECT_EQ(back.Serialize(), text);
  EXPECT_EQ(back.options().seed, o.seed);
  EXPECT_EQ(back.options().max_features, 3u);
  EXPECT_EQ(back.NumNodes(), forest.NumNodes());
  const arma::mat X_test = uniform_points(5, 200, 82, -1e9, 1e9);
  arma::rowvec p1, p2;
  forest.Predict(X_test, p1);
  back.Predict(X_test, p2);
  for (std::size_t s = 0; s < p1.n_elem; ++s) EXPECT_EQ(p1[s], p2[s]);
  const json j = json::parse(text);
  EXPECT_EQ(j["format"]["name"], "p4s-extra-trees");
  EXPECT_EQ(j["format"]["version"], 1);
}

// Each case breaks one thing in a valid model and names what the error must mention.
struct Broken {
  const char* what;
  void (*apply)(json&);
  const char* mentions;
};

class MalformedForest : public testing::TestWithParam<Broken> {};

TEST_P(MalformedForest, IsRefusedNamingTheProblem) {
  const arma::mat X = uniform_points(2, 40, 91);
  const ExtraTreesRegressor forest(X, plateaus(X), small(3));
  json j = forest.ToJson();
  ASSERT_GT(j["trees"][0]["feature"].size(), 2u);
  ASSERT_GE(j["trees"][0]["feature"][0], 0);  // the root is a split
  GetParam().apply(j);
  try {
    ExtraTreesRegressor::FromJson(j);
    FAIL() << "accepted: " << GetParam().what;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().mentions), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    ExtraTreesSerialization, MalformedForest,
    testing::Values(
        Broken{"newer version", [](json& j) { j["format"]["version"] = 2; },
               "version 2 is not supported (this reader understands version 1)"},
        Broken{"other format", [](json& j) { j["format"]["name"] = "sklearn"; }, "\"format\".\"name\""},
        Broken{"no format", [](json& j) { j.erase("format"); }, "missing field \"format\""},
        Broken{"no options", [](json& j) { j.erase("options"); }, "missing field \"options\""},
        Broken{"bad option", [](json& j) { j["options"]["min_samples_split"] = 1; }, "min_samples_split"},
        Broken{"tree count", [](json& j) { j["trees"].erase(0); }, "has 2 trees, options say 3"},
        Broken{"feature range", [](json& j) { j["trees"][0]["feature"][0] = 2; }, "\"feature\"[0]"},
        Broken{"negative seed", [](json& j) { j["options"]["seed"] = -1; }, "\"seed\""},
        // Found by fuzzing: a non-negative count below its lower bound was not checked, so a
        // forest of no features was read, and its splits on feature 0 read past each point.
        Broken{"no features", [](json& j) { j["n_features"] = 0; }, "\"n_features\": must be in [1, "},
        Broken{"feature beyond int64", [](json& j) { j["trees"][0]["feature"][0] = 18446744073709551615ull; },
               "\"feature\"[0]: must be in [-1, 1]"},
        Broken{"value short", [](json& j) { j["trees"][1]["value"].erase(0); },
               "fewer than the tree's leaves"},
        Broken{"threshold extra", [](json& j) { j["trees"][1]["threshold"].push_back(0.5); },
               "entries for"},
        Broken{"threshold type", [](json& j) { j["trees"][0]["threshold"][0] = "x"; }, "must be a number"},
        Broken{"nodes after the end",
               [](json& j) {
                 json& f = j["trees"][0]["feature"];
                 std::swap(f[0], f[f.size() - 1]);
               },
               "the tree is complete at node 0"},
        Broken{"missing right subtree",
               [](json& j) {
                 json& tree = j["trees"][0];
                 tree["feature"].erase(tree["feature"].size() - 1);
                 tree["value"].erase(tree["value"].size() - 1);
               },
               "ends before every split has a right subtree"},
        Broken{"empty tree",
               [](json& j) {
                 for (const char* k : {"feature", "threshold", "value"}) j["trees"][2][k] = json::array();
               },
               "at least one node"}),
    [](const testing::TestParamInfo<Broken>& p) {
      std::string n = p.param.what;
      for (char& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

TEST(ExtraTreesSerialization, RefusesTextThatIsNotJson) {
  EXPECT_THROW(ExtraTreesRegressor::Deserialize("{\"format\": "), InputError);
  // Found by fuzzing: a number beyond double's range escaped as nlohmann's out_of_range.
  EXPECT_THROW(ExtraTreesRegressor::Deserialize("{\"format\": 1e999}"), InputError);
}


}  // namespace
}  // namespace p4s::predictors
