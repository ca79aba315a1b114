// Integer-only nonlinear and requantisation units of the encoder layer: docs/spec.md Part II,
// sections 10-14. Each function is the bit-exact definition the RTL unit is checked against; each
// reads like the hardware (same order of operations, same widths, same rounding).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace esact {

// ---- Section 10: requantisation ----
// y = sat((acc * M + 2^(S-1)) >>> S): round half up, arithmetic shift, int64 intermediate.
struct Requant {
  int32_t M = 1 << 14;  // 1 .. 2^15-1
  int32_t S = 14;       // 1 .. 40
  bool operator==(const Requant& o) const { return M == o.M && S == o.S; }
};
constexpr int32_t kRequantMinM = 1;
constexpr int32_t kRequantMaxM = (1 << 15) - 1;
constexpr int32_t kRequantMinS = 1;
constexpr int32_t kRequantMaxS = 40;

// Throws std::invalid_argument naming `what` if M or S is outside its legal range.
void validate_requant(const Requant& rq, const char* what);

// Tooling, not datapath: the legal (M, S) closest to `multiplier` (> 0), with M in [2^14, 2^15)
// whenever the range of S allows it (relative error <= 2^-15). Throws if not representable.
Requant requant_from_real(double multiplier);

// The rounded, unsaturated value (acc * M + 2^(S-1)) >>> S. |result| < 2^46.
inline int64_t requant_round(int32_t acc, Requant rq) {
  const int64_t prod = static_cast<int64_t>(acc) * rq.M;  // |prod| < 2^46
  return (prod + (int64_t{1} << (rq.S - 1))) >> rq.S;     // >> on int64 is arithmetic (C++20 rule,
                                                          // g++ semantics in C++17)
}
inline int8_t sat_i8(int64_t v) {
  return static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
}
inline int16_t sat_i16(int64_t v) {
  return static_cast<int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}
inline int8_t requant_i8(int32_t acc, Requant rq) { return sat_i8(requant_round(acc, rq)); }
inline int16_t requant_i16(int32_t acc, Requant rq) { return sat_i16(requant_round(acc, rq)); }

// Per-tensor (one entry) or per-output-channel (one entry per channel) requantisation.
struct RequantSet {
  std::vector<Requant> ch;
  RequantSet() : ch(1) {}
  explicit RequantSet(Requant one) : ch{one} {}
  explicit RequantSet(std::vector<Requant> per_channel) : ch(std::move(per_channel)) {}
  const Requant& operator[](int64_t c) const {
    return ch.size() == 1 ? ch[0] : ch[static_cast<size_t>(c)];
  }
  // Throws unless size is 1 or `channels` and every entry is legal.
  void validate(int64_t channels, const char* what) const;
};

// ---- Section 11: integer softmax ----
// Input: logits in log2 units, INT16 with kSoftmaxInFrac fraction bits (t = real * log2(e) * 2^8,
// the log2(e) and 1/sqrt(dh) factors folded into the QK^T requant).
constexpr int kSoftmaxInFrac = 8;
// 2^(-r/256) for r in 0..255, Q0.15: 2^15 + ((r * (kExpK2 * r + 256 * kExpK1) + 2^15) >>> 16).
constexpr int kExpFrac = 15;
constexpr int32_t kExpK1 = -22038;  // ~ -0.6726 * 2^15 (minimax fit of the relative error)
constexpr int32_t kExpK2 = 5692;    // ~ +0.1737 * 2^15
constexpr int kExpMaxShift = 15;    // z > 15 gives 0
// Probabilities: UINT8 with scale 2^-8; the reciprocal of the row sum has kSoftmaxRecipBits bits of
// scale: recip = floor(2^32 / sum), p = min(255, (e * recip + 2^23) >> 24).
constexpr int kProbFrac = 8;
constexpr int kSoftmaxRecipBits = 32;

// Fraction polynomial: 2^(-r/256) in Q0.15 for r in 0..255 (result 16422..32768).
uint32_t iexp2_frac(uint32_t r);
// 2^(-u/256) in Q0.15 for u >= 0 (u = max - t, 0..65535): (frac >> z) with z = u >> 8, 0 if z > 15.
uint32_t iexp2_neg(uint32_t u);
// Softmax of one row over the columns j < n with keep[j] != 0 (three passes: max, exp and sum,
// normalise). Writes probs[j] for every j < n (0 where not kept). An empty row gives all zeros.
// Returns the row sum of the exponentials (0 for an empty row), for tests.
uint32_t isoftmax_row(const int16_t* logits, const uint8_t* keep, int n, uint8_t* probs);

// ---- Section 12: integer GELU (I-BERT i-GELU form, constants refit) ----
// Input: INT16 with kGeluInFrac fraction bits. Output: x * (2^15 + sgn(x) * erf_q(|x|)), an INT32 with
// scale 2^-(kGeluInFrac + 16) (the 1/2 of GELU folded into the scale), requantised to INT8 by the
// caller. erf_q(a) = 2^15 - ((d*d*kGeluA + 2^21) >> 22), d = min(a, kGeluClip) - kGeluClip.
constexpr int kGeluInFrac = 10;
constexpr int32_t kGeluClip = 2637;   // ~ 1.769 * sqrt(2) * 2^10 (refit: 2.5752 * 2^10)
constexpr int32_t kGeluA = 17327;     // ~ 0.2888 / 64 * 2^22 (refit: 0.26440 / 64 * 2^22)
constexpr int kGeluShift = 22;
constexpr int kGeluOutFrac = kGeluInFrac + 16;  // scale of igelu_raw: 2^-26
// erf(|x| / sqrt(2)) in Q0.15 (0..32768) for the magnitude a = |x| (0..32768) in Q.10.
int32_t ierf_q15(int32_t a);
int32_t igelu_raw(int16_t x);

// ---- Section 13: integer square root ----
// floor(sqrt(v)), digit by digit: 32 iterations, one result bit each, no multiplier.
uint32_t isqrt64(uint64_t v);

// ---- Section 14: integer LayerNorm ----
// Input: D values with |r| < 2^17 (D <= 512). Output: INT8 per channel. Steps:
//   sum = sum r; c_d = D * r_d - sum; V = sum c_d^2 (int64); sigma = isqrt(V + eps);
//   recip = floor(2^47 / sigma); n_d = (c_d * recip + 2^31) >>> 32   (|n_d| <= 2^15)
//   y_d = sat_i8(requant(n_d * gamma_d + beta_d, out[d]))
// n_d = (r_d - mean) / std * 2^15 / sqrt(D); sqrt(D) and gamma's scale are folded into `out`.
constexpr int kLnRecipShift = 47;
constexpr int kLnNormShift = 32;
constexpr int kLnNormFrac = kLnRecipShift - kLnNormShift;  // 15
constexpr int32_t kLnMaxInput = 1 << 17;                   // |r| < 2^17
constexpr int32_t kLnMaxBeta = 1 << 30;                    // |beta| <= 2^30
constexpr int64_t kLnMaxEps = int64_t{1} << 61;            // eps in 1 .. 2^61

struct LnQuant {
  std::vector<int16_t> gamma;  // [D] gamma / s_gamma, |gamma| <= 2^15-1
  std::vector<int32_t> beta;   // [D] beta / (s_gamma * sqrt(D) * 2^-15), |beta| <= 2^30
  int64_t eps = 1;             // eps * D^3 / s_r^2, 1..2^61
  RequantSet out;              // 1 or D
  void validate(int D, const char* what) const;
};

// One token. norm_out (optional, D entries) receives n_d for tests. With out16_rq (1 or D entries)
// and out16 given, a second output y16_d = sat_i16(requant(n_d * gamma_d + beta_d, out16_rq[d])) is
// written from the same value (LN1's INT16 residual-2 copy, spec section 15). Throws if |r| >= 2^17.
void ilayernorm_row(const int32_t* r, int D, const LnQuant& ln, int8_t* out,
                    int32_t* norm_out = nullptr, const RequantSet* out16_rq = nullptr,
                    int16_t* out16 = nullptr);

}  // namespace esact
