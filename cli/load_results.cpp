#include "cli/load_results.hpp"

#include <stdexcept>

#include "cli/command.hpp"
#include "modelgen/netspec.hpp"
#include "sim/predictable.hpp"

namespace p4s::cli {

std::string sources_text(const std::vector<std::string>& sources) {
  if (sources.empty()) return "the result files";
  if (sources.size() == 1) return sources.front();
  return sources.front() + " (and " + std::to_string(sources.size() - 1) + " more result files)";
}

LoadedResults load_results(const std::vector<std::string>& files, const std::vector<std::string>& netspec_dirs) {
  LoadedResults r;
  r.results = results::read_results(files);
  r.library = std::make_unique<modelgen::NetworkLibrary>(netspec_dirs);
  r.observations = predictors::make_observations(r.results, *r.library);
  const std::string names = sources_text(r.results.sources);
  if (r.observations.empty()) throw InputError(names + ": no Net/<net>/bs:<N> cases");
  for (const predictors::Observation& o : r.observations)
    if (o.batch > sim::max_predictable_batch(o.net->shapes))
      throw InputError(names + ": case Net/" + o.net->spec.name + "/bs:" + std::to_string(o.batch) +
                       ": the step's tensors would take more than 2^50 bytes at this batch, beyond what can "
                       "be fitted or predicted");
  return r;
}

}  // namespace p4s::cli
