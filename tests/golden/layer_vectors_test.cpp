// Layer cases of the vector format (vectors/FORMAT.md, kind "layer"): round trip, the committed
// layer corpus against fresh golden runs, and the loader's errors naming file and field.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <unistd.h>

#include "esact/vectors/generator.h"
#include "esact/vectors/json.h"
#include "esact/vectors/layer_case.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/sha256.h"
#include "esact/vectors/spls_case.h"

namespace ev = esact::vectors;
namespace fs = std::filesystem;

namespace {

const std::string kLayerCorpus = std::string(ESACT_SOURCE_DIR) + "/vectors/corpus";

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() / ("esact_layer_vec_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ev::VectorError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected VectorError, got: " << e.what());
  }
  FAIL("expected VectorError, nothing thrown");
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Writes a tiny case (mode) with its weights into root/{layer_weights_s1, c}; returns the case dir.
std::string write_tiny(const fs::path& root, const std::string& mode, int L = 16, bool causal = false) {
  const ev::LayerWeightsSet w = ev::synthetic_layer_weights("tiny", 1);
  const std::string sha = ev::write_layer_weights(w, (root / "layer_weights_s1").string());
  ev::LayerGenRequest r;
  r.config = "tiny";
  r.seed = 5;
  r.L = L;
  r.causal = causal;
  r.sw = ev::parse_switches(mode);
  r.name = "c";
  const ev::LayerCase c = ev::generate_layer_case(r, w, "../layer_weights_s1", sha);
  const std::string dir = (root / "c").string();
  ev::write_layer_case(c, dir);
  return dir;
}

// Re-writes case.json after `edit` on its JSON document.
void edit_case_json(const std::string& dir, const std::function<void(ev::Json&)>& edit) {
  ev::Json doc = ev::parse_json(ev::read_file_bytes(dir + "/case.json"));
  edit(doc);
  ev::write_file_bytes(dir + "/case.json", ev::dump_json(doc));
}

// Replaces a tensor file and updates its checksum in case.json (a consistent hand edit).
template <typename T>
void replace_tensor(const std::string& dir, const std::string& name, const esact::Tensor<T>& t) {
  const std::string bytes = ev::encode_npy(t);
  ev::write_file_bytes(dir + "/" + name + ".npy", bytes);
  edit_case_json(dir, [&](ev::Json& d) {
    ev::Json& tensors = const_cast<ev::Json&>(*d.find("tensors"));
    ev::Json entry = *tensors.find(name);
    entry.set("sha256", ev::sha256_hex(bytes));
    tensors.set(name, entry);
  });
}

}  // namespace

TEST_CASE("layer vectors: switches names round-trip and bad names are refused") {
  CHECK(ev::switches_name(ev::parse_switches("dense")) == "dense");
  CHECK(ev::switches_name(ev::parse_switches("esact")) == "esact");
  for (const char* s : {"skip_q", "skip_kv", "topk_attn", "reuse_attn", "reuse_oproj", "reuse_ffn"})
    CHECK(ev::switches_name(ev::parse_switches(s)) == s);
  CHECK(ev::switches_name(ev::parse_switches("skip_q,reuse_ffn")) == "custom");
  CHECK_THROWS_AS(ev::parse_switches("skip_x"), std::invalid_argument);
}

TEST_CASE("layer vectors: a written case loads back equal and matches the golden model") {
  for (const char* mode : {"dense", "esact", "reuse_ffn"}) {
    CAPTURE(mode);
    ScratchDir tmp;
    const std::string dir = write_tiny(tmp.path, mode, 11, std::string(mode) == "esact");
    const ev::LayerCase c = ev::load_layer_case(dir);
    CHECK(ev::switches_name(c.sw) == mode);
    CHECK(c.params.L == 11);
    CHECK(ev::case_kind(dir) == "layer");
    const ev::LayerGolden g = ev::run_layer_golden(c);
    CHECK(ev::layer_drift(c, g).empty());
    CHECK(c.expected.out == g.layer.out);
    CHECK(fs::exists(dir + "/topk_mask.npy") == (std::string(mode) != "dense"));
  }
}

TEST_CASE("layer vectors: the committed layer corpus validates and equals fresh golden runs") {
  const ev::Manifest m = ev::read_manifest(kLayerCorpus);
  std::set<std::string> tiny_modes, minilm_modes, tags;
  int layer_cases = 0;
  for (const auto& e : m.cases) {
    if (e.kind != "layer") continue;
    CAPTURE(e.path);
    const ev::LayerCase c = ev::load_layer_case(m.case_dir(e));
    CHECK(c.name == e.name);
    CHECK(c.tags == e.tags);
    for (const auto& t : ev::derive_layer_tags(c)) CHECK(std::find(c.tags.begin(), c.tags.end(), t) != c.tags.end());
    if (c.config.name == "tiny") {
      const ev::LayerGolden g = ev::run_layer_golden(c);
      CHECK_MESSAGE(ev::layer_drift(c, g).empty(), ev::layer_drift(c, g));
      tiny_modes.insert(ev::switches_name(c.sw));
    } else {
      minilm_modes.insert(ev::switches_name(c.sw));  // golden minilm runs: the esact-sim regression
    }
    tags.insert(c.tags.begin(), c.tags.end());
    ++layer_cases;
  }
  CHECK(layer_cases >= 10);
  for (const char* s : {"dense", "esact", "skip_q", "skip_kv", "topk_attn", "reuse_attn", "reuse_oproj", "reuse_ffn"})
    CHECK_MESSAGE(tiny_modes.count(s) == 1, s);
  CHECK(minilm_modes.count("dense") == 1);
  CHECK(minilm_modes.count("esact") == 1);
  CHECK(tags.count("padding") == 1);
  CHECK(tags.count("causal") == 1);
  // The layer entries regenerate to the committed bytes (tiny here; minilm in vectors_corpus_reproducible).
  ScratchDir tmp;
  const ev::LayerWeightsSet w = ev::synthetic_layer_weights("tiny", 1);
  const std::string wsha = ev::write_layer_weights(w, (tmp.path / "layer_weights_s1").string());
  for (const auto& le : ev::layer_corpus_entries()) {
    if (le.request.config != "tiny") continue;
    const ev::LayerCase c = ev::generate_layer_case(le.request, w, "../layer_weights_s1", wsha);
    const std::string sha = ev::write_layer_case(c, (tmp.path / c.name).string());
    bool listed = false;
    for (const auto& e : m.cases)
      if (e.path == "tiny/" + c.name) {
        listed = true;
        CHECK(e.case_json_sha256 == sha);
      }
    CHECK_MESSAGE(listed, c.name);
  }
}

TEST_CASE("layer vectors: the loader names the file and field of every defect") {
  ScratchDir tmp;
  const std::string dir = write_tiny(tmp.path, "esact");
  REQUIRE_NOTHROW(ev::load_layer_case(dir));
  const std::string pristine = ev::read_file_bytes(dir + "/case.json");
  auto restore = [&] { ev::write_file_bytes(dir + "/case.json", pristine); };

  SUBCASE("unknown field") {
    edit_case_json(dir, [](ev::Json& d) { d.set("colour", "blue"); });
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'colour': unknown field"));
  }
  SUBCASE("switch of the wrong type") {
    edit_case_json(dir, [](ev::Json& d) {
      ev::Json sw = *d.find("switches");
      sw.set("skip_q", 1);
      d.set("switches", sw);
    });
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'switches.skip_q': expected true or false"));
  }
  SUBCASE("weights checksum") {
    edit_case_json(dir, [](ev::Json& d) {
      ev::Json w = *d.find("weights");
      w.set("sha256", std::string(64, '0'));
      d.set("weights", w);
    });
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'weights.sha256': checksum mismatch"));
  }
  SUBCASE("weights path escaping with an absolute path") {
    edit_case_json(dir, [](ev::Json& d) {
      ev::Json w = *d.find("weights");
      w.set("path", "/etc");
      d.set("weights", w);
    });
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'weights.path'"));
  }
  SUBCASE("a weight file changed behind weights.json's back") {
    const std::string wq = tmp.path.string() + "/layer_weights_s1/wq.npy";
    std::string b = ev::read_file_bytes(wq);
    b.back() = static_cast<char>(b.back() ^ 1);
    ev::write_file_bytes(wq, b);
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'tensors.wq.sha256'"));
  }
  SUBCASE("a tensor byte flipped") {
    std::string b = ev::read_file_bytes(dir + "/out.npy");
    b.back() = static_cast<char>(b.back() ^ 4);
    ev::write_file_bytes(dir + "/out.npy", b);
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'tensors.out.sha256'"));
  }
  SUBCASE("a missing SPLS tensor") {
    edit_case_json(dir, [](ev::Json& d) {
      ev::Json t = *d.find("tensors");
      ev::Json::Object kept;
      for (auto& [k, v] : t.as_object())
        if (k != "rep") kept.emplace_back(k, v);
      d.set("tensors", ev::Json(kept));
    });
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'tensors.rep': missing"));
  }
  SUBCASE("summary disagrees with the recount") {
    edit_case_json(dir, [](ev::Json& d) {
      ev::Json s = *d.find("summary");
      ev::Json e = *s.find("macs_executed");
      e.set("ffn_up", e.find("ffn_up")->as_int() + 1);
      s.set("macs_executed", e);
      d.set("summary", s);
    });
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "field 'summary.macs_executed.ffn_up'"));
  }
  SUBCASE("a non-zero padding row (consistent checksum)") {
    restore();
    ScratchDir t2;
    const std::string d2 = write_tiny(t2.path, "dense", 9);
    esact::TensorI8 out = ev::load_layer_case(d2).expected.out;
    out(12, 3) = 1;
    replace_tensor(d2, "out", out);
    CHECK(has(error_of([&] { ev::load_layer_case(d2); }), "out.npy: field 'data': padding row 12"));
  }
  SUBCASE("an illegal representative (consistent checksum)") {
    esact::TensorI16 rep = ev::load_layer_case(dir).spls.rep;
    rep(0, 9) = 15;  // points forward
    replace_tensor(dir, "rep", rep);
    CHECK(has(error_of([&] { ev::load_layer_case(dir); }), "rep.npy: field 'data': head 0 row 9"));
  }
  SUBCASE("a wrong expected value passes the structure checks but not the golden comparison") {
    ev::LayerCase c = ev::load_layer_case(dir);
    esact::TensorI8 out = c.expected.out;
    out(3, 5) = static_cast<int8_t>(out(3, 5) ^ 1);
    replace_tensor(dir, "out", out);
    const ev::LayerCase bad = ev::load_layer_case(dir);
    const std::string drift = ev::layer_drift(bad, ev::run_layer_golden(bad));
    CHECK(has(drift, "tensor 'out' [" + std::to_string(3 * 32 + 5) + "]"));
  }
}
