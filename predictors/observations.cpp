#include "predictors/observations.hpp"

#include <set>

namespace p4s::predictors {

std::vector<Observation> make_observations(const results::ResultSet& results, modelgen::NetworkLibrary& library) {
  std::vector<Observation> out;
  out.reserve(results.nets.size());
  for (const results::NetResult& r : results.nets) {
    Observation o;
    o.net = &library.get(r.net);
    o.family = modelgen::family_of(r.net);
    o.batch = r.batch;
    o.fits = r.fits;
    o.values = r.values;
    o.recipe = r.recipe;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> families_of(const std::vector<Observation>& observations) {
  std::set<std::string> f;
  for (const Observation& o : observations) f.insert(o.family);
  return {f.begin(), f.end()};
}

std::vector<results::Recipe> recipes_of(const std::vector<Observation>& observations) {
  std::set<results::Recipe> r;
  for (const Observation& o : observations) r.insert(o.recipe);
  return {r.begin(), r.end()};
}

}  // namespace p4s::predictors
