#include "cupti/launch_calls.hpp"

#include <initializer_list>

namespace p4s::cupti {
namespace {

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (s.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace

bool is_work_launch_call(ApiDomain domain, std::string_view name) {
  if (name.find("HostFunc") != std::string_view::npos) return false;
  if (domain == ApiDomain::kRuntime) {
    return starts_with_any(name, {"cudaLaunch", "cudaMemcpy", "cudaMemset", "cudaGraphLaunch"});
  }
  return starts_with_any(name, {"cuLaunch", "cuMemcpy", "cuMemset", "cuGraphLaunch"});
}

}  // namespace p4s::cupti
