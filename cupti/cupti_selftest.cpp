// The GPU self-test (selftest.hpp). Uses the CUDA driver API through dlopen, like the probe, so
// that nothing links libcuda; cuda.h gives the types only.
#include <cuda.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cupti/counters.hpp"
#include "cupti/kernel_capture.hpp"
#include "cupti/kernel_trace.hpp"
#include "cupti/phases.hpp"
#include "cupti/selftest.hpp"
#include "cupti/step_aggregate.hpp"

namespace p4s::cupti {
namespace {

// data[i] *= factor for i < count. PTX 6.0 for sm_50: any driver from CUDA 9 on JIT-compiles it
// for the device at hand.
constexpr const char kPtx[] = R"(
.version 6.0
.target sm_50
.address_size 64

.visible .entry p4s_selftest_scale(
    .param .u64 p4s_data,
    .param .u32 p4s_count,
    .param .f32 p4s_factor)
{
    .reg .pred %p<2>;
    .reg .b32 %r<6>;
    .reg .f32 %f<3>;
    .reg .b64 %rd<5>;

    ld.param.u64 %rd1, [p4s_data];
    ld.param.u32 %r1, [p4s_count];
    ld.param.f32 %f1, [p4s_factor];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ntid.x;
    mov.u32 %r4, %tid.x;
    mad.lo.s32 %r5, %r2, %r3, %r4;
    setp.ge.u32 %p1, %r5, %r1;
    @%p1 bra DONE;
    cvta.to.global.u64 %rd2, %rd1;
    mul.wide.u32 %rd3, %r5, 4;
    add.s64 %rd4, %rd2, %rd3;
    ld.global.f32 %f2, [%rd4];
    mul.f32 %f2, %f2, %f1;
    st.global.f32 [%rd4], %f2;
DONE:
    ret;
}
)";
constexpr const char kKernel[] = "p4s_selftest_scale";

struct Driver {
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDeviceGet) device_get = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) ctx_retain = nullptr;
  decltype(&::cuDevicePrimaryCtxRelease) ctx_release = nullptr;
  decltype(&::cuCtxSetCurrent) ctx_set_current = nullptr;
  decltype(&::cuCtxSynchronize) synchronize = nullptr;
  decltype(&::cuModuleLoadData) module_load = nullptr;
  decltype(&::cuModuleGetFunction) module_function = nullptr;
  decltype(&::cuModuleUnload) module_unload = nullptr;
  decltype(&::cuMemAlloc) mem_alloc = nullptr;
  decltype(&::cuMemFree) mem_free = nullptr;
  decltype(&::cuMemcpyHtoD) htod = nullptr;
  decltype(&::cuMemcpyDtoH) dtoh = nullptr;
  decltype(&::cuMemsetD32) memset32 = nullptr;
  decltype(&::cuLaunchKernel) launch = nullptr;
  decltype(&::cuGetErrorName) error_name = nullptr;
};

template <typename F>
bool resolve(void* lib, const char* name, F& fn, std::string& missing) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (fn == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
  return fn != nullptr;
}

// Binds the versioned entry points that cuda.h's macros name (cuMemAlloc -> cuMemAlloc_v2, ...).
std::string load_driver(const std::string& library, Driver& d) {
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return "cannot open " + library;
  std::string missing;
  resolve(lib, "cuInit", d.init, missing);
  resolve(lib, "cuDeviceGet", d.device_get, missing);
  resolve(lib, "cuDevicePrimaryCtxRetain", d.ctx_retain, missing);
  resolve(lib, "cuDevicePrimaryCtxRelease_v2", d.ctx_release, missing);
  resolve(lib, "cuCtxSetCurrent", d.ctx_set_current, missing);
  resolve(lib, "cuCtxSynchronize", d.synchronize, missing);
  resolve(lib, "cuModuleLoadData", d.module_load, missing);
  resolve(lib, "cuModuleGetFunction", d.module_function, missing);
  resolve(lib, "cuModuleUnload", d.module_unload, missing);
  resolve(lib, "cuMemAlloc_v2", d.mem_alloc, missing);
  resolve(lib, "cuMemFree_v2", d.mem_free, missing);
  resolve(lib, "cuMemcpyHtoD_v2", d.htod, missing);
  resolve(lib, "cuMemcpyDtoH_v2", d.dtoh, missing);
  resolve(lib, "cuMemsetD32_v2", d.memset32, missing);
  resolve(lib, "cuLaunchKernel", d.launch, missing);
  resolve(lib, "cuGetErrorName", d.error_name, missing);
  return missing.empty() ? std::string() : library + " lacks " + missing;
}

class Selftest {
 public:
  Selftest(const SelftestOptions& options, SelftestReport& report)
      : options_(options), report_(report) {}

  void run();

 private:
  // Records a failed driver call; returns whether it succeeded.
  bool call(CUresult r, const char* what) {
    if (r == CUDA_SUCCESS) return true;
    const char* name = nullptr;
    if (d_.error_name == nullptr || d_.error_name(r, &name) != CUDA_SUCCESS) name = nullptr;
    report_.failures.push_back(std::string(what) + " failed: " +
                               (name != nullptr ? name : std::to_string(static_cast<int>(r))));
    return false;
  }
  void expect(bool ok, const std::string& what) {
    (ok ? report_.checks : report_.failures).push_back(what);
  }
  bool launch(CUfunction fn, CUdeviceptr data, unsigned count, float factor) {
    void* args[] = {&data, &count, &factor};
    return call(d_.launch(fn, (count + kBlock - 1) / kBlock, 1, 1, kBlock, 1, 1, 0, nullptr, args,
                          nullptr),
                "cuLaunchKernel");
  }
  void check(const CaptureResult& result, const StepWindow& window, CUdeviceptr a, CUdeviceptr b);

  static constexpr unsigned kBlock = 256;
  static constexpr unsigned kCountA = 1u << 20;  // floats
  static constexpr unsigned kCountB = 1u << 19;
  static constexpr float kFactor = 0.5f;

  const SelftestOptions& options_;
  SelftestReport& report_;
  Driver d_;
};

void Selftest::run() {
  KernelCapture capture = KernelCapture::with_cupti(options_.cupti);
  report_.availability_line = capture.availability().line();
  if (!capture.available()) return;
  report_.ran = true;
  if (const std::string why = load_driver(options_.cupti.driver_library, d_); !why.empty()) {
    report_.failures.push_back(why);
    return;
  }
  const int k = options_.launches_per_phase;
  CUdevice device = 0;
  CUcontext context = nullptr;
  if (!call(d_.init(0), "cuInit") || !call(d_.device_get(&device, 0), "cuDeviceGet") ||
      !call(d_.ctx_retain(&context, device), "cuDevicePrimaryCtxRetain")) {
    return;
  }
  CUmodule module = nullptr;
  CUfunction fn = nullptr;
  CUdeviceptr a = 0, b = 0;
  std::vector<float> host(kCountA);
  for (unsigned i = 0; i < kCountA; ++i) host[i] = static_cast<float>(i % 1024);
  bool ok = call(d_.ctx_set_current(context), "cuCtxSetCurrent") &&
            call(d_.module_load(&module, kPtx), "cuModuleLoadData (PTX JIT)") &&
            call(d_.module_function(&fn, module, kKernel), "cuModuleGetFunction");

  StepRecorder recorder([&] { return capture.now_ns(); });
  StepWindow window;
  if (ok) {
    if (Status s = capture.start(); !s) {
      report_.failures.push_back("capture.start: " + s.message);
      ok = false;
    }
  }
  if (ok) {
    ok = call(d_.synchronize(), "cuCtxSynchronize");
    recorder.begin_step();
    recorder.begin_phase(Phase::kForward);
    ok = ok && call(d_.mem_alloc(&a, kCountA * sizeof(float)), "cuMemAlloc") &&
         call(d_.htod(a, host.data(), kCountA * sizeof(float)), "cuMemcpyHtoD");
    for (int i = 0; ok && i < k; ++i) ok = launch(fn, a, kCountA, kFactor);
    recorder.begin_phase(Phase::kBackward);
    ok = ok && call(d_.mem_alloc(&b, kCountB * sizeof(float)), "cuMemAlloc") &&
         call(d_.memset32(b, 0x3f800000u, kCountB), "cuMemsetD32");  // 1.0f
    for (int i = 0; ok && i < k; ++i) ok = launch(fn, b, kCountB, kFactor);
    recorder.begin_phase(Phase::kOptimizerStep);
    for (int i = 0; ok && i < k; ++i) ok = launch(fn, a, kCountA, kFactor);
    ok = ok && call(d_.mem_free(b), "cuMemFree");
    recorder.end_phase();
    ok = call(d_.synchronize(), "cuCtxSynchronize") && ok;
    window = recorder.end_step();
    // After the step: a copy back that must not count in the step, and the result's check.
    std::vector<float> back(kCountA);
    if (ok && call(d_.dtoh(back.data(), a, kCountA * sizeof(float)), "cuMemcpyDtoH")) {
      const float scale = std::pow(kFactor, static_cast<float>(2 * k));
      bool same = true;
      for (unsigned i = 0; i < kCountA && same; ++i) same = back[i] == host[i] * scale;
      expect(same, "the kernel computed what it should (the launches really ran)");
    }
    if (a != 0) call(d_.mem_free(a), "cuMemFree");
    call(d_.synchronize(), "cuCtxSynchronize");
  }
  CaptureResult result = capture.collect();
  if (Status s = capture.stop(); !s) report_.failures.push_back("capture.stop: " + s.message);
  if (module != nullptr) call(d_.module_unload(module), "cuModuleUnload");
  call(d_.ctx_release(device), "cuDevicePrimaryCtxRelease");
  if (ok) check(result, window, a, b);
}

void Selftest::check(const CaptureResult& r, const StepWindow& w, CUdeviceptr a, CUdeviceptr b) {
  const int k = options_.launches_per_phase;
  expect(r.complete(), "capture complete: " + r.summary());
  expect(w.check().empty(), "step window well formed " + w.check());

  const LaunchIndex launches(r.records.api_calls);
  expect(!launches.empty(), std::to_string(r.records.api_calls.size()) + " launch-call records");
  int ours = 0, in_window = 0, shaped = 0, timed_after_launch = 0;
  int by_phase[3] = {0, 0, 0};
  for (const KernelRecord& kr : r.records.kernels) {
    if (kr.name != kKernel) continue;
    ++ours;
    if (kr.has_timestamps() && kr.start_ns >= w.start_ns && kr.end_ns <= w.end_ns) ++in_window;
    const int32_t grid_a = static_cast<int32_t>(kCountA / kBlock);
    const int32_t grid_b = static_cast<int32_t>(kCountB / kBlock);
    if ((kr.grid_x == grid_a || kr.grid_x == grid_b) && kr.grid_y == 1 && kr.grid_z == 1 &&
        kr.block_x == static_cast<int32_t>(kBlock) && kr.block_y == 1 && kr.block_z == 1 &&
        kr.registers_per_thread > 0) {
      ++shaped;
    }
    // A kernel cannot start before its launch call; allow CUPTI's clock conversion 50 us.
    const std::optional<uint64_t> t = launches.launch_ns(kr.correlation_id);
    if (t && kr.start_ns + 50000 >= *t) ++timed_after_launch;
    if (const std::optional<Phase> p = launch_phase(kr.correlation_id, w, launches)) {
      ++by_phase[static_cast<int>(*p)];
    }
  }
  const std::string n = std::to_string(3 * k);
  expect(ours == 3 * k, std::to_string(ours) + " of " + n + " kernels recorded by name");
  expect(in_window == 3 * k, std::to_string(in_window) + " of " + n + " timed inside the step");
  expect(shaped == 3 * k, std::to_string(shaped) + " of " + n + " with the launched grid/block and registers");
  expect(timed_after_launch == 3 * k,
         std::to_string(timed_after_launch) + " of " + n + " start after their launch call");
  expect(by_phase[0] == k && by_phase[1] == k && by_phase[2] == k,
         "kernels by phase (forward, backward, optimizer_step): " + std::to_string(by_phase[0]) +
             ", " + std::to_string(by_phase[1]) + ", " + std::to_string(by_phase[2]) +
             " (expected " + std::to_string(k) + " each)");

  const StepAggregate agg = aggregate_step(r.records, w, launches);
  report_.counters = step_counters(agg, r.dropped_records);
  expect(agg.gpu_busy > 0 && agg.gpu_busy <= 1, "gpu_busy " + std::to_string(agg.gpu_busy));
  expect(agg.memcpys == 1 && agg.memcpy_bytes == kCountA * sizeof(float),
         "in the step: " + std::to_string(agg.memcpys) + " copy of " +
             std::to_string(agg.memcpy_bytes) + " bytes (expected 1 of " +
             std::to_string(kCountA * sizeof(float)) + "; the copy back lies after the step)");
  bool copy_back = false;
  for (const MemcpyRecord& m : r.records.memcpys) {
    copy_back = copy_back || (m.kind == MemcpyKind::kDeviceToHost && m.start_ns >= w.end_ns);
  }
  expect(copy_back, "the copy back was recorded, after the step, as device-to-host");
  expect(agg.memsets == 1 && agg.memset_bytes == kCountB * sizeof(float),
         "in the step: " + std::to_string(agg.memsets) + " memset of " +
             std::to_string(agg.memset_bytes) + " bytes (expected 1 of " +
             std::to_string(kCountB * sizeof(float)) + ")");

  bool alloc_a = false, alloc_b = false, free_b = false, free_a_after = false;
  for (const MemoryRecord& m : r.records.memory) {
    const bool alloc = m.operation == MemoryOperation::kAllocation;
    if (m.memory_kind != MemoryKind::kDevice) continue;
    if (m.address == a && alloc && m.bytes >= kCountA * sizeof(float)) alloc_a = true;
    if (m.address == b && alloc && m.bytes >= kCountB * sizeof(float)) alloc_b = true;
    if (m.address == b && !alloc && w.holds(m.timestamp_ns, m.timestamp_ns)) free_b = true;
    if (m.address == a && !alloc && m.timestamp_ns >= w.end_ns) free_a_after = true;
  }
  expect(alloc_a && alloc_b && free_b && free_a_after,
         "device memory records: allocations of both buffers, release of the second in the step "
         "and of the first after it");
  const uint64_t both = (kCountA + kCountB) * sizeof(float);
  expect(agg.memory.step_peak_bytes() >= both,
         "cuda_malloc_step_peak " + std::to_string(agg.memory.step_peak_bytes()) + " bytes (>= " +
             std::to_string(both) + "), cuda_malloc_peak " + std::to_string(agg.memory.peak_bytes));

  if (!options_.kernel_trace_path.empty()) {
    KernelTrace trace{report_.availability_line, r.dropped_records, {w}, r.records, {}};
    try {
      write_kernel_trace(options_.kernel_trace_path, trace);
      report_.checks.push_back("kernel trace written to " + options_.kernel_trace_path);
    } catch (const std::exception& e) {
      report_.failures.push_back(e.what());
    }
  }
}

}  // namespace

SelftestReport run_cupti_selftest(const SelftestOptions& options) {
  SelftestReport report;
  Selftest(options, report).run();
  return report;
}

}  // namespace p4s::cupti
