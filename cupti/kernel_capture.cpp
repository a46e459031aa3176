#include "cupti/kernel_capture.hpp"

#include <cstdio>
#include <utility>

namespace p4s::cupti {

std::string CaptureResult::summary() const {
  std::string s = std::to_string(records.kernels.size()) + " kernels, " +
                  std::to_string(records.memcpys.size()) + " memcpy, " +
                  std::to_string(records.memsets.size()) + " memset, " +
                  std::to_string(records.memory.size()) + " memory, " +
                  std::to_string(records.api_calls.size()) + " launch-call records from " +
                  std::to_string(buffers) + " buffers";
  if (dropped_records > 0) s += "; CUPTI dropped " + std::to_string(dropped_records) + " records";
  if (kernels_without_timestamps > 0) {
    s += "; " + std::to_string(kernels_without_timestamps) + " kernels without timestamps";
  }
  if (!errors.empty()) {
    s += "; " + std::to_string(errors.size()) + " errors (first: " + errors.front() + ")";
  }
  return s;
}

KernelCapture::KernelCapture(std::unique_ptr<ActivityApi> api) : api_(std::move(api)) {
  if (!api_) api_ = make_unavailable_activity_api("no activity API given");
}

KernelCapture KernelCapture::with_cupti(const CuptiOptions& options) {
  return KernelCapture(make_cupti_activity_api(options));
}

KernelCapture::KernelCapture(KernelCapture&& other) noexcept
    : api_(std::move(other.api_)), running_(other.running_) {
  other.running_ = false;
  other.api_ = make_unavailable_activity_api("moved from");
}

KernelCapture& KernelCapture::operator=(KernelCapture&& other) noexcept {
  if (this != &other) {
    if (running_) static_cast<void>(api_->disable());
    api_ = std::move(other.api_);
    running_ = other.running_;
    other.running_ = false;
    other.api_ = make_unavailable_activity_api("moved from");
  }
  return *this;
}

KernelCapture::~KernelCapture() {
  if (running_ && api_) {
    const Status s = api_->disable();
    if (!s) std::fprintf(stderr, "p4s cupti: %s\n", s.message.c_str());
  }
}

Status KernelCapture::start(const ActivityKinds& kinds) {
  if (running_) return Status::failure("kernel capture already started");
  Status s = api_->enable(kinds);
  running_ = s.ok;
  return s;
}

Status KernelCapture::stop() {
  if (!running_) return Status::success();
  running_ = false;
  return api_->disable();
}

CaptureResult KernelCapture::collect() {
  CaptureResult r;
  if (!available()) return r;
  if (Status s = api_->flush(); !s) r.errors.push_back(s.message);
  for (const ActivityBuffer& b : api_->activity_buffers()) {
    ++r.buffers;
    r.bytes += b.valid_bytes();
    if (Status s = api_->process_activities(b, r.records); !s) r.errors.push_back(s.message);
  }
  Status dropped_status;
  r.dropped_records = api_->dropped_records(&dropped_status);
  if (!dropped_status) r.errors.push_back(dropped_status.message);
  for (std::string& e : api_->take_errors()) r.errors.push_back(std::move(e));
  for (const KernelRecord& k : r.records.kernels) {
    if (!k.has_timestamps()) ++r.kernels_without_timestamps;
  }
  if (!r.complete()) {
    std::fprintf(stderr, "p4s cupti: warning: incomplete capture: %s\n", r.summary().c_str());
  }
  return r;
}

}  // namespace p4s::cupti
