// float32 reference forward of a BERT sentence encoder (all-MiniLM-L6-v2 as sentence-transformers
// runs it): embeddings (word + position + token type) -> LayerNorm -> L post-LN encoder layers
// (self-attention with additive padding mask, exact-erf GELU FFN) -> mean pooling over valid tokens
// -> L2 normalisation.
//
// Activations are row-major [tokens][features]. Runs at the encoding's length: padding positions
// are masked out of attention and pooling, so padded and unpadded inputs give the same embedding.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "esact/model/bert.h"
#include "esact/model/encoder.h"

namespace esact::model {

namespace float_ops {

// x[rows][dim] <- LayerNorm(x) * gamma + beta (biased variance, like torch.nn.LayerNorm).
void layer_norm(float* x, size_t rows, size_t dim, const LayerNormWeights& norm, float eps);
// 0.5 x (1 + erf(x / sqrt 2)).
float gelu_erf(float x);
// Numerically stable in-place softmax of one row.
void softmax(float* row, size_t n);
// y[rows][out] = x[rows][in] * W^T + b with W given transposed: weight_t[in][out].
void linear(const float* x, size_t rows, size_t in, const float* weight_t, const float* bias, size_t out,
            float* y);
// Mean of hidden[t] over t with attention_mask[t] != 0.
std::vector<float> mean_pool(const float* hidden, size_t rows, size_t dim, const std::vector<int32_t>& attention_mask);
// x / max(|x|_2, 1e-12) (torch.nn.functional.normalize).
void l2_normalize(std::vector<float>& x);

}  // namespace float_ops

// Called after the embedding block (layer -1) and after each encoder layer with the hidden states.
using HiddenStateObserver = std::function<void(int layer, const float* hidden, size_t rows, size_t dim)>;

class FloatBertEncoder : public SentenceEncoder {
 public:
  // Keeps a reference to weights (must outlive the encoder) and a transposed copy of each matrix.
  explicit FloatBertEncoder(const BertWeights& weights);

  // Last-layer hidden states [encoding.size()][D]. Throws std::invalid_argument on bad ids/lengths.
  std::vector<float> hidden_states(const Encoding& encoding, const HiddenStateObserver& observer = {}) const;
  // Mean-pooled, L2-normalised sentence embedding [D].
  std::vector<float> embed(const Encoding& encoding) const override;
  std::string name() const override { return "float"; }

  const BertWeights& weights() const { return weights_; }

 private:
  struct TransposedLinear {
    size_t in = 0, out = 0;
    std::vector<float> weight_t;  // [in][out]
    const float* bias = nullptr;
  };
  struct PreparedLayer {
    TransposedLinear qkv;  // query|key|value fused: out = 3D
    TransposedLinear attention_output, intermediate, output;
  };
  static TransposedLinear transpose(const LinearWeights& linear);

  const BertWeights& weights_;
  std::vector<PreparedLayer> layers_;
  std::vector<float> qkv_bias_storage_;
};

}  // namespace esact::model
