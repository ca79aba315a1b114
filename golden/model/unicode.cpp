#include "esact/model/unicode.h"

#include <algorithm>
#include <iterator>

namespace esact::model::unicode {

namespace {

struct CodeRange {
  uint32_t first;
  uint32_t last;
};

struct CodeMapping {
  uint32_t code_point;
  uint32_t pool_offset;
  uint32_t length;
};

#include "unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodeRange (&ranges)[N], char32_t cp) {
  const auto* it = std::upper_bound(std::begin(ranges), std::end(ranges), static_cast<uint32_t>(cp),
                                    [](uint32_t value, const CodeRange& r) { return value < r.first; });
  if (it == std::begin(ranges)) return false;
  --it;
  return cp <= it->last;
}

template <size_t N>
const CodeMapping* find_mapping(const CodeMapping (&map)[N], char32_t cp) {
  const auto* it = std::lower_bound(std::begin(map), std::end(map), static_cast<uint32_t>(cp),
                                    [](const CodeMapping& m, uint32_t value) { return m.code_point < value; });
  if (it == std::end(map) || it->code_point != cp) return nullptr;
  return it;
}

constexpr char32_t kReplacement = 0xFFFD;

// Hangul syllable algorithmic decomposition (Unicode section 3.12).
constexpr char32_t kHangulBase = 0xAC00, kLeadBase = 0x1100, kVowelBase = 0x1161, kTrailBase = 0x11A7;
constexpr char32_t kVowelCount = 21, kTrailCount = 28, kSyllableCount = 11172;

}  // namespace

const char* unicode_version() { return kUnicodeVersion; }

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) { out += b0; ++i; continue; }
    int len = 0;
    char32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; min = 0x80; }
    else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; min = 0x800; }
    else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; min = 0x10000; }
    else { out += kReplacement; ++i; continue; }
    int k = 1;
    for (; k < len && i + k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0) != 0x80) break;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (k < len) { out += kReplacement; i += k; continue; }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
    out += cp;
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

bool is_control(char32_t cp) { return in_ranges(kControlRanges, cp); }
bool is_whitespace(char32_t cp) { return in_ranges(kWhitespaceRanges, cp); }
bool is_nonspacing_mark(char32_t cp) { return in_ranges(kNonspacingMarkRanges, cp); }

bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return in_ranges(kPunctuationRanges, cp);
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) ||
         (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void append_lower(std::u32string& out, char32_t cp) {
  if (cp < 0x80) {
    out += (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return;
  }
  if (const CodeMapping* m = find_mapping(kLowerMap, cp)) {
    out.append(kLowerMapPool + m->pool_offset, m->length);
  } else {
    out += cp;
  }
}

void append_accent_stripped(std::u32string& out, char32_t cp) {
  if (cp >= kHangulBase && cp < kHangulBase + kSyllableCount) {
    const char32_t index = cp - kHangulBase;
    out += kLeadBase + index / (kVowelCount * kTrailCount);
    out += kVowelBase + (index % (kVowelCount * kTrailCount)) / kTrailCount;
    if (index % kTrailCount != 0) out += kTrailBase + index % kTrailCount;
    return;
  }
  if (const CodeMapping* m = find_mapping(kStrippedDecompositionMap, cp)) {
    out.append(kStrippedDecompositionMapPool + m->pool_offset, m->length);
    return;
  }
  if (!is_nonspacing_mark(cp)) out += cp;
}

}  // namespace esact::model::unicode
