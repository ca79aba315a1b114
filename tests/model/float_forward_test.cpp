// Float building blocks against hand-computed values, and masking on a small random BERT.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "esact/model/float_forward.h"

using namespace esact::model;

TEST_CASE("float ops: GELU, LayerNorm, softmax, linear, pooling") {
  CHECK(float_ops::gelu_erf(0.0f) == 0.0f);
  CHECK(float_ops::gelu_erf(1.0f) == doctest::Approx(0.8413447460685429).epsilon(1e-6));   // Phi(1)
  CHECK(float_ops::gelu_erf(-1.0f) == doctest::Approx(-0.15865525393145707).epsilon(1e-6));
  CHECK(float_ops::gelu_erf(2.0f) == doctest::Approx(1.9544997361036416).epsilon(1e-6));

  float x[4] = {1, 2, 3, 4};
  LayerNormWeights ln{{1, 1, 2, 1}, {0, 0, 0, 1}};
  float_ops::layer_norm(x, 1, 4, ln, 1e-12f);
  // mean 2.5, variance 1.25
  const double s = std::sqrt(1.25);
  CHECK(x[0] == doctest::Approx(-1.5 / s));
  CHECK(x[1] == doctest::Approx(-0.5 / s));
  CHECK(x[2] == doctest::Approx(2 * 0.5 / s));
  CHECK(x[3] == doctest::Approx(1.5 / s + 1));

  float row[2] = {0.0f, std::log(2.0f)};
  float_ops::softmax(row, 2);
  CHECK(row[0] == doctest::Approx(1.0 / 3));
  CHECK(row[1] == doctest::Approx(2.0 / 3));

  // W = [[1, 2], [3, 4], [5, 6]] (out 3, in 2), transposed [in][out]; many outputs exercise the
  // 16-wide blocks and the remainder.
  const float wt[6] = {1, 3, 5, 2, 4, 6};
  const float b[3] = {0.5f, 0, -1};
  const float in[4] = {1, 1, 2, -1};
  float y[6];
  float_ops::linear(in, 2, 2, wt, b, 3, y);
  CHECK(std::vector<float>(y, y + 6) == std::vector<float>{3.5f, 7, 10, 0.5f, 2, 3});
  std::vector<float> big_w(2 * 37), big_y(37);
  for (size_t i = 0; i < big_w.size(); ++i) big_w[i] = static_cast<float>(i);
  float_ops::linear(in, 1, 2, big_w.data(), nullptr, 37, big_y.data());
  for (size_t o = 0; o < 37; ++o) CHECK(big_y[o] == static_cast<float>(o + 37 + o));

  const float hidden[6] = {1, 2, 3, 4, 100, 100};
  CHECK(float_ops::mean_pool(hidden, 3, 2, {1, 1, 0}) == std::vector<float>{2, 3});
  std::vector<float> v{3, 4};
  float_ops::l2_normalize(v);
  CHECK(v == std::vector<float>{0.6f, 0.8f});
}

namespace {

BertWeights random_bert(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  auto fill = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
  };
  BertWeights w;
  w.config = BertConfig{20, 8, 2, 2, 16, 16, 2, 1e-12};
  const size_t d = 8, f = 16;
  auto linear = [&](size_t out, size_t in) { return LinearWeights{static_cast<int64_t>(out), static_cast<int64_t>(in), fill(out * in), fill(out)}; };
  auto norm = [&] {
    LayerNormWeights n{fill(d), fill(d)};
    for (float& g : n.gamma) g += 1.0f;
    return n;
  };
  w.word_embeddings = fill(20 * d);
  w.position_embeddings = fill(16 * d);
  w.token_type_embeddings = fill(2 * d);
  w.embedding_norm = norm();
  for (int l = 0; l < 2; ++l) {
    w.layers.push_back(BertLayerWeights{linear(d, d), linear(d, d), linear(d, d), linear(d, d), norm(),
                                        linear(f, d), linear(d, f), norm()});
  }
  return w;
}

}  // namespace

TEST_CASE("float forward: padding is invisible and tokens matter") {
  const BertWeights w = random_bert(7);
  const FloatBertEncoder encoder(w);
  Encoding short_enc{{2, 5, 9, 3}, {0, 0, 0, 0}, {1, 1, 1, 1}, 4};
  Encoding padded{{2, 5, 9, 3, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 0, 0, 0}, 4};
  const auto a = encoder.embed(short_enc);
  const auto b = encoder.embed(padded);
  REQUIRE(a.size() == 8);
  double norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
    norm += a[i] * a[i];
  }
  CHECK(norm == doctest::Approx(1.0));
  Encoding other{{2, 6, 9, 3}, {0, 0, 0, 0}, {1, 1, 1, 1}, 4};
  const auto c = encoder.embed(other);
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += std::fabs(a[i] - c[i]);
  CHECK(diff > 1e-3);

  int calls = 0;
  encoder.hidden_states(short_enc, [&](int layer, const float*, size_t rows, size_t dim) {
    CHECK(layer == calls - 1);
    CHECK(rows == 4);
    CHECK(dim == 8);
    ++calls;
  });
  CHECK(calls == 3);

  Encoding bad_id{{2, 20, 3}, {0, 0, 0}, {1, 1, 1}, 3};
  CHECK_THROWS_AS(encoder.embed(bad_id), std::invalid_argument);
  Encoding too_long{std::vector<int32_t>(17, 2), std::vector<int32_t>(17, 0), std::vector<int32_t>(17, 1), 17};
  CHECK_THROWS_AS(encoder.embed(too_long), std::invalid_argument);
}
