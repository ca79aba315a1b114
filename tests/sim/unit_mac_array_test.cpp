// RTL unit test: esact_mac_array (spec section 22): random tiles (K = 1..40 steps, random bias,
// INT8 and UINT8 a-operands including -128 and 255, partial drains) against an exact reference;
// with and without random valid/ready stalls. Without stalls a stream of tiles of K >= Rows steps
// runs at one step per cycle.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "Vunit_mac_array.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"

namespace {

constexpr int kR = ESACT_UNIT_MAC_ROWS;
constexpr int kC = ESACT_UNIT_MAC_COLS;

struct Tile {
  int K, rows;
  std::vector<int32_t> a;  // K x kR
  std::vector<int8_t> b;   // K x kC
  std::vector<int32_t> bias;
  std::vector<int32_t> expect;  // kR x kC
};

Tile make_tile(std::mt19937_64& rng, int kmin) {
  Tile t;
  t.K = kmin + static_cast<int>(rng() % 40);
  t.rows = 1 + static_cast<int>(rng() % kR);
  const bool probs = rng() % 3 == 0;
  for (int k = 0; k < t.K; ++k) {
    for (int r = 0; r < kR; ++r) {
      const int v = static_cast<int>(rng() % 256);
      t.a.push_back(probs ? v : v - 128);
    }
    for (int c = 0; c < kC; ++c) t.b.push_back(static_cast<int8_t>(static_cast<int>(rng() % 256) - 128));
  }
  for (int c = 0; c < kC; ++c) t.bias.push_back(static_cast<int32_t>(static_cast<int64_t>(rng() % (1u << 31)) - (1 << 30)));
  t.expect.assign(kR * kC, 0);
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) {
      int64_t acc = t.bias[c];
      for (int k = 0; k < t.K; ++k) acc += int64_t{t.a[k * kR + r]} * t.b[k * kC + c];
      t.expect[r * kC + c] = static_cast<int32_t>(acc);
    }
  return t;
}

int run(const std::vector<Tile>& tiles, uint64_t seed, double stall, uint64_t* cycles = nullptr) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_mac_array> b;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall), out_stall(seed * 2 + 2, stall);
  b.reset();
  size_t ti = 0, to = 0;
  int k = 0, row = 0, errors = 0;
  bool offered = false;
  const uint64_t t0 = b.cycle();
  while (to < tiles.size() && b.cycle() < 100000) {
    if (!offered && ti < tiles.size() && !in_stall.stall()) {
      offered = true;
      const Tile& t = tiles[ti];
      for (int r = 0; r < kR; ++r) set_field(b->in_a_i, 9 * r, 9, static_cast<uint64_t>(t.a[k * kR + r]));
      for (int c = 0; c < kC; ++c) {
        set_field(b->in_b_i, 8 * c, 8, static_cast<uint8_t>(t.b[k * kC + c]));
        set_field(b->in_bias_i, 32 * c, 32, static_cast<uint32_t>(t.bias[c]));
      }
      b->in_first_i = k == 0;
      b->in_last_i = k == t.K - 1;
      b->in_rows_i = t.rows;
      b->in_tag_i = static_cast<uint8_t>(ti);
    }
    b->in_valid_i = offered;
    b->out_ready_i = !out_stall.stall();
    b.settle();
    const bool in_hs = b->in_valid_i && b->in_ready_o;
    if (b->out_valid_o && b->out_ready_i) {
      const Tile& t = tiles[to];
      CHECK(int(b->out_tag_o) == int(static_cast<uint8_t>(to)));
      CHECK(int(b->out_row_o) == row);
      for (int c = 0; c < kC; ++c) {
        const int64_t v = esact::sim::sign_extend(get_field(b->out_acc_o, 32 * c, 32), 32);
        if (v != t.expect[row * kC + c] && errors++ < 5) MESSAGE("tile " << to << " row " << row << " col " << c << ": " << v);
      }
      const bool last = row == t.rows - 1;
      CHECK(bool(b->out_last_o) == last);
      if (last) {
        row = 0;
        ++to;
      } else {
        ++row;
      }
    }
    b.posedge();
    if (in_hs) {
      offered = false;
      if (++k == tiles[ti].K) {
        k = 0;
        ++ti;
      }
    }
  }
  CHECK(to == tiles.size());
  CHECK_FALSE(b->busy_o);
  CHECK_FALSE(b.assertion_failed());
  if (cycles) *cycles = b.cycle() - t0;
  return errors;
}

}  // namespace

TEST_CASE("esact_mac_array: tiles equal the exact reference at one step per cycle") {
  std::mt19937_64 rng(41);
  std::vector<Tile> tiles;
  uint64_t steps = 0;
  for (int i = 0; i < 300; ++i) {
    tiles.push_back(make_tile(rng, kR));
    steps += static_cast<uint64_t>(tiles.back().K);
  }
  uint64_t cycles = 0;
  CHECK(run(tiles, 1, 0.0, &cycles) == 0);
  CHECK(cycles <= steps + kR + 3);  // + drain of the last tile and the loop exit cycle
}

TEST_CASE("esact_mac_array: single-step tiles and random stalls") {
  std::mt19937_64 rng(42);
  std::vector<Tile> tiles;
  for (int i = 0; i < 200; ++i) tiles.push_back(make_tile(rng, 1));
  CHECK(run(tiles, 3, 0.0) == 0);
  CHECK(run(tiles, 4, 0.5) == 0);
}
