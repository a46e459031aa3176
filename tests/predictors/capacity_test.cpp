// Learning the memory a device offers from steps that ran and steps that ran out of memory.
#include <gtest/gtest.h>

#include "predictors/capacity.hpp"

namespace p4s::predictors {
namespace {

TEST(Capacity, SeparableDataGivesTheMiddleOfTheGap) {
  const auto c = fit_capacity({{1.0, true}, {3.0, true}, {9.0, false}, {5.0, true}, {7.0, false}});
  ASSERT_TRUE(c.has_value());
  EXPECT_DOUBLE_EQ(*c, 6.0);
}

TEST(Capacity, OverlapGivesTheFewestMisclassified) {
  // Best: a threshold between 5.2 and 6 misclassifies only the oom at 4 (one between 2 and 4
  // would misclassify the two steps at 5 and 5.2).
  const auto c = fit_capacity({{1, true}, {4, false}, {5, true}, {6, false}, {7, false}, {2, true}, {5.2, true}});
  ASSERT_TRUE(c.has_value());
  EXPECT_DOUBLE_EQ(*c, 5.6);
}

TEST(Capacity, NothingToLearnWithoutOutOfMemorySteps) {
  EXPECT_FALSE(fit_capacity({{1, true}, {2, true}}).has_value());
  EXPECT_FALSE(fit_capacity({}).has_value());
}

}  // namespace
}  // namespace p4s::predictors
