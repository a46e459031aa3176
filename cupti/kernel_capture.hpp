// KernelCapture: start recording, mark steps and phases on its clock, collect the records.
//
//   KernelCapture capture = KernelCapture::with_cupti();
//   std::puts(capture.availability().line().c_str());   // once, e.g. at program start
//   capture.start();                                    // fails cleanly when unavailable
//   ... device synchronize; StepRecorder marks (phases.hpp) taken with capture.now_ns() ...
//   ... device synchronize ...
//   CaptureResult r = capture.collect();                // forced flush, decode, loss checks
//
// One thread drives a KernelCapture; CUPTI's own threads only touch the buffer pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cupti/activity_api.hpp"
#include "cupti/records.hpp"

namespace p4s::cupti {

struct CaptureResult {
  ActivityRecords records;
  uint64_t dropped_records = 0;             // CUPTI dropped these (no buffer space)
  uint64_t kernels_without_timestamps = 0;  // CUPTI could not time these kernels
  size_t buffers = 0;                       // activity buffers decoded
  size_t bytes = 0;                         // valid bytes in them
  std::vector<std::string> errors;          // failed CUPTI calls, callback and decoding errors

  // True when nothing was lost: no drops, no untimed kernels, no errors.
  bool complete() const {
    return dropped_records == 0 && kernels_without_timestamps == 0 && errors.empty();
  }
  // One line: counts of records and of anything lost.
  std::string summary() const;
};

class KernelCapture {
 public:
  explicit KernelCapture(std::unique_ptr<ActivityApi> api);
  // Backed by CUPTI (or by the stub when built without it).
  static KernelCapture with_cupti(const CuptiOptions& options = {});

  KernelCapture(KernelCapture&&) noexcept;
  KernelCapture& operator=(KernelCapture&&) noexcept;
  ~KernelCapture();  // stops recording

  Availability availability() const { return api_->availability(); }
  bool available() const { return availability().available; }

  // Starts recording. Fails with a one-line message (nothing enabled) when unavailable.
  Status start(const ActivityKinds& kinds = ActivityKinds::all());
  // Stops recording; what was recorded stays to be collected.
  Status stop();
  bool running() const { return running_; }

  // Precondition: the caller has synchronized the device (e.g. torch::cuda::synchronize()), so
  // that every record is complete. Forces CUPTI to deliver its buffers, decodes them and checks
  // for loss. Any loss (dropped records, untimed kernels, errors) is printed as one warning line
  // on stderr and kept in the result: never silent.
  CaptureResult collect();

  // Now on the records' clock, in ns: use it for step windows and phase marks.
  uint64_t now_ns() const { return api_->now_ns(); }

  ActivityApi& api() { return *api_; }

 private:
  std::unique_ptr<ActivityApi> api_;
  bool running_ = false;
};

}  // namespace p4s::cupti
