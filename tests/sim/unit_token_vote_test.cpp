// RTL unit test: esact_token_vote (spec section 7) against golden token_vote, with random head
// representatives (each rep_h[i] in [max(0, i-w), i], clustered so that votes agree), random w and
// V, with and without seeded random valid/ready stalls.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "Vunit_token_vote.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"
#include "esact/spls.h"

namespace {

constexpr int kN = ESACT_UNIT_VOTE_N;
constexpr int kH = ESACT_UNIT_VOTE_H;
constexpr int clog2(int n) { return n <= 1 ? 0 : 1 + clog2((n + 1) / 2); }
constexpr int kRowW = kN > 1 ? clog2(kN) : 1;  // esact_pkg::idx_w(N)

struct Case {
  int L, w, V;
  esact::TensorI16 rep;  // [H, N]
  std::vector<int16_t> token_rep;
};

Case make_case(std::mt19937_64& rng) {
  Case c;
  c.L = 1 + static_cast<int>(rng() % kN);
  c.w = static_cast<int>(rng() % kN);
  c.V = 1 + static_cast<int>(rng() % kH);
  c.rep = esact::TensorI16({kH, kN}, -1);
  for (int i = 0; i < c.L; ++i) {
    const int lo = std::max(0, i - c.w);
    const int popular = lo + static_cast<int>(rng() % (i - lo + 1));  // most heads agree on it
    for (int h = 0; h < kH; ++h) {
      int r = (rng() % 3) ? popular : lo + static_cast<int>(rng() % (i - lo + 1));
      if (i == 0) r = 0;
      c.rep(h, i) = static_cast<int16_t>(r);
    }
  }
  c.token_rep = esact::token_vote(c.rep, c.L, c.w, c.V);
  return c;
}

int run_case(const Case& c, uint64_t seed, double stall_prob) {
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_token_vote> bench;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall_prob), out_stall(seed * 2 + 2, stall_prob);
  bench->w_i = static_cast<uint8_t>(c.w);
  bench->v_i = static_cast<uint8_t>(c.V);
  bench.reset();
  int in_row = 0, out_row = 0, token_followers = 0;
  bool valid = false;
  while (out_row < c.L && bench.cycle() < 100000) {
    if (!valid && in_row < c.L && !in_stall.stall()) {
      valid = true;
      bench->row_i = static_cast<uint8_t>(in_row);
      for (int h = 0; h < kH; ++h) {
        set_field(bench->reps_i, h * kRowW, kRowW, static_cast<uint64_t>(c.rep(h, in_row)));
      }
    }
    bench->valid_i = valid;
    bench->ready_i = !out_stall.stall();
    bench.settle();
    const bool in_hs = bench->valid_i && bench->ready_o;
    if (bench->valid_o && bench->ready_i) {
      CAPTURE(out_row);
      CHECK(int(bench->row_o) == out_row);
      CHECK(int(bench->rep_o) == c.token_rep[static_cast<size_t>(out_row)]);
      token_followers += c.token_rep[static_cast<size_t>(out_row)] != out_row;
      ++out_row;
    }
    bench.posedge();
    if (in_hs) {
      valid = false;
      ++in_row;
    }
  }
  CHECK(out_row == c.L);
  CHECK_FALSE(bench.assertion_failed());
  return token_followers;
}

}  // namespace

TEST_CASE("esact_token_vote: token representatives equal golden, without stalls") {
  std::mt19937_64 rng(41);
  int followers = 0;
  for (int n = 0; n < 150; ++n) {
    CAPTURE(n);
    followers += run_case(make_case(rng), 1, 0.0);
  }
  CHECK(followers > 100);  // the cases really produce token-followers
}

TEST_CASE("esact_token_vote: token representatives equal golden under random stalls") {
  std::mt19937_64 rng(42);
  for (int n = 0; n < 150; ++n) {
    CAPTURE(n);
    run_case(make_case(rng), static_cast<uint64_t>(n) + 7, n % 2 ? 0.5 : 0.2);
  }
}
