// RTL unit test: esact_pred_array (spec section 2), against golden hlog_dot per group, with seeded
// random operands and seeded random valid/ready stalls, and without stalls (then also checking
// latency and one beat per cycle).
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "Vunit_pred_array.h"
#include "esact/hlog.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"
#include "esact/spls.h"

namespace {

constexpr int kLanes = ESACT_UNIT_PRED_LANES;
constexpr int kGroups = ESACT_UNIT_PRED_GROUPS;
constexpr int kTagW = ESACT_UNIT_PRED_TAGW;
constexpr int kGroupSize = kLanes / kGroups;
constexpr int ceil_log2(int n) { return n <= 1 ? 0 : 1 + ceil_log2((n + 1) / 2); }
constexpr int kSumW = 16 + ceil_log2(kGroupSize);
constexpr int kLatency = 1 + ceil_log2(kGroupSize);

struct Beat {
  std::vector<esact::HlogCode> a, b;
  uint32_t tag;
};

// Operands: HLog codes of random INT8 with extra weight on 0 and the extreme levels, so zero
// codes, +-128 and all half steps occur.
int8_t random_int8(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0: return 0;
    case 1: return static_cast<int8_t>(rng() % 2 ? 127 : -128);
    default: return static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  }
}

std::vector<Beat> make_beats(uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  std::vector<Beat> beats(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    Beat& bt = beats[static_cast<size_t>(i)];
    for (int e = 0; e < kLanes; ++e) {
      bt.a.push_back(esact::hlog_encode(random_int8(rng)));
      bt.b.push_back(esact::hlog_encode(random_int8(rng)));
    }
    bt.tag = static_cast<uint32_t>(i) & ((1u << kTagW) - 1);
  }
  return beats;
}

// Runs the beats through the array; returns the number of cycles from the first input beat to the
// last output beat. Every output is checked against golden hlog_dot of its group.
uint64_t run(const std::vector<Beat>& beats, uint64_t seed, double stall_prob) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_pred_array> bench;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall_prob), out_stall(seed * 2 + 2, stall_prob);
  bench.reset();
  size_t next_in = 0, next_out = 0;
  bool valid = false;
  uint64_t first_in = 0, last_out = 0;
  int errors = 0;
  while (next_out < beats.size() && bench.cycle() < 100000) {
    if (!valid && next_in < beats.size() && !in_stall.stall()) {
      valid = true;
      const Beat& bt = beats[next_in];
      for (int e = 0; e < kLanes; ++e) {
        set_field(bench->a_i, 6 * e, 6, bt.a[static_cast<size_t>(e)].packed());
        set_field(bench->b_i, 6 * e, 6, bt.b[static_cast<size_t>(e)].packed());
      }
      set_field(bench->tag_i, 0, kTagW, bt.tag);
    }
    bench->valid_i = valid;
    bench->ready_i = !out_stall.stall();
    bench.settle();
    const bool in_hs = bench->valid_i && bench->ready_o;
    if (bench->valid_o && bench->ready_i) {
      const Beat& bt = beats[next_out];
      CHECK(get_field(bench->tag_o, 0, kTagW) == bt.tag);
      for (int g = 0; g < kGroups; ++g) {
        const int64_t rtl = esact::sim::sign_extend(get_field(bench->sum_o, g * kSumW, kSumW), kSumW);
        const int32_t golden = esact::hlog_dot(&bt.a[static_cast<size_t>(g * kGroupSize)],
                                               &bt.b[static_cast<size_t>(g * kGroupSize)], kGroupSize);
        if (rtl != golden && errors++ < 5) {
          MESSAGE("beat " << next_out << " group " << g << ": rtl " << rtl << " golden " << golden);
        }
        CHECK(rtl == golden);
      }
      ++next_out;
      last_out = bench.cycle();
    }
    if (in_hs && next_in == 0) first_in = bench.cycle();
    bench.posedge();
    if (in_hs) {
      valid = false;
      ++next_in;
    }
  }
  CHECK(next_out == beats.size());
  CHECK(errors == 0);
  CHECK_FALSE(bench.assertion_failed());
  // no beat left behind or duplicated
  bench->valid_i = 0;
  bench->ready_i = 1;
  for (int i = 0; i < kLatency + 2; ++i) {
    bench.settle();
    CHECK_FALSE(bench->valid_o);
    bench.posedge();
  }
  return last_out - first_in + 1;
}

}  // namespace

TEST_CASE("esact_pred_array: group sums equal golden hlog_dot, no stalls, one beat per cycle") {
  const auto beats = make_beats(11, 400);
  const uint64_t cycles = run(beats, 1, 0.0);
  CHECK(cycles == beats.size() + kLatency);
}

TEST_CASE("esact_pred_array: group sums equal golden hlog_dot under random valid/ready stalls") {
  for (uint64_t seed : {2u, 3u, 4u}) {
    CAPTURE(seed);
    const auto beats = make_beats(100 + seed, 300);
    run(beats, seed, seed == 4 ? 0.7 : 0.3);
  }
}

TEST_CASE("esact_pred_array: extreme operands (all +-128, all zero) stay exact") {
  std::vector<Beat> beats(3);
  for (int e = 0; e < kLanes; ++e) {
    beats[0].a.push_back(esact::hlog_encode(-128));
    beats[0].b.push_back(esact::hlog_encode(-128));  // +2^14 in every lane
    beats[1].a.push_back(esact::hlog_encode(-128));
    beats[1].b.push_back(esact::hlog_encode(127));   // -2^14 in every lane
    beats[2].a.push_back(esact::hlog_encode(0));
    beats[2].b.push_back(esact::hlog_encode(96));
  }
  for (int i = 0; i < 3; ++i) beats[static_cast<size_t>(i)].tag = static_cast<uint32_t>(i);
  run(beats, 9, 0.0);
}
