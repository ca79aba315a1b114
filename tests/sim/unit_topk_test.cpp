// RTL unit test: esact_topk (spec section 5), row by row against golden topk_row, with seeded
// random PAM rows (narrow value ranges force ties), random L / k / causal, with and without seeded
// random valid/ready stalls. Without stalls it must keep pace: one row per ceil(L/P) cycles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <ios>
#include <random>
#include <vector>

#include "Vunit_topk.h"
#include "esact/sim/bits.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"
#include "esact/spls.h"

namespace {

constexpr int kN = ESACT_UNIT_TOPK_N;
constexpr int kP = ESACT_UNIT_TOPK_P;
constexpr int kValW = ESACT_UNIT_TOPK_VALW;

struct Case {
  int L, k;
  bool causal;
  std::vector<std::vector<int32_t>> rows;  // rows[i][j], i < L, j < L (padding columns are junk)
};

Case make_case(std::mt19937_64& rng) {
  Case c;
  c.L = 1 + static_cast<int>(rng() % kN);
  c.k = 1 + static_cast<int>(rng() % c.L);
  if (rng() % 5 == 0) c.k = c.L;  // the k == L corner
  c.causal = rng() % 2;
  // value range: tiny (many ties) up to the full signed width
  const int span_bits = std::vector<int>{1, 2, 4, kValW - 1}[rng() % 4];
  const int64_t span = int64_t{1} << span_bits;
  for (int i = 0; i < c.L; ++i) {
    std::vector<int32_t> row(static_cast<size_t>(kN));
    for (int j = 0; j < kN; ++j) {
      row[static_cast<size_t>(j)] = static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * span)) - span);
    }
    c.rows.push_back(row);
  }
  return c;
}

std::vector<uint8_t> expected_mask(const Case& c, int i) {
  const int n_cand = c.causal ? std::min(c.L, i + 1) : c.L;
  return esact::topk_row(c.rows[static_cast<size_t>(i)].data(), n_cand, c.k, kN);
}

// Streams all rows of the case; returns cycles from the first beat in to the last mask out.
uint64_t run_case(const Case& c, uint64_t seed, double stall_prob) {
  using esact::sim::get_field;
  using esact::sim::set_field;
  esact::sim::UnitBench<Vunit_topk> bench;
  esact::sim::StallGen in_stall(seed * 2 + 1, stall_prob), out_stall(seed * 2 + 2, stall_prob);
  bench->len_i = static_cast<uint8_t>(c.L);
  bench->k_i = static_cast<uint8_t>(c.k);
  bench->causal_i = c.causal;
  bench.reset();
  const int blocks = (c.L + kP - 1) / kP;
  int in_row = 0, in_blk = 0, out_row = 0, errors = 0;
  bool valid = false;
  uint64_t first_in = 0, last_out = 0;
  while (out_row < c.L && bench.cycle() < 100000) {
    if (!valid && in_row < c.L && !in_stall.stall()) {
      valid = true;
      for (int p = 0; p < kP; ++p) {
        const int j = in_blk * kP + p;
        const int32_t v = j < kN ? c.rows[static_cast<size_t>(in_row)][static_cast<size_t>(j)] : 0;
        set_field(bench->vals_i, p * kValW, kValW, static_cast<uint64_t>(static_cast<int64_t>(v)));
      }
      bench->row_i = static_cast<uint8_t>(in_row);
    }
    bench->valid_i = valid;
    bench->ready_i = !out_stall.stall();
    bench.settle();
    const bool in_hs = bench->valid_i && bench->ready_o;
    if (bench->valid_o && bench->ready_i) {
      const std::vector<uint8_t> exp = expected_mask(c, out_row);
      CHECK(int(bench->row_o) == out_row);
      bool same = true;
      for (int j = 0; j < kN; ++j) same &= (get_field(bench->mask_o, j, 1) != 0) == (exp[static_cast<size_t>(j)] != 0);
      if (!same && errors++ < 3) {
        MESSAGE("L " << c.L << " k " << c.k << " causal " << c.causal << " row " << out_row
                     << ": mask 0x" << std::hex << get_field(bench->mask_o, 0, kN));
      }
      CHECK(same);
      ++out_row;
      last_out = bench.cycle();
    }
    if (in_hs && in_row == 0 && in_blk == 0) first_in = bench.cycle();
    bench.posedge();
    if (in_hs) {
      valid = false;
      if (++in_blk == blocks) {
        in_blk = 0;
        ++in_row;
      }
    }
  }
  CHECK(out_row == c.L);
  CHECK_FALSE(bench.assertion_failed());
  return last_out - first_in + 1;
}

}  // namespace

TEST_CASE("esact_topk: masks equal golden topk_row without stalls and keep pace") {
  std::mt19937_64 rng(21);
  for (int n = 0; n < 60; ++n) {
    const Case c = make_case(rng);
    CAPTURE(n);
    const uint64_t cycles = run_case(c, 1, 0.0);
    const uint64_t blocks = static_cast<uint64_t>((c.L + kP - 1) / kP);
    // fill + rank of the last row after one row period per row: L rows in (L + 1) row periods,
    // plus one cycle for the output register (and one more when a row is a single beat)
    CHECK(cycles <= (static_cast<uint64_t>(c.L) + 1) * blocks + 2);
  }
}

TEST_CASE("esact_topk: masks equal golden topk_row under random valid/ready stalls") {
  std::mt19937_64 rng(22);
  for (int n = 0; n < 60; ++n) {
    const Case c = make_case(rng);
    CAPTURE(n);
    run_case(c, static_cast<uint64_t>(n) + 5, n % 3 == 0 ? 0.6 : 0.25);
  }
}
