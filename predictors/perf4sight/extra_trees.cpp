#include "predictors/perf4sight/extra_trees.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <utility>

#include "common/input_error.hpp"
#include "common/json_integer.hpp"
#include "common/rng.hpp"

namespace p4s::predictors {
namespace {

using nlohmann::json;

// sklearn's tree constants: a feature whose range in a node is at most this is constant there
// (FEATURE_THRESHOLD), and a node whose target variance is at most this is pure (EPSILON).
constexpr double kFeatureThreshold = 1e-7;
constexpr double kPureVariance = std::numeric_limits<double>::epsilon();
// Tree-local node indices are int32; a tree has at most 2 * n_samples - 1 nodes.
constexpr std::size_t kMaxSamples = std::size_t{1} << 30;

struct BuiltNode {
  double threshold = 0.0;
  double value = 0.0;
  int32_t feature = -1;
  int32_t right = 0;
};

// Grows one tree at a time, reusing its buffers across trees. Depth-first, left child first,
// so nodes come out in pre-order and a split's left child is the next node.
//
// Layout: the builder keeps its own feature-major copy of X and of y, and when a node splits,
// it partitions every feature's values (and the targets) so that each node's samples occupy
// one contiguous range [start, end) of every column. Scanning a feature over a node is then a
// contiguous, branch-free loop. Sums run in a fixed number of lanes added up in a fixed order
// (and fit/ is compiled with -ffp-contract=off), so results do not depend on the compiler or
// the processor.
class TreeBuilder {
 public:
  TreeBuilder(const std::vector<double>& xt, const arma::rowvec& y, std::size_t n_features,
              const ExtraTreesOptions& options)
      : xt_(xt),
        y_(y),
        n_samples_(y.n_elem),
        n_features_(n_features),
        max_features_(options.max_features == 0 ? n_features : options.max_features),
        options_(options),
        xw_(xt.size()),
        yw_(n_samples_),
        yc_(n_samples_),
        tmp_(n_samples_),
        left_(n_samples_),
        features_(n_features) {}

  std::vector<BuiltNode> Grow(uint64_t seed) {
    Rng rng(seed);
    std::copy(xt_.begin(), xt_.end(), xw_.begin());
    std::copy(y_.begin(), y_.end(), yw_.begin());
    std::iota(features_.begin(), features_.end(), uint32_t{0});
    std::vector<BuiltNode> nodes;
    nodes.reserve(2 * n_samples_);
    struct Task {
      std::size_t start, end, depth;
      int64_t parent;  // >= 0: this node is that node's right child
    };
    std::vector<Task> stack{{0, n_samples_, 0, -1}};
    while (!stack.empty()) {
      const Task task = stack.back();
      stack.pop_back();
      const std::size_t self = nodes.size();
      if (task.parent >= 0)
        nodes[static_cast<std::size_t>(task.parent)].right = static_cast<int32_t>(self);

      BuiltNode node;
      double variance = 0.0;
      node.value = Mean(task.start, task.end, &variance);
      const std::size_t n = task.end - task.start;
      const bool leaf = (options_.max_depth != 0 && task.depth >= options_.max_depth) ||
                        n < options_.min_samples_split || n < 2 * options_.min_samples_leaf ||
                        variance <= kPureVariance;
      std::size_t mid = task.end;
      if (!leaf && FindSplit(task.start, task.end, node.value, rng, &node)) {
        mid = Partition(task.start, task.end, node);
      } else {
        node.feature = -1;
        node.threshold = 0.0;
      }
      nodes.push_back(node);
      if (node.feature >= 0) {
        stack.push_back({mid, task.end, task.depth + 1, static_cast<int64_t>(self)});
        stack.push_back({task.start, mid, task.depth + 1, -1});
      }
    }
    return nodes;
  }

 private:
  const double* column(std::size_t f) const { return xw_.data() + f * n_samples_; }
  double* column(std::size_t f) { return xw_.data() + f * n_samples_; }

  // Sum of v[0, n) in four interleaved lanes, added up in a fixed order.
  static double lane_sum(const double* v, std::size_t n) {
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t k = 0;
    for (; k + 4 <= n; k += 4)
      for (std::size_t l = 0; l < 4; ++l) s[l] += v[k + l];
    for (; k < n; ++k) s[0] += v[k];
    return (s[0] + s[1]) + (s[2] + s[3]);
  }

  // Mean target of the node's samples (exactly the value when they are all equal), and their
  // variance, both in two passes to limit cancellation on large targets such as bytes.
  double Mean(std::size_t start, std::size_t end, double* variance) {
    const std::size_t n = end - start;
    const double* y = yw_.data() + start;
    const auto [lo, hi] = std::minmax_element(y, y + n);
    if (*lo == *hi) {
      *variance = 0.0;
      return *lo;
    }
    const double count = static_cast<double>(n);
    double mean = lane_sum(y, n) / count;
    for (std::size_t k = 0; k < n; ++k) tmp_[k] = y[k] - mean;
    mean += lane_sum(tmp_.data(), n) / count;
    for (std::size_t k = 0; k < n; ++k) tmp_[k] = (y[k] - mean) * (y[k] - mean);
    *variance = lane_sum(tmp_.data(), n) / count;
    return mean;
  }

  // Draws candidate features without replacement (a Fisher-Yates step per draw) until
  // max_features non-constant ones have been tried, one uniform threshold each, and keeps the
  // one with the largest proxy improvement sum_l^2 / n_l + sum_r^2 / n_r (targets centred at
  // the node mean), which orders splits as the decrease of squared error does.
  bool FindSplit(std::size_t start, std::size_t end, double mean, Rng& rng, BuiltNode* best) {
    const std::size_t n = end - start;
    const double* y = yw_.data() + start;
    for (std::size_t k = 0; k < n; ++k) yc_[k] = y[k] - mean;
    const double sum_all = lane_sum(yc_.data(), n);
    const std::size_t min_leaf = options_.min_samples_leaf;
    double best_proxy = -std::numeric_limits<double>::infinity();
    bool found = false;
    std::size_t remaining = n_features_, tried = 0;
    while (remaining > 0 && tried < max_features_) {
      const std::size_t j = static_cast<std::size_t>(rng.below(remaining));
      --remaining;
      std::swap(features_[j], features_[remaining]);
      const uint32_t f = features_[remaining];
      const double* x = column(f) + start;
      double lo0 = x[0], lo1 = x[0], hi0 = x[0], hi1 = x[0];
      std::size_t k = 0;
      for (; k + 2 <= n; k += 2) {
        lo0 = x[k] < lo0 ? x[k] : lo0;
        lo1 = x[k + 1] < lo1 ? x[k + 1] : lo1;
        hi0 = x[k] > hi0 ? x[k] : hi0;
        hi1 = x[k + 1] > hi1 ? x[k + 1] : hi1;
      }
      for (; k < n; ++k) {
        lo0 = x[k] < lo0 ? x[k] : lo0;
        hi0 = x[k] > hi0 ? x[k] : hi0;
      }
      const double lo = std::min(lo0, lo1), hi = std::max(hi0, hi1);
      if (hi <= lo + kFeatureThreshold) continue;  // constant here: does not count as tried
      ++tried;
      // sklearn's rand_uniform(low, high) = (high - low) * u + low, and a threshold equal to
      // the maximum becomes the minimum, so both sides are non-empty.
      double threshold = (hi - lo) * rng.uniform01() + lo;
      if (threshold >= hi) threshold = lo;
      // Four named lanes keep the accumulators in registers; the side is a 0/1 factor, so
      // the loop has no data-dependent branch. Counts in doubles are exact (n < 2^53).
      double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      double c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0;
      const double* yc = yc_.data();
      for (k = 0; k + 4 <= n; k += 4) {
        const double m0 = x[k] <= threshold ? 1.0 : 0.0, m1 = x[k + 1] <= threshold ? 1.0 : 0.0,
                     m2 = x[k + 2] <= threshold ? 1.0 : 0.0, m3 = x[k + 3] <= threshold ? 1.0 : 0.0;
        c0 += m0;
        c1 += m1;
        c2 += m2;
        c3 += m3;
        s0 += m0 * yc[k];
        s1 += m1 * yc[k + 1];
        s2 += m2 * yc[k + 2];
        s3 += m3 * yc[k + 3];
      }
      for (; k < n; ++k) {
        const double m0 = x[k] <= threshold ? 1.0 : 0.0;
        c0 += m0;
        s0 += m0 * yc[k];
      }
      const std::size_t n_left = static_cast<std::size_t>((c0 + c1) + (c2 + c3));
      const std::size_t n_right = n - n_left;
      if (n_left < min_leaf || n_right < min_leaf) continue;
      const double sum_left = (s0 + s1) + (s2 + s3);
      const double sum_right = sum_all - sum_left;
      const double proxy = sum_left * sum_left / static_cast<double>(n_left) +
                           sum_right * sum_right / static_cast<double>(n_right);
      if (proxy > best_proxy) {
        best_proxy = proxy;
        best->feature = static_cast<int32_t>(f);
        best->threshold = threshold;
        found = true;
      }
    }
    return found;
  }

  // Stable partition of the node's range of every column and of the targets: samples with
  // x[feature] <= threshold first. Returns the boundary.
  std::size_t Partition(std::size_t start, std::size_t end, const BuiltNode& node) {
    const std::size_t n = end - start;
    const double* split = column(static_cast<std::size_t>(node.feature)) + start;
    std::size_t n_left = 0;
    for (std::size_t k = 0; k < n; ++k) {
      left_[k] = split[k] <= node.threshold ? 1 : 0;
      n_left += left_[k];
    }
    // Branch-free: every value is written to both destinations and only the matching
    // position advances. In place is safe because the left position never passes k.
    auto partition = [&](double* v) {
      std::size_t l = 0, r = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const double value = v[k];
        v[l] = value;
        tmp_[r] = value;
        l += left_[k];
        r += 1u - left_[k];
      }
      std::copy(tmp_.begin(), tmp_.begin() + static_cast<std::ptrdiff_t>(r), v + l);
    };
    for (std::size_t f = 0; f < n_features_; ++f) partition(column(f) + start);
    partition(yw_.data() + start);
    return start + n_left;
  }

  const std::vector<double>& xt_;  // feature-major copy of X: xt_[f * n_samples + s]
  const arma::rowvec& y_;
  const std::size_t n_samples_, n_features_, max_features_;
  const ExtraTreesOptions& options_;
  std::vector<double> xw_;         // xt_, partitioned node by node
  std::vector<double> yw_;         // y, partitioned alongside
  std::vector<double> yc_, tmp_;   // the node's centred targets; scratch
  std::vector<uint8_t> left_;      // the node's samples going left
  std::vector<uint32_t> features_; // feature indices, permuted by the draws
};

// What is wrong with the options for data with n_features features; empty when nothing is.
std::string options_problem(const ExtraTreesOptions& o, std::size_t n_features) {
  if (o.n_trees == 0) return "n_trees must be at least 1";
  if (o.min_samples_split < 2) return "min_samples_split must be at least 2";
  if (o.min_samples_leaf < 1) return "min_samples_leaf must be at least 1";
  if (o.max_features > n_features)
    return "max_features " + std::to_string(o.max_features) + " exceeds the " +
           std::to_string(n_features) + " features";
  return "";
}

std::size_t worker_count(const ExtraTreesOptions& o) {
  std::size_t threads = o.n_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  return std::min(threads, o.n_trees);
}

// --- Reading the serialised form: every problem names the field.

// A serialised forest nests 3 levels deep (document, trees, tree); deeper JSON is refused.
constexpr int kMaxJsonDepth = 64;

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
  throw InputError("extra-trees model: " + where + ": " + problem);
}

const json& field(const json& obj, const char* name, const std::string& where) {
  if (!obj.is_object()) bad(where, "must be an object");
  const auto it = obj.find(name);
  if (it == obj.end()) bad(where, std::string("missing field \"") + name + "\"");
  return *it;
}

// Preconditions: lo <= hi. JSON text without a sign reads as unsigned; both kinds are
// checked against both bounds.
int64_t read_int(const json& v, const std::string& where, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) bad(where, "must be an integer");
  const std::optional<int64_t> i = json_integer<int64_t>(v);  // nullopt: beyond int64
  if (!i || *i < lo || *i > hi)
    bad(where, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
  return *i;
}

double read_double(const json& v, const std::string& where) {
  if (!v.is_number()) bad(where, "must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) bad(where, "must be finite");
  return d;
}

const json& read_array(const json& obj, const char* name, const std::string& where) {
  const json& a = field(obj, name, where);
  if (!a.is_array()) bad(where + ".\"" + name + "\"", "must be an array");
  return a;
}

}  // namespace

ExtraTreesRegressor::ExtraTreesRegressor(Options options) : options_(options) {}

ExtraTreesRegressor::ExtraTreesRegressor(const arma::mat& X, const arma::rowvec& y,
                                         Options options)
    : options_(options) {
  Train(X, y);
}

double ExtraTreesRegressor::Train(const arma::mat& X, const arma::rowvec& y) {
  if (X.n_rows == 0 || X.n_cols == 0)
    throw std::invalid_argument("ExtraTreesRegressor::Train: X is empty (" +
                                std::to_string(X.n_rows) + " features x " +
                                std::to_string(X.n_cols) + " samples)");
  if (y.n_elem != X.n_cols)
    throw std::invalid_argument("ExtraTreesRegressor::Train: X has " + std::to_string(X.n_cols) +
                                " samples (columns) but y has " + std::to_string(y.n_elem) +
                                " targets");
  if (X.n_cols >= kMaxSamples)
    throw std::invalid_argument("ExtraTreesRegressor::Train: too many samples");
  if (X.n_rows > static_cast<arma::uword>(std::numeric_limits<int32_t>::max()))
    throw std::invalid_argument("ExtraTreesRegressor::Train: too many features");
  if (const std::string problem = options_problem(options_, X.n_rows); !problem.empty())
    throw std::invalid_argument("ExtraTreesRegressor::Train: " + problem);
  const std::size_t n_features = X.n_rows, n_samples = X.n_cols;
  for (std::size_t s = 0; s < n_samples; ++s) {
    if (!std::isfinite(y[s]))
      throw std::invalid_argument("ExtraTreesRegressor::Train: y has a non-finite value (" +
                                  std::to_string(y[s]) + ") at sample " + std::to_string(s));
    for (std::size_t f = 0; f < n_features; ++f)
      if (!std::isfinite(X(f, s)))
        throw std::invalid_argument("ExtraTreesRegressor::Train: X has a non-finite value (" +
                                    std::to_string(X(f, s)) + ") at feature " +
                                    std::to_string(f) + ", sample " + std::to_string(s));
  }

  // Feature-major copy: a node scans one feature over its samples.
  std::vector<double> xt(n_features * n_samples);
  for (std::size_t s = 0; s < n_samples; ++s)
    for (std::size_t f = 0; f < n_features; ++f) xt[f * n_samples + s] = X(f, s);

  const std::vector<uint64_t> seeds = stream_seeds(options_.seed, options_.n_trees);
  std::vector<std::vector<BuiltNode>> trees(options_.n_trees);
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&]() {
    try {
      TreeBuilder builder(xt, y, n_features, options_);
      for (std::size_t t = next++; t < trees.size(); t = next++) trees[t] = builder.Grow(seeds[t]);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = trees.size();
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < worker_count(options_); ++i) workers.emplace_back(work);
  work();
  for (std::thread& w : workers) w.join();
  if (error) std::rethrow_exception(error);

  std::vector<std::size_t> tree_start;
  std::vector<Node> nodes;
  std::size_t total = 0;
  for (const auto& t : trees) total += t.size();
  nodes.reserve(total);
  for (const auto& t : trees) {
    tree_start.push_back(nodes.size());
    for (const BuiltNode& b : t)
      nodes.push_back(Node{b.feature >= 0 ? b.threshold : b.value, b.feature, b.right});
  }
  n_features_ = n_features;
  tree_start_ = std::move(tree_start);
  nodes_ = std::move(nodes);

  double ss = 0.0;
  for (std::size_t s = 0; s < n_samples; ++s) {
    const double d = PredictColumn(X.colptr(s)) - y[s];
    ss += d * d;
  }
  return std::sqrt(ss / static_cast<double>(n_samples));
}

double ExtraTreesRegressor::PredictColumn(const double* x) const {
  double sum = 0.0;
  for (const std::size_t start : tree_start_) {
    const Node* tree = nodes_.data() + start;
    int32_t i = 0;
    while (tree[i].feature >= 0) i = x[tree[i].feature] <= tree[i].x ? i + 1 : tree[i].right;
    sum += tree[i].x;
  }
  return sum / static_cast<double>(tree_start_.size());
}

void ExtraTreesRegressor::Predict(const arma::mat& X, arma::rowvec& predictions) const {
  if (!Trained()) throw std::logic_error("ExtraTreesRegressor::Predict: the forest is not trained");
  if (X.n_rows != n_features_)
    throw std::invalid_argument("ExtraTreesRegressor::Predict: points have " +
                                std::to_string(X.n_rows) + " features (rows), the forest " +
                                std::to_string(n_features_));
  if (!X.is_finite())
    throw std::invalid_argument("ExtraTreesRegressor::Predict: a point has a non-finite value");
  predictions.set_size(X.n_cols);
  for (arma::uword s = 0; s < X.n_cols; ++s) predictions[s] = PredictColumn(X.colptr(s));
}

double ExtraTreesRegressor::Predict(const arma::vec& point) const {
  if (!Trained()) throw std::logic_error("ExtraTreesRegressor::Predict: the forest is not trained");
  if (point.n_elem != n_features_)
    throw std::invalid_argument("ExtraTreesRegressor::Predict: the point has " +
                                std::to_string(point.n_elem) + " features, the forest " +
                                std::to_string(n_features_));
  if (!point.is_finite())
    throw std::invalid_argument("ExtraTreesRegressor::Predict: the point has a non-finite value");
  return PredictColumn(point.memptr());
}

std::size_t ExtraTreesRegressor::NumNodes(std::size_t tree) const {
  if (tree >= tree_start_.size()) throw std::out_of_range("ExtraTreesRegressor::NumNodes: no such tree");
  const std::size_t end = tree + 1 < tree_start_.size() ? tree_start_[tree + 1] : nodes_.size();
  return end - tree_start_[tree];
}

std::size_t ExtraTreesRegressor::Depth(std::size_t tree) const {
  if (tree >= tree_start_.size()) throw std::out_of_range("ExtraTreesRegressor::Depth: no such tree");
  const Node* nodes = nodes_.data() + tree_start_[tree];
  // Pre-order: a node's depth is known when it is reached; right children wait on a stack.
  std::vector<std::pair<int32_t, std::size_t>> stack{{0, 0}};
  std::size_t deepest = 0;
  while (!stack.empty()) {
    const auto [i, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (nodes[i].feature >= 0) {
      stack.push_back({nodes[i].right, depth + 1});
      stack.push_back({i + 1, depth + 1});
    }
  }
  return deepest;
}

json ExtraTreesRegressor::ToJson() const {
  if (!Trained()) throw std::logic_error("ExtraTreesRegressor::ToJson: the forest is not trained");
  json j;
  j["format"] = {{"name", kFormatName}, {"version", kFormatVersion}};
  j["options"] = {{"n_trees", options_.n_trees},
                  {"min_samples_split", options_.min_samples_split},
                  {"min_samples_leaf", options_.min_samples_leaf},
                  {"max_features", options_.max_features},
                  {"max_depth", options_.max_depth},
                  {"seed", options_.seed}};
  j["n_features"] = n_features_;
  json trees = json::array();
  for (std::size_t t = 0; t < NumTrees(); ++t) {
    json feature = json::array(), threshold = json::array(), value = json::array();
    for (std::size_t i = 0; i < NumNodes(t); ++i) {
      const Node& node = nodes_[tree_start_[t] + i];
      feature.push_back(node.feature);
      (node.feature >= 0 ? threshold : value).push_back(node.x);
    }
    trees.push_back({{"feature", std::move(feature)},
                     {"threshold", std::move(threshold)},
                     {"value", std::move(value)}});
  }
  j["trees"] = std::move(trees);
  return j;
}

ExtraTreesRegressor ExtraTreesRegressor::FromJson(const json& j) {
  const json& format = field(j, "format", "top level");
  const json& name = field(format, "name", "field \"format\"");
  if (!name.is_string() || name.get<std::string>() != kFormatName)
    bad("field \"format\".\"name\"", "is " + name.dump() + ", expected \"" + kFormatName + "\"");
  const int64_t version = read_int(field(format, "version", "field \"format\""),
                                   "field \"format\".\"version\"", 0,
                                   std::numeric_limits<int32_t>::max());
  if (version != kFormatVersion)
    bad("field \"format\".\"version\"", "version " + std::to_string(version) +
                                            " is not supported (this reader understands version " +
                                            std::to_string(kFormatVersion) + ")");

  constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();
  const json& o = field(j, "options", "top level");
  const std::string ow = "field \"options\".";
  auto count = [&](const char* key) {
    return static_cast<std::size_t>(read_int(field(o, key, ow), ow + "\"" + key + "\"", 0, kMaxCount));
  };
  Options options;
  options.n_trees = count("n_trees");
  options.min_samples_split = count("min_samples_split");
  options.min_samples_leaf = count("min_samples_leaf");
  options.max_features = count("max_features");
  options.max_depth = count("max_depth");
  const json& seed = field(o, "seed", ow);
  if (!seed.is_number_unsigned()) bad(ow + "\"seed\"", "must be a non-negative integer");
  options.seed = seed.get<uint64_t>();

  const std::size_t n_features = static_cast<std::size_t>(
      read_int(field(j, "n_features", "top level"), "field \"n_features\"", 1, kMaxCount));
  if (const std::string problem = options_problem(options, n_features); !problem.empty())
    bad("field \"options\"", problem);

  const json& trees = read_array(j, "trees", "top level");
  if (trees.size() != options.n_trees)
    bad("field \"trees\"", "has " + std::to_string(trees.size()) + " trees, options say " +
                               std::to_string(options.n_trees));
  ExtraTreesRegressor forest(options);
  forest.n_features_ = n_features;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const std::string tw = "field \"trees\"[" + std::to_string(t) + "]";
    const json& feature = read_array(trees[t], "feature", tw);
    const json& threshold = read_array(trees[t], "threshold", tw);
    const json& value = read_array(trees[t], "value", tw);
    const std::size_t n = feature.size();
    if (n == 0) bad(tw + ".\"feature\"", "a tree needs at least one node");
    if (n > static_cast<std::size_t>(kMaxCount)) bad(tw + ".\"feature\"", "too many nodes");
    const std::size_t start = forest.nodes_.size();
    forest.tree_start_.push_back(start);
    // Rebuild the links from the pre-order: a split's left child is the next node; after a
    // leaf comes the right child of the nearest split still waiting for one, or, when no split
    // waits, the end of the tree.
    std::vector<std::size_t> waiting;  // splits whose right child is not yet known
    std::size_t splits = 0, leaves = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string at = "[" + std::to_string(i) + "]";
      Node node;
      node.feature = static_cast<int32_t>(read_int(feature[i], tw + ".\"feature\"" + at, -1,
                                                   static_cast<int64_t>(n_features) - 1));
      if (node.feature >= 0) {
        if (splits >= threshold.size())
          bad(tw + ".\"threshold\"", "has " + std::to_string(threshold.size()) +
                                          " entries, fewer than the tree's splits");
        node.x = read_double(threshold[splits], tw + ".\"threshold\"[" + std::to_string(splits) + "]");
        ++splits;
        waiting.push_back(start + i);
      } else {
        if (leaves >= value.size())
          bad(tw + ".\"value\"", "has " + std::to_string(value.size()) +
                                      " entries, fewer than the tree's leaves");
        node.x = read_double(value[leaves], tw + ".\"value\"[" + std::to_string(leaves) + "]");
        ++leaves;
        if (waiting.empty()) {
          if (i + 1 != n)
            bad(tw + ".\"feature\"", "the tree is complete at node " + std::to_string(i) +
                                          " but " + std::to_string(n - i - 1) + " nodes follow");
        } else {
          if (i + 1 == n)
            bad(tw + ".\"feature\"", "ends before every split has a right subtree");
          forest.nodes_[waiting.back()].right = static_cast<int32_t>(i + 1);
          waiting.pop_back();
        }
      }
      forest.nodes_.push_back(node);
    }
    if (!waiting.empty()) bad(tw + ".\"feature\"", "ends before every split has a right subtree");
    if (splits != threshold.size())
      bad(tw + ".\"threshold\"", "has " + std::to_string(threshold.size()) + " entries for " +
                                      std::to_string(splits) + " splits");
    if (leaves != value.size())
      bad(tw + ".\"value\"", "has " + std::to_string(value.size()) + " entries for " +
                                  std::to_string(leaves) + " leaves");
  }
  return forest;
}

std::string ExtraTreesRegressor::Serialize() const { return ToJson().dump(); }

ExtraTreesRegressor ExtraTreesRegressor::Deserialize(const std::string& text) {
  json j;
  try {
    // The nesting bound keeps recursive code (dump, comparison) away from absurd depths.
    j = json::parse(text, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth)
        bad("top level", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      return true;
    });
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number beyond double
    throw InputError(std::string("extra-trees model: not JSON: ") + e.what());
  }
  return FromJson(j);
}

}  // namespace p4s::predictors
