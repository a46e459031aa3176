#include "cupti/activity_api.hpp"

#include <chrono>
#include <utility>

namespace p4s::cupti {

std::string Availability::line() const {
  return std::string(available ? "kernel capture on: " : "kernel capture off: ") + detail;
}

namespace {

// Always off; every operation fails with the reason, nothing is ever recorded.
class UnavailableActivityApi final : public ActivityApi {
 public:
  explicit UnavailableActivityApi(std::string reason) : reason_(std::move(reason)) {}

  Availability availability() const override { return Availability::off(reason_); }
  Status enable(const ActivityKinds&) override { return off(); }
  Status disable() override { return Status::success(); }
  Status flush() override { return Status::success(); }
  std::vector<ActivityBuffer> activity_buffers() override { return {}; }
  Status process_activities(const ActivityBuffer&, ActivityRecords&) override { return off(); }
  uint64_t dropped_records(Status* status) override {
    if (status != nullptr) *status = Status::success();
    return 0;
  }
  std::vector<std::string> take_errors() override { return {}; }
  uint64_t now_ns() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }

 private:
  Status off() const { return Status::failure("kernel capture off: " + reason_); }
  std::string reason_;
};

}  // namespace

std::unique_ptr<ActivityApi> make_unavailable_activity_api(std::string reason) {
  return std::make_unique<UnavailableActivityApi>(std::move(reason));
}

}  // namespace p4s::cupti
