// SPLS speed: the golden model on one sequence, and the Verilated model in simulated cycles per
// second (no stalls, no trace, outputs still checked so the figure is for a useful run).
//   build/bin/esact-bench --benchmark_filter=Spls
#include <benchmark/benchmark.h>

#include <random>

#include "esact/sim/models.h"
#include "esact/sim/stimulus.h"
#include "esact/spls.h"

using namespace esact;

namespace {
sim::SplsStimulus make_stimulus(const std::string& config, uint32_t seed) {
  return sim::correlated_stimulus(config, seed, config + "-bench");
}

void BM_GoldenSpls(benchmark::State& state, const std::string& config) {
  const sim::SplsStimulus st = make_stimulus(config, 7);
  for (auto _ : state) {
    SplsResult r = run_spls(st.cfg, st.params, st.x, st.wq, st.wk);
    benchmark::DoNotOptimize(r.token_rep.data.data());
  }
  state.counters["pred_pairs/s"] =
      benchmark::Counter(double(st.golden.counters.pred_pairs), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_RtlSpls(benchmark::State& state, const std::string& config) {
  const sim::SplsStimulus st = make_stimulus(config, 7);
  const sim::SplsRunFn run = sim::spls_runner_for(config);
  if (!run) {
    state.SkipWithError(("no model built for " + config).c_str());
    return;
  }
  sim::RunOptions opt;
  uint64_t cycles = 0, seq_cycles = 0;
  for (auto _ : state) {
    const sim::RunResult r = run(st, opt);
    if (!r.pass) {
      state.SkipWithError("RTL run failed");
      return;
    }
    cycles += r.total_cycles;
    seq_cycles = r.cycles;
  }
  state.counters["sim_cycles/s"] = benchmark::Counter(double(cycles), benchmark::Counter::kIsRate);
  state.counters["cycles/seq"] = double(seq_cycles);
  state.counters["bound"] = double(st.golden.counters.pred_pairs) / st.cfg.LANES;
}
}  // namespace

BENCHMARK_CAPTURE(BM_GoldenSpls, tiny, std::string("tiny"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GoldenSpls, minilm, std::string("minilm"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RtlSpls, tiny, std::string("tiny"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RtlSpls, minilm, std::string("minilm"))->Unit(benchmark::kMillisecond)->Iterations(2);

BENCHMARK_MAIN();
