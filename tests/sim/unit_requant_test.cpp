// RTL unit test: esact_requant (spec section 10) against golden requant_i8 / requant_i16: tie cases
// at several (M, S), saturation at both ends of INT8 and INT16, seeded random operands; with and
// without random valid/ready stalls (beats must come out in order with their tags).
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "Vunit_requant.h"
#include "esact/intops.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"

namespace {

constexpr int kLanes = ESACT_UNIT_RQ_LANES;

struct Beat {
  int32_t acc[kLanes];
  esact::Requant rq[kLanes];
  uint8_t tag;
};

// Runs the beats through the unit; returns the number of mismatching lanes.
int run(const std::vector<Beat>& beats, uint64_t seed, double stall) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_requant> b;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall), out_stall(seed * 2 + 2, stall);
  b.reset();
  size_t next = 0, got = 0;
  int errors = 0;
  bool offered = false;
  while (got < beats.size() && b.cycle() < 20 * beats.size() + 100) {
    if (!offered && next < beats.size() && !in_stall.stall()) {
      offered = true;
      const Beat& bt = beats[next];
      for (int l = 0; l < kLanes; ++l) {
        set_field(b->acc_i, 32 * l, 32, static_cast<uint32_t>(bt.acc[l]));
        set_field(b->rq_i, 21 * l, 15, static_cast<uint64_t>(bt.rq[l].M));
        set_field(b->rq_i, 21 * l + 15, 6, static_cast<uint64_t>(bt.rq[l].S));
      }
      b->tag_i = bt.tag;
    }
    b->valid_i = offered;
    b->ready_i = !out_stall.stall();
    b.settle();
    const bool in_hs = b->valid_i && b->ready_o;
    if (b->valid_o && b->ready_i) {
      const Beat& e = beats[got];
      CHECK(int(b->tag_o) == int(e.tag));
      for (int l = 0; l < kLanes; ++l) {
        const int64_t y8 = esact::sim::sign_extend(get_field(b->y8_o, 8 * l, 8), 8);
        const int64_t y16 = esact::sim::sign_extend(get_field(b->y16_o, 16 * l, 16), 16);
        const bool ok = y8 == esact::requant_i8(e.acc[l], e.rq[l]) && y16 == esact::requant_i16(e.acc[l], e.rq[l]);
        if (!ok && errors < 5)
          MESSAGE("acc " << e.acc[l] << " M " << e.rq[l].M << " S " << e.rq[l].S << ": rtl " << y8 << "/" << y16);
        errors += !ok;
      }
      ++got;
    }
    b.posedge();
    if (in_hs) {
      offered = false;
      ++next;
    }
  }
  CHECK(got == beats.size());
  CHECK_FALSE(b.assertion_failed());
  return errors;
}

std::vector<Beat> make_beats(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Beat> v;
  for (int i = 0; i < n; ++i) {
    Beat bt{};
    bt.tag = static_cast<uint8_t>(i);
    for (int l = 0; l < kLanes; ++l) {
      esact::Requant rq{1 + static_cast<int32_t>(rng() % 32767), 1 + static_cast<int32_t>(rng() % 40)};
      int32_t acc;
      switch (rng() % 4) {
        case 0: acc = static_cast<int32_t>(rng()); break;                       // full range
        case 1: acc = static_cast<int32_t>(rng() % 2001) - 1000; break;         // small
        case 2: {  // exact tie: acc * M = (2q + 1) 2^(S-1)
          rq.M = 1 << (rng() % 15);
          rq.S = 1 + static_cast<int32_t>(rng() % 14);
          const int64_t q = static_cast<int64_t>(rng() % 401) - 200;
          const int64_t prod = (2 * q + 1) << (rq.S - 1);
          acc = static_cast<int32_t>(prod / rq.M);
          if (acc * int64_t{rq.M} != prod) acc = static_cast<int32_t>(q);
          break;
        }
        default:  // saturation corners
          acc = (rng() % 2 ? 1 : -1) * static_cast<int32_t>(rng() % (1u << 30));
          rq = {32767, 1 + static_cast<int32_t>(rng() % 20)};
      }
      bt.acc[l] = acc;
      bt.rq[l] = rq;
    }
    v.push_back(bt);
  }
  // hand-picked ties and ends: +-2.5 -> 3 / -2; INT8 and INT16 saturation at both ends
  Beat t{};
  const int32_t accs[kLanes > 4 ? kLanes : 4] = {5, -5, 1 << 30, -(1 << 30)};
  for (int l = 0; l < kLanes; ++l) {
    t.acc[l] = accs[l % 4];
    t.rq[l] = {1, 1};
  }
  v.push_back(t);
  return v;
}

}  // namespace

TEST_CASE("esact_requant: equals golden requant_i8/i16 without stalls") {
  CHECK(esact::requant_i8(5, {1, 1}) == 3);
  CHECK(esact::requant_i8(-5, {1, 1}) == -2);
  CHECK(run(make_beats(1, 30000), 1, 0.0) == 0);
}

TEST_CASE("esact_requant: equals golden under random valid/ready stalls") {
  CHECK(run(make_beats(2, 5000), 3, 0.3) == 0);
  CHECK(run(make_beats(3, 2000), 4, 0.7) == 0);
}
