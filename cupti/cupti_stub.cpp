// Built instead of the CUPTI-backed files when P4S_HAVE_CUPTI is off: everything builds and runs,
// and kernel capture says why it is off.
#include "cupti/activity_api.hpp"
#include "cupti/selftest.hpp"

namespace p4s::cupti {
namespace {

constexpr const char* kReason =
    "built without CUPTI (configured with P4S_WITH_CUPTI=OFF, or no CUPTI found; see the CMake "
    "summary)";

}  // namespace

std::unique_ptr<ActivityApi> make_cupti_activity_api(const CuptiOptions& /*options*/) {
  return make_unavailable_activity_api(kReason);
}

bool built_with_cupti() { return false; }

SelftestReport run_cupti_selftest(const SelftestOptions& /*options*/) {
  SelftestReport r;
  r.availability_line = make_unavailable_activity_api(kReason)->availability().line();
  return r;
}

}  // namespace p4s::cupti
