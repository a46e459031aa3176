#include "sim/framework_semantics.hpp"

#include <gtest/gtest.h>

namespace p4s::sim {
namespace {

TEST(FrameworkVersion, ReadsTheFirstMajorMinorOfTheText) {
  const auto v = [](const std::string& text) {
    const auto p = parse_framework_version(text);
    return p ? std::to_string(p->major) + "." + std::to_string(p->minor) : std::string("none");
  };
  EXPECT_EQ(v("1.13.0"), "1.13");
  EXPECT_EQ(v("2.11.0+cu130"), "2.11");
  EXPECT_EQ(v("PyTorch 1.6.0"), "1.6");
  EXPECT_EQ(v("JetPack 6, LibTorch 2.5"), "2.5");  // "6," is no major.minor
  EXPECT_EQ(v("torch 2"), "none");
  EXPECT_EQ(v(""), "none");
  EXPECT_EQ(v("v.3"), "none");
}

TEST(FrameworkSemantics, MeasuredVersionsAreKnownOthersTakeTheNearest) {
  ASSERT_TRUE(measured_semantics({1, 13}));
  ASSERT_TRUE(measured_semantics({2, 11}));
  EXPECT_FALSE(measured_semantics({2, 5}));
  EXPECT_FALSE(measured_semantics({1, 6}));
  // 1.13 keeps a 1x1 adaptive pooling's input for backward; 2.11 does not; both copy
  // in-place ReLU6's input.
  EXPECT_TRUE(measured_semantics({1, 13})->adaptive_pool_saves_input);
  EXPECT_FALSE(measured_semantics({2, 11})->adaptive_pool_saves_input);
  EXPECT_TRUE(measured_semantics({2, 11})->relu6_inplace_copies_input);
  EXPECT_EQ(likely_semantics({2, 5}), *measured_semantics({2, 11}));
  EXPECT_EQ(likely_semantics({3, 0}), *measured_semantics({2, 11}));
  EXPECT_EQ(likely_semantics({1, 12}), *measured_semantics({1, 13}));
  const AutogradSemantics old = likely_semantics({1, 6});
  EXPECT_FALSE(old.relu6_inplace_copies_input);
  EXPECT_FALSE(old.adaptive_pool_saves_input);

  RuntimeOptions options;
  options.inplace_grad_accumulation = true;
  measured_semantics({2, 11})->apply_to(options);
  EXPECT_TRUE(options.relu6_inplace_copies_input);
  EXPECT_FALSE(options.adaptive_pool_saves_input);
  EXPECT_FALSE(options.inplace_grad_accumulation);
}

}  // namespace
}  // namespace p4s::sim
