// Small strict JSON (RFC 8259) reader for model metadata: safetensors headers and config.json.
//
// Strict means: one value per document (whitespace around it only), no trailing commas, no comments,
// no duplicate object keys, no control characters or lone surrogates in strings, bounded nesting.
// Integers that fit int64 are kept exactly (tensor offsets can exceed 2^53).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace esact::model {

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Object = std::map<std::string, JsonValue>;

  JsonValue() = default;

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  // True for a number written without fraction or exponent that fits int64.
  bool is_integer() const { return kind_ == Kind::kNumber && is_integer_; }

  // Accessors throw JsonError naming the expected kind when the kind does not match.
  bool as_bool() const;
  double as_double() const;
  int64_t as_int64() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  // Object member or nullptr.
  const JsonValue* find(const std::string& key) const;

  static const char* kind_name(Kind kind);

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  bool is_integer_ = false;
  double number_ = 0.0;
  int64_t integer_ = 0;
  std::string string_;
  std::shared_ptr<Array> array_;
  std::shared_ptr<Object> object_;
};

// Parses a whole document; errors say what was expected and the byte offset.
JsonValue parse_json(std::string_view text);

}  // namespace esact::model
