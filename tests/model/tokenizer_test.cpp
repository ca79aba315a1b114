// WordPiece tokenizer on a tiny hand-written vocabulary; expected ids are read off the vocabulary
// below by hand (id = position).
#include <doctest/doctest.h>

#include "esact/model/tokenizer.h"
#include "esact/model/unicode.h"
#include "test_util.h"

using namespace esact::model;

namespace {

WordPieceTokenizer tiny() {
  //                         0        1        2        3        4     5        6         7    8
  return WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "a", "##b",
                             // 9      10   11   12      13       14     15     16
                             "hello", ",", "!", "cafe", "naive", "##s", "the", "\xE4\xB8\xAD"});
}

using Ids = std::vector<int32_t>;

}  // namespace

TEST_CASE("tokenizer: greedy longest match with ## continuations") {
  const auto tok = tiny();
  CHECK(tok.tokenize_ids("unaffable") == Ids{4, 5, 6});
  CHECK(tok.tokenize_ids("ab abbb") == Ids{7, 8, 7, 8, 8, 8});
  CHECK(tok.tokenize_ids("unx") == Ids{1});        // unmatchable rest: the whole word is [UNK]
  CHECK(tok.tokenize_ids("the unx the") == Ids{15, 1, 15});
  CHECK(tok.tokenize_ids("") == Ids{});
  CHECK(tok.tokenize_ids(" \t\n ") == Ids{});
}

TEST_CASE("tokenizer: lower-casing, accents, punctuation, controls, CJK") {
  const auto tok = tiny();
  CHECK(tok.tokenize_ids("Hello, CAFÉ!") == Ids{9, 10, 12, 11});
  CHECK(tok.tokenize_ids("nai\xCC\x88ve") == Ids{13});        // decomposed i + U+0308
  CHECK(tok.tokenize_ids("NA\xC3\x8FVE") == Ids{13});         // precomposed capital I with diaeresis
  CHECK(tok.tokenize_ids("hel\x01lo") == Ids{9});             // control characters are removed
  CHECK(tok.tokenize_ids("hello\xE2\x80\x94the") == Ids{9, 1, 15});   // em dash is punctuation
  CHECK(tok.tokenize_ids("hello\xC2\xA0the") == Ids{9, 15});          // no-break space separates
  CHECK(tok.tokenize_ids("hello\xE2\x80\xA8the") == Ids{9, 15});      // U+2028 splits (Python str.split)
  CHECK(tok.tokenize_ids("\xE4\xB8\xAD\xE5\x9B\xBD" "a") == Ids{16, 1, 7});  // CJK ideographs split off
  CHECK(tok.tokenize_ids("hello$the") == Ids{9, 1, 15});      // ASCII symbol counts as punctuation
  CHECK(tok.basic_tokenize("Don't STOP!") == std::vector<std::string>{"don", "'", "t", "stop", "!"});
}

TEST_CASE("tokenizer: 100-character limit per word") {
  const auto tok = tiny();
  const std::string word100 = "a" + std::string(99, 'b');
  Ids expected{7};
  expected.insert(expected.end(), 99, 8);
  CHECK(tok.tokenize_ids(word100) == expected);
  CHECK(tok.tokenize_ids(word100 + "b") == Ids{1});
}

TEST_CASE("tokenizer: [CLS]/[SEP], truncation, padding and mask") {
  const auto tok = tiny();
  Encoding e = tok.encode("hello the a");
  CHECK(e.input_ids == Ids{2, 9, 15, 7, 3});
  CHECK(e.attention_mask == Ids{1, 1, 1, 1, 1});
  CHECK(e.token_type_ids == Ids{0, 0, 0, 0, 0});
  CHECK(e.valid_length == 5);

  e = tok.encode("hello the a", {4, false});
  CHECK(e.input_ids == Ids{2, 9, 15, 3});

  e = tok.encode("hello", {6, true});
  CHECK(e.input_ids == Ids{2, 9, 3, 0, 0, 0});
  CHECK(e.attention_mask == Ids{1, 1, 1, 0, 0, 0});
  CHECK(e.valid_length == 3);
  CHECK(tok.encode("", {}).input_ids == Ids{2, 3});
}

TEST_CASE("tokenizer: vocabulary errors") {
  CHECK_THROWS_AS(WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]"}), std::runtime_error);
  try {
    WordPieceTokenizer::from_vocab_file(esact::model::test::temp_dir() + "/no_vocab.txt");
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("no_vocab.txt") != std::string::npos);
  }
}

TEST_CASE("unicode: UTF-8 round trip and malformed input") {
  namespace uc = esact::model::unicode;
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  CHECK(uc::decode_utf8(text) == std::u32string{U'a', 0xE9, 0x4E2D, 0x1F600});
  CHECK(uc::encode_utf8(uc::decode_utf8(text)) == text);
  CHECK(uc::decode_utf8("\xC0\xAF") == std::u32string{0xFFFD});        // overlong
  CHECK(uc::decode_utf8("\xED\xA0\x80") == std::u32string{0xFFFD});    // surrogate
  CHECK(uc::decode_utf8("\xE4\xB8") == std::u32string{0xFFFD});        // truncated
  CHECK(uc::decode_utf8("\xFFx") == std::u32string{0xFFFD, U'x'});
}
