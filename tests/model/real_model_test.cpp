// Tests on the downloaded all-MiniLM-L6-v2 (ci/fetch-model). They fail when the model is missing.
// Expected token ids were read by hand from vocab.txt (id = line number - 1).
#include <doctest/doctest.h>

#include <fstream>

#include "esact/model/float_forward.h"
#include "esact/model/stats.h"
#include "test_util.h"

using namespace esact::model;
using Ids = std::vector<int32_t>;

namespace {

const std::string& checked_model_dir() {
  static const std::string dir = [] {
    const std::string d = test::model_dir();
    if (!std::ifstream(d + "/model.safetensors") || !std::ifstream(d + "/vocab.txt")) {
      throw std::runtime_error("model not found in '" + d + "': run ci/fetch-model (or set ESACT_MODEL_DIR)");
    }
    return d;
  }();
  return dir;
}

const WordPieceTokenizer& tokenizer() {
  static const WordPieceTokenizer tok = WordPieceTokenizer::from_vocab_file(checked_model_dir() + "/vocab.txt");
  return tok;
}

const BertWeights& weights() {
  static const BertWeights w = BertWeights::load(checked_model_dir());
  return w;
}

}  // namespace

TEST_SUITE("real_model") {
  TEST_CASE("vocabulary ids read by hand from vocab.txt") {
    const auto& tok = tokenizer();
    CHECK(tok.vocab_size() == 30522);
    CHECK(tok.pad_id() == 0);
    CHECK(tok.unk_id() == 100);
    CHECK(tok.cls_id() == 101);
    CHECK(tok.sep_id() == 102);
    CHECK(tok.encode("Hello, world!").input_ids == Ids{101, 7592, 1010, 2088, 999, 102});
    CHECK(tok.tokenize_ids("Naïve café, résumé.") == Ids{15743, 7668, 1010, 13746, 1012});
    CHECK(tok.tokenize_ids("A man is playing guitar.") == Ids{1037, 2158, 2003, 2652, 2858, 1012});
    CHECK(tok.tokenize_ids("WordPiece") == Ids{2773, 11198});
    CHECK(tok.tokenize_ids("\xE4\xB8\xAD\xE5\x9B\xBD") == Ids{1746, 1799});  // two CJK ideographs, split
  }

  TEST_CASE("weights match the configuration") {
    const BertWeights& w = weights();
    CHECK(w.config.hidden_size == 384);
    CHECK(w.config.num_layers == 6);
    CHECK(w.config.num_heads == 12);
    CHECK(w.config.intermediate_size == 1536);
    CHECK(w.config.layer_norm_eps == doctest::Approx(1e-12));
    REQUIRE(w.layers.size() == 6);
    CHECK(w.layers[5].output.weight.size() == 384u * 1536u);
    CHECK(w.word_embeddings.size() == 30522u * 384u);
  }

  TEST_CASE("embeddings are normalised, padding-invariant and semantically ordered") {
    const FloatBertEncoder encoder(weights());
    const auto& tok = tokenizer();
    const auto guitar = encoder.embed(tok.encode("A man is playing a guitar."));
    const auto guitar2 = encoder.embed(tok.encode("A man plays the guitar.", {128, true}));
    const auto market = encoder.embed(tok.encode("Stock markets fell sharply on Monday."));
    double norm = 0;
    for (float v : guitar) norm += v * v;
    CHECK(norm == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(cosine(guitar, guitar2) > 0.8);
    CHECK(cosine(guitar, market) < 0.3);

    const Encoding plain = tok.encode("The cat sat on the mat.");
    const Encoding padded = tok.encode("The cat sat on the mat.", {32, true});
    const auto a = encoder.embed(plain);
    const auto b = encoder.embed(padded);
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
  }
}
