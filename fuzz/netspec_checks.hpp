// The checks that every NetSpec accepted by the reader must pass: consistent shapes and FLOP
// counts, the file round trip, and the consumers of a valid NetSpec (channel groups, the memory
// simulation, the perf4sight features), which must work on it. Shared by the NetSpec fuzzers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "modelgen/channel_groups.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "predictors/perf4sight/perf4sight_features.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"

namespace p4s::fuzz {

// Batch sizes the consumers run at: the smallest, and a large one that is still realistic.
inline constexpr int64_t kSmallBatch = 1;
inline constexpr int64_t kLargeBatch = 256;

inline void check_shapes(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net) {
  P4S_FUZZ_CHECK(net.layers.size() == spec.layers.size(), "one shape per layer");
  P4S_FUZZ_CHECK(net.output >= 0 && static_cast<size_t>(net.output) < net.layers.size(),
                 "output index " + std::to_string(net.output));
  P4S_FUZZ_CHECK(net.params >= 0 && net.buffers >= 0 && net.forward_macs >= 0, "totals");
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const modelgen::LayerShape& l = net.layers[i];
    P4S_FUZZ_CHECK(l.out.channels > 0 && l.out.height > 0 && l.out.width > 0,
                   "layer " + std::to_string(i) + " gives " + l.out.str());
    for (int p : l.inputs) P4S_FUZZ_CHECK(p >= -1 && p < static_cast<int>(i), "producer order");
  }
  const int64_t small = net.training_flops(kSmallBatch);
  const int64_t large = net.training_flops(kLargeBatch);
  P4S_FUZZ_CHECK(small >= 0 && large == small * (kLargeBatch / kSmallBatch),
                 "training FLOPs " + std::to_string(small) + " and " + std::to_string(large));
}

// What the tools write must read back as the same network, and write the same bytes again.
inline void check_round_trip(const modelgen::NetSpec& spec) {
  const std::string text = must_not_throw("netspec_to_json", [&] { return modelgen::netspec_to_json(spec); });
  const modelgen::NetSpec back =
      must_not_throw("parse_netspec(netspec_to_json(spec))",
                     [&] { return modelgen::parse_netspec(text, "round trip"); });
  P4S_FUZZ_CHECK(back == spec, "the written spec reads back different:\n" + text);
  P4S_FUZZ_CHECK(modelgen::netspec_to_json(back) == text, "writing it again changes the bytes");
}

inline void check_consumers(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net) {
  const modelgen::ChannelGroups groups = must_not_throw(
      "analyze_channel_groups", [&] { return modelgen::analyze_channel_groups(spec); });
  P4S_FUZZ_CHECK(groups.outputs.size() == spec.layers.size(), "channel segments per layer");

  const auto plain = sim::make_plain_backend();
  const auto cpu = sim::make_libtorch_cpu_backend(8, 1);
  for (const sim::MemoryBackend* backend : {plain.get(), cpu.get()}) {
    for (int64_t batch : {kSmallBatch, kLargeBatch}) {
      const sim::MemorySimResult r = must_not_throw("simulate_training_step", [&] {
        return sim::simulate_training_step(spec, net, batch, *backend);
      });
      P4S_FUZZ_CHECK(r.weight_bytes == 4 * net.params, "weights are float32");
      P4S_FUZZ_CHECK(r.persistent_bytes >= r.weight_bytes && r.peak_bytes >= r.persistent_bytes &&
                         r.peak_bytes >= r.end_of_forward_bytes,
                     "peak " + std::to_string(r.peak_bytes) + ", persistent " +
                         std::to_string(r.persistent_bytes));
    }
  }
  // A network without convolutions, or one whose conv the original's formula cannot describe,
  // has no perf4sight features: a documented refusal.
  only_throws<InputError, std::invalid_argument, std::overflow_error>(
      "perf4sight_features", "perf4sight features: ",
      [&] { return predictors::perf4sight_features(spec, net, kLargeBatch); });
}


// All of the above, for a spec the reader accepted.
inline void check_accepted_netspec(const modelgen::NetSpec& spec) {
  const modelgen::ShapedNet net = must_not_throw(
      "infer_shapes of an accepted spec", [&] { return modelgen::infer_shapes(spec, "fuzz"); });
  check_shapes(spec, net);
  check_round_trip(spec);
  check_consumers(spec, net);
}

}  // namespace p4s::fuzz
