// The scoreboard and the harness are proven to catch errors: planted wrong values, wrong beat
// order, missing and extra beats, and a wrong expectation fed to a real RTL run.
#include <doctest/doctest.h>

#include <random>

#include "esact/sim/models.h"
#include "esact/sim/scoreboard.h"

using namespace esact;
using namespace esact::sim;

namespace {
SplsStimulus tiny_stimulus(uint32_t seed, int L) {
  SplsStimulus st;
  st.cfg = config_by_name("tiny");
  st.name = "planted";
  const int N = st.cfg.N, D = st.cfg.D;
  std::mt19937 rng(seed);
  st.x = TensorI8({N, D});
  st.wq = TensorI8({D, D});
  st.wk = TensorI8({D, D});
  for (int d = 0; d < D; ++d) st.x(0, d) = static_cast<int8_t>(int(rng() % 256) - 128);
  for (int i = 1; i < N; ++i)
    for (int d = 0; d < D; ++d)
      st.x(i, d) = static_cast<int8_t>(std::clamp(int(st.x(i - 1, d)) + int(rng() % 31) - 15, -128, 127));
  for (auto& v : st.wq.data) v = static_cast<int8_t>(int(rng() % 256) - 128);
  for (auto& v : st.wk.data) v = static_cast<int8_t>(int(rng() % 256) - 128);
  st.params = SplsParams::from_fractions(L, 250, 750, 4, 1);
  st.golden = run_spls(st.cfg, st.params, st.x, st.wq, st.wk);
  return st;
}
}  // namespace

TEST_CASE("scoreboard: identical beats pass; every planted difference is caught and located") {
  const SplsStimulus st = tiny_stimulus(3, 12);
  const auto beats = expected_spls_beats(st.cfg, st.params.L, st.golden);
  CHECK(beats.size() == size_t(st.cfg.H * (st.params.L + 2) + st.params.L));
  {
    SplsScoreboard sb(st.cfg, beats);
    for (const auto& b : beats) CHECK(sb.on_beat(b));
    sb.finish(100);
    CHECK(sb.ok());
  }
  {  // one mask bit of head 1, row 4, column 9
    SplsScoreboard sb(st.cfg, beats);
    const size_t at = (st.params.L + 2) + 1 + 4;  // [HEAD0, 12 ROW, KV0], HEAD1, ROW 0..3, ROW 4
    for (size_t i = 0; i < beats.size(); ++i) {
      SplsBeat b = beats[i];
      if (i == at) {
        REQUIRE(b.kind == BeatKind::kRow);
        REQUIRE(b.head == 1);
        REQUIRE(b.row == 4);
        b.mask[9] ^= 1;
        b.cycle = 777;
      }
      sb.on_beat(b);
    }
    sb.finish(1000);
    REQUIRE(sb.mismatches().size() == 1);
    const Mismatch& m = sb.mismatches()[0];
    CHECK(m.tensor == "topk_mask");
    CHECK(m.flat_index == (1 * 16 + 4) * 16 + 9);
    CHECK(m.coords == "(head 1, row 4, col 9)");
    CHECK(m.cycle == 777);
    CHECK(m.expected == st.golden.topk_mask(1, 4, 9));
    CHECK(m.actual == 1 - st.golden.topk_mask(1, 4, 9));
    CHECK(!sb.ok());
  }
  {  // a wrong representative, a wrong token representative, a wrong shift
    SplsScoreboard sb(st.cfg, beats);
    for (size_t i = 0; i < beats.size(); ++i) {
      SplsBeat b = beats[i];
      if (b.kind == BeatKind::kRow && b.head == 0 && b.row == 2) b.rep += 1;
      if (b.kind == BeatKind::kToken && b.row == 5) b.rep = 99;
      if (b.kind == BeatKind::kHead && b.head == 1) b.shift_k += 1;
      sb.on_beat(b);
    }
    REQUIRE(sb.mismatches().size() == 3);
    CHECK(sb.mismatches()[0].tensor == "rep");
    CHECK(sb.mismatches()[1].tensor == "shifts");
    CHECK(sb.mismatches()[1].flat_index == 3);
    CHECK(sb.mismatches()[2].tensor == "token_rep");
    CHECK(sb.mismatches()[2].flat_index == 5);
  }
  {  // order, missing and extra beats
    SplsScoreboard sb(st.cfg, beats);
    CHECK_FALSE(sb.on_beat(beats[1]));  // ROW where HEAD is due
    CHECK(sb.mismatches()[0].tensor == "stream");
    SplsScoreboard short_sb(st.cfg, beats);
    for (size_t i = 0; i + 1 < beats.size(); ++i) short_sb.on_beat(beats[i]);
    short_sb.finish(5);
    CHECK_FALSE(short_sb.ok());
    CHECK(short_sb.mismatches().at(0).detail.find("ended after") != std::string::npos);
    SplsScoreboard long_sb(st.cfg, beats);
    for (const auto& b : beats) long_sb.on_beat(b);
    CHECK_FALSE(long_sb.on_beat(beats[0]));
    CHECK_FALSE(long_sb.ok());
  }
}

TEST_CASE("harness: a planted error in the expectation fails a real tiny RTL run, with its location") {
  const SplsRunFn run = spls_runner_for("tiny");
  REQUIRE(bool(run));
  SplsStimulus st = tiny_stimulus(11, 16);
  RunOptions opt;
  opt.stall_prob = 0.25;
  opt.seed = 5;
  const RunResult good = run(st, opt);
  CHECK(good.pass);
  CHECK(good.mismatches.empty());
  // Plant: flip one kept column of head 0, row 7, and one token representative.
  int col = 0;
  while (!st.golden.topk_mask(0, 7, col)) ++col;
  st.golden.topk_mask(0, 7, col) = 0;
  const RunResult bad = run(st, opt);
  CHECK_FALSE(bad.pass);
  REQUIRE_FALSE(bad.mismatches.empty());
  CHECK(bad.mismatches[0].tensor == "topk_mask");
  CHECK(bad.mismatches[0].coords == "(head 0, row 7, col " + std::to_string(col) + ")");
  CHECK(bad.mismatches[0].expected == 0);
  CHECK(bad.mismatches[0].actual == 1);
  CHECK(bad.first_error_cycle > 0);
  CHECK(bad.total_cycles >= bad.first_error_cycle + opt.cycles_after_error);  // context kept
}

TEST_CASE("harness: the watchdog stops a run that cannot finish") {
  const SplsRunFn run = spls_runner_for("tiny");
  REQUIRE(bool(run));
  const SplsStimulus st = tiny_stimulus(2, 16);
  RunOptions opt;
  opt.max_cycles = 50;  // far too few for one sequence
  const RunResult r = run(st, opt);
  CHECK_FALSE(r.pass);
  CHECK(r.timed_out);
  REQUIRE_FALSE(r.mismatches.empty());
  CHECK(r.mismatches.back().tensor == "watchdog");
  CHECK(r.total_cycles <= 51);
}
