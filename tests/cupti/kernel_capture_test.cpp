// KernelCapture driven through the seam by a fake CUPTI: a device thread that fills lent
// buffers and completes them as CUPTI does (full ones from its own thread, the open one from
// inside the forced flush), with records split across buffers and records dropped at the cap.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "cupti/kernel_capture.hpp"

namespace p4s::cupti {
namespace {

// The fake's record format: fixed 64 bytes, like CUPTI's records a multiple of 8.
struct FakeRecord {
  uint32_t kind = 0;  // 1 kernel, 2 launch call
  uint32_t correlation_id = 0;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  char name[40] = {};
};
static_assert(sizeof(FakeRecord) == 64, "the fake's records are 64 bytes");

FakeRecord kernel(uint32_t id) {
  FakeRecord r;
  r.kind = 1;
  r.correlation_id = id;
  r.start_ns = 1000 + 10 * id;
  r.end_ns = r.start_ns + 5;
  std::snprintf(r.name, sizeof r.name, "kernel_%u", id);
  return r;
}

class FakeCupti final : public ActivityApi {
 public:
  explicit FakeCupti(BufferPoolOptions options) : pool_(options) {}
  ~FakeCupti() override { join(); }

  // The device at work: a thread writes `records` into buffers it requests from the pool,
  // completing each full one; the last stays open (lent) until flush().
  void run_async(std::vector<FakeRecord> records) {
    join();
    producer_ = std::thread([this, records = std::move(records)] {
      producer_thread_ = std::this_thread::get_id();
      for (const FakeRecord& r : records) write(r);
    });
  }

  std::thread::id producer_thread() const { return producer_thread_; }
  std::thread::id last_completing_thread() const { return last_completer_; }

  Availability availability() const override { return Availability::on("fake CUPTI"); }
  Status enable(const ActivityKinds&) override {
    enabled_ = true;
    return Status::success();
  }
  Status disable() override {
    enabled_ = false;
    return Status::success();
  }
  Status flush() override {
    join();  // the caller synchronized the device: all work has been written
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_ != nullptr) complete_open();  // forced: the partly filled buffer too
    return Status::success();
  }
  std::vector<ActivityBuffer> activity_buffers() override { return pool_.take_completed(); }
  Status process_activities(const ActivityBuffer& b, ActivityRecords& out) override {
    if (b.valid_bytes() % sizeof(FakeRecord) != 0) return Status::failure("torn record");
    for (size_t at = 0; at < b.valid_bytes(); at += sizeof(FakeRecord)) {
      FakeRecord r;
      std::memcpy(&r, b.data() + at, sizeof r);
      if (r.kind == 1) {
        KernelRecord k;
        k.name = r.name;
        k.start_ns = r.start_ns;
        k.end_ns = r.end_ns;
        k.correlation_id = r.correlation_id;
        out.kernels.push_back(k);
      } else {
        ++out.other_records;
      }
    }
    return Status::success();
  }
  uint64_t dropped_records(Status* status) override {
    if (status != nullptr) *status = Status::success();
    return dropped_.exchange(0);
  }
  std::vector<std::string> take_errors() override { return pool_.take_errors(); }
  uint64_t now_ns() const override { return 42; }

  bool enabled() const { return enabled_; }
  ActivityBufferPool& pool() { return pool_; }

 private:
  void join() {
    if (producer_.joinable()) producer_.join();
  }
  void complete_open() {
    last_completer_ = std::this_thread::get_id();
    pool_.on_buffer_completed(open_, open_size_, open_used_);
    open_ = nullptr;
  }
  void write(const FakeRecord& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_ != nullptr && open_used_ + sizeof r > open_size_) complete_open();
    if (open_ == nullptr) {
      size_t max = 0;
      pool_.on_buffer_requested(&open_, &open_size_, &max);
      open_used_ = 0;
      if (open_ == nullptr) {  // declined: CUPTI drops the record and counts it
        ++dropped_;
        return;
      }
    }
    std::memcpy(open_ + open_used_, &r, sizeof r);
    open_used_ += sizeof r;
  }

  ActivityBufferPool pool_;
  std::thread producer_;
  std::thread::id producer_thread_;
  std::thread::id last_completer_;
  std::mutex mutex_;
  uint8_t* open_ = nullptr;
  size_t open_size_ = 0;
  size_t open_used_ = 0;
  std::atomic<uint64_t> dropped_{0};
  bool enabled_ = false;
};

std::vector<FakeRecord> kernels(uint32_t n) {
  std::vector<FakeRecord> v;
  for (uint32_t i = 0; i < n; ++i) v.push_back(kernel(i));
  return v;
}

TEST(KernelCapture, RecordsSplitAcrossBuffersArriveWholeAndInOrder) {
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{3 * sizeof(FakeRecord), 64});
  FakeCupti* f = fake.get();
  KernelCapture capture(std::move(fake));
  ASSERT_TRUE(capture.start());
  EXPECT_TRUE(f->enabled());
  f->run_async(kernels(100));
  const CaptureResult r = capture.collect();
  EXPECT_TRUE(r.complete()) << r.summary();
  EXPECT_EQ(r.buffers, 34u);  // 33 full buffers of 3, and the last one with 1
  EXPECT_EQ(r.bytes, 100 * sizeof(FakeRecord));
  ASSERT_EQ(r.records.kernels.size(), 100u);
  for (uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(r.records.kernels[i].correlation_id, i);
    EXPECT_EQ(r.records.kernels[i].name, "kernel_" + std::to_string(i));
  }
  EXPECT_EQ(f->pool().in_flight(), 0u);
  EXPECT_TRUE(capture.stop());
  EXPECT_FALSE(f->enabled());
}

TEST(KernelCapture, FullBuffersCompleteOnTheDeviceThreadTheOpenOneInsideTheFlush) {
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{2 * sizeof(FakeRecord), 64});
  FakeCupti* f = fake.get();
  KernelCapture capture(std::move(fake));
  ASSERT_TRUE(capture.start());
  f->run_async(kernels(4));  // two full buffers, completed on the device thread
  f->run_async(kernels(1));  // joins the first run; this one leaves a buffer open
  const CaptureResult r = capture.collect();  // joins the device thread, then completes the rest
  EXPECT_NE(f->producer_thread(), std::this_thread::get_id());
  EXPECT_EQ(f->last_completing_thread(), std::this_thread::get_id());
  EXPECT_EQ(r.records.kernels.size(), 5u);
  EXPECT_TRUE(r.complete()) << r.summary();
}

TEST(KernelCapture, CollectingAgainReturnsOnlyWhatIsNew) {
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{4 * sizeof(FakeRecord), 64});
  FakeCupti* f = fake.get();
  KernelCapture capture(std::move(fake));
  ASSERT_TRUE(capture.start());
  f->run_async(kernels(10));
  EXPECT_EQ(capture.collect().records.kernels.size(), 10u);
  EXPECT_EQ(capture.collect().records.kernels.size(), 0u);
  f->run_async(kernels(3));
  EXPECT_EQ(capture.collect().records.kernels.size(), 3u);
}

TEST(KernelCapture, DroppedRecordsAreCountedAndReportedNeverSilent) {
  // Two buffers of 3 records and a consumer that does not collect during the run: the third
  // request is declined, so 6 records survive and 94 are dropped.
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{3 * sizeof(FakeRecord), 2});
  FakeCupti* f = fake.get();
  KernelCapture capture(std::move(fake));
  ASSERT_TRUE(capture.start());
  f->run_async(kernels(100));
  testing::internal::CaptureStderr();
  const CaptureResult r = capture.collect();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.records.kernels.size(), 6u);
  EXPECT_EQ(r.dropped_records, 94u);
  EXPECT_FALSE(r.complete());
  EXPECT_NE(r.summary().find("CUPTI dropped 94 records"), std::string::npos) << r.summary();
  ASSERT_FALSE(r.errors.empty());  // the pool's note that the cap was reached
  EXPECT_NE(r.errors[0].find("cap reached"), std::string::npos) << r.errors[0];
  EXPECT_NE(err.find("warning: incomplete capture"), std::string::npos) << err;
  EXPECT_NE(err.find("dropped 94"), std::string::npos) << err;
  // Counted once: the next collection starts from zero.
  EXPECT_EQ(capture.collect().dropped_records, 0u);
}

TEST(KernelCapture, UntimedKernelsMakeTheCaptureIncomplete) {
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{4 * sizeof(FakeRecord), 8});
  FakeCupti* f = fake.get();
  KernelCapture capture(std::move(fake));
  ASSERT_TRUE(capture.start());
  std::vector<FakeRecord> records = kernels(3);
  records[1].start_ns = records[1].end_ns = 0;  // CUPTI's "could not time it"
  f->run_async(records);
  testing::internal::CaptureStderr();
  const CaptureResult r = capture.collect();
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.kernels_without_timestamps, 1u);
  EXPECT_FALSE(r.complete());
}

TEST(KernelCapture, StartsOnceAndStops) {
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{});
  FakeCupti* f = fake.get();
  KernelCapture capture(std::move(fake));
  ASSERT_TRUE(capture.start());
  EXPECT_TRUE(capture.running());
  const Status again = capture.start();
  EXPECT_FALSE(again);
  EXPECT_EQ(again.message, "kernel capture already started");
  EXPECT_EQ(capture.now_ns(), 42u);
  EXPECT_TRUE(f->enabled());
  EXPECT_TRUE(capture.stop());
  EXPECT_FALSE(f->enabled());
  EXPECT_FALSE(capture.running());
}

TEST(KernelCapture, UnavailableCaptureFailsCleanlyAndCollectsNothing) {
  KernelCapture capture(make_unavailable_activity_api("no CUDA driver (libcuda.so.1 not found)"));
  EXPECT_FALSE(capture.available());
  EXPECT_EQ(capture.availability().line(),
            "kernel capture off: no CUDA driver (libcuda.so.1 not found)");
  const Status s = capture.start();
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message, "kernel capture off: no CUDA driver (libcuda.so.1 not found)");
  EXPECT_FALSE(capture.running());
  const CaptureResult r = capture.collect();
  EXPECT_EQ(r.records.size(), 0u);
  EXPECT_TRUE(r.complete());
  EXPECT_TRUE(capture.stop());
}

TEST(KernelCapture, MovingKeepsTheApiAndLeavesAnUnavailableShell) {
  auto fake = std::make_unique<FakeCupti>(BufferPoolOptions{});
  KernelCapture a(std::move(fake));
  ASSERT_TRUE(a.start());
  KernelCapture b(std::move(a));
  EXPECT_TRUE(b.running());
  EXPECT_TRUE(b.available());
  EXPECT_FALSE(a.available());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_FALSE(a.running());
}

}  // namespace
}  // namespace p4s::cupti
