// A small, strict JSON (RFC 8259) reader and a deterministic writer: vector files (case.json,
// manifest.json), reports, safetensors headers and model config.json all go through it.
//
// Strict: one value per document, no comments, no trailing commas, no duplicate keys, no control
// characters, lone surrogates or invalid UTF-8 in strings, nesting depth <= 64. Integers written
// without fraction or exponent that fit int64 stay exact. Objects keep their member order, so a
// document written twice from the same data is the same bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace esact {

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Json {
 public:
  enum class Type { kNull, kBool, kInt, kDouble, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() : v_(nullptr) {}
  Json(std::nullptr_t) : v_(nullptr) {}
  Json(bool b) : v_(b) {}
  Json(int i) : v_(int64_t{i}) {}
  Json(long i) : v_(static_cast<int64_t>(i)) {}
  Json(long long i) : v_(static_cast<int64_t>(i)) {}
  Json(unsigned i) : v_(int64_t{i}) {}
  Json(unsigned long i) : v_(checked_unsigned(i)) {}
  Json(unsigned long long i) : v_(checked_unsigned(i)) {}
  Json(double d) : v_(d) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}
  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  static const char* type_name(Type t);
  const char* type_name() const { return type_name(type()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_number() const { return is_int() || type() == Type::kDouble; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // Accessors throw JsonError("expected <type>, got <type>") on a type mismatch.
  bool as_bool() const;
  int64_t as_int() const;
  double as_number() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object member or nullptr (also nullptr when this is not an object).
  const Json* find(std::string_view key) const;
  // Appends a member, or replaces the value of an existing one (keeping its position).
  Json& set(const std::string& key, Json value);
  void push_back(Json value) { as_array().push_back(std::move(value)); }

  bool operator==(const Json& o) const { return v_ == o.v_; }
  bool operator!=(const Json& o) const { return !(*this == o); }

 private:
  static int64_t checked_unsigned(unsigned long long i) {
    if (i > static_cast<unsigned long long>(INT64_MAX)) throw JsonError("integer exceeds int64");
    return static_cast<int64_t>(i);
  }
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_;
};

// Parses a whole document. Errors read "line L, column C: <what was expected>".
Json parse_json(std::string_view text);

// Two-space indented, members in stored order, arrays of scalars on one line, '\n' at the end.
std::string dump_json(const Json& value);

}  // namespace esact
