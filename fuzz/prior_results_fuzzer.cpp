// Results files read to resume a sweep (sweep_guard/prior_results.hpp). The reader may throw
// InputError only; what it returns must be what a resumed file is rewritten from: every entry
// JSON that parses back to an object, one case name per entry at most, none empty.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/input_error.hpp"
#include "fuzz/fuzz_target.hpp"
#include "sweep_guard/prior_results.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p4s;
  const std::string text = fuzz::as_text(data, size);
  const auto prior = fuzz::only_throws<InputError>(
      "parse_prior_results", "fuzz: ", [&] { return sweep_guard::parse_prior_results(text, "fuzz"); });
  if (!prior) return 0;
  P4S_FUZZ_CHECK(prior->done.size() <= prior->entries.size(), "more cases than entries");
  for (const std::string& name : prior->done) P4S_FUZZ_CHECK(!name.empty(), "an empty case name");
  for (const std::string& e : prior->entries) {
    const nlohmann::json j = nlohmann::json::parse(e, nullptr, false);
    P4S_FUZZ_CHECK(!j.is_discarded() && j.is_object(), "an entry that is no JSON object: " + e.substr(0, 80));
  }
  return 0;
}
