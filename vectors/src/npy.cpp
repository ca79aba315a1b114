// .npy reader and writer. Layout (NumPy NEP 1, format version 1.0):
//   "\x93NUMPY" | major=1 | minor=0 | uint16 LE header_len | header (ASCII dict, '\n'-terminated)
//   | raw data, C order.
#include "esact/vectors/npy.h"

#include <fstream>
#include <limits>

namespace esact::vectors {

const char* dtype_descr(DType t) {
  switch (t) {
    case DType::kI8: return "|i1";
    case DType::kU8: return "|u1";
    case DType::kI16: return "<i2";
    case DType::kI32: return "<i4";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kI8:
    case DType::kU8: return 1;
    case DType::kI16: return 2;
    case DType::kI32: return 4;
  }
  return 0;
}

bool dtype_from_descr(std::string_view descr, DType* out) {
  for (DType t : {DType::kI8, DType::kU8, DType::kI16, DType::kI32}) {
    if (descr == dtype_descr(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kPreludeLen = kMagicLen + 2 + 2;  // magic, version, header_len (v1.0)
constexpr int64_t kMaxDim = int64_t{1} << 31;

// A parser for the one Python literal NumPy writes: {'descr': '<i4', 'fortran_order': False,
// 'shape': (2, 3), }. Strings in single or double quotes, True/False, tuples of non-negative ints.
class HeaderParser {
 public:
  HeaderParser(const std::string& file, std::string_view text) : file_(file), s_(text) {}

  void parse(std::string* descr, bool* fortran_order, std::vector<int64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{', "header");
    skip_ws();
    while (peek() != '}') {
      const std::string key = parse_str("header");
      skip_ws();
      expect(':', "header");
      skip_ws();
      if (key == "descr") {
        if (have_descr) fail("header", "duplicate key 'descr'");
        have_descr = true;
        *descr = parse_str("descr");
      } else if (key == "fortran_order") {
        if (have_fortran) fail("header", "duplicate key 'fortran_order'");
        have_fortran = true;
        *fortran_order = parse_bool();
      } else if (key == "shape") {
        if (have_shape) fail("header", "duplicate key 'shape'");
        have_shape = true;
        *shape = parse_shape();
      } else {
        fail("header", "unexpected key '" + key + "' (want exactly descr, fortran_order, shape)");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != '}') {
        fail("header", "expected ',' or '}' in the header dictionary");
      }
    }
    ++pos_;  // '}'
    skip_ws();
    if (pos_ != s_.size()) fail("header", "unexpected text after the header dictionary");
    if (!have_descr) fail("descr", "missing from the header");
    if (!have_fortran) fail("fortran_order", "missing from the header");
    if (!have_shape) fail("shape", "missing from the header");
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw VectorError(file_, field, what);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void expect(char c, const std::string& field) {
    if (peek() != c) fail(field, std::string("expected '") + c + "' in the header dictionary");
    ++pos_;
  }
  std::string parse_str(const std::string& field) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(field, "expected a quoted string");
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\') fail(field, "escapes are not allowed in header strings");
      out.push_back(s_[pos_++]);
    }
    if (pos_ >= s_.size()) fail(field, "unterminated string");
    ++pos_;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("fortran_order", "expected True or False");
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(', "shape");
    skip_ws();
    bool trailing_comma = false;
    while (peek() != ')') {
      if (!(peek() >= '0' && peek() <= '9')) fail("shape", "expected a non-negative integer");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = v * 10 + (peek() - '0');
        if (v > kMaxDim) fail("shape", "dimension too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix, still written by some tools
      shape.push_back(v);
      skip_ws();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        skip_ws();
      } else if (peek() != ')') {
        fail("shape", "expected ',' or ')' in the shape tuple");
      }
    }
    ++pos_;
    // Python needs "(n,)" for a one-element tuple: "(n)" is an int, not a shape.
    if (shape.size() == 1 && !trailing_comma) fail("shape", "one-element tuple without a comma");
    return shape;
  }

  const std::string& file_;
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

NpyArray parse_npy(const std::string& file, std::string_view bytes) {
  if (bytes.size() < kMagicLen || bytes.substr(0, kMagicLen) != std::string_view(kMagic, kMagicLen)) {
    throw VectorError(file, "magic", "not a NumPy .npy file (expected \\x93NUMPY)");
  }
  if (bytes.size() < kPreludeLen) throw VectorError(file, "header_len", "file truncated in the prelude");
  const auto major = static_cast<uint8_t>(bytes[6]), minor = static_cast<uint8_t>(bytes[7]);
  if (major != 1 || minor != 0) {
    throw VectorError(file, "version",
                      "expected 1.0, got " + std::to_string(major) + "." + std::to_string(minor));
  }
  const size_t header_len =
      static_cast<size_t>(static_cast<uint8_t>(bytes[8])) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
  if (bytes.size() < kPreludeLen + header_len) {
    throw VectorError(file, "header_len",
                      "header of " + std::to_string(header_len) + " bytes runs past the end of the file (" +
                          std::to_string(bytes.size()) + " bytes)");
  }
  std::string_view header = bytes.substr(kPreludeLen, header_len);
  if (header.empty() || header.back() != '\n') {
    throw VectorError(file, "header", "header does not end with a newline");
  }
  for (char c : header) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (u < 0x20 && c != '\n')) throw VectorError(file, "header", "non-ASCII byte in header");
  }
  header.remove_suffix(1);

  std::string descr;
  bool fortran_order = true;
  NpyArray a;
  HeaderParser(file, header).parse(&descr, &fortran_order, &a.shape);
  if (!dtype_from_descr(descr, &a.dtype)) {
    throw VectorError(file, "descr", "unsupported dtype '" + descr + "' (want |i1, |u1, <i2 or <i4)");
  }
  if (fortran_order) throw VectorError(file, "fortran_order", "expected False (C order), got True");

  const size_t item = dtype_size(a.dtype);
  uint64_t numel = 1;
  for (int64_t d : a.shape) {
    numel *= static_cast<uint64_t>(d);
    if (numel > (uint64_t{1} << 40)) throw VectorError(file, "shape", "array too large: " + shape_str(a.shape));
  }
  const uint64_t want = numel * item;
  const uint64_t have = bytes.size() - kPreludeLen - header_len;
  if (have < want) {
    throw VectorError(file, "data",
                      "truncated: shape " + shape_str(a.shape) + " of " + descr + " needs " +
                          std::to_string(want) + " bytes, file has " + std::to_string(have));
  }
  if (have > want) {
    throw VectorError(file, "data",
                      std::to_string(have - want) + " trailing bytes after the " + std::to_string(want) +
                          " bytes of shape " + shape_str(a.shape));
  }
  a.data.assign(bytes.substr(kPreludeLen + header_len));
  return a;
}

std::string encode_npy(DType dtype, const std::vector<int64_t>& shape, std::string_view le_data) {
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("encode_npy: negative dimension");
    numel *= static_cast<uint64_t>(d);
  }
  if (numel * dtype_size(dtype) != le_data.size()) {
    throw std::invalid_argument("encode_npy: data size does not match shape " + shape_str(shape));
  }
  std::string dict = std::string("{'descr': '") + dtype_descr(dtype) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // Pad with spaces so that data starts on a 64-byte boundary; the header ends in '\n'.
  size_t total = kPreludeLen + dict.size() + 1;
  const size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  if (dict.size() > std::numeric_limits<uint16_t>::max()) throw std::invalid_argument("encode_npy: header too long");
  std::string out(kMagic, kMagicLen);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<char>(dict.size() & 0xFF));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out += dict;
  out.append(le_data);
  return out;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw VectorError(path, "", "cannot open file for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw VectorError(path, "", "read error");
  return bytes;
}

void write_file_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw VectorError(path, "", "cannot open file for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw VectorError(path, "", "write error");
}

NpyArray read_npy(const std::string& path) { return parse_npy(path, read_file_bytes(path)); }

}  // namespace esact::vectors
