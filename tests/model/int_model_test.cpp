// Tests of the quantised integer forward on the real all-MiniLM-L6-v2 (label "model": they fail when
// the model from ci/fetch-model is missing). Expected values come from independent paths: the float
// reference forward, the layer-by-layer golden calls made here, and the closed-form dense MAC count.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "esact/model/float_forward.h"
#include "esact/model/int_encoder.h"
#include "esact/model/quantize.h"
#include "esact/model/stats.h"
#include "esact/model/stsb.h"
#include "test_util.h"

using namespace esact;
using namespace esact::model;

#ifndef ESACT_DATA_DIR
#error "ESACT_DATA_DIR must be defined"
#endif

namespace {

struct Fixture {
  std::string dir;
  WordPieceTokenizer tokenizer;
  BertWeights weights;
  QuantizedBert quant;
  std::vector<std::string> dev_sentences;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    const std::string d = test::model_dir();
    if (!std::ifstream(d + "/model.safetensors") || !std::ifstream(d + "/vocab.txt"))
      throw std::runtime_error("model not found in '" + d + "': run ci/fetch-model (or set ESACT_MODEL_DIR)");
    WordPieceTokenizer tok = WordPieceTokenizer::from_vocab_file(d + "/vocab.txt");
    BertWeights w = BertWeights::load(d);
    const HwConfig cfg = config_by_name("minilm");
    std::string desc;
    const auto calib = calibration_sentences(stsb_path(ESACT_DATA_DIR, "train"), 128, &desc);
    EncodeOptions eo;
    eo.max_length = static_cast<size_t>(cfg.N);
    std::vector<Encoding> enc;
    for (const auto& s : calib) enc.push_back(tok.encode(s, eo));
    CalibrationStats st = calibrate(w, enc, 0);
    st.source = desc;
    QuantizedBert q = quantize(w, st, cfg);
    // Dev sentences: every 50th pair, both sentences (a spread of lengths and genres).
    std::vector<std::string> dev;
    const auto pairs = read_stsb(stsb_path(ESACT_DATA_DIR, "dev"));
    for (size_t i = 0; i < pairs.size(); i += 50) {
      dev.push_back(pairs[i].sentence1);
      dev.push_back(pairs[i].sentence2);
    }
    return Fixture{d, std::move(tok), std::move(w), std::move(q), std::move(dev)};
  }();
  return f;
}

Encoding encode(const std::string& s) {
  EncodeOptions eo;
  eo.max_length = 128;
  return fixture().tokenizer.encode(s, eo);
}

// Dense MACs of one layer for L tokens, written out from the component definitions.
int64_t dense_layer_macs(int64_t L) {
  const int64_t D = 384, F = 1536, H = 12, dh = 32;
  return 3 * L * D * D + 2 * H * L * L * dh + L * D * D + 2 * L * D * F;
}

}  // namespace

TEST_SUITE("int_model") {
  TEST_CASE("quantised model: shapes, per-channel scales, residual shifts") {
    const QuantizedBert& q = fixture().quant;
    REQUIRE(q.layers.size() == 6);
    for (const LayerWeights& l : q.layers) {
      CHECK_NOTHROW(l.validate(q.cfg));
      CHECK(l.quant.q.ch.size() == 384);     // per output channel
      CHECK(l.quant.qk.ch.size() == 12);     // per head
      CHECK(l.quant.gelu.ch.size() == 1536);
      // Every weight column uses its range: per-channel absmax maps to +-127.
      int max_abs = 0;
      for (int8_t v : l.wq.data) max_abs = std::max(max_abs, std::abs(static_cast<int>(v)));
      CHECK(max_abs == 127);
    }
    CHECK(q.in_scale.size() == 6);
    CHECK(q.out_scale > 0.0);
  }

  // INT8 dense vs float sentence embeddings over the dev sample: {worst, mean} cosine.
  std::pair<double, double> int8_vs_float_cosine() {
    const Fixture& f = fixture();
    FloatBertEncoder fl(f.weights);
    IntBertEncoder dense(f.weights, f.quant, IntMode::kDense);
    double worst = 1.0, sum = 0.0;
    for (const std::string& s : f.dev_sentences) {
      const Encoding e = encode(s);
      const double c = cosine(fl.embed(e), dense.embed(e));
      worst = std::min(worst, c);
      sum += c;
    }
    MESSAGE("INT8 vs float over " << f.dev_sentences.size() << " dev sentences: worst cosine " << worst << ", mean "
                                  << sum / static_cast<double>(f.dev_sentences.size()));
    REQUIRE(f.dev_sentences.size() >= 50);
    // And not trivially: different sentences stay apart.
    const double cross = cosine(dense.embed(encode(f.dev_sentences[0])), dense.embed(encode(f.dev_sentences[7])));
    CHECK(cross < 0.9);
    return {worst, sum / static_cast<double>(f.dev_sentences.size())};
  }

  // Regression guard: the mean the current format and quantisation reach (measured worst 0.9908,
  // mean 0.9943; docs/model-eval.md), so a change that loses accuracy fails CI.
  TEST_CASE("INT8 dense embeddings stay close to float: regression guard (cosine mean >= 0.994)") {
    const auto [worst, mean] = int8_vs_float_cosine();
    (void)worst;
    CHECK(mean >= 0.994);
  }

  // Issue 3's target: every sentence's INT8 embedding within cosine 0.99 of the float one (met since
  // the INT16 residual copies of LN1 and LN2, spec section 15; was 0.974 with INT8 skip operands).
  TEST_CASE("INT8 dense embeddings target: cosine worst >= 0.99 (issue 3)") {
    const auto [worst, mean] = int8_vs_float_cosine();
    (void)mean;
    CHECK(worst >= 0.99);
  }

  TEST_CASE("ESACT with every skip off is bit-identical to dense") {
    const Fixture& f = fixture();
    IntBertEncoder dense(f.weights, f.quant, IntMode::kDense);
    EsactSettings off = EsactSettings::from_config(f.quant.cfg);
    off.switches = LayerSwitches::dense();
    IntBertEncoder esact_off(f.weights, f.quant, IntMode::kEsact, off);
    for (size_t i = 0; i < 12; ++i) {
      const Encoding e = encode(f.dev_sentences[i]);
      IntBertEncoder::Trace td, te;
      const auto a = dense.embed_traced(e, &td);
      const auto b = esact_off.embed_traced(e, &te);
      CHECK(a == b);
      REQUIRE(td.inputs.size() == te.inputs.size());
      for (size_t l = 0; l < td.inputs.size(); ++l) {
        CHECK(td.inputs[l] == te.inputs[l]);
        CHECK(td.inputs_r[l] == te.inputs_r[l]);
      }
      CHECK(td.output == te.output);
      for (size_t l = 0; l < td.layers.size(); ++l) CHECK(te.layers[l].executed == te.layers[l].dense);
    }
    // With the skips on, the forward does differ (the switches reach run_layer).
    IntBertEncoder esact_on(f.weights, f.quant, IntMode::kEsact, EsactSettings::from_config(f.quant.cfg));
    bool any_diff = false;
    for (size_t i = 0; i < 12 && !any_diff; ++i) {
      const Encoding e = encode(f.dev_sentences[i]);
      any_diff = dense.embed(e) != esact_on.embed(e);
    }
    CHECK(any_diff);
  }

  TEST_CASE("MAC accounting: encoder totals = sum of per-layer golden LayerMacs; dense = closed form") {
    const Fixture& f = fixture();
    const HwConfig& cfg = f.quant.cfg;
    EsactSettings s = EsactSettings::from_config(cfg);
    s.vote = 3;  // token followers occur, so out-proj/FFN reuse is exercised too
    IntBertEncoder enc(f.weights, f.quant, IntMode::kEsact, s);
    LayerMacs exec_sum, dense_sum;
    int64_t pred_sum = 0, followers = 0, token_followers = 0, dense_closed = 0;
    const size_t n = 16;
    for (size_t i = 0; i < n; ++i) {
      const Encoding e = encode(f.dev_sentences[i]);
      enc.embed(e);
      // Independent path: the layer chain called here, directly on the golden functions.
      const int L = static_cast<int>(e.valid_length);
      const SplsParams p = SplsParams::from_fractions(L, s.rho_milli, s.tau_milli, s.window, s.vote);
      TensorI8 x = quantize_embeddings(f.weights, f.quant, e);
      TensorI16 xr = quantize_embeddings_residual(f.weights, f.quant, e);
      for (const LayerWeights& w : f.quant.layers) {
        const SplsResult spls = run_spls(cfg, p, x, w.wq, w.wk);
        LayerResult r = run_layer(cfg, p, w, x, xr, &spls, LayerSwitches::esact());
        // Spec section 8 (SPLS forecast) and section 19 (layer count) agree with every skip on.
        const MacCounts m = r.executed.as_spls();
        CHECK(m.q == spls.counters.executed.q);
        CHECK(m.kv == spls.counters.executed.kv);
        CHECK(m.qk == spls.counters.executed.qk);
        CHECK(m.oproj == spls.counters.executed.oproj);
        CHECK(m.ffn == spls.counters.executed.ffn);
        exec_sum.q += r.executed.q; exec_sum.k += r.executed.k; exec_sum.v += r.executed.v;
        exec_sum.qk += r.executed.qk; exec_sum.av += r.executed.av; exec_sum.oproj += r.executed.oproj;
        exec_sum.ffn_up += r.executed.ffn_up; exec_sum.ffn_down += r.executed.ffn_down;
        dense_sum.q += r.dense.q; dense_sum.k += r.dense.k; dense_sum.v += r.dense.v;
        dense_sum.qk += r.dense.qk; dense_sum.av += r.dense.av; dense_sum.oproj += r.dense.oproj;
        dense_sum.ffn_up += r.dense.ffn_up; dense_sum.ffn_down += r.dense.ffn_down;
        pred_sum += 2 * int64_t{L} * 384 * 384 + 12 * int64_t{L} * L * 32;  // spec section 8 formula
        followers += spls.counters.head_followers;
        token_followers += spls.counters.token_followers;
        dense_closed += dense_layer_macs(L);
        x = std::move(r.out);
        xr = std::move(r.out_r);
      }
    }
    const EncoderCounters c = enc.counters();
    CHECK(c.sentences == static_cast<int64_t>(n));
    const LayerCounters t = c.total();
    CHECK(t.executed == exec_sum);
    CHECK(t.dense == dense_sum);
    CHECK(t.dense.total() == dense_closed);
    CHECK(t.pred_pairs == pred_sum);
    CHECK(t.head_followers == followers);
    CHECK(t.token_followers == token_followers);
    CHECK(t.executed.total() < t.dense.total());
    CHECK(token_followers > 0);
    CHECK(mac_reduction(t) == doctest::Approx(1.0 - static_cast<double>(exec_sum.total()) / dense_closed));
    CHECK(mac_reduction(t, 1.0) ==
          doctest::Approx(1.0 - static_cast<double>(exec_sum.total() + pred_sum) / dense_closed));
    // Counters are per encoder and reset.
    enc.reset_counters();
    CHECK(enc.counters().total().dense.total() == 0);
  }

  TEST_CASE("embeddings at the float/integer boundary: padding rows zero, too long rejected") {
    const Fixture& f = fixture();
    const Encoding e = encode(f.dev_sentences[0]);
    const TensorI8 x = quantize_embeddings(f.weights, f.quant, e);
    CHECK(x.shape == std::vector<int64_t>{128, 384});
    bool pad_zero = true, valid_nonzero = false;
    for (int64_t i = 0; i < 128; ++i)
      for (int64_t d = 0; d < 384; ++d) {
        if (i >= static_cast<int64_t>(e.valid_length)) pad_zero = pad_zero && x(i, d) == 0;
        else valid_nonzero = valid_nonzero || x(i, d) != 0;
      }
    CHECK(pad_zero);
    CHECK(valid_nonzero);
    EncodeOptions eo;
    eo.max_length = 200;
    std::string long_text;
    for (int i = 0; i < 150; ++i) long_text += "word ";
    CHECK_THROWS_AS(quantize_embeddings(f.weights, f.quant, f.tokenizer.encode(long_text, eo)), std::invalid_argument);
  }
}
