// The SPLS top over the whole committed corpus, bit-exact, without stalls and with seeded random
// back-pressure on every stream. The minilm cases also check the timing contract of spec section 9.
#include <doctest/doctest.h>

#include <algorithm>

#include "esact/sim/cases.h"
#include "esact/sim/models.h"

using namespace esact;
using namespace esact::sim;

TEST_CASE("corpus: every case passes bit-exactly in RTL, with and without stalls") {
  const std::vector<CaseRef> cases = resolve_cases(vectors::default_corpus_dir());
  REQUIRE(cases.size() >= 20);
  int ran = 0, minilm = 0;
  for (const CaseRef& ref : cases) {
    if (ref.kind == "layer") continue;  // encoder-layer cases: layer_corpus_test.cpp
    CAPTURE(ref.dir);
    std::string drift;
    const SplsStimulus st = load_stimulus(ref, nullptr, &drift);
    CHECK_MESSAGE(drift.empty(), drift);
    const SplsRunFn run = spls_runner_for(st.cfg.name);
    REQUIRE_MESSAGE(bool(run), "no model for " << st.cfg.name);
    for (const double stall : {0.0, 0.3}) {
      RunOptions opt;
      opt.stall_prob = stall;
      opt.seed = 17 + ran;
      const RunResult r = run(st, opt);
      CAPTURE(stall);
      for (const auto& m : r.mismatches) INFO(m.describe());
      CHECK(r.pass);
      if (stall == 0.0 && st.cfg.name == "minilm") {
        const double bound = double(st.golden.counters.pred_pairs) / st.cfg.LANES;
        CHECK_MESSAGE(double(r.cycles) <= 1.2 * bound, "cycles " << r.cycles << " vs bound " << bound);
        ++minilm;
      }
    }
    ++ran;
  }
  CHECK(ran == int(std::count_if(cases.begin(), cases.end(), [](const CaseRef& c) { return c.kind != "layer"; })));
  CHECK(minilm >= 1);
}
