// RTL unit test: esact_softmax (spec section 11) against golden isoftmax_row. Rows of 1..256
// columns sent as beats of Lanes logits with random keep bits; spreads from 1 LSB to the whole INT16
// range; tie cases (all logits equal, n a power of two), a single kept column (255), dominance
// (255 and 0), empty rows (all zero); with and without random valid/ready stalls.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "Vunit_softmax.h"
#include "esact/intops.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"

namespace {

constexpr int kLanes = ESACT_UNIT_SMX_LANES;
constexpr int kBeats = ESACT_UNIT_SMX_BEATS;

struct Row {
  std::vector<int16_t> t;    // beats * kLanes
  std::vector<uint8_t> keep;
};

Row random_row(std::mt19937_64& rng) {
  Row r;
  const int beats = 1 + static_cast<int>(rng() % kBeats);
  const int n = beats * kLanes;
  const int spread_bits = std::vector<int>{0, 1, 4, 8, 11, 15, 16}[rng() % 7];
  const int64_t base = static_cast<int64_t>(rng() % 65536) - 32768;
  const int keep_mode = static_cast<int>(rng() % 4);
  for (int j = 0; j < n; ++j) {
    int64_t v = spread_bits == 16 ? static_cast<int64_t>(rng() % 65536) - 32768
                                  : base + static_cast<int64_t>(rng() % (int64_t{1} << spread_bits));
    v = std::clamp<int64_t>(v, -32768, 32767);
    r.t.push_back(static_cast<int16_t>(v));
    r.keep.push_back(keep_mode == 0 ? 1 : keep_mode == 1 ? (rng() % 8 != 0) : keep_mode == 2 ? (rng() % 5 == 0) : (rng() % 2));
  }
  return r;
}

std::vector<Row> special_rows() {
  std::vector<Row> v;
  for (int n : {1, 2, 4, 8, 16, 32, 64, 128, 256}) {  // n equal logits -> 256 / n (n = 1: 255)
    if (n > kBeats * kLanes) continue;
    Row r;
    const int beats = (n + kLanes - 1) / kLanes;
    for (int j = 0; j < beats * kLanes; ++j) {
      r.t.push_back(-1234);
      r.keep.push_back(j < n);
    }
    v.push_back(r);
  }
  Row dom;  // dominance of 16 log2 units: 255 and 0
  for (int j = 0; j < kLanes; ++j) {
    dom.t.push_back(static_cast<int16_t>(j == 3 ? 4096 : 0));
    dom.keep.push_back(1);
  }
  v.push_back(dom);
  Row empty;  // nothing kept
  for (int j = 0; j < 2 * kLanes; ++j) {
    empty.t.push_back(static_cast<int16_t>(j * 100));
    empty.keep.push_back(0);
  }
  v.push_back(empty);
  return v;
}

int run(const std::vector<Row>& rows, uint64_t seed, double stall, uint64_t* cycles_out = nullptr) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_softmax> b;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall), out_stall(seed * 2 + 2, stall);
  b.reset();
  size_t in_row = 0, in_beat = 0, out_row = 0, out_beat = 0;
  int errors = 0;
  bool offered = false;
  std::vector<uint8_t> exp;
  auto expect = [&](size_t r) {
    const Row& row = rows[r];
    exp.assign(row.t.size(), 0);
    esact::isoftmax_row(row.t.data(), row.keep.data(), static_cast<int>(row.t.size()), exp.data());
  };
  expect(0);
  const uint64_t t0 = b.cycle();
  while (out_row < rows.size() && b.cycle() < 400000) {
    if (!offered && in_row < rows.size() && !in_stall.stall()) {
      offered = true;
      const Row& row = rows[in_row];
      for (int l = 0; l < kLanes; ++l) {
        const size_t j = in_beat * kLanes + l;
        set_field(b->in_logit_i, 16 * l, 16, static_cast<uint16_t>(row.t[j]));
        set_field(b->in_keep_i, l, 1, row.keep[j]);
      }
      b->in_last_i = (in_beat + 1) * kLanes == row.t.size();
    }
    b->in_valid_i = offered;
    b->out_ready_i = !out_stall.stall();
    b.settle();
    const bool in_hs = b->in_valid_i && b->in_ready_o;
    if (b->out_valid_o && b->out_ready_i) {
      const Row& row = rows[out_row];
      for (int l = 0; l < kLanes; ++l) {
        const size_t j = out_beat * kLanes + l;
        const int p = static_cast<int>(get_field(b->out_prob_o, 8 * l, 8));
        if (p != exp[j] && errors++ < 5) MESSAGE("row " << out_row << " col " << j << ": rtl " << p << " golden " << int(exp[j]));
      }
      const bool last = (out_beat + 1) * kLanes == row.t.size();
      CHECK(bool(b->out_last_o) == last);
      if (last) {
        out_beat = 0;
        if (++out_row < rows.size()) expect(out_row);
      } else {
        ++out_beat;
      }
    }
    b.posedge();
    if (in_hs) {
      offered = false;
      if ((++in_beat) * kLanes == rows[in_row].t.size()) {
        in_beat = 0;
        ++in_row;
      }
    }
  }
  CHECK(out_row == rows.size());
  CHECK(bool(b->idle_o));
  CHECK_FALSE(b.assertion_failed());
  if (cycles_out) *cycles_out = b.cycle() - t0;
  return errors;
}

}  // namespace

TEST_CASE("esact_softmax: tie and exact cases equal golden (256/n, 255, 0)") {
  const std::vector<Row> rows = special_rows();
  CHECK(run(rows, 1, 0.0) == 0);
}

TEST_CASE("esact_softmax: 3000 seeded rows equal golden without stalls, at the documented latency") {
  std::mt19937_64 rng(11);
  std::vector<Row> rows;
  uint64_t beats = 0;
  for (int i = 0; i < 3000; ++i) {
    rows.push_back(random_row(rng));
    beats += rows.back().t.size() / kLanes;
  }
  uint64_t cycles = 0;
  CHECK(run(rows, 2, 0.0, &cycles) == 0);
  // n in + n sum + ceil(33 / div) + n out per row (+1 per row for the state changes)
  const uint64_t bound = 3 * beats + rows.size() * ((33 + ESACT_UNIT_SMX_DIV - 1) / ESACT_UNIT_SMX_DIV + 2) + 10;
  CHECK(cycles <= bound);
}

TEST_CASE("esact_softmax: equals golden under random valid/ready stalls") {
  std::mt19937_64 rng(12);
  std::vector<Row> rows = special_rows();
  for (int i = 0; i < 400; ++i) rows.push_back(random_row(rng));
  CHECK(run(rows, 5, 0.35) == 0);
}
