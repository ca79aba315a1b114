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

// Section 22, two SPLS banks: sequences back to back through predictor and layer. The next
// sequence's SPLS stream is taken while the layer computes the current one, every output of every
// sequence is bit-exact, and a corrupt bank shows up in its own sequence only.
TEST_CASE("system: back-to-back sequences through both SPLS banks are bit-exact and overlap prediction") {
  const EncoderSeqRunFn sys = encoder_sequences_runner_for("tiny");
  const LayerRunFn layer = layer_runner_for("tiny");
  REQUIRE(static_cast<bool>(sys));
  REQUIRE(static_cast<bool>(layer));
  // distinct inputs, weights, lengths and masks: a bank read for the wrong sequence cannot pass
  const LayerStimulus a = tiny_case(16, false, 3), b = tiny_case(11, false, 5), c = tiny_case(16, true, 7);
  const std::vector<const LayerStimulus*> seqs{&a, &b, &c};
  const EncoderRunResult e = sys(seqs, LayerRunOptions{});
  if (!e.first_spls_error.empty()) MESSAGE(e.first_spls_error);
  for (const auto& m : e.mismatches) MESSAGE(m.describe());
  CHECK(e.pass);
  REQUIRE(e.seqs.size() == 3);
  uint64_t beats = 0;
  for (const LayerStimulus* s : seqs) beats += uint64_t(s->cfg.H) * (s->params.L + 2) + s->params.L;
  CHECK(e.spls_beats == beats);
  uint64_t alone_sum = 0;
  std::vector<uint64_t> alone_cycles;
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const EncoderSeqResult& q = e.seqs[s];
    CHECK(q.pass);
    const LayerRunResult alone = layer(*seqs[s], LayerRunOptions{});  // SPLS stream given at time zero
    REQUIRE(alone.pass);
    alone_sum += alone.cycles;
    alone_cycles.push_back(alone.cycles);
    CHECK(q.layer_end > q.layer_start);
    if (s == 0) continue;
    // the stream of sequence s crossed into the other bank while the layer still computed s-1
    CHECK(q.spls_first < e.seqs[s - 1].layer_end);
    CHECK(q.layer_start >= e.seqs[s - 1].layer_end);
    // ... so the layer waits no longer for prediction than the first sequence did
    CHECK(q.perf.wait_spls <= e.seqs[0].perf.wait_spls);
  }
  // Steady state: each further sequence adds its own layer time (load + compute + what it still
  // waited for SPLS, from its counters) plus at most a few handshake cycles between sequences.
  for (size_t s = 1; s < 3; ++s) {
    CAPTURE(s);
    const LayerPerf& pf = e.seqs[s].perf;
    const uint64_t added = e.seqs[s].layer_end - e.seqs[s - 1].layer_end;
    CHECK(added <= pf.load + pf.wait_spls + pf.compute() + 4);
    CHECK(added >= pf.compute());
  }
  // Sequence 1's prediction ran in bank 1 during sequence 0's layer and was complete before the
  // layer needed it: it costs no more than the same layer with its SPLS stream given at time zero
  // (an independent run) plus the handshake between sequences.
  CHECK(e.seqs[1].perf.wait_spls == 0);
  CHECK(e.seqs[1].layer_end - e.seqs[0].layer_end <= alone_cycles[1] + 4);
  // Sequence 2's predictor waited for bank 0 (sequence 0's) to be released, so it may still wait a
  // little, but less than the first sequence that had no overlap at all.
  CHECK(e.seqs[2].perf.wait_spls < e.seqs[0].perf.wait_spls);
  MESSAGE("tiny, 3 sequences: single " << e.single_ratio() << ", steady " << e.steady_ratio()
                                       << ", wait_spls " << e.seqs[0].perf.wait_spls << "/" << e.seqs[1].perf.wait_spls
                                       << "/" << e.seqs[2].perf.wait_spls << ", total " << e.cycles);
  // pipelining beats running the three as separate system runs (each with its own prediction)
  const EncoderRunFn one = encoder_runner_for("tiny");
  uint64_t separate = 0;
  for (const LayerStimulus* s : seqs) separate += one(*s, LayerRunOptions{}).cycles;
  CHECK(e.cycles < separate);
  CHECK(alone_sum > 0);
  // memory latency jitter and back-pressure, output stalls: still bit-exact in every sequence
  LayerRunOptions o;
  o.run.stall_prob = 0.3;
  o.run.seed = 11;
  const EncoderRunResult st = sys(seqs, o);
  for (const auto& m : st.mismatches) MESSAGE(m.describe());
  CHECK(st.pass);
  CHECK(st.cycles > e.cycles);
}

TEST_CASE("system: a corrupt SPLS bank is caught in its own sequence") {
  const EncoderSeqRunFn sys = encoder_sequences_runner_for("tiny");
  REQUIRE(static_cast<bool>(sys));
  const LayerStimulus a = tiny_case(16, false, 3), b = tiny_case(16, false, 5), c = tiny_case(16, false, 7);
  LayerRunOptions o;
  o.plant_spls_fault_seq = 1;
  o.run.cycles_after_error = 1000000000;  // keep going: sequence 2 must still pass
  const EncoderRunResult e = sys({&a, &b, &c}, o);
  CHECK_FALSE(e.pass);
  CHECK(e.spls_beat_errors == 0);  // the predictor's beat was right; the layer's bank was not
  REQUIRE(e.seqs.size() == 3);
  CHECK(e.seqs[0].pass);
  CHECK_FALSE(e.seqs[1].pass);
  CHECK(e.seqs[2].pass);
  REQUIRE(!e.mismatches.empty());
  CHECK(e.mismatches[0].describe().find("sequence 1") != std::string::npos);
  // the same run without the fault passes
  CHECK(sys({&a, &b, &c}, LayerRunOptions{}).pass);
}
