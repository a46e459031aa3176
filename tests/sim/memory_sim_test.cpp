// The memory simulation against hand-computed peaks of small networks, and its invariants on
// the real TX2 networks. (Its agreement with real LibTorch training steps is checked by the
// tests that run them, in tests/bench.)
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "modelgen/netspec_io.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::sim {
namespace {

using modelgen::NetSpec;

// input [1, 2, 2] -> conv 1x1 (1 -> 2, no bias) -> relu -> flatten -> linear (8 -> 3).
NetSpec chain(bool inplace) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "netspec": 1, "name": "chain", "input": {"channels": 1, "height": 2, "width": 2}, "classes": 3,
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 1, "out_channels": 2, "kernel": [1, 1], "bias": false},
      {"name": "relu", "op": "relu", "inputs": ["conv"], "inplace": false},
      {"name": "flat", "op": "flatten", "inputs": ["relu"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 8, "out_features": 3, "bias": true}],
    "output": "fc"})");
  j["layers"][1]["inplace"] = inplace;
  return modelgen::parse_netspec(j.dump(), "chain.json");
}

TEST(MemorySim, HandComputedSteadyStateChain) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto plain = make_plain_backend();
  const MemorySimResult r = simulate_training_step(spec, net, 1, *plain);
  // input 16 + labels 8 + (conv w 8 + fc w 96 + fc b 12) x (weight, grad, momentum)
  EXPECT_EQ(r.persistent_bytes, 16 + 8 + 3 * (8 + 96 + 12));
  EXPECT_EQ(r.weight_bytes, 8 + 96 + 12);
  // relu output 32 (saved by relu and fc) + fc output 12 -> freed, log_softmax 12, loss 4,
  // total_weight 4.
  EXPECT_EQ(r.end_of_forward_bytes, 372 + 32 + 12 + 4 + 4);
  // fc's backward: + grad input 32, grad weight 96, grad bias 12 on top of the end of forward.
  EXPECT_EQ(r.peak_bytes, 424 + 140);
  EXPECT_EQ(r.peak_phase, Phase::kBackward);
  EXPECT_EQ(r.peak_layer, 3);
  // What is live at the peak, by when it was allocated: the persistent 372; relu's output 32
  // from forward (fc holds it); loss and total_weight 4 + 4; from backward the logits' gradient
  // 12 (log_softmax's backward of the loss's) and fc's 32 + 96 + 12.
  const std::array<int64_t, kPhaseCount> by_phase{372, 32, 8, 12 + 140, 0};
  EXPECT_EQ(r.peak_by_phase, by_phase);
}

TEST(MemorySim, HandComputedFirstStepPeaksInTheOptimizer) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto plain = make_plain_backend();
  RuntimeOptions first;
  first.steady_state = false;
  const MemorySimResult r = simulate_training_step(spec, net, 1, *plain, first);
  EXPECT_EQ(r.persistent_bytes, 16 + 8 + 8 + 96 + 12);
  // After backward: weights, new grads 116, the loss 4; the optimizer adds momentum buffers
  // one by one and a temporary of each parameter's size: peak at fc.weight, 260 + 8 + 96 + 96.
  EXPECT_EQ(r.peak_bytes, 460);
  EXPECT_EQ(r.peak_phase, Phase::kOptimizer);
  // Before the step: input, labels, weights 140; the loss 4; from backward the gradients 116;
  // from the optimizer the momentum buffers 8 + 96 and fc.weight's temporary 96.
  const std::array<int64_t, kPhaseCount> by_phase{140, 0, 4, 116, 200};
  EXPECT_EQ(r.peak_by_phase, by_phase);
}

// Adam keeps two tensors per parameter, and while it steps one it holds the decayed gradient,
// sqrt(exp_avg_sq) and the denominator: on this chain the step peaks in the optimizer.
TEST(MemorySim, HandComputedAdamStep) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto plain = make_plain_backend();
  results::Recipe adam;
  adam.optimizer = results::Optimizer::kAdam;
  adam.weight_decay = 1e-4;
  const MemorySimResult r = simulate_training_step(spec, net, 1, *plain, {}, adam);
  // input 16 + labels 8 + (weights 116) x (weight, grad, exp_avg, exp_avg_sq)
  EXPECT_EQ(r.persistent_bytes, 16 + 8 + 4 * 116);
  // fc.weight's update: 3 temporaries of 96 bytes on the persistent 488 and the loss 4 (held
  // through the step), above backward's 680.
  EXPECT_EQ(r.peak_bytes, 488 + 4 + 3 * 96);
  EXPECT_EQ(r.peak_phase, Phase::kOptimizer);
  // Where numbers become tensors (LibTorch on the CPU), the division by the bias correction
  // holds a double and a float scalar while the denominator is made.
  struct WrappingScalars : MemoryBackend {
    std::string name() const override { return "wrapping"; }
    int64_t dropout_mask_bytes(int64_t) const override { return 1; }
    bool wraps_scalars() const override { return true; }
  } wrapping;
  EXPECT_EQ(simulate_training_step(spec, net, 1, wrapping, {}, adam).peak_bytes, 488 + 4 + 3 * 96 + 8 + 4);
  adam.weight_decay = 0;  // two temporaries: 684, still above backward's 680
  const MemorySimResult no_decay = simulate_training_step(spec, net, 1, *plain, {}, adam);
  EXPECT_EQ(no_decay.peak_bytes, 488 + 4 + 2 * 96);
  EXPECT_EQ(no_decay.peak_phase, Phase::kOptimizer);
}

// Training from fc: the convolution's weight has no gradient or momentum, the frozen layers
// save nothing, and fc saves its input but computes no gradient of it.
TEST(MemorySim, HandComputedFrozenPrefix) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto plain = make_plain_backend();
  results::Recipe from_fc;
  from_fc.train_from = "fc";
  const MemorySimResult r = simulate_training_step(spec, net, 1, *plain, {}, from_fc);
  EXPECT_EQ(r.persistent_bytes, 16 + 8 + 8 + 3 * (96 + 12));
  // relu's output 32 (saved by fc), log_softmax 12, loss 4, total_weight 4.
  EXPECT_EQ(r.end_of_forward_bytes, 356 + 32 + 12 + 4 + 4);
  // fc's backward: the logits' gradient 12 replaced log_softmax's; weight and bias gradients 108.
  EXPECT_EQ(r.peak_bytes, 408 + 108);
  EXPECT_EQ(r.peak_layer, 3);
  // Against every layer training (564): the conv's gradient and momentum 16, fc's input
  // gradient 32.
  EXPECT_EQ(simulate_training_step(spec, net, 1, *plain).peak_bytes - r.peak_bytes, 16 + 32);
}

TEST(MemorySim, RecipesItCannotSimulateAreRefused) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto plain = make_plain_backend();
  results::Recipe r;
  r.train_from = "conv9";
  EXPECT_THROW(simulate_training_step(spec, net, 1, *plain, {}, r), InputError);
}

// bf16 autocast: the convolution and fc cast their weights (cached, and saved) and conv its
// float32 input; activations are 2 bytes an element; the logits are cast back for the loss;
// each weight cast's backward makes a float32 gradient.
TEST(MemorySim, HandComputedAutocastChain) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto plain = make_plain_backend();
  results::Recipe bf16;
  bf16.precision = results::Precision::kBf16;
  const MemorySimResult r = simulate_training_step(spec, net, 1, *plain, {}, bf16);
  EXPECT_EQ(r.persistent_bytes, 16 + 8 + 3 * (8 + 96 + 12));  // all float32, as without autocast
  // Saved: conv's input cast 8 and weight cast 4, relu's output 16 (fc's input too), fc's
  // weight cast 48; the loss's log_softmax 12, loss 4, total_weight 4. Gone: the logits 6 and
  // their float32 cast 12, fc's bias cast 6 (cached, saved by nothing).
  EXPECT_EQ(r.end_of_forward_bytes, 372 + 8 + 4 + 16 + 48 + 12 + 4 + 4);
  // After fc's backward (its bias's gradient already made float32 and accumulated): the 372,
  // loss and total_weight 8, conv's saves 12, relu's output 16, fc's input gradient 16, and its
  // weight's gradient in bf16 48 while the float32 96 is made from it.
  EXPECT_EQ(r.peak_bytes, 372 + 8 + 12 + 16 + 16 + 48 + 96);
  EXPECT_EQ(r.peak_layer, 3);
  EXPECT_EQ(r.peak_phase, Phase::kBackward);
}

// input [2, 4, 4] -> conv 3x3 (2 -> 4) -> `op` -> conv 1x1 (4 -> 4) -> pool -> flatten -> linear.
NetSpec with_op(const nlohmann::json& op) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "netspec": "1.1", "name": "with_op", "input": {"channels": 2, "height": 4, "width": 4}, "classes": 3,
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 2, "out_channels": 4, "kernel": 3, "padding": 1},
      {"name": "conv2", "op": "conv2d", "inputs": ["op"], "in_channels": 4, "out_channels": 4, "kernel": 1},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["conv2"], "output_size": 1},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 4, "out_features": 3}],
    "output": "fc"})");
  nlohmann::json layer = op;
  layer["name"] = "op";
  layer["inputs"] = {"conv"};
  j["layers"].insert(j["layers"].begin() + 1, layer);
  return modelgen::parse_netspec(j.dump(), "with_op.json");
}

int64_t end_of_forward(const nlohmann::json& op, int64_t batch = 2) {
  const NetSpec spec = with_op(op);
  const auto plain = make_plain_backend();
  return simulate_training_step(spec, modelgen::infer_shapes(spec), batch, *plain).end_of_forward_bytes;
}

TEST(MemorySim, ViewsAllocateNothing) {
  const int64_t base = end_of_forward({{"op", "identity"}});
  EXPECT_EQ(end_of_forward({{"op", "drop_path"}, {"p", 0.0}}), base);
  // A slice of all four channels: a view too.
  EXPECT_EQ(end_of_forward({{"op", "slice"}, {"start", 0}, {"end", 4}}), base);
}

TEST(MemorySim, WhatEachActivationSavesForBackward) {
  const int64_t activation = 2 * 4 * 4 * 4 * 4;  // batch 2, [4, 4, 4] floats
  // sigmoid keeps its result, which conv2 saves anyway: conv's output goes after the op.
  const int64_t sigmoid = end_of_forward({{"op", "sigmoid"}});
  // silu, gelu, hardswish and hardsigmoid keep their input as well: one activation more.
  for (const char* op : {"silu", "gelu", "hardswish", "hardsigmoid"})
    EXPECT_EQ(end_of_forward({{"op", op}}), sigmoid + activation) << op;
  // In place, the result overwrites the input, and the copy of the input they keep for
  // backward takes its place.
  for (const char* op : {"silu", "hardswish", "hardsigmoid"})
    EXPECT_EQ(end_of_forward({{"op", op}, {"inplace", true}}), sigmoid + activation) << op;
  // identity: conv's output is conv2's input, saved once.
  EXPECT_EQ(end_of_forward({{"op", "identity"}}), sigmoid);
}

TEST(MemorySim, DropPathKeepsAPerSampleNoise) {
  const int64_t activation = 2 * 4 * 4 * 4 * 4;
  const int64_t identity = end_of_forward({{"op", "identity"}});
  // Its output (saved by conv2), conv's output no longer read, the noise of 2 floats kept.
  EXPECT_EQ(end_of_forward({{"op", "drop_path"}, {"p", 0.2}}), identity + activation - activation + 2 * 4);
}

TEST(MemorySim, InPlaceReluSharesItsInputStorage) {
  const auto plain = make_plain_backend();
  const NetSpec a = chain(false), b = chain(true);
  const auto ra = simulate_training_step(a, modelgen::infer_shapes(a), 4, *plain);
  const auto rb = simulate_training_step(b, modelgen::infer_shapes(b), 4, *plain);
  // Out of place, conv's output is freed once relu has run (relu keeps its result only):
  // the end of forward is the same; in place never allocates the second 2x2x2 tensor.
  EXPECT_EQ(ra.end_of_forward_bytes, rb.end_of_forward_bytes);
  EXPECT_LE(rb.peak_bytes, ra.peak_bytes);
}

TEST(MemorySim, RoundingAppliesPerAllocation) {
  const NetSpec spec = chain(false);
  const auto net = modelgen::infer_shapes(spec);
  const auto cuda = make_cuda_backend();
  RuntimeOptions o;
  o.round_bytes = 512;
  const MemorySimResult r = simulate_training_step(spec, net, 1, *cuda, o);
  // 2 batch tensors + 3 parameter tensors x 3 copies, each at least one 512-byte block.
  EXPECT_EQ(r.persistent_bytes, 11 * 512);
}

TEST(MemorySim, EventsBalanceAndPeakIsConsistentOnRealNetworks) {
  const std::string dir = test::kTx2Dir + "/";
  const auto cpu = make_libtorch_cpu_backend(16, 1);
  for (const char* name : {"resnet18_0", "mobilenetv2_50", "squeezenet_90"}) {
    SCOPED_TRACE(name);
    const NetSpec spec = modelgen::read_netspec(dir + name + ".json");
    const auto net = modelgen::infer_shapes(spec);
    RuntimeOptions o;
    o.record_events = true;
    for (int64_t batch : {1, 7, 32}) {
      const MemorySimResult r = simulate_training_step(spec, net, batch, *cpu, o);
      // At the peak, what was live before the step is all there still (a step frees none of it),
      // and the phases' parts add up; also after a simulated warm-up step, whose survivors
      // (gradients, momentum) count as before the step.
      RuntimeOptions warm;
      warm.steady_state = false;
      warm.warmup_steps = 1;
      const MemorySimResult after_warmup = simulate_training_step(spec, net, batch, *cpu, warm);
      for (const MemorySimResult* s : {&r, &after_warmup}) {
        int64_t by_phase = 0;
        for (int64_t b : s->peak_by_phase) by_phase += b;
        EXPECT_EQ(by_phase, s->peak_bytes);
        EXPECT_EQ(s->peak_by_phase[static_cast<size_t>(Phase::kSetup)], s->persistent_bytes);
      }
      EXPECT_EQ(after_warmup.persistent_bytes, r.persistent_bytes);
      std::map<int, int64_t> open;
      int64_t live = 0, peak = 0;
      for (const MemoryEvent& e : r.events) {
        if (e.alloc) {
          ASSERT_EQ(open.count(e.tensor), 0u);
          open[e.tensor] = e.bytes;
          live += e.bytes;
        } else {
          ASSERT_EQ(open.count(e.tensor), 1u);
          live -= open[e.tensor];
          open.erase(e.tensor);
        }
        peak = std::max(peak, live);
      }
      EXPECT_EQ(peak, r.peak_bytes);
      EXPECT_EQ(live, r.persistent_bytes);  // the step gives back all it took
      EXPECT_GT(r.end_of_forward_bytes, r.persistent_bytes);
      EXPECT_GE(r.peak_bytes, r.end_of_forward_bytes);
    }
  }
}

TEST(MemorySim, LargerBatchesNeverNeedLessMemory) {
  const std::string dir = test::kTx2Dir + "/";
  const auto cuda = make_cuda_backend();
  const NetSpec spec = modelgen::read_netspec(dir + "mobilenetv2_0.json");
  const auto net = modelgen::infer_shapes(spec);
  int64_t last = 0;
  for (int64_t batch = 1; batch <= 64; batch *= 2) {
    const int64_t peak = simulate_training_step(spec, net, batch, *cuda).peak_bytes;
    EXPECT_GT(peak, last);
    last = peak;
  }
  EXPECT_THROW(simulate_training_step(spec, net, 0, *cuda), std::invalid_argument);
}

}  // namespace
}  // namespace p4s::sim
