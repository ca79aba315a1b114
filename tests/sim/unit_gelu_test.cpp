// RTL unit test: esact_gelu (spec section 12) against golden igelu_raw over all 65536 INT16 inputs,
// and under random valid/ready stalls.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "Vunit_gelu.h"
#include "esact/intops.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"

namespace {

constexpr int kLanes = ESACT_UNIT_GELU_LANES;

int run(const std::vector<int16_t>& xs, uint64_t seed, double stall) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_gelu> b;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall), out_stall(seed * 2 + 2, stall);
  b.reset();
  const size_t beats = (xs.size() + kLanes - 1) / kLanes;
  size_t next = 0, got = 0;
  int errors = 0;
  bool offered = false;
  auto x_at = [&](size_t i) -> int16_t { return i < xs.size() ? xs[i] : 0; };
  while (got < beats && b.cycle() < 20 * beats + 100) {
    if (!offered && next < beats && !in_stall.stall()) {
      offered = true;
      for (int l = 0; l < kLanes; ++l)
        set_field(b->x_i, 16 * l, 16, static_cast<uint16_t>(x_at(next * kLanes + l)));
      b->tag_i = static_cast<uint8_t>(next);
    }
    b->valid_i = offered;
    b->ready_i = !out_stall.stall();
    b.settle();
    const bool in_hs = b->valid_i && b->ready_o;
    if (b->valid_o && b->ready_i) {
      CHECK(int(b->tag_o) == int(static_cast<uint8_t>(got)));
      for (int l = 0; l < kLanes; ++l) {
        const int16_t x = x_at(got * kLanes + l);
        const int64_t g = esact::sim::sign_extend(get_field(b->g_o, 32 * l, 32), 32);
        if (g != esact::igelu_raw(x) && errors++ < 5) MESSAGE("x " << x << ": rtl " << g << " golden " << esact::igelu_raw(x));
      }
      ++got;
    }
    b.posedge();
    if (in_hs) {
      offered = false;
      ++next;
    }
  }
  CHECK(got == beats);
  CHECK_FALSE(b.assertion_failed());
  return errors;
}

}  // namespace

TEST_CASE("esact_gelu: all 65536 inputs equal golden igelu_raw") {
  std::vector<int16_t> xs;
  for (int v = -32768; v <= 32767; ++v) xs.push_back(static_cast<int16_t>(v));
  CHECK(run(xs, 1, 0.0) == 0);
  // exact identities of the spec: g(0) = 0, g(x) = x 2^16 for x >= C, 0 for x <= -C
  CHECK(esact::igelu_raw(0) == 0);
  CHECK(esact::igelu_raw(esact::kGeluClip) == esact::kGeluClip * 65536);
  CHECK(esact::igelu_raw(static_cast<int16_t>(-esact::kGeluClip)) == 0);
}

TEST_CASE("esact_gelu: equals golden under random valid/ready stalls") {
  std::vector<int16_t> xs;
  for (int v = -4000; v <= 4000; v += 3) xs.push_back(static_cast<int16_t>(v));
  CHECK(run(xs, 7, 0.4) == 0);
}
