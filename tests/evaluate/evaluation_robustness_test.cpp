// Leave-one-family-out on data that cannot be fitted in every fold, or has one family.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evaluate/evaluation.hpp"
#include "tests/predictors/synthetic_steps.hpp"

namespace p4s::evaluate {
namespace {

TEST(FitRobustness, AFoldWithNothingToFitIsNamedAndTheOthersAreEvaluated) {
  test::Steps d;
  test::add_simulated_steps(d, {"resnet18_cifar10", "resnet18_cifar10_p50_s1", "squeezenet1.1_cifar10", "vgg11_cifar10"}, {2, 8},
             1.0, 3e6, 0.02, 1.5);
  // Only vgg11's steps ran; resnet18's and squeezenet's all ran out of memory. Holding out
  // vgg11 leaves nothing to fit.
  for (predictors::Observation& o : d.obs)
    if (o.family == "resnet18" || o.family == "squeezenet1.1") {
      o.fits = false;
      o.values = results::Measured{};
    }
  const evaluate::Evaluation ev = evaluate::evaluate_leave_one_family_out(d.obs, {}, test::cpu_candidates());
  ASSERT_EQ(ev.not_evaluated.size(), 1u);
  EXPECT_NE(ev.not_evaluated.at("vgg11").find("nothing to fit"), std::string::npos);
  ASSERT_EQ(ev.methods.size(), 2u);  // both methods, on the folds that could be fitted
  for (const evaluate::MethodEvaluation& me : ev.methods) {
    // Held out, resnet18 and squeezenet are judged fits / does not fit by a fit on vgg11 and
    // the other; vgg11 itself, whose values are the only ones, is not predicted.
    EXPECT_EQ(me.fits.n, 6u) << predictors::method_name(me.method);  // two resnet18 networks and one squeezenet, at 2 batches
    EXPECT_TRUE(me.targets.empty()) << predictors::method_name(me.method);
  }
}

TEST(FitRobustness, OneFamilyCannotBeEvaluated) {
  test::Steps d;
  test::add_simulated_steps(d, {"resnet18_cifar10", "resnet18_cifar10_p50_s1"}, {2, 8}, 1.0, 3e6, 0.02, 1.5);
  EXPECT_THROW(evaluate::evaluate_leave_one_family_out(d.obs, {}, test::cpu_candidates()), InputError);
}

}  // namespace
}  // namespace p4s::evaluate
