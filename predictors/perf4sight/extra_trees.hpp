// Extremely randomised trees for regression (Geurts, Ernst & Wehenkel, 2006) with
// scikit-learn's ExtraTreesRegressor semantics, as the perf4sight baseline uses it (300 trees,
// every other setting at sklearn's default):
//   - every tree sees all training samples (no bootstrap);
//   - at each node, candidate features are drawn without replacement until `max_features`
//     non-constant ones have been tried (constant ones do not count; all features by default);
//     for each, one threshold uniform in [min, max) of that feature over the node's samples;
//     samples with x <= threshold go left; the candidate with the largest reduction of the
//     squared error wins (first one on ties), and splits that leave fewer than
//     `min_samples_leaf` samples on a side are not candidates;
//   - a node is a leaf when it is at `max_depth`, holds fewer than `min_samples_split` (or
//     2 * min_samples_leaf) samples, its target variance is <= DBL_EPSILON (sklearn's purity
//     test), or no feature varies in it (variation <= 1e-7, sklearn's FEATURE_THRESHOLD);
//   - a leaf predicts the mean target of its samples; the forest, the mean over its trees.
//
// Armadillo's convention: X holds one sample per COLUMN (n_features x n_samples), y one target
// per sample (1 x n_samples).
//
// Deterministic and portable: the same data, options and seed give the same forest, bit for
// bit, on any platform. Randomness comes from std::mt19937_64 (whose output the C++ standard
// fixes) converted by fit/rng.hpp, never from implementation-defined std distributions. Tree t
// draws from its own stream, seeded with the t-th output of std::mt19937_64(seed), so training
// on several threads gives the same forest as on one. Sums are taken in a fixed order and the
// library is compiled without floating-point contraction (no FMA fusing).
//
// Differences from sklearn, none of which changes what the method is:
//   - random numbers: another generator, so not the same trees as sklearn for a given seed;
//   - precision: sklearn casts X to float32 before fitting and predicting; here X stays
//     double, so features that differ by less than float32 resolution still separate;
//   - arithmetic: split quality is computed on targets centred at the node mean, and node
//     variance in two passes, which is the same quantity with less cancellation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <armadillo>
#include <nlohmann/json_fwd.hpp>

#include "common/input_error.hpp"

namespace p4s::predictors {

struct ExtraTreesOptions {
  std::size_t n_trees = 300;           // perf4sight's n_estimators
  std::size_t min_samples_split = 2;   // >= 2
  std::size_t min_samples_leaf = 1;    // >= 1
  std::size_t max_features = 0;        // candidates per node; 0 = all (sklearn's regressor default)
  std::size_t max_depth = 0;           // 0 = unlimited
  uint64_t seed = 0;
  // Worker threads for training; 0 = the hardware's. Never changes the result, and is not
  // part of the model (not serialised).
  std::size_t n_threads = 0;
};

class ExtraTreesRegressor {
 public:
  using Options = ExtraTreesOptions;

  // An untrained forest with these options (train it with Train, or read one with FromJson).
  explicit ExtraTreesRegressor(Options options = {});
  // Constructs and trains: see Train.
  ExtraTreesRegressor(const arma::mat& X, const arma::rowvec& y, Options options = {});

  // Grows the forest on X (n_features x n_samples, one sample per column) and targets y
  // (1 x n_samples), replacing any previous forest. Returns the root-mean-square error of the
  // forest's predictions on the training samples, in the unit of y.
  // Throws std::invalid_argument (and keeps the previous forest) when X or y is empty, their
  // sizes disagree, a value is NaN or infinite, or the options are invalid (n_trees == 0,
  // min_samples_split < 2, min_samples_leaf == 0, max_features > n_features).
  double Train(const arma::mat& X, const arma::rowvec& y);

  // Predictions for X (n_features x n_points, one point per column), resized to 1 x n_points.
  // Throws std::logic_error if untrained; std::invalid_argument if X has the wrong number of
  // rows or a non-finite value.
  void Predict(const arma::mat& X, arma::rowvec& predictions) const;
  // The prediction for one point (n_features values). Same errors.
  double Predict(const arma::vec& point) const;

  bool Trained() const { return !tree_start_.empty(); }
  const Options& options() const { return options_; }
  std::size_t NumFeatures() const { return n_features_; }
  std::size_t NumTrees() const { return tree_start_.size(); }
  std::size_t NumNodes() const { return nodes_.size(); }  // over all trees
  std::size_t NumNodes(std::size_t tree) const;           // precondition: tree < NumTrees()
  std::size_t Depth(std::size_t tree) const;              // edges root to deepest leaf

  // Versioned serialisation: {"format": {"name": "p4s-extra-trees", "version": 1}, "options",
  // "n_features", "trees": [{"feature", "threshold", "value"}, ...]}. A tree's nodes are listed
  // in pre-order, left subtree first, which fixes its shape: "feature" has one entry per node
  // (-1 at leaves), "threshold" one per split and "value" (the mean training target) one per
  // leaf, both in that order. Doubles are written so that they read back exactly, so a forest
  // read back predicts bit for bit the same and serialises to the same bytes.
  nlohmann::json ToJson() const;
  // Reads ToJson's output. Throws InputError naming the field and the problem,
  // for another format, a version this reader does not understand, or a malformed forest.
  static ExtraTreesRegressor FromJson(const nlohmann::json& j);
  // ToJson() as compact text, and its inverse (which also refuses text that is not JSON).
  std::string Serialize() const;
  static ExtraTreesRegressor Deserialize(const std::string& text);

  static constexpr const char* kFormatName = "p4s-extra-trees";
  static constexpr int kFormatVersion = 1;

 private:
  // One node; 16 bytes, all trees in one array, so prediction walks contiguous memory.
  struct Node {
    double x = 0.0;        // splits: the threshold (x[feature] <= it goes left); leaves: the value
    int32_t feature = -1;  // -1: leaf
    int32_t right = 0;     // splits: tree-local index of the right child; left is index + 1
  };
  double PredictColumn(const double* x) const;

  Options options_;
  std::size_t n_features_ = 0;
  std::vector<std::size_t> tree_start_;  // index of each tree's root in nodes_
  std::vector<Node> nodes_;
};

}  // namespace p4s::predictors
