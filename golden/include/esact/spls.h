// SPLS golden model: HLog prediction, PAM, row top-k, local similarity, token vote.
// Integer-only and bit-exact against docs/spec.md Part I; reads like the hardware (same order of
// operations, same widths).
#pragma once
#include <cstdint>
#include <vector>

#include "esact/config.h"
#include "esact/hlog.h"
#include "esact/tensor.h"

namespace esact {

// MACs that a later stage executes given the SPLS outputs, and their dense counterparts
// (spec section 8).
struct MacCounts {
  int64_t q = 0, kv = 0, qk = 0, av = 0, oproj = 0, ffn = 0;
  int64_t total() const { return q + kv + qk + av + oproj + ffn; }
};

struct SplsCounters {
  int64_t pred_pairs = 0;  // code pairs through the add-only array (= prediction additions)
  MacCounts dense;
  MacCounts executed;
  int64_t head_followers = 0;   // sum over heads of follower rows
  int64_t token_followers = 0;  // tokens with token_rep[i] != i
  int64_t kv_rows_skipped = 0;  // sum over heads of valid rows j with kv_h[j] == 0
};

struct SplsResult {
  TensorU8 x_codes;     // [N, D] packed HLog codes of X (zero code for padding rows)
  TensorI32 q_hat;      // [N, D] Q^ (0 for padding rows)
  TensorI32 k_hat;      // [N, D] K^
  TensorI32 shifts;     // [H, 2] {sQ_h, sK_h}
  TensorI8 q_scaled;    // [N, D] q = Q^ >>> sQ_h
  TensorI8 k_scaled;    // [N, D]
  TensorI32 pam;        // [H, N, N] predicted attention (0 outside L x L)
  TensorU8 topk_mask;   // [H, N, N] 0/1
  TensorI16 rep;        // [H, N] representative of each row, -1 for padding
  TensorU8 kv_needed;   // [H, N] 0/1
  TensorI16 token_rep;  // [N] token representative, -1 for padding
  SplsCounters counters;
};

// Building blocks, each exactly one spec section, so unit tests and RTL unit benches can use them.
int32_t hlog_dot(const HlogCode* a, const HlogCode* b, int n);
int shift_for_max(int64_t max_magnitude);  // smallest s >= 0 with (max >> s) <= 127
// Row top-k (spec section 5): values[0..n_candidates) are the candidates, in column order.
std::vector<uint8_t> topk_row(const int32_t* values, int n_candidates, int k, int width);
// Local similarity over one head's masks (rows 0..L-1, each N bytes 0/1): returns rep[0..L).
std::vector<int16_t> local_similarity(const TensorU8& masks_head_rows, int L, int w, int T);
// Token vote (spec section 7) from rep[H][N].
std::vector<int16_t> token_vote(const TensorI16& rep, int L, int w, int V);

// The whole predictor. For kProjected, a = X [N,D], wq/wk = W_Q/W_K [D,D];
// for kGeneratedQk, a = Q [N,D], wq = K [N,D], wk unused.
SplsResult run_spls(const HwConfig& cfg, const SplsParams& p, const TensorI8& a,
                    const TensorI8& wq, const TensorI8& wk);

}  // namespace esact
