#include "esact/model/float_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace esact::model {

namespace float_ops {

void layer_norm(float* x, size_t rows, size_t dim, const LayerNormWeights& norm, float eps) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * dim;
    double mean = 0.0;
    for (size_t i = 0; i < dim; ++i) mean += row[i];
    mean /= static_cast<double>(dim);
    double var = 0.0;
    for (size_t i = 0; i < dim; ++i) {
      const double c = row[i] - mean;
      var += c * c;
    }
    var /= static_cast<double>(dim);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(var + eps));
    const float m = static_cast<float>(mean);
    for (size_t i = 0; i < dim; ++i) row[i] = (row[i] - m) * inv_std * norm.gamma[i] + norm.beta[i];
  }
}

float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f)); }

void softmax(float* row, size_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) max = std::max(max, row[i]);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    row[i] = std::exp(row[i] - max);
    sum += row[i];
  }
  const float inv = 1.0f / sum;
  for (size_t i = 0; i < n; ++i) row[i] *= inv;
}

void linear(const float* x, size_t rows, size_t in, const float* weight_t, const float* bias, size_t out,
            float* y) {
  // axpy form: y[r][:] += x[r][i] * weight_t[i][:], four columns at a time with GCC vector
  // extensions (plain -O2 does not vectorise it); each output still sums i = 0..in-1 in order.
  // Rows go in groups of 4 so each weight row fetched from cache serves four tokens.
  using Float4 = float __attribute__((vector_size(16)));
  constexpr size_t kRows = 4;
  const size_t vec_end = out - out % 4;
  for (size_t r = 0; r < rows * out; ++r) y[r] = bias != nullptr ? bias[r % out] : 0.0f;
  for (size_t r0 = 0; r0 < rows; r0 += kRows) {
    const size_t group = std::min(kRows, rows - r0);
    for (size_t i = 0; i < in; ++i) {
      const float* wr = weight_t + i * out;
      for (size_t g = 0; g < group; ++g) {
        const float xi = x[(r0 + g) * in + i];
        float* yr = y + (r0 + g) * out;
        for (size_t o = 0; o < vec_end; o += 4) {
          Float4 w, acc;
          std::memcpy(&w, wr + o, sizeof w);
          std::memcpy(&acc, yr + o, sizeof acc);
          acc += xi * w;
          std::memcpy(yr + o, &acc, sizeof acc);
        }
        for (size_t o = vec_end; o < out; ++o) yr[o] += xi * wr[o];
      }
    }
  }
}

std::vector<float> mean_pool(const float* hidden, size_t rows, size_t dim, const std::vector<int32_t>& attention_mask) {
  std::vector<float> pooled(dim, 0.0f);
  size_t count = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (attention_mask[r] == 0) continue;
    ++count;
    for (size_t i = 0; i < dim; ++i) pooled[i] += hidden[r * dim + i];
  }
  const float inv = 1.0f / static_cast<float>(std::max<size_t>(count, 1));
  for (float& v : pooled) v *= inv;
  return pooled;
}

void l2_normalize(std::vector<float>& x) {
  double sq = 0.0;
  for (float v : x) sq += static_cast<double>(v) * v;
  const float inv = static_cast<float>(1.0 / std::max(std::sqrt(sq), 1e-12));
  for (float& v : x) v *= inv;
}

}  // namespace float_ops

FloatBertEncoder::TransposedLinear FloatBertEncoder::transpose(const LinearWeights& linear) {
  TransposedLinear t;
  t.in = static_cast<size_t>(linear.in_features);
  t.out = static_cast<size_t>(linear.out_features);
  t.weight_t.resize(t.in * t.out);
  for (size_t o = 0; o < t.out; ++o) {
    for (size_t i = 0; i < t.in; ++i) t.weight_t[i * t.out + o] = linear.weight[o * t.in + i];
  }
  t.bias = linear.bias.data();
  return t;
}

FloatBertEncoder::FloatBertEncoder(const BertWeights& weights) : weights_(weights) {
  const size_t d = static_cast<size_t>(weights.config.hidden_size);
  qkv_bias_storage_.resize(weights.layers.size() * 3 * d);
  for (size_t l = 0; l < weights.layers.size(); ++l) {
    const BertLayerWeights& src = weights.layers[l];
    PreparedLayer p;
    // Fused [in][3D] matrix: columns 0..D-1 query, D..2D-1 key, 2D..3D-1 value.
    p.qkv.in = d;
    p.qkv.out = 3 * d;
    p.qkv.weight_t.resize(d * 3 * d);
    const LinearWeights* parts[3] = {&src.query, &src.key, &src.value};
    float* bias = qkv_bias_storage_.data() + l * 3 * d;
    for (size_t part = 0; part < 3; ++part) {
      for (size_t o = 0; o < d; ++o) {
        for (size_t i = 0; i < d; ++i) p.qkv.weight_t[i * 3 * d + part * d + o] = parts[part]->weight[o * d + i];
        bias[part * d + o] = parts[part]->bias[o];
      }
    }
    p.qkv.bias = bias;
    p.attention_output = transpose(src.attention_output);
    p.intermediate = transpose(src.intermediate);
    p.output = transpose(src.output);
    layers_.push_back(std::move(p));
  }
}

std::vector<float> FloatBertEncoder::hidden_states(const Encoding& enc, const HiddenStateObserver& observer) const {
  const BertConfig& cfg = weights_.config;
  const size_t d = static_cast<size_t>(cfg.hidden_size);
  const size_t f = static_cast<size_t>(cfg.intermediate_size);
  const size_t heads = static_cast<size_t>(cfg.num_heads);
  const size_t dh = static_cast<size_t>(cfg.head_dim());
  const size_t t = enc.size();
  const float eps = static_cast<float>(cfg.layer_norm_eps);

  if (t == 0) throw std::invalid_argument("forward: empty encoding");
  if (t > static_cast<size_t>(cfg.max_positions)) {
    throw std::invalid_argument("forward: " + std::to_string(t) + " tokens exceed max_position_embeddings " +
                                std::to_string(cfg.max_positions));
  }
  if (enc.token_type_ids.size() != t || enc.attention_mask.size() != t) {
    throw std::invalid_argument("forward: input_ids, token_type_ids and attention_mask differ in length");
  }

  // Embeddings.
  std::vector<float> hidden(t * d);
  for (size_t p = 0; p < t; ++p) {
    const int32_t id = enc.input_ids[p];
    const int32_t type = enc.token_type_ids[p];
    if (id < 0 || id >= cfg.vocab_size) throw std::invalid_argument("forward: token id " + std::to_string(id) + " out of range");
    if (type < 0 || type >= cfg.type_vocab_size) throw std::invalid_argument("forward: token type out of range");
    const float* word = weights_.word_embeddings.data() + static_cast<size_t>(id) * d;
    const float* pos = weights_.position_embeddings.data() + p * d;
    const float* tt = weights_.token_type_embeddings.data() + static_cast<size_t>(type) * d;
    for (size_t i = 0; i < d; ++i) hidden[p * d + i] = word[i] + pos[i] + tt[i];
  }
  float_ops::layer_norm(hidden.data(), t, d, weights_.embedding_norm, eps);
  if (observer) observer(-1, hidden.data(), t, d);

  // Additive mask: padding keys get the lowest float, so exp() makes their weight exactly 0.
  std::vector<float> key_bias(t);
  for (size_t j = 0; j < t; ++j) key_bias[j] = enc.attention_mask[j] != 0 ? 0.0f : std::numeric_limits<float>::lowest();
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));

  std::vector<float> qkv(t * 3 * d), context(t * d), attn(t * d), inter(t * f), ffn(t * d), scores(t);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const PreparedLayer& layer = layers_[l];
    const BertLayerWeights& src = weights_.layers[l];

    float_ops::linear(hidden.data(), t, d, layer.qkv.weight_t.data(), layer.qkv.bias, 3 * d, qkv.data());
    for (size_t h = 0; h < heads; ++h) {
      for (size_t i = 0; i < t; ++i) {
        const float* q = qkv.data() + i * 3 * d + h * dh;
        for (size_t j = 0; j < t; ++j) {
          const float* k = qkv.data() + j * 3 * d + d + h * dh;
          float dot = 0.0f;
          for (size_t c = 0; c < dh; ++c) dot += q[c] * k[c];
          scores[j] = dot * scale + key_bias[j];
        }
        float_ops::softmax(scores.data(), t);
        float* ctx = context.data() + i * d + h * dh;
        std::fill(ctx, ctx + dh, 0.0f);
        for (size_t j = 0; j < t; ++j) {
          const float* v = qkv.data() + j * 3 * d + 2 * d + h * dh;
          const float p = scores[j];
          for (size_t c = 0; c < dh; ++c) ctx[c] += p * v[c];
        }
      }
    }
    const TransposedLinear& ao = layer.attention_output;
    float_ops::linear(context.data(), t, d, ao.weight_t.data(), ao.bias, d, attn.data());
    for (size_t i = 0; i < t * d; ++i) attn[i] += hidden[i];
    float_ops::layer_norm(attn.data(), t, d, src.attention_norm, eps);

    const TransposedLinear& im = layer.intermediate;
    float_ops::linear(attn.data(), t, d, im.weight_t.data(), im.bias, f, inter.data());
    for (float& v : inter) v = float_ops::gelu_erf(v);
    const TransposedLinear& out = layer.output;
    float_ops::linear(inter.data(), t, f, out.weight_t.data(), out.bias, d, ffn.data());
    for (size_t i = 0; i < t * d; ++i) hidden[i] = ffn[i] + attn[i];
    float_ops::layer_norm(hidden.data(), t, d, src.output_norm, eps);
    if (observer) observer(static_cast<int>(l), hidden.data(), t, d);
  }
  return hidden;
}

std::vector<float> FloatBertEncoder::embed(const Encoding& enc) const {
  const std::vector<float> hidden = hidden_states(enc);
  std::vector<float> pooled =
      float_ops::mean_pool(hidden.data(), enc.size(), static_cast<size_t>(weights_.config.hidden_size), enc.attention_mask);
  float_ops::l2_normalize(pooled);
  return pooled;
}

}  // namespace esact::model
