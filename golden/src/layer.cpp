// Integer-only post-LN encoder layer, docs/spec.md Part II sections 15-20.
#include "esact/layer.h"

#include "esact/hlog.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

namespace esact {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument(what); }

void check_shape(const TensorI8& t, int64_t rows, int64_t cols, const char* name) {
  if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols)
    fail(std::string("layer: tensor '") + name + "' must have shape [" + std::to_string(rows) + "," +
         std::to_string(cols) + "]");
}

void check_bias(const std::vector<int32_t>& b, int64_t n, const char* name) {
  if (static_cast<int64_t>(b.size()) != n)
    fail(std::string("layer: bias '") + name + "' needs " + std::to_string(n) + " entries");
  for (int32_t v : b)
    if (v < -(1 << 30) || v > (1 << 30)) fail(std::string("layer: bias '") + name + "' exceeds 2^30");
}

// One output row slice of a matrix product, as a MAC column computes it:
// acc[c] = bias[c0 + c] + sum_{d < K} x[d] * W[d][c0 + c]. |sum| <= K * 2^14, exact in INT32.
void row_times(const int8_t* x, int64_t K, const TensorI8& w, int64_t c0, int64_t n,
               const int32_t* bias, int32_t* acc) {
  const int64_t ld = w.shape[1];
  for (int64_t c = 0; c < n; ++c) acc[c] = bias[c0 + c];
  for (int64_t d = 0; d < K; ++d) {
    const int32_t xd = x[d];
    const int8_t* wr = &w.data[static_cast<size_t>(d * ld + c0)];
    for (int64_t c = 0; c < n; ++c) acc[c] += xd * static_cast<int32_t>(wr[c]);
  }
}

int rep_of(const SplsResult* spls, int h, int i) { return spls ? spls->rep(h, i) : i; }
int token_rep_of(const SplsResult* spls, int i) { return spls ? spls->token_rep.data[static_cast<size_t>(i)] : i; }

void validate_spls(const HwConfig& cfg, const SplsParams& p, const SplsResult& s) {
  const int64_t N = cfg.N, H = cfg.H;
  if (s.rep.shape != std::vector<int64_t>{H, N} || s.kv_needed.shape != std::vector<int64_t>{H, N} ||
      s.topk_mask.shape != std::vector<int64_t>{H, N, N} || s.token_rep.shape != std::vector<int64_t>{N})
    fail("run_layer: SPLS result shapes do not match the configuration");
  for (int64_t i = 0; i < p.L; ++i) {
    for (int64_t h = 0; h < H; ++h) {
      const int r = s.rep(h, i);
      if (r < 0 || r > i || s.rep(h, r) != r)
        fail("run_layer: SPLS rep[" + std::to_string(h) + "][" + std::to_string(i) + "] is not a preceding representative");
    }
    const int t = s.token_rep.data[static_cast<size_t>(i)];
    if (t < 0 || t > i) fail("run_layer: SPLS token_rep[" + std::to_string(i) + "] out of range");
  }
}

}  // namespace

// ---------------------------------------------------------------- validation

void LayerQuant::validate(const HwConfig& cfg) const {
  q.validate(cfg.D, "quant.q");
  k.validate(cfg.D, "quant.k");
  v.validate(cfg.D, "quant.v");
  qk.validate(cfg.H, "quant.qk");
  av.validate(cfg.D, "quant.av");
  oproj.validate(cfg.D, "quant.oproj");
  up.validate(cfg.F, "quant.up");
  gelu.validate(cfg.F, "quant.gelu");
  down.validate(cfg.D, "quant.down");
  ln1.validate(cfg.D, "quant.ln1");
  ln1r.validate(cfg.D, "quant.ln1r");
  ln2.validate(cfg.D, "quant.ln2");
  ln2r.validate(cfg.D, "quant.ln2r");
}

void LayerWeights::validate(const HwConfig& cfg) const {
  if (cfg.F > 8192) fail("layer: F must be <= 8192 (FFN-down accumulator bound)");
  check_shape(wq, cfg.D, cfg.D, "wq");
  check_shape(wk, cfg.D, cfg.D, "wk");
  check_shape(wv, cfg.D, cfg.D, "wv");
  check_shape(wo, cfg.D, cfg.D, "wo");
  check_shape(w1, cfg.D, cfg.F, "w1");
  check_shape(w2, cfg.F, cfg.D, "w2");
  check_bias(bq, cfg.D, "bq");
  check_bias(bk, cfg.D, "bk");
  check_bias(bv, cfg.D, "bv");
  check_bias(bo, cfg.D, "bo");
  check_bias(b1, cfg.F, "b1");
  check_bias(b2, cfg.D, "b2");
  quant.validate(cfg);
}

// ---------------------------------------------------------------- section 16: QKV generation

void generate_qkv(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI8& x,
                  const SplsResult* spls, const LayerSwitches& sw, LayerResult& r) {
  const int N = cfg.N, D = cfg.D, H = cfg.H, dh = cfg.dh(), L = p.L;
  r.q = TensorI8({N, D});
  r.k = TensorI8({N, D});
  r.v = TensorI8({N, D});
  r.q_generated = TensorU8({H, N});
  r.kv_generated = TensorU8({H, N});
  std::vector<int32_t> acc(static_cast<size_t>(dh));
  for (int i = 0; i < L; ++i) {
    const int8_t* xi = &x.data[static_cast<size_t>(i) * D];
    for (int h = 0; h < H; ++h) {
      const int c0 = h * dh;
      const bool gen_q = !(sw.skip_q && rep_of(spls, h, i) != i);
      const bool gen_kv = !(sw.skip_kv && !spls->kv_needed(h, i));
      if (gen_q) {
        row_times(xi, D, w.wq, c0, dh, w.bq.data(), acc.data());
        for (int c = 0; c < dh; ++c) r.q(i, c0 + c) = requant_i8(acc[static_cast<size_t>(c)], w.quant.q[c0 + c]);
        r.q_generated(h, i) = 1;
        r.executed.q += static_cast<int64_t>(D) * dh;
      }
      if (gen_kv) {
        row_times(xi, D, w.wk, c0, dh, w.bk.data(), acc.data());
        for (int c = 0; c < dh; ++c) r.k(i, c0 + c) = requant_i8(acc[static_cast<size_t>(c)], w.quant.k[c0 + c]);
        row_times(xi, D, w.wv, c0, dh, w.bv.data(), acc.data());
        for (int c = 0; c < dh; ++c) r.v(i, c0 + c) = requant_i8(acc[static_cast<size_t>(c)], w.quant.v[c0 + c]);
        r.kv_generated(h, i) = 1;
        r.executed.k += static_cast<int64_t>(D) * dh;
        r.executed.v += static_cast<int64_t>(D) * dh;
      }
    }
  }
}

// ---------------------------------------------------------------- section 17: attention

std::vector<uint8_t> attention_columns(const HwConfig& cfg, const SplsParams& p, const SplsResult* spls,
                                       const LayerSwitches& sw, int h, int i) {
  std::vector<uint8_t> cols(static_cast<size_t>(cfg.N), 0);
  for (int j = 0; j < p.L; ++j) {
    bool keep = !p.causal || j <= i;
    if (sw.topk_attn) keep = keep && spls->topk_mask(h, i, j) != 0;
    if (sw.skip_kv) keep = keep && spls->kv_needed(h, j) != 0;
    cols[static_cast<size_t>(j)] = keep ? 1 : 0;
  }
  return cols;
}

void attention(const HwConfig& cfg, const SplsParams& p, const LayerQuant& quant, const TensorI8& q,
               const TensorI8& k, const TensorI8& v, const SplsResult* spls, const LayerSwitches& sw,
               LayerResult& r) {
  const int N = cfg.N, D = cfg.D, H = cfg.H, dh = cfg.dh(), L = p.L;
  r.probs = TensorU8({H, N, N});
  r.attn_computed = TensorU8({H, N});
  r.attn = TensorI8({N, D});
  r.executed.qk = r.executed.av = 0;
  std::vector<int16_t> logits(static_cast<size_t>(N));
  std::vector<int32_t> acc(static_cast<size_t>(dh));
  for (int h = 0; h < H; ++h) {
    const int c0 = h * dh;
    for (int i = 0; i < L; ++i) {
      const int rep = rep_of(spls, h, i);
      const bool follower = rep != i;
      if (sw.reuse_attn && follower) {  // inter-row: copy r's output row (r < i, already final)
        for (int c = c0; c < c0 + dh; ++c) r.attn(i, c) = r.attn(rep, c);
        continue;
      }
      const int q_row = (sw.skip_q && follower) ? rep : i;  // a skipped Q row reads r's
      const std::vector<uint8_t> cols = attention_columns(cfg, p, spls, sw, h, i);
      // QK^T: one INT32 dot product per kept column, requantised to the softmax input format.
      int n_cols = 0;
      for (int j = 0; j < N; ++j) {
        logits[static_cast<size_t>(j)] = 0;
        if (!cols[static_cast<size_t>(j)]) continue;
        int32_t dot = 0;  // |dot| <= 64 * 2^14 = 2^20
        for (int c = c0; c < c0 + dh; ++c) dot += static_cast<int32_t>(q(q_row, c)) * k(j, c);
        logits[static_cast<size_t>(j)] = requant_i16(dot, quant.qk[h]);
        ++n_cols;
      }
      uint8_t* prow = &r.probs(h, i, 0);
      isoftmax_row(logits.data(), cols.data(), N, prow);
      // xV: UINT8 probability x INT8 V, INT32 accumulation (|acc| <= (256 + N/2 + 1) * 128 < 2^17).
      for (int c = 0; c < dh; ++c) acc[static_cast<size_t>(c)] = 0;
      for (int j = 0; j < N; ++j) {
        if (!cols[static_cast<size_t>(j)]) continue;
        const int32_t pj = prow[j];
        for (int c = 0; c < dh; ++c) acc[static_cast<size_t>(c)] += pj * v(j, c0 + c);
      }
      for (int c = 0; c < dh; ++c) r.attn(i, c0 + c) = requant_i8(acc[static_cast<size_t>(c)], quant.av[c0 + c]);
      r.attn_computed(h, i) = 1;
      r.executed.qk += static_cast<int64_t>(n_cols) * dh;
      r.executed.av += static_cast<int64_t>(n_cols) * dh;
    }
  }
}

// ---------------------------------------------------------------- section 18: projection, FFN, LN

void output_and_ffn(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI16& xr,
                    const SplsResult* spls, const LayerSwitches& sw, LayerResult& r, const FfnSparsity& ffn) {
  const int N = cfg.N, D = cfg.D, F = cfg.F, L = p.L;
  const LayerQuant& qp = w.quant;
  r.oproj = TensorI16({N, D});
  r.ln1 = TensorI8({N, D});
  r.ln1r = TensorI16({N, D});
  r.ffn_hidden = TensorI8({N, F});
  r.ffn_out = TensorI16({N, D});
  r.out = TensorI8({N, D});
  r.out_r = TensorI16({N, D});
  r.executed.oproj = r.executed.ffn_up = r.executed.ffn_down = 0;
  std::vector<int32_t> acc(static_cast<size_t>(std::max(D, F)));
  std::vector<int32_t> resid(static_cast<size_t>(D));
  r.ffn_pred_pairs = r.ffn_neurons = r.ffn_neurons_kept = 0;
  std::vector<uint8_t> keep(static_cast<size_t>(F), 1);
  std::vector<int8_t> fill_row(static_cast<size_t>(F));
  std::vector<uint8_t> w1_codes, h1_codes;  // kPredicted: HLog(W1) transposed [F][D], HLog(h1[i])
  if (ffn.mode == FfnSparsity::Mode::kPredicted) {
    w1_codes.resize(static_cast<size_t>(F) * D);
    h1_codes.resize(static_cast<size_t>(D));
    for (int d = 0; d < D; ++d)
      for (int f = 0; f < F; ++f)
        w1_codes[static_cast<size_t>(f) * D + d] = hlog_encode(w.w1(d, f)).packed();
  }
  for (int i = 0; i < L; ++i) {
    const int t = token_rep_of(spls, i);
    const bool token_follower = t != i;
    // Output projection -> INT16 branch at the residual-1 scale (or r's, reused).
    if (sw.reuse_oproj && token_follower) {
      for (int c = 0; c < D; ++c) r.oproj(i, c) = r.oproj(t, c);
    } else {
      row_times(&r.attn.data[static_cast<size_t>(i) * D], D, w.wo, 0, D, w.bo.data(), acc.data());
      for (int c = 0; c < D; ++c) r.oproj(i, c) = requant_i16(acc[static_cast<size_t>(c)], qp.oproj[c]);
      r.executed.oproj += static_cast<int64_t>(D) * D;
    }
    // Residual 1 (exact) and LayerNorm 1, for every token.
    for (int c = 0; c < D; ++c)
      resid[static_cast<size_t>(c)] = static_cast<int32_t>(xr(i, c)) + r.oproj(i, c);
    ilayernorm_row(resid.data(), D, qp.ln1, &r.ln1.data[static_cast<size_t>(i) * D], nullptr, &qp.ln1r,
                   &r.ln1r.data[static_cast<size_t>(i) * D]);
    // FFN: up + bias -> INT16 GELU input -> i-GELU -> INT8 -> down + bias -> INT16 branch.
    if (sw.reuse_ffn && token_follower) {
      for (int c = 0; c < D; ++c) r.ffn_out(i, c) = r.ffn_out(t, c);
    } else {
      const int8_t* h1 = &r.ln1.data[static_cast<size_t>(i) * D];
      int64_t kept = F;
      if (ffn.mode == FfnSparsity::Mode::kPredicted) {  // Part III: add-only prediction of FFN-up
        const int dims = ffn.pred_dims > 0 && ffn.pred_dims < D ? ffn.pred_dims : D;
        // The inputs the prediction reads: all D, or the `dims` largest |h1| (ties to the lower index).
        std::vector<int> order(static_cast<size_t>(D));
        for (int d = 0; d < D; ++d) order[static_cast<size_t>(d)] = d;
        if (dims < D)
          std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return std::abs(h1[a]) > std::abs(h1[b]); });
        for (int k = 0; k < dims; ++k)
          h1_codes[static_cast<size_t>(k)] = hlog_encode(h1[order[static_cast<size_t>(k)]]).packed();
        kept = 0;
        for (int f = 0; f < F; ++f) {
          const uint8_t* wc = &w1_codes[static_cast<size_t>(f) * D];
          int32_t pred = w.b1[static_cast<size_t>(f)];
          if (dims == D) {
            pred += hlog_dot_packed(h1_codes.data(), wc, D);
          } else {
            const int32_t* t = hlog_product_table();
            for (int k = 0; k < dims; ++k) pred += t[(h1_codes[static_cast<size_t>(k)] << 6) | wc[order[static_cast<size_t>(k)]]];
          }
          keep[static_cast<size_t>(f)] = requant_i16(pred, qp.up[f]) >= ffn.theta;
          kept += keep[static_cast<size_t>(f)];
        }
        r.ffn_pred_pairs += static_cast<int64_t>(dims) * F;
      }
      row_times(h1, D, w.w1, 0, F, w.b1.data(), acc.data());
      int8_t* hidden = &r.ffn_hidden.data[static_cast<size_t>(i) * F];
      if (ffn.mode == FfnSparsity::Mode::kExact) kept = 0;
      for (int f = 0; f < F; ++f) {
        const int16_t g_in = requant_i16(acc[static_cast<size_t>(f)], qp.up[f]);
        if (ffn.mode == FfnSparsity::Mode::kExact) {
          keep[static_cast<size_t>(f)] = g_in >= ffn.theta;
          kept += keep[static_cast<size_t>(f)];
        }
        hidden[f] = keep[static_cast<size_t>(f)] ? requant_i8(igelu_raw(g_in), qp.gelu[f]) : int8_t{0};
      }
      // A zero hidden value contributes nothing to FFN-down: dropped neurons' rows of W2 are skipped.
      // With a fill value, dropped neurons contribute c_f (folded into a static bias, see layer.h).
      if (ffn.on() && (ffn.use_fill || ffn.fill_values)) {
        std::copy(hidden, hidden + F, fill_row.begin());
        for (int f = 0; f < F; ++f)
          if (!keep[static_cast<size_t>(f)])
            fill_row[static_cast<size_t>(f)] = ffn.fill_values ? ffn.fill_values[f]
                                                               : requant_i8(igelu_raw(static_cast<int16_t>(ffn.fill)), qp.gelu[f]);
        row_times(fill_row.data(), F, w.w2, 0, D, w.b2.data(), acc.data());
      } else {
        row_times(hidden, F, w.w2, 0, D, w.b2.data(), acc.data());
      }
      for (int c = 0; c < D; ++c) r.ffn_out(i, c) = requant_i16(acc[static_cast<size_t>(c)], qp.down[c]);
      const bool up_skips = ffn.mode == FfnSparsity::Mode::kPredicted;
      r.executed.ffn_up += static_cast<int64_t>(D) * (up_skips ? kept : F);
      r.executed.ffn_down += static_cast<int64_t>(D) * kept;
      if (ffn.on()) {
        r.ffn_neurons += F;
        r.ffn_neurons_kept += kept;
      }
    }
    // Residual 2 and LayerNorm 2, for every token.
    for (int c = 0; c < D; ++c)
      resid[static_cast<size_t>(c)] = static_cast<int32_t>(r.ln1r(i, c)) + r.ffn_out(i, c);
    ilayernorm_row(resid.data(), D, qp.ln2, &r.out.data[static_cast<size_t>(i) * D], nullptr, &qp.ln2r,
                   &r.out_r.data[static_cast<size_t>(i) * D]);
  }
}

// ---------------------------------------------------------------- section 20: counters

LayerMacs dense_macs(const HwConfig& cfg, const SplsParams& p) {
  const int64_t L = p.L, D = cfg.D, F = cfg.F, H = cfg.H, dh = cfg.dh();
  const int64_t pairs = p.causal ? L * (L + 1) / 2 : L * L;  // (row, column) pairs attended
  LayerMacs m;
  m.q = m.k = m.v = L * D * D;
  m.qk = m.av = H * pairs * dh;
  m.oproj = L * D * D;
  m.ffn_up = m.ffn_down = L * D * F;
  return m;
}

TensorI16 widen_input(const TensorI8& x, int shift) {
  if (shift < 0 || shift > 7) fail("widen_input: shift must be in 0..7");
  TensorI16 xr(x.shape);
  for (size_t e = 0; e < x.data.size(); ++e) xr.data[e] = static_cast<int16_t>(x.data[e] * (1 << shift));
  return xr;
}

LayerResult run_layer(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI8& x,
                      const SplsResult* spls, const LayerSwitches& sw, const FfnSparsity& ffn) {
  return run_layer(cfg, p, w, x, widen_input(x, kSyntheticResShift), spls, sw, ffn);
}

LayerResult run_layer(const HwConfig& cfg, const SplsParams& p, const LayerWeights& w, const TensorI8& x,
                      const TensorI16& xr, const SplsResult* spls, const LayerSwitches& sw,
                      const FfnSparsity& ffn) {
  cfg.validate();
  p.validate(cfg);
  w.validate(cfg);
  check_shape(x, cfg.N, cfg.D, "x");
  if (xr.shape != x.shape) fail("layer: tensor 'xr' must have shape [" + std::to_string(cfg.N) + "," + std::to_string(cfg.D) + "]");
  if (spls == nullptr && sw.any()) fail("run_layer: ESACT switches need an SPLS result");
  if (spls != nullptr) validate_spls(cfg, p, *spls);
  LayerResult r;
  r.dense = dense_macs(cfg, p);
  generate_qkv(cfg, p, w, x, spls, sw, r);
  attention(cfg, p, w.quant, r.q, r.k, r.v, spls, sw, r);
  output_and_ffn(cfg, p, w, xr, spls, sw, r, ffn);
  return r;
}

// ---------------------------------------------------------------- synthetic data

namespace {

// Deterministic on every platform: mt19937_64 is specified exactly; no std distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  int32_t uniform(int32_t lo, int32_t hi) {  // inclusive
    return lo + static_cast<int32_t>(gen_() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  std::mt19937_64 gen_;
};

TensorI8 random_matrix(Rng& rng, int64_t rows, int64_t cols, int32_t amp) {
  TensorI8 t({rows, cols});
  for (auto& e : t.data) e = static_cast<int8_t>(rng.uniform(-amp, amp));
  return t;
}

std::vector<int32_t> random_bias(Rng& rng, int64_t n, double amp) {
  std::vector<int32_t> b(static_cast<size_t>(n));
  const int32_t a = static_cast<int32_t>(amp);
  for (auto& e : b) e = rng.uniform(-a, a);
  return b;
}

LnQuant synthetic_ln(Rng& rng, int D) {
  // gamma in 0.5..1.5 at s_gamma = 2^-14; beta in -0.5..0.5; output scale 1/32 (std 1 -> 32 LSB).
  LnQuant ln;
  const double beta_unit = std::ldexp(1.0, -14) * std::sqrt(static_cast<double>(D)) * std::ldexp(1.0, -15);
  ln.gamma.resize(static_cast<size_t>(D));
  ln.beta.resize(static_cast<size_t>(D));
  for (int d = 0; d < D; ++d) {
    ln.gamma[static_cast<size_t>(d)] = static_cast<int16_t>(rng.uniform(8192, 24576));
    ln.beta[static_cast<size_t>(d)] = static_cast<int32_t>(std::nearbyint(rng.uniform(-500, 500) / 1000.0 / beta_unit));
  }
  ln.eps = static_cast<int64_t>(D) * D * D;  // eps = 1 LSB^2 of the residual
  ln.out = RequantSet(requant_from_real(beta_unit * 32.0));
  return ln;
}

}  // namespace

LayerWeights make_synthetic_weights(const HwConfig& cfg, uint64_t seed) {
  cfg.validate();
  const int D = cfg.D, F = cfg.F, dh = cfg.dh();
  Rng rng(seed * 0x9E3779B97F4A7C15ull + 0x5EED);
  constexpr int32_t kW = 64;                                   // weights uniform in +-64
  const double sw = std::sqrt(((2.0 * kW + 1) * (2.0 * kW + 1) - 1) / 12.0);  // ~37.2
  constexpr double kAct = 32.0;                                // INT8 activation std target
  const double sd = std::sqrt(static_cast<double>(D)), sf = std::sqrt(static_cast<double>(F));
  LayerWeights w;
  w.wq = random_matrix(rng, D, D, kW);
  w.wk = random_matrix(rng, D, D, kW);
  w.wv = random_matrix(rng, D, D, kW);
  w.wo = random_matrix(rng, D, D, kW);
  w.w1 = random_matrix(rng, D, F, kW);
  w.w2 = random_matrix(rng, F, D, kW);
  const double acc_d = sd * kAct * sw;  // std of a D-long INT8 dot product
  w.bq = random_bias(rng, D, acc_d / 4);
  w.bk = random_bias(rng, D, acc_d / 4);
  w.bv = random_bias(rng, D, acc_d / 4);
  w.bo = random_bias(rng, D, acc_d / 8);
  w.b1 = random_bias(rng, F, acc_d / 4);
  w.b2 = random_bias(rng, D, sf * 16 * sw / 8);
  LayerQuant& q = w.quant;
  q.q = q.k = q.v = RequantSet(requant_from_real(kAct / acc_d));
  // Logits: std ~ 2 log2 units (512 LSB of the 8-fraction-bit format).
  q.qk = RequantSet(requant_from_real(512.0 / (std::sqrt(static_cast<double>(dh)) * kAct * kAct)));
  q.av = RequantSet(requant_from_real(1.0 / 256.0));
  const double branch = kAct * (1 << kSyntheticResShift);  // branch std at the residual scale (x << 4)
  q.oproj = RequantSet(requant_from_real(branch / (sd * 16.0 * sw)));  // attention output std ~ 16
  q.ln1 = synthetic_ln(rng, D);
  // h1r at the residual-2 scale: 16x the resolution of h1 (what h1 << 4 had), no shift in the add.
  q.ln1r = RequantSet(requant_from_real(std::ldexp(1.0, -14) * std::sqrt(static_cast<double>(D)) *
                                        std::ldexp(1.0, -15) * 32.0 * 16.0));
  q.up = RequantSet(requant_from_real(1.5 * 1024 / acc_d));  // GELU input std ~ 1.5
  q.gelu = RequantSet(requant_from_real(24.0 * std::ldexp(1.0, -kGeluOutFrac)));  // 1/24 per LSB
  q.down = RequantSet(requant_from_real(branch / (sf * 24.0 * sw)));
  q.ln2 = synthetic_ln(rng, D);
  q.ln2r = q.ln1r;  // yr at 16x the resolution of y (the x << 4 of the next synthetic layer)
  w.validate(cfg);
  return w;
}

TensorI8 make_synthetic_input(const HwConfig& cfg, int L, uint64_t seed) {
  const int N = cfg.N, D = cfg.D;
  if (L < 1 || L > N) fail("make_synthetic_input: L must be in 1..N");
  Rng rng(seed * 0xD1B54A32D192ED03ull + 0x1D);
  TensorI8 x({N, D});
  std::vector<int32_t> base(static_cast<size_t>(D));
  int run_left = 0;
  for (int i = 0; i < L; ++i) {
    if (run_left == 0) {
      run_left = rng.uniform(1, 5);
      for (auto& b : base) b = rng.uniform(-56, 56);
    }
    --run_left;
    for (int d = 0; d < D; ++d) x(i, d) = static_cast<int8_t>(base[static_cast<size_t>(d)] + rng.uniform(-8, 8));
  }
  return x;
}

}  // namespace esact
