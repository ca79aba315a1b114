// RTL unit test: esact_layernorm (spec sections 13, 14) against golden ilayernorm_row: the normalised
// value n, the INT8 output and the INT16 second output (LN1's residual-2 copy) of every channel, for
// seeded rows with ranges up to 2^17, random gamma / beta / eps / per-channel requantisers, constant
// rows (n = 0), two-level rows and rows whose INT16 requantiser has S <= 2 (round-half-up ties on
// about half the channels, and INT16 saturation at both ends); with and without random valid/ready
// stalls.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "Vunit_layernorm.h"
#include "esact/intops.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"

namespace {

constexpr int kD = ESACT_UNIT_LN_D;
constexpr int kLanes = ESACT_UNIT_LN_LANES;
constexpr int kBeats = kD / kLanes;

struct Token {
  std::vector<int32_t> r;
  esact::LnQuant ln;
  esact::RequantSet rq16;
};

Token random_token(std::mt19937_64& rng, int kind) {
  Token t;
  const int bits = std::vector<int>{3, 8, 12, 16, 17}[rng() % 5];
  const int64_t amp = (int64_t{1} << bits) - 1;
  const int64_t base = static_cast<int64_t>(rng() % (2 * amp + 1)) - amp;
  for (int d = 0; d < kD; ++d) {
    int64_t v;
    if (kind == 1) v = base;                                  // constant row: n = 0
    else if (kind == 2) v = (d % 2) ? 777 : -777;             // two-level row
    else v = static_cast<int64_t>(rng() % (2 * amp + 1)) - amp;
    t.r.push_back(static_cast<int32_t>(v));
  }
  t.ln.gamma.resize(kD);
  t.ln.beta.resize(kD);
  std::vector<esact::Requant> rq(kD);
  for (int d = 0; d < kD; ++d) {
    t.ln.gamma[d] = static_cast<int16_t>(static_cast<int32_t>(rng() % 65535) - 32767);
    t.ln.beta[d] = static_cast<int32_t>(static_cast<int64_t>(rng() % (1u << 24)) - (1 << 23));
    rq[d] = {1 + static_cast<int32_t>(rng() % 32767), 10 + static_cast<int32_t>(rng() % 20)};
  }
  t.ln.out = esact::RequantSet(rq);
  std::vector<esact::Requant> rq16(kD);
  for (int d = 0; d < kD; ++d) {
    if (kind == 3) rq16[d] = {1 + static_cast<int32_t>(rng() % 2), 1 + static_cast<int32_t>(rng() % 2)};  // ties
    else rq16[d] = {1 + static_cast<int32_t>(rng() % 32767), 6 + static_cast<int32_t>(rng() % 24)};
  }
  t.rq16 = esact::RequantSet(rq16);
  t.ln.eps = rng() % 3 == 0 ? 1 : static_cast<int64_t>(1 + rng() % (int64_t{1} << 40));
  return t;
}

int run(const std::vector<Token>& toks, uint64_t seed, double stall) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_layernorm> b;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall), out_stall(seed * 2 + 2, stall);
  b.reset();
  size_t in_tok = 0, in_beat = 0, out_tok = 0, out_beat = 0;
  int errors = 0;
  bool offered = false;
  std::vector<int8_t> y(kD);
  std::vector<int16_t> y16(kD);
  std::vector<int32_t> n(kD);
  auto expect = [&](size_t i) {
    esact::ilayernorm_row(toks[i].r.data(), kD, toks[i].ln, y.data(), n.data(), &toks[i].rq16, y16.data());
  };
  expect(0);
  while (out_tok < toks.size() && b.cycle() < 200000) {
    if (!offered && in_tok < toks.size() && !in_stall.stall()) {
      offered = true;
      for (int l = 0; l < kLanes; ++l)
        set_field(b->in_r_i, 32 * l, 32, static_cast<uint32_t>(toks[in_tok].r[in_beat * kLanes + l]));
    }
    b->in_valid_i = offered;
    b->out_ready_i = !out_stall.stall();
    // eps and the parameters of the beat the unit asks for (token out_tok is the one inside)
    const Token& cur = toks[std::min(out_tok, toks.size() - 1)];
    b->eps_i = static_cast<uint64_t>(cur.ln.eps);
    b.settle();
    const int pb = static_cast<int>(b->par_beat_o);
    for (int l = 0; l < kLanes; ++l) {
      const int d = pb * kLanes + l;
      set_field(b->gamma_i, 16 * l, 16, static_cast<uint16_t>(cur.ln.gamma[d]));
      set_field(b->beta_i, 32 * l, 32, static_cast<uint32_t>(cur.ln.beta[d]));
      set_field(b->rq_i, 21 * l, 15, static_cast<uint64_t>(cur.ln.out[d].M));
      set_field(b->rq_i, 21 * l + 15, 6, static_cast<uint64_t>(cur.ln.out[d].S));
      set_field(b->rq16_i, 21 * l, 15, static_cast<uint64_t>(cur.rq16[d].M));
      set_field(b->rq16_i, 21 * l + 15, 6, static_cast<uint64_t>(cur.rq16[d].S));
    }
    b.settle();
    const bool in_hs = b->in_valid_i && b->in_ready_o;
    if (b->out_valid_o && b->out_ready_i) {
      CHECK(int(b->out_beat_o) == int(out_beat));
      for (int l = 0; l < kLanes; ++l) {
        const int d = static_cast<int>(out_beat) * kLanes + l;
        const int64_t yy = esact::sim::sign_extend(get_field(b->out_y_o, 8 * l, 8), 8);
        const int64_t nn = esact::sim::sign_extend(get_field(b->out_norm_o, 17 * l, 17), 17);
        const int64_t yw = esact::sim::sign_extend(get_field(b->out_y16_o, 16 * l, 16), 16);
        if ((yy != y[d] || nn != n[d] || yw != y16[d]) && errors++ < 5)
          MESSAGE("token " << out_tok << " d " << d << ": rtl y " << yy << " y16 " << yw << " n " << nn << ", golden y "
                           << int(y[d]) << " y16 " << y16[d] << " n " << n[d]);
      }
      if (++out_beat == kBeats) {
        out_beat = 0;
        if (++out_tok < toks.size()) expect(out_tok);
      }
    }
    b.posedge();
    if (in_hs) {
      offered = false;
      if (++in_beat == kBeats) {
        in_beat = 0;
        ++in_tok;
      }
    }
  }
  CHECK(out_tok == toks.size());
  CHECK_FALSE(b.assertion_failed());
  return errors;
}

}  // namespace

TEST_CASE("esact_layernorm: seeded, constant and two-level rows equal golden without stalls") {
  std::mt19937_64 rng(31);
  std::vector<Token> toks;
  for (int i = 0; i < 600; ++i)
    toks.push_back(random_token(rng, i % 10 == 0 ? 1 : i % 10 == 1 ? 2 : i % 10 == 2 ? 3 : 0));
  CHECK(run(toks, 1, 0.0) == 0);
}

TEST_CASE("esact_layernorm: equals golden under random valid/ready stalls") {
  std::mt19937_64 rng(32);
  std::vector<Token> toks;
  for (int i = 0; i < 150; ++i) toks.push_back(random_token(rng, i % 7 == 0 ? 1 : i % 7 == 1 ? 3 : 0));
  CHECK(run(toks, 9, 0.4) == 0);
}
