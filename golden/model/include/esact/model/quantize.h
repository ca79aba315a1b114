// Post-training INT8 quantisation of a BERT encoder (all-MiniLM-L6-v2) into the integer layer format
// of golden/include/esact/layer.h (LayerWeights + LayerQuant per layer, docs/spec.md Part II).
//
// Float/integer boundary (what stays float and why):
//   float:   token + position + type embeddings and the embedding LayerNorm (a table look-up and one
//            LayerNorm per token, outside the accelerator), then ONE quantisation step to the first
//            layer's two inputs: x0 = sat_int8(round(h / s_in[0])) and xr0 = sat_int16(round(h / s_r1[0]));
//   integer: the 6 encoder layers, each esact::run_layer (INT8 in, INT8 out, every matrix product,
//            softmax, GELU, LayerNorm and requantisation integer-only, bit-exact golden code);
//   float:   dequantisation of the last layer's INT8 output (h = x * s_out[5]), mean pooling over
//            the valid tokens and L2 normalisation (sentence-transformers' pooling head).
//
// Scales (all symmetric, zero point 0), calibrated from a float forward over calibration sentences:
//   layer input: two copies (spec section 15): x, INT8 per tensor (the format allows per channel, but
//       the SPLS prediction reads x too and loses accuracy with it: kInputPerChannel, measured), and xr,
//       INT16 at the residual-1 scale. The previous layer's LN2 produces both; layer 0's come from the
//       float embeddings;
//   LayerNorm 1: two outputs (spec section 15): h1, INT8 per channel (range floored at 0.02 x the
//       largest channel's), folded into the rows of W_1; and h1r, INT16 at the residual-2 scale
//       s_r2 = max(2 x LN1 maximum, 2 x FFN-down branch maximum) / 32767, shared with the FFN branch;
//   W_Q, W_K, W_V, W_O, W_1, W_2: per output channel (absmax / 127, values in -127..127);
//   Q, K: per head (the QK^T requant is per head); V: per channel; attention output (xV): per
//       channel, folded into the rows of W_O before W_O is quantised; GELU output: per channel,
//       folded into the rows of W_2 (range floored at 0.2 x the layer's largest channel range, so
//       rarely firing neurons do not saturate); the output-projection branch: INT16 at the
//       residual-1 scale s_r1 = max(2 x layer-input maximum, 2 x branch maximum) / 32767, the scale of
//       the layer's INT16 input xr (the previous LN2's second output, or the embeddings).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/layer.h"
#include "esact/model/bert.h"
#include "esact/model/tokenizer.h"

namespace esact::model {

// Absolute maxima of one layer's float activations over the calibration set.
struct LayerActivationStats {
  double input = 0.0;                // layer input (embedding LN or previous layer output)
  std::vector<double> input_channel; // [D] layer input per channel
  std::vector<double> q_head, k_head;  // [H] per head
  std::vector<double> v_channel;     // [D]
  std::vector<double> ctx_channel;   // [D] attention output (heads concatenated, before W_O)
  double oproj = 0.0;                // W_O branch incl. bias (before the residual add)
  double ln1 = 0.0;                  // LayerNorm 1 output
  std::vector<double> ln1_channel;   // [D] LayerNorm 1 output per channel
  double ffn_pre = 0.0;              // W_1 output incl. bias (GELU input)
  std::vector<double> gelu_channel;  // [F]
  double ffn_down = 0.0;             // W_2 branch incl. bias
  double ln2 = 0.0;                  // LayerNorm 2 output (layer output)
};

struct CalibrationStats {
  std::vector<LayerActivationStats> layers;
  size_t sentences = 0;
  size_t tokens = 0;
  std::string source;  // e.g. "sts-train.csv, 256 sentences (pairs 0, 22, 44, ...)"
};

// Runs an instrumented float forward (same arithmetic as FloatBertEncoder) over the encodings.
// Parallel over `threads` workers (0 = all cores); the result is independent of the thread count.
CalibrationStats calibrate(const BertWeights& weights, const std::vector<Encoding>& encodings,
                           unsigned threads = 0);

// Calibration sentences from an STS-B file: `count` sentences taken evenly over the pairs
// (sentence 1 and sentence 2 alternately). Fills `description` with the file and the selection.
std::vector<std::string> calibration_sentences(const std::string& stsb_file, size_t count,
                                               std::string* description);

struct QuantizedBert {
  HwConfig cfg;                         // the named configuration ("minilm"): N, D, H, F
  std::vector<LayerWeights> layers;     // integer layers, y = x W layout
  std::vector<double> in_scale;         // [layers] real value of one LSB of each layer's input
  std::vector<std::vector<double>> in_scale_channel;  // [layers][D] per-channel input scales
  double out_scale = 0.0;               // real value of one LSB of the last layer's output
  std::vector<double> res_scale;        // [layers] real value of one LSB of each layer's INT16 input xr
  std::string calibration;              // description of the calibration set
};

// Quantises every layer. Throws std::invalid_argument when a quantity cannot be represented
// (e.g. a requant multiplier out of range), naming the layer and the tensor.
QuantizedBert quantize(const BertWeights& weights, const CalibrationStats& stats, const HwConfig& cfg);

// Float/int boundary in: embeddings + embedding LayerNorm in float, then quantised to INT8 [N, D]
// (rows >= L zero). Throws when the encoding is longer than cfg.N.
TensorI8 quantize_embeddings(const BertWeights& weights, const QuantizedBert& q, const Encoding& enc);
// The same embeddings at the first layer's residual-1 scale: xr0 = sat_int16(round(h / res_scale[0])).
TensorI16 quantize_embeddings_residual(const BertWeights& weights, const QuantizedBert& q, const Encoding& enc);

}  // namespace esact::model
