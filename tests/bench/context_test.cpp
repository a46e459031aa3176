// The results' context: keys and values from fixed inputs, absent inputs giving absent keys,
// and the parsing of /proc/cpuinfo and /etc/nv_tegra_release.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "bench/context.hpp"

namespace p4s::bench {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : kv) EXPECT_TRUE(m.emplace(k, v).second) << "duplicate key " << k;
  return m;
}

ContextInputs cpu_inputs() {
  ContextInputs in;
  in.cpuinfo_text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
  in.threads = 2;
  in.libtorch_version = "1.13.0";
  in.sweep = "quick";
  in.mem_used_method = "VmHWM";
  in.kernel_capture = "kernel capture off: no CUDA driver (libcuda.so.1 not found)";
  return in;
}

GpuInfo h100() {
  GpuInfo g;
  g.name = "NVIDIA H100 80GB HBM3";
  g.driver = "580.159.04";
  g.cuda = "13.0";
  g.cudnn = "9.13.0";
  g.cuda_driver = "13.0";
  g.compute_capability = "9.0";
  g.memory_bytes = 85'520'809'984;
  g.index = 0;
  g.allocator = "native";
  return g;
}

TEST(Context, CpuRunHasTheCpuKeysOnly) {
  const auto m = as_map(make_context(cpu_inputs()));
  EXPECT_EQ(m.at("p4s_schema_version"), "1");
  EXPECT_EQ(m.at("p4s_device"), "cpu");
  EXPECT_EQ(m.at("p4s_cpu_model"), "AMD EPYC 7B13");
  EXPECT_EQ(m.at("p4s_cpu_isa"), "other");
  EXPECT_EQ(m.at("p4s_threads"), "2");
  EXPECT_EQ(m.at("p4s_libtorch"), "1.13.0");
  EXPECT_EQ(m.at("p4s_sweep"), "quick");
  EXPECT_EQ(m.at("p4s_mem_used_method"), "VmHWM");
  EXPECT_EQ(m.at("p4s_kernel_capture"), "kernel capture off: no CUDA driver (libcuda.so.1 not found)");
  for (const char* absent : {"p4s_mem_limit", "p4s_gpu_name", "p4s_gpu_driver", "p4s_cuda", "p4s_cudnn",
                             "p4s_l4t_release", "p4s_jetpack", "p4s_allocator_protocol", "p4s_mem_limit_method",
                             "p4s_gpu_index", "p4s_cuda_driver", "p4s_gpu_memory", "p4s_cuda_allocator"})
    EXPECT_EQ(m.count(absent), 0u) << absent;
  for (const auto& [k, v] : m) EXPECT_EQ(k.rfind("p4s_", 0), 0u) << k;
}

TEST(Context, GpuRunHasTheGpuAndItsSoftware) {
  ContextInputs in = cpu_inputs();
  in.device = "cuda";
  in.gpu = h100();
  in.mem_used_method = "cudaMemGetInfo";
  in.allocator_protocol = "cache emptied before each case";
  in.kernel_capture = "kernel capture on: CUPTI 13.0 (API 130001)";
  in.mem_limit_method = "memory fraction";  // without a limit: absent
  const auto m = as_map(make_context(in));
  EXPECT_EQ(m.at("p4s_device"), "cuda");
  EXPECT_EQ(m.at("p4s_gpu_name"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(m.at("p4s_gpu_index"), "0");
  EXPECT_EQ(m.at("p4s_gpu_compute_capability"), "9.0");
  EXPECT_EQ(m.at("p4s_gpu_memory"), "85520809984");
  EXPECT_EQ(m.at("p4s_gpu_driver"), "580.159.04");
  EXPECT_EQ(m.at("p4s_cuda_driver"), "13.0");
  EXPECT_EQ(m.at("p4s_cuda"), "13.0");
  EXPECT_EQ(m.at("p4s_cudnn"), "9.13.0");
  EXPECT_EQ(m.at("p4s_cuda_allocator"), "native");
  EXPECT_EQ(m.at("p4s_allocator_protocol"), "cache emptied before each case");
  EXPECT_EQ(m.at("p4s_kernel_capture"), "kernel capture on: CUPTI 13.0 (API 130001)");
  EXPECT_EQ(m.count("p4s_mem_limit_method"), 0u);
  in.mem_limit_bytes = int64_t{8} << 30;
  EXPECT_EQ(as_map(make_context(in)).at("p4s_mem_limit_method"), "memory fraction");
}

TEST(Context, OptionalKeysAppearWhenTheirInputsDo) {
  ContextInputs in = cpu_inputs();
  in.mem_limit_bytes = int64_t{4} << 30;
  in.gpu = h100();
  in.gpu->name = "Orin";
  in.gpu->driver = "540.2";
  in.gpu->cuda = "12.2";
  in.gpu->cudnn = "8.9";
  in.dpkg_status_text = "Package: nvidia-jetpack\nStatus: install ok installed\nVersion: 5.1.2-b104\n";
  in.tegra_release_text = "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64\n";
  const auto m = as_map(make_context(in));
  EXPECT_EQ(m.at("p4s_mem_limit"), "4294967296");
  EXPECT_EQ(m.at("p4s_gpu_name"), "Orin");
  EXPECT_EQ(m.at("p4s_gpu_driver"), "540.2");
  EXPECT_EQ(m.at("p4s_cuda"), "12.2");
  EXPECT_EQ(m.at("p4s_cudnn"), "8.9");
  EXPECT_EQ(m.at("p4s_l4t_release"), "R35.4.1");
  EXPECT_EQ(m.at("p4s_jetpack"), "5.1.2-b104");
  EXPECT_EQ(m.count("p4s_optimizer"), 0u);
}

// The cases' recipe, in the keys the reader takes it from.
TEST(Context, TheRecipeIsWrittenAsTheReaderReadsIt) {
  ContextInputs in = cpu_inputs();
  results::Recipe r;
  results::use_optimizer(r, results::Optimizer::kAdam);
  r.train_from = "layer4_0_conv1";
  in.recipe = r;
  const auto m = as_map(make_context(in));
  EXPECT_EQ(m.at("p4s_optimizer"), "adam");
  EXPECT_EQ(m.at("p4s_train_from"), "layer4_0_conv1");
  results::Recipe back;
  EXPECT_EQ(results::recipe_from_context(m, back), "");
  EXPECT_EQ(back, r);
}

TEST(Context, JetpackIsTheInstalledPackagesVersion) {
  const std::string status =
      "Package: nvidia-l4t-core\nStatus: install ok installed\nVersion: 36.3.0-20240719161631\n\n"
      "Package: nvidia-jetpack\nStatus: install ok installed\nPriority: standard\n"
      "Description: NVIDIA Jetpack Meta Package\n more text: with a colon\nVersion: 6.0+b106\n\n"
      "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.11\n";
  EXPECT_EQ(jetpack_release(status), "6.0+b106");
  EXPECT_FALSE(jetpack_release("Package: nvidia-jetpack\nStatus: deinstall ok config-files\nVersion: 6.0\n"));
  EXPECT_FALSE(jetpack_release("Package: nvidia-jetpack\nStatus: install ok not-installed\nVersion: 6.0\n"));
  EXPECT_FALSE(jetpack_release("Package: nvidia-jetpack-dev\nStatus: install ok installed\nVersion: 6.0\n"));
  EXPECT_FALSE(jetpack_release(""));
}

TEST(Context, DriverAndCudnnVersionsAsTheToolsWriteThem) {
  EXPECT_EQ(nvidia_driver_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 06:54:38 UTC 2025\n"
                                  "GCC version:  gcc version 12.2.0\n"),
            "580.65.06");
  EXPECT_EQ(nvidia_driver_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build\n"),
            "570.86.15");
  EXPECT_EQ(nvidia_driver_version("NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  540.4.0  Release Build\n"),
            "540.4.0");
  EXPECT_EQ(nvidia_driver_version("something else\n"), "");
  EXPECT_EQ(cudnn_version_string(91002), "9.10.2");
  EXPECT_EQ(cudnn_version_string(90100), "9.1.0");
  EXPECT_EQ(cudnn_version_string(8907), "8.9.7");
  EXPECT_EQ(cudnn_version_string(8500), "8.5.0");
  EXPECT_EQ(cudnn_version_string(0), "none");
}

// oneDNN's widest extension from the flags: the width of its blocked layouts.
TEST(Context, CpuIsaIsTheWidestVectorExtension) {
  EXPECT_EQ(cpu_isa("processor\t: 0\nflags\t\t: fpu sse avx avx2 fma avx512f avx512bw\n"), "avx512");
  EXPECT_EQ(cpu_isa("processor\t: 0\nflags\t\t: fpu sse avx avx2 fma\n"), "avx2");
  EXPECT_EQ(cpu_isa("flags\t\t: fpu sse avx avx2_fake\n"), "other");
  EXPECT_EQ(cpu_isa("Features\t: fp asimd evtstrm\n"), "other");  // an ARM board
  EXPECT_EQ(cpu_isa(""), "other");
}

TEST(Context, CpuModelFallsBackForArmBoards) {
  EXPECT_EQ(cpu_model("processor\t: 0\nHardware\t: NVIDIA Jetson TX2\n"), "NVIDIA Jetson TX2");
  EXPECT_EQ(cpu_model("Processor\t: ARMv8 Processor rev 3 (v8l)\n"), "ARMv8 Processor rev 3 (v8l)");
  EXPECT_EQ(cpu_model("processor\t: 0\n"), "unknown");
  EXPECT_EQ(cpu_model(""), "unknown");
}

TEST(Context, L4tReleaseOfOtherFormsIsTheFirstLine) {
  EXPECT_EQ(l4t_release("# R32 (release), REVISION: 6.1, GCID: 27863751\n"), "R32.6.1");
  EXPECT_EQ(l4t_release("# something else\nsecond\n"), "something else");
  EXPECT_FALSE(l4t_release(""));
  EXPECT_FALSE(l4t_release("\n"));
}

TEST(Context, MachineInputsAreReadHere) {
  const ContextInputs in = read_machine_context();
  EXPECT_GE(in.threads, 1);
  EXPECT_FALSE(in.libtorch_version.empty());
  EXPECT_NE(cpu_model(in.cpuinfo_text), "unknown");
  EXPECT_FALSE(in.gpu);
}

}  // namespace
}  // namespace p4s::bench
