// The CUDA path (built only against a CUDA-enabled LibTorch; compile-checked against LibTorch
// 1.13's c10/cuda headers elsewhere). CUDA runtime calls go through P4S_CUDA_CHECK, which names
// the failing call.
#include "bench/cuda_device.hpp"

#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bench/cuda_compat.hpp"
#include "cupti/driver_probe.hpp"

namespace p4s::bench {
namespace {

void check_cuda(cudaError_t result, const char* call) {
  if (result == cudaSuccess) return;
  throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(result) + " (" +
                           cudaGetErrorString(result) + ")");
}

#define P4S_CUDA_CHECK(call) check_cuda((call), #call)

class CudaEventTimer final : public StepTimer {
 public:
  explicit CudaEventTimer(c10::DeviceIndex device) : device_(device) {
    P4S_CUDA_CHECK(cudaEventCreate(&start_));
    P4S_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~CudaEventTimer() override {
    static_cast<void>(cudaEventDestroy(start_));
    static_cast<void>(cudaEventDestroy(stop_));
  }
  CudaEventTimer(const CudaEventTimer&) = delete;
  CudaEventTimer& operator=(const CudaEventTimer&) = delete;

  void start() override {
    P4S_CUDA_CHECK(cudaDeviceSynchronize());
    P4S_CUDA_CHECK(cudaEventRecord(start_, stream()));
  }
  double stop_seconds() override {
    P4S_CUDA_CHECK(cudaEventRecord(stop_, stream()));
    P4S_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    P4S_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return static_cast<double>(ms) / 1e3;
  }

 private:
  // The stream LibTorch launches this thread's work on (the device's default stream unless a
  // stream guard says otherwise); autograd's backward follows the forward's streams.
  cudaStream_t stream() const { return c10::cuda::getCurrentCUDAStream(device_).stream(); }

  c10::DeviceIndex device_;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

class CachingAllocatorMemory final : public DeviceMemorySource {
 public:
  explicit CachingAllocatorMemory(c10::DeviceIndex device) : device_(device) {}
  void empty_cache() override { cuda_compat::empty_cache(); }
  void reset_peaks() override { cuda_compat::reset_peak_stats(device_); }
  AllocatorPeaks peaks() override {
    const cuda_compat::Peaks p = cuda_compat::peaks(device_);
    return {p.allocated_bytes, p.reserved_bytes};
  }
  int64_t device_used_bytes() override {
    size_t free_bytes = 0, total_bytes = 0;
    P4S_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));  // of the current device
    return static_cast<int64_t>(total_bytes - free_bytes);
  }

 private:
  c10::DeviceIndex device_;
};

// The NVIDIA driver's version as nvidia-smi shows it ("580.65.06"): from NVML where it loads,
// else from /proc/driver/nvidia/version; empty when neither says.
std::string read_nvidia_driver_version() {
  if (void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    using Call = int (*)();
    using GetVersion = int (*)(char*, unsigned);
    auto init = reinterpret_cast<Call>(dlsym(nvml, "nvmlInit_v2"));
    auto get = reinterpret_cast<GetVersion>(dlsym(nvml, "nvmlSystemGetDriverVersion"));
    auto shutdown = reinterpret_cast<Call>(dlsym(nvml, "nvmlShutdown"));
    std::string version;
    if (init != nullptr && get != nullptr && shutdown != nullptr && init() == 0) {
      char text[96] = {};
      if (get(text, sizeof text) == 0) version = text;
      shutdown();
    }
    dlclose(nvml);
    if (!version.empty()) return version;
  }
  std::ifstream in("/proc/driver/nvidia/version");
  std::ostringstream text;
  text << in.rdbuf();
  return in ? nvidia_driver_version(text.str()) : std::string();
}

// The cuDNN LibTorch runs with: the loaded library's own version where it is loaded (a wheel's
// cuDNN may be newer than the one LibTorch was compiled against), else the compiled one.
std::string read_cudnn_version() {
  const at::CUDAHooksInterface& hooks = at::detail::getCUDAHooks();
  if (!hooks.hasCuDNN()) return "none";
  for (const char* name : {"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"}) {
    if (void* lib = dlopen(name, RTLD_NOW | RTLD_NOLOAD)) {
      using GetVersion = size_t (*)();
      auto get = reinterpret_cast<GetVersion>(dlsym(lib, "cudnnGetVersion"));
      const size_t v = get != nullptr ? get() : 0;
      dlclose(lib);  // drops the reference RTLD_NOLOAD took
      if (v != 0) return cudnn_version_string(static_cast<int64_t>(v));
    }
  }
  return cudnn_version_string(hooks.versionCuDNN());
}

class CudaDeviceImpl final : public CudaDevice {
 public:
  explicit CudaDeviceImpl(int index)
      : index_(index), device_(start_device(index)), timer_(device_), memory_(device_) {}

  int index() const override { return index_; }
  StepTimer& timer() override { return timer_; }
  DeviceMemorySource& memory() override { return memory_; }
  void synchronize() override { P4S_CUDA_CHECK(cudaDeviceSynchronize()); }

  GpuInfo info() override {
    cudaDeviceProp prop{};
    P4S_CUDA_CHECK(cudaGetDeviceProperties(&prop, index_));
    int driver = 0, runtime = 0;
    P4S_CUDA_CHECK(cudaDriverGetVersion(&driver));
    P4S_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    GpuInfo g;
    g.name = prop.name;
    g.driver = read_nvidia_driver_version();
    if (g.driver.empty()) g.driver = "unknown";
    g.cuda = cupti::cuda_version_string(runtime);
    g.cudnn = read_cudnn_version();
    g.cuda_driver = cupti::cuda_version_string(driver);
    g.compute_capability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
    g.memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
    g.index = index_;
    g.allocator = cuda_compat::backend_name();
    char bus_id[32] = {};
    if (cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, index_) == cudaSuccess) g.pci_bus_id = bus_id;
    return g;
  }

  int64_t total_memory_bytes() override {
    size_t free_bytes = 0, total_bytes = 0;
    P4S_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    return static_cast<int64_t>(total_bytes);
  }

  void set_memory_fraction(double fraction) override { cuda_compat::set_memory_fraction(fraction, device_); }

 private:
  // Makes the device current and starts LibTorch's CUDA state (context, caching allocator) by
  // allocating on it, which works the same on every LibTorch version.
  static c10::DeviceIndex start_device(int index) {
    const auto device = static_cast<c10::DeviceIndex>(index);
    c10::cuda::set_device(device);
    static_cast<void>(at::empty({1}, at::TensorOptions().device(c10::Device(c10::kCUDA, device))));
    P4S_CUDA_CHECK(cudaDeviceSynchronize());
    return device;
  }

  int index_;
  c10::DeviceIndex device_;
  CudaEventTimer timer_;
  CachingAllocatorMemory memory_;
};

}  // namespace

CudaStatus cuda_status() {
  CudaStatus s;
  s.built = true;
  int count = 0;
  const cudaError_t result = cudaGetDeviceCount(&count);
  if (result != cudaSuccess) {
    s.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(result) + " (" +
               cudaGetErrorString(result) + ")";
    static_cast<void>(cudaGetLastError());  // not sticky: leave no error behind
    return s;
  }
  s.device_count = count;
  if (count == 0) s.reason = "the CUDA runtime sees no device";
  return s;
}

std::unique_ptr<CudaDevice> CudaDevice::open(int index) { return std::make_unique<CudaDeviceImpl>(index); }

}  // namespace p4s::bench
