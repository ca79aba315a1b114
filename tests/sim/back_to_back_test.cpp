// Several sequences back to back on one model instance: the next configuration is offered while
// the unit is still busy with the previous sequence, so leftover state (a longer L before a
// shorter one, causal before non-causal) or a mishandled busy handshake shows up as a mismatch.
#include <doctest/doctest.h>

#include "esact/sim/cases.h"
#include "esact/sim/models.h"

using namespace esact;
using namespace esact::sim;

namespace {
std::vector<SplsStimulus> tiny_cases(const std::vector<std::string>& names) {
  std::vector<SplsStimulus> out;
  for (const CaseRef& ref : resolve_cases(vectors::default_corpus_dir())) {
    if (ref.kind != "spls" || ref.config != "tiny") continue;
    for (const std::string& n : names) {
      if (ref.name != n) continue;
      std::string drift;
      out.push_back(load_stimulus(ref, nullptr, &drift));
      REQUIRE(drift.empty());
    }
  }
  REQUIRE(out.size() == names.size());
  return out;
}
}  // namespace

TEST_CASE("back to back: four different tiny sequences on one instance, with and without stalls") {
  // Long then short, causal then not, all followers then none: state must not leak.
  const std::vector<SplsStimulus> cases =
      tiny_cases({"default_s1", "pad_l5", "pad_l13_causal", "all_followers", "no_followers_w0"});
  const SplsRunFn run = spls_runner_for("tiny");
  REQUIRE(bool(run));
  for (const double stall : {0.0, 0.3}) {
    RunOptions opt;
    opt.stall_prob = stall;
    opt.seed = 3;
    for (size_t i = 1; i < cases.size(); ++i) opt.follow_on.push_back(&cases[i]);
    const RunResult r = run(cases[0], opt);
    CAPTURE(stall);
    for (const auto& m : r.mismatches) INFO(m.describe());
    CHECK(r.pass);
    size_t expected = 0;
    for (const auto& c : cases) expected += size_t(c.cfg.H * (c.params.L + 2) + c.params.L);
    CHECK(r.beats_out == expected);
  }
}

TEST_CASE("back to back: an error in the second sequence is caught there") {
  std::vector<SplsStimulus> cases = tiny_cases({"pad_l9", "default_s2"});
  const SplsRunFn run = spls_runner_for("tiny");
  REQUIRE(bool(run));
  cases[1].golden.token_rep.data[3] ^= 1;  // planted in the second sequence only
  RunOptions opt;
  opt.follow_on.push_back(&cases[1]);
  const RunResult r = run(cases[0], opt);
  CHECK_FALSE(r.pass);
  REQUIRE_FALSE(r.mismatches.empty());
  CHECK(r.mismatches[0].tensor == "token_rep");
  CHECK(r.mismatches[0].flat_index == 3);
  // The first sequence's beats all matched: the error sits after them.
  CHECK(r.mismatches[0].beat >= int64_t(cases[0].cfg.H * (cases[0].params.L + 2) + cases[0].params.L));
}
