// Strict JSON reader (RFC 8259) and deterministic writer. See json.h for what "strict" means.
#include "esact/json.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace esact {

const char* Json::type_name(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kInt: return "integer";
    case Type::kDouble: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "?";
}

namespace {
[[noreturn]] void type_mismatch(const char* want, const Json& got) {
  throw JsonError(std::string("expected ") + want + ", got " + got.type_name());
}
}  // namespace

bool Json::as_bool() const {
  if (!is_bool()) type_mismatch("boolean", *this);
  return std::get<bool>(v_);
}
int64_t Json::as_int() const {
  if (!is_int()) type_mismatch("integer", *this);
  return std::get<int64_t>(v_);
}
double Json::as_number() const {
  if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
  if (type() != Type::kDouble) type_mismatch("number", *this);
  return std::get<double>(v_);
}
const std::string& Json::as_string() const {
  if (!is_string()) type_mismatch("string", *this);
  return std::get<std::string>(v_);
}
const Json::Array& Json::as_array() const {
  if (!is_array()) type_mismatch("array", *this);
  return std::get<Array>(v_);
}
Json::Array& Json::as_array() {
  if (!is_array()) type_mismatch("array", *this);
  return std::get<Array>(v_);
}
const Json::Object& Json::as_object() const {
  if (!is_object()) type_mismatch("object", *this);
  return std::get<Object>(v_);
}
Json::Object& Json::as_object() {
  if (!is_object()) type_mismatch("object", *this);
  return std::get<Object>(v_);
}

const Json* Json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json& Json::set(const std::string& key, Json value) {
  Object& obj = as_object();
  for (auto& [k, v] : obj) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  obj.emplace_back(key, std::move(value));
  return obj.back().second;
}

// ------------------------------------------------------------------------------------------------
// Reader
// ------------------------------------------------------------------------------------------------
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Json parse_document() {
    // A UTF-8 byte order mark is not JSON (RFC 8259 section 8.1 lets parsers reject it).
    skip_ws();
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected data after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw JsonError("line " + std::to_string(line) + ", column " + std::to_string(col) + ": " +
                    what);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_ws() {
    while (!at_end()) {
      const char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  void expect_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) fail("invalid literal (expected '" + std::string(lit) + "')");
    pos_ += lit.size();
  }

  Json parse_value(int depth) {
    if (at_end()) fail("unexpected end of input, expected a value");
    const char c = peek();
    switch (c) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return Json(parse_string());
      case 't': expect_literal("true"); return Json(true);
      case 'f': expect_literal("false"); return Json(false);
      case 'n': expect_literal("null"); return Json(nullptr);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(std::string("unexpected character '") + printable(c) + "', expected a value");
    }
  }

  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    static const char kHex[] = "0123456789abcdef";
    return std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
  }

  Json parse_object(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 64 levels");
    ++pos_;  // '{'
    Json obj = Json::object();
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return obj;
    }
    while (true) {
      skip_ws();
      if (peek() != '"') fail("expected a string key");
      const size_t key_pos = pos_;
      std::string key = parse_string();
      if (obj.find(key) != nullptr) {
        pos_ = key_pos;
        fail("duplicate key \"" + key + "\"");
      }
      skip_ws();
      if (peek() != ':') fail("expected ':' after object key");
      ++pos_;
      skip_ws();
      Json v = parse_value(depth);
      obj.as_object().emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
        if (peek() == '}') fail("trailing comma in object");
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return obj;
      }
      fail(at_end() ? "unexpected end of input in object" : "expected ',' or '}' in object");
    }
  }

  Json parse_array(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 64 levels");
    ++pos_;  // '['
    Json arr = Json::array();
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return arr;
    }
    while (true) {
      skip_ws();
      arr.push_back(parse_value(depth));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
        if (peek() == ']') fail("trailing comma in array");
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return arr;
      }
      fail(at_end() ? "unexpected end of input in array" : "expected ',' or ']' in array");
    }
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("invalid hex digit in \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Copies one raw UTF-8 sequence starting at pos_, validating it (no overlongs, no surrogates).
  void copy_utf8(std::string& out) {
    const auto b0 = static_cast<unsigned char>(s_[pos_]);
    int extra;
    uint32_t cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      extra = 1;
      cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      extra = 2;
      cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      extra = 3;
      cp = b0 & 0x07;
    } else {
      fail("invalid UTF-8 byte in string");
    }
    if (pos_ + static_cast<size_t>(extra) >= s_.size()) fail("truncated UTF-8 sequence in string");
    for (int i = 1; i <= extra; ++i) {
      const auto b = static_cast<unsigned char>(s_[pos_ + static_cast<size_t>(i)]);
      if ((b & 0xC0) != 0x80) fail("invalid UTF-8 continuation byte in string");
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      fail("invalid UTF-8 sequence in string");
    }
    out.append(s_.substr(pos_, static_cast<size_t>(extra) + 1));
    pos_ += static_cast<size_t>(extra) + 1;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const char c = s_[pos_];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (u < 0x20) fail("control character in string (must be escaped)");
      if (u >= 0x80) {
        copy_utf8(out);
        continue;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) fail("unterminated escape in string");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail("high surrogate not followed by a low surrogate");
            pos_ += 2;
            const uint32_t lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail(std::string("invalid escape '\\") + printable(e) + "' in string");
      }
    }
  }

  Json parse_number() {
    const size_t start = pos_;
    bool integral = true;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (peek() >= '0' && peek() <= '9') fail("leading zero in number");
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++pos_;
    } else {
      fail("expected a digit in number");
    }
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit after '.' in number");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit in exponent");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      int64_t v = 0;
      const auto r = std::from_chars(first, last, v);
      if (r.ec == std::errc() && r.ptr == last) return Json(static_cast<long long>(v));
      // Out of int64 range: kept as a double, so callers asking for an integer get a clear error.
    }
    double d = 0.0;
    const auto r = std::from_chars(first, last, d);
    if (r.ptr != last || r.ec == std::errc::invalid_argument) {
      pos_ = start;
      fail("malformed number");
    }
    if (r.ec == std::errc::result_out_of_range || !std::isfinite(d)) {
      pos_ = start;
      fail("number out of range");
    }
    return Json(d);
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Json parse_json(std::string_view text) { return Parser(text).parse_document(); }

// ------------------------------------------------------------------------------------------------
// Writer
// ------------------------------------------------------------------------------------------------
namespace {

void write_string(std::string& out, const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

bool is_scalar(const Json& v) { return !v.is_array() && !v.is_object(); }

void write_value(std::string& out, const Json& v, int indent) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const std::string pad_in(static_cast<size_t>(indent + 1) * 2, ' ');
  switch (v.type()) {
    case Json::Type::kNull: out += "null"; return;
    case Json::Type::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Json::Type::kInt: out += std::to_string(v.as_int()); return;
    case Json::Type::kDouble: {
      const double d = v.as_number();
      if (!std::isfinite(d)) throw JsonError("cannot write a non-finite number as JSON");
      char buf[64];
      const auto r = std::to_chars(buf, buf + sizeof(buf), d);  // shortest round-trip form
      std::string s(buf, r.ptr);
      // Keep it a non-integer token so it reads back as a double.
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      out += s;
      return;
    }
    case Json::Type::kString: write_string(out, v.as_string()); return;
    case Json::Type::kArray: {
      const auto& a = v.as_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      bool scalars = true;
      for (const auto& e : a) scalars = scalars && is_scalar(e);
      if (scalars) {
        out.push_back('[');
        for (size_t i = 0; i < a.size(); ++i) {
          if (i) out += ", ";
          write_value(out, a[i], indent);
        }
        out.push_back(']');
        return;
      }
      out += "[\n";
      for (size_t i = 0; i < a.size(); ++i) {
        out += pad_in;
        write_value(out, a[i], indent + 1);
        out += i + 1 < a.size() ? ",\n" : "\n";
      }
      out += pad + "]";
      return;
    }
    case Json::Type::kObject: {
      const auto& o = v.as_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      for (size_t i = 0; i < o.size(); ++i) {
        out += pad_in;
        write_string(out, o[i].first);
        out += ": ";
        write_value(out, o[i].second, indent + 1);
        out += i + 1 < o.size() ? ",\n" : "\n";
      }
      out += pad + "}";
      return;
    }
  }
}

}  // namespace

std::string dump_json(const Json& value) {
  std::string out;
  write_value(out, value, 0);
  out.push_back('\n');
  return out;
}

}  // namespace esact
