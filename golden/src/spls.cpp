// SPLS golden model, docs/spec.md Part I. Each function is one spec section.
#include "esact/spls.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace esact {

int32_t hlog_dot(const HlogCode* a, const HlogCode* b, int n) {
  int32_t acc = 0;  // |sum| <= 512 * 2^14 < 2^23: never overflows
  for (int i = 0; i < n; ++i) acc += hlog_product(a[i], b[i]);
  return acc;
}

int shift_for_max(int64_t max_magnitude) {
  int s = 0;
  while ((max_magnitude >> s) > 127) ++s;
  return s;
}

std::vector<uint8_t> topk_row(const int32_t* values, int n_candidates, int k, int width) {
  std::vector<uint8_t> mask(static_cast<size_t>(width), 0);
  const int k_eff = std::min(k, n_candidates);
  // Rank of j = #{m : v[m] > v[j] or (v[m] == v[j] and m < j)}; kept iff rank < k_eff.
  // (Identical to sorting by value descending, column ascending, and taking the first k_eff.)
  for (int j = 0; j < n_candidates; ++j) {
    int rank = 0;
    for (int m = 0; m < n_candidates; ++m) {
      if (values[m] > values[j] || (values[m] == values[j] && m < j)) ++rank;
    }
    if (rank < k_eff) mask[static_cast<size_t>(j)] = 1;
  }
  return mask;
}

std::vector<int16_t> local_similarity(const TensorU8& masks, int L, int w, int T) {
  const int64_t width = masks.shape[1];
  std::vector<int16_t> rep(static_cast<size_t>(L), 0);
  int r = 0;
  for (int i = 1; i < L; ++i) {
    bool follows = false;
    if (i - r <= w) {
      int sim = 0;
      for (int64_t j = 0; j < width; ++j) sim += (masks(i, j) & masks(r, j)) ? 1 : 0;
      follows = sim >= T;
    }
    if (follows) {
      rep[static_cast<size_t>(i)] = static_cast<int16_t>(r);
    } else {
      rep[static_cast<size_t>(i)] = static_cast<int16_t>(i);
      r = i;
    }
  }
  return rep;
}

std::vector<int16_t> token_vote(const TensorI16& rep, int L, int w, int V) {
  const int64_t H = rep.shape[0];
  std::vector<int16_t> token_rep(static_cast<size_t>(L), 0);
  for (int i = 1; i < L; ++i) {
    int best = i, best_votes = 0;
    for (int r = std::max(0, i - w); r < i; ++r) {  // ascending r: ties keep the lower r
      int votes = 0;
      for (int64_t h = 0; h < H; ++h) votes += rep(h, i) == r ? 1 : 0;
      if (votes > best_votes) {
        best_votes = votes;
        best = r;
      }
    }
    token_rep[static_cast<size_t>(i)] = static_cast<int16_t>(best_votes >= V ? best : i);
  }
  return token_rep;
}

namespace {

void check_shape(const TensorI8& t, int64_t rows, int64_t cols, const char* name) {
  if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols) {
    throw std::invalid_argument(std::string("run_spls: tensor '") + name + "' must have shape [" +
                                std::to_string(rows) + "," + std::to_string(cols) + "]");
  }
}

// Q^ = HLog(X) (.) HLog(W), column by column as the prediction array consumes it.
void project(const std::vector<uint8_t>& x_codes, const TensorI8& w, int L, int D, TensorI32& out) {
  std::vector<uint8_t> column(static_cast<size_t>(D));
  for (int c = 0; c < D; ++c) {
    for (int d = 0; d < D; ++d) column[static_cast<size_t>(d)] = hlog_encode(w(d, c)).packed();
    for (int i = 0; i < L; ++i)
      out(i, c) = hlog_dot_packed(&x_codes[static_cast<size_t>(i) * D], column.data(), D);
  }
}

std::vector<uint8_t> encode_packed(const TensorI8& t) {
  std::vector<uint8_t> codes(t.data.size());
  for (size_t i = 0; i < t.data.size(); ++i) codes[i] = hlog_encode(t.data[i]).packed();
  return codes;
}

}  // namespace

SplsResult run_spls(const HwConfig& cfg, const SplsParams& p, const TensorI8& a, const TensorI8& wq,
                    const TensorI8& wk) {
  cfg.validate();
  p.validate(cfg);
  const int N = cfg.N, D = cfg.D, H = cfg.H, dh = cfg.dh(), L = p.L;
  const bool projected = p.predict_from == PredictFrom::kProjected;
  check_shape(a, N, D, projected ? "x" : "q");
  if (projected) {
    check_shape(wq, D, D, "wq");
    check_shape(wk, D, D, "wk");
  } else {
    check_shape(wq, N, D, "k");
  }

  SplsResult r;
  r.x_codes = TensorU8({N, D}, HlogCode{}.packed());
  r.q_hat = TensorI32({N, D});
  r.k_hat = TensorI32({N, D});
  r.shifts = TensorI32({H, 2});
  r.q_scaled = TensorI8({N, D});
  r.k_scaled = TensorI8({N, D});
  r.pam = TensorI32({H, N, N});
  r.topk_mask = TensorU8({H, N, N});
  r.rep = TensorI16({H, N}, -1);
  r.kv_needed = TensorU8({H, N});
  r.token_rep = TensorI16({N}, -1);

  // ---- Section 3: prediction of Q^ and K^ ----
  if (projected) {
    for (int i = 0; i < L; ++i)  // padding rows stay zero codes
      for (int d = 0; d < D; ++d) r.x_codes(i, d) = hlog_encode(a(i, d)).packed();
    project(r.x_codes.data, wq, L, D, r.q_hat);
    project(r.x_codes.data, wk, L, D, r.k_hat);
    for (int h = 0; h < H; ++h) {
      int64_t max_q = 0, max_k = 0;
      for (int i = 0; i < L; ++i) {
        for (int c = h * dh; c < (h + 1) * dh; ++c) {
          max_q = std::max<int64_t>(max_q, std::abs(static_cast<int64_t>(r.q_hat(i, c))));
          max_k = std::max<int64_t>(max_k, std::abs(static_cast<int64_t>(r.k_hat(i, c))));
        }
      }
      const int sq = shift_for_max(max_q), sk = shift_for_max(max_k);
      r.shifts(h, 0) = sq;
      r.shifts(h, 1) = sk;
      for (int i = 0; i < L; ++i) {
        for (int c = h * dh; c < (h + 1) * dh; ++c) {
          r.q_scaled(i, c) = static_cast<int8_t>(r.q_hat(i, c) >> sq);  // arithmetic shift: floor (g++ defines >> on negatives as arithmetic)
          r.k_scaled(i, c) = static_cast<int8_t>(r.k_hat(i, c) >> sk);
        }
      }
    }
  } else {
    for (int i = 0; i < L; ++i) {
      for (int c = 0; c < D; ++c) {
        r.q_scaled(i, c) = a(i, c);
        r.k_scaled(i, c) = wq(i, c);
        r.q_hat(i, c) = a(i, c);
        r.k_hat(i, c) = wq(i, c);
      }
    }
  }
  const std::vector<uint8_t> q_codes = encode_packed(r.q_scaled);
  const std::vector<uint8_t> k_codes = encode_packed(r.k_scaled);

  MacCounts dense, exec;
  dense.q = int64_t{L} * D * D;
  dense.kv = 2 * int64_t{L} * D * D;
  dense.qk = int64_t{H} * L * L * dh;
  dense.av = dense.qk;
  dense.oproj = int64_t{L} * D * D;
  dense.ffn = 2 * int64_t{L} * D * cfg.F;

  TensorU8 head_masks({L, N});
  for (int h = 0; h < H; ++h) {
    // ---- Section 4: PAM ----
    for (int i = 0; i < L; ++i) {
      for (int j = 0; j < L; ++j) {
        r.pam(h, i, j) = hlog_dot_packed(&q_codes[static_cast<size_t>(i) * D + h * dh],
                                         &k_codes[static_cast<size_t>(j) * D + h * dh], dh);
      }
    }
    // ---- Section 5: row top-k ----
    for (int i = 0; i < L; ++i) {
      const int candidates = p.causal ? i + 1 : L;
      const std::vector<uint8_t> m = topk_row(&r.pam(h, i, 0), candidates, p.k, N);
      for (int j = 0; j < N; ++j) {
        r.topk_mask(h, i, j) = m[static_cast<size_t>(j)];
        head_masks(i, j) = m[static_cast<size_t>(j)];
      }
    }
    // ---- Section 6: local similarity and K/V-needed ----
    const std::vector<int16_t> rep = local_similarity(head_masks, L, p.w, p.T);
    int reps = 0;
    for (int i = 0; i < L; ++i) {
      r.rep(h, i) = rep[static_cast<size_t>(i)];
      if (rep[static_cast<size_t>(i)] != i) continue;
      ++reps;
      int k_eff = 0;
      for (int j = 0; j < N; ++j) {
        r.kv_needed(h, j) |= head_masks(i, j);
        k_eff += head_masks(i, j);
      }
      exec.qk += int64_t{k_eff} * dh;
    }
    int kv_rows = 0;
    for (int j = 0; j < L; ++j) kv_rows += r.kv_needed(h, j);
    exec.q += int64_t{reps} * D * dh;
    exec.kv += int64_t{kv_rows} * 2 * D * dh;
    r.counters.head_followers += L - reps;
    r.counters.kv_rows_skipped += L - kv_rows;
  }
  exec.av = exec.qk;

  // ---- Section 7: token vote ----
  const std::vector<int16_t> token_rep = token_vote(r.rep, L, p.w, p.V);
  int token_reps = 0;
  for (int i = 0; i < L; ++i) {
    r.token_rep.data[static_cast<size_t>(i)] = token_rep[static_cast<size_t>(i)];
    token_reps += token_rep[static_cast<size_t>(i)] == i ? 1 : 0;
  }
  exec.oproj = int64_t{token_reps} * D * D;
  exec.ffn = int64_t{token_reps} * 2 * D * cfg.F;

  // ---- Section 8: counters ----
  r.counters.pred_pairs = (projected ? 2 * int64_t{L} * D * D : 0) + int64_t{H} * L * L * dh;
  r.counters.token_followers = L - token_reps;
  r.counters.dense = dense;
  r.counters.executed = exec;
  return r;
}

}  // namespace esact
