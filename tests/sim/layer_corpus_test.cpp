// The committed encoder-layer corpus cases (kind "layer") through esact_layer_top: every tiny case
// bit-exact with and without stalls, against the expectation stored in the case files, and a stored
// expectation that is wrong (a consistent hand edit) must fail in RTL naming tensor and row. The
// minilm layer cases run in the main regression (ci/regress) and under the slow label.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "esact/sim/cases.h"
#include "esact/sim/layer_models.h"
#include "esact/vectors/layer_case.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/sha256.h"

using namespace esact;
using namespace esact::sim;
namespace fs = std::filesystem;

TEST_CASE("layer corpus: every tiny layer case passes in RTL, with and without stalls") {
  const std::vector<CaseRef> cases = resolve_cases(vectors::default_corpus_dir());
  const LayerRunFn fn = layer_runner_for("tiny");
  REQUIRE(static_cast<bool>(fn));
  int ran = 0;
  for (const CaseRef& ref : cases) {
    if (ref.kind != "layer" || ref.config != "tiny") continue;
    CAPTURE(ref.dir);
    std::string drift;
    const LayerStimulus st = load_layer_stimulus(ref.dir, &drift);
    CHECK_MESSAGE(drift.empty(), drift);
    for (const double stall : {0.0, 0.3}) {
      CAPTURE(stall);
      LayerRunOptions o;
      o.run.stall_prob = stall;
      o.run.seed = 31 + ran;
      const LayerRunResult r = fn(st, o);
      for (size_t i = 0; i < r.mismatches.size() && i < 4; ++i) MESSAGE(r.mismatches[i].describe());
      CHECK(r.pass);
      CHECK(r.beats_out == r.beats_expected);
    }
    ++ran;
  }
  CHECK(ran >= 10);
}

TEST_CASE("layer corpus: a wrong stored expectation fails in RTL at that tensor and row") {
  const std::string src = vectors::default_corpus_dir() + "/tiny";
  const fs::path tmp = fs::temp_directory_path() / ("esact_layer_corpus_" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fs::copy(src + "/layer_weights_s1", tmp / "layer_weights_s1");
  fs::copy(src + "/layer_esact_s1", tmp / "layer_esact_s1");
  const std::string dir = (tmp / "layer_esact_s1").string();
  vectors::LayerCase c = vectors::load_layer_case(dir);
  TensorI16 ffn = c.expected.ffn_out;
  int row = 1;  // a token representative after row 0: its FFN branch is computed and sent
  while (c.spls.token_rep.data[static_cast<size_t>(row)] != row) ++row;
  ffn(row, 7) = static_cast<int16_t>(ffn(row, 7) + 1);
  const std::string bytes = vectors::encode_npy(ffn);
  vectors::write_file_bytes(dir + "/ffn_out.npy", bytes);
  std::string text = vectors::read_file_bytes(dir + "/case.json");
  const std::string old_sha = vectors::sha256_hex(vectors::encode_npy(c.expected.ffn_out));
  REQUIRE(text.find(old_sha) != std::string::npos);
  text.replace(text.find(old_sha), old_sha.size(), vectors::sha256_hex(bytes));
  vectors::write_file_bytes(dir + "/case.json", text);

  std::string drift;
  const LayerStimulus st = load_layer_stimulus(dir, &drift);
  CHECK(drift.find("tensor 'ffn_out'") != std::string::npos);  // the golden model disagrees with the file
  const LayerRunResult r = layer_runner_for("tiny")(st, LayerRunOptions{});
  CHECK_FALSE(r.pass);
  REQUIRE(!r.mismatches.empty());
  const std::string m = r.mismatches[0].describe();
  CAPTURE(m);
  CHECK(m.find("ffn_out") != std::string::npos);
  CHECK(m.find("row " + std::to_string(row)) != std::string::npos);
  fs::remove_all(tmp);
}
