#include "esact/model/int_encoder.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "esact/model/float_forward.h"

namespace esact::model {

namespace {

void add_macs(LayerMacs& a, const LayerMacs& b) {
  a.q += b.q;
  a.k += b.k;
  a.v += b.v;
  a.qk += b.qk;
  a.av += b.av;
  a.oproj += b.oproj;
  a.ffn_up += b.ffn_up;
  a.ffn_down += b.ffn_down;
}

void add_mac_counts(MacCounts& a, const MacCounts& b) {
  a.q += b.q;
  a.kv += b.kv;
  a.qk += b.qk;
  a.av += b.av;
  a.oproj += b.oproj;
  a.ffn += b.ffn;
}

}  // namespace

EsactSettings EsactSettings::from_config(const HwConfig& cfg) {
  EsactSettings s;
  s.rho_milli = cfg.rho_milli;
  s.tau_milli = cfg.tau_milli;
  s.window = cfg.window;
  s.vote = cfg.vote;
  return s;
}

void LayerCounters::add(const LayerCounters& o) {
  add_macs(executed, o.executed);
  add_macs(dense, o.dense);
  pred_pairs += o.pred_pairs;
  add_mac_counts(spls_executed, o.spls_executed);
  tokens += o.tokens;
  head_rows += o.head_rows;
  head_followers += o.head_followers;
  token_followers += o.token_followers;
  kv_rows_skipped += o.kv_rows_skipped;
  ffn_pred_pairs += o.ffn_pred_pairs;
  ffn_neurons += o.ffn_neurons;
  ffn_neurons_kept += o.ffn_neurons_kept;
}

LayerCounters EncoderCounters::total() const {
  LayerCounters t;
  for (const LayerCounters& l : layers) t.add(l);
  return t;
}

double mac_reduction(const LayerCounters& c, double add_weight) {
  const double dense = static_cast<double>(c.dense.total());
  if (dense <= 0.0) return 0.0;
  return 1.0 - (static_cast<double>(c.executed.total()) + add_weight * static_cast<double>(c.pred_pairs)) / dense;
}

IntBertEncoder::IntBertEncoder(const BertWeights& weights, const QuantizedBert& q, IntMode mode,
                               EsactSettings settings)
    : weights_(weights), q_(q), mode_(mode), settings_(settings) {
  if (q.layers.empty()) throw std::invalid_argument("IntBertEncoder: quantised model has no layers");
  if (mode == IntMode::kEsact) {
    // Checked once here so that a bad option fails before the first sentence.
    params_for(q.cfg.N).validate(q.cfg);
  }
  totals_.layers.resize(q.layers.size());
}

SplsParams IntBertEncoder::params_for(int L) const {
  SplsParams p = SplsParams::from_fractions(L, settings_.rho_milli, settings_.tau_milli, settings_.window,
                                            settings_.vote);
  if (mode_ == IntMode::kDense) {
    // Dense ignores the SPLS registers; keep them legal for run_layer's validation.
    p = SplsParams::from_fractions(L, 1000, 0, 0, 1);
  }
  return p;
}

std::string IntBertEncoder::name() const { return mode_ == IntMode::kDense ? "int8" : "esact"; }

std::vector<float> IntBertEncoder::embed(const Encoding& encoding) const { return embed_traced(encoding, nullptr); }

std::vector<float> IntBertEncoder::embed_traced(const Encoding& encoding, Trace* trace) const {
  const HwConfig& cfg = q_.cfg;
  const int L = static_cast<int>(encoding.valid_length);
  TensorI8 x = quantize_embeddings(weights_, q_, encoding);  // checks 1 <= L <= N
  TensorI16 xr = quantize_embeddings_residual(weights_, q_, encoding);
  const SplsParams p = params_for(L);
  std::vector<LayerCounters> local(q_.layers.size());
  if (trace) {
    trace->inputs.clear();
    trace->inputs_r.clear();
    trace->params.clear();
  }
  for (size_t l = 0; l < q_.layers.size(); ++l) {
    const LayerWeights& w = q_.layers[l];
    LayerCounters& c = local[l];
    if (trace) {
      trace->inputs.push_back(x);
      trace->inputs_r.push_back(xr);
      trace->params.push_back(p);
    }
    LayerResult r;
    if (mode_ == IntMode::kDense) {
      r = run_layer(cfg, p, w, x, xr, nullptr, LayerSwitches::dense());
    } else {
      const SplsResult spls = run_spls(cfg, p, x, w.wq, w.wk);
      FfnSparsity ffn = settings_.ffn;
      if (settings_.ffn_fill && l < settings_.ffn_fill->size()) ffn.fill_values = (*settings_.ffn_fill)[l].data();
      r = run_layer(cfg, p, w, x, xr, &spls, settings_.switches, ffn);
      c.pred_pairs = spls.counters.pred_pairs + r.ffn_pred_pairs;
      c.ffn_pred_pairs = r.ffn_pred_pairs;
      if (settings_.ffn.on()) {
        c.ffn_neurons = r.ffn_neurons;
        c.ffn_neurons_kept = r.ffn_neurons_kept;
      }
      c.spls_executed = spls.counters.executed;
      c.head_followers = spls.counters.head_followers;
      c.token_followers = spls.counters.token_followers;
      c.kv_rows_skipped = spls.counters.kv_rows_skipped;
    }
    c.executed = r.executed;
    c.dense = r.dense;
    c.tokens = L;
    c.head_rows = static_cast<int64_t>(cfg.H) * (L - 1);
    x = std::move(r.out);
    xr = std::move(r.out_r);
  }
  // Float/integer boundary out: dequantise, mean-pool over the L valid tokens, L2-normalise.
  const int D = cfg.D;
  std::vector<float> pooled(static_cast<size_t>(D), 0.0f);
  for (int i = 0; i < L; ++i)
    for (int d = 0; d < D; ++d) pooled[static_cast<size_t>(d)] += static_cast<float>(x(i, d));
  const float scale = static_cast<float>(q_.out_scale / L);
  for (float& v : pooled) v *= scale;
  float_ops::l2_normalize(pooled);
  {
    std::lock_guard<std::mutex> g(lock_);
    totals_.sentences += 1;
    for (size_t l = 0; l < local.size(); ++l) totals_.layers[l].add(local[l]);
  }
  if (trace) {
    trace->layers = local;
    trace->output = std::move(x);
  }
  return pooled;
}

EncoderCounters IntBertEncoder::counters() const {
  std::lock_guard<std::mutex> g(lock_);
  return totals_;
}

void IntBertEncoder::reset_counters() {
  std::lock_guard<std::mutex> g(lock_);
  totals_ = EncoderCounters{};
  totals_.layers.resize(q_.layers.size());
}

std::vector<std::vector<int8_t>> calibrate_ffn_fill(const BertWeights& weights, const QuantizedBert& q,
                                                    const std::vector<Encoding>& encodings, int32_t theta) {
  const HwConfig& cfg = q.cfg;
  const int D = cfg.D, F = cfg.F;
  const size_t layers = q.layers.size();
  std::vector<std::vector<int64_t>> sum(layers, std::vector<int64_t>(static_cast<size_t>(F), 0));
  std::vector<std::vector<int64_t>> count(layers, std::vector<int64_t>(static_cast<size_t>(F), 0));
  const IntBertEncoder dense(weights, q, IntMode::kDense);
  std::vector<int64_t> acc(static_cast<size_t>(F));
  for (const Encoding& e : encodings) {
    IntBertEncoder::Trace t;
    dense.embed_traced(e, &t);
    for (size_t l = 0; l < layers; ++l) {
      const LayerWeights& w = q.layers[l];
      const LayerResult r = run_layer(cfg, t.params[l], w, t.inputs[l], t.inputs_r[l], nullptr, LayerSwitches::dense());
      for (int i = 0; i < t.params[l].L; ++i) {
        for (int f = 0; f < F; ++f) acc[static_cast<size_t>(f)] = w.b1[static_cast<size_t>(f)];
        for (int d = 0; d < D; ++d) {
          const int64_t h = r.ln1(i, d);
          for (int f = 0; f < F; ++f) acc[static_cast<size_t>(f)] += h * w.w1(d, f);
        }
        for (int f = 0; f < F; ++f) {
          if (requant_i16(static_cast<int32_t>(acc[static_cast<size_t>(f)]), w.quant.up[f]) < theta) {
            sum[l][static_cast<size_t>(f)] += r.ffn_hidden(i, f);
            count[l][static_cast<size_t>(f)] += 1;
          }
        }
      }
    }
  }
  std::vector<std::vector<int8_t>> fill(layers, std::vector<int8_t>(static_cast<size_t>(F), 0));
  for (size_t l = 0; l < layers; ++l)
    for (int f = 0; f < F; ++f) {
      const int64_t n = count[l][static_cast<size_t>(f)];
      if (n > 0)
        fill[l][static_cast<size_t>(f)] = static_cast<int8_t>(std::max<int64_t>(
            -128, std::min<int64_t>(127, std::llround(static_cast<double>(sum[l][static_cast<size_t>(f)]) / static_cast<double>(n)))));
    }
  return fill;
}

}  // namespace esact::model
