// RTL unit test: esact_similarity (spec section 6) against golden local_similarity, plus the
// K/V-needed mask (OR of the representative rows' masks) from the golden representatives.
// Several heads back to back, masks correlated between neighbouring rows so that followers occur;
// with and without seeded random valid/ready stalls.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "Vunit_similarity.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"
#include "esact/spls.h"

namespace {

constexpr int kN = ESACT_UNIT_SIM_N;

struct Head {
  esact::TensorU8 masks;     // [N, N] 0/1, rows >= L unused
  std::vector<int16_t> rep;  // golden rep[0..L)
  std::vector<uint8_t> kv;   // [N]
};

struct Case {
  int L, w, T;
  std::vector<Head> heads;
};

Case make_case(std::mt19937_64& rng, int n_heads) {
  Case c;
  c.L = 1 + static_cast<int>(rng() % kN);
  const int k = 1 + static_cast<int>(rng() % c.L);
  c.T = static_cast<int>(rng() % (k + 1));
  c.w = static_cast<int>(rng() % kN);
  for (int h = 0; h < n_heads; ++h) {
    Head hd;
    hd.masks = esact::TensorU8({kN, kN}, 0);
    for (int i = 0; i < c.L; ++i) {
      // k bits per row: a new random set, or the previous row's set with a few bits moved
      std::vector<uint8_t> row(static_cast<size_t>(kN), 0);
      if (i > 0 && rng() % 4 != 0) {
        for (int j = 0; j < kN; ++j) row[static_cast<size_t>(j)] = hd.masks(i - 1, j);
        const int moves = static_cast<int>(rng() % 3);
        for (int m = 0; m < moves; ++m) {
          const int from = static_cast<int>(rng() % kN), to = static_cast<int>(rng() % kN);
          if (row[static_cast<size_t>(from)] && !row[static_cast<size_t>(to)]) {
            row[static_cast<size_t>(from)] = 0;
            row[static_cast<size_t>(to)] = 1;
          }
        }
      } else {
        for (int n = 0; n < k; ++n) row[rng() % kN] = 1;
      }
      for (int j = 0; j < kN; ++j) hd.masks(i, j) = row[static_cast<size_t>(j)];
    }
    hd.rep = esact::local_similarity(hd.masks, c.L, c.w, c.T);
    hd.kv.assign(static_cast<size_t>(kN), 0);
    for (int i = 0; i < c.L; ++i) {
      if (hd.rep[static_cast<size_t>(i)] != i) continue;
      for (int j = 0; j < kN; ++j) hd.kv[static_cast<size_t>(j)] |= hd.masks(i, j);
    }
    c.heads.push_back(hd);
  }
  return c;
}

uint64_t mask_bits(const esact::TensorU8& t, int i) {
  uint64_t v = 0;
  for (int j = 0; j < kN; ++j) v |= static_cast<uint64_t>(t(i, j) & 1) << j;
  return v;
}

// Returns the number of follower rows seen (so the suite can check it exercised followers).
int run_case(const Case& c, uint64_t seed, double stall_prob) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_similarity> bench;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall_prob), out_stall(seed * 2 + 2, stall_prob);
  bench->len_i = static_cast<uint8_t>(c.L);
  bench->w_i = static_cast<uint8_t>(c.w);
  bench->t_i = static_cast<uint8_t>(c.T);
  bench.reset();
  const size_t n_heads = c.heads.size();
  size_t in_head = 0, out_head = 0;
  int in_row = 0, out_idx = 0, followers = 0;  // out_idx: 0..L-1 rows, L = the KV beat
  bool valid = false;
  while (out_head < n_heads && bench.cycle() < 100000) {
    if (!valid && in_head < n_heads && !in_stall.stall()) {
      valid = true;
      bench->row_i = static_cast<uint8_t>(in_row);
      set_field(bench->mask_i, 0, kN, mask_bits(c.heads[in_head].masks, in_row));
    }
    bench->valid_i = valid;
    bench->ready_i = !out_stall.stall();
    bench.settle();
    const bool in_hs = bench->valid_i && bench->ready_o;
    if (bench->valid_o && bench->ready_i) {
      const Head& hd = c.heads[out_head];
      CAPTURE(out_head);
      CAPTURE(out_idx);
      if (out_idx < c.L) {
        CHECK(int(bench->kind_o) == 0);  // ROW
        CHECK(int(bench->row_o) == out_idx);
        CHECK(int(bench->rep_o) == hd.rep[static_cast<size_t>(out_idx)]);
        CHECK(get_field(bench->mask_o, 0, kN) == mask_bits(hd.masks, out_idx));
        followers += hd.rep[static_cast<size_t>(out_idx)] != out_idx;
        ++out_idx;
      } else {
        CHECK(int(bench->kind_o) == 1);  // KV
        uint64_t kv = 0;
        for (int j = 0; j < kN; ++j) kv |= static_cast<uint64_t>(hd.kv[static_cast<size_t>(j)]) << j;
        CHECK(get_field(bench->mask_o, 0, kN) == kv);
        CHECK(int(bench->row_o) == 0);
        CHECK(int(bench->rep_o) == 0);
        out_idx = 0;
        ++out_head;
      }
    }
    bench.posedge();
    if (in_hs) {
      valid = false;
      if (++in_row == c.L) {
        in_row = 0;
        ++in_head;
      }
    }
  }
  CHECK(out_head == n_heads);
  CHECK_FALSE(bench.assertion_failed());
  return followers;
}

}  // namespace

TEST_CASE("esact_similarity: representatives and kv equal golden, without stalls") {
  std::mt19937_64 rng(31);
  int followers = 0;
  for (int n = 0; n < 80; ++n) {
    CAPTURE(n);
    followers += run_case(make_case(rng, 3), 1, 0.0);
  }
  CHECK(followers > 50);  // the masks really produce followers
}

TEST_CASE("esact_similarity: representatives and kv equal golden under random stalls") {
  std::mt19937_64 rng(32);
  for (int n = 0; n < 80; ++n) {
    CAPTURE(n);
    run_case(make_case(rng, 3), static_cast<uint64_t>(n) + 3, n % 2 ? 0.5 : 0.2);
  }
}
