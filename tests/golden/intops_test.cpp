// Requantisation, integer softmax, i-GELU, isqrt and integer LayerNorm (docs/spec.md sections 10-14):
// tie cases against independent formulations, exhaustive or dense sweeps against double precision.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "esact/intops.h"

using namespace esact;

namespace {

// Independent requantisation: floor(acc * M / 2^S + 1/2) by exact floor division in 128 bits.
int64_t requant_by_division(int32_t acc, Requant rq) {
  const __int128 num = static_cast<__int128>(acc) * rq.M * 2 + (static_cast<__int128>(1) << rq.S);
  const __int128 den = static_cast<__int128>(1) << (rq.S + 1);
  __int128 q = num / den;  // truncates toward zero; correct to floor below
  if ((num % den != 0) && ((num < 0) != (den < 0))) --q;
  return static_cast<int64_t>(q);
}

double softmax_max_err_lsb = 0;  // reported by the dense sweep
double gelu_max_err = 0;
double ln_max_err = 0;

}  // namespace

// ------------------------------------------------------------------ requantisation

TEST_CASE("requant: ties round half up for positive and negative values") {
  const Requant half{1, 1};  // y = acc / 2
  CHECK(requant_round(5, half) == 3);    // 2.5 -> 3
  CHECK(requant_round(3, half) == 2);    // 1.5 -> 2
  CHECK(requant_round(1, half) == 1);    // 0.5 -> 1
  CHECK(requant_round(-1, half) == 0);   // -0.5 -> 0
  CHECK(requant_round(-3, half) == -1);  // -1.5 -> -1
  CHECK(requant_round(-5, half) == -2);  // -2.5 -> -2
  CHECK(requant_round(4, half) == 2);
  CHECK(requant_round(-4, half) == -2);
  // Just below and above a tie: M = 3, S = 3 -> acc * 3 / 8.
  const Requant r38{3, 3};
  CHECK(requant_round(4, r38) == 2);    // 1.5 -> 2 (tie)
  CHECK(requant_round(-4, r38) == -1);  // -1.5 -> -1 (tie)
  CHECK(requant_round(7, r38) == 3);    // 2.625 -> 3
  CHECK(requant_round(-7, r38) == -3);  // -2.625 -> -3
  CHECK(requant_round(-9, r38) == -3);  // -3.375 -> -3
  // Large S: the tie is at 2^39 * odd.
  const Requant r40{1, 40};
  CHECK(requant_round(0, r40) == 0);
  CHECK(requant_round(2147483647, r40) == 0);    // 0.00195 -> 0
  CHECK(requant_round(-2147483647 - 1, r40) == 0);  // -0.00195 -> 0
  const Requant r20{32767, 20};
  CHECK(requant_round(32, r20) == 1);   // 32 * 32767 / 2^20 = 0.99997 -> 1
  CHECK(requant_round(16, r20) == 0);   // 0.49998 -> 0
  CHECK(requant_round(-16, r20) == 0);  // -0.49998 -> 0
  CHECK(requant_round(-17, r20) == -1); // -0.53122 -> -1
}

TEST_CASE("requant: saturation at both ends for INT8 and INT16") {
  const Requant unit{1 << 14, 14};  // y = acc
  CHECK(requant_i8(127, unit) == 127);
  CHECK(requant_i8(128, unit) == 127);
  CHECK(requant_i8(-128, unit) == -128);
  CHECK(requant_i8(-129, unit) == -128);
  CHECK(requant_i8(2147483647, unit) == 127);
  CHECK(requant_i8(-2147483647 - 1, unit) == -128);
  CHECK(requant_i16(32767, unit) == 32767);
  CHECK(requant_i16(32768, unit) == 32767);
  CHECK(requant_i16(-32768, unit) == -32768);
  CHECK(requant_i16(-32769, unit) == -32768);
  // Rounding happens before saturation: 127.5 -> 128 -> 127; -128.5 -> -128; -128.51 -> -129 -> -128.
  const Requant half{1, 1};
  CHECK(requant_i8(255, half) == 127);
  CHECK(requant_i8(-257, half) == -128);
  CHECK(requant_i8(253, half) == 127);   // 126.5 -> 127
  CHECK(requant_i8(251, half) == 126);   // 125.5 -> 126
  CHECK(requant_i8(-255, half) == -127); // -127.5 -> -127
  // Gain > 1: M = 32767, S = 1 multiplies by 16383.5.
  const Requant big{32767, 1};
  CHECK(requant_i16(2, big) == 32767);
  CHECK(requant_i16(-2, big) == -32767);
  CHECK(requant_i16(-3, big) == -32768);
  CHECK(requant_round(-2147483647 - 1, big) == -35183298347008LL);
}

TEST_CASE("requant agrees with exact floor division on seeded random operands and extremes") {
  std::mt19937_64 rng(7);
  const int32_t extremes[] = {0, 1, -1, 2, -2, 127, -128, 32767, -32768, 2147483647, -2147483647 - 1};
  for (int32_t S = kRequantMinS; S <= kRequantMaxS; ++S) {
    for (int32_t M : {1, 2, 3, 16383, 16384, 21845, 32767}) {
      const Requant rq{M, S};
      for (int32_t acc : extremes) {
        CAPTURE(acc);
        CAPTURE(M);
        CAPTURE(S);
        CHECK(requant_round(acc, rq) == requant_by_division(acc, rq));
      }
    }
  }
  for (int trial = 0; trial < 200000; ++trial) {
    const Requant rq{1 + static_cast<int32_t>(rng() % kRequantMaxM),
                     1 + static_cast<int32_t>(rng() % kRequantMaxS)};
    // Mix full-range accumulators with ties: acc * M a multiple of 2^(S-1).
    int32_t acc = static_cast<int32_t>(rng());
    if (trial % 3 == 0 && rq.S <= 31) acc = static_cast<int32_t>(acc >> (rq.S - 1)) << (rq.S - 1);
    if (trial % 3 == 0 && rq.S <= 31 && rq.M % 2 == 0) acc |= 1;  // odd acc, even M: ties too
    const int64_t expect = requant_by_division(acc, rq);
    CAPTURE(acc);
    CAPTURE(rq.M);
    CAPTURE(rq.S);
    REQUIRE(requant_round(acc, rq) == expect);
    REQUIRE(requant_i8(acc, rq) == std::clamp<int64_t>(expect, -128, 127));
    REQUIRE(requant_i16(acc, rq) == std::clamp<int64_t>(expect, -32768, 32767));
    // And in long double: every quantity is exact in a 64-bit mantissa.
    const long double exact = std::floor(static_cast<long double>(acc) * rq.M /
                                             std::ldexp(1.0L, rq.S) + 0.5L);
    REQUIRE(static_cast<int64_t>(exact) == expect);
  }
}

TEST_CASE("requant_from_real: M in [2^14, 2^15), relative error <= 2^-15, legal ranges enforced") {
  std::mt19937 rng(3);
  for (int t = 0; t < 10000; ++t) {
    const double m = std::ldexp(1.0 + (rng() % 100000) / 100000.0, static_cast<int>(rng() % 37) - 25);
    const Requant rq = requant_from_real(m);
    CAPTURE(m);
    CHECK_NOTHROW(validate_requant(rq, "rq"));
    CHECK(std::fabs(std::ldexp(static_cast<double>(rq.M), -rq.S) / m - 1.0) <= std::ldexp(1.0, -15));
    if (rq.S < kRequantMaxS && rq.S > kRequantMinS) CHECK(rq.M >= (1 << 14));
  }
  CHECK_THROWS(requant_from_real(0.0));
  CHECK_THROWS(requant_from_real(std::ldexp(1.0, 15)));
  CHECK_THROWS(requant_from_real(std::ldexp(1.0, -45)));
  CHECK_THROWS(validate_requant(Requant{0, 5}, "x"));
  CHECK_THROWS(validate_requant(Requant{32768, 5}, "x"));
  CHECK_THROWS(validate_requant(Requant{5, 0}, "x"));
  CHECK_THROWS(validate_requant(Requant{5, 41}, "x"));
  CHECK_THROWS(RequantSet(std::vector<Requant>(3)).validate(4, "x"));
  CHECK_NOTHROW(RequantSet(std::vector<Requant>(4)).validate(4, "x"));
}

// ------------------------------------------------------------------ isqrt

TEST_CASE("isqrt64: exhaustive over [0, 2^22] and around every perfect square near the top") {
  for (uint64_t v = 0; v <= (uint64_t{1} << 22); ++v) {
    const uint64_t r = isqrt64(v);
    if (!(r * r <= v && (r + 1) * (r + 1) > v)) {
      CAPTURE(v);
      FAIL("isqrt64 violates r^2 <= v < (r+1)^2");
    }
  }
  std::mt19937_64 rng(11);
  for (int t = 0; t < 200000; ++t) {
    const uint64_t k = rng() >> 32;  // 0 .. 2^32-1
    for (int64_t delta : {-1, 0, 1}) {
      const uint64_t v = k * k + static_cast<uint64_t>(delta);
      if (k == 0 && delta < 0) continue;
      const unsigned __int128 r = isqrt64(v);
      CAPTURE(v);
      REQUIRE(r * r <= v);
      REQUIRE((r + 1) * (r + 1) > v);
    }
  }
  CHECK(isqrt64(~uint64_t{0}) == 0xFFFFFFFFu);
  CHECK(isqrt64(uint64_t{1} << 62) == (1u << 31));
}

// ------------------------------------------------------------------ softmax

TEST_CASE("iexp2: all 256 fractions within 0.23 % of 2^(-r/256), monotone over the whole range") {
  double worst = 0;
  for (uint32_t r = 0; r < 256; ++r) {
    const double rel = iexp2_frac(r) / 32768.0 / std::exp2(-static_cast<double>(r) / 256.0) - 1.0;
    worst = std::max(worst, std::fabs(rel));
  }
  MESSAGE("iexp2_frac max relative error = " << worst);
  CHECK(worst <= 0.0023);
  CHECK(iexp2_frac(0) == 32768);
  CHECK(iexp2_neg(0) == 32768);
  CHECK(iexp2_neg(256) == 16384);
  CHECK(iexp2_neg(15 * 256) == 1);
  CHECK(iexp2_neg(15 * 256 + 1) == 0);
  CHECK(iexp2_neg(16 * 256) == 0);
  CHECK(iexp2_neg(65535) == 0);
  for (uint32_t u = 0; u < 65535; ++u) {
    if (iexp2_neg(u + 1) > iexp2_neg(u)) {
      CAPTURE(u);
      FAIL("iexp2_neg is not monotone");
    }
  }
}

TEST_CASE("isoftmax: exact edge cases") {
  std::vector<uint8_t> p(256);
  SUBCASE("all equal inputs give 256/n (n a power of two; n = 1 saturates to 255)") {
    for (int n : {1, 2, 4, 8, 16, 32, 64, 128, 256}) {
      for (int16_t t : {int16_t{-32768}, int16_t{-5}, int16_t{0}, int16_t{1234}, int16_t{32767}}) {
        std::vector<int16_t> logits(static_cast<size_t>(n), t);
        std::vector<uint8_t> keep(static_cast<size_t>(n), 1);
        CHECK(isoftmax_row(logits.data(), keep.data(), n, p.data()) == static_cast<uint32_t>(n) * 32768);
        for (int j = 0; j < n; ++j) CHECK(p[static_cast<size_t>(j)] == std::min(255, 256 / n));
      }
    }
  }
  SUBCASE("all equal inputs, n = 3: 85.33 -> 85 each") {
    const int16_t logits[3] = {7, 7, 7};
    const uint8_t keep[3] = {1, 1, 1};
    isoftmax_row(logits, keep, 3, p.data());
    CHECK(p[0] == 85);
    CHECK(p[1] == 85);
    CHECK(p[2] == 85);
  }
  SUBCASE("one dominant column takes 255, the others 0") {
    std::vector<int16_t> logits(64, -32768);
    logits[17] = 32767;
    std::vector<uint8_t> keep(64, 1);
    isoftmax_row(logits.data(), keep.data(), 64, p.data());
    for (int j = 0; j < 64; ++j) CHECK(p[static_cast<size_t>(j)] == (j == 17 ? 255 : 0));
    // A dominance of 16 (log2 units) or more is exact; 15 still leaves 2^-15 in the sum.
    logits.assign(2, 0);
    logits[0] = 16 * 256;
    isoftmax_row(logits.data(), keep.data(), 2, p.data());
    CHECK(p[0] == 255);
    CHECK(p[1] == 0);
  }
  SUBCASE("two columns one log2 unit apart: 2/3 and 1/3") {
    const int16_t logits[2] = {256, 0};
    const uint8_t keep[2] = {1, 1};
    CHECK(isoftmax_row(logits, keep, 2, p.data()) == 32768 + 16384);
    CHECK(p[0] == 171);  // 170.67
    CHECK(p[1] == 85);   // 85.33
  }
  SUBCASE("masked columns get 0 and do not take part, even when they hold the maximum") {
    const int16_t logits[5] = {32767, 10, 10, -32768, 10};
    const uint8_t keep[5] = {0, 1, 1, 0, 1};
    isoftmax_row(logits, keep, 5, p.data());
    CHECK(p[0] == 0);
    CHECK(p[3] == 0);
    CHECK(p[1] == 85);
    CHECK(p[2] == 85);
    CHECK(p[4] == 85);
  }
  SUBCASE("an empty row gives zeros") {
    const int16_t logits[3] = {1, 2, 3};
    const uint8_t keep[3] = {0, 0, 0};
    p[0] = p[1] = p[2] = 9;
    CHECK(isoftmax_row(logits, keep, 3, p.data()) == 0);
    CHECK(p[0] == 0);
    CHECK(p[1] == 0);
    CHECK(p[2] == 0);
  }
}

TEST_CASE("isoftmax: dense sweep against double softmax, within 1 LSB (1/256) per entry") {
  // Reference: p_j = 2^(t_j/256) / sum_k 2^(t_k/256) over the kept columns, in double.
  std::mt19937 rng(2024);
  std::vector<int16_t> logits(256), compact(256);
  std::vector<uint8_t> keep(256), p(256), pc(256);
  double worst = 0, worst_unsat = 0, worst_sum_dev = 0;
  for (int trial = 0; trial < 40000; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 256);
    // Spreads from 1 LSB to the whole INT16 range, so every exponent shift z is exercised.
    const int spread_log2 = static_cast<int>(rng() % 17);
    const int32_t spread = int32_t{1} << spread_log2;
    const int32_t centre = static_cast<int32_t>(rng() % 65536) - 32768;
    int kept = 0;
    for (int j = 0; j < n; ++j) {
      const int32_t v = centre + static_cast<int32_t>(rng() % static_cast<uint32_t>(spread)) - spread / 2;
      logits[static_cast<size_t>(j)] = static_cast<int16_t>(std::clamp(v, -32768, 32767));
      keep[static_cast<size_t>(j)] = (trial % 4 == 0) ? static_cast<uint8_t>(rng() % 2) : 1;
      kept += keep[static_cast<size_t>(j)];
    }
    isoftmax_row(logits.data(), keep.data(), n, p.data());
    if (kept == 0) continue;
    int32_t tmax = -32768;
    for (int j = 0; j < n; ++j)
      if (keep[static_cast<size_t>(j)]) tmax = std::max<int32_t>(tmax, logits[static_cast<size_t>(j)]);
    double denom = 0;
    for (int j = 0; j < n; ++j)
      if (keep[static_cast<size_t>(j)]) denom += std::exp2((logits[static_cast<size_t>(j)] - tmax) / 256.0);
    int sum = 0;
    int m = 0;
    for (int j = 0; j < n; ++j) {
      if (!keep[static_cast<size_t>(j)]) {
        REQUIRE(p[static_cast<size_t>(j)] == 0);
        continue;
      }
      const double ref = std::exp2((logits[static_cast<size_t>(j)] - tmax) / 256.0) / denom;
      const double err = std::fabs(p[static_cast<size_t>(j)] - 256.0 * ref);
      worst = std::max(worst, err);
      if (p[static_cast<size_t>(j)] != 255) worst_unsat = std::max(worst_unsat, err);
      sum += p[static_cast<size_t>(j)];
      compact[static_cast<size_t>(m++)] = logits[static_cast<size_t>(j)];
    }
    // Row sum: each entry rounds by <= 1/2, the floored reciprocal loses < 1/2 in total, and the
    // saturation of 256 to 255 costs 1: |sum - 256| <= kept / 2 + 1.
    REQUIRE(std::fabs(sum - 256.0) <= kept / 2.0 + 1.0);
    worst_sum_dev = std::max(worst_sum_dev, std::fabs(sum - 256.0));
    // Masking equals compaction: the kept columns give the same probabilities as the short row.
    std::vector<uint8_t> all(static_cast<size_t>(m), 1);
    isoftmax_row(compact.data(), all.data(), m, pc.data());
    int k = 0;
    for (int j = 0; j < n; ++j)
      if (keep[static_cast<size_t>(j)]) REQUIRE(pc[static_cast<size_t>(k++)] == p[static_cast<size_t>(j)]);
  }
  softmax_max_err_lsb = worst;
  MESSAGE("isoftmax max |p - 256 * softmax| = " << worst << " LSB (" << worst_unsat
            << " LSB where p < 255); max |row sum - 256| = " << worst_sum_dev);
  CHECK(worst <= 1.0);        // 1 LSB: the saturation of p = 256 to 255
  CHECK(worst_unsat <= 0.75);
}

TEST_CASE("isoftmax: shift invariance (max subtraction is exact)") {
  std::mt19937 rng(5);
  std::vector<int16_t> a(64), b(64);
  std::vector<uint8_t> keep(64, 1), pa(64), pb(64);
  for (int trial = 0; trial < 2000; ++trial) {
    const int32_t off = static_cast<int32_t>(rng() % 20001) - 10000;
    for (int j = 0; j < 64; ++j) {
      a[static_cast<size_t>(j)] = static_cast<int16_t>(static_cast<int32_t>(rng() % 8000) - 4000);
      b[static_cast<size_t>(j)] = static_cast<int16_t>(a[static_cast<size_t>(j)] + off);
    }
    isoftmax_row(a.data(), keep.data(), 64, pa.data());
    isoftmax_row(b.data(), keep.data(), 64, pb.data());
    REQUIRE(pa == pb);
  }
}

// ------------------------------------------------------------------ GELU

TEST_CASE("igelu: every INT16 input within 0.0150 of exact-erf GELU; exact outside the clip") {
  double worst = 0;
  int32_t worst_x = 0;
  for (int32_t x = -32768; x <= 32767; ++x) {
    const double xr = x / 1024.0;
    const double ref = 0.5 * xr * (1.0 + std::erf(xr / std::sqrt(2.0)));
    const double got = std::ldexp(static_cast<double>(igelu_raw(static_cast<int16_t>(x))), -kGeluOutFrac);
    const double err = std::fabs(got - ref);
    if (err > worst) {
      worst = err;
      worst_x = x;
    }
  }
  gelu_max_err = worst;
  MESSAGE("igelu max |error| = " << worst << " at x = " << worst_x / 1024.0);
  CHECK(worst <= 0.0150);
  // Edge and tie cases of the clip and the sign.
  CHECK(igelu_raw(0) == 0);
  CHECK(ierf_q15(kGeluClip) == 32768);
  CHECK(ierf_q15(32768) == 32768);
  CHECK(igelu_raw(static_cast<int16_t>(kGeluClip)) == kGeluClip * 65536);
  CHECK(igelu_raw(32767) == 32767 * 65536);
  CHECK(igelu_raw(static_cast<int16_t>(-kGeluClip)) == 0);
  CHECK(igelu_raw(-32768) == 0);
  // erf_q(0) = 2^15 - round(2637^2 * 17327 / 2^22) = 32768 - 28727 = 4041.
  CHECK(ierf_q15(0) == 4041);
  // x = +-1 LSB: d = -2636, erf_q = 32768 - round(2636^2 * 17327 / 2^22) = 4063.
  CHECK(ierf_q15(1) == 4063);
  CHECK(igelu_raw(1) == 32768 + 4063);
  CHECK(igelu_raw(-1) == -(32768 - 4063));
  // The erf approximation itself against erf(|x| / sqrt 2).
  double erf_worst = 0;
  for (int32_t a = 0; a <= 32768; ++a)
    erf_worst = std::max(erf_worst, std::fabs(ierf_q15(a) / 32768.0 - std::erf(a / 1024.0 / std::sqrt(2.0))));
  MESSAGE("ierf max |error| = " << erf_worst);
  CHECK(erf_worst <= 0.124);
}

// ------------------------------------------------------------------ LayerNorm

namespace {
LnQuant unit_ln(int D) {
  LnQuant ln;
  ln.gamma.assign(static_cast<size_t>(D), 16384);  // gamma = 1 at s_gamma = 2^-14
  ln.beta.assign(static_cast<size_t>(D), 0);
  ln.eps = 1;
  ln.out = RequantSet(Requant{1 << 14, 14});
  return ln;
}
}  // namespace

TEST_CASE("ilayernorm: exact cases") {
  SUBCASE("constant row: normalised value 0, output = requant(beta)") {
    LnQuant ln = unit_ln(48);
    for (int d = 0; d < 48; ++d) ln.beta[static_cast<size_t>(d)] = d * 4 - 90;
    ln.out = RequantSet(Requant{1, 2});  // y = t / 4
    std::vector<int32_t> r(48, -777), n(48);
    std::vector<int8_t> y(48);
    ilayernorm_row(r.data(), 48, ln, y.data(), n.data());
    for (int d = 0; d < 48; ++d) {
      CHECK(n[static_cast<size_t>(d)] == 0);
      CHECK(y[static_cast<size_t>(d)] == static_cast<int8_t>(requant_round(d * 4 - 90, Requant{1, 2})));
    }
  }
  SUBCASE("two-level row, D = 64: n = +-2^15 / sqrt(64) = +-4096 exactly") {
    for (int32_t a : {1, 8, 1024, 65536}) {
      std::vector<int32_t> r(64), n(64);
      std::vector<int8_t> y(64);
      for (int d = 0; d < 64; ++d) r[static_cast<size_t>(d)] = 5 + (d % 2 ? a : -a);
      LnQuant ln = unit_ln(64);
      ln.out = RequantSet(Requant{1, 12});  // t / 4096 -> +-1 for gamma = 1
      ln.gamma.assign(64, 1);
      ilayernorm_row(r.data(), 64, ln, y.data(), n.data());
      CAPTURE(a);
      for (int d = 0; d < 64; ++d) {
        CHECK(n[static_cast<size_t>(d)] == (d % 2 ? 4096 : -4096));
        CHECK(y[static_cast<size_t>(d)] == (d % 2 ? 1 : -1));
      }
    }
  }
  SUBCASE("INT16 second output: sat_16 of the requantised n * gamma + beta, ties rounded half up") {
    // Per channel (M, S) with S in 1..2 makes about half the channels exact ties; large gammas and
    // betas reach the INT16 saturation at both ends.
    std::mt19937_64 rng(77);
    int ties = 0, sat_lo = 0, sat_hi = 0;
    for (int row = 0; row < 200; ++row) {
      const int D = 32;
      LnQuant ln = unit_ln(D);
      std::vector<Requant> r16(static_cast<size_t>(D));
      for (int d = 0; d < D; ++d) {
        ln.gamma[static_cast<size_t>(d)] = static_cast<int16_t>(static_cast<int32_t>(rng() % 65535) - 32767);
        ln.beta[static_cast<size_t>(d)] = static_cast<int32_t>(static_cast<int64_t>(rng() % (1u << 22)) - (1 << 21));
        r16[static_cast<size_t>(d)] = row % 2 ? Requant{1, 1 + static_cast<int32_t>(rng() % 2)}
                                              : Requant{1 + static_cast<int32_t>(rng() % 32767), 10 + static_cast<int32_t>(rng() % 20)};
      }
      const RequantSet rs(r16);
      std::vector<int32_t> r(static_cast<size_t>(D)), n(static_cast<size_t>(D));
      for (auto& v : r) v = static_cast<int32_t>(static_cast<int64_t>(rng() % 200001) - 100000);
      std::vector<int8_t> y(static_cast<size_t>(D)), y_plain(static_cast<size_t>(D));
      std::vector<int16_t> y16(static_cast<size_t>(D));
      ilayernorm_row(r.data(), D, ln, y.data(), n.data(), &rs, y16.data());
      ilayernorm_row(r.data(), D, ln, y_plain.data());
      CHECK(y == y_plain);  // the second output changes nothing of the first
      for (int d = 0; d < D; ++d) {
        const size_t ud = static_cast<size_t>(d);
        const int64_t t = int64_t{n[ud]} * ln.gamma[ud] + ln.beta[ud];
        const Requant q = r16[ud];
        const int64_t want = std::clamp<int64_t>(requant_by_division(static_cast<int32_t>(t), q), -32768, 32767);
        CHECK(y16[ud] == want);
        ties += ((t * q.M) & ((int64_t{1} << q.S) - 1)) == (int64_t{1} << (q.S - 1));
        sat_lo += want == -32768;
        sat_hi += want == 32767;
      }
    }
    CHECK(ties > 500);
    CHECK(sat_lo > 50);
    CHECK(sat_hi > 50);
    std::vector<int32_t> r(8, 0);
    std::vector<int8_t> y(8);
    std::vector<int16_t> y16(8);
    CHECK_THROWS(ilayernorm_row(r.data(), 8, unit_ln(8), y.data(), nullptr, nullptr, y16.data()));
  }
  SUBCASE("inputs outside (-2^17, 2^17) are rejected") {
    std::vector<int32_t> r(8, 0);
    std::vector<int8_t> y(8);
    r[3] = kLnMaxInput;
    CHECK_THROWS(ilayernorm_row(r.data(), 8, unit_ln(8), y.data()));
  }
}

TEST_CASE("ilayernorm: seeded random rows against double LayerNorm") {
  // Reference n = (r - mean) / sqrt(var + eps / D^3) * 2^15 / sqrt(D) (var biased, as LayerNorm).
  // Bound: 1 LSB of rounding plus the relative error of the floored square root, |n| / sigma.
  std::mt19937 rng(99);
  double worst_excess = 0, worst_abs = 0;
  int out_mismatch = 0, outputs = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int D = std::vector<int>{8, 32, 96, 384, 512}[static_cast<size_t>(trial % 5)];
    const int32_t range = int32_t{1} << (1 + static_cast<int>(rng() % 17));  // up to 2^17
    std::vector<int32_t> r(static_cast<size_t>(D)), n(static_cast<size_t>(D));
    const int32_t offset = static_cast<int32_t>(rng() % static_cast<uint32_t>(range)) - range / 2;
    for (auto& v : r) {
      const int64_t x = offset / 2 + static_cast<int64_t>(rng() % static_cast<uint32_t>(range)) - range / 2;
      v = static_cast<int32_t>(std::clamp<int64_t>(x, -kLnMaxInput + 1, kLnMaxInput - 1));
    }
    LnQuant ln;
    ln.eps = 1 + static_cast<int64_t>(rng() % 1000000);
    ln.gamma.resize(static_cast<size_t>(D));
    ln.beta.resize(static_cast<size_t>(D));
    for (int d = 0; d < D; ++d) {
      ln.gamma[static_cast<size_t>(d)] = static_cast<int16_t>(static_cast<int32_t>(rng() % 65535) - 32767);
      ln.beta[static_cast<size_t>(d)] = static_cast<int32_t>(rng() % (1u << 28)) - (1 << 27);
    }
    ln.out = RequantSet(requant_from_real(127.0 / (32767.0 * 32768.0 * 2.0)));
    std::vector<int8_t> y(static_cast<size_t>(D));
    ilayernorm_row(r.data(), D, ln, y.data(), n.data());
    double mean = 0;
    for (int32_t v : r) mean += v;
    mean /= D;
    double var = 0;
    for (int32_t v : r) var += (v - mean) * (v - mean);
    var /= D;
    const double sd = std::sqrt(var + static_cast<double>(ln.eps) / (static_cast<double>(D) * D * D));
    const double sigma_int = std::sqrt(var * D * D * D + static_cast<double>(ln.eps));
    for (int d = 0; d < D; ++d) {
      const double ref = (r[static_cast<size_t>(d)] - mean) / sd * 32768.0 / std::sqrt(static_cast<double>(D));
      const double err = std::fabs(n[static_cast<size_t>(d)] - ref);
      const double bound = 1.0 + std::fabs(ref) / sigma_int;
      worst_excess = std::max(worst_excess, err / bound);
      worst_abs = std::max(worst_abs, err);
      // Output: requant of the exact (n * gamma + beta), within 1 of ours.
      const double t = ref * ln.gamma[static_cast<size_t>(d)] + ln.beta[static_cast<size_t>(d)];
      const double yref = std::clamp(std::floor(t * ln.out[0].M / std::ldexp(1.0, ln.out[0].S) + 0.5), -128.0, 127.0);
      out_mismatch += std::fabs(yref - y[static_cast<size_t>(d)]) > 1.0 ? 1 : 0;
      ++outputs;
    }
  }
  ln_max_err = worst_abs;
  MESSAGE("ilayernorm max |n - ref| = " << worst_abs << " (of 2^15 / sqrt(D) per std); "
                                        << "max error / bound = " << worst_excess);
  CHECK(worst_excess <= 1.0);
  CHECK(out_mismatch == 0);
  CHECK(outputs > 0);
}
