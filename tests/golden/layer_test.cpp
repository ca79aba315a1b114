// The integer encoder layer (docs/spec.md Part II): dense mode against an independent integer
// reference (bit-exact) and a double-precision reference (bounded), ESACT switches one by one,
// poisoned operands that must never be read, MAC accounting against SPLS section 8.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "esact/layer.h"

using namespace esact;

namespace {

struct Case {
  HwConfig cfg;
  SplsParams p;
  LayerWeights w;
  TensorI8 x;
  SplsResult spls;
};

Case make_case(const char* config, int L, uint64_t seed, int vote = -1, int rho_milli = -1) {
  Case c;
  c.cfg = config_by_name(config);
  c.p = SplsParams::from_fractions(L, rho_milli > 0 ? rho_milli : c.cfg.rho_milli, c.cfg.tau_milli, c.cfg.window,
                                   vote > 0 ? vote : c.cfg.vote);
  c.w = make_synthetic_weights(c.cfg, seed);
  c.x = make_synthetic_input(c.cfg, L, seed + 100);
  c.spls = run_spls(c.cfg, c.p, c.x, c.w.wq, c.w.wk);
  return c;
}

// Requantisation by exact floor division (independent of the shift formulation).
int64_t rq_div(int64_t acc, Requant rq) {
  const __int128 num = static_cast<__int128>(acc) * rq.M * 2 + (static_cast<__int128>(1) << rq.S);
  const __int128 den = static_cast<__int128>(1) << (rq.S + 1);
  __int128 q = num / den;
  if (num % den != 0 && num < 0) --q;
  return static_cast<int64_t>(q);
}
int64_t clampv(int64_t v, int64_t lo, int64_t hi) { return std::min(hi, std::max(lo, v)); }

// Full matrix product in int64, column-outer loop order: out[i][c] = b[c] + sum_d a[i][d] * w[d][c].
std::vector<int64_t> matmul(const std::vector<int64_t>& a, int rows, int K, const TensorI8& w,
                            const std::vector<int32_t>& b) {
  const int C = static_cast<int>(w.shape[1]);
  std::vector<int64_t> out(static_cast<size_t>(rows) * C);
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < rows; ++i) {
      int64_t s = b[static_cast<size_t>(c)];
      for (int d = K - 1; d >= 0; --d) s += a[static_cast<size_t>(i) * K + d] * w(d, c);
      out[static_cast<size_t>(i) * C + c] = s;
    }
  return out;
}

// Independent integer reference of the dense layer, written from the spec text. It reuses only the
// nonlinear units (isoftmax_row, igelu_raw, ilayernorm_row), which intops_test checks on their own.
struct RefOut {
  std::vector<int64_t> q, k, v, attn, oproj, ln1, ln1r, hidden, ffn, out, out_r;
};
// xr: the INT16 residual-1 input; empty = x * 16 (what the six-argument run_layer supplies).
RefOut reference_dense(const Case& c, const TensorI16* xr_in = nullptr) {
  const HwConfig& cfg = c.cfg;
  const int L = c.p.L, D = cfg.D, F = cfg.F, H = cfg.H, dh = cfg.dh();
  const LayerQuant& qp = c.w.quant;
  RefOut r;
  std::vector<int64_t> x(static_cast<size_t>(L) * D);
  for (int i = 0; i < L; ++i)
    for (int d = 0; d < D; ++d) x[static_cast<size_t>(i) * D + d] = c.x(i, d);
  auto requant_all = [](std::vector<int64_t> acc, int C, const RequantSet& rq, int64_t lo, int64_t hi) {
    for (size_t e = 0; e < acc.size(); ++e) acc[e] = clampv(rq_div(acc[e], rq[static_cast<int64_t>(e % C)]), lo, hi);
    return acc;
  };
  r.q = requant_all(matmul(x, L, D, c.w.wq, c.w.bq), D, qp.q, -128, 127);
  r.k = requant_all(matmul(x, L, D, c.w.wk, c.w.bk), D, qp.k, -128, 127);
  r.v = requant_all(matmul(x, L, D, c.w.wv, c.w.bv), D, qp.v, -128, 127);
  r.attn.assign(static_cast<size_t>(L) * D, 0);
  for (int h = 0; h < H; ++h) {
    for (int i = 0; i < L; ++i) {
      std::vector<int16_t> logits(static_cast<size_t>(L));
      std::vector<uint8_t> keep(static_cast<size_t>(L), 1), prob(static_cast<size_t>(L));
      for (int j = 0; j < L; ++j) {
        int64_t s = 0;
        for (int e = 0; e < dh; ++e) s += r.q[static_cast<size_t>(i) * D + h * dh + e] * r.k[static_cast<size_t>(j) * D + h * dh + e];
        logits[static_cast<size_t>(j)] = static_cast<int16_t>(clampv(rq_div(s, qp.qk[h]), -32768, 32767));
      }
      isoftmax_row(logits.data(), keep.data(), L, prob.data());
      for (int e = 0; e < dh; ++e) {
        int64_t s = 0;
        for (int j = 0; j < L; ++j) s += prob[static_cast<size_t>(j)] * r.v[static_cast<size_t>(j) * D + h * dh + e];
        r.attn[static_cast<size_t>(i) * D + h * dh + e] = clampv(rq_div(s, qp.av[h * dh + e]), -128, 127);
      }
    }
  }
  r.oproj = requant_all(matmul(r.attn, L, D, c.w.wo, c.w.bo), D, qp.oproj, -32768, 32767);
  r.ln1.assign(static_cast<size_t>(L) * D, 0);
  r.ln1r.assign(static_cast<size_t>(L) * D, 0);
  std::vector<int32_t> resid(static_cast<size_t>(D)), norm(static_cast<size_t>(D));
  std::vector<int8_t> row(static_cast<size_t>(D));
  for (int i = 0; i < L; ++i) {
    for (int d = 0; d < D; ++d)
      resid[static_cast<size_t>(d)] = static_cast<int32_t>((xr_in ? int64_t{(*xr_in)(i, d)} : x[static_cast<size_t>(i) * D + d] * 16) +
                                                           r.oproj[static_cast<size_t>(i) * D + d]);
    ilayernorm_row(resid.data(), D, qp.ln1, row.data(), norm.data());
    for (int d = 0; d < D; ++d) {
      const size_t ud = static_cast<size_t>(d);
      r.ln1[static_cast<size_t>(i) * D + d] = row[ud];
      // h1r from the normalised value n, by the spec's formula (not the unit's second output)
      const int64_t t = int64_t{norm[ud]} * qp.ln1.gamma[ud] + qp.ln1.beta[ud];
      r.ln1r[static_cast<size_t>(i) * D + d] = clampv(rq_div(t, qp.ln1r[d]), -32768, 32767);
    }
  }
  std::vector<int64_t> up = requant_all(matmul(r.ln1, L, D, c.w.w1, c.w.b1), F, qp.up, -32768, 32767);
  r.hidden.resize(up.size());
  for (size_t e = 0; e < up.size(); ++e)
    r.hidden[e] = clampv(rq_div(igelu_raw(static_cast<int16_t>(up[e])), qp.gelu[static_cast<int64_t>(e % F)]), -128, 127);
  r.ffn = requant_all(matmul(r.hidden, L, F, c.w.w2, c.w.b2), D, qp.down, -32768, 32767);
  r.out.assign(static_cast<size_t>(L) * D, 0);
  r.out_r.assign(static_cast<size_t>(L) * D, 0);
  for (int i = 0; i < L; ++i) {
    for (int d = 0; d < D; ++d)
      resid[static_cast<size_t>(d)] = static_cast<int32_t>(r.ln1r[static_cast<size_t>(i) * D + d] + r.ffn[static_cast<size_t>(i) * D + d]);
    ilayernorm_row(resid.data(), D, qp.ln2, row.data(), norm.data());
    for (int d = 0; d < D; ++d) {
      const size_t ud = static_cast<size_t>(d);
      r.out[static_cast<size_t>(i) * D + d] = row[ud];
      const int64_t t = int64_t{norm[ud]} * qp.ln2.gamma[ud] + qp.ln2.beta[ud];
      r.out_r[static_cast<size_t>(i) * D + d] = clampv(rq_div(t, qp.ln2r[d]), -32768, 32767);
    }
  }
  return r;
}

template <typename T>
bool rows_equal(const Tensor<T>& t, const std::vector<int64_t>& ref, int L) {
  const int64_t C = t.shape[1];
  for (int64_t i = 0; i < t.shape[0]; ++i)
    for (int64_t cc = 0; cc < C; ++cc) {
      const int64_t want = i < L ? ref[static_cast<size_t>(i * C + cc)] : 0;
      if (t(i, cc) != want) return false;
    }
  return true;
}

// Double-precision layer: the same real-valued computation with every rounding, saturation and
// approximation removed (exact softmax, erf GELU, LayerNorm), in the integer formats' units.
std::vector<double> float_layer(const Case& c) {
  const HwConfig& cfg = c.cfg;
  const int L = c.p.L, D = cfg.D, F = cfg.F, H = cfg.H, dh = cfg.dh();
  const LayerQuant& qp = c.w.quant;
  auto m = [](const Requant& rq) { return std::ldexp(static_cast<double>(rq.M), -rq.S); };
  auto mm = [&](const std::vector<double>& a, int K, const TensorI8& w, const std::vector<int32_t>& b,
                const RequantSet& rq) {
    const int C = static_cast<int>(w.shape[1]);
    std::vector<double> o(static_cast<size_t>(L) * C);
    for (int i = 0; i < L; ++i)
      for (int cc = 0; cc < C; ++cc) {
        double s = b[static_cast<size_t>(cc)];
        for (int d = 0; d < K; ++d) s += a[static_cast<size_t>(i) * K + d] * w(d, cc);
        o[static_cast<size_t>(i) * C + cc] = s * m(rq[cc]);
      }
    return o;
  };
  auto layernorm = [&](const std::vector<double>& r, const LnQuant& ln, const RequantSet& out) {
    std::vector<double> o(r.size());
    for (int i = 0; i < L; ++i) {
      double mean = 0, var = 0;
      for (int d = 0; d < D; ++d) mean += r[static_cast<size_t>(i) * D + d];
      mean /= D;
      for (int d = 0; d < D; ++d) var += std::pow(r[static_cast<size_t>(i) * D + d] - mean, 2);
      var = var / D + static_cast<double>(ln.eps) / (static_cast<double>(D) * D * D);
      for (int d = 0; d < D; ++d) {
        const double n = (r[static_cast<size_t>(i) * D + d] - mean) / std::sqrt(var) * 32768.0 / std::sqrt(static_cast<double>(D));
        o[static_cast<size_t>(i) * D + d] = (n * ln.gamma[static_cast<size_t>(d)] + ln.beta[static_cast<size_t>(d)]) * m(out[d]);
      }
    }
    return o;
  };
  std::vector<double> x(static_cast<size_t>(L) * D);
  for (int i = 0; i < L; ++i)
    for (int d = 0; d < D; ++d) x[static_cast<size_t>(i) * D + d] = c.x(i, d);
  const auto q = mm(x, D, c.w.wq, c.w.bq, qp.q), k = mm(x, D, c.w.wk, c.w.bk, qp.k), v = mm(x, D, c.w.wv, c.w.bv, qp.v);
  std::vector<double> attn(static_cast<size_t>(L) * D);
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < L; ++i) {
      std::vector<double> t(static_cast<size_t>(L));
      double tmax = -1e300, sum = 0;
      for (int j = 0; j < L; ++j) {
        double s = 0;
        for (int e = 0; e < dh; ++e) s += q[static_cast<size_t>(i) * D + h * dh + e] * k[static_cast<size_t>(j) * D + h * dh + e];
        t[static_cast<size_t>(j)] = s * m(qp.qk[h]) / 256.0;  // log2 units
        tmax = std::max(tmax, t[static_cast<size_t>(j)]);
      }
      for (auto& e : t) sum += (e = std::exp2(e - tmax));
      for (int e = 0; e < dh; ++e) {
        double s = 0;
        for (int j = 0; j < L; ++j) s += 256.0 * t[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j) * D + h * dh + e];
        attn[static_cast<size_t>(i) * D + h * dh + e] = s * m(qp.av[h * dh + e]);
      }
    }
  auto o = mm(attn, D, c.w.wo, c.w.bo, qp.oproj);
  for (size_t e = 0; e < o.size(); ++e) o[e] += x[e] * 16;  // xr = x * 2^4 (six-argument run_layer)
  const auto h1 = layernorm(o, qp.ln1, qp.ln1.out);
  const auto h1r = layernorm(o, qp.ln1, qp.ln1r);
  auto up = mm(h1, D, c.w.w1, c.w.b1, qp.up);
  for (size_t e = 0; e < up.size(); ++e) {
    const double xr = up[e] / 1024.0;
    up[e] = 0.5 * xr * (1.0 + std::erf(xr / std::sqrt(2.0))) * std::ldexp(1.0, kGeluOutFrac) * m(qp.gelu[static_cast<int64_t>(e % F)]);
  }
  auto f = mm(up, F, c.w.w2, c.w.b2, qp.down);
  for (size_t e = 0; e < f.size(); ++e) f[e] += h1r[e];
  return layernorm(f, qp.ln2, qp.ln2.out);
}

}  // namespace

// ------------------------------------------------------------------ dense mode

TEST_CASE("dense layer on tiny equals the independent integer reference, bit for bit") {
  for (int L : {16, 11, 1}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      Case c = make_case("tiny", L, seed);
      if (seed == 3) {  // per-channel requantisation everywhere it is allowed
        auto per_channel = [](RequantSet& s, int n, int salt) {
          std::vector<Requant> ch;
          for (int e = 0; e < n; ++e) ch.push_back(Requant{s[0].M - 37 * ((e + salt) % 9), s[0].S});
          s = RequantSet(ch);
        };
        LayerQuant& q = c.w.quant;
        per_channel(q.q, c.cfg.D, 1);
        per_channel(q.k, c.cfg.D, 2);
        per_channel(q.v, c.cfg.D, 3);
        per_channel(q.qk, c.cfg.H, 4);
        per_channel(q.av, c.cfg.D, 5);
        per_channel(q.oproj, c.cfg.D, 6);
        per_channel(q.up, c.cfg.F, 7);
        per_channel(q.gelu, c.cfg.F, 8);
        per_channel(q.down, c.cfg.D, 9);
        per_channel(q.ln1.out, c.cfg.D, 10);
        per_channel(q.ln1r, c.cfg.D, 12);
        per_channel(q.ln2r, c.cfg.D, 13);
        per_channel(q.ln2.out, c.cfg.D, 11);
      }
      CAPTURE(L);
      CAPTURE(seed);
      const LayerResult r = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
      const RefOut ref = reference_dense(c);
      CHECK(rows_equal(r.q, ref.q, L));
      CHECK(rows_equal(r.k, ref.k, L));
      CHECK(rows_equal(r.v, ref.v, L));
      CHECK(rows_equal(r.attn, ref.attn, L));
      CHECK(rows_equal(r.oproj, ref.oproj, L));
      CHECK(rows_equal(r.ln1, ref.ln1, L));
      CHECK(rows_equal(r.ln1r, ref.ln1r, L));
      CHECK(rows_equal(r.ffn_hidden, ref.hidden, L));
      CHECK(rows_equal(r.ffn_out, ref.ffn, L));
      CHECK(rows_equal(r.out, ref.out, L));
      CHECK(rows_equal(r.out_r, ref.out_r, L));
      CHECK(r.executed == r.dense);
      // An explicit INT16 residual input (not x * 16) is what residual 1 adds: random values.
      TensorI16 xr({c.cfg.N, c.cfg.D});
      std::mt19937_64 rng(seed * 7 + static_cast<uint64_t>(L));
      for (int i = 0; i < L; ++i)
        for (int d = 0; d < c.cfg.D; ++d) xr(i, d) = static_cast<int16_t>(static_cast<int>(rng() % 8001) - 4000);
      const LayerResult rx = run_layer(c.cfg, c.p, c.w, c.x, xr, nullptr, LayerSwitches::dense());
      const RefOut refx = reference_dense(c, &xr);
      CHECK(rows_equal(rx.ln1, refx.ln1, L));
      CHECK(rows_equal(rx.ln1r, refx.ln1r, L));
      CHECK(rows_equal(rx.out, refx.out, L));
      CHECK(rows_equal(rx.out_r, refx.out_r, L));
      CHECK_FALSE(rows_equal(rx.ln1, ref.ln1, L));
      CHECK(r.dense == dense_macs(c.cfg, c.p));
      CHECK(r.dense.q == int64_t{L} * 32 * 32);
      CHECK(r.dense.qk == int64_t{2} * L * L * 16);
      CHECK(r.dense.ffn_up == int64_t{L} * 32 * 64);
    }
  }
}

TEST_CASE("the reference comparison catches a planted error") {
  Case c = make_case("tiny", 16, 1);
  LayerResult r = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
  const RefOut ref = reference_dense(c);
  REQUIRE(rows_equal(r.out, ref.out, 16));
  r.out(5, 7) = static_cast<int8_t>(r.out(5, 7) ^ 1);
  CHECK_FALSE(rows_equal(r.out, ref.out, 16));
  // A changed rounding constant in one requantiser changes the layer.
  Case c2 = c;
  c2.w.quant.q = RequantSet(Requant{c.w.quant.q[0].M + 1, c.w.quant.q[0].S});
  const LayerResult r2 = run_layer(c2.cfg, c2.p, c2.w, c2.x, nullptr, LayerSwitches::dense());
  CHECK(r2.q != r.q);
}

TEST_CASE("dense layer is close to the double-precision layer (no rounding, exact softmax/GELU/LN)") {
  for (const char* name : {"tiny", "minilm"}) {
    for (uint64_t seed : {1u, 2u}) {
      Case c = make_case(name, std::string(name) == "tiny" ? 16 : 96, seed);
      const LayerResult r = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
      const std::vector<double> f = float_layer(c);
      double sum_abs = 0, max_abs = 0, dot = 0, nf = 0, ni = 0;
      std::vector<double> diffs;
      const int L = c.p.L, D = c.cfg.D;
      for (int i = 0; i < L; ++i)
        for (int d = 0; d < D; ++d) {
          const double fi = std::clamp(f[static_cast<size_t>(i) * D + d], -128.0, 127.0), qi = r.out(i, d);
          sum_abs += std::fabs(fi - qi);
          max_abs = std::max(max_abs, std::fabs(fi - qi));
          diffs.push_back(std::fabs(fi - qi));
          dot += fi * qi;
          nf += fi * fi;
          ni += qi * qi;
        }
      const double mean_abs = sum_abs / (L * D), cosine = dot / std::sqrt(nf * ni);
      std::sort(diffs.begin(), diffs.end());
      const double p999 = diffs[diffs.size() * 999 / 1000];
 MESSAGE(std::string(name) << " seed " << seed << ": output vs double layer: mean |diff| = " << mean_abs
                   << " LSB, 99.9 % = " << p999 << " LSB, max = " << max_abs << " LSB, cosine = " << cosine);
      CHECK(mean_abs <= 1.0);
      CHECK(p999 <= 6.0);
      CHECK(max_abs <= 32.0);
      CHECK(cosine >= 0.999);
    }
  }
}

TEST_CASE("synthetic weights are deterministic and keep activations in range") {
  const HwConfig cfg = config_by_name("tiny");
  const LayerWeights a = make_synthetic_weights(cfg, 7), b = make_synthetic_weights(cfg, 7),
                     d = make_synthetic_weights(cfg, 8);
  CHECK(a.wq == b.wq);
  CHECK(a.w2 == b.w2);
  CHECK(a.b1 == b.b1);
  CHECK(a.quant.ln2.beta == b.quant.ln2.beta);
  CHECK(a.wq != d.wq);
  CHECK(make_synthetic_input(cfg, 12, 3) == make_synthetic_input(cfg, 12, 3));
  for (const char* name : {"tiny", "minilm"}) {
    Case c = make_case(name, std::string(name) == "tiny" ? 16 : 128, 1);
    const LayerResult r = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
    auto check = [&](const auto& t, const char* what, double lo, double hi) {
      double s2 = 0;
      int64_t sat = 0, n = 0;
      for (int64_t i = 0; i < c.p.L; ++i)
        for (int64_t j = 0; j < t.shape[1]; ++j) {
          const double v = t(i, j);
          s2 += v * v;
          sat += (v <= lo || v >= hi) ? 1 : 0;
          ++n;
        }
      CAPTURE(name);
      CAPTURE(what);
      CHECK(static_cast<double>(sat) / n < 0.01);  // neither saturate...
      CHECK(std::sqrt(s2 / n) > 8.0);               // ...nor vanish
    };
    check(r.q, "q", -128, 127);
    check(r.k, "k", -128, 127);
    check(r.v, "v", -128, 127);
    check(r.attn, "attn", -128, 127);
    check(r.oproj, "oproj", -32768, 32767);
    check(r.ln1r, "ln1r", -32768, 32767);
    check(r.ln1, "ln1", -128, 127);
    check(r.ffn_hidden, "ffn_hidden", -128, 127);
    check(r.ffn_out, "ffn_out", -32768, 32767);
    check(r.out, "out", -128, 127);
    check(r.out_r, "out_r", -32768, 32767);
  }
}

TEST_CASE("padding rows: outputs are zero and the content of x beyond L is never read") {
  Case c = make_case("tiny", 9, 4);
  const LayerResult r = run_layer(c.cfg, c.p, c.w, c.x, &c.spls, LayerSwitches::esact());
  const LayerResult d = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
  TensorI8 poisoned = c.x;
  std::mt19937 rng(1);
  for (int i = 9; i < c.cfg.N; ++i)
    for (int dd = 0; dd < c.cfg.D; ++dd) poisoned(i, dd) = static_cast<int8_t>(rng());
  const LayerResult rp = run_layer(c.cfg, c.p, c.w, poisoned, &c.spls, LayerSwitches::esact());
  const LayerResult dp = run_layer(c.cfg, c.p, c.w, poisoned, nullptr, LayerSwitches::dense());
  CHECK(rp.out == r.out);
  CHECK(dp.out == d.out);
  CHECK(dp.probs == d.probs);
  for (int i = 9; i < c.cfg.N; ++i)
    for (int dd = 0; dd < c.cfg.D; ++dd) {
      CHECK(d.out(i, dd) == 0);
      CHECK(d.q(i, dd) == 0);
    }
  for (int h = 0; h < c.cfg.H; ++h)
    for (int i = 0; i < 9; ++i)
      for (int j = 9; j < c.cfg.N; ++j) CHECK(d.probs(h, i, j) == 0);
}

TEST_CASE("causal masking: no probability above the diagonal") {
  Case c = make_case("tiny", 16, 5);
  c.p.causal = true;
  const LayerResult d = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
  for (int h = 0; h < c.cfg.H; ++h)
    for (int i = 0; i < 16; ++i) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) {
        if (j > i) CHECK(d.probs(h, i, j) == 0);
        sum += d.probs(h, i, j);
      }
      CHECK(std::abs(sum - 256) <= i / 2 + 2);
    }
  CHECK(d.dense.qk == int64_t{2} * (16 * 17 / 2) * 16);
  CHECK(d.executed == d.dense);
}

// ------------------------------------------------------------------ ESACT mode

TEST_CASE("ESACT mode with every switch off equals dense") {
  for (const char* name : {"tiny", "minilm"}) {
    Case c = make_case(name, std::string(name) == "tiny" ? 14 : 100, 3);
    const LayerResult d = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
    const LayerResult e = run_layer(c.cfg, c.p, c.w, c.x, &c.spls, LayerSwitches{});
    CHECK(e.out == d.out);
    CHECK(e.out_r == d.out_r);
    CHECK(e.q == d.q);
    CHECK(e.k == d.k);
    CHECK(e.v == d.v);
    CHECK(e.probs == d.probs);
    CHECK(e.attn == d.attn);
    CHECK(e.oproj == d.oproj);
    CHECK(e.ln1 == d.ln1);
    CHECK(e.ln1r == d.ln1r);
    CHECK(e.ffn_hidden == d.ffn_hidden);
    CHECK(e.ffn_out == d.ffn_out);
    CHECK(e.executed == d.dense);
  }
}

TEST_CASE("ESACT mode with every switch on counts exactly the MACs of spec section 8") {
  for (const char* name : {"tiny", "minilm"}) {
    for (int vote : {-1, 1}) {
      Case c = make_case(name, std::string(name) == "tiny" ? 16 : 128, 6, vote);
      const LayerResult e = run_layer(c.cfg, c.p, c.w, c.x, &c.spls, LayerSwitches::esact());
      const MacCounts m = e.executed.as_spls(), s = c.spls.counters.executed, dn = c.spls.counters.dense;
      CAPTURE(name);
      CAPTURE(vote);
      CHECK(m.q == s.q);
      CHECK(m.kv == s.kv);
      CHECK(m.qk == s.qk);
      CHECK(m.av == s.av);
      CHECK(m.oproj == s.oproj);
      CHECK(m.ffn == s.ffn);
      const MacCounts ed = e.dense.as_spls();
      CHECK(ed.q == dn.q);
      CHECK(ed.kv == dn.kv);
      CHECK(ed.qk == dn.qk);
      CHECK(ed.oproj == dn.oproj);
      CHECK(ed.ffn == dn.ffn);
      CHECK(e.executed.k == e.executed.v);
      CHECK(e.executed.total() < e.dense.total());
    }
  }
}

TEST_CASE("each ESACT switch alone changes only what it should and counts fewer MACs") {
  // Vote 1 gives many token-followers on tiny, so the reuse switches have work to skip.
  Case c = make_case("tiny", 16, 2, 1);
  const HwConfig& cfg = c.cfg;
  const int L = c.p.L, H = cfg.H, dh = cfg.dh(), D = cfg.D;
  const LayerResult d = run_layer(cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
  REQUIRE(c.spls.counters.head_followers > 0);
  REQUIRE(c.spls.counters.token_followers > 0);
  REQUIRE(c.spls.counters.kv_rows_skipped > 0);
  auto is_follower = [&](int h, int i) { return c.spls.rep(h, i) != i; };
  auto is_token_follower = [&](int i) { return c.spls.token_rep.data[static_cast<size_t>(i)] != i; };
  auto head_slice_equal = [&](const TensorI8& a, const TensorI8& b, int i, int h) {
    for (int e = 0; e < dh; ++e)
      if (a(i, h * dh + e) != b(i, h * dh + e)) return false;
    return true;
  };

  SUBCASE("skip_q: follower Q rows are not generated; everything up to QK^T else unchanged") {
    LayerSwitches sw;
    sw.skip_q = true;
    const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
    CHECK(e.k == d.k);
    CHECK(e.v == d.v);
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < L; ++i) {
        CHECK(e.q_generated(h, i) == (is_follower(h, i) ? 0 : 1));
        if (!is_follower(h, i)) {
          CHECK(head_slice_equal(e.q, d.q, i, h));
          CHECK(head_slice_equal(e.attn, d.attn, i, h));  // representatives: same attention
        } else {
          for (int ee = 0; ee < dh; ++ee) CHECK(e.q(i, h * dh + ee) == 0);
        }
      }
    CHECK(e.executed.q == d.dense.q - c.spls.counters.head_followers * D * dh);
    CHECK(e.executed.k == d.dense.k);
    CHECK(e.executed.qk == d.dense.qk);
    CHECK(e.executed.av == d.dense.av);
    CHECK(e.executed.oproj == d.dense.oproj);
    CHECK(e.executed.ffn_up == d.dense.ffn_up);
    CHECK(e.attn != d.attn);  // followers attend with r's query
  }
  SUBCASE("skip_kv: only rows outside kv_needed are dropped, from K, V and the column sets") {
    LayerSwitches sw;
    sw.skip_kv = true;
    const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
    CHECK(e.q == d.q);
    int64_t kept = 0;
    for (int h = 0; h < H; ++h)
      for (int j = 0; j < L; ++j) {
        const bool need = c.spls.kv_needed(h, j) != 0;
        kept += need ? 1 : 0;
        CHECK(e.kv_generated(h, j) == (need ? 1 : 0));
        if (need) {
          CHECK(head_slice_equal(e.k, d.k, j, h));
          CHECK(head_slice_equal(e.v, d.v, j, h));
        }
        for (int i = 0; i < L; ++i)
          if (!need) CHECK(e.probs(h, i, j) == 0);
      }
    CHECK(e.executed.k == kept * D * dh);
    CHECK(e.executed.k < d.dense.k);
    CHECK(e.executed.qk == kept * L * dh);  // every row attends to the kept columns
    CHECK(e.executed.q == d.dense.q);
    CHECK(e.executed.oproj == d.dense.oproj);
  }
  SUBCASE("topk_attn: QKV unchanged, probabilities only on each row's top-k columns") {
    LayerSwitches sw;
    sw.topk_attn = true;
    const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
    CHECK(e.q == d.q);
    CHECK(e.k == d.k);
    CHECK(e.v == d.v);
    int64_t pairs = 0;
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < L; ++i) {
        int sum = 0;
        for (int j = 0; j < L; ++j) {
          pairs += c.spls.topk_mask(h, i, j);
          if (!c.spls.topk_mask(h, i, j)) CHECK(e.probs(h, i, j) == 0);
          sum += e.probs(h, i, j);
        }
        CHECK(std::abs(sum - 256) <= 4);  // k = 4 columns: within k/2 + 1 + saturation
      }
    CHECK(e.executed.qk == pairs * dh);
    CHECK(e.executed.qk < d.dense.qk);
    CHECK(e.executed.oproj == d.dense.oproj);
  }
  SUBCASE("reuse_attn: follower rows copy their representative, representatives unchanged") {
    LayerSwitches sw;
    sw.reuse_attn = true;
    const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
    CHECK(e.q == d.q);
    CHECK(e.k == d.k);
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < L; ++i) {
        const int r = c.spls.rep(h, i);
        CHECK(e.attn_computed(h, i) == (r == i ? 1 : 0));
        CHECK(head_slice_equal(e.attn, d.attn, r, h));
        for (int ee = 0; ee < dh; ++ee) CHECK(e.attn(i, h * dh + ee) == d.attn(r, h * dh + ee));
      }
    CHECK(e.executed.qk == d.dense.qk - c.spls.counters.head_followers * L * dh);
    CHECK(e.executed.q == d.dense.q);
    CHECK(e.executed.ffn_up == d.dense.ffn_up);
  }
  SUBCASE("reuse_oproj: token-followers reuse r's projection; attention and LN inputs otherwise dense") {
    LayerSwitches sw;
    sw.reuse_oproj = true;
    const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
    CHECK(e.attn == d.attn);
    bool any_ln_change = false;
    for (int i = 0; i < L; ++i) {
      const int t = c.spls.token_rep.data[static_cast<size_t>(i)];
      for (int dd = 0; dd < D; ++dd) {
        CHECK(e.oproj(i, dd) == d.oproj(t, dd));
        if (!is_token_follower(i)) CHECK(e.ln1(i, dd) == d.ln1(i, dd));
        any_ln_change = any_ln_change || e.ln1(i, dd) != d.ln1(i, dd);
      }
    }
    CHECK(any_ln_change);  // the residual uses the follower's own x: LN still runs per token
    CHECK(e.executed.oproj == d.dense.oproj - c.spls.counters.token_followers * D * D);
    CHECK(e.executed.ffn_up == d.dense.ffn_up);
    CHECK(e.executed.qk == d.dense.qk);
  }
  SUBCASE("reuse_ffn: token-followers reuse r's FFN branch; everything before it is dense") {
    LayerSwitches sw;
    sw.reuse_ffn = true;
    const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
    CHECK(e.ln1 == d.ln1);
    CHECK(e.ln1r == d.ln1r);
    CHECK(e.oproj == d.oproj);
    for (int i = 0; i < L; ++i) {
      const int t = c.spls.token_rep.data[static_cast<size_t>(i)];
      for (int dd = 0; dd < D; ++dd) CHECK(e.ffn_out(i, dd) == d.ffn_out(t, dd));
      for (int f = 0; f < cfg.F; ++f) CHECK(e.ffn_hidden(i, f) == (is_token_follower(i) ? 0 : d.ffn_hidden(i, f)));
      if (!is_token_follower(i))
        for (int dd = 0; dd < D; ++dd) CHECK(e.out(i, dd) == d.out(i, dd));
    }
    CHECK(e.executed.ffn_up == d.dense.ffn_up - c.spls.counters.token_followers * D * cfg.F);
    CHECK(e.executed.ffn_down == e.executed.ffn_up);
    CHECK(e.executed.oproj == d.dense.oproj);
  }
}

TEST_CASE("poisoned K/V rows outside kv_needed and skipped Q rows never change the attention") {
  for (const char* name : {"tiny", "minilm"}) {
    // minilm with rho = 0.062 (k = 8): at the default k = 30 every K/V row is needed by someone.
    const bool tiny = std::string(name) == "tiny";
    Case c = make_case(name, tiny ? 16 : 120, 9, -1, tiny ? -1 : 62);
    const HwConfig& cfg = c.cfg;
    const int dh = cfg.dh();
    for (LayerSwitches sw : {LayerSwitches::esact(), LayerSwitches{true, true, false, false, false, false}}) {
      CAPTURE(name);
      const LayerResult e = run_layer(cfg, c.p, c.w, c.x, &c.spls, sw);
      REQUIRE(c.spls.counters.kv_rows_skipped > 0);
      TensorI8 q = e.q, k = e.k, v = e.v;
      std::mt19937 rng(77);
      int poisoned = 0;
      for (int h = 0; h < cfg.H; ++h)
        for (int j = 0; j < c.p.L; ++j) {
          if (!e.kv_generated(h, j)) {
            for (int ee = 0; ee < dh; ++ee) {
              CHECK(e.k(j, h * dh + ee) == 0);  // not generated
              k(j, h * dh + ee) = static_cast<int8_t>(rng() | 1);
              v(j, h * dh + ee) = static_cast<int8_t>(rng() | 1);
            }
            ++poisoned;
          }
          if (!e.q_generated(h, j))
            for (int ee = 0; ee < dh; ++ee) q(j, h * dh + ee) = static_cast<int8_t>(rng() | 1);
        }
      REQUIRE(poisoned > 0);
      LayerResult again;
      attention(cfg, c.p, c.w.quant, q, k, v, &c.spls, sw, again);
      CAPTURE(name);
      CHECK(again.attn == e.attn);
      CHECK(again.probs == e.probs);
      CHECK(again.executed.qk == e.executed.qk);
      // The test can fail: poisoning a row that is read (the kv_needed rows of head 0) does change it.
      for (int j = 0; j < c.p.L; ++j)
        if (c.spls.kv_needed(0, j))
          for (int ee = 0; ee < dh; ++ee) v(j, ee) = static_cast<int8_t>(v(j, ee) ^ 0x55);
      LayerResult planted;
      attention(cfg, c.p, c.w.quant, q, k, v, &c.spls, sw, planted);
      CHECK(planted.attn != e.attn);
    }
  }
}

TEST_CASE("run_layer rejects switches without SPLS and illegal parameters") {
  Case c = make_case("tiny", 16, 1);
  LayerSwitches sw;
  sw.reuse_ffn = true;
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, c.w, c.x, nullptr, sw), std::invalid_argument);
  LayerWeights bad = c.w;
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, c.w, c.x, TensorI16({c.cfg.N, c.cfg.D + 1}), nullptr, LayerSwitches{}),
                  std::invalid_argument);  // xr of the wrong shape
  bad.quant.ln2r = RequantSet(std::vector<Requant>(3));
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, bad, c.x, nullptr, LayerSwitches{}), std::invalid_argument);
  bad = c.w;
  bad = c.w;
  bad.quant.qk = RequantSet(std::vector<Requant>(3));
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, bad, c.x, nullptr, LayerSwitches{}), std::invalid_argument);
  bad = c.w;
  bad.bq[0] = (1 << 30) + 1;
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, bad, c.x, nullptr, LayerSwitches{}), std::invalid_argument);
  bad = c.w;
  bad.quant.ln1.eps = 0;
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, bad, c.x, nullptr, LayerSwitches{}), std::invalid_argument);
  SplsResult broken = c.spls;
  broken.rep(0, 5) = 6;  // points forward
  CHECK_THROWS_AS(run_layer(c.cfg, c.p, c.w, c.x, &broken, LayerSwitches::esact()), std::invalid_argument);
}

TEST_CASE("minilm shape: dense and ESACT layer timing") {
  Case c = make_case("minilm", 128, 1);
  const auto t0 = std::chrono::steady_clock::now();
  const LayerResult d = run_layer(c.cfg, c.p, c.w, c.x, nullptr, LayerSwitches::dense());
  const auto t1 = std::chrono::steady_clock::now();
  const LayerResult e = run_layer(c.cfg, c.p, c.w, c.x, &c.spls, LayerSwitches::esact());
  const auto t2 = std::chrono::steady_clock::now();
  MESSAGE("minilm layer: dense " << std::chrono::duration<double>(t1 - t0).count() << " s, ESACT "
                                 << std::chrono::duration<double>(t2 - t1).count() << " s; MAC reduction "
                                 << 1.0 - static_cast<double>(e.executed.total()) / e.dense.total());
  CHECK(d.executed == d.dense);
  CHECK(e.executed.total() < d.executed.total());
}
