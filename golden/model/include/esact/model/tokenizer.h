// BERT uncased WordPiece tokenizer (the BertTokenizer of all-MiniLM-L6-v2: do_lower_case, accent
// stripping, CJK ideograph splitting), reading the model's vocab.txt (one token per line, id = line).
//
// Pipeline, as in BERT's tokenization.py:
//   clean-up: drop U+0000, U+FFFD and control characters; map whitespace to ' ';
//   put spaces around CJK ideographs; split on whitespace;
//   per word: lower-case, NFD + drop non-spacing marks, split off every punctuation character;
//   WordPiece per piece: greedy longest match first, continuations prefixed "##", a piece with more
//   than 100 code points or with an unmatchable rest becomes [UNK].
// Differences: special-token strings in the input ("[CLS]") are split like text (BERT's original
// behaviour); see unicode.h for the Unicode limits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace esact::model {

// Model input for one sentence. Positions [0, valid_length) are real tokens (attention 1), the rest
// [PAD] (attention 0). token_type_ids are all 0 (single segment).
struct Encoding {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> token_type_ids;
  std::vector<int32_t> attention_mask;
  size_t valid_length = 0;

  size_t size() const { return input_ids.size(); }
};

struct EncodeOptions {
  size_t max_length = 128;   // including [CLS] and [SEP]; longer inputs are truncated
  bool pad_to_max = false;   // pad with [PAD] to max_length (mask 0); otherwise true length
};

class WordPieceTokenizer {
 public:
  static constexpr size_t kMaxCharsPerWord = 100;

  // Reads vocab.txt; throws std::runtime_error naming the file on I/O errors or missing specials.
  static WordPieceTokenizer from_vocab_file(const std::string& path);
  // vocab[i] is the token with id i. Requires [PAD], [UNK], [CLS], [SEP].
  explicit WordPieceTokenizer(std::vector<std::string> vocab);

  // BERT BasicTokenizer: words and punctuation after clean-up, lower-casing and accent stripping.
  std::vector<std::string> basic_tokenize(std::string_view text) const;
  // WordPiece ids of one basic token.
  void wordpiece(const std::string& word, std::vector<int32_t>& ids) const;
  // Ids of the whole text without special tokens and without truncation.
  std::vector<int32_t> tokenize_ids(std::string_view text) const;
  // [CLS] ids [SEP], truncated (and optionally padded) to options.max_length.
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;

  size_t vocab_size() const { return vocab_.size(); }
  const std::string& token(int32_t id) const { return vocab_.at(static_cast<size_t>(id)); }
  // -1 when absent.
  int32_t find_id(const std::string& token) const;

  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }

 private:
  int32_t required_id(const std::string& token) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t> ids_;
  int32_t pad_id_ = 0, unk_id_ = 0, cls_id_ = 0, sep_id_ = 0;
};

}  // namespace esact::model
