// Internal helpers shared by the SPLS and layer case readers/writers (spls_case.cpp, layer_case.cpp):
// strict JSON field access, header/provenance checks, tensor entries and encoding, checksum and
// recount checks. Not installed; every error message here is part of the format's contract.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "esact/spls.h"
#include "esact/vectors/error.h"
#include "esact/vectors/json.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/sha256.h"

namespace esact::vectors::detail {

// A non-empty [A-Za-z0-9_.-] name other than "." and "..".
bool plain_name(const std::string& s);

// 64 lower-case hex digits.
bool is_hex64(const std::string& s);

// Field access on a JSON object with errors naming file and dotted field path.
class Fields {
 public:
  Fields(std::string file, const Json& obj, std::string prefix);
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  const Json* find(const std::string& key) const { return obj_.find(key); }
  const Json& get(const std::string& key) const;
  int64_t integer(const std::string& key, int64_t lo, int64_t hi) const;
  std::string string(const std::string& key) const;
  bool boolean(const std::string& key) const;
  void only(std::initializer_list<const char*> allowed) const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  const Json& obj_;
  std::string prefix_;
};

// Parses `file` as JSON; a syntax error becomes a VectorError naming the file.
Json read_json_file(const std::string& file);

// Checks "format" (esact-vectors), "format_version" and "kind" of a case or weights document.
void check_header(const Fields& root, const std::string& kind);

// Checks that "provenance" is a non-empty string or an object, and returns it.
const Json& read_provenance(const Fields& root);

// Reads the "params" fields every case has (L, k, T, w, V, causal) into p.
void read_common_params(const Fields& pf, SplsParams& p);

// The directory path without trailing slashes ("/" stays "/").
std::string strip_trailing_slashes(std::string dir);

// A document with its header fields set: format, format_version, kind, name (in that order).
Json document_header(const std::string& kind, const std::string& name);

// Writes dump_json(doc) to path and returns the SHA-256 of the bytes written.
std::string write_json_file(const std::string& path, const Json& doc);

// Creates a directory (and its parents).
void make_directory(const std::string& dir);

// {"name": ..., "version": ...}
Json generator_json(const std::string& name, const std::string& version);
// Where a case comes from, in the order every case.json has it: seed, generator, provenance, tags.
void set_origin_fields(Json& doc, uint64_t seed, const std::string& generator_name,
                       const std::string& generator_version, const Json& provenance,
                       const std::vector<std::string>& tags);

// The JSON array of a shape.
Json shape_json(const std::vector<int64_t>& shape);

// One tensor on disk: its name, role ("" for none), encoded .npy bytes and their checksum.
struct EncodedTensor {
  std::string name, role;
  DType dtype;
  std::vector<int64_t> shape;
  std::string bytes, sha;
  std::string file() const { return name + ".npy"; }
};

// Encodes t after checking its shape; errors read "<who>: tensor '<name>' has shape ..., expected ...".
template <typename T>
EncodedTensor encode_tensor(const char* who, const std::string& name, const std::string& role, const Tensor<T>& t,
                            const std::vector<int64_t>& shape) {
  if (t.shape != shape || t.numel() != static_cast<int64_t>(t.data.size())) {
    throw std::invalid_argument(std::string(who) + ": tensor '" + name + "' has shape " + shape_str(t.shape) +
                                ", expected " + shape_str(shape));
  }
  EncodedTensor e{name, role, dtype_of<T>(), shape, encode_npy(t), ""};
  e.sha = sha256_hex(e.bytes);
  return e;
}

// The "tensors" entry of one tensor: file, dtype, shape, sha256 and (when not empty) role.
Json tensor_entry_json(const EncodedTensor& e);

// Checks that `file` exists (else fails `path_key`) and has checksum `listed` (else fails `sha_key`
// with "checksum mismatch for <file>: <lister> lists|listed <listed>, file has <actual>").
void check_listed_file_sha(const Fields& f, const char* path_key, const char* sha_key, const std::string& file,
                           const std::string& listed, const std::string& listed_by);

// Checks that integer field `key` of f (0..INT64_MAX) equals `want`, as recounted `how`.
void check_recount(const Fields& f, const std::string& key, int64_t want, const char* how);

}  // namespace esact::vectors::detail
