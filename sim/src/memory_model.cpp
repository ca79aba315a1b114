#include "esact/sim/memory_model.h"

#include <stdexcept>

namespace esact::sim {

namespace {

constexpr int kSegs = 25;

// Words of each parameter segment, in image order (docs/spec.md section 22).
uint64_t seg_words(const HwConfig& c, int s) {
  const uint64_t W = static_cast<uint64_t>(c.mac_cols), D = c.D, F = c.F, H = c.H;
  switch (s) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: return D * 4 / W;
    case 8: case 9: case 10: return F * 4 / W;
    case 11: case 12: return D * 4 / W;
    case 13: return (H * 4 + W - 1) / W;
    case 14: return D * 4 / W;
    case 15: case 19: return D * 2 / W;
    case 16: case 17: case 20: case 21: return D * 4 / W;
    case 23: case 24: return D * 4 / W;  // LN1, LN2 residual-copy requantisers
    default: return 1;  // 18, 22: eps
  }
}

void put32(std::vector<uint8_t>& img, uint64_t byte, uint32_t v) {
  for (int b = 0; b < 4; ++b) img[byte + b] = static_cast<uint8_t>(v >> (8 * b));
}

uint32_t rq_word(const Requant& r) { return static_cast<uint32_t>(r.M) | (static_cast<uint32_t>(r.S) << 16); }

}  // namespace

LayerImageLayout layer_image_layout(const HwConfig& cfg) {
  const int W = cfg.mac_cols;
  if (W % 8 != 0 || cfg.dh() % W != 0 || cfg.N % W != 0 || cfg.F % W != 0)
    throw std::invalid_argument("configuration '" + cfg.name +
                                "': the layer memory layout needs MAC_COLS a multiple of 8 dividing dh, N and F");
  LayerImageLayout l;
  l.word_bytes = W;
  l.x_base = 0;
  l.param_base = static_cast<uint64_t>(cfg.N) * 3 * cfg.D / W;  // X rows of 3 D bytes
  uint64_t a = l.param_base;
  for (int s = 0; s < kSegs; ++s) {
    l.seg_start.push_back(a);
    a += seg_words(cfg, s);
  }
  l.seg_start.push_back(a);
  l.weight_base = a;
  const uint64_t DD = static_cast<uint64_t>(cfg.D) * cfg.D / W, DF = static_cast<uint64_t>(cfg.D) * cfg.F / W;
  for (int m = 0; m < 4; ++m) l.weight_matrix_base[m] = a + m * DD;
  l.weight_matrix_base[4] = a + 4 * DD;
  l.weight_matrix_base[5] = a + 4 * DD + DF;
  l.words = a + 4 * DD + 2 * DF;
  return l;
}

std::vector<uint8_t> build_layer_image(const HwConfig& cfg, const LayerWeights& w, const TensorI8& x,
                                       const TensorI16& xr) {
  const LayerImageLayout l = layer_image_layout(cfg);
  const uint64_t W = static_cast<uint64_t>(l.word_bytes);
  const int D = cfg.D, F = cfg.F, H = cfg.H;
  std::vector<uint8_t> img(l.words * W, 0);
  if (xr.shape != x.shape) throw std::invalid_argument("build_layer_image: xr must have the shape of x");
  for (int i = 0; i < cfg.N; ++i)
    for (int d = 0; d < D; ++d) {
      const uint64_t row = static_cast<uint64_t>(i) * 3 * D;
      img[row + d] = static_cast<uint8_t>(x(i, d));
      const uint16_t v = static_cast<uint16_t>(xr(i, d));
      img[row + D + 2 * d] = static_cast<uint8_t>(v);
      img[row + D + 2 * d + 1] = static_cast<uint8_t>(v >> 8);
    }
  const LayerQuant& q = w.quant;
  auto seg = [&](int s) { return l.seg_start[static_cast<size_t>(s)] * W; };
  const std::vector<int32_t>* biases[4] = {&w.bq, &w.bk, &w.bv, &w.bo};
  const RequantSet* rqs[4] = {&q.q, &q.k, &q.v, &q.oproj};
  for (int m = 0; m < 4; ++m)
    for (int c = 0; c < D; ++c) {
      put32(img, seg(2 * m) + 4 * c, static_cast<uint32_t>((*biases[m])[static_cast<size_t>(c)]));
      put32(img, seg(2 * m + 1) + 4 * c, rq_word((*rqs[m])[c]));
    }
  for (int f = 0; f < F; ++f) {
    put32(img, seg(8) + 4 * f, static_cast<uint32_t>(w.b1[static_cast<size_t>(f)]));
    put32(img, seg(9) + 4 * f, rq_word(q.up[f]));
    put32(img, seg(10) + 4 * f, rq_word(q.gelu[f]));
  }
  for (int c = 0; c < D; ++c) {
    put32(img, seg(11) + 4 * c, static_cast<uint32_t>(w.b2[static_cast<size_t>(c)]));
    put32(img, seg(12) + 4 * c, rq_word(q.down[c]));
    put32(img, seg(14) + 4 * c, rq_word(q.av[c]));
  }
  for (int h = 0; h < H; ++h) put32(img, seg(13) + 4 * h, rq_word(q.qk[h]));
  const LnQuant* lns[2] = {&q.ln1, &q.ln2};
  for (int e = 0; e < 2; ++e) {
    const int s0 = 15 + 4 * e;
    for (int c = 0; c < D; ++c) {
      const uint16_t g = static_cast<uint16_t>(lns[e]->gamma[static_cast<size_t>(c)]);
      img[seg(s0) + 2 * c] = static_cast<uint8_t>(g);
      img[seg(s0) + 2 * c + 1] = static_cast<uint8_t>(g >> 8);
      put32(img, seg(s0 + 1) + 4 * c, static_cast<uint32_t>(lns[e]->beta[static_cast<size_t>(c)]));
      put32(img, seg(s0 + 2) + 4 * c, rq_word(lns[e]->out[c]));
    }
    const uint64_t eps = static_cast<uint64_t>(lns[e]->eps);
    put32(img, seg(s0 + 3), static_cast<uint32_t>(eps));
    put32(img, seg(s0 + 3) + 4, static_cast<uint32_t>(eps >> 32));
  }
  for (int c = 0; c < D; ++c) {
    put32(img, seg(23) + 4 * c, rq_word(q.ln1r[c]));
    put32(img, seg(24) + 4 * c, rq_word(q.ln2r[c]));
  }
  const TensorI8* mats[6] = {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2};
  for (int m = 0; m < 6; ++m) {
    const TensorI8& t = *mats[m];
    const int64_t K = t.shape[0], cols = t.shape[1];
    for (int64_t ct = 0; ct < cols / static_cast<int64_t>(W); ++ct)
      for (int64_t k = 0; k < K; ++k)
        for (uint64_t c = 0; c < W; ++c)
          img[(l.weight_matrix_base[m] + static_cast<uint64_t>(ct * K + k)) * W + c] =
              static_cast<uint8_t>(t(k, ct * static_cast<int64_t>(W) + static_cast<int64_t>(c)));
  }
  return img;
}

}  // namespace esact::sim
