#include "predictors/p4s/runtime_candidates.hpp"

#include <gtest/gtest.h>

#include <string>

namespace p4s::predictors {
namespace {

results::ResultSet cpu_results(const std::string& libtorch) {
  results::ResultSet r;
  r.context = {{"p4s_device", "cpu"}, {"p4s_cpu_isa", "avx2"}, {"p4s_threads", "1"}};
  if (!libtorch.empty()) r.context["p4s_libtorch"] = libtorch;
  return r;
}

// A version whose semantics were measured to the byte gets them alone; another gets every
// combination, the likely one first.
TEST(RuntimeCandidates, FollowTheFrameworkVersionOfTheResults) {
  const auto only_113 = candidate_runtimes(cpu_results("1.13.0"));
  ASSERT_EQ(only_113.size(), 1u);
  EXPECT_TRUE(only_113[0].adaptive_pool_saves_input);
  EXPECT_TRUE(only_113[0].relu6_inplace_copies_input);
  EXPECT_EQ(only_113[0].cpu_channel_block, 8);

  const auto only_211 = candidate_runtimes(cpu_results("2.11.0+cu130"));
  ASSERT_EQ(only_211.size(), 1u);
  EXPECT_FALSE(only_211[0].adaptive_pool_saves_input);
  EXPECT_TRUE(only_211[0].relu6_inplace_copies_input);

  const auto other_2x = candidate_runtimes(cpu_results("2.5.1"));
  ASSERT_EQ(other_2x.size(), 8u);
  EXPECT_TRUE(other_2x[0] == only_211[0]);

  // No version named: LibTorch 1.13's semantics first, among all eight.
  const auto unnamed = candidate_runtimes(cpu_results(""));
  ASSERT_EQ(unnamed.size(), 8u);
  EXPECT_TRUE(unnamed[0] == only_113[0]);

  results::ResultSet tx2;
  tx2.context = {{"framework", "PyTorch 1.6.0"}, {"p4s_device", "cuda"}};
  const auto old = candidate_runtimes(tx2);
  ASSERT_EQ(old.size(), 8u);
  EXPECT_FALSE(old[0].adaptive_pool_saves_input);
  EXPECT_FALSE(old[0].relu6_inplace_copies_input);
}

}  // namespace
}  // namespace p4s::predictors
