// Top-k, local similarity, token vote and the whole predictor: edge cases and invariants.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "esact/spls.h"

using namespace esact;

namespace {
// Independent top-k: stable sort of column indices by value descending.
std::vector<uint8_t> topk_by_sort(const std::vector<int32_t>& v, int k, int width) {
  std::vector<int> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return v[a] > v[b]; });
  std::vector<uint8_t> mask(width, 0);
  for (int i = 0; i < std::min<int>(k, static_cast<int>(v.size())); ++i) mask[idx[i]] = 1;
  return mask;
}
}  // namespace

TEST_CASE("topk_row: ties go to the lower column") {
  const std::vector<int32_t> v = {5, 7, 7, 7, 1};
  CHECK(topk_row(v.data(), 5, 2, 8) == std::vector<uint8_t>{0, 1, 1, 0, 0, 0, 0, 0});
  CHECK(topk_row(v.data(), 5, 4, 8) == std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 0, 0});
  const std::vector<int32_t> flat(6, -3);
  CHECK(topk_row(flat.data(), 6, 3, 6) == std::vector<uint8_t>{1, 1, 1, 0, 0, 0});
}

TEST_CASE("topk_row: k = 1, k = L, k larger than the candidates, padding never wins") {
  const std::vector<int32_t> v = {-4, 9, 2, 100};
  CHECK(topk_row(v.data(), 4, 1, 4) == std::vector<uint8_t>{0, 0, 0, 1});
  CHECK(topk_row(v.data(), 4, 4, 4) == std::vector<uint8_t>{1, 1, 1, 1});
  // Only 3 candidates (column 3 is padding or beyond the causal limit): it never wins.
  CHECK(topk_row(v.data(), 3, 4, 4) == std::vector<uint8_t>{1, 1, 1, 0});
}

TEST_CASE("topk_row agrees with a stable sort on seeded random rows with many ties") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 40);
    const int k = 1 + static_cast<int>(rng() % n);
    const int spread = 1 + static_cast<int>(rng() % 6);  // small spread -> many ties
    std::vector<int32_t> v(n);
    for (auto& x : v) x = static_cast<int32_t>(rng() % spread) - spread / 2;
    CAPTURE(trial);
    CHECK(topk_row(v.data(), n, k, n) == topk_by_sort(v, k, n));
  }
}

TEST_CASE("local_similarity: followers compare with the representative, inside the window") {
  // Rows as masks over 4 columns.
  TensorU8 m({6, 4});
  const uint8_t rows[6][4] = {{1, 1, 0, 0}, {1, 1, 0, 0}, {1, 0, 1, 0}, {0, 0, 1, 1}, {0, 0, 1, 1},
                              {0, 0, 1, 1}};
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) m(i, j) = rows[i][j];
  // T = 2: row1 follows 0; row2 shares 1 with row0 -> new rep; row3 shares 1 with row2 -> rep;
  // rows 4, 5 follow 3.
  CHECK(local_similarity(m, 6, 4, 2) == std::vector<int16_t>{0, 0, 2, 3, 3, 3});
  // T = 1: row2 follows 0 (shares column 0); row3 shares nothing with 0 -> rep; 4, 5 follow 3.
  CHECK(local_similarity(m, 6, 4, 1) == std::vector<int16_t>{0, 0, 0, 3, 3, 3});
  // Window 1: row 2 is 2 away from rep 0 -> rep even with T = 0 would follow within window.
  CHECK(local_similarity(m, 6, 1, 0) == std::vector<int16_t>{0, 0, 2, 2, 4, 4});
  // w = 0: no followers.
  CHECK(local_similarity(m, 6, 0, 0) == std::vector<int16_t>{0, 1, 2, 3, 4, 5});
  // No drift: with T = 1 and w = 5, chain 0 -> 1 -> ... must compare with rep 0 only.
  CHECK(local_similarity(m, 6, 5, 1)[5] == 3);
}

TEST_CASE("token_vote: V heads must agree on the same representative, ties to the lower r") {
  TensorI16 rep({3, 5}, -1);
  const int16_t r[3][5] = {{0, 0, 2, 2, 2}, {0, 0, 2, 3, 2}, {0, 1, 1, 3, 3}};
  for (int h = 0; h < 3; ++h)
    for (int i = 0; i < 5; ++i) rep(h, i) = r[h][i];
  CHECK(token_vote(rep, 5, 4, 3) == std::vector<int16_t>{0, 1, 2, 3, 4});
  CHECK(token_vote(rep, 5, 4, 2) == std::vector<int16_t>{0, 0, 2, 3, 2});
  // V = 1, token 4: votes r=2 (heads 0, 1) beats r=3 (head 2).
  CHECK(token_vote(rep, 5, 4, 1) == std::vector<int16_t>{0, 0, 1, 2, 2});
  // Tie: token 2 with V = 1: r=1 (head 2) only -> 1. Ties: make heads split 1:1 between r=0 and r=1.
  TensorI16 tie({2, 3}, -1);
  tie(0, 0) = 0; tie(0, 1) = 0; tie(0, 2) = 0;
  tie(1, 0) = 0; tie(1, 1) = 1; tie(1, 2) = 1;
  CHECK(token_vote(tie, 3, 4, 1)[2] == 0);
  // Window limits the candidates: w = 1 leaves only r = i - 1.
  CHECK(token_vote(tie, 3, 1, 1)[2] == 1);
}

TEST_CASE("shift_for_max brings every magnitude into INT8 range") {
  CHECK(shift_for_max(0) == 0);
  CHECK(shift_for_max(127) == 0);
  CHECK(shift_for_max(128) == 1);
  CHECK(shift_for_max(255) == 1);
  CHECK(shift_for_max(256) == 2);
  CHECK(shift_for_max(int64_t{1} << 23) == 17);
}

namespace {
struct Inputs {
  TensorI8 x, wq, wk;
};
Inputs random_inputs(const HwConfig& cfg, uint32_t seed) {
  std::mt19937 rng(seed);
  Inputs in{TensorI8({cfg.N, cfg.D}), TensorI8({cfg.D, cfg.D}), TensorI8({cfg.D, cfg.D})};
  for (auto& v : in.x.data) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  for (auto& v : in.wq.data) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  for (auto& v : in.wk.data) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  return in;
}
}  // namespace

TEST_CASE("run_spls on tiny: invariants of every output") {
  const HwConfig cfg = config_by_name("tiny");
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Inputs in = random_inputs(cfg, seed);
    const int L = 1 + static_cast<int>(seed % cfg.N);
    SplsParams p = SplsParams::from_fractions(L, 250, 500, 3, 1, seed % 3 == 0);
    const SplsResult r = run_spls(cfg, p, in.x, in.wq, in.wk);
    CAPTURE(seed);
    // Q^ by plain multiplication of decoded levels (independent of hlog_product).
    for (int i = 0; i < L; ++i) {
      for (int c = 0; c < cfg.D; c += 7) {
        int64_t acc = 0;
        for (int d = 0; d < cfg.D; ++d)
          acc += int64_t{hlog_value(hlog_encode(in.x(i, d)))} * hlog_value(hlog_encode(in.wq(d, c)));
        CHECK(r.q_hat(i, c) == acc);
      }
    }
    for (int h = 0; h < cfg.H; ++h) {
      int reps = 0;
      for (int i = 0; i < cfg.N; ++i) {
        int bits = 0;
        for (int j = 0; j < cfg.N; ++j) bits += r.topk_mask(h, i, j);
        if (i >= L) {
          CHECK(bits == 0);
          CHECK(r.rep(h, i) == -1);
          continue;
        }
        const int candidates = p.causal ? i + 1 : L;
        CHECK(bits == std::min(p.k, candidates));
        for (int j = candidates; j < cfg.N; ++j) CHECK(r.topk_mask(h, i, j) == 0);
        CHECK(r.rep(h, i) <= i);
        CHECK(i - r.rep(h, i) <= p.w);
        CHECK(r.rep(h, r.rep(h, i)) == r.rep(h, i));  // a representative represents itself
        reps += r.rep(h, i) == i;
      }
      CHECK(r.rep(h, 0) == 0);
      CHECK(reps >= 1);
    }
    CHECK(r.token_rep.data[0] == 0);
    CHECK(r.counters.pred_pairs == 2 * int64_t{L} * cfg.D * cfg.D + int64_t{cfg.H} * L * L * cfg.dh());
    CHECK(r.counters.executed.total() <= r.counters.dense.total());
  }
}

TEST_CASE("run_spls: identical tokens make every row a follower; w = 0 makes none") {
  const HwConfig cfg = config_by_name("tiny");
  Inputs in = random_inputs(cfg, 99);
  for (int i = 1; i < cfg.N; ++i)
    for (int d = 0; d < cfg.D; ++d) in.x(i, d) = in.x(0, d);
  SplsParams p = SplsParams::from_fractions(cfg.N, 250, 1000, cfg.N - 1, cfg.H);
  SplsResult r = run_spls(cfg, p, in.x, in.wq, in.wk);
  CHECK(r.counters.head_followers == int64_t{cfg.H} * (cfg.N - 1));
  CHECK(r.counters.token_followers == cfg.N - 1);
  p.w = 0;
  r = run_spls(cfg, p, in.x, in.wq, in.wk);
  CHECK(r.counters.head_followers == 0);
  CHECK(r.counters.token_followers == 0);
  CHECK(r.counters.executed.total() < r.counters.dense.total());  // top-k alone still saves
}

TEST_CASE("run_spls rejects bad parameters and shapes, naming the field") {
  const HwConfig cfg = config_by_name("tiny");
  const Inputs in = random_inputs(cfg, 5);
  SplsParams p = SplsParams::from_fractions(cfg.N, 250, 750, 4, 1);
  p.k = 0;
  CHECK_THROWS_WITH(run_spls(cfg, p, in.x, in.wq, in.wk), doctest::Contains("'k'"));
  p = SplsParams::from_fractions(cfg.N + 1, 250, 750, 4, 1);
  CHECK_THROWS_WITH(run_spls(cfg, p, in.x, in.wq, in.wk), doctest::Contains("'L'"));
  p = SplsParams::from_fractions(cfg.N, 250, 750, 4, 1);
  p.V = cfg.H + 1;
  CHECK_THROWS_WITH(run_spls(cfg, p, in.x, in.wq, in.wk), doctest::Contains("'V'"));
  p.V = 1;
  CHECK_THROWS_WITH(run_spls(cfg, p, in.x, in.x, in.wk), doctest::Contains("'wq'"));
  CHECK_THROWS_WITH(config_by_name("huge"), doctest::Contains("unknown configuration 'huge'"));
}

TEST_CASE("generated_qk: PAM from exact INT8 Q and K, shifts 0, no projection pairs") {
  const HwConfig cfg = config_by_name("tiny");
  const Inputs in = random_inputs(cfg, 7);
  SplsParams p = SplsParams::from_fractions(cfg.N, 250, 750, 4, 1);
  p.predict_from = PredictFrom::kGeneratedQk;
  TensorI8 k({cfg.N, cfg.D});
  for (int i = 0; i < cfg.N; ++i)
    for (int d = 0; d < cfg.D; ++d) k(i, d) = in.x((i + 3) % cfg.N, d);
  const SplsResult r = run_spls(cfg, p, in.x, k, TensorI8());
  CHECK(r.counters.pred_pairs == int64_t{cfg.H} * cfg.N * cfg.N * cfg.dh());
  int64_t acc = 0;
  for (int c = 0; c < cfg.dh(); ++c)
    acc += int64_t{hlog_value(hlog_encode(in.x(2, c)))} * hlog_value(hlog_encode(k(5, c)));
  CHECK(r.pam(0, 2, 5) == acc);
  CHECK(r.shifts(1, 0) == 0);
}
