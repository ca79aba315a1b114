// Integer units of the encoder layer, docs/spec.md Part II sections 10-14.
#include "esact/intops.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace esact {

namespace {
[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument(what); }
}  // namespace

// ---- Section 10 ----

void validate_requant(const Requant& rq, const char* what) {
  if (rq.M < kRequantMinM || rq.M > kRequantMaxM)
    fail(std::string(what) + ": requant M must be in 1..32767, got " + std::to_string(rq.M));
  if (rq.S < kRequantMinS || rq.S > kRequantMaxS)
    fail(std::string(what) + ": requant S must be in 1..40, got " + std::to_string(rq.S));
}

Requant requant_from_real(double multiplier) {
  if (!(multiplier > 0.0) || !std::isfinite(multiplier))
    fail("requant_from_real: multiplier must be positive and finite");
  // Largest S whose rounded M still fits 15 bits: M lands in [2^14, 2^15) unless S hits a bound.
  for (int32_t s = kRequantMaxS; s >= kRequantMinS; --s) {
    const double m = std::nearbyint(std::ldexp(multiplier, s));
    if (m <= kRequantMaxM) {
      if (m < kRequantMinM) break;  // too small even at S = 40
      return Requant{static_cast<int32_t>(m), s};
    }
  }
  fail("requant_from_real: multiplier " + std::to_string(multiplier) +
       " is outside [2^-41, 2^14) and cannot be represented");
}

void RequantSet::validate(int64_t channels, const char* what) const {
  if (ch.size() != 1 && static_cast<int64_t>(ch.size()) != channels)
    fail(std::string(what) + ": needs 1 or " + std::to_string(channels) + " requant entries, got " +
         std::to_string(ch.size()));
  for (const Requant& rq : ch) validate_requant(rq, what);
}

// ---- Section 11 ----

uint32_t iexp2_frac(uint32_t r) {
  // Horner: (K2 * r + 256 * K1) * r, |.| < 2^31; the constant term 2^15 is added after the shift.
  const int32_t ri = static_cast<int32_t>(r & 0xFF);
  const int32_t t = (kExpK2 * ri + 256 * kExpK1) * ri;
  return static_cast<uint32_t>((int32_t{1} << kExpFrac) + ((t + (int32_t{1} << 15)) >> 16));
}

uint32_t iexp2_neg(uint32_t u) {
  const uint32_t z = u >> kSoftmaxInFrac;  // integer part of the log2-domain distance to the max
  const uint32_t r = u & ((1u << kSoftmaxInFrac) - 1);
  if (z > static_cast<uint32_t>(kExpMaxShift)) return 0;
  return iexp2_frac(r) >> z;
}

uint32_t isoftmax_row(const int16_t* logits, const uint8_t* keep, int n, uint8_t* probs) {
  // Pass 1: row maximum over the kept columns.
  bool any = false;
  int32_t max_t = -32768;
  for (int j = 0; j < n; ++j) {
    if (keep[j] && (!any || logits[j] > max_t)) {
      max_t = logits[j];
      any = true;
    }
  }
  if (!any) {
    for (int j = 0; j < n; ++j) probs[j] = 0;
    return 0;
  }
  // Pass 2: exponentials (16-bit, <= 2^15) and their sum (<= 256 * 2^15 = 2^23, 24 bits).
  // The exponentials are recomputed in pass 3 rather than buffered: same bits, as the RTL may choose.
  uint32_t sum = 0;
  for (int j = 0; j < n; ++j) {
    if (keep[j]) sum += iexp2_neg(static_cast<uint32_t>(max_t - logits[j]));
  }
  // One reciprocal per row (sum >= 2^15 because the maximum contributes 2^15): recip <= 2^17.
  const uint64_t recip = (uint64_t{1} << kSoftmaxRecipBits) / sum;
  // Pass 3: p = e * recip / 2^24, rounded half up, saturated to 255 (e * recip <= 2^32).
  constexpr int kShift = kSoftmaxRecipBits - kProbFrac;
  for (int j = 0; j < n; ++j) {
    if (!keep[j]) {
      probs[j] = 0;
      continue;
    }
    const uint64_t e = iexp2_neg(static_cast<uint32_t>(max_t - logits[j]));
    const uint64_t p = (e * recip + (uint64_t{1} << (kShift - 1))) >> kShift;
    probs[j] = static_cast<uint8_t>(p > 255 ? 255 : p);
  }
  return sum;
}

// ---- Section 12 ----

int32_t ierf_q15(int32_t a) {
  const int64_t d = static_cast<int64_t>(a < kGeluClip ? a : kGeluClip) - kGeluClip;  // -2637..0
  const int64_t drop = (d * d * kGeluA + (int64_t{1} << (kGeluShift - 1))) >> kGeluShift;
  return static_cast<int32_t>((int64_t{1} << 15) - drop);
}

int32_t igelu_raw(int16_t x) {
  const int32_t a = x < 0 ? -static_cast<int32_t>(x) : x;  // 0..32768
  const int32_t erf = ierf_q15(a);
  const int32_t factor = x > 0 ? (1 << 15) + erf : (x < 0 ? (1 << 15) - erf : (1 << 15));
  // |x| <= 2^15 and factor <= 2^16, and factor <= 2^15 when x < 0: |result| < 2^31.
  return static_cast<int32_t>(static_cast<int64_t>(x) * factor);
}

// ---- Section 13 ----

uint32_t isqrt64(uint64_t v) {
  uint64_t rem = v;
  uint64_t root = 0;
  uint64_t bit = uint64_t{1} << 62;
  for (int it = 0; it < 32; ++it) {
    if (rem >= root + bit) {
      rem -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return static_cast<uint32_t>(root);
}

// ---- Section 14 ----

void LnQuant::validate(int D, const char* what) const {
  const std::string w(what);
  if (static_cast<int>(gamma.size()) != D || static_cast<int>(beta.size()) != D)
    fail(w + ": gamma and beta need " + std::to_string(D) + " entries");
  for (int16_t g : gamma)
    if (g == -32768) fail(w + ": gamma must be in -32767..32767");
  for (int32_t b : beta)
    if (b < -kLnMaxBeta || b > kLnMaxBeta) fail(w + ": beta must be in -2^30..2^30");
  if (eps < 1 || eps > kLnMaxEps) fail(w + ": eps must be in 1..2^61");
  out.validate(D, what);
}

void ilayernorm_row(const int32_t* r, int D, const LnQuant& ln, int8_t* out, int32_t* norm_out,
                    const RequantSet* out16_rq, int16_t* out16) {
  if ((out16_rq == nullptr) != (out16 == nullptr))
    fail("ilayernorm_row: the INT16 output needs both its requantiser and its buffer");
  // Pass 1: sum (|sum| < 512 * 2^17 = 2^26).
  int32_t sum = 0;
  for (int d = 0; d < D; ++d) {
    if (r[d] <= -kLnMaxInput || r[d] >= kLnMaxInput)
      fail("ilayernorm_row: input " + std::to_string(r[d]) + " outside (-2^17, 2^17)");
    sum += r[d];
  }
  // Pass 2: D-scaled centred values and their square sum. V = D^2 * sum (r - mean)^2
  // <= D^3 * max r^2 < 2^27 * 2^34 = 2^61.
  uint64_t var = 0;
  for (int d = 0; d < D; ++d) {
    const int64_t c = static_cast<int64_t>(D) * r[d] - sum;
    var += static_cast<uint64_t>(c * c);
  }
  const uint32_t sigma = isqrt64(var + static_cast<uint64_t>(ln.eps));  // >= 1 because eps >= 1
  const uint64_t recip = (uint64_t{1} << kLnRecipShift) / sigma;
  // Pass 3: normalise (|c| <= sigma, so |c * recip| <= 2^47), scale and shift, requantise.
  for (int d = 0; d < D; ++d) {
    const int64_t c = static_cast<int64_t>(D) * r[d] - sum;
    const int64_t n =
        (c * static_cast<int64_t>(recip) + (int64_t{1} << (kLnNormShift - 1))) >> kLnNormShift;
    if (norm_out) norm_out[d] = static_cast<int32_t>(n);
    const int32_t t = static_cast<int32_t>(n * ln.gamma[static_cast<size_t>(d)] +
                                           ln.beta[static_cast<size_t>(d)]);  // |t| < 2^31
    out[d] = requant_i8(t, ln.out[d]);
    if (out16) out16[d] = requant_i16(t, (*out16_rq)[d]);
  }
}

}  // namespace esact
