// Integer sentence encoder on the quantised model: INT8 dense or ESACT, each layer one call of the
// golden esact::run_layer (the bit-exact model the RTL layer is checked against).
//
//   dense: run_layer(cfg, p, W_l, x_l, nullptr, LayerSwitches::dense())
//   ESACT: spls = run_spls(cfg, p, x_l, W_Q, W_K)   (prediction from the layer's INT8 input)
//          run_layer(cfg, p, W_l, x_l, &spls, switches)
// with p = SplsParams::from_fractions(L, rho, tau, w, V), L = the sentence's true token count and
// N = cfg.N slots. The float/integer boundary is described in quantize.h.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "esact/layer.h"
#include "esact/model/encoder.h"
#include "esact/model/quantize.h"
#include "esact/spls.h"

namespace esact::model {

enum class IntMode { kDense, kEsact };

struct EsactSettings {
  int rho_milli = 250, tau_milli = 750, window = 4, vote = 12;
  LayerSwitches switches = LayerSwitches::esact();
  FfnSparsity ffn;  // Part III proposal (golden only): FFN-neuron sparsity, off by default
  // Optional per-layer, per-neuron fill values ([layers][F]); layer l uses ffn_fill[l] as
  // FfnSparsity::fill_values. Shared, so settings stay cheap to copy.
  std::shared_ptr<const std::vector<std::vector<int8_t>>> ffn_fill;
  // From the configuration's SPLS defaults (configs/<name>.cfg).
  static EsactSettings from_config(const HwConfig& cfg);
};

// Counters of one layer, summed over every sentence encoded.
struct LayerCounters {
  LayerMacs executed;            // from run_layer (spec section 19)
  LayerMacs dense;               // dense_macs for the same L
  int64_t pred_pairs = 0;        // prediction additions (spec section 8), ESACT only
  MacCounts spls_executed;       // SPLS' own forecast of executed MACs (spec section 8)
  int64_t tokens = 0;            // sum of L
  int64_t head_rows = 0;         // sum of H * (L - 1): rows that could follow
  int64_t head_followers = 0;
  int64_t token_followers = 0;
  int64_t kv_rows_skipped = 0;
  int64_t ffn_pred_pairs = 0;    // Part III: FFN-up prediction additions (included in pred_pairs)
  int64_t ffn_neurons = 0;       // Part III: (token, neuron) pairs of computed FFN rows
  int64_t ffn_neurons_kept = 0;  //   of which kept
  void add(const LayerCounters& o);
};

struct EncoderCounters {
  int64_t sentences = 0;
  std::vector<LayerCounters> layers;
  LayerCounters total() const;
};

class IntBertEncoder : public SentenceEncoder {
 public:
  // Keeps references to weights and q (must outlive the encoder).
  IntBertEncoder(const BertWeights& weights, const QuantizedBert& q, IntMode mode,
                 EsactSettings settings = {});

  // What one sentence went through, layer by layer (for tests and vector export).
  struct Trace {
    std::vector<TensorI8> inputs;        // [layers] INT8 layer inputs x [N, D]
    std::vector<TensorI16> inputs_r;     // [layers] INT16 layer inputs xr [N, D] (residual 1)
    std::vector<SplsParams> params;      // [layers]
    std::vector<LayerCounters> layers;   // this sentence's counters
    TensorI8 output;                     // last layer output [N, D]
  };

  // Thread-safe; adds this sentence's counters to the encoder's totals (under a lock, once per call).
  std::vector<float> embed(const Encoding& encoding) const override;
  std::vector<float> embed_traced(const Encoding& encoding, Trace* trace) const;
  std::string name() const override;

  SplsParams params_for(int L) const;
  EncoderCounters counters() const;
  void reset_counters();

  IntMode mode() const { return mode_; }
  const EsactSettings& settings() const { return settings_; }
  const QuantizedBert& quantized() const { return q_; }

 private:
  const BertWeights& weights_;
  const QuantizedBert& q_;
  IntMode mode_;
  EsactSettings settings_;
  mutable std::mutex lock_;
  mutable EncoderCounters totals_;
};

// Reduction figures from counters: 1 - executed / dense, optionally with prediction additions
// counted as MACs (`add_weight` MACs per addition; 1.0 = an addition costs as much as a MAC).
double mac_reduction(const LayerCounters& c, double add_weight = 0.0);

// Calibrated per-neuron fill for FfnSparsity (Part III): runs the INT8 dense forward over the
// calibration encodings and returns, per layer and FFN neuron, round(mean of G[i][f]) over the
// tokens whose exact GELU input is below `theta` (0 where none is).
std::vector<std::vector<int8_t>> calibrate_ffn_fill(const BertWeights& weights, const QuantizedBert& q,
                                                    const std::vector<Encoding>& encodings, int32_t theta);

}  // namespace esact::model
