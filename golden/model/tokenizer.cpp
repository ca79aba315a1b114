#include "esact/model/tokenizer.h"

#include <fstream>
#include <stdexcept>

#include "esact/model/unicode.h"

namespace esact::model {

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("vocab file '" + path + "': cannot open");
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  if (in.bad()) throw std::runtime_error("vocab file '" + path + "': read error");
  if (vocab.empty()) throw std::runtime_error("vocab file '" + path + "': no tokens");
  try {
    return WordPieceTokenizer(std::move(vocab));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("vocab file '" + path + "': " + e.what());
  }
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab) : vocab_(std::move(vocab)) {
  ids_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) ids_[vocab_[i]] = static_cast<int32_t>(i);  // last one wins
  pad_id_ = required_id("[PAD]");
  unk_id_ = required_id("[UNK]");
  cls_id_ = required_id("[CLS]");
  sep_id_ = required_id("[SEP]");
}

int32_t WordPieceTokenizer::required_id(const std::string& token) const {
  const int32_t id = find_id(token);
  if (id < 0) throw std::runtime_error("special token " + token + " is missing from the vocabulary");
  return id;
}

int32_t WordPieceTokenizer::find_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(std::string_view text) const {
  namespace uc = unicode;
  // Clean-up and CJK spacing: the text becomes words separated by single spaces.
  std::u32string cleaned;
  for (char32_t cp : uc::decode_utf8(text)) {
    if (cp == 0 || cp == 0xFFFD || uc::is_control(cp)) continue;
    // BERT splits words with Python's str.split(), which also breaks at the line and paragraph
    // separators U+2028/U+2029 (categories Zl/Zp, neither control nor BERT whitespace).
    if (uc::is_whitespace(cp) || cp == 0x2028 || cp == 0x2029) {
      cleaned += U' ';
    } else if (uc::is_cjk_ideograph(cp)) {
      cleaned += U' ';
      cleaned += cp;
      cleaned += U' ';
    } else {
      cleaned += cp;
    }
  }

  std::vector<std::string> tokens;
  std::u32string lowered, stripped, piece;
  size_t pos = 0;
  while (pos < cleaned.size()) {
    if (cleaned[pos] == U' ') { ++pos; continue; }
    size_t end = pos;
    while (end < cleaned.size() && cleaned[end] != U' ') ++end;
    lowered.clear();
    for (size_t i = pos; i < end; ++i) uc::append_lower(lowered, cleaned[i]);
    stripped.clear();
    for (char32_t cp : lowered) uc::append_accent_stripped(stripped, cp);
    piece.clear();
    for (char32_t cp : stripped) {
      if (uc::is_punctuation(cp)) {
        if (!piece.empty()) tokens.push_back(uc::encode_utf8(piece));
        piece.clear();
        tokens.push_back(uc::encode_utf8(std::u32string(1, cp)));
      } else if (uc::is_whitespace(cp)) {  // BERT re-splits on whitespace after normalisation
        if (!piece.empty()) tokens.push_back(uc::encode_utf8(piece));
        piece.clear();
      } else {
        piece += cp;
      }
    }
    if (!piece.empty()) tokens.push_back(uc::encode_utf8(piece));
    pos = end;
  }
  return tokens;
}

void WordPieceTokenizer::wordpiece(const std::string& word, std::vector<int32_t>& ids) const {
  // Byte offset of every code point boundary.
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  bounds.push_back(word.size());
  const size_t chars = bounds.size() - 1;
  if (chars > kMaxCharsPerWord) {
    ids.push_back(unk_id_);
    return;
  }
  const size_t first_new = ids.size();
  size_t start = 0;
  std::string candidate;
  while (start < chars) {
    int32_t found = -1;
    size_t end = chars;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word, bounds[start], bounds[end] - bounds[start]);
      found = find_id(candidate);
      if (found >= 0) break;
    }
    if (found < 0) {
      ids.resize(first_new);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(found);
    start = end;
  }
}

std::vector<int32_t> WordPieceTokenizer::tokenize_ids(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const std::string& word : basic_tokenize(text)) wordpiece(word, ids);
  return ids;
}

Encoding WordPieceTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  if (options.max_length < 2) throw std::invalid_argument("encode: max_length must be at least 2");
  std::vector<int32_t> ids = tokenize_ids(text);
  if (ids.size() > options.max_length - 2) ids.resize(options.max_length - 2);
  Encoding enc;
  enc.input_ids.reserve(options.pad_to_max ? options.max_length : ids.size() + 2);
  enc.input_ids.push_back(cls_id_);
  enc.input_ids.insert(enc.input_ids.end(), ids.begin(), ids.end());
  enc.input_ids.push_back(sep_id_);
  enc.valid_length = enc.input_ids.size();
  enc.attention_mask.assign(enc.valid_length, 1);
  if (options.pad_to_max) {
    enc.input_ids.resize(options.max_length, pad_id_);
    enc.attention_mask.resize(options.max_length, 0);
  }
  enc.token_type_ids.assign(enc.input_ids.size(), 0);
  return enc;
}

}  // namespace esact::model
