// HLog encoding and the add-only product against independent formulations (spec sections 1-2).
#include <doctest/doctest.h>

#include <cstdlib>
#include <set>
#include <vector>

#include "esact/hlog.h"

using esact::HlogCode;

namespace {
// The level set of ESACT-v0.md for n = 8, written out from its definition (powers of two and the
// midpoints of neighbouring powers), not from the encoder.
std::vector<int> hlog_levels() {
  // {2^0, 2^1, 2^0+2^1, 2^2, ..., 2^(n-3)+2^(n-2), 2^(n-1)} with n = 8.
  std::set<int> levels;
  for (int p = 0; p <= 7; ++p) levels.insert(1 << p);
  for (int q = 0; q <= 5; ++q) levels.insert((1 << q) + (1 << (q + 1)));
  return std::vector<int>(levels.begin(), levels.end());
}

// Nearest level to |x|, ties to the larger level; sign restored.
int nearest_level(int x) {
  if (x == 0) return 0;
  const int m = std::abs(x);
  int best = -1;
  for (int level : hlog_levels()) {
    if (best < 0 || std::abs(level - m) < std::abs(best - m) ||
        (std::abs(level - m) == std::abs(best - m) && level > best)) {
      best = level;
    }
  }
  return x < 0 ? -best : best;
}
}  // namespace

TEST_CASE("the HLog level set is the 14 levels of ESACT-v0 for n = 8") {
  const std::vector<int> expected = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128};
  CHECK(hlog_levels() == expected);
}

TEST_CASE("HLog encoding of all 256 INT8 values is the nearest level, ties up") {
  int checked = 0;
  for (int x = -128; x <= 127; ++x) {
    const HlogCode c = esact::hlog_encode(static_cast<int8_t>(x));
    CAPTURE(x);
    CHECK(esact::hlog_value(c) == nearest_level(x));
    CHECK(c.e <= 7);
    CHECK(c.zero == (x == 0));
    if (x != 0) CHECK(c.sign == (x < 0));
    if (c.zero) CHECK(c.packed() == 0x20);
    if (c.h) CHECK(c.e >= 1);
    CHECK(HlogCode::unpack(c.packed()) == c);
    ++checked;
  }
  CHECK(checked == 256);
}

TEST_CASE("HLog tie cases go to the larger magnitude") {
  // 5 lies between 4 and 6 (tie) -> 6; 7 between 6 and 8 (tie) -> 8; 10 between 8 and 12 -> 12;
  // 112 between 96 and 128 -> 128; 80 between 64 and 96 -> 96. Negative values mirror.
  const int cases[][2] = {{5, 6}, {7, 8}, {10, 12}, {14, 16}, {20, 24}, {28, 32}, {40, 48},
                          {56, 64}, {80, 96}, {112, 128}, {-5, -6}, {-7, -8}, {-112, -128},
                          {-128, -128}, {127, 128}, {-127, -128}, {3, 3}, {1, 1}, {-1, -1}};
  for (const auto& c : cases) {
    CAPTURE(c[0]);
    CHECK(esact::hlog_value(esact::hlog_encode(static_cast<int8_t>(c[0]))) == c[1]);
  }
}

TEST_CASE("the add-only product equals multiplication of decoded levels for every pair of codes") {
  std::vector<HlogCode> codes;
  for (int bits = 0; bits < 64; ++bits) {
    HlogCode c = HlogCode::unpack(static_cast<uint8_t>(bits));
    // Only codes the encoder can produce: canonical zero, h only with e >= 1.
    if (c.zero && bits != 0x20) continue;
    if (!c.zero && c.h && c.e == 0) continue;
    if (!c.zero && c.h && c.e == 7) continue;  // 192 is not a level
    codes.push_back(c);
  }
  // 1 zero + 2 signs * (8 powers + 6 midpoints) = 29 codes, all reachable from INT8.
  CHECK(codes.size() == 29);
  std::set<uint8_t> reachable;
  for (int x = -128; x <= 127; ++x) reachable.insert(esact::hlog_encode(static_cast<int8_t>(x)).packed());
  CHECK(reachable.size() == 29);
  for (const HlogCode& a : codes) {
    CHECK(reachable.count(a.packed()) == 1);
    for (const HlogCode& b : codes) {
      CAPTURE(int(a.packed()));
      CAPTURE(int(b.packed()));
      const int64_t expected = int64_t{esact::hlog_value(a)} * esact::hlog_value(b);
      CHECK(esact::hlog_product(a, b) == expected);
    }
  }
}

TEST_CASE("the product table equals hlog_product for all 64 x 64 packed codes") {
  const int32_t* t = esact::hlog_product_table();
  for (int a = 0; a < 64; ++a) {
    for (int b = 0; b < 64; ++b) {
      CAPTURE(a);
      CAPTURE(b);
      CHECK(t[a * 64 + b] == esact::hlog_product(HlogCode::unpack(uint8_t(a)), HlogCode::unpack(uint8_t(b))));
    }
  }
  const uint8_t x[3] = {esact::hlog_encode(5).packed(), esact::hlog_encode(-7).packed(), esact::hlog_encode(0).packed()};
  const uint8_t y[3] = {esact::hlog_encode(3).packed(), esact::hlog_encode(100).packed(), esact::hlog_encode(9).packed()};
  CHECK(esact::hlog_dot_packed(x, y, 3) == 6 * 3 + (-8) * 96 + 0);
}
