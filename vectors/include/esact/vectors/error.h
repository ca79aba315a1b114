// The one exception type of the vector library: every message names the file and the field.
#pragma once
#include <stdexcept>
#include <string>

namespace esact::vectors {

// what() reads "<file>: field '<field>': <detail>" (or "<file>: <detail>" when no field applies),
// so a user can go straight to the offending byte without reading our code.
class VectorError : public std::runtime_error {
 public:
  VectorError(std::string file, std::string field, const std::string& detail)
      : std::runtime_error(compose(file, field, detail)),
        file_(std::move(file)),
        field_(std::move(field)),
        detail_(detail) {}

  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& detail() const { return detail_; }

 private:
  static std::string compose(const std::string& file, const std::string& field,
                             const std::string& detail) {
    std::string s = file.empty() ? std::string("<memory>") : file;
    s += ": ";
    if (!field.empty()) s += "field '" + field + "': ";
    s += detail;
    return s;
  }
  std::string file_, field_, detail_;
};

}  // namespace esact::vectors
