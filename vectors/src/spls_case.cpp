// SPLS case directories and the corpus manifest: vectors/FORMAT.md is the normative description.
#include "esact/vectors/spls_case.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>

#include "case_io.h"
#include "esact/vectors/sha256.h"

namespace esact::vectors {
namespace fs = std::filesystem;
using detail::Fields;
using detail::is_hex64;
using detail::plain_name;

namespace {

enum class Role { kInput, kExpected };
const char* role_name(Role r) { return r == Role::kInput ? "input" : "expected"; }

// Calls f(name, role, expected_shape, tensor) for every tensor of the case, in file order.
// Works for const and non-const cases.
template <typename Case, typename F>
void visit_tensors(Case& c, F&& f) {
  const int64_t N = c.config.N, D = c.config.D, H = c.config.H;
  if (c.params.predict_from == PredictFrom::kProjected) {
    f("x", Role::kInput, std::vector<int64_t>{N, D}, c.x);
    f("wq", Role::kInput, std::vector<int64_t>{D, D}, c.wq);
    f("wk", Role::kInput, std::vector<int64_t>{D, D}, c.wk);
  } else {
    f("q", Role::kInput, std::vector<int64_t>{N, D}, c.q);
    f("k", Role::kInput, std::vector<int64_t>{N, D}, c.k);
  }
  auto& e = c.expected;
  f("x_codes", Role::kExpected, std::vector<int64_t>{N, D}, e.x_codes);
  f("q_hat", Role::kExpected, std::vector<int64_t>{N, D}, e.q_hat);
  f("k_hat", Role::kExpected, std::vector<int64_t>{N, D}, e.k_hat);
  f("shifts", Role::kExpected, std::vector<int64_t>{H, 2}, e.shifts);
  f("q_scaled", Role::kExpected, std::vector<int64_t>{N, D}, e.q_scaled);
  f("k_scaled", Role::kExpected, std::vector<int64_t>{N, D}, e.k_scaled);
  f("pam", Role::kExpected, std::vector<int64_t>{H, N, N}, e.pam);
  f("topk_mask", Role::kExpected, std::vector<int64_t>{H, N, N}, e.topk_mask);
  f("rep", Role::kExpected, std::vector<int64_t>{H, N}, e.rep);
  f("kv_needed", Role::kExpected, std::vector<int64_t>{H, N}, e.kv_needed);
  f("token_rep", Role::kExpected, std::vector<int64_t>{N}, e.token_rep);
}

const char* predict_from_name(PredictFrom p) {
  return p == PredictFrom::kProjected ? "projected" : "generated_qk";
}

// The parameter a SplsParams::validate message names ("parameter 'L': ..."), for the field path.
std::string param_field_of(const std::string& msg) {
  const std::string tag = "parameter '";
  const size_t a = msg.find(tag);
  if (a == std::string::npos) return "params";
  const size_t b = msg.find('\'', a + tag.size());
  if (b == std::string::npos) return "params";
  return "params." + msg.substr(a + tag.size(), b - a - tag.size());
}

Json macs_json(const MacCounts& m) {
  Json o = Json::object();
  o.set("q", Json(static_cast<long long>(m.q)));
  o.set("kv", Json(static_cast<long long>(m.kv)));
  o.set("qk", Json(static_cast<long long>(m.qk)));
  o.set("av", Json(static_cast<long long>(m.av)));
  o.set("oproj", Json(static_cast<long long>(m.oproj)));
  o.set("ffn", Json(static_cast<long long>(m.ffn)));
  o.set("total", Json(static_cast<long long>(m.total())));
  return o;
}

// Counters of spec section 8 recomputed from the output tensors alone (independently of run_spls).
SplsCounters counters_from_tensors(const HwConfig& cfg, const SplsParams& p, const SplsResult& r) {
  const int64_t L = p.L, D = cfg.D, H = cfg.H, dh = cfg.dh(), F = cfg.F, N = cfg.N;
  SplsCounters c;
  const bool projected = p.predict_from == PredictFrom::kProjected;
  c.pred_pairs = (projected ? 2 * L * D * D : 0) + H * L * L * dh;
  c.dense.q = L * D * D;
  c.dense.kv = 2 * L * D * D;
  c.dense.qk = H * L * L * dh;
  c.dense.av = c.dense.qk;
  c.dense.oproj = L * D * D;
  c.dense.ffn = 2 * L * D * F;
  for (int64_t h = 0; h < H; ++h) {
    int64_t reps = 0, kv_rows = 0;
    for (int64_t i = 0; i < L; ++i) {
      if (r.rep(h, i) != i) continue;
      ++reps;
      int64_t kept = 0;
      for (int64_t j = 0; j < N; ++j) kept += r.topk_mask(h, i, j);
      c.executed.qk += kept * dh;
    }
    for (int64_t j = 0; j < L; ++j) kv_rows += r.kv_needed(h, j) ? 1 : 0;
    c.executed.q += reps * D * dh;
    c.executed.kv += kv_rows * 2 * D * dh;
    c.head_followers += L - reps;
    c.kv_rows_skipped += L - kv_rows;
  }
  c.executed.av = c.executed.qk;
  int64_t token_reps = 0;
  for (int64_t i = 0; i < L; ++i) token_reps += r.token_rep.data[static_cast<size_t>(i)] == i ? 1 : 0;
  c.token_followers = L - token_reps;
  c.executed.oproj = token_reps * D * D;
  c.executed.ffn = token_reps * 2 * D * F;
  return c;
}

// Structural rules the expected tensors obey whatever the inputs (spec sections 3-7).
void check_expected_consistency(const SplsCase& c) {
  const int64_t N = c.config.N, D = c.config.D, H = c.config.H, dh = c.config.dh(), L = c.params.L;
  const SplsResult& r = c.expected;
  auto bad = [&](const char* tensor, const std::string& what) {
    throw VectorError(c.dir + "/" + tensor + ".npy", "data", what);
  };
  auto at = [](int64_t h, int64_t i) { return "head " + std::to_string(h) + " row " + std::to_string(i); };
  const bool projected = c.params.predict_from == PredictFrom::kProjected;

  for (int64_t i = 0; i < N; ++i) {
    for (int64_t d = 0; d < D; ++d) {
      const uint8_t code = r.x_codes(i, d);
      const bool zero = (code >> 5) & 1;
      if (code >= 64 || (zero && code != 0x20)) bad("x_codes", "invalid HLog code at [" + std::to_string(i) + "," + std::to_string(d) + "]");
      if ((i >= L || !projected) && code != 0x20) bad("x_codes", "padding row " + std::to_string(i) + " must hold zero codes (0x20)");
    }
  }
  for (int64_t h = 0; h < H; ++h) {
    for (int s = 0; s < 2; ++s) {
      const int32_t sh = r.shifts(h, s);
      if (sh < 0 || sh > 24 || (!projected && sh != 0)) bad("shifts", "shift out of range at head " + std::to_string(h));
      const TensorI32& hat = s == 0 ? r.q_hat : r.k_hat;
      const TensorI8& scaled = s == 0 ? r.q_scaled : r.k_scaled;
      const char* name = s == 0 ? "q_scaled" : "k_scaled";
      for (int64_t i = 0; i < N; ++i) {
        for (int64_t col = h * dh; col < (h + 1) * dh; ++col) {
          const int64_t want = i < L ? (static_cast<int64_t>(hat(i, col)) >> sh) : 0;
          if (want < -128 || want > 127) bad(s == 0 ? "shifts" : "shifts", "shift leaves " + std::string(s == 0 ? "q" : "k") + " outside INT8 at head " + std::to_string(h));
          if (scaled(i, col) != want) bad(name, "[" + std::to_string(i) + "," + std::to_string(col) + "] is not the shifted hat value");
          if (i >= L && hat(i, col) != 0) bad(s == 0 ? "q_hat" : "k_hat", "padding row " + std::to_string(i) + " is not zero");
        }
      }
    }
    for (int64_t i = 0; i < N; ++i) {
      int64_t kept = 0;
      for (int64_t j = 0; j < N; ++j) {
        const uint8_t m = r.topk_mask(h, i, j);
        if (m > 1) bad("topk_mask", at(h, i) + ": value " + std::to_string(m) + " is not 0/1");
        if (m && (i >= L || j >= L || (c.params.causal && j > i))) {
          bad("topk_mask", at(h, i) + ": column " + std::to_string(j) + " cannot be kept");
        }
        if ((i >= L || j >= L) && r.pam(h, i, j) != 0) bad("pam", at(h, i) + ": padding entry " + std::to_string(j) + " is not zero");
        kept += m;
      }
      if (i < L) {
        const int64_t candidates = c.params.causal ? i + 1 : L;
        const int64_t k_eff = std::min<int64_t>(c.params.k, candidates);
        if (kept != k_eff) bad("topk_mask", at(h, i) + " keeps " + std::to_string(kept) + " columns, expected k_eff = " + std::to_string(k_eff));
      }
    }
    for (int64_t i = 0; i < N; ++i) {
      const int64_t rep = r.rep(h, i);
      if (i >= L) {
        if (rep != -1) bad("rep", at(h, i) + ": padding row must be -1, got " + std::to_string(rep));
        continue;
      }
      const bool ok = rep == i || (i > 0 && rep >= 0 && rep < i && i - rep <= c.params.w && r.rep(h, rep) == rep);
      if (!ok) bad("rep", at(h, i) + ": representative " + std::to_string(rep) + " is not legal");
    }
    for (int64_t j = 0; j < N; ++j) {
      uint8_t want = 0;
      for (int64_t i = 0; i < L; ++i) want |= r.rep(h, i) == i ? r.topk_mask(h, i, j) : 0;
      if (r.kv_needed(h, j) != want) bad("kv_needed", "head " + std::to_string(h) + " column " + std::to_string(j) + " disagrees with the representatives' masks");
    }
  }
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = r.token_rep.data[static_cast<size_t>(i)];
    if (i >= L) {
      if (t != -1) bad("token_rep", "padding token " + std::to_string(i) + " must be -1");
      continue;
    }
    const bool ok = t == i || (t < i && t >= std::max<int64_t>(0, i - c.params.w));
    if (!ok) bad("token_rep", "token " + std::to_string(i) + ": representative " + std::to_string(t) + " is not legal");
  }
}

}  // namespace

SplsResult run_golden(const SplsCase& c) {
  if (c.params.predict_from == PredictFrom::kProjected) return run_spls(c.config, c.params, c.x, c.wq, c.wk);
  return run_spls(c.config, c.params, c.q, c.k, TensorI8{});
}

// ------------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------------
namespace {

using Encoded = detail::EncodedTensor;

std::vector<Encoded> encode_tensors(const SplsCase& c) {
  std::vector<Encoded> out;
  visit_tensors(c, [&](const char* name, Role role, const std::vector<int64_t>& shape, const auto& t) {
    out.push_back(detail::encode_tensor("write_spls_case", name, role_name(role), t, shape));
  });
  return out;
}

Json case_json_from(const SplsCase& c, const std::vector<Encoded>& tensors) {
  Json doc = detail::document_header("spls", c.name);
  Json cfg = Json::object();
  cfg.set("name", c.config.name);
  cfg.set("N", c.config.N);
  cfg.set("D", c.config.D);
  cfg.set("H", c.config.H);
  cfg.set("F", c.config.F);
  cfg.set("LANES", c.config.LANES);
  doc.set("config", cfg);
  Json params = Json::object();
  params.set("L", c.params.L);
  params.set("k", c.params.k);
  params.set("T", c.params.T);
  params.set("w", c.params.w);
  params.set("V", c.params.V);
  params.set("causal", c.params.causal);
  params.set("predict_from", predict_from_name(c.params.predict_from));
  if (c.rho_milli) params.set("rho_milli", *c.rho_milli);
  if (c.tau_milli) params.set("tau_milli", *c.tau_milli);
  doc.set("params", params);
  detail::set_origin_fields(doc, c.seed, c.generator_name, c.generator_version, c.provenance, c.tags);
  Json tj = Json::object();
  for (const auto& e : tensors) tj.set(e.name, detail::tensor_entry_json(e));
  doc.set("tensors", tj);
  const SplsCounters& k = c.expected.counters;
  Json summary = Json::object();
  summary.set("pred_pairs", Json(static_cast<long long>(k.pred_pairs)));
  summary.set("head_followers", Json(static_cast<long long>(k.head_followers)));
  summary.set("token_followers", Json(static_cast<long long>(k.token_followers)));
  summary.set("kv_rows_skipped", Json(static_cast<long long>(k.kv_rows_skipped)));
  summary.set("macs_dense", macs_json(k.dense));
  summary.set("macs_executed", macs_json(k.executed));
  doc.set("summary", summary);
  return doc;
}

void check_case_for_writing(const SplsCase& c) {
  c.config.validate();
  c.params.validate(c.config);
  if (!plain_name(c.name)) throw std::invalid_argument("write_spls_case: bad case name '" + c.name + "'");
  if (c.seed > static_cast<uint64_t>(INT64_MAX)) throw std::invalid_argument("write_spls_case: seed exceeds 2^63-1");
  if (!(c.provenance.is_string() && !c.provenance.as_string().empty()) && !c.provenance.is_object()) {
    throw std::invalid_argument("write_spls_case: provenance must be a non-empty string or an object");
  }
  if (c.generator_version.empty()) throw std::invalid_argument("write_spls_case: generator version missing");
}

}  // namespace

Json spls_case_json(const SplsCase& c) {
  check_case_for_writing(c);
  return case_json_from(c, encode_tensors(c));
}

std::string write_spls_case(const SplsCase& c, const std::string& case_dir) {
  check_case_for_writing(c);
  const std::vector<Encoded> tensors = encode_tensors(c);
  detail::make_directory(case_dir);
  for (const auto& e : tensors) write_file_bytes(case_dir + "/" + e.file(), e.bytes);
  return detail::write_json_file(case_dir + "/case.json", case_json_from(c, tensors));
}

// ------------------------------------------------------------------------------------------------
// Loading
// ------------------------------------------------------------------------------------------------
SplsCase load_spls_case(const std::string& case_dir_in, bool lanes_record_only) {
  const std::string case_dir = detail::strip_trailing_slashes(case_dir_in);
  const std::string file = case_dir + "/case.json";
  if (!fs::is_directory(case_dir)) throw VectorError(case_dir, "", "not a directory");
  const Json doc = detail::read_json_file(file);
  const Fields root(file, doc, "");
  root.only({"format", "format_version", "kind", "name", "config", "params", "seed", "generator",
             "provenance", "tags", "tensors", "summary"});
  detail::check_header(root, "spls");

  SplsCase c;
  c.dir = case_dir;
  c.name = root.string("name");
  if (!plain_name(c.name)) root.fail("name", "must be a non-empty [A-Za-z0-9_.-] name");

  // ---- configuration: known, and the same numbers as configs/<name>.cfg ----
  const Fields cfg(file, root.get("config"), "config");
  cfg.only({"name", "N", "D", "H", "F", "LANES"});
  try {
    c.config = config_by_name(cfg.string("name"));
  } catch (const std::invalid_argument& e) {
    cfg.fail("name", e.what());
  }
  const std::pair<const char*, int> cfg_fields[] = {{"N", c.config.N}, {"D", c.config.D}, {"H", c.config.H},
                                                    {"F", c.config.F}, {"LANES", c.config.LANES}};
  for (const auto& [key, want] : cfg_fields) {
    const int64_t got = cfg.integer(key, INT32_MIN, INT32_MAX);
    if (lanes_record_only && std::string(key) == "LANES") continue;  // throughput only: no value depends on it
    if (got != want) {
      cfg.fail(key, "expected " + std::to_string(want) + " (configs/" + c.config.name + ".cfg), got " +
                        std::to_string(got));
    }
  }

  // ---- params ----
  const Fields pf(file, root.get("params"), "params");
  pf.only({"L", "k", "T", "w", "V", "causal", "predict_from", "rho_milli", "tau_milli"});
  detail::read_common_params(pf, c.params);
  const std::string pfrom = pf.string("predict_from");
  if (pfrom == "projected") {
    c.params.predict_from = PredictFrom::kProjected;
  } else if (pfrom == "generated_qk") {
    c.params.predict_from = PredictFrom::kGeneratedQk;
  } else {
    pf.fail("predict_from", "expected \"projected\" or \"generated_qk\", got \"" + pfrom + "\"");
  }
  try {
    c.params.validate(c.config);
  } catch (const std::invalid_argument& e) {
    throw VectorError(file, param_field_of(e.what()), e.what());
  }
  if (pf.find("rho_milli")) {
    c.rho_milli = static_cast<int>(pf.integer("rho_milli", 0, 1000));
    const SplsParams want = SplsParams::from_fractions(c.params.L, *c.rho_milli, 0, 0, 1);
    if (want.k != c.params.k) {
      pf.fail("k", "inconsistent with rho_milli = " + std::to_string(*c.rho_milli) + " and L = " +
                       std::to_string(c.params.L) + ": expected " + std::to_string(want.k) + ", got " +
                       std::to_string(c.params.k));
    }
  }
  if (pf.find("tau_milli")) {
    c.tau_milli = static_cast<int>(pf.integer("tau_milli", 0, 1000));
    const int64_t want_t = (static_cast<int64_t>(*c.tau_milli) * c.params.k + 999) / 1000;
    if (want_t != c.params.T) {
      pf.fail("T", "inconsistent with tau_milli = " + std::to_string(*c.tau_milli) + " and k = " +
                       std::to_string(c.params.k) + ": expected " + std::to_string(want_t) + ", got " +
                       std::to_string(c.params.T));
    }
  }

  // ---- seed, generator, provenance, tags ----
  c.seed = static_cast<uint64_t>(root.integer("seed", 0, INT64_MAX));
  const Fields gen(file, root.get("generator"), "generator");
  gen.only({"name", "version"});
  c.generator_name = gen.string("name");
  c.generator_version = gen.string("version");
  if (c.generator_name.empty()) gen.fail("name", "empty");
  if (c.generator_version.empty()) gen.fail("version", "empty");
  c.provenance = detail::read_provenance(root);
  const Json& tags = root.get("tags");
  if (!tags.is_array()) root.fail("tags", std::string("expected an array, got ") + tags.type_name());
  for (const Json& t : tags.as_array()) {
    if (!t.is_string() || !plain_name(t.as_string())) root.fail("tags", "every tag must be a [A-Za-z0-9_.-] string");
    c.tags.push_back(t.as_string());
  }

  // ---- tensors: entry fields, then the .npy itself (structure, dtype, shape, checksum) ----
  const Fields tf(file, root.get("tensors"), "tensors");
  std::set<std::string> known;
  visit_tensors(c, [&](const char* name, Role role, const std::vector<int64_t>& shape, auto& t) {
    using T = typename std::decay_t<decltype(t.data)>::value_type;
    known.insert(name);
    const Json* entry = tf.find(name);
    if (entry == nullptr) tf.fail(name, "missing (required for kind spls, predict_from " + pfrom + ")");
    const Fields ef(file, *entry, tf.path(name));
    ef.only({"file", "dtype", "shape", "sha256", "role"});
    const std::string fname = ef.string("file");
    if (!plain_name(fname) || fname.size() < 5 || fname.substr(fname.size() - 4) != ".npy") {
      ef.fail("file", "must be a plain file name ending in .npy, got \"" + fname + "\"");
    }
    const std::string want_dtype = dtype_descr(dtype_of<T>());
    if (ef.string("dtype") != want_dtype) ef.fail("dtype", "expected '" + want_dtype + "', got '" + ef.string("dtype") + "'");
    const Json& sj = ef.get("shape");
    std::vector<int64_t> listed;
    if (sj.is_array()) {
      for (const Json& d : sj.as_array()) {
        if (!d.is_int()) ef.fail("shape", "expected an array of integers");
        listed.push_back(d.as_int());
      }
    } else {
      ef.fail("shape", std::string("expected an array, got ") + sj.type_name());
    }
    if (listed != shape) ef.fail("shape", "expected " + shape_str(shape) + ", got " + shape_str(listed));
    const std::string sha = ef.string("sha256");
    if (!is_hex64(sha)) ef.fail("sha256", "expected 64 lower-case hex digits");
    if (ef.string("role") != role_name(role)) {
      ef.fail("role", std::string("expected \"") + role_name(role) + "\", got \"" + ef.string("role") + "\"");
    }

    const std::string path = case_dir + "/" + fname;
    if (!fs::exists(path)) throw VectorError(path, "", std::string("missing tensor file (listed as tensors.") + name + " in case.json)");
    const std::string bytes = read_file_bytes(path);
    const NpyArray a = parse_npy(path, bytes);
    if (a.dtype != dtype_of<T>()) {
      throw VectorError(path, "descr", "expected '" + want_dtype + "', got '" + dtype_descr(a.dtype) + "'");
    }
    if (a.shape != shape) throw VectorError(path, "shape", "expected " + shape_str(shape) + ", got " + shape_str(a.shape));
    const std::string got_sha = sha256_hex(bytes);
    if (got_sha != sha) {
      throw VectorError(path, "sha256", "checksum mismatch: case.json lists " + sha + ", file has " + got_sha);
    }
    t = npy_to_tensor<T>(a, path);
  });
  for (const auto& [key, v] : doc.find("tensors")->as_object()) {
    if (!known.count(key)) tf.fail(key, "unknown tensor for kind spls, predict_from " + pfrom);
  }

  // ---- expected tensors: consistent with each other and with the summary ----
  check_expected_consistency(c);
  const SplsCounters counted = counters_from_tensors(c.config, c.params, c.expected);
  const Fields sf(file, root.get("summary"), "summary");
  sf.only({"pred_pairs", "head_followers", "token_followers", "kv_rows_skipped", "macs_dense", "macs_executed"});
  auto check_count = [](const Fields& f, const char* key, int64_t want) {
    detail::check_recount(f, key, want, "recomputed from the tensors");
  };
  check_count(sf, "pred_pairs", counted.pred_pairs);
  check_count(sf, "head_followers", counted.head_followers);
  check_count(sf, "token_followers", counted.token_followers);
  check_count(sf, "kv_rows_skipped", counted.kv_rows_skipped);
  for (const auto& [key, macs] : {std::pair<const char*, const MacCounts*>{"macs_dense", &counted.dense},
                                  {"macs_executed", &counted.executed}}) {
    const Fields mf(file, sf.get(key), sf.path(key));
    mf.only({"q", "kv", "qk", "av", "oproj", "ffn", "total"});
    check_count(mf, "q", macs->q);
    check_count(mf, "kv", macs->kv);
    check_count(mf, "qk", macs->qk);
    check_count(mf, "av", macs->av);
    check_count(mf, "oproj", macs->oproj);
    check_count(mf, "ffn", macs->ffn);
    check_count(mf, "total", macs->total());
  }
  c.expected.counters = counted;
  return c;
}

// ------------------------------------------------------------------------------------------------
// Manifest
// ------------------------------------------------------------------------------------------------
Manifest read_manifest(const std::string& path_in, bool verify_checksums) {
  std::string file = path_in;
  if (fs::is_directory(file)) file += "/manifest.json";
  Manifest m;
  m.dir = fs::path(file).parent_path().string();
  if (m.dir.empty()) m.dir = ".";
  const Json doc = detail::read_json_file(file);
  const Fields root(file, doc, "");
  root.only({"format", "format_version", "generator", "cases"});
  if (root.string("format") != kManifestFormatName) {
    root.fail("format", std::string("expected \"") + kManifestFormatName + "\", got \"" + root.string("format") + "\"");
  }
  root.integer("format_version", kFormatVersion, kFormatVersion);
  const Fields gen(file, root.get("generator"), "generator");
  gen.only({"name", "version"});
  m.generator_name = gen.string("name");
  m.generator_version = gen.string("version");
  const Json& cases = root.get("cases");
  if (!cases.is_array()) root.fail("cases", std::string("expected an array, got ") + cases.type_name());
  std::set<std::string> seen;
  for (size_t i = 0; i < cases.as_array().size(); ++i) {
    const Fields cf(file, cases.as_array()[i], "cases[" + std::to_string(i) + "]");
    cf.only({"path", "config", "name", "kind", "tags", "case_json_sha256"});
    ManifestEntry e;
    if (cf.find("kind")) {
      e.kind = cf.string("kind");
      if (e.kind != "spls" && e.kind != "layer") cf.fail("kind", "expected \"spls\" or \"layer\", got \"" + e.kind + "\"");
    }
    e.path = cf.string("path");
    e.config = cf.string("config");
    e.name = cf.string("name");
    e.case_json_sha256 = cf.string("case_json_sha256");
    const fs::path p(e.path);
    bool relative_clean = !e.path.empty() && p.is_relative();
    for (const auto& part : p) relative_clean = relative_clean && plain_name(part.string());
    if (!relative_clean) cf.fail("path", "must be a relative path of plain names, got \"" + e.path + "\"");
    if (!seen.insert(e.path).second) cf.fail("path", "duplicate case \"" + e.path + "\"");
    if (!is_hex64(e.case_json_sha256)) cf.fail("case_json_sha256", "expected 64 lower-case hex digits");
    const Json& tags = cf.get("tags");
    if (!tags.is_array()) cf.fail("tags", "expected an array of strings");
    for (const Json& t : tags.as_array()) {
      if (!t.is_string()) cf.fail("tags", "expected an array of strings");
      e.tags.push_back(t.as_string());
    }
    if (verify_checksums) {
      const std::string cj = m.dir + "/" + e.path + "/case.json";
      detail::check_listed_file_sha(cf, "path", "case_json_sha256", cj, e.case_json_sha256, "manifest lists");
    }
    m.cases.push_back(std::move(e));
  }
  return m;
}

void write_manifest(const Manifest& m, const std::string& manifest_path) {
  Json doc = Json::object();
  doc.set("format", kManifestFormatName);
  doc.set("format_version", kFormatVersion);
  doc.set("generator", detail::generator_json(m.generator_name, m.generator_version));
  Json cases = Json::array();
  for (const auto& e : m.cases) {
    Json c = Json::object();
    c.set("path", e.path);
    c.set("config", e.config);
    c.set("name", e.name);
    if (e.kind != "spls") c.set("kind", e.kind);
    Json tags = Json::array();
    for (const auto& t : e.tags) tags.push_back(t);
    c.set("tags", tags);
    c.set("case_json_sha256", e.case_json_sha256);
    cases.push_back(c);
  }
  doc.set("cases", cases);
  write_file_bytes(manifest_path, dump_json(doc));
}

std::string default_corpus_dir() {
  if (const char* env = std::getenv("ESACT_CORPUS_DIR"); env != nullptr && *env != '\0') return env;
#ifdef ESACT_VECTORS_CORPUS_DIR
  return ESACT_VECTORS_CORPUS_DIR;
#else
  return "vectors/corpus";
#endif
}

}  // namespace esact::vectors
