// The per-kernel JSON trace: written atomically, read back with nlohmann and with the reader,
// and refused when malformed or of another version.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "common/atomic_file.hpp"
#include "cupti/kernel_trace.hpp"

namespace p4s::cupti {
namespace {

using nlohmann::json;

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "p4s_kernel_trace_" + std::to_string(::getpid()) + "_" + name;
}

KernelTrace sample_trace() {
  KernelTrace t;
  t.capture = "kernel capture on: CUPTI 13.0 (API 130001) from libcupti.so.13";
  t.dropped_records = 3;
  t.steps = {{1000, 2000, {{Phase::kForward, 1000, 1400}, {Phase::kBackward, 1400, 1900}}}};
  KernelRecord k;
  k.name = "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64";
  k.start_ns = 1100;
  k.end_ns = 1300;
  k.device_id = 0;
  k.context_id = 1;
  k.stream_id = 7;
  k.correlation_id = 42;
  k.grid_x = 80;
  k.grid_y = 2;
  k.grid_z = 1;
  k.block_x = 128;
  k.block_y = 1;
  k.block_z = 1;
  k.registers_per_thread = 168;
  k.static_shared_bytes = 0;
  k.dynamic_shared_bytes = 98304;
  KernelRecord outside = k;
  outside.name = "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>";
  outside.start_ns = 2500;
  outside.end_ns = 2600;
  outside.correlation_id = 43;
  t.records.kernels = {k, outside};
  MemcpyRecord c;
  c.kind = MemcpyKind::kHostToDevice;
  c.bytes = 4096;
  c.start_ns = 1010;
  c.end_ns = 1050;
  c.correlation_id = 41;
  t.records.memcpys = {c};
  MemsetRecord s;
  s.bytes = 512;
  s.value = 0;
  s.start_ns = 1500;
  s.end_ns = 1510;
  s.correlation_id = 44;
  t.records.memsets = {s};
  MemoryRecord a;
  a.operation = MemoryOperation::kAllocation;
  a.memory_kind = MemoryKind::kDevice;
  a.address = 0x7f0000000000ull;  // beyond 2^32: must survive JSON exactly
  a.bytes = 2097152;
  a.timestamp_ns = 1005;
  MemoryRecord pooled = a;
  pooled.address += 4096;
  pooled.is_async = true;
  pooled.has_pool = true;
  pooled.pool_address = 0x7f1000000000ull;
  pooled.pool_release_threshold_bytes = 0;
  pooled.pool_size_bytes = 33554432;
  pooled.pool_utilized_bytes = 2101248;
  MemoryRecord r = a;
  r.operation = MemoryOperation::kRelease;
  r.timestamp_ns = 1950;
  t.records.memory = {a, pooled, r};
  ApiRecord launch;
  launch.domain = ApiDomain::kRuntime;
  launch.callback_id = 211;
  launch.start_ns = 1020;
  launch.end_ns = 1025;
  launch.thread_id = 77;
  launch.correlation_id = 42;
  ApiRecord driver = launch;
  driver.domain = ApiDomain::kDriver;
  driver.callback_id = 307;
  driver.correlation_id = 44;
  driver.start_ns = 1450;
  t.records.api_calls = {launch, driver};
  return t;
}

void expect_refused(const std::string& text, const std::string& message) {
  try {
    parse_kernel_trace(text, "t.json");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(KernelTrace, WritesAVersionedDocumentThatNlohmannReads) {
  const std::string path = temp_path("write.json");
  write_kernel_trace(path, sample_trace());
  const json doc = json::parse(read_file(path));
  EXPECT_EQ(doc.at("format"), "p4s_kernel_trace");
  EXPECT_EQ(doc.at("schema_version"), kKernelTraceSchemaVersion);
  EXPECT_EQ(doc.at("clock"), "cupti_ns");
  EXPECT_EQ(doc.at("dropped_records"), 3);
  ASSERT_EQ(doc.at("kernels").size(), 2u);
  const json& k = doc.at("kernels")[0];
  EXPECT_EQ(k.at("family"), "implicit_gemm");
  EXPECT_EQ(k.at("step"), 0);
  EXPECT_EQ(k.at("phase"), "forward");
  EXPECT_EQ(k.at("grid"), json({80, 2, 1}));
  EXPECT_EQ(k.at("dynamic_shared_bytes"), 98304);
  const json& outside = doc.at("kernels")[1];
  EXPECT_EQ(outside.at("family"), "elementwise");
  EXPECT_TRUE(outside.at("step").is_null());
  EXPECT_TRUE(outside.at("phase").is_null());
  EXPECT_EQ(doc.at("memset")[0].at("phase"), "backward");  // launched by the driver call at 1450
  EXPECT_TRUE(doc.at("memcpy")[0].at("phase").is_null());  // no launch record
  EXPECT_EQ(doc.at("memory")[0].at("address").get<uint64_t>(), 0x7f0000000000ull);
  EXPECT_FALSE(doc.at("memory")[0].contains("pool"));
  EXPECT_EQ(doc.at("memory")[1].at("pool").at("size_bytes"), 33554432);
  EXPECT_EQ(doc.at("launch_calls")[1].at("domain"), "driver");
  std::remove(path.c_str());
}

TEST(KernelTrace, RoundTripsThroughTheReader) {
  const KernelTrace t = sample_trace();
  const KernelTrace back = parse_kernel_trace(kernel_trace_json(t), "trace.json");
  EXPECT_EQ(back.capture, t.capture);
  EXPECT_EQ(back.dropped_records, t.dropped_records);
  EXPECT_EQ(back.steps, t.steps);
  EXPECT_EQ(back.records.kernels, t.records.kernels);
  EXPECT_EQ(back.records.memcpys, t.records.memcpys);
  EXPECT_EQ(back.records.memsets, t.records.memsets);
  EXPECT_EQ(back.records.memory, t.records.memory);
  EXPECT_EQ(back.records.api_calls, t.records.api_calls);
  // And writing what was read gives the same text.
  EXPECT_EQ(kernel_trace_json(back), kernel_trace_json(t));
}

TEST(KernelTrace, StepLabelsAreWrittenAndReadBackOnEveryStepOrNone) {
  KernelTrace t = sample_trace();
  EXPECT_FALSE(json::parse(kernel_trace_json(t)).at("steps")[0].contains("label"));
  t.steps.push_back({3000, 4000, {}});
  t.step_labels = {"Net/resnet18/bs:2", "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:8"};
  const json doc = json::parse(kernel_trace_json(t));
  EXPECT_EQ(doc.at("steps")[1].at("label"), "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:8");
  const KernelTrace back = parse_kernel_trace(doc.dump(), "labels.json");
  EXPECT_EQ(back.step_labels, t.step_labels);
  EXPECT_EQ(back.steps, t.steps);

  json half = doc;
  half["steps"][1].erase("label");
  expect_refused(half.dump(), "t.json: steps[1].label: every step or none has a label");
  t.step_labels.pop_back();
  EXPECT_THROW(kernel_trace_json(t), std::invalid_argument);
}

TEST(KernelTrace, AnEmptyCaptureIsAValidTrace) {
  KernelTrace t;
  t.capture = "kernel capture off: no CUDA driver (libcuda.so.1 not found)";
  const KernelTrace back = parse_kernel_trace(kernel_trace_json(t), "empty.json");
  EXPECT_EQ(back.capture, t.capture);
  EXPECT_EQ(back.records.size(), 0u);
}

TEST(KernelTrace, KernelNamesThatAreNotUtf8DoNotBreakTheWriter) {
  KernelTrace t;
  KernelRecord k;
  k.name = std::string("bad\xff\xfe name");
  t.records.kernels = {k};
  const json doc = json::parse(kernel_trace_json(t));
  EXPECT_EQ(doc.at("kernels")[0].at("name").get<std::string>().substr(0, 3), "bad");
}

TEST(KernelTrace, RefusesOtherVersionsAndMalformedFieldsNamingThem) {
  json doc = json::parse(kernel_trace_json(sample_trace()));
  json v2 = doc;
  v2["schema_version"] = 2;
  expect_refused(v2.dump(), "t.json: schema_version: this reader understands version 1 only, not 2");
  json other = doc;
  other["format"] = "chrome_trace";
  expect_refused(other.dump(), "t.json: format: must be \"p4s_kernel_trace\"");
  json negative = doc;
  negative["kernels"][1]["start_ns"] = -5;
  expect_refused(negative.dump(), "t.json: kernels[1].start_ns: must be a non-negative integer");
  json missing = doc;
  missing["memory"][0].erase("bytes");
  expect_refused(missing.dump(), "t.json: memory[0].bytes: missing");
  json bad_phase = doc;
  bad_phase["steps"][0]["phases"][0]["phase"] = "zero_grad";
  expect_refused(bad_phase.dump(), "t.json: steps[0].phases[0].phase: unknown phase \"zero_grad\"");
  json overlap = doc;
  overlap["steps"][0]["phases"][1]["start_ns"] = 1300;
  expect_refused(overlap.dump(), "t.json: steps[0]: phase backward overlaps the phase before it");
  json bad_grid = doc;
  bad_grid["kernels"][0]["grid"] = json({1, 2});
  expect_refused(bad_grid.dump(), "t.json: kernels[0].grid: must hold three integers");
  json too_big = doc;
  too_big["kernels"][0]["device"] = 1ull << 40;
  expect_refused(too_big.dump(), "t.json: kernels[0].device: out of range");
  try {
    parse_kernel_trace("{\"format\": ", "t.json");
    ADD_FAILURE() << "accepted a truncated document";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.json: (document): not valid JSON: ", 0), 0u) << e.what();
  }
}

TEST(KernelTrace, AFailedWriteNamesThePathAndLeavesNothing) {
  const std::string path = temp_path("no_such_dir") + "/trace.json";
  try {
    write_kernel_trace(path, sample_trace());
    ADD_FAILURE() << "wrote into a missing directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace p4s::cupti
