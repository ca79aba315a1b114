#include "esact/hlog.h"

#include <cstddef>
#include <vector>

namespace esact {

HlogCode hlog_encode(int8_t x) {
  HlogCode c;
  if (x == 0) return c;  // {zero=1, sign=0, e=0, h=0}
  c.zero = false;
  c.sign = x < 0;
  // |x| as an unsigned 8-bit magnitude: -128 -> 128.
  const uint32_t m = c.sign ? static_cast<uint32_t>(-static_cast<int32_t>(x)) : static_cast<uint32_t>(x);
  int p = 7;
  while (((m >> p) & 1u) == 0) --p;  // leading-one detector
  const uint32_t b1 = p >= 1 ? (m >> (p - 1)) & 1u : 0u;
  const uint32_t b0 = p >= 2 ? (m >> (p - 2)) & 1u : 0u;
  const uint32_t two = (b1 << 1) | b0;
  if (two == 0) {
    c.e = static_cast<uint8_t>(p);
    c.h = false;
  } else if (two == 3) {
    c.e = static_cast<uint8_t>(p + 1);  // p <= 6 here (spec section 1)
    c.h = false;
  } else {
    c.e = static_cast<uint8_t>(p);
    c.h = true;
  }
  return c;
}

int32_t hlog_value(HlogCode c) {
  if (c.zero) return 0;
  const int32_t mag = c.h ? (3 << c.e) >> 1 : (1 << c.e);
  return c.sign ? -mag : mag;
}

int32_t hlog_product(HlogCode a, HlogCode b) {
  if (a.zero || b.zero) return 0;
  const int E = a.e + b.e;
  int32_t mag;
  if (!a.h && !b.h) {
    mag = 1 << E;
  } else if (a.h && b.h) {
    mag = (1 << (E + 1)) + (1 << (E - 2));
  } else {
    mag = (1 << E) + (1 << (E - 1));
  }
  return (a.sign != b.sign) ? -mag : mag;
}

const int32_t* hlog_product_table() {
  static const std::vector<int32_t> table = [] {
    std::vector<int32_t> t(64 * 64);
    for (int a = 0; a < 64; ++a)
      for (int b = 0; b < 64; ++b)
        t[static_cast<std::size_t>(a * 64 + b)] =
            hlog_product(HlogCode::unpack(static_cast<uint8_t>(a)), HlogCode::unpack(static_cast<uint8_t>(b)));
    return t;
  }();
  return table.data();
}

}  // namespace esact
