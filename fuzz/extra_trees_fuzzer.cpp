// Serialised ExtraTrees forests (predictors/perf4sight/extra_trees.hpp), the predictors inside model files. The
// reader may throw InputError only; a forest it accepts must predict without
// leaving its arrays and serialise to text that reads back to the same bytes.
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "predictors/perf4sight/extra_trees.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using p4s::predictors::ExtraTreesRegressor;
  using p4s::fuzz::must_not_throw;
  const std::string text = p4s::fuzz::as_text(data, size);
  const auto forest = p4s::fuzz::only_throws<p4s::InputError>(
      "Deserialize", "extra-trees model: ", [&] { return ExtraTreesRegressor::Deserialize(text); });
  if (!forest) return 0;

  P4S_FUZZ_CHECK(forest->Trained() && forest->NumTrees() == forest->options().n_trees, "trees");
  std::size_t nodes = 0;
  for (std::size_t t = 0; t < forest->NumTrees(); ++t) {
    nodes += forest->NumNodes(t);
    P4S_FUZZ_CHECK(forest->Depth(t) < forest->NumNodes(t), "tree " + std::to_string(t));
  }
  P4S_FUZZ_CHECK(nodes == forest->NumNodes(), "node counts");

  // Every walk must end at a leaf inside its tree, whichever way the points fall.
  const std::size_t n = forest->NumFeatures();
  arma::mat points(n, 3);
  points.col(0).zeros();
  points.col(1).fill(-1e300);
  points.col(2).fill(1e300);
  arma::rowvec predictions;
  must_not_throw("Predict", [&] {
    forest->Predict(points, predictions);
    return 0;
  });
  P4S_FUZZ_CHECK(predictions.n_elem == 3, "one prediction per point");

  const std::string written = must_not_throw("Serialize", [&] { return forest->Serialize(); });
  const ExtraTreesRegressor back = must_not_throw(
      "Deserialize(Serialize())", [&] { return ExtraTreesRegressor::Deserialize(written); });
  P4S_FUZZ_CHECK(back.Serialize() == written, "the written forest reads back different");
  arma::rowvec again;
  back.Predict(points, again);
  for (arma::uword i = 0; i < again.n_elem; ++i)
    P4S_FUZZ_CHECK(std::memcmp(&again[i], &predictions[i], sizeof(double)) == 0,
                   "the forest read back predicts differently");
  return 0;
}
