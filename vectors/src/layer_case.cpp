// Encoder-layer cases and shared weights directories: vectors/FORMAT.md ("Layer cases") is the
// normative description.
#include "esact/vectors/layer_case.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "case_io.h"
#include "esact/vectors/error.h"
#include "esact/vectors/generator.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/sha256.h"

namespace esact::vectors {
namespace fs = std::filesystem;
using detail::Fields;
using detail::plain_name;

namespace {

// One tensor on disk: encoded bytes and its case.json / weights.json entry.
using Blob = detail::EncodedTensor;

template <typename T>
void add_blob(std::vector<Blob>& out, const std::string& name, const std::string& role, const Tensor<T>& t,
              const std::vector<int64_t>& shape) {
  out.push_back(detail::encode_tensor("layer vectors", name, role, t, shape));
}

Json blobs_json(const std::vector<Blob>& blobs) {
  Json tj = Json::object();
  for (const Blob& b : blobs) tj.set(b.name, detail::tensor_entry_json(b));
  return tj;
}

void write_blobs(const std::vector<Blob>& blobs, const std::string& dir) {
  detail::make_directory(dir);
  for (const Blob& b : blobs) write_file_bytes(dir + "/" + b.file(), b.bytes);
}

// Reads tensor `name` listed in `tensors` (file, dtype, shape, sha256[, role]) and checks everything.
template <typename T>
Tensor<T> read_listed(const std::string& dir, const Fields& tensors, const std::string& name,
                      const std::vector<int64_t>& shape, const char* role) {
  const Fields t(tensors.file(), tensors.get(name), tensors.path(name));
  if (role) t.only({"file", "dtype", "shape", "sha256", "role"});
  else t.only({"file", "dtype", "shape", "sha256"});
  const std::string file = t.string("file");
  if (file != name + ".npy") t.fail("file", "expected \"" + name + ".npy\", got \"" + file + "\"");
  if (t.string("dtype") != dtype_descr(dtype_of<T>()))
    t.fail("dtype", std::string("expected \"") + dtype_descr(dtype_of<T>()) + "\", got \"" + t.string("dtype") + "\"");
  const Json& sj = t.get("shape");
  std::vector<int64_t> listed;
  if (sj.is_array())
    for (const Json& d : sj.as_array()) listed.push_back(d.is_int() ? d.as_int() : -1);
  if (!sj.is_array() || listed != shape) t.fail("shape", "expected " + shape_str(shape) + ", got " + dump_json(sj).substr(0, 40));
  if (role && t.string("role") != role) t.fail("role", std::string("expected \"") + role + "\", got \"" + t.string("role") + "\"");
  const std::string path = dir + "/" + file;
  if (!fs::exists(path)) t.fail("file", "not found: " + path);
  const std::string bytes = read_file_bytes(path);
  const std::string sha = sha256_hex(bytes);
  if (sha != t.string("sha256")) t.fail("sha256", "checksum mismatch for " + path + ": listed " + t.string("sha256") + ", file has " + sha);
  const NpyArray a = parse_npy(path, bytes);
  if (a.shape != shape) throw VectorError(path, "shape", "expected " + shape_str(shape) + ", got " + shape_str(a.shape));
  return npy_to_tensor<T>(a, path);
}

Json config_json(const HwConfig& c) {
  Json o = Json::object();
  o.set("name", c.name);
  o.set("N", c.N);
  o.set("D", c.D);
  o.set("H", c.H);
  o.set("F", c.F);
  return o;
}

HwConfig read_config(const Fields& root) {
  const Fields cfg(root.file(), root.get("config"), "config");
  cfg.only({"name", "N", "D", "H", "F"});
  HwConfig c;
  try {
    c = config_by_name(cfg.string("name"));
  } catch (const std::invalid_argument& e) {
    cfg.fail("name", e.what());
  }
  const std::pair<const char*, int> want[] = {{"N", c.N}, {"D", c.D}, {"H", c.H}, {"F", c.F}};
  for (const auto& [k, v] : want) {
    const int64_t got = cfg.integer(k, 0, INT32_MAX);
    if (got != v) cfg.fail(k, "expected " + std::to_string(v) + " (configs/" + c.name + ".cfg), got " + std::to_string(got));
  }
  return c;
}

// ---- Weights directory -------------------------------------------------------------------------
// Requantiser sets as [n, 2] INT32 {M, S}.
TensorI32 rq_tensor(const RequantSet& s) {
  TensorI32 t({static_cast<int64_t>(s.ch.size()), 2});
  for (size_t i = 0; i < s.ch.size(); ++i) {
    t(static_cast<int64_t>(i), 0) = s.ch[i].M;
    t(static_cast<int64_t>(i), 1) = s.ch[i].S;
  }
  return t;
}
RequantSet rq_from(const TensorI32& t) {
  std::vector<Requant> ch;
  for (int64_t i = 0; i < t.shape[0]; ++i) ch.push_back(Requant{t(i, 0), t(i, 1)});
  return RequantSet(ch);
}
TensorI32 vec_i32(const std::vector<int32_t>& v) {
  TensorI32 t({static_cast<int64_t>(v.size())});
  t.data = v;
  return t;
}
TensorI16 vec_i16(const std::vector<int16_t>& v) {
  TensorI16 t({static_cast<int64_t>(v.size())});
  t.data = v;
  return t;
}

// The requantiser sets of a layer, by file name.
template <typename Q, typename F>
void visit_requants(Q& q, F&& f) {
  f("rq_q", q.q);
  f("rq_k", q.k);
  f("rq_v", q.v);
  f("rq_qk", q.qk);
  f("rq_av", q.av);
  f("rq_oproj", q.oproj);
  f("rq_up", q.up);
  f("rq_gelu", q.gelu);
  f("rq_down", q.down);
  f("ln1_out", q.ln1.out);
  f("ln1r_out", q.ln1r);
  f("ln2_out", q.ln2.out);
  f("ln2r_out", q.ln2r);
}

std::vector<Blob> weight_blobs(const LayerWeightsSet& s) {
  const HwConfig& c = s.config;
  const int64_t D = c.D, F = c.F;
  const LayerWeights& w = s.weights;
  std::vector<Blob> b;
  add_blob(b, "wq", "", w.wq, {D, D});
  add_blob(b, "wk", "", w.wk, {D, D});
  add_blob(b, "wv", "", w.wv, {D, D});
  add_blob(b, "wo", "", w.wo, {D, D});
  add_blob(b, "w1", "", w.w1, {D, F});
  add_blob(b, "w2", "", w.w2, {F, D});
  add_blob(b, "bq", "", vec_i32(w.bq), {D});
  add_blob(b, "bk", "", vec_i32(w.bk), {D});
  add_blob(b, "bv", "", vec_i32(w.bv), {D});
  add_blob(b, "bo", "", vec_i32(w.bo), {D});
  add_blob(b, "b1", "", vec_i32(w.b1), {F});
  add_blob(b, "b2", "", vec_i32(w.b2), {D});
  visit_requants(w.quant, [&](const char* n, const RequantSet& r) {
    const TensorI32 t = rq_tensor(r);
    add_blob(b, n, "", t, t.shape);
  });
  add_blob(b, "ln1_gamma", "", vec_i16(w.quant.ln1.gamma), {D});
  add_blob(b, "ln1_beta", "", vec_i32(w.quant.ln1.beta), {D});
  add_blob(b, "ln2_gamma", "", vec_i16(w.quant.ln2.gamma), {D});
  add_blob(b, "ln2_beta", "", vec_i32(w.quant.ln2.beta), {D});
  return b;
}

// Legal channel counts of each requantiser set (1 or the named dimension).
int64_t rq_channels(const HwConfig& c, const std::string& n) {
  if (n == "rq_qk") return c.H;
  if (n == "rq_up" || n == "rq_gelu") return c.F;
  return c.D;
}

// ---- Case tensors ------------------------------------------------------------------------------
template <typename Case, typename F>
void visit_layer_tensors(Case& c, F&& f) {
  const int64_t N = c.config.N, D = c.config.D, H = c.config.H, Fw = c.config.F;
  f("x", "input", std::vector<int64_t>{N, D}, c.x);
  f("xr", "input", std::vector<int64_t>{N, D}, c.xr);
  if (c.sw.any()) {
    f("topk_mask", "spls", std::vector<int64_t>{H, N, N}, c.spls.topk_mask);
    f("rep", "spls", std::vector<int64_t>{H, N}, c.spls.rep);
    f("kv_needed", "spls", std::vector<int64_t>{H, N}, c.spls.kv_needed);
    f("token_rep", "spls", std::vector<int64_t>{N}, c.spls.token_rep);
  }
  auto& e = c.expected;
  f("q", "expected", std::vector<int64_t>{N, D}, e.q);
  f("k", "expected", std::vector<int64_t>{N, D}, e.k);
  f("v", "expected", std::vector<int64_t>{N, D}, e.v);
  f("attn", "expected", std::vector<int64_t>{N, D}, e.attn);
  f("oproj", "expected", std::vector<int64_t>{N, D}, e.oproj);
  f("ln1", "expected", std::vector<int64_t>{N, D}, e.ln1);
  f("ln1r", "expected", std::vector<int64_t>{N, D}, e.ln1r);
  f("ffn_hidden", "expected", std::vector<int64_t>{N, Fw}, e.ffn_hidden);
  f("ffn_out", "expected", std::vector<int64_t>{N, D}, e.ffn_out);
  f("out", "expected", std::vector<int64_t>{N, D}, e.out);
  f("out_r", "expected", std::vector<int64_t>{N, D}, e.out_r);
}

const char* kSwitchNames[6] = {"skip_q", "skip_kv", "topk_attn", "reuse_attn", "reuse_oproj", "reuse_ffn"};
bool* switch_ptr(LayerSwitches& s, int i) {
  bool* p[6] = {&s.skip_q, &s.skip_kv, &s.topk_attn, &s.reuse_attn, &s.reuse_oproj, &s.reuse_ffn};
  return p[i];
}
bool switch_at(const LayerSwitches& s, int i) { return *switch_ptr(const_cast<LayerSwitches&>(s), i); }

Json macs_json(const LayerMacs& m) {
  Json o = Json::object();
  const std::pair<const char*, int64_t> f[] = {{"q", m.q},   {"k", m.k},         {"v", m.v},
                                               {"qk", m.qk}, {"av", m.av},       {"oproj", m.oproj},
                                               {"ffn_up", m.ffn_up}, {"ffn_down", m.ffn_down}, {"total", m.total()}};
  for (const auto& [k, v] : f) o.set(k, Json(static_cast<long long>(v)));
  return o;
}

// Section 20 recounted from the params, switches and SPLS tensors alone (not from run_layer).
LayerMacs recount_macs(const LayerCase& c) {
  const HwConfig& cfg = c.config;
  const int64_t L = c.params.L, D = cfg.D, dh = cfg.dh(), F = cfg.F, H = cfg.H;
  const SplsResult* spls = c.sw.any() ? &c.spls : nullptr;
  LayerMacs m;
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t i = 0; i < L; ++i) {
      const bool head_rep = !spls || spls->rep(h, i) == i;
      if (!c.sw.skip_q || head_rep) m.q += D * dh;
      if (!c.sw.skip_kv || spls->kv_needed(h, i)) {
        m.k += D * dh;
        m.v += D * dh;
      }
      if (c.sw.reuse_attn && !head_rep) continue;
      const std::vector<uint8_t> cols = attention_columns(cfg, c.params, spls, c.sw, static_cast<int>(h), static_cast<int>(i));
      int64_t n = 0;
      for (uint8_t b : cols) n += b;
      m.qk += n * dh;
      m.av += n * dh;
    }
  }
  for (int64_t i = 0; i < L; ++i) {
    const bool token_rep = !spls || spls->token_rep.data[static_cast<size_t>(i)] == i;
    if (!c.sw.reuse_oproj || token_rep) m.oproj += D * D;
    if (!c.sw.reuse_ffn || token_rep) {
      m.ffn_up += D * F;
      m.ffn_down += D * F;
    }
  }
  return m;
}

template <typename T>
void require_zero_rows(const Tensor<T>& t, int64_t from, const std::string& file) {
  for (int64_t i = from; i < t.shape[0]; ++i)
    for (int64_t j = 0; j < t.shape[1]; ++j)
      if (t(i, j) != 0) throw VectorError(file, "data", "padding row " + std::to_string(i) + " is not zero");
}

}  // namespace

std::string switches_name(const LayerSwitches& sw) {
  int on = 0, which = -1;
  for (int i = 0; i < 6; ++i)
    if (switch_at(sw, i)) {
      ++on;
      which = i;
    }
  if (on == 0) return "dense";
  if (on == 6) return "esact";
  if (on == 1) return kSwitchNames[which];
  return "custom";
}

LayerSwitches parse_switches(const std::string& text) {
  if (text == "dense") return LayerSwitches::dense();
  if (text == "esact") return LayerSwitches::esact();
  LayerSwitches s;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma - start);
    int idx = -1;
    for (int i = 0; i < 6; ++i)
      if (part == kSwitchNames[i]) idx = i;
    if (idx < 0)
      throw std::invalid_argument("unknown mode or switch '" + part +
                                  "' (dense, esact, or skip_q, skip_kv, topk_attn, reuse_attn, reuse_oproj, reuse_ffn)");
    *switch_ptr(s, idx) = true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return s;
}

std::string write_layer_weights(const LayerWeightsSet& s, const std::string& dir) {
  s.weights.validate(s.config);
  if (!plain_name(s.name)) throw std::invalid_argument("write_layer_weights: bad name '" + s.name + "'");
  const std::vector<Blob> blobs = weight_blobs(s);
  write_blobs(blobs, dir);
  Json doc = detail::document_header("layer_weights", s.name);
  doc.set("config", config_json(s.config));
  doc.set("seed", Json(static_cast<unsigned long long>(s.seed)));
  doc.set("generator", detail::generator_json(s.generator_name, s.generator_version));
  doc.set("provenance", s.provenance);
  Json q = Json::object();
  q.set("ln1_eps", Json(static_cast<long long>(s.weights.quant.ln1.eps)));
  q.set("ln2_eps", Json(static_cast<long long>(s.weights.quant.ln2.eps)));
  doc.set("quant", q);
  doc.set("tensors", blobs_json(blobs));
  return detail::write_json_file(dir + "/weights.json", doc);
}

LayerWeightsSet load_layer_weights(const std::string& dir_in) {
  const std::string dir = detail::strip_trailing_slashes(dir_in);
  const std::string file = dir + "/weights.json";
  if (!fs::exists(file)) throw VectorError(file, "", "not found");
  const Json doc = detail::read_json_file(file);
  const Fields root(file, doc, "");
  root.only({"format", "format_version", "kind", "name", "config", "seed", "generator", "provenance", "quant", "tensors"});
  detail::check_header(root, "layer_weights");
  LayerWeightsSet s;
  s.dir = dir;
  s.name = root.string("name");
  if (!plain_name(s.name)) root.fail("name", "must be a non-empty [A-Za-z0-9_.-] name");
  s.config = read_config(root);
  s.seed = static_cast<uint64_t>(root.integer("seed", 0, INT64_MAX));
  const Fields gen(file, root.get("generator"), "generator");
  gen.only({"name", "version"});
  s.generator_name = gen.string("name");
  s.generator_version = gen.string("version");
  s.provenance = detail::read_provenance(root);
  const Fields q(file, root.get("quant"), "quant");
  q.only({"ln1_eps", "ln2_eps"});
  LayerWeights& w = s.weights;
  w.quant.ln1.eps = q.integer("ln1_eps", 1, int64_t{1} << 61);
  w.quant.ln2.eps = q.integer("ln2_eps", 1, int64_t{1} << 61);
  const Fields t(file, root.get("tensors"), "tensors");
  const int64_t D = s.config.D, F = s.config.F;
  std::vector<std::string> names = {"wq", "wk", "wv", "wo", "w1", "w2", "bq", "bk", "bv", "bo", "b1", "b2"};
  w.wq = read_listed<int8_t>(dir, t, "wq", {D, D}, nullptr);
  w.wk = read_listed<int8_t>(dir, t, "wk", {D, D}, nullptr);
  w.wv = read_listed<int8_t>(dir, t, "wv", {D, D}, nullptr);
  w.wo = read_listed<int8_t>(dir, t, "wo", {D, D}, nullptr);
  w.w1 = read_listed<int8_t>(dir, t, "w1", {D, F}, nullptr);
  w.w2 = read_listed<int8_t>(dir, t, "w2", {F, D}, nullptr);
  w.bq = read_listed<int32_t>(dir, t, "bq", {D}, nullptr).data;
  w.bk = read_listed<int32_t>(dir, t, "bk", {D}, nullptr).data;
  w.bv = read_listed<int32_t>(dir, t, "bv", {D}, nullptr).data;
  w.bo = read_listed<int32_t>(dir, t, "bo", {D}, nullptr).data;
  w.b1 = read_listed<int32_t>(dir, t, "b1", {F}, nullptr).data;
  w.b2 = read_listed<int32_t>(dir, t, "b2", {D}, nullptr).data;
  visit_requants(w.quant, [&](const char* n, RequantSet& r) {
    names.push_back(n);
    // Per tensor (1 row) or per channel: the listed shape decides, and must be one of the two.
    const Fields e(file, t.get(n), t.path(n));
    const Json& sj = e.get("shape");
    const int64_t rows = sj.is_array() && !sj.as_array().empty() && sj.as_array()[0].is_int() ? sj.as_array()[0].as_int() : -1;
    const int64_t ch = rq_channels(s.config, n);
    if (rows != 1 && rows != ch) e.fail("shape", "expected [1,2] or [" + std::to_string(ch) + ",2]");
    r = rq_from(read_listed<int32_t>(dir, t, n, {rows, 2}, nullptr));
  });
  w.quant.ln1.gamma = read_listed<int16_t>(dir, t, "ln1_gamma", {D}, nullptr).data;
  w.quant.ln1.beta = read_listed<int32_t>(dir, t, "ln1_beta", {D}, nullptr).data;
  w.quant.ln2.gamma = read_listed<int16_t>(dir, t, "ln2_gamma", {D}, nullptr).data;
  w.quant.ln2.beta = read_listed<int32_t>(dir, t, "ln2_beta", {D}, nullptr).data;
  for (const char* n : {"ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta"}) names.push_back(n);
  const Json& tj = root.get("tensors");
  for (const auto& [k, v] : tj.as_object()) {
    (void)v;
    if (std::find(names.begin(), names.end(), k) == names.end()) t.fail(k, "unknown tensor");
  }
  try {
    w.validate(s.config);
  } catch (const std::invalid_argument& e) {
    throw VectorError(file, "tensors", e.what());
  }
  return s;
}

std::string write_layer_case(const LayerCase& c, const std::string& case_dir) {
  c.config.validate();
  c.params.validate(c.config);
  if (!plain_name(c.name)) throw std::invalid_argument("write_layer_case: bad case name '" + c.name + "'");
  if (c.generator_version.empty()) throw std::invalid_argument("write_layer_case: generator version missing");
  detail::make_directory(case_dir);
  const std::string wdir = case_dir + "/" + c.weights_path;
  if (sha256_file_hex(wdir + "/weights.json") != c.weights_sha256)
    throw std::invalid_argument("write_layer_case: " + wdir + "/weights.json does not have the recorded checksum");
  std::vector<Blob> blobs;
  visit_layer_tensors(c, [&](const char* n, const char* role, const std::vector<int64_t>& shape, const auto& t) {
    add_blob(blobs, n, role, t, shape);
  });
  write_blobs(blobs, case_dir);
  Json doc = detail::document_header("layer", c.name);
  doc.set("config", config_json(c.config));
  Json p = Json::object();
  p.set("L", c.params.L);
  p.set("k", c.params.k);
  p.set("T", c.params.T);
  p.set("w", c.params.w);
  p.set("V", c.params.V);
  p.set("causal", c.params.causal);
  if (c.rho_milli) p.set("rho_milli", *c.rho_milli);
  if (c.tau_milli) p.set("tau_milli", *c.tau_milli);
  doc.set("params", p);
  Json sw = Json::object();
  for (int i = 0; i < 6; ++i) sw.set(kSwitchNames[i], switch_at(c.sw, i));
  doc.set("switches", sw);
  detail::set_origin_fields(doc, c.seed, c.generator_name, c.generator_version, c.provenance, c.tags);
  Json wj = Json::object();
  wj.set("path", c.weights_path);
  wj.set("sha256", c.weights_sha256);
  doc.set("weights", wj);
  doc.set("tensors", blobs_json(blobs));
  Json summary = Json::object();
  summary.set("macs_dense", macs_json(c.expected.dense));
  summary.set("macs_executed", macs_json(c.expected.executed));
  doc.set("summary", summary);
  return detail::write_json_file(case_dir + "/case.json", doc);
}

std::string case_kind(const std::string& case_dir) {
  const std::string file = case_dir + "/case.json";
  const Json doc = detail::read_json_file(file);
  const Fields root(file, doc, "");
  return root.string("kind");
}

LayerCase load_layer_case(const std::string& case_dir_in) {
  const std::string dir = detail::strip_trailing_slashes(case_dir_in);
  const std::string file = dir + "/case.json";
  if (!fs::is_directory(dir)) throw VectorError(dir, "", "not a directory");
  const Json doc = detail::read_json_file(file);
  const Fields root(file, doc, "");
  root.only({"format", "format_version", "kind", "name", "config", "params", "switches", "seed", "generator",
             "provenance", "tags", "weights", "tensors", "summary"});
  detail::check_header(root, "layer");
  LayerCase c;
  c.dir = dir;
  c.name = root.string("name");
  if (!plain_name(c.name)) root.fail("name", "must be a non-empty [A-Za-z0-9_.-] name");
  c.config = read_config(root);

  const Fields pf(file, root.get("params"), "params");
  pf.only({"L", "k", "T", "w", "V", "causal", "rho_milli", "tau_milli"});
  detail::read_common_params(pf, c.params);
  try {
    c.params.validate(c.config);
  } catch (const std::invalid_argument& e) {
    throw VectorError(file, "params", e.what());
  }
  if (pf.find("rho_milli")) {
    c.rho_milli = static_cast<int>(pf.integer("rho_milli", 0, 1000));
    if (SplsParams::from_fractions(c.params.L, *c.rho_milli, 0, 0, 1).k != c.params.k)
      pf.fail("k", "inconsistent with rho_milli = " + std::to_string(*c.rho_milli) + " and L = " + std::to_string(c.params.L));
  }
  if (pf.find("tau_milli")) {
    c.tau_milli = static_cast<int>(pf.integer("tau_milli", 0, 1000));
    if ((static_cast<int64_t>(*c.tau_milli) * c.params.k + 999) / 1000 != c.params.T)
      pf.fail("T", "inconsistent with tau_milli = " + std::to_string(*c.tau_milli) + " and k = " + std::to_string(c.params.k));
  }
  const Fields swf(file, root.get("switches"), "switches");
  swf.only({"skip_q", "skip_kv", "topk_attn", "reuse_attn", "reuse_oproj", "reuse_ffn"});
  for (int i = 0; i < 6; ++i) *switch_ptr(c.sw, i) = swf.boolean(kSwitchNames[i]);
  c.seed = static_cast<uint64_t>(root.integer("seed", 0, INT64_MAX));
  const Fields gen(file, root.get("generator"), "generator");
  gen.only({"name", "version"});
  c.generator_name = gen.string("name");
  c.generator_version = gen.string("version");
  c.provenance = detail::read_provenance(root);
  const Json& tags = root.get("tags");
  if (!tags.is_array()) root.fail("tags", "expected an array of strings");
  for (const Json& t : tags.as_array()) {
    if (!t.is_string()) root.fail("tags", "expected an array of strings");
    c.tags.push_back(t.as_string());
  }

  // ---- weights: relative path of plain names or "..", checksum of weights.json ----
  const Fields wf(file, root.get("weights"), "weights");
  wf.only({"path", "sha256"});
  c.weights_path = wf.string("path");
  const fs::path wp(c.weights_path);
  bool ok = !c.weights_path.empty() && wp.is_relative();
  for (const auto& part : wp) ok = ok && (part == ".." || plain_name(part.string()));
  if (!ok) wf.fail("path", "must be a relative path of plain names and '..', got \"" + c.weights_path + "\"");
  c.weights_sha256 = wf.string("sha256");
  const std::string wjson = dir + "/" + c.weights_path + "/weights.json";
  detail::check_listed_file_sha(wf, "path", "sha256", wjson, c.weights_sha256, "listed");
  c.weights = load_layer_weights(dir + "/" + c.weights_path);
  if (c.weights.config.name != c.config.name)
    wf.fail("path", "weights are for configuration '" + c.weights.config.name + "', the case for '" + c.config.name + "'");

  // ---- tensors: exactly the set the switches call for ----
  const Fields tf(file, root.get("tensors"), "tensors");
  std::vector<std::string> names;
  visit_layer_tensors(c, [&](const char* n, const char* role, const std::vector<int64_t>& shape, auto& t) {
    using T = typename std::decay_t<decltype(t.data)>::value_type;
    names.push_back(n);
    t = read_listed<T>(dir, tf, n, shape, role);
  });
  for (const auto& [k, v] : root.get("tensors").as_object()) {
    (void)v;
    if (std::find(names.begin(), names.end(), k) == names.end())
      tf.fail(k, c.sw.any() ? "unknown tensor" : "unknown tensor (SPLS tensors are only stored when a switch is on)");
  }

  // ---- structural rules ----
  const int64_t L = c.params.L, N = c.config.N, H = c.config.H, dh = c.config.dh();
  require_zero_rows(c.x, L, dir + "/x.npy");
  require_zero_rows(c.xr, L, dir + "/xr.npy");
  require_zero_rows(c.expected.q, L, dir + "/q.npy");
  require_zero_rows(c.expected.k, L, dir + "/k.npy");
  require_zero_rows(c.expected.v, L, dir + "/v.npy");
  require_zero_rows(c.expected.attn, L, dir + "/attn.npy");
  require_zero_rows(c.expected.oproj, L, dir + "/oproj.npy");
  require_zero_rows(c.expected.ln1, L, dir + "/ln1.npy");
  require_zero_rows(c.expected.ln1r, L, dir + "/ln1r.npy");
  require_zero_rows(c.expected.ffn_hidden, L, dir + "/ffn_hidden.npy");
  require_zero_rows(c.expected.ffn_out, L, dir + "/ffn_out.npy");
  require_zero_rows(c.expected.out, L, dir + "/out.npy");
  require_zero_rows(c.expected.out_r, L, dir + "/out_r.npy");
  if (c.sw.any()) {
    const SplsResult& s = c.spls;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < N; ++i) {
        const int64_t rep = s.rep(h, i);
        const bool legal = i >= L ? rep == -1 : (rep == i || (rep >= 0 && rep < i && i - rep <= c.params.w && s.rep(h, rep) == rep));
        if (!legal) throw VectorError(dir + "/rep.npy", "data", "head " + std::to_string(h) + " row " + std::to_string(i) + ": representative " + std::to_string(rep) + " is not legal");
        uint8_t want_kv = 0;
        for (int64_t r = 0; r < L; ++r) want_kv |= s.rep(h, r) == r ? s.topk_mask(h, r, i) : 0;
        if (s.kv_needed(h, i) != want_kv) throw VectorError(dir + "/kv_needed.npy", "data", "head " + std::to_string(h) + " column " + std::to_string(i) + " disagrees with the representatives' masks");
        for (int64_t j = 0; j < N; ++j)
          if (s.topk_mask(h, i, j) > 1 || (s.topk_mask(h, i, j) && (i >= L || j >= L || (c.params.causal && j > i))))
            throw VectorError(dir + "/topk_mask.npy", "data", "head " + std::to_string(h) + " row " + std::to_string(i) + ": column " + std::to_string(j) + " cannot be kept");
        // A skipped Q slice holds zeros (spec section 16).
        if (i < L && c.sw.skip_q && rep != i)
          for (int64_t col = h * dh; col < (h + 1) * dh; ++col)
            if (c.expected.q(i, col) != 0) throw VectorError(dir + "/q.npy", "data", "row " + std::to_string(i) + " head " + std::to_string(h) + " is skipped but not zero");
      }
    for (int64_t i = 0; i < N; ++i) {
      const int64_t t = s.token_rep.data[static_cast<size_t>(i)];
      const bool legal = i >= L ? t == -1 : (t == i || (t >= 0 && t < i && i - t <= c.params.w));
      if (!legal) throw VectorError(dir + "/token_rep.npy", "data", "token " + std::to_string(i) + ": representative " + std::to_string(t) + " is not legal");
    }
  }
  // ---- summary: recount of section 20 ----
  c.expected.dense = dense_macs(c.config, c.params);
  c.expected.executed = recount_macs(c);
  const Fields sf(file, root.get("summary"), "summary");
  sf.only({"macs_dense", "macs_executed"});
  for (const auto& [key, want] : {std::pair<const char*, const LayerMacs*>{"macs_dense", &c.expected.dense},
                                  std::pair<const char*, const LayerMacs*>{"macs_executed", &c.expected.executed}}) {
    const Json expected_json = macs_json(*want);
    const Fields mf(file, sf.get(key), sf.path(key));
    mf.only({"q", "k", "v", "qk", "av", "oproj", "ffn_up", "ffn_down", "total"});
    for (const auto& [k, v] : expected_json.as_object()) {
      detail::check_recount(mf, k, v.as_int(), "recounted from params, switches and SPLS tensors");
    }
  }
  return c;
}

LayerGolden run_layer_golden(const LayerCase& c) {
  LayerGolden g;
  SplsParams p = c.params;
  p.predict_from = PredictFrom::kProjected;
  if (c.sw.any()) g.spls = run_spls(c.config, p, c.x, c.weights.weights.wq, c.weights.weights.wk);
  g.layer = run_layer(c.config, p, c.weights.weights, c.x, c.xr, c.sw.any() ? &g.spls : nullptr, c.sw);
  return g;
}

namespace {
template <typename T>
void diff(const char* name, const Tensor<T>& fresh, const Tensor<T>& stored, std::string& out) {
  if (!out.empty()) return;
  if (fresh.shape != stored.shape) {
    out = std::string("tensor '") + name + "': shape differs";
    return;
  }
  for (size_t i = 0; i < fresh.data.size(); ++i)
    if (fresh.data[i] != stored.data[i]) {
      out = std::string("tensor '") + name + "' [" + std::to_string(i) + "]: golden model gives " +
            std::to_string(int64_t(fresh.data[i])) + ", the case file stores " + std::to_string(int64_t(stored.data[i]));
      return;
    }
}
}  // namespace

std::string layer_drift(const LayerCase& c, const LayerGolden& g) {
  std::string d;
  if (c.sw.any()) {
    diff("topk_mask", g.spls.topk_mask, c.spls.topk_mask, d);
    diff("rep", g.spls.rep, c.spls.rep, d);
    diff("kv_needed", g.spls.kv_needed, c.spls.kv_needed, d);
    diff("token_rep", g.spls.token_rep, c.spls.token_rep, d);
  }
  const LayerResult& e = c.expected;
  diff("q", g.layer.q, e.q, d);
  diff("k", g.layer.k, e.k, d);
  diff("v", g.layer.v, e.v, d);
  diff("attn", g.layer.attn, e.attn, d);
  diff("oproj", g.layer.oproj, e.oproj, d);
  diff("ln1", g.layer.ln1, e.ln1, d);
  diff("ln1r", g.layer.ln1r, e.ln1r, d);
  diff("ffn_hidden", g.layer.ffn_hidden, e.ffn_hidden, d);
  diff("ffn_out", g.layer.ffn_out, e.ffn_out, d);
  diff("out", g.layer.out, e.out, d);
  if (d.empty() && !(g.layer.executed == e.executed)) d = "executed MAC counters differ from run_layer's";
  return d;
}

// ---- Generation ----------------------------------------------------------------------------------
LayerWeightsSet synthetic_layer_weights(const std::string& config, uint64_t weights_seed) {
  LayerWeightsSet s;
  s.config = config_by_name(config);
  s.name = "layer_weights_s" + std::to_string(weights_seed);
  s.seed = weights_seed;
  s.generator_name = kGeneratorName;
  s.generator_version = kGeneratorVersion;
  s.provenance = Json("synthetic: make_synthetic_weights (INT8 uniform in +-64, analytic requantisers; docs/spec.md section 21)");
  s.weights = make_synthetic_weights(s.config, weights_seed);
  return s;
}

std::vector<std::string> derive_layer_tags(const LayerCase& c) {
  std::vector<std::string> t = {"layer", switches_name(c.sw)};
  if (c.params.L < c.config.N) t.push_back("padding");
  if (c.params.causal) t.push_back("causal");
  if (c.sw.any()) {
    bool head_f = false, token_f = false;
    for (int64_t h = 0; h < c.config.H; ++h)
      for (int64_t i = 0; i < c.params.L; ++i) head_f |= c.spls.rep(h, i) != i;
    for (int64_t i = 0; i < c.params.L; ++i) token_f |= c.spls.token_rep.data[static_cast<size_t>(i)] != i;
    if (head_f) t.push_back("followers");
    if (token_f) t.push_back("token_followers");
  }
  return t;
}

LayerCase layer_case_from_inputs(const std::string& name, const SplsParams& p, std::optional<int> rho_milli,
                                 std::optional<int> tau_milli, const LayerSwitches& sw, const TensorI8& x,
                                 const TensorI16& xr, const LayerWeightsSet& w, const std::string& weights_path,
                                 const std::string& weights_sha256, const Json& provenance,
                                 const std::vector<std::string>& extra_tags) {
  LayerCase c;
  c.config = w.config;
  c.params = p;
  c.params.predict_from = PredictFrom::kProjected;
  c.params.validate(c.config);
  c.rho_milli = rho_milli;
  c.tau_milli = tau_milli;
  c.sw = sw;
  c.name = name;
  c.generator_name = kGeneratorName;
  c.generator_version = kGeneratorVersion;
  c.provenance = provenance;
  c.weights_path = weights_path;
  c.weights_sha256 = weights_sha256;
  c.weights = w;
  c.x = x;
  c.xr = xr;
  if (x.shape != std::vector<int64_t>{c.config.N, c.config.D}) throw GeneratorError("layer input x must be [N, D]");
  if (xr.shape != x.shape) throw GeneratorError("layer input xr must be [N, D]");
  for (int64_t i = p.L; i < c.config.N; ++i)
    for (int64_t d = 0; d < c.config.D; ++d)
      if (x(i, d) != 0 || xr(i, d) != 0)
        throw GeneratorError("layer input x/xr: padding row " + std::to_string(i) + " is not zero");
  const LayerGolden g = run_layer_golden(c);
  c.spls = g.spls;
  c.expected = g.layer;
  c.tags = derive_layer_tags(c);
  for (const auto& t : extra_tags)
    if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end()) c.tags.push_back(t);
  return c;
}

std::vector<LayerCase> load_real_layer_cases(const std::string& corpus_dir) {
  std::vector<LayerCase> out;
  if (!fs::is_directory(corpus_dir)) return out;
  std::vector<fs::path> dirs;
  for (const auto& config_dir : fs::directory_iterator(corpus_dir)) {
    if (!config_dir.is_directory()) continue;
    for (const auto& d : fs::directory_iterator(config_dir.path())) {
      const std::string n = d.path().filename().string();
      if (d.is_directory() && n.rfind("layer_real_", 0) == 0 && fs::exists(d.path() / "case.json")) dirs.push_back(d.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& d : dirs) {
    out.push_back(load_layer_case(d.string()));
    if (std::find(out.back().tags.begin(), out.back().tags.end(), "real") == out.back().tags.end())
      throw GeneratorError("corpus case " + d.string() + " is named layer_real_* but is not tagged 'real'");
  }
  return out;
}

LayerCase generate_layer_case(const LayerGenRequest& r, const LayerWeightsSet& w, const std::string& weights_path,
                              const std::string& weights_sha256) {
  LayerCase c;
  c.config = config_by_name(r.config);
  if (w.config.name != c.config.name) throw GeneratorError("layer case for '" + r.config + "' with weights for '" + w.config.name + "'");
  const int L = r.L.value_or(c.config.N);
  if (L < 1 || L > c.config.N) throw GeneratorError("--L must be in 1.." + std::to_string(c.config.N) + ", got " + std::to_string(L));
  c.params = SplsParams::from_fractions(L, c.config.rho_milli, c.config.tau_milli, c.config.window, c.config.vote, r.causal);
  c.rho_milli = c.config.rho_milli;
  c.tau_milli = c.config.tau_milli;
  c.sw = r.sw;
  c.seed = r.seed;
  c.name = r.name.empty() ? switches_name(r.sw) + "_s" + std::to_string(r.seed) : r.name;
  c.generator_name = kGeneratorName;
  c.generator_version = kGeneratorVersion;
  c.provenance = Json("synthetic: make_synthetic_input (runs of 1..5 correlated tokens), seed " + std::to_string(r.seed) +
                      ", xr = x * 2^" + std::to_string(kSyntheticResShift) + " (widen_input); weights " + w.name);
  c.weights_path = weights_path;
  c.weights_sha256 = weights_sha256;
  c.weights = w;
  c.x = make_synthetic_input(c.config, L, r.seed);
  c.xr = widen_input(c.x, kSyntheticResShift);
  const LayerGolden g = run_layer_golden(c);
  c.spls = g.spls;
  c.expected = g.layer;
  c.tags = derive_layer_tags(c);
  for (const auto& t : r.extra_tags)
    if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end()) c.tags.push_back(t);
  return c;
}

std::vector<LayerCorpusEntry> layer_corpus_entries() {
  std::vector<LayerCorpusEntry> out;
  auto add = [&](const std::string& cfg, const std::string& mode, uint64_t seed, std::optional<int> L, bool causal,
                 std::vector<std::string> must) {
    LayerCorpusEntry e;
    e.request.config = cfg;
    e.request.seed = seed;
    e.request.weights_seed = 1;
    e.request.L = L;
    e.request.causal = causal;
    e.request.sw = parse_switches(mode);
    std::string name = "layer_" + mode;
    if (L) name += "_l" + std::to_string(*L);
    if (causal) name += "_causal";
    e.request.name = name + "_s" + std::to_string(seed);
    e.must_have_tags = std::move(must);
    e.must_have_tags.push_back("layer");
    out.push_back(std::move(e));
  };
  // tiny: both modes, each switch alone, padding, causal
  add("tiny", "dense", 1, std::nullopt, false, {"dense"});
  add("tiny", "esact", 1, std::nullopt, false, {"esact", "followers", "token_followers"});
  for (const char* s : kSwitchNames) add("tiny", s, 1, std::nullopt, false, {s});
  add("tiny", "esact", 2, 11, false, {"esact", "padding"});
  add("tiny", "dense", 2, 11, false, {"dense", "padding"});
  add("tiny", "esact", 3, std::nullopt, true, {"esact", "causal"});
  add("tiny", "dense", 3, 13, true, {"dense", "causal", "padding"});
  // minilm: the issue-4 shape, one pair (same input and weights) so dense vs ESACT is measured
  add("minilm", "dense", 1, std::nullopt, false, {"dense"});
  add("minilm", "esact", 1, std::nullopt, false, {"esact", "followers", "token_followers"});
  return out;
}

}  // namespace esact::vectors
