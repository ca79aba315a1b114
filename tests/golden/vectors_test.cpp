// Vector format: SHA-256, strict JSON, .npy, case/manifest validation, the generator, the corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <unistd.h>

#include "esact/spls.h"
#include "esact/vectors/generator.h"
#include "esact/vectors/json.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/sha256.h"
#include "esact/vectors/spls_case.h"

namespace ev = esact::vectors;
namespace fs = std::filesystem;
using esact::TensorI16;
using esact::TensorI32;
using esact::TensorI8;
using esact::TensorU8;

namespace {

const std::string kCorpus = std::string(ESACT_SOURCE_DIR) + "/vectors/corpus";

// A scratch directory removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("esact_vectors_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
};

std::string slurp(const std::string& p) { return ev::read_file_bytes(p); }
void spit(const std::string& p, const std::string& s) { ev::write_file_bytes(p, s); }

// Runs f and returns the VectorError message (fails the test if nothing, or something else, is thrown).
template <typename F>
std::string vector_error_of(F&& f) {
  try {
    f();
  } catch (const ev::VectorError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected VectorError, got: " << e.what());
    return "";
  }
  FAIL("expected VectorError, nothing was thrown");
  return "";
}

template <typename F>
std::string generator_error_of(F&& f) {
  try {
    f();
  } catch (const ev::GeneratorError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected GeneratorError, got: " << e.what());
    return "";
  }
  FAIL("expected GeneratorError, nothing was thrown");
  return "";
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

ev::GenRequest tiny_request(uint64_t seed) {
  ev::GenRequest r;
  r.config = "tiny";
  r.seed = seed;
  r.name = "t" + std::to_string(seed);
  return r;
}

// Edits case.json of a case directory through the JSON library.
template <typename F>
void edit_case_json(const std::string& dir, F&& f) {
  ev::Json doc = ev::parse_json(slurp(dir + "/case.json"));
  f(doc);
  spit(dir + "/case.json", ev::dump_json(doc));
}

ev::Json& member(ev::Json& obj, const std::string& key) {
  for (auto& [k, v] : obj.as_object()) {
    if (k == key) return v;
  }
  FAIL("no member " << key);
  throw std::logic_error("unreachable");
}

// Replaces a tensor file and records its new checksum, so only the intended inconsistency remains.
void replace_tensor(const std::string& dir, const std::string& name, const std::string& bytes) {
  spit(dir + "/" + name + ".npy", bytes);
  edit_case_json(dir, [&](ev::Json& doc) {
    member(member(member(doc, "tensors"), name), "sha256") = ev::Json(ev::sha256_hex(bytes));
  });
}

}  // namespace

// ------------------------------------------------------------------------------------------------
TEST_CASE("sha256: FIPS 180 / NIST example vectors") {
  CHECK(ev::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ev::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ev::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(ev::sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  const std::string million_a(1000000, 'a');
  CHECK(ev::sha256_hex(million_a) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: streaming in uneven pieces equals one shot, across block boundaries") {
  std::string msg;
  for (int i = 0; i < 1000; ++i) msg.push_back(static_cast<char>((i * 37 + 11) & 0xFF));
  for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 1000u}) {
    const std::string m = msg.substr(0, len);
    ev::Sha256 h;
    for (size_t pos = 0, step = 1; pos < m.size(); pos += step, step = step % 13 + 1) h.update(m.substr(pos, step));
    CHECK(h.hex_digest() == ev::sha256_hex(m));
  }
}

// ------------------------------------------------------------------------------------------------
TEST_CASE("json: values round-trip and integers stay exact") {
  const std::string text =
      "{\"a\": 1, \"b\": [1, -2, 9223372036854775807, -9223372036854775808], \"c\": {\"d\": \"x\\u00e9\\ud83d\\ude00\\n\"},"
      " \"e\": true, \"f\": null, \"g\": 0.5, \"h\": []}";
  const ev::Json v = ev::parse_json(text);
  CHECK(v.find("a")->as_int() == 1);
  CHECK(v.find("b")->as_array()[2].as_int() == INT64_MAX);
  CHECK(v.find("b")->as_array()[3].as_int() == INT64_MIN);
  CHECK(v.find("c")->find("d")->as_string() == "x\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(v.find("e")->as_bool());
  CHECK(v.find("f")->is_null());
  CHECK(v.find("g")->as_number() == 0.5);
  CHECK_FALSE(v.find("g")->is_int());
  const std::string dumped = ev::dump_json(v);
  CHECK(ev::parse_json(dumped) == v);
  CHECK(ev::dump_json(ev::parse_json(dumped)) == dumped);  // deterministic
  // Member order is kept as written.
  CHECK(v.as_object()[0].first == "a");
  CHECK(v.as_object()[6].first == "h");
}

TEST_CASE("json: strict reader rejects what RFC 8259 does not allow") {
  const char* bad[] = {
      "",           "{",          "[1,]",        "{\"a\":1,}",   "{\"a\":1 \"b\":2}", "{\"a\":1,\"a\":2}",
      "// c\n{}",   "[01]",       "[1.]",        "[.5]",         "[1e]",             "[+1]",
      "\"a\tb\"",   "\"\\x\"",    "\"\\ud800\"", "\"\\udc00\"",  "[true false]",     "{} {}",
      "[nul]",      "\"\xff\"",   "\"\xc0\xaf\"", "'a'",         "[1e400]",          "{1:2}",
  };
  for (const char* b : bad) {
    CAPTURE(b);
    CHECK_THROWS_AS(ev::parse_json(b), ev::JsonError);
  }
  std::string deep(65, '[');
  deep += std::string(65, ']');
  CHECK_THROWS_AS(ev::parse_json(deep), ev::JsonError);
  CHECK_NOTHROW(ev::parse_json(std::string(64, '[') + std::string(64, ']')));
  try {
    ev::parse_json("{\n  \"a\": 1,\n  \"b\": tru\n}");
    FAIL("no error");
  } catch (const ev::JsonError& e) {
    CHECK(contains(e.what(), "line 3, column 8"));
  }
  CHECK_THROWS_AS(ev::parse_json("\"s\"").as_int(), ev::JsonError);
}

// ------------------------------------------------------------------------------------------------
template <typename T>
void npy_round_trip(const std::vector<int64_t>& shape) {
  esact::Tensor<T> t(shape);
  for (size_t i = 0; i < t.data.size(); ++i) {
    // Cover both ends of the range and negative values.
    const int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
    const int64_t v = i % 3 == 0 ? lo : i % 3 == 1 ? hi : static_cast<int64_t>(i * 7919) % (hi - lo) + lo;
    t.data[i] = static_cast<T>(v);
  }
  const std::string bytes = ev::encode_npy(t);
  CHECK(bytes.substr(0, 6) == "\x93NUMPY");
  const size_t header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  CHECK((10 + header_len) % 64 == 0);  // data aligned as NumPy writes it
  CHECK(bytes.size() == 10 + header_len + t.data.size() * sizeof(T));
  const ev::NpyArray a = ev::parse_npy("mem.npy", bytes);
  CHECK(a.dtype == ev::dtype_of<T>());
  CHECK(a.shape == shape);
  CHECK(ev::npy_to_tensor<T>(a, "mem.npy") == t);
  // Little-endian on disk whatever the host: check the first element's bytes directly.
  if (!t.data.empty()) {
    const auto u = static_cast<std::make_unsigned_t<T>>(t.data[0]);
    for (size_t b = 0; b < sizeof(T); ++b) CHECK(static_cast<uint8_t>(bytes[10 + header_len + b]) == ((u >> (8 * b)) & 0xFF));
  }
}

TEST_CASE("npy: round trip for each dtype and several ranks") {
  npy_round_trip<int8_t>({16, 32});
  npy_round_trip<uint8_t>({2, 16, 16});
  npy_round_trip<int16_t>({12, 128});
  npy_round_trip<int32_t>({5});
  npy_round_trip<int32_t>({3, 0});
  npy_round_trip<int8_t>({});
}

TEST_CASE("npy: exact header text NumPy writes") {
  const std::string b = ev::encode_npy(TensorI16({7}));
  CHECK(contains(b, "{'descr': '<i2', 'fortran_order': False, 'shape': (7,), }"));
  const std::string c = ev::encode_npy(TensorI32({2, 16, 16}));
  CHECK(contains(c, "'shape': (2, 16, 16), }"));
}

TEST_CASE("npy: malformed files are rejected naming file and field") {
  const std::string good = ev::encode_npy(TensorI32({2, 3}, 5));
  const size_t header_len = static_cast<uint8_t>(good[8]) | (static_cast<uint8_t>(good[9]) << 8);
  auto header_swap = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t p = s.find(from);
    REQUIRE(p != std::string::npos);
    REQUIRE(from.size() == to.size());  // keep header_len valid
    s.replace(p, from.size(), to);
    return s;
  };
  struct Bad {
    std::string bytes, field, words;
  };
  std::string v2 = good;
  v2[6] = 2;
  const Bad cases[] = {
      {"GIF89a", "magic", "not a NumPy"},
      {"\x93NUMPY\x01", "header_len", "truncated"},
      {v2, "version", "expected 1.0, got 2.0"},
      {good.substr(0, 20), "header_len", "runs past the end"},
      {good.substr(0, good.size() - 1), "data", "truncated"},
      {good + "x", "data", "trailing"},
      {header_swap("'<i4'", "'>i4'"), "descr", "unsupported dtype '>i4'"},
      {header_swap("'<i4'", "'<f4'"), "descr", "unsupported dtype '<f4'"},
      {header_swap("False", "True "), "fortran_order", "expected False"},
      {header_swap("(2, 3)", "(2, 4)"), "data", "truncated"},
      {header_swap("(2, 3)", "(2, 2)"), "data", "trailing"},
      {header_swap("'shape'", "'shapo'"), "header", "unexpected key 'shapo'"},
      {header_swap("'descr'", "'descr\""), "header", "expected ':'"},
      {header_swap("(2, 3)", "(6)   "), "shape", "without a comma"},
      {header_swap("(2, 3)", "(2,-3)"), "shape", "non-negative"},
  };
  for (const Bad& b : cases) {
    CAPTURE(b.field);
    const std::string msg = vector_error_of([&] { ev::parse_npy("dir/t.npy", b.bytes); });
    CAPTURE(msg);
    CHECK(contains(msg, "dir/t.npy: "));
    CHECK(contains(msg, "field '" + b.field + "'"));
    CHECK(contains(msg, b.words));
  }
  std::string no_newline = good;
  no_newline[10 + header_len - 1] = ' ';
  CHECK(contains(vector_error_of([&] { ev::parse_npy("t.npy", no_newline); }), "field 'header'"));
  // Wrong dtype for the consumer.
  const ev::NpyArray a = ev::parse_npy("t.npy", good);
  CHECK(contains(vector_error_of([&] { ev::npy_to_tensor<int16_t>(a, "t.npy"); }),
                 "t.npy: field 'descr': expected '<i2', got '<i4'"));
}

// ------------------------------------------------------------------------------------------------
TEST_CASE("case: write then load gives back every tensor, parameter and counter") {
  TempDir tmp;
  ev::GenRequest r = tiny_request(7);
  r.L = 11;
  r.causal = true;
  const ev::SplsCase c = ev::generate_spls_case(r);
  const std::string dir = tmp.str() + "/c";
  const std::string sha = ev::write_spls_case(c, dir);
  CHECK(sha == ev::sha256_file_hex(dir + "/case.json"));
  const ev::SplsCase d = ev::load_spls_case(dir);
  CHECK(d.name == c.name);
  CHECK(d.config.name == "tiny");
  CHECK(d.params.L == 11);
  CHECK(d.params.k == c.params.k);
  CHECK(d.params.T == c.params.T);
  CHECK(d.params.causal);
  CHECK(d.rho_milli == c.rho_milli);
  CHECK(d.tau_milli == c.tau_milli);
  CHECK(d.seed == 7);
  CHECK(d.tags == c.tags);
  CHECK(d.provenance == c.provenance);
  CHECK(d.x == c.x);
  CHECK(d.wq == c.wq);
  CHECK(d.wk == c.wk);
  CHECK(d.expected.pam == c.expected.pam);
  CHECK(d.expected.topk_mask == c.expected.topk_mask);
  CHECK(d.expected.rep == c.expected.rep);
  CHECK(d.expected.token_rep == c.expected.token_rep);
  CHECK(d.expected.kv_needed == c.expected.kv_needed);
  CHECK(d.expected.q_scaled == c.expected.q_scaled);
  CHECK(d.expected.counters.head_followers == c.expected.counters.head_followers);
  CHECK(d.expected.counters.executed.total() == c.expected.counters.executed.total());
  CHECK(d.expected.counters.pred_pairs == c.expected.counters.pred_pairs);
  // Writing the loaded case again reproduces case.json byte for byte.
  const std::string dir2 = tmp.str() + "/c2";
  CHECK(ev::write_spls_case(d, dir2) == sha);
}

TEST_CASE("case: generated_qk cases carry q and k and load back") {
  TempDir tmp;
  ev::GenRequest r = tiny_request(9);
  r.predict_from = esact::PredictFrom::kGeneratedQk;
  const ev::SplsCase c = ev::generate_spls_case(r);
  ev::write_spls_case(c, tmp.str());
  CHECK(fs::exists(tmp.path / "q.npy"));
  CHECK_FALSE(fs::exists(tmp.path / "x.npy"));
  const ev::SplsCase d = ev::load_spls_case(tmp.str());
  CHECK(d.q == c.q);
  CHECK(d.k == c.k);
  CHECK(ev::run_golden(d).pam == d.expected.pam);
}

TEST_CASE("case: corrupted, truncated and inconsistent case files are rejected naming file and field") {
  TempDir tmp;
  const ev::SplsCase c = ev::generate_spls_case(tiny_request(3));
  const std::string pristine = tmp.str() + "/pristine";
  ev::write_spls_case(c, pristine);
  int n = 0;
  // Each scenario gets a fresh copy of the case, one mutation, and the words its message must hold.
  auto expect = [&](const std::string& what, auto&& mutate, std::initializer_list<std::string> words) {
    CAPTURE(what);
    const std::string dir = tmp.str() + "/m" + std::to_string(n++);
    fs::copy(pristine, dir, fs::copy_options::recursive);
    mutate(dir);
    const std::string msg = vector_error_of([&] { ev::load_spls_case(dir); });
    for (const auto& w : words) {
      CAPTURE(msg);
      CHECK(contains(msg, w));
    }
  };

  expect("bad magic", [](const std::string& d) {
    std::string b = slurp(d + "/pam.npy");
    b[1] = 'X';
    spit(d + "/pam.npy", b);
  }, {"/pam.npy: field 'magic'"});
  expect("truncated data", [](const std::string& d) {
    const std::string b = slurp(d + "/topk_mask.npy");
    spit(d + "/topk_mask.npy", b.substr(0, b.size() - 5));
  }, {"/topk_mask.npy: field 'data'", "truncated"});
  expect("wrong dtype in the file", [](const std::string& d) {
    TensorI32 rep({2, 16}, -1);
    replace_tensor(d, "rep", ev::encode_npy(rep));
  }, {"/rep.npy: field 'descr'", "expected '<i2', got '<i4'"});
  expect("wrong shape in the file", [](const std::string& d) {
    replace_tensor(d, "pam", ev::encode_npy(TensorI32({2, 16, 15})));
  }, {"/pam.npy: field 'shape': expected [2,16,16], got [2,16,15]"});
  expect("checksum mismatch", [](const std::string& d) {
    std::string b = slurp(d + "/x.npy");
    b[b.size() - 1] = static_cast<char>(b[b.size() - 1] ^ 1);
    spit(d + "/x.npy", b);
  }, {"/x.npy: field 'sha256'", "checksum mismatch"});
  expect("missing tensor file", [](const std::string& d) { fs::remove(d + "/kv_needed.npy"); },
         {"/kv_needed.npy", "missing tensor file"});
  expect("missing tensor entry", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) {
      auto& obj = member(doc, "tensors").as_object();
      obj.erase(std::remove_if(obj.begin(), obj.end(), [](const auto& kv) { return kv.first == "token_rep"; }), obj.end());
    });
  }, {"/case.json: field 'tensors.token_rep': missing"});
  expect("unknown tensor entry", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(doc, "tensors").set("bias", member(member(doc, "tensors"), "x")); });
  }, {"/case.json: field 'tensors.bias'", "unknown tensor"});
  expect("dtype listed wrongly", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(member(doc, "tensors"), "q_hat"), "dtype") = ev::Json("<i2"); });
  }, {"/case.json: field 'tensors.q_hat.dtype': expected '<i4', got '<i2'"});
  expect("unknown config", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "config"), "name") = ev::Json("huge"); });
  }, {"/case.json: field 'config.name'", "unknown configuration 'huge'"});
  expect("config differs from configs/", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "config"), "N") = ev::Json(15); });
  }, {"/case.json: field 'config.N': expected 16", "got 15"});
  expect("bad JSON", [](const std::string& d) {
    const std::string s = slurp(d + "/case.json");
    spit(d + "/case.json", s.substr(0, s.size() / 2));
  }, {"/case.json: ", "invalid JSON", "line "});
  expect("not JSON at all", [](const std::string& d) { spit(d + "/case.json", "\x93NUMPY"); }, {"/case.json: ", "invalid JSON"});
  expect("missing case.json", [](const std::string& d) { fs::remove(d + "/case.json"); }, {"/case.json", "cannot open"});
  expect("L out of range", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "params"), "L") = ev::Json(17); });
  }, {"/case.json: field 'params.L'", "1..16"});
  expect("k = 0", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "params"), "k") = ev::Json(0); });
  }, {"/case.json: field 'params.k'"});
  expect("V > H", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "params"), "V") = ev::Json(3); });
  }, {"/case.json: field 'params.V'"});
  expect("k inconsistent with rho_milli", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "params"), "rho_milli") = ev::Json(500); });
  }, {"/case.json: field 'params.k'", "rho_milli"});
  expect("param of the wrong type", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(doc, "params"), "causal") = ev::Json(1); });
  }, {"/case.json: field 'params.causal'", "expected true or false"});
  expect("format version", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(doc, "format_version") = ev::Json(2); });
  }, {"/case.json: field 'format_version'"});
  expect("unknown top-level field", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { doc.set("comment", "x"); });
  }, {"/case.json: field 'comment': unknown field"});
  expect("summary disagrees with the tensors", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) {
      ev::Json& hf = member(member(doc, "summary"), "head_followers");
      hf = ev::Json(static_cast<long long>(hf.as_int() + 1));
    });
  }, {"/case.json: field 'summary.head_followers'", "recomputed"});
  expect("executed MACs disagree", [](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { member(member(member(doc, "summary"), "macs_executed"), "qk") = ev::Json(1); });
  }, {"/case.json: field 'summary.macs_executed.qk'"});
  // Inconsistent expected tensors with correct checksums: only the cross-checks can catch these.
  expect("representative out of window", [&](const std::string& d) {
    TensorI16 rep = c.expected.rep;
    rep(0, 9) = 2;  // 7 rows back with w = 4
    replace_tensor(d, "rep", ev::encode_npy(rep));
  }, {"/rep.npy: field 'data'", "head 0 row 9"});
  expect("top-k row keeps too many columns", [&](const std::string& d) {
    TensorU8 m = c.expected.topk_mask;
    for (int j = 0; j < 16; ++j) m(1, 4, j) = 1;
    replace_tensor(d, "topk_mask", ev::encode_npy(m));
  }, {"/topk_mask.npy: field 'data'", "head 1 row 4", "k_eff = 4"});
  expect("padding token not -1", [&](const std::string& d) {
    edit_case_json(d, [](ev::Json& doc) { (void)doc; });
    TensorI16 t = c.expected.token_rep;
    t.data[3] = 7;  // a later token can never be the representative
    replace_tensor(d, "token_rep", ev::encode_npy(t));
  }, {"/token_rep.npy: field 'data'", "token 3"});
  expect("q_scaled not the shifted q_hat", [&](const std::string& d) {
    TensorI8 q = c.expected.q_scaled;
    q(0, 0) = static_cast<int8_t>(q(0, 0) ^ 1);
    replace_tensor(d, "q_scaled", ev::encode_npy(q));
  }, {"/q_scaled.npy: field 'data'"});

  // The pristine copy still loads: the failures above came from the mutations alone.
  CHECK_NOTHROW(ev::load_spls_case(pristine));
}

TEST_CASE("manifest: write, read, and checksum mismatch is reported") {
  TempDir tmp;
  ev::Manifest m;
  m.generator_name = ev::kGeneratorName;
  m.generator_version = ev::kGeneratorVersion;
  for (uint64_t s : {1, 2}) {
    const ev::SplsCase c = ev::generate_spls_case(tiny_request(s));
    ev::ManifestEntry e{"tiny/" + c.name, "tiny", c.name, c.tags, ""};
    e.case_json_sha256 = ev::write_spls_case(c, tmp.str() + "/" + e.path);
    m.cases.push_back(e);
  }
  ev::write_manifest(m, tmp.str() + "/manifest.json");
  const ev::Manifest r = ev::read_manifest(tmp.str());
  REQUIRE(r.cases.size() == 2);
  CHECK(r.cases[1].path == "tiny/t2");
  CHECK(r.cases[1].tags == m.cases[1].tags);
  CHECK(ev::load_spls_case(r.case_dir(r.cases[0])).seed == 1);

  std::string cj = slurp(tmp.str() + "/tiny/t2/case.json");
  cj.insert(cj.size() - 1, " ");
  spit(tmp.str() + "/tiny/t2/case.json", cj);
  CHECK(contains(vector_error_of([&] { ev::read_manifest(tmp.str() + "/manifest.json"); }),
                 "manifest.json: field 'cases[1].case_json_sha256': checksum mismatch"));
  const std::string text = slurp(tmp.str() + "/manifest.json");
  std::string escaped = text;
  escaped.replace(escaped.find("\"tiny/t1\""), 9, "\"../t1\"  ");
  spit(tmp.str() + "/manifest.json", escaped);
  CHECK(contains(vector_error_of([&] { ev::read_manifest(tmp.str()); }), "field 'cases[0].path'"));
}

// ------------------------------------------------------------------------------------------------
TEST_CASE("generator: same request, same bytes; another seed, other tensors") {
  TempDir tmp;
  ev::GenRequest r = tiny_request(42);
  r.kinds = {"duplicates", "extremes"};
  ev::write_spls_case(ev::generate_spls_case(r), tmp.str() + "/a");
  ev::write_spls_case(ev::generate_spls_case(r), tmp.str() + "/b");
  int files = 0;
  for (const auto& f : fs::directory_iterator(tmp.path / "a")) {
    CAPTURE(f.path().filename().string());
    CHECK(slurp(f.path().string()) == slurp((tmp.path / "b" / f.path().filename()).string()));
    ++files;
  }
  CHECK(files == 15);  // case.json + 3 inputs + 11 expected tensors
  ev::GenRequest other = r;
  other.seed = 43;
  CHECK(ev::generate_spls_case(other).x != ev::generate_spls_case(r).x);
}

TEST_CASE("generator: regenerating corpus entries reproduces the committed files byte for byte") {
  const ev::Manifest m = ev::read_manifest(kCorpus);
  TempDir tmp;
  int compared = 0;
  for (const ev::CorpusEntry& e : ev::corpus_entries()) {
    if (e.request.config != "tiny") continue;  // the minilm ones are covered by the ctest corpus check
    const ev::SplsCase c = ev::generate_spls_case(e.request);
    const std::string dir = tmp.str() + "/" + c.name;
    const std::string sha = ev::write_spls_case(c, dir);
    bool listed = false;
    for (const auto& me : m.cases) {
      if (me.path == "tiny/" + c.name) {
        listed = true;
        CAPTURE(me.path);
        CHECK(sha == me.case_json_sha256);
      }
    }
    CHECK(listed);
    ++compared;
  }
  CHECK(compared >= 30);
}

TEST_CASE("generator: tensors look like activations and followers occur with default params") {
  const ev::SplsCase c = ev::generate_spls_case(tiny_request(5));
  // Neighbouring tokens correlated: mean |x[i] - x[i-1]| well below mean |x[i] - x[j]| for far j.
  int64_t near = 0, far = 0;
  for (int i = 1; i < 16; ++i) {
    for (int d = 0; d < 32; ++d) {
      near += std::abs(c.x(i, d) - c.x(i - 1, d));
      far += std::abs(c.x(i, d) - c.x((i + 8) % 16, d));
    }
  }
  CHECK(near * 10 < far * 8);
  CHECK(c.expected.counters.head_followers > 0);
  // Weights: spread over the INT8 range, roughly symmetric around zero.
  int64_t sum = 0, sumsq = 0;
  for (int8_t v : c.wq.data) {
    sum += v;
    sumsq += int64_t{v} * v;
  }
  const double n = static_cast<double>(c.wq.data.size());
  CHECK(std::abs(static_cast<double>(sum) / n) < 3.0);
  CHECK(std::sqrt(static_cast<double>(sumsq) / n) > 10.0);
}

TEST_CASE("generator: PRNG gaussian and uniform draws behave") {
  ev::Rng rng(2024);
  double sum = 0, sumsq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double g = rng.gaussian_q16() / 65536.0;
    sum += g;
    sumsq += g * g;
  }
  CHECK(std::abs(sum / n) < 0.02);
  CHECK(std::abs(std::sqrt(sumsq / n) - 1.0) < 0.02);
  int hist[7] = {};
  for (int i = 0; i < 70000; ++i) {
    const uint32_t v = rng.below(7);
    REQUIRE(v < 7);
    ++hist[v];
  }
  for (int h : hist) CHECK(std::abs(h - 10000) < 500);
  ev::Rng a(1), b(1), c(2);
  CHECK(a.next() == b.next());
  CHECK(a.next() != c.next());
}

TEST_CASE("generator: refuses degenerate input and illegal requests") {
  const ev::SplsCase good = ev::generate_spls_case(tiny_request(11));
  CHECK_NOTHROW(ev::check_not_degenerate(good, {}));
  {
    ev::SplsCase c = good;
    std::fill(c.x.data.begin(), c.x.data.end(), int8_t{0});
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {true, true}); }), "x (valid rows) is all zero"));
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {}); }), "x (valid rows) is all zero"));
  }
  {
    ev::SplsCase c = good;
    std::fill(c.x.data.begin(), c.x.data.end(), int8_t{5});
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {true, true}); }), "constant"));
  }
  {
    ev::SplsCase c = good;
    std::fill(c.wk.data.begin(), c.wk.data.end(), int8_t{0});
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {}); }), "wk is all zero"));
  }
  {
    ev::SplsCase c = good;
    for (int d = 0; d < 32; ++d) c.x(3, d) = 0;
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {}); }), "x row 3 is all zero"));
    CHECK_NOTHROW(ev::check_not_degenerate(c, {true, false}));
  }
  {
    ev::SplsCase c = good;
    for (int i = 1; i < 16; ++i) {
      for (int d = 0; d < 32; ++d) c.x(i, d) = c.x(0, d);
    }
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {}); }), "identical"));
    CHECK_NOTHROW(ev::check_not_degenerate(c, {false, true}));
  }
  {
    // Only valid rows count: zeros in padding rows are fine, a zero valid row is not.
    ev::SplsCase c = good;
    c.params.L = 4;
    for (int i = 4; i < 16; ++i) {
      for (int d = 0; d < 32; ++d) c.x(i, d) = 0;
    }
    CHECK_NOTHROW(ev::check_not_degenerate(c, {}));
  }
  {
    ev::SplsCase c = good;
    c.wq = TensorI8({32, 31}, 1);
    CHECK(contains(generator_error_of([&] { ev::check_not_degenerate(c, {}); }), "wq: shape [32,31]"));
  }
  auto refused = [](auto&& setup, const std::string& words) {
    ev::GenRequest r = tiny_request(1);
    setup(r);
    CAPTURE(words);
    CHECK(contains(generator_error_of([&] { ev::generate_spls_case(r); }), words));
  };
  refused([](ev::GenRequest& r) { r.L = 0; }, "--L must be in 1..16, got 0");
  refused([](ev::GenRequest& r) { r.L = 17; }, "--L must be in 1..16, got 17");
  refused([](ev::GenRequest& r) { r.k = 0; }, "--k must be >= 1");
  refused([](ev::GenRequest& r) { r.k = 2; r.rho_milli = 100; }, "not both");
  refused([](ev::GenRequest& r) { r.T = 5; r.k = 4; }, "--T must be in 0..4");
  refused([](ev::GenRequest& r) { r.tau_milli = 1001; }, "--tau-milli");
  refused([](ev::GenRequest& r) { r.window = 16; }, "--window must be in 0..15");
  refused([](ev::GenRequest& r) { r.vote = 3; }, "--vote must be in 1..2");
  refused([](ev::GenRequest& r) { r.config = "huge"; }, "--config");
  refused([](ev::GenRequest& r) { r.kinds = {"noise"}; }, "unknown edge kind 'noise'");
  refused([](ev::GenRequest& r) { r.kinds = {"zero_rows"}; r.L = 1; }, "zero_rows needs L >= 2");
  // Given inputs go through the same guard.
  ev::GenRequest r = tiny_request(1);
  CHECK(contains(generator_error_of([&] {
                   ev::case_from_inputs(r, TensorI8({16, 32}), good.wq, good.wk, ev::Json("test"));
                 }),
                 "all zero"));
  // An absolute k above L is clamped (spec section 5), not refused.
  r.L = 5;
  r.k = 9;
  CHECK(ev::generate_spls_case(r).params.k == 5);
}

TEST_CASE("generator: edge kinds produce what they promise") {
  auto tags_of = [](auto&& setup) {
    ev::GenRequest r = tiny_request(77);
    setup(r);
    return ev::generate_spls_case(r);
  };
  const ev::SplsCase z = tags_of([](ev::GenRequest& r) { r.kinds = {"zero_rows"}; });
  int zero_rows = 0;
  for (int i = 0; i < 16; ++i) {
    bool all = true;
    for (int d = 0; d < 32; ++d) all = all && z.x(i, d) == 0;
    zero_rows += all;
  }
  CHECK(zero_rows == 4);
  const ev::SplsCase e = tags_of([](ev::GenRequest& r) { r.kinds = {"extremes"}; });
  CHECK(std::count(e.x.data.begin(), e.x.data.end(), int8_t{-128}) > 0);
  CHECK(std::count(e.x.data.begin(), e.x.data.end(), int8_t{127}) > 0);
  CHECK(std::count(e.wq.data.begin(), e.wq.data.end(), int8_t{-128}) > 0);
  const ev::SplsCase a = tags_of([](ev::GenRequest& r) { r.kinds = {"identical_rows"}; r.window = 15; });
  CHECK(a.expected.counters.head_followers == 2 * 15);
  const ev::SplsCase w0 = tags_of([](ev::GenRequest& r) { r.window = 0; });
  CHECK(w0.expected.counters.head_followers == 0);
}

// ------------------------------------------------------------------------------------------------
TEST_CASE("corpus: every case validates and equals a fresh golden run") {
  const ev::Manifest m = ev::read_manifest(kCorpus);  // checks every case.json checksum
  std::map<std::string, int> per_config;
  std::set<std::string> tags;
  for (const auto& e : m.cases) {
    CAPTURE(e.path);
    if (e.kind == "layer") continue;  // layer cases: the "layer corpus" test case below
    const ev::SplsCase c = ev::load_spls_case(m.case_dir(e));
    CHECK(c.name == e.name);
    CHECK(c.config.name == e.config);
    CHECK(c.tags == e.tags);
    const esact::SplsResult fresh = ev::run_golden(c);
    CHECK(fresh.x_codes == c.expected.x_codes);
    CHECK(fresh.q_hat == c.expected.q_hat);
    CHECK(fresh.k_hat == c.expected.k_hat);
    CHECK(fresh.shifts == c.expected.shifts);
    CHECK(fresh.q_scaled == c.expected.q_scaled);
    CHECK(fresh.k_scaled == c.expected.k_scaled);
    CHECK(fresh.pam == c.expected.pam);
    CHECK(fresh.topk_mask == c.expected.topk_mask);
    CHECK(fresh.rep == c.expected.rep);
    CHECK(fresh.kv_needed == c.expected.kv_needed);
    CHECK(fresh.token_rep == c.expected.token_rep);
    // Counters: the golden model's own against those recomputed from the stored tensors.
    CHECK(fresh.counters.pred_pairs == c.expected.counters.pred_pairs);
    CHECK(fresh.counters.head_followers == c.expected.counters.head_followers);
    CHECK(fresh.counters.token_followers == c.expected.counters.token_followers);
    CHECK(fresh.counters.kv_rows_skipped == c.expected.counters.kv_rows_skipped);
    CHECK(fresh.counters.executed.total() == c.expected.counters.executed.total());
    CHECK(fresh.counters.executed.kv == c.expected.counters.executed.kv);
    CHECK(fresh.counters.dense.total() == c.expected.counters.dense.total());
    ++per_config[e.config];
    tags.insert(e.tags.begin(), e.tags.end());
  }
  CHECK(per_config["tiny"] >= 30);
  CHECK(per_config["minilm"] >= 8);
  for (const char* t : {"padding", "ties", "k1", "kL", "all_followers", "no_followers", "zero_rows", "extremes",
                        "causal", "default_params", "followers", "token_followers"}) {
    CAPTURE(t);
    CHECK(tags.count(t) == 1);
  }
}
