// Model files (predictors/model_file.hpp). The reader may throw InputError only; what it accepts
// writes back to text that reads back to the same model, and predicts a number (never NaN,
// never an exception) for a small built-in network, whichever method the file holds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "modelgen/network_library.hpp"
#include "predictors/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p4s;
  const std::string text = fuzz::as_text(data, size);
  const auto model = fuzz::only_throws<InputError>(
      "parse_model", "fuzz: ", [&] { return predictors::parse_model(text, "fuzz"); });
  if (!model) return 0;
  P4S_FUZZ_CHECK(!model->targets().empty(), "a model without targets was accepted");
  const std::string written = predictors::model_to_json(*model);
  P4S_FUZZ_CHECK(predictors::model_to_json(predictors::parse_model(written, "round trip")) == written, "round trip differs");
  static modelgen::NetworkLibrary library;
  static const modelgen::ResolvedNet& net = library.get("squeezenet1.1_cifar10_p90_s1");
  const predictors::Predictor& predictor = *model->predictor;
  for (results::Target t : model->targets()) {
    const std::optional<double> p = fuzz::must_not_throw("predict", [&] { return predictor.predict(net, 2, t); });
    P4S_FUZZ_CHECK(p.has_value(), std::string("no prediction for ") + results::target_name(t));
    P4S_FUZZ_CHECK(!std::isnan(*p), std::string("NaN prediction for ") + results::target_name(t));
    const std::optional<double> d = predictor.demand(net, 2, t);
    P4S_FUZZ_CHECK(d && !std::isnan(*d) && *d >= *p, std::string("demand below prediction for ") + results::target_name(t));
  }
  return 0;
}
