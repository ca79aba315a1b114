// RTL unit test: esact_hlog_enc (spec section 1), exhaustive over all 256 INT8 values, against the
// golden hlog_encode and against the "nearest level, ties to the larger magnitude" formulation.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>

#include "Vunit_hlog_enc.h"
#include "esact/hlog.h"
#include "esact/sim/unit_bench.h"

namespace {

// The level a code decodes to, from the packed bits, independent of the golden decoder.
int32_t decode_packed(uint8_t bits) {
  if (bits & 0x20) return 0;
  const int e = (bits >> 1) & 7, h = bits & 1;
  const int32_t mag = (int32_t{1} << e) + (h ? (int32_t{1} << e) / 2 : 0);
  return (bits & 0x10) ? -mag : mag;
}

// Nearest HLog level of |x|, ties to the larger level.
int32_t nearest_level(int x) {
  static const int32_t kLevels[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128};
  if (x == 0) return 0;
  const int32_t m = std::abs(x);
  int32_t best = kLevels[0];
  for (int32_t l : kLevels) {
    if (std::abs(l - m) < std::abs(best - m) || (std::abs(l - m) == std::abs(best - m) && l > best)) best = l;
  }
  return x < 0 ? -best : best;
}

}  // namespace

TEST_CASE("esact_hlog_enc: all 256 INT8 values match the golden encoder and the nearest level") {
  esact::sim::UnitBench<Vunit_hlog_enc> bench;
  int mismatches = 0;
  for (int x = -128; x <= 127; ++x) {
    bench->data_i = static_cast<uint8_t>(static_cast<int8_t>(x));
    bench->eval();  // combinational unit: no clock
    const uint8_t rtl = bench->code_o;
    const uint8_t golden = esact::hlog_encode(static_cast<int8_t>(x)).packed();
    if (rtl != golden) ++mismatches;
    CAPTURE(x);
    CHECK(int(rtl) == int(golden));
    CHECK(decode_packed(rtl) == nearest_level(x));
    CHECK((rtl >> 6) == 0);  // 6-bit code
  }
  CHECK(mismatches == 0);
  CHECK(bench->code_o == esact::hlog_encode(127).packed());
  // spot values of the packing {zero, sign, e[2:0], h}
  bench->data_i = 0;
  bench->eval();
  CHECK(int(bench->code_o) == 0x20);
  bench->data_i = static_cast<uint8_t>(int8_t{-128});
  bench->eval();
  CHECK(int(bench->code_o) == ((1 << 4) | (7 << 1)));  // -2^7
  bench->data_i = 3;
  bench->eval();
  CHECK(int(bench->code_o) == ((1 << 1) | 1));  // 2^1 * 1.5
  CHECK_FALSE(bench.assertion_failed());
}
