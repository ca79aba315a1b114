// Integer-only post-LN encoder layer, dense and ESACT modes: docs/spec.md Part II (sections 15-20).
// Bit-exact definition the RTL layer is checked against. Each stage function is one spec section and
// can be driven on its own (unit benches, poisoned-operand tests).
#pragma once
#include <cstdint>
#include <vector>

#include "esact/config.h"
#include "esact/intops.h"
#include "esact/spls.h"
#include "esact/tensor.h"

namespace esact {

// Quantisation parameters of one layer (spec section 15). Every RequantSet is per tensor (1 entry)
// or per output channel (the count given).
struct LayerQuant {
  RequantSet q, k, v;  // QKV acc -> INT8 Q, K, V                                     (1 or D)
  RequantSet qk;       // QK^T acc -> INT16 logits, log2 units, 8 fraction bits       (1 or H)
  RequantSet av;       // xV acc -> INT8 attention output                              (1 or D)
  RequantSet oproj;    // output-projection acc -> INT16 branch, residual-1 scale     (1 or D)
  // residual 1 = xr + branch (xr: the INT16 layer input at the residual-1 scale; no shift)
  LnQuant ln1;         // LN1 -> INT8 h1, the FFN-up operand                           (out: 1 or D)
  RequantSet ln1r;     // LN1 -> INT16 h1r, the residual-2 skip operand at the Fo scale (1 or D)
  RequantSet up;       // FFN-up acc -> INT16 GELU input, 10 fraction bits            (1 or F)
  RequantSet gelu;     // igelu_raw -> INT8 FFN hidden                                 (1 or F)
  RequantSet down;     // FFN-down acc -> INT16 branch, residual-2 scale              (1 or D)
  // residual 2 = h1r + branch (both INT16 at the residual-2 scale; no shift)
  LnQuant ln2;         // LN2 -> INT8 y, the next layer's x                            (out: 1 or D)
  RequantSet ln2r;     // LN2 -> INT16 yr, the next layer's xr (its residual-1 scale)  (1 or D)
  void validate(const HwConfig& cfg) const;  // throws std::invalid_argument naming the field
};

// Weights in y = x W layout (row = input feature, column = output feature) and INT32 biases with the
// scale of their accumulator. |bias| <= 2^30 (spec section 15).
struct LayerWeights {
  TensorI8 wq, wk, wv, wo;  // [D, D]
  TensorI8 w1;              // [D, F]
  TensorI8 w2;              // [F, D]
  std::vector<int32_t> bq, bk, bv, bo, b2;  // [D]
  std::vector<int32_t> b1;                  // [F]
  LayerQuant quant;
  void validate(const HwConfig& cfg) const;
};

// ESACT skip switches (spec section 19). All false = dense. `topk_attn` (intra-row sparsity) is the
// one switch ESACT-v0.md folds into its attention row; it is separate here so that "all off = dense"
// holds and each saving is measurable on its own.
struct LayerSwitches {
  bool skip_q = false;       // head-followers get no Q row
  bool skip_kv = false;      // K/V rows outside kv_needed are not generated; attention reads only kv
  bool topk_attn = false;    // QK^T/softmax/xV over the row's top-k columns only
  bool reuse_attn = false;   // head-followers copy the representative's attention output row
  bool reuse_oproj = false;  // token-followers reuse the representative's output-projection branch
  bool reuse_ffn = false;    // token-followers reuse the representative's FFN branch
  static LayerSwitches dense() { return {}; }
  static LayerSwitches esact() { return {true, true, true, true, true, true}; }
  bool any() const { return skip_q || skip_kv || topk_attn || reuse_attn || reuse_oproj || reuse_ffn; }
};

// Proposed method change, not in the v0 RTL (docs/spec.md Part III): FFN-neuron sparsity. A hidden
// neuron f of token i is "kept" when its GELU input (INT16, 10 fraction bits) is >= theta; a dropped
// neuron contributes G[i][f] = 0 and costs no FFN-down MACs. kExact decides from the exact FFN-up
// output (all FFN-up MACs run); kPredicted decides from an add-only HLog prediction of the FFN-up
// accumulator, b1[f] + sum_d hlog_product(HLog(h1[i][d]), HLog(W1[d][f])) (spec sections 1-2), so a
// dropped neuron costs no FFN-up MACs either, at D prediction additions per (token, neuron).
struct FfnSparsity {
  enum class Mode { kOff, kExact, kPredicted };
  Mode mode = Mode::kOff;
  int32_t theta = 0;  // INT16 GELU-input units (2^-10): keep when (predicted) input >= theta
  // Dropped neurons stand for c_f = sat_8(requant(igelu_raw(fill), gelu[f])) instead of 0 when
  // use_fill: FFN-down then computes b2 + sum_{f dropped} c_f W2[f] + sum_{f kept} G_f W2[f], which
  // is b2' + sum_{f kept} (G_f - c_f) W2[f] with the static bias b2' = b2 + sum_f c_f W2[f]: still
  // no MAC for a dropped neuron (9-bit signed operand, as for the probabilities of xV).
  // kPredicted: 0 = predict from all D inputs; else only from the pred_dims inputs of largest |h1[i][d]|
  // (ties to the lower index), costing pred_dims instead of D additions per (token, neuron).
  int pred_dims = 0;
  bool use_fill = false;
  int32_t fill = 0;  // INT16 GELU-input units (2^-10)
  // Per-neuron fill (F INT8 values c_f, e.g. calibrated means of G over dropped inputs); overrides
  // `fill` when set. Not owned.
  const int8_t* fill_values = nullptr;
  bool on() const { return mode != Mode::kOff; }
};

// Multiply-accumulates per component (spec section 20).
struct LayerMacs {
  int64_t q = 0, k = 0, v = 0, qk = 0, av = 0, oproj = 0, ffn_up = 0, ffn_down = 0;
  int64_t total() const { return q + k + v + qk + av + oproj + ffn_up + ffn_down; }
  MacCounts as_spls() const { return MacCounts{q, k + v, qk, av, oproj, ffn_up + ffn_down}; }
  bool operator==(const LayerMacs& o) const {
    return q == o.q && k == o.k && v == o.v && qk == o.qk && av == o.av && oproj == o.oproj &&
           ffn_up == o.ffn_up && ffn_down == o.ffn_down;
  }
};

// Everything worth checking. Rows >= L and anything not computed are 0.
struct LayerResult {
  TensorI8 q, k, v;          // [N, D] generated rows (per head slice)
  TensorU8 q_generated;      // [H, N] 1 where the head's Q row was generated
  TensorU8 kv_generated;     // [H, N] 1 where the head's K and V rows were generated
  TensorU8 probs;            // [H, N, N] UINT8 probabilities (scale 2^-8) of computed rows
  TensorU8 attn_computed;    // [H, N] 1 where the head's attention row was computed (not copied)
  TensorI8 attn;             // [N, D] attention output (heads concatenated)
  TensorI16 oproj;           // [N, D] output-projection branch (residual-1 scale)
  TensorI8 ln1;              // [N, D] LayerNorm 1 output h1 (INT8, FFN-up operand)
  TensorI16 ln1r;            // [N, D] LayerNorm 1 output h1r (INT16, residual-2 scale)
  TensorI8 ffn_hidden;       // [N, F] GELU output of computed tokens
  TensorI16 ffn_out;         // [N, D] FFN branch (residual-2 scale)
  TensorI8 out;              // [N, D] layer output y (INT8: the next layer's x)
  TensorI16 out_r;           // [N, D] layer output yr (INT16: the next layer's xr)
  LayerMacs executed, dense;
  int64_t ffn_pred_pairs = 0;   // FfnSparsity::kPredicted: prediction additions (Part III)
  int64_t ffn_neurons = 0;      // FfnSparsity on: (token, neuron) pairs of computed FFN rows
  int64_t ffn_neurons_kept = 0; //   of which kept
};

// ---- Stages (each one spec section; run_layer chains them) ----

// Section 16: QKV generation for rows i < L. Writes q/k/v, q_generated, kv_generated, MACs.
void generate_qkv(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI8& x,
                  const SplsResult* spls, const LayerSwitches& sw, LayerResult& r);
// Section 17: attention from the given Q, K, V (which may hold anything where not generated).
// Writes probs, attn_computed, attn and the qk/av MACs.
void attention(const HwConfig& cfg, const SplsParams& p, const LayerQuant& quant, const TensorI8& q,
               const TensorI8& k, const TensorI8& v, const SplsResult* spls, const LayerSwitches& sw,
               LayerResult& r);
// Sections 17 and 19: the column set of row i in head h (N bytes, 0/1).
std::vector<uint8_t> attention_columns(const HwConfig& cfg, const SplsParams& p, const SplsResult* spls,
                                       const LayerSwitches& sw, int h, int i);
// Section 18: output projection, residual, LN1, FFN, residual, LN2 (with the section 19 reuse).
// `ffn` (Part III, golden only) defaults to off: exactly the v0 layer.
void output_and_ffn(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI16& xr,
                    const SplsResult* spls, const LayerSwitches& sw, LayerResult& r,
                    const FfnSparsity& ffn = {});
// Dense MAC counts for L valid tokens (section 20).
LayerMacs dense_macs(const HwConfig& cfg, const SplsParams& p);

// The whole layer. spls == nullptr means dense (then every switch must be off).
// x: INT8 [N, D], the QKV (and SPLS) operand; xr: INT16 [N, D], the residual-1 skip operand at the
// scale of the output-projection branch. Rows >= L of both are zero.
LayerResult run_layer(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI8& x,
                      const TensorI16& xr, const SplsResult* spls, const LayerSwitches& sw,
                      const FfnSparsity& ffn = {});
// xr = x * 2^shift: the residual input of a producer that has only the INT8 x (synthetic data).
TensorI16 widen_input(const TensorI8& x, int shift);
// The synthetic weights' residual-1 scale: xr = x * 2^kSyntheticResShift.
constexpr int kSyntheticResShift = 4;
// run_layer with xr = widen_input(x, kSyntheticResShift) (tests and synthetic vectors).
LayerResult run_layer(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI8& x,
                      const SplsResult* spls, const LayerSwitches& sw, const FfnSparsity& ffn = {});

// ---- Synthetic data for tests and vectors ----

// Deterministic weights and quantisation for cfg from a seed: INT8 weights uniform in +-64, biases
// small, requant multipliers chosen analytically so activations use a few sigma of their range.
LayerWeights make_synthetic_weights(const HwConfig& cfg, uint64_t seed);
// Deterministic INT8 input [N, D] (rows >= L zero) with local similarity: runs of 1..5 neighbouring
// tokens share a base vector plus small noise, so SPLS finds followers.
TensorI8 make_synthetic_input(const HwConfig& cfg, int L, uint64_t seed);

}  // namespace esact
