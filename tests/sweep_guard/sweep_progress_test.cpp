#include "sweep_guard/sweep_progress.hpp"

#include <gtest/gtest.h>

namespace p4s::sweep_guard {
namespace {

TEST(ClockText, MinutesAndHours) {
  EXPECT_EQ(clock_text(0), "0:00");
  EXPECT_EQ(clock_text(31.4), "0:31");
  EXPECT_EQ(clock_text(725), "12:05");
  EXPECT_EQ(clock_text(3 * 3600 + 2 * 60 + 15), "3:02:15");
  EXPECT_EQ(clock_text(-5), "0:00");
}

TEST(SweepProgress, SaysDoneOfTotalElapsedAndLeftAtMostEveryPeriod) {
  SweepProgress p(4, 100.0, 10.0);
  EXPECT_EQ(p.case_done("A", 112.0), "[1/4] A done; 0:12 elapsed");  // no estimate from one case
  EXPECT_EQ(p.case_done("B", 115.0), std::nullopt);                         // 3 s after the last line
  EXPECT_EQ(p.case_done("C", 130.0), "[3/4] C done; 0:30 elapsed, about 0:10 left");
  EXPECT_EQ(p.case_done("D", 131.0), "[4/4] D done; 0:31 elapsed");  // the last one always
  EXPECT_EQ(p.done(), 4u);
}

TEST(SweepProgress, WithoutATotal) {
  SweepProgress p(0, 0.0, 0.0);
  EXPECT_EQ(p.case_done("A", 5.0), "[1] A done; 0:05 elapsed");
  EXPECT_EQ(p.case_done("B", 9.0), "[2] B done; 0:09 elapsed");
}

}  // namespace
}  // namespace p4s::sweep_guard
