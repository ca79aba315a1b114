// Internal helpers shared by spls_case.cpp and layer_case.cpp (see case_io.h).
#include "case_io.h"

#include "esact/vectors/spls_case.h"

#include <filesystem>

namespace esact::vectors::detail {
namespace fs = std::filesystem;

bool plain_name(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Fields::Fields(std::string file, const Json& obj, std::string prefix)
    : file_(std::move(file)), obj_(obj), prefix_(std::move(prefix)) {
  if (!obj_.is_object()) {
    throw VectorError(file_, prefix_.empty() ? "(document)" : prefix_,
                      std::string("expected an object, got ") + obj_.type_name());
  }
}

void Fields::fail(const std::string& key, const std::string& what) const { throw VectorError(file_, path(key), what); }

const Json& Fields::get(const std::string& key) const {
  const Json* v = obj_.find(key);
  if (v == nullptr) fail(key, "missing");
  return *v;
}

int64_t Fields::integer(const std::string& key, int64_t lo, int64_t hi) const {
  const Json& v = get(key);
  if (!v.is_int()) fail(key, std::string("expected an integer, got ") + v.type_name());
  const int64_t i = v.as_int();
  if (i < lo || i > hi) {
    fail(key, "out of range: " + std::to_string(i) + " not in " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return i;
}

std::string Fields::string(const std::string& key) const {
  const Json& v = get(key);
  if (!v.is_string()) fail(key, std::string("expected a string, got ") + v.type_name());
  return v.as_string();
}

bool Fields::boolean(const std::string& key) const {
  const Json& v = get(key);
  if (!v.is_bool()) fail(key, std::string("expected true or false, got ") + v.type_name());
  return v.as_bool();
}

void Fields::only(std::initializer_list<const char*> allowed) const {
  for (const auto& [k, v] : obj_.as_object()) {
    (void)v;
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) fail(k, "unknown field");
  }
}

Json read_json_file(const std::string& file) {
  const std::string text = read_file_bytes(file);
  try {
    return parse_json(text);
  } catch (const JsonError& e) {
    throw VectorError(file, "", std::string("invalid JSON: ") + e.what());
  }
}

void check_header(const Fields& root, const std::string& kind) {
  if (root.string("format") != kFormatName) {
    root.fail("format", "expected \"esact-vectors\", got \"" + root.string("format") + "\"");
  }
  root.integer("format_version", kFormatVersion, kFormatVersion);
  if (root.string("kind") != kind) root.fail("kind", "expected \"" + kind + "\", got \"" + root.string("kind") + "\"");
}

const Json& read_provenance(const Fields& root) {
  const Json& p = root.get("provenance");
  if (!(p.is_string() && !p.as_string().empty()) && !p.is_object()) {
    root.fail("provenance", "expected a non-empty string or an object");
  }
  return p;
}

void read_common_params(const Fields& pf, SplsParams& p) {
  p.L = static_cast<int>(pf.integer("L", INT32_MIN, INT32_MAX));
  p.k = static_cast<int>(pf.integer("k", INT32_MIN, INT32_MAX));
  p.T = static_cast<int>(pf.integer("T", INT32_MIN, INT32_MAX));
  p.w = static_cast<int>(pf.integer("w", INT32_MIN, INT32_MAX));
  p.V = static_cast<int>(pf.integer("V", INT32_MIN, INT32_MAX));
  p.causal = pf.boolean("causal");
}

std::string strip_trailing_slashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

Json document_header(const std::string& kind, const std::string& name) {
  Json doc = Json::object();
  doc.set("format", kFormatName);
  doc.set("format_version", kFormatVersion);
  doc.set("kind", kind);
  doc.set("name", name);
  return doc;
}

std::string write_json_file(const std::string& path, const Json& doc) {
  const std::string text = dump_json(doc);
  write_file_bytes(path, text);
  return sha256_hex(text);
}

void make_directory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw VectorError(dir, "", "cannot create directory: " + ec.message());
}

Json generator_json(const std::string& name, const std::string& version) {
  Json g = Json::object();
  g.set("name", name);
  g.set("version", version);
  return g;
}

void set_origin_fields(Json& doc, uint64_t seed, const std::string& generator_name,
                       const std::string& generator_version, const Json& provenance,
                       const std::vector<std::string>& tags) {
  doc.set("seed", Json(static_cast<unsigned long long>(seed)));
  doc.set("generator", generator_json(generator_name, generator_version));
  doc.set("provenance", provenance);
  Json t = Json::array();
  for (const auto& tag : tags) t.push_back(tag);
  doc.set("tags", t);
}

Json shape_json(const std::vector<int64_t>& shape) {
  Json a = Json::array();
  for (int64_t d : shape) a.push_back(Json(static_cast<long long>(d)));
  return a;
}

Json tensor_entry_json(const EncodedTensor& e) {
  Json t = Json::object();
  t.set("file", e.file());
  t.set("dtype", dtype_descr(e.dtype));
  t.set("shape", shape_json(e.shape));
  t.set("sha256", e.sha);
  if (!e.role.empty()) t.set("role", e.role);
  return t;
}

void check_listed_file_sha(const Fields& f, const char* path_key, const char* sha_key, const std::string& file,
                           const std::string& listed, const std::string& listed_by) {
  if (!fs::exists(file)) f.fail(path_key, fs::path(file).filename().string() + " not found at " + file);
  const std::string got = sha256_file_hex(file);
  if (got != listed) {
    f.fail(sha_key, "checksum mismatch for " + file + ": " + listed_by + " " + listed + ", file has " + got);
  }
}

void check_recount(const Fields& f, const std::string& key, int64_t want, const char* how) {
  const int64_t got = f.integer(key, 0, INT64_MAX);
  if (got != want) {
    f.fail(key, "expected " + std::to_string(want) + " (" + how + "), got " + std::to_string(got));
  }
}

}  // namespace esact::vectors::detail
