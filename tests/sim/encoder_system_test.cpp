// System level (encoder_runner.h): esact_spls_top and esact_layer_top in one simulation, the
// predictor's output stream wired into the layer. Bit-exact on tiny in ESACT mode (every SPLS beat
// and every layer slice checked), prediction shows in the total, and planted errors are caught.
#include <doctest/doctest.h>

#include "esact/sim/encoder_runner.h"
#include "esact/sim/layer_models.h"

using namespace esact;
using namespace esact::sim;

namespace {
LayerStimulus tiny_case(int L, bool causal, uint64_t seed) {
  const HwConfig cfg = config_by_name("tiny");
  const SplsParams p = SplsParams::from_fractions(L, cfg.rho_milli, cfg.tau_milli, cfg.window, cfg.vote, causal);
  return make_layer_stimulus(cfg, p, seed, LayerSwitches::esact(), "system");
}
}  // namespace

TEST_CASE("system: SPLS RTL feeding the layer RTL is bit-exact and its total includes prediction") {
  const EncoderRunFn sys = encoder_runner_for("tiny");
  const LayerRunFn layer = layer_runner_for("tiny");
  REQUIRE(static_cast<bool>(sys));
  REQUIRE(static_cast<bool>(layer));
  for (const auto& [L, causal] : {std::pair<int, bool>{16, false}, {11, false}, {16, true}}) {
    CAPTURE(L);
    CAPTURE(causal);
    const LayerStimulus st = tiny_case(L, causal, 3);
    const EncoderRunResult e = sys(st, LayerRunOptions{});
    if (!e.first_spls_error.empty()) MESSAGE(e.first_spls_error);
    for (const auto& m : e.mismatches) MESSAGE(m.describe());
    CHECK(e.pass);
    CHECK(e.spls_beat_errors == 0);
    // beats: per head HEAD + L ROW + KV, then L TOKEN
    CHECK(e.spls_beats == uint64_t(st.cfg.H) * (L + 2) + L);
    const LayerRunResult alone = layer(st, LayerRunOptions{});
    REQUIRE(alone.pass);
    CHECK(e.spls_done_cycle > 0);
    CHECK(e.perf.wait_spls > alone.perf.wait_spls);  // the layer now waits for a real predictor
    CHECK(e.cycles > alone.cycles);
    CHECK(e.cycles >= e.spls_done_cycle);
  }
}

TEST_CASE("system: memory stalls keep it bit-exact; a planted error is caught") {
  const EncoderRunFn sys = encoder_runner_for("tiny");
  REQUIRE(static_cast<bool>(sys));
  LayerStimulus st = tiny_case(16, false, 4);
  LayerRunOptions o;
  o.run.stall_prob = 0.3;
  o.run.seed = 9;
  CHECK(sys(st, o).pass);
  st.golden.out(5, 2) = static_cast<int8_t>(st.golden.out(5, 2) ^ 1);
  const EncoderRunResult bad = sys(st, LayerRunOptions{});
  CHECK_FALSE(bad.pass);
  REQUIRE(!bad.mismatches.empty());
  CHECK(bad.mismatches[0].describe().find("row 5") != std::string::npos);
  // A wrong SPLS expectation (the golden beats the wire is checked against) is caught too.
  LayerStimulus st2 = tiny_case(16, false, 4);
  st2.spls.rep(1, 3) = static_cast<int16_t>(st2.spls.rep(1, 3) == 3 ? 2 : 3);
  const EncoderRunResult bad2 = sys(st2, LayerRunOptions{});
  CHECK_FALSE(bad2.pass);
  CHECK(bad2.spls_beat_errors > 0);
}
