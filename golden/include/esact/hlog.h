// HLog (HybridLog) quantisation and the add-only product: docs/spec.md sections 1-2.
#pragma once
#include <cstdint>

namespace esact {

// An HLog code. value = 0 if zero, else (-1)^sign * 2^e * (1 + h/2).
struct HlogCode {
  bool zero = true;
  bool sign = false;
  uint8_t e = 0;  // 0..7
  bool h = false;

  // Packed as in RTL: {zero[5], sign[4], e[3:1], h[0]}.
  uint8_t packed() const {
    return static_cast<uint8_t>((zero << 5) | (sign << 4) | ((e & 7) << 1) | (h ? 1 : 0));
  }
  static HlogCode unpack(uint8_t bits) {
    HlogCode c;
    c.zero = (bits >> 5) & 1;
    c.sign = (bits >> 4) & 1;
    c.e = (bits >> 1) & 7;
    c.h = bits & 1;
    return c;
  }
  bool operator==(const HlogCode& o) const { return packed() == o.packed(); }
};

// Encode an INT8 value: leading-one detector plus the two bits below it (spec section 1).
HlogCode hlog_encode(int8_t x);

// Decoded level of a code as an integer (exact; HLog levels of INT8 are integers).
int32_t hlog_value(HlogCode c);

// Add-only product of two codes (spec section 2): exponent add and at most two one-hot terms.
int32_t hlog_product(HlogCode a, HlogCode b);

// hlog_product for every pair of packed 6-bit codes, [a.packed() * 64 + b.packed()]: the same
// function tabulated once, so long golden runs (real-model evaluation) do not pay for decoding
// fields in the inner loop. Tested equal to hlog_product for all 4096 pairs.
const int32_t* hlog_product_table();

// Dot product of packed codes through the table (spec sections 3-4).
inline int32_t hlog_dot_packed(const uint8_t* a, const uint8_t* b, int n) {
  const int32_t* t = hlog_product_table();
  int32_t acc = 0;
  for (int i = 0; i < n; ++i) acc += t[(a[i] << 6) | b[i]];
  return acc;
}

}  // namespace esact
