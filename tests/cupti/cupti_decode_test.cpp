// The real decoder on genuine CUPTI records (laid out by p4s_cupti_synthetic as this build's
// CUPTI writes them, iterated by CUPTI's own cuptiActivityGetNextRecord): field by field, split
// across buffers handed over from another thread, and with a torn buffer. libcupti loads without
// a driver, so this runs on machines without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "cupti/detail/cupti_decode.hpp"
#include "cupti/detail/cupti_synthetic.hpp"

namespace p4s::cupti::detail {
namespace {

const CuptiLibrary& cupti() {
  std::string why;
  const CuptiLibrary* lib = load_cupti_library("", &why);
  if (lib == nullptr) {
    ADD_FAILURE() << why;
    std::abort();
  }
  return *lib;
}

KernelRecord sample_kernel(uint32_t correlation) {
  KernelRecord k;
  k.name = "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, "
           "at::detail::Array<char*, 1> >(int, at::native::FillFunctor<float>, "
           "at::detail::Array<char*, 1>)";
  k.start_ns = 1000 + correlation;
  k.end_ns = 2000 + correlation;
  k.device_id = 1;
  k.context_id = 2;
  k.stream_id = 13;
  k.correlation_id = correlation;
  k.grid_x = 1024;
  k.grid_y = 2;
  k.grid_z = 3;
  k.block_x = 128;
  k.block_y = 4;
  k.block_z = 1;
  k.registers_per_thread = 32;
  k.static_shared_bytes = 1024;
  k.dynamic_shared_bytes = 49152;
  k.graph_node_id = 77;
  return k;
}
const char* const kMangledFill =
    "_ZN2at6native29vectorized_elementwise_kernelILi4ENS0_11FillFunctorIfEENS_6detail5ArrayIPcLi1E"
    "EEEEviT0_T1_";

TEST(CuptiLibrary, LoadsWithoutADriverAndMatchesTheHeaders) {
  const CuptiLibrary& lib = cupti();
  EXPECT_GE(library_api_version(lib), compiled_api_version());
  EXPECT_NE(describe_library(lib).find(library_path(lib)), std::string::npos);
  EXPECT_EQ(describe_library(lib).rfind("CUPTI ", 0), 0u);
}

TEST(CuptiLibrary, SaysWhyAnotherLibraryCannotBeUsed) {
  std::string why;
  EXPECT_EQ(load_cupti_library("/nonexistent/libcupti.so.13", &why), nullptr);
  EXPECT_NE(why.find("/nonexistent/libcupti.so.13"), std::string::npos) << why;
  EXPECT_EQ(why.rfind("cannot use CUPTI (", 0), 0u) << why;
  EXPECT_EQ(load_cupti_library("libm.so.6", &why), nullptr);
  EXPECT_NE(why.find("libm.so.6 lacks cuptiGetVersion"), std::string::npos) << why;
}

TEST(CuptiLibrary, FailedCallsAreNamedWithCuptisResultString) {
  // 15 is CUPTI_ERROR_NOT_INITIALIZED in every CUPTI. Where the library does not name it
  // (cuptiGetResultString itself failing), the number stands in its place: either way the line
  // names the call and the result.
  const std::string text = describe_cupti_result(cupti(), "cuptiActivityEnable", 15);
  const bool named = text.rfind("cuptiActivityEnable failed: CUPTI_ERROR_NOT_INITIALIZED", 0) == 0;
  const bool numbered = text.rfind("cuptiActivityEnable failed: CUptiResult 15", 0) == 0;
  EXPECT_TRUE(named || numbered) << text;
}

// Every result gives one line with no control characters and no space at either end (CUPTI 13
// ends some descriptions with a newline, CUPTI_ERROR_INVALID_DEVICE's for one), and a
// description that only repeats the result's name is left out.
TEST(CuptiLibrary, EveryResultIsDescribedOnOneLine) {
  for (int result = 0; result <= 64; ++result) {
    const std::string text = describe_cupti_result(cupti(), "cuptiActivityFlushAll", result);
    SCOPED_TRACE(text);
    ASSERT_EQ(text.rfind("cuptiActivityFlushAll failed: ", 0), 0u);
    EXPECT_TRUE(std::none_of(text.begin(), text.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte < ' ' || byte == 0x7f;
    }));
    EXPECT_NE(text.back(), ' ');
    const std::string rest = text.substr(std::string("cuptiActivityFlushAll failed: ").size());
    const std::size_t open = rest.find(" (");
    if (open != std::string::npos) {
      EXPECT_EQ(rest.back(), ')');
      const std::string name = rest.substr(0, open);
      const std::string description = rest.substr(open + 2, rest.size() - open - 3);
      EXPECT_FALSE(description.empty());
      EXPECT_NE(description, name);
      EXPECT_NE(description.front(), ' ');
      EXPECT_NE(description.back(), ' ');
    }
  }
}

TEST(CuptiDecode, EveryRecordKindRoundTripsFieldByField) {
  const KernelRecord k = sample_kernel(5);
  MemcpyRecord c;
  c.kind = MemcpyKind::kDeviceToHost;
  c.bytes = 1u << 20;
  c.start_ns = 10;
  c.end_ns = 20;
  c.device_id = 1;
  c.context_id = 2;
  c.stream_id = 14;
  c.correlation_id = 6;
  MemsetRecord s;
  s.bytes = 4096;
  s.value = 0x3f800000;
  s.start_ns = 30;
  s.end_ns = 40;
  s.device_id = 1;
  s.context_id = 2;
  s.stream_id = 15;
  s.correlation_id = 7;
  MemoryRecord m;
  m.operation = MemoryOperation::kAllocation;
  m.memory_kind = MemoryKind::kDevice;
  m.address = 0x7f00deadbe00ull;
  m.bytes = 2u << 20;
  m.timestamp_ns = 50;
  m.device_id = 1;
  m.context_id = 2;
  m.stream_id = 16;
  m.correlation_id = 8;
  MemoryRecord pooled = m;
  pooled.operation = MemoryOperation::kRelease;
  pooled.is_async = true;
  pooled.has_pool = true;
  pooled.pool_address = 0x7f1000000000ull;
  pooled.pool_release_threshold_bytes = 1u << 30;
  pooled.pool_size_bytes = 64u << 20;
  pooled.pool_utilized_bytes = 3u << 20;
  ApiRecord runtime;
  runtime.domain = ApiDomain::kRuntime;
  runtime.callback_id = 211;
  runtime.start_ns = 3;
  runtime.end_ns = 4;
  runtime.thread_id = 1234;
  runtime.correlation_id = 5;
  ApiRecord driver = runtime;
  driver.domain = ApiDomain::kDriver;
  driver.callback_id = 307;

  SyntheticCuptiBuffer b;
  b.add_api_call(runtime)
      .add_kernel(k, kMangledFill)
      .add_other()
      .add_memcpy(c)
      .add_memset(s)
      .add_memory(m)
      .add_memory(pooled)
      .add_api_call(driver);
  const ActivityBuffer buffer = b.to_buffer();
  ActivityRecords out;
  NameCache names;
  const Status st = decode_activity_buffer(cupti(), buffer.data(), buffer.valid_bytes(), out, names);
  ASSERT_TRUE(st) << st.message;
  ASSERT_EQ(out.kernels.size(), 1u);
  EXPECT_EQ(out.kernels[0], k);  // the mangled name came back demangled
  EXPECT_EQ(out.memcpys, std::vector<MemcpyRecord>{c});
  EXPECT_EQ(out.memsets, std::vector<MemsetRecord>{s});
  EXPECT_EQ(out.memory, (std::vector<MemoryRecord>{m, pooled}));
  EXPECT_EQ(out.api_calls, (std::vector<ApiRecord>{runtime, driver}));
  EXPECT_EQ(out.other_records, 1u);
}

TEST(CuptiDecode, RecordsSplitAcrossBuffersCompletedOnAnotherThread) {
  // CUPTI's side, played by a thread: request buffers from the real pool, fill each with whole
  // genuine records, complete it. The consumer takes the buffers and decodes them.
  constexpr uint32_t kKernels = 500;
  SyntheticCuptiBuffer one;
  one.add_kernel(sample_kernel(0), kMangledFill);
  const size_t record = one.size_bytes();
  ActivityBufferPool pool({7 * record + record / 2, 1000});  // 7 records fit, with slack
  // The kernel names must outlive the decoding, as CUPTI's do while the module is loaded.
  std::deque<SyntheticCuptiBuffer> written;
  std::thread device([&] {
    uint32_t next = 0;
    while (next < kKernels) {
      uint8_t* p = nullptr;
      size_t size = 0, max = 0;
      pool.on_buffer_requested(&p, &size, &max);
      ASSERT_NE(p, nullptr);
      SyntheticCuptiBuffer& fill = written.emplace_back();
      for (; next < kKernels && fill.size_bytes() + record <= size; ++next) {
        fill.add_kernel(sample_kernel(next), kMangledFill);
      }
      pool.on_buffer_completed(p, size, fill.write_to(p, size));
    }
  });
  device.join();
  std::vector<ActivityBuffer> buffers = pool.take_completed();
  EXPECT_EQ(buffers.size(), (kKernels + 6) / 7);
  ActivityRecords out;
  NameCache names;
  for (const ActivityBuffer& b : buffers) {
    ASSERT_TRUE(decode_activity_buffer(cupti(), b.data(), b.valid_bytes(), out, names));
  }
  ASSERT_EQ(out.kernels.size(), kKernels);
  for (uint32_t i = 0; i < kKernels; ++i) EXPECT_EQ(out.kernels[i], sample_kernel(i));
}

TEST(CuptiDecode, ATornBufferKeepsWhatPrecedesTheBadRecordAndSaysSo) {
  SyntheticCuptiBuffer b;
  b.add_kernel(sample_kernel(1), kMangledFill).add_kernel(sample_kernel(2), kMangledFill);
  ActivityBuffer buffer = b.to_buffer();
  std::fill(buffer.data() + b.size_bytes() / 2, buffer.data() + b.size_bytes(), 0);  // kind 0
  ActivityRecords out;
  NameCache names;
  const Status st = decode_activity_buffer(cupti(), buffer.data(), buffer.valid_bytes(), out, names);
  EXPECT_FALSE(st);
  EXPECT_NE(st.message.find("cuptiActivityGetNextRecord failed: CUPTI_ERROR_INVALID_KIND"),
            std::string::npos)
      << st.message;
  EXPECT_NE(st.message.find("incomplete or invalid record"), std::string::npos);
  ASSERT_EQ(out.kernels.size(), 1u);
  EXPECT_EQ(out.kernels[0].correlation_id, 1u);
}

TEST(CuptiDecode, AnEmptyBufferHasNoRecords) {
  ActivityRecords out;
  NameCache names;
  EXPECT_TRUE(decode_activity_buffer(cupti(), nullptr, 0, out, names));
  EXPECT_EQ(out.size(), 0u);
}

TEST(LaunchCallbacks, TheCallsThatLaunchWorkAndNoOthers) {
  std::vector<std::string> runtime, driver;
  for (const LaunchCallback& c : list_launch_callbacks(cupti())) {
    (c.domain == ApiDomain::kRuntime ? runtime : driver).push_back(c.name);
  }
  auto has = [](const std::vector<std::string>& v, const std::string& name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  for (const char* name : {"cudaLaunchKernel_v7000", "cudaLaunchKernel_ptsz_v7000",
                           "cudaLaunchKernelExC_v11060", "cudaMemcpyAsync_v3020",
                           "cudaMemsetAsync_v3020", "cudaGraphLaunch_v10000"}) {
    EXPECT_TRUE(has(runtime, name)) << name;
  }
  for (const char* name : {"cuLaunchKernel", "cuLaunchKernelEx", "cuMemcpyHtoD_v2",
                           "cuMemsetD32_v2", "cuGraphLaunch"}) {
    EXPECT_TRUE(has(driver, name)) << name;
  }
  for (const char* name : {"cudaGetDevice_v3020", "cudaLaunchHostFunc_v10000", "cudaMalloc_v3020",
                           "cudaStreamSynchronize_v3020"}) {
    EXPECT_FALSE(has(runtime, name)) << name;
  }
  EXPECT_FALSE(has(driver, "cuCtxGetCurrent"));
  EXPECT_FALSE(has(driver, "cuLaunchHostFunc"));
}

}  // namespace
}  // namespace p4s::cupti::detail
