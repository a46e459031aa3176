// Step windows and phase marks.
#include <gtest/gtest.h>

#include <vector>

#include "cupti/phases.hpp"

namespace p4s::cupti {
namespace {

TEST(Phases, NamesRoundTrip) {
  for (Phase p : kAllPhases) EXPECT_EQ(phase_from_name(phase_name(p)), p);
  EXPECT_EQ(phase_name(Phase::kOptimizerStep), "optimizer_step");
  EXPECT_EQ(phase_from_name("zero_grad"), std::nullopt);
}

TEST(StepRecorder, MarksStepAndPhasesOnItsClock) {
  uint64_t now = 100;
  StepRecorder rec([&] { return now += 10; });
  rec.begin_step();                       // 110
  rec.begin_phase(Phase::kForward);       // 120
  rec.begin_phase(Phase::kBackward);      // 130: ends forward
  rec.end_phase();                        // 140: a gap (zero_grad, say) follows
  rec.begin_phase(Phase::kOptimizerStep);  // 150
  const StepWindow w = rec.end_step();    // 160 ends the phase, 170 the step
  EXPECT_EQ(w.start_ns, 110u);
  EXPECT_EQ(w.end_ns, 170u);
  const std::vector<PhaseSpan> expected = {
      {Phase::kForward, 120, 130}, {Phase::kBackward, 130, 140}, {Phase::kOptimizerStep, 150, 160}};
  EXPECT_EQ(w.phases, expected);
  EXPECT_EQ(w.check(), "");
  EXPECT_EQ(w.duration_ns(), 60u);
  EXPECT_EQ(w.phase_at(125), Phase::kForward);
  EXPECT_EQ(w.phase_at(130), Phase::kBackward);  // spans are half-open
  EXPECT_EQ(w.phase_at(145), std::nullopt);
  EXPECT_EQ(w.phase_at(160), std::nullopt);

  rec.begin_step();  // a new step starts empty
  EXPECT_TRUE(rec.end_step().phases.empty());
}

TEST(StepWindow, CheckSaysWhatIsWrong) {
  EXPECT_EQ((StepWindow{10, 5, {}}).check(), "step ends (5 ns) before it starts (10 ns)");
  EXPECT_EQ((StepWindow{10, 50, {{Phase::kForward, 5, 20}}}).check(),
            "phase forward lies outside its step");
  EXPECT_EQ((StepWindow{10, 50, {{Phase::kForward, 30, 20}}}).check(),
            "phase forward ends before it starts");
  EXPECT_EQ((StepWindow{10, 50, {{Phase::kForward, 10, 30}, {Phase::kBackward, 25, 40}}}).check(),
            "phase backward overlaps the phase before it");
}

TEST(StepWindow, HoldsWorkThatOverlapsIt) {
  const StepWindow w{100, 200, {}};
  EXPECT_TRUE(w.holds(50, 150));
  EXPECT_TRUE(w.holds(150, 250));
  EXPECT_TRUE(w.holds(100, 100));
  EXPECT_FALSE(w.holds(200, 200));
  EXPECT_FALSE(w.holds(50, 100));
  EXPECT_FALSE(w.holds(200, 300));
  EXPECT_FALSE(w.holds(150, 140));
}

}  // namespace
}  // namespace p4s::cupti
