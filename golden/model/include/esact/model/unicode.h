// The Unicode pieces BERT's BasicTokenizer needs (text clean-up, lower-casing, accent stripping,
// punctuation and CJK splitting), table-driven over the whole code space.
//
// Tables come from Python's unicodedata (tools/gen_unicode_tables.py; version in unicode_version()).
// Limits versus Python's str.lower()/unicodedata.normalize("NFD"):
//   - lower-casing is per code point (full mappings such as U+0130 -> "i\u0307" are included), but the
//     context-dependent Greek final sigma rule is not applied (capital sigma always becomes U+03C3);
//   - NFD is applied per code point without canonical reordering across code points; reordering only
//     permutes combining marks, which are dropped anyway (non-Mn marks with non-zero combining class
//     are rare and kept in their input order).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esact::model::unicode {

// Decodes UTF-8; malformed sequences (overlong, surrogates, truncated, > U+10FFFF) become U+FFFD.
std::u32string decode_utf8(std::string_view text);
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(std::u32string_view text);

// BERT _is_control: general category C* except TAB, LF, CR.
bool is_control(char32_t cp);
// BERT _is_whitespace: space, TAB, LF, CR or category Zs.
bool is_whitespace(char32_t cp);
// BERT _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126, or category P*.
bool is_punctuation(char32_t cp);
// General category Mn (non-spacing mark).
bool is_nonspacing_mark(char32_t cp);
// BERT _is_chinese_char: the CJK Unified Ideographs blocks (not Hiragana/Katakana/Hangul).
bool is_cjk_ideograph(char32_t cp);

// Appends the full lower-case mapping of cp.
void append_lower(std::u32string& out, char32_t cp);
// Appends the canonical decomposition of cp with non-spacing marks removed (BERT _run_strip_accents).
void append_accent_stripped(std::u32string& out, char32_t cp);

const char* unicode_version();

}  // namespace esact::model::unicode
