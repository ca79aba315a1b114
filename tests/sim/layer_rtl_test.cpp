// The whole encoder layer in RTL (esact_layer_top, `tiny`) against golden run_layer: dense mode,
// ESACT mode with all six switches, each switch alone, causal, short sequences, with and without
// random stalls on every stream and the memory model's latency; every intermediate slice compared.
// Planted errors: a wrong golden value must fail naming tensor, row and column, and a wrong
// configuration (a switch the golden run did not use) must fail too.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "esact/sim/layer_models.h"

using namespace esact;
using namespace esact::sim;

namespace {

LayerRunResult run(const LayerStimulus& st, double stall, uint64_t seed = 1, int latency = 0) {
  const LayerRunFn fn = layer_runner_for("tiny");
  REQUIRE(static_cast<bool>(fn));
  LayerRunOptions o;
  o.run.seed = seed;
  o.run.stall_prob = stall;
  o.mem_latency = latency;
  LayerRunResult r = fn(st, o);
  if (!r.pass) {
    for (size_t i = 0; i < r.mismatches.size() && i < 5; ++i) MESSAGE(r.mismatches[i].describe());
  }
  return r;
}

SplsParams tiny_params(const HwConfig& cfg, int L, bool causal = false) {
  return SplsParams::from_fractions(L, cfg.rho_milli, cfg.tau_milli, cfg.window, cfg.vote, causal);
}

}  // namespace

TEST_CASE("esact_layer_top tiny: dense and ESACT layers are bit-exact, with and without stalls") {
  const HwConfig cfg = config_by_name("tiny");
  for (uint64_t seed : {1u, 2u}) {
    CAPTURE(seed);
    const LayerStimulus dense = make_layer_stimulus(cfg, tiny_params(cfg, cfg.N), seed, LayerSwitches::dense(), "dense");
    const LayerStimulus sparse = make_layer_stimulus(cfg, tiny_params(cfg, cfg.N), seed, LayerSwitches::esact(), "esact");
    CHECK(sparse.golden.executed.total() < dense.golden.executed.total());
    const LayerRunResult rd = run(dense, 0.0);
    CHECK(rd.pass);
    CHECK(rd.beats_out == rd.beats_expected);
    const LayerRunResult re = run(sparse, 0.0);
    CHECK(re.pass);
    CHECK(re.cycles < rd.cycles);  // the skipped work shows in the cycle count
    CHECK(run(dense, 0.3, seed + 10).pass);
    CHECK(run(sparse, 0.3, seed + 20, 25).pass);
  }
}

TEST_CASE("esact_layer_top tiny: each switch alone, causal and short sequences") {
  const HwConfig cfg = config_by_name("tiny");
  const char* names[] = {"skip_q", "skip_kv", "topk_attn", "reuse_attn", "reuse_oproj", "reuse_ffn"};
  for (int s = 0; s < 6; ++s) {
    CAPTURE(names[s]);
    LayerSwitches sw;
    bool* flags[] = {&sw.skip_q, &sw.skip_kv, &sw.topk_attn, &sw.reuse_attn, &sw.reuse_oproj, &sw.reuse_ffn};
    *flags[s] = true;
    CHECK(run(make_layer_stimulus(cfg, tiny_params(cfg, cfg.N), 3, sw, names[s]), 0.0).pass);
  }
  CHECK(run(make_layer_stimulus(cfg, tiny_params(cfg, 11, true), 4, LayerSwitches::esact(), "causal"), 0.2, 5).pass);
  CHECK(run(make_layer_stimulus(cfg, tiny_params(cfg, 5), 5, LayerSwitches::dense(), "short"), 0.0).pass);
  CHECK(run(make_layer_stimulus(cfg, tiny_params(cfg, 1), 6, LayerSwitches::esact(), "one"), 0.0).pass);
}

TEST_CASE("esact_layer_top tiny: the INT16 residual input xr is what residual 1 adds (not x * 16)") {
  // Random INT16 residual inputs, per-channel LayerNorm requantisers with round-half-up ties on the
  // INT16 copies (S = 1), in dense and ESACT mode, with and without stalls; h1r and yr are compared
  // on the debug stream (LN1R, OUTR beats).
  const HwConfig cfg = config_by_name("tiny");
  for (const bool esact_mode : {false, true}) {
    CAPTURE(esact_mode);
    LayerStimulus st = make_layer_stimulus(cfg, tiny_params(cfg, 13), 8,
                                           esact_mode ? LayerSwitches::esact() : LayerSwitches::dense(), "xr");
    std::mt19937_64 rng(esact_mode ? 91 : 92);
    for (int i = 0; i < st.params.L; ++i)
      for (int d = 0; d < cfg.D; ++d) st.xr(i, d) = static_cast<int16_t>(static_cast<int>(rng() % 6001) - 3000);
    std::vector<Requant> r1, r2;
    for (int d = 0; d < cfg.D; ++d) {
      const Requant a = st.weights.quant.ln1r[d], b = st.weights.quant.ln2r[d];
      r1.push_back(d % 4 == 0 ? Requant{1, 1} : Requant{a.M - 11 * (d % 7), a.S});
      r2.push_back(d % 4 == 1 ? Requant{1, 1} : Requant{b.M - 13 * (d % 5), b.S});
    }
    st.weights.quant.ln1r = RequantSet(r1);
    st.weights.quant.ln2r = RequantSet(r2);
    const LayerResult x16 = run_layer(cfg, st.params, st.weights, st.x, widen_input(st.x, kSyntheticResShift),
                                      esact_mode ? &st.spls : nullptr, st.sw);
    st.golden = run_layer(cfg, st.params, st.weights, st.x, st.xr, esact_mode ? &st.spls : nullptr, st.sw);
    CHECK_FALSE(x16.ln1 == st.golden.ln1);  // the stimulus does depend on xr
    CHECK(run(st, 0.0).pass);
    CHECK(run(st, 0.3, 4).pass);
  }
}

TEST_CASE("esact_layer_top tiny: planted errors are caught and located") {
  const HwConfig cfg = config_by_name("tiny");
  LayerStimulus st = make_layer_stimulus(cfg, tiny_params(cfg, cfg.N), 7, LayerSwitches::esact(), "planted");
  SUBCASE("a wrong attention value") {
    // first computed attention row of head 1
    int row = -1;
    for (int i = 0; i < cfg.N && row < 0; ++i)
      if (st.golden.attn_computed(1, i)) row = i;
    REQUIRE(row >= 0);
    const int col = cfg.dh() + 3;
    st.golden.attn(row, col) = static_cast<int8_t>(st.golden.attn(row, col) ^ 0x10);
    const LayerRunResult r = run(st, 0.0);
    CHECK_FALSE(r.pass);
    REQUIRE_FALSE(r.mismatches.empty());
    CHECK(r.mismatches[0].tensor == "attn");
    CHECK(r.mismatches[0].flat_index == int64_t{row} * cfg.D + col);
    CHECK(r.mismatches[0].coords == "(head 1, row " + std::to_string(row) + ", col " + std::to_string(col) + ")");
  }
  SUBCASE("a wrong layer output") {
    st.golden.out(cfg.N - 1, 0) = static_cast<int8_t>(st.golden.out(cfg.N - 1, 0) + 1);
    const LayerRunResult r = run(st, 0.2, 3);
    CHECK_FALSE(r.pass);
    REQUIRE_FALSE(r.mismatches.empty());
    CHECK(r.mismatches[0].tensor == "out");
  }
  SUBCASE("the RTL runs a switch the golden run did not use") {
    st.sw.reuse_ffn = false;  // golden: reuse_ffn on; RTL: recomputes FFN rows the golden model copied
    const LayerRunResult r = run(st, 0.0);
    CHECK_FALSE(r.pass);
  }
}
