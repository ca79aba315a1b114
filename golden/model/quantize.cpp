#include "esact/model/quantize.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "esact/intops.h"
#include "esact/model/float_forward.h"
#include "esact/model/stsb.h"

namespace esact::model {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("quantize: " + what); }

// weight [out][in] (file layout) -> weight_t [in][out].
std::vector<float> transposed(const LinearWeights& l) {
  const size_t in = static_cast<size_t>(l.in_features), out = static_cast<size_t>(l.out_features);
  std::vector<float> t(in * out);
  for (size_t o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i) t[i * out + o] = l.weight[o * in + i];
  return t;
}

double absmax(const float* p, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(std::fabs(p[i])));
  return m;
}

void merge_max(std::vector<double>& into, const std::vector<double>& from) {
  if (into.empty()) into.assign(from.size(), 0.0);
  for (size_t i = 0; i < from.size(); ++i) into[i] = std::max(into[i], from[i]);
}

void merge(LayerActivationStats& a, const LayerActivationStats& b) {
  a.input = std::max(a.input, b.input);
  merge_max(a.input_channel, b.input_channel);
  merge_max(a.q_head, b.q_head);
  merge_max(a.k_head, b.k_head);
  merge_max(a.v_channel, b.v_channel);
  merge_max(a.ctx_channel, b.ctx_channel);
  a.oproj = std::max(a.oproj, b.oproj);
  a.ln1 = std::max(a.ln1, b.ln1);
  merge_max(a.ln1_channel, b.ln1_channel);
  a.ffn_pre = std::max(a.ffn_pre, b.ffn_pre);
  merge_max(a.gelu_channel, b.gelu_channel);
  a.ffn_down = std::max(a.ffn_down, b.ffn_down);
  a.ln2 = std::max(a.ln2, b.ln2);
}

struct PreparedFloat {
  std::vector<float> wq, wk, wv, wo, w1, w2;  // transposed [in][out]
};

// Float embeddings + embedding LayerNorm for the first L tokens: [L][D].
std::vector<float> embed_float(const BertWeights& w, const Encoding& enc, size_t L) {
  const size_t d = static_cast<size_t>(w.config.hidden_size);
  if (L > static_cast<size_t>(w.config.max_positions)) fail("encoding longer than max_position_embeddings");
  std::vector<float> h(L * d);
  for (size_t p = 0; p < L; ++p) {
    const int32_t id = enc.input_ids[p];
    const int32_t type = enc.token_type_ids.empty() ? 0 : enc.token_type_ids[p];
    if (id < 0 || id >= w.config.vocab_size) fail("token id " + std::to_string(id) + " out of range");
    if (type < 0 || type >= w.config.type_vocab_size) fail("token type out of range");
    const float* word = w.word_embeddings.data() + static_cast<size_t>(id) * d;
    const float* pos = w.position_embeddings.data() + p * d;
    const float* tt = w.token_type_embeddings.data() + static_cast<size_t>(type) * d;
    for (size_t i = 0; i < d; ++i) h[p * d + i] = word[i] + pos[i] + tt[i];
  }
  float_ops::layer_norm(h.data(), L, d, w.embedding_norm, static_cast<float>(w.config.layer_norm_eps));
  return h;
}

// The float forward of FloatBertEncoder (valid tokens only), recording every activation maximum.
void instrumented_forward(const BertWeights& w, const std::vector<PreparedFloat>& prep, const Encoding& enc,
                          std::vector<LayerActivationStats>& out) {
  const BertConfig& cfg = w.config;
  const size_t d = static_cast<size_t>(cfg.hidden_size), f = static_cast<size_t>(cfg.intermediate_size);
  const size_t H = static_cast<size_t>(cfg.num_heads), dh = static_cast<size_t>(cfg.head_dim());
  const size_t t = enc.valid_length;
  const float eps = static_cast<float>(cfg.layer_norm_eps);
  std::vector<float> hidden = embed_float(w, enc, t);
  std::vector<float> q(t * d), k(t * d), v(t * d), ctx(t * d), ao(t * d), inter(t * f), ffn(t * d), scores(t);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (size_t l = 0; l < prep.size(); ++l) {
    const BertLayerWeights& src = w.layers[l];
    const PreparedFloat& p = prep[l];
    LayerActivationStats s;
    s.input = absmax(hidden.data(), hidden.size());
    s.input_channel.assign(d, 0.0);
    for (size_t i = 0; i < t; ++i)
      for (size_t c = 0; c < d; ++c)
        s.input_channel[c] = std::max(s.input_channel[c], static_cast<double>(std::fabs(hidden[i * d + c])));
    float_ops::linear(hidden.data(), t, d, p.wq.data(), src.query.bias.data(), d, q.data());
    float_ops::linear(hidden.data(), t, d, p.wk.data(), src.key.bias.data(), d, k.data());
    float_ops::linear(hidden.data(), t, d, p.wv.data(), src.value.bias.data(), d, v.data());
    s.q_head.assign(H, 0.0);
    s.k_head.assign(H, 0.0);
    s.v_channel.assign(d, 0.0);
    s.ctx_channel.assign(d, 0.0);
    for (size_t i = 0; i < t; ++i)
      for (size_t c = 0; c < d; ++c) {
        s.q_head[c / dh] = std::max(s.q_head[c / dh], static_cast<double>(std::fabs(q[i * d + c])));
        s.k_head[c / dh] = std::max(s.k_head[c / dh], static_cast<double>(std::fabs(k[i * d + c])));
        s.v_channel[c] = std::max(s.v_channel[c], static_cast<double>(std::fabs(v[i * d + c])));
      }
    for (size_t h = 0; h < H; ++h) {
      for (size_t i = 0; i < t; ++i) {
        for (size_t j = 0; j < t; ++j) {
          float dot = 0.0f;
          for (size_t c = 0; c < dh; ++c) dot += q[i * d + h * dh + c] * k[j * d + h * dh + c];
          scores[j] = dot * scale;
        }
        float_ops::softmax(scores.data(), t);
        float* cx = ctx.data() + i * d + h * dh;
        std::fill(cx, cx + dh, 0.0f);
        for (size_t j = 0; j < t; ++j)
          for (size_t c = 0; c < dh; ++c) cx[c] += scores[j] * v[j * d + h * dh + c];
      }
    }
    for (size_t i = 0; i < t; ++i)
      for (size_t c = 0; c < d; ++c)
        s.ctx_channel[c] = std::max(s.ctx_channel[c], static_cast<double>(std::fabs(ctx[i * d + c])));
    float_ops::linear(ctx.data(), t, d, p.wo.data(), src.attention_output.bias.data(), d, ao.data());
    s.oproj = absmax(ao.data(), ao.size());
    for (size_t i = 0; i < t * d; ++i) ao[i] += hidden[i];
    float_ops::layer_norm(ao.data(), t, d, src.attention_norm, eps);
    s.ln1 = absmax(ao.data(), ao.size());
    s.ln1_channel.assign(d, 0.0);
    for (size_t i = 0; i < t; ++i)
      for (size_t c = 0; c < d; ++c)
        s.ln1_channel[c] = std::max(s.ln1_channel[c], static_cast<double>(std::fabs(ao[i * d + c])));
    float_ops::linear(ao.data(), t, d, p.w1.data(), src.intermediate.bias.data(), f, inter.data());
    s.ffn_pre = absmax(inter.data(), inter.size());
    s.gelu_channel.assign(f, 0.0);
    for (size_t i = 0; i < t; ++i)
      for (size_t c = 0; c < f; ++c) {
        float& g = inter[i * f + c];
        g = float_ops::gelu_erf(g);
        s.gelu_channel[c] = std::max(s.gelu_channel[c], static_cast<double>(std::fabs(g)));
      }
    float_ops::linear(inter.data(), t, f, p.w2.data(), src.output.bias.data(), d, ffn.data());
    s.ffn_down = absmax(ffn.data(), ffn.size());
    for (size_t i = 0; i < t * d; ++i) hidden[i] = ffn[i] + ao[i];
    float_ops::layer_norm(hidden.data(), t, d, src.output_norm, eps);
    s.ln2 = absmax(hidden.data(), hidden.size());
    merge(out[l], s);
  }
}

// ---- quantisation helpers ----

struct QuantMatrix {
  TensorI8 w;                 // [in][out], y = x W
  std::vector<double> scale;  // [out] real value of one LSB of column c
};

// Quantises W' [in][out] with W'[i][c] = row_scale[i] * W[c][i] (file layout [out][in]), per output
// channel symmetric: scale[c] = max_i |W'[i][c]| / 127, values round-to-nearest in -127..127.
QuantMatrix quantize_linear(const LinearWeights& l, const std::vector<double>* row_scale) {
  const int64_t in = l.in_features, out = l.out_features;
  QuantMatrix q;
  q.w = TensorI8({in, out});
  q.scale.assign(static_cast<size_t>(out), 0.0);
  auto wv = [&](int64_t i, int64_t c) {
    const double r = row_scale ? (*row_scale)[static_cast<size_t>(i)] : 1.0;
    return r * l.weight[static_cast<size_t>(c * in + i)];
  };
  for (int64_t c = 0; c < out; ++c) {
    double m = 0.0;
    for (int64_t i = 0; i < in; ++i) m = std::max(m, std::fabs(wv(i, c)));
    const double s = m > 0.0 ? m / 127.0 : 1.0;
    q.scale[static_cast<size_t>(c)] = s;
    for (int64_t i = 0; i < in; ++i) {
      const double v = std::nearbyint(wv(i, c) / s);
      q.w(i, c) = static_cast<int8_t>(std::clamp(v, -127.0, 127.0));
    }
  }
  return q;
}

std::vector<int32_t> quantize_bias(const std::vector<float>& b, const std::vector<double>& acc_scale,
                                   const std::string& what) {
  std::vector<int32_t> out(b.size());
  for (size_t c = 0; c < b.size(); ++c) {
    const double v = std::nearbyint(b[c] / acc_scale[c]);
    if (std::fabs(v) > static_cast<double>(1 << 30)) fail(what + ": bias exceeds 2^30 at channel " + std::to_string(c));
    out[c] = static_cast<int32_t>(v);
  }
  return out;
}

Requant rq(double multiplier, const std::string& what) {
  try {
    return requant_from_real(multiplier);
  } catch (const std::invalid_argument& e) {
    fail(what + ": " + e.what());
  }
}

// Floor of a GELU output channel's calibrated range, as a fraction of the layer's largest channel range.
constexpr double kGeluRangeFloor = 0.2;
// Floor of an LN1 output channel's INT8 range (h1, the FFN-up operand), as a fraction of the largest.
constexpr double kLn1RangeFloor = 0.02;
// A layer input's INT8 copy x (QKV and SPLS operand) is per tensor. Per channel (folded into W_Q/W_K/
// W_V's rows, range floor 0.02) was measured: INT8-vs-float cosine 0.9908 -> 0.9916 worst, but the
// SPLS prediction, which reads x and W_Q/W_K, degrades (ESACT dev Spearman 0.8037 vs 0.8676 dense).
constexpr bool kInputPerChannel = false;
constexpr double kInputRangeFloor = 0.02;

// Scale of an INT8 tensor whose calibrated maximum is m (a floor keeps dead channels representable).
double i8_scale(double m, double floor_value) { return std::max(m, floor_value) / 127.0; }

// Scales of a layer's INT8 input x, one per channel (all equal when per tensor).
std::vector<double> input_scales(const LayerActivationStats& st, int D) {
  double mx = 0.0;
  for (double e : st.input_channel) mx = std::max(mx, e);
  std::vector<double> v(static_cast<size_t>(D), i8_scale(mx, 1e-3));
  if (kInputPerChannel)
    for (int c = 0; c < D; ++c)
      v[static_cast<size_t>(c)] = i8_scale(st.input_channel[static_cast<size_t>(c)], std::max(mx * kInputRangeFloor, 1e-3));
  return v;
}

// Integer LayerNorm parameters (intops.h section 14) for a residual with LSB value s_r and an INT8
// output with LSB value s_y (one entry: per tensor, D entries: per channel). *unit receives the real
// value of one LSB of n * gamma + beta, the value every output requantiser of this LayerNorm scales.
LnQuant quantize_ln(const LayerNormWeights& ln, int D, double eps_real, double s_r, const std::vector<double>& s_y,
                    const std::string& what, double* unit_out = nullptr) {
  LnQuant q;
  double gmax = 0.0;
  for (float g : ln.gamma) gmax = std::max(gmax, static_cast<double>(std::fabs(g)));
  if (gmax <= 0.0) fail(what + ": gamma is all zero");
  const double s_gamma = gmax / 16384.0;  // |gamma| <= 2^14: |n * gamma| < 2^29, room for beta
  const double unit = s_gamma * std::sqrt(static_cast<double>(D)) * std::ldexp(1.0, -kLnNormFrac);
  q.gamma.resize(static_cast<size_t>(D));
  q.beta.resize(static_cast<size_t>(D));
  for (int d = 0; d < D; ++d) {
    q.gamma[static_cast<size_t>(d)] = static_cast<int16_t>(std::nearbyint(ln.gamma[static_cast<size_t>(d)] / s_gamma));
    const double b = std::nearbyint(ln.beta[static_cast<size_t>(d)] / unit);
    if (std::fabs(b) > static_cast<double>(kLnMaxBeta)) fail(what + ": beta exceeds 2^30");
    q.beta[static_cast<size_t>(d)] = static_cast<int32_t>(b);
  }
  const double eps = eps_real * std::pow(static_cast<double>(D), 3) / (s_r * s_r);
  q.eps = static_cast<int64_t>(std::clamp(std::nearbyint(eps), 1.0, std::ldexp(1.0, 61)));
  std::vector<Requant> out;
  for (double sy : s_y) out.push_back(rq(unit / sy, what + " output"));
  q.out = RequantSet(out);
  if (unit_out) *unit_out = unit;
  return q;
}

// Scale of an INT16 residual whose skip operand and branch have the calibrated maxima given: each
// fits with a 2x margin (|R| <= 2 * 2^15 < 2^17, inside the LayerNorm input range).
double residual_scale(double skip_max, double branch_max) {
  return std::max({2.0 * skip_max, 2.0 * branch_max, 1e-6}) / 32767.0;
}


// A residual branch (output projection, FFN down): the linear layer with its input scales folded
// into its rows, the per-channel requant of the accumulator to the INT16 branch at s_branch, and the
// bias.
void quantize_residual_branch(const LinearWeights& linear, const std::vector<double>& in_scale, double s_branch,
                              const std::string& what, TensorI8* w, std::vector<int32_t>* bias, RequantSet* requant) {
  QuantMatrix m = quantize_linear(linear, &in_scale);
  std::vector<Requant> r;
  for (size_t c = 0; c < m.scale.size(); ++c) r.push_back(rq(m.scale[c] / s_branch, what));
  *requant = RequantSet(r);
  *bias = quantize_bias(linear.bias, m.scale, what);
  *w = std::move(m.w);
}
}  // namespace

CalibrationStats calibrate(const BertWeights& weights, const std::vector<Encoding>& encodings, unsigned threads) {
  std::vector<PreparedFloat> prep(weights.layers.size());
  for (size_t l = 0; l < prep.size(); ++l) {
    const BertLayerWeights& s = weights.layers[l];
    prep[l] = {transposed(s.query), transposed(s.key), transposed(s.value), transposed(s.attention_output),
               transposed(s.intermediate), transposed(s.output)};
  }
  CalibrationStats stats;
  stats.layers.resize(weights.layers.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::mutex lock;
  std::exception_ptr error;
  auto worker = [&] {
    std::vector<LayerActivationStats> local(weights.layers.size());
    size_t tokens = 0;
    try {
      for (size_t i = next++; i < encodings.size(); i = next++) {
        instrumented_forward(weights, prep, encodings[i], local);
        tokens += encodings[i].valid_length;
      }
    } catch (...) {
      std::lock_guard<std::mutex> g(lock);
      if (!error) error = std::current_exception();
    }
    std::lock_guard<std::mutex> g(lock);  // max is order-independent: same result for any thread count
    for (size_t l = 0; l < local.size(); ++l) merge(stats.layers[l], local[l]);
    stats.tokens += tokens;
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  stats.sentences = encodings.size();
  return stats;
}

std::vector<std::string> calibration_sentences(const std::string& stsb_file, size_t count, std::string* description) {
  const std::vector<StsPair> pairs = read_stsb(stsb_file);
  if (pairs.empty()) fail("no pairs in " + stsb_file);
  const size_t n_pairs = std::min(pairs.size(), (count + 1) / 2);
  const size_t stride = pairs.size() / n_pairs;
  std::vector<std::string> out;
  for (size_t i = 0; i < n_pairs && out.size() < count; ++i) {
    out.push_back(pairs[i * stride].sentence1);
    if (out.size() < count) out.push_back(pairs[i * stride].sentence2);
  }
  if (description) {
    *description = stsb_file + ": " + std::to_string(out.size()) + " sentences (both sentences of every " +
                   std::to_string(stride) + "th pair, from line " + std::to_string(pairs[0].line) +
                   "), per-tensor/per-channel absolute maxima of the float forward";
  }
  return out;
}

QuantizedBert quantize(const BertWeights& weights, const CalibrationStats& stats, const HwConfig& cfg) {
  const BertConfig& bc = weights.config;
  if (bc.hidden_size != cfg.D || bc.num_heads != cfg.H || bc.intermediate_size != cfg.F)
    fail("model shape (D=" + std::to_string(bc.hidden_size) + ", H=" + std::to_string(bc.num_heads) + ", F=" +
         std::to_string(bc.intermediate_size) + ") does not match configuration '" + cfg.name + "'");
  if (stats.layers.size() != weights.layers.size()) fail("calibration has the wrong number of layers");
  const int D = cfg.D, F = cfg.F, H = cfg.H, dh = cfg.dh();
  const double log2e = 1.4426950408889634;
  QuantizedBert q;
  q.cfg = cfg;
  q.calibration = stats.source;
  for (size_t l = 0; l < weights.layers.size(); ++l) {
    const BertLayerWeights& src = weights.layers[l];
    const LayerActivationStats& st = stats.layers[l];
    const std::string tag = "layer " + std::to_string(l);
    // Input x (INT8, the QKV and SPLS operand): scales s_xv[c] (equal: per tensor, kInputPerChannel),
    // folded into the rows of W_Q, W_K, W_V; the previous layer's LN2 requantises to these scales (one
    // chain of scales). The residual uses the INT16 copy xr.
    const std::vector<double> s_xv = input_scales(st, D);
    q.in_scale_channel.push_back(s_xv);
    q.in_scale.push_back(*std::max_element(s_xv.begin(), s_xv.end()));
    LayerWeights lw;
    LayerQuant& lq = lw.quant;

    // QKV: per-channel weights, Q/K per head, V per channel.
    QuantMatrix wq = quantize_linear(src.query, &s_xv), wk = quantize_linear(src.key, &s_xv),
                wv = quantize_linear(src.value, &s_xv);
    std::vector<double> s_q(static_cast<size_t>(H)), s_k(static_cast<size_t>(H)), s_v(static_cast<size_t>(D));
    for (int h = 0; h < H; ++h) {
      s_q[static_cast<size_t>(h)] = i8_scale(st.q_head[static_cast<size_t>(h)], 1e-3);
      s_k[static_cast<size_t>(h)] = i8_scale(st.k_head[static_cast<size_t>(h)], 1e-3);
    }
    double vmax = 0.0;
    for (double v : st.v_channel) vmax = std::max(vmax, v);
    for (int c = 0; c < D; ++c) s_v[static_cast<size_t>(c)] = i8_scale(st.v_channel[static_cast<size_t>(c)], vmax * 1e-3);
    std::vector<double> acc_q(static_cast<size_t>(D)), acc_k(static_cast<size_t>(D)), acc_v(static_cast<size_t>(D));
    std::vector<Requant> rq_q, rq_k, rq_v;
    for (int c = 0; c < D; ++c) {
      const size_t uc = static_cast<size_t>(c);
      acc_q[uc] = wq.scale[uc];
      acc_k[uc] = wk.scale[uc];
      acc_v[uc] = wv.scale[uc];
      rq_q.push_back(rq(acc_q[uc] / s_q[static_cast<size_t>(c / dh)], tag + " q"));
      rq_k.push_back(rq(acc_k[uc] / s_k[static_cast<size_t>(c / dh)], tag + " k"));
      rq_v.push_back(rq(acc_v[uc] / s_v[uc], tag + " v"));
    }
    lw.wq = std::move(wq.w);
    lw.wk = std::move(wk.w);
    lw.wv = std::move(wv.w);
    lw.bq = quantize_bias(src.query.bias, acc_q, tag + " query");
    lw.bk = quantize_bias(src.key.bias, acc_k, tag + " key");
    lw.bv = quantize_bias(src.value.bias, acc_v, tag + " value");
    lq.q = RequantSet(rq_q);
    lq.k = RequantSet(rq_k);
    lq.v = RequantSet(rq_v);

    // QK^T -> logits in log2 units with 8 fraction bits: q.k * s_q s_k / sqrt(dh) * log2(e) * 2^8.
    std::vector<Requant> rq_qk;
    for (int h = 0; h < H; ++h) {
      rq_qk.push_back(rq(s_q[static_cast<size_t>(h)] * s_k[static_cast<size_t>(h)] / std::sqrt(static_cast<double>(dh)) *
                             log2e * std::ldexp(1.0, kSoftmaxInFrac),
                         tag + " qk"));
    }
    lq.qk = RequantSet(rq_qk);

    // xV: probabilities (2^-8) x V (s_v[c]) -> attention output INT8, per channel s_a[c].
    std::vector<double> s_a(static_cast<size_t>(D));
    double cmax = 0.0;
    for (double v : st.ctx_channel) cmax = std::max(cmax, v);
    std::vector<Requant> rq_av;
    for (int c = 0; c < D; ++c) {
      const size_t uc = static_cast<size_t>(c);
      s_a[uc] = i8_scale(st.ctx_channel[uc], cmax * 1e-3);
      rq_av.push_back(rq(std::ldexp(1.0, -kProbFrac) * s_v[uc] / s_a[uc], tag + " av"));
    }
    lq.av = RequantSet(rq_av);

    // Output projection: s_a folded into W_O's rows; branch INT16 at the residual-1 scale s_b1, the
    // scale of the layer's INT16 input xr (the previous LN2's second output, or the embeddings).
    const double s_b1 = residual_scale(st.input, st.oproj);
    q.res_scale.push_back(s_b1);
    quantize_residual_branch(src.attention_output, s_a, s_b1, tag + " oproj", &lw.wo, &lw.bo, &lq.oproj);

    // LayerNorm 1: two outputs from the same normalised value. h1 (INT8, per channel s_h1[c], folded
    // into W_1's rows) feeds FFN-up; h1r (INT16 at the residual-2 scale s_r2, shared with the FFN
    // branch Fo) is the skip operand of residual 2. s_r2 holds the calibrated LN1 and branch maxima
    // with a 2x margin each (|R2| <= 2 * 2^15 < 2^17, inside the LayerNorm input range).
    double l1max = 0.0;
    for (double v : st.ln1_channel) l1max = std::max(l1max, v);
    std::vector<double> s_h1(static_cast<size_t>(D));
    for (int c = 0; c < D; ++c) s_h1[static_cast<size_t>(c)] = i8_scale(st.ln1_channel[static_cast<size_t>(c)], l1max * kLn1RangeFloor);
    const double s_r2 = residual_scale(st.ln1, st.ffn_down);
    double ln1_unit = 0.0;
    lq.ln1 = quantize_ln(src.attention_norm, D, bc.layer_norm_eps, s_b1, s_h1, tag + " ln1", &ln1_unit);
    lq.ln1r = RequantSet(rq(ln1_unit / s_r2, tag + " ln1r"));

    // FFN up -> INT16 GELU input with 10 fraction bits.
    QuantMatrix w1 = quantize_linear(src.intermediate, &s_h1);
    if (st.ffn_pre >= 30.0) fail(tag + ": GELU input maximum " + std::to_string(st.ffn_pre) + " exceeds the INT16 Q.10 range");
    std::vector<double> acc_1(static_cast<size_t>(F));
    std::vector<Requant> rq_up;
    for (int f = 0; f < F; ++f) {
      const size_t uf = static_cast<size_t>(f);
      acc_1[uf] = w1.scale[uf];  // s_h1 is folded into W_1's rows
      rq_up.push_back(rq(acc_1[uf] * std::ldexp(1.0, kGeluInFrac), tag + " up"));
    }
    lq.up = RequantSet(rq_up);
    lw.b1 = quantize_bias(src.intermediate.bias, acc_1, tag + " intermediate");
    lw.w1 = std::move(w1.w);

    // GELU output per channel s_g[f] (raw scale 2^-26), folded into W_2's rows. The per-channel range
    // is floored at kGeluRangeFloor x the layer's largest channel maximum: a neuron that fires rarely in
    // the calibration set otherwise gets a tiny scale and saturates hard on the first sentence that
    // activates it (a measured share of the worst-case INT8-vs-float cosine gap; docs/model-eval.md).
    std::vector<double> s_g(static_cast<size_t>(F));
    double gmax = 0.0;
    for (double g : st.gelu_channel) gmax = std::max(gmax, g);
    std::vector<Requant> rq_g;
    for (int f = 0; f < F; ++f) {
      const size_t uf = static_cast<size_t>(f);
      s_g[uf] = i8_scale(st.gelu_channel[uf], gmax * kGeluRangeFloor);
      rq_g.push_back(rq(std::ldexp(1.0, -kGeluOutFrac) / s_g[uf], tag + " gelu"));
    }
    lq.gelu = RequantSet(rq_g);
    quantize_residual_branch(src.output, s_g, s_r2, tag + " down", &lw.w2, &lw.b2, &lq.down);

    // LayerNorm 2 -> layer output (the next layer's input scale).
    const double s_out = i8_scale(st.ln2, 1e-3);
    double ln2_unit = 0.0;
    // Not the last layer: the next layer's input scales. The last layer's output is dequantised with
    // one scale.
    std::vector<double> s_outv =
        l + 1 < weights.layers.size() ? input_scales(stats.layers[l + 1], D) : std::vector<double>{s_out};
    if (!kInputPerChannel) s_outv.resize(1);  // one requantiser
    lq.ln2 = quantize_ln(src.output_norm, D, bc.layer_norm_eps, s_r2, s_outv, tag + " ln2", &ln2_unit);
    // LN2's INT16 output yr: the next layer's residual-1 scale (for the last layer, 2x its maximum).
    const double s_next = l + 1 < weights.layers.size()
                              ? residual_scale(stats.layers[l + 1].input, stats.layers[l + 1].oproj)
                              : residual_scale(st.ln2, 0.0);
    lq.ln2r = RequantSet(rq(ln2_unit / s_next, tag + " ln2r"));
    q.out_scale = s_out;
    try {
      lw.validate(cfg);
    } catch (const std::invalid_argument& e) {
      fail(tag + ": " + e.what());
    }
    q.layers.push_back(std::move(lw));
  }
  return q;
}

namespace {

// The float embedding output of the valid tokens (L x D), after checking the encoding fits q's shape.
std::vector<float> checked_embedding(const BertWeights& weights, const QuantizedBert& q, const Encoding& enc) {
  const size_t L = enc.valid_length;
  if (L < 1 || L > static_cast<size_t>(q.cfg.N))
    fail("encoding has " + std::to_string(L) + " valid tokens, configuration '" + q.cfg.name + "' holds 1.." +
         std::to_string(q.cfg.N));
  for (size_t i = 0; i < L; ++i)
    if (enc.attention_mask[i] == 0) fail("valid tokens must come first (attention mask)");
  return embed_float(weights, enc, L);
}

}  // namespace

TensorI8 quantize_embeddings(const BertWeights& weights, const QuantizedBert& q, const Encoding& enc) {
  const size_t L = enc.valid_length;
  const int N = q.cfg.N, D = q.cfg.D;
  const std::vector<float> h = checked_embedding(weights, q, enc);
  TensorI8 x({N, D});
  for (size_t i = 0; i < L * static_cast<size_t>(D); ++i)
    x.data[i] = sat_i8(static_cast<int64_t>(std::nearbyint(h[i] / q.in_scale_channel[0][i % static_cast<size_t>(D)])));
  return x;
}

TensorI16 quantize_embeddings_residual(const BertWeights& weights, const QuantizedBert& q, const Encoding& enc) {
  const size_t L = enc.valid_length;
  const int N = q.cfg.N, D = q.cfg.D;
  const std::vector<float> h = checked_embedding(weights, q, enc);
  TensorI16 x({N, D});
  const double inv = 1.0 / q.res_scale[0];
  for (size_t i = 0; i < L * static_cast<size_t>(D); ++i)
    x.data[i] = sat_i16(static_cast<int64_t>(std::nearbyint(h[i] * inv)));
  return x;
}

}  // namespace esact::model
