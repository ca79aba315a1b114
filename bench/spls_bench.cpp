// SPLS speed: the golden model on one sequence, and the Verilated model in simulated cycles per
// second (no stalls, no trace, outputs still checked so the figure is for a useful run).
//   build/bin/esact-bench --benchmark_filter=Spls
#include <benchmark/benchmark.h>

#include <random>

#include "esact/sim/models.h"
#include "esact/spls.h"

using namespace esact;

namespace {
// Correlated rows (each token a perturbation of the previous), like real activations.
sim::SplsStimulus make_stimulus(const std::string& config, uint32_t seed) {
  sim::SplsStimulus st;
  st.name = config + "-bench";
  st.cfg = config_by_name(config);
  const int N = st.cfg.N, D = st.cfg.D;
  std::mt19937 rng(seed);
  st.x = TensorI8({N, D});
  st.wq = TensorI8({D, D});
  st.wk = TensorI8({D, D});
  for (int d = 0; d < D; ++d) st.x(0, d) = static_cast<int8_t>(int(rng() % 201) - 100);
  for (int i = 1; i < N; ++i)
    for (int d = 0; d < D; ++d)
      st.x(i, d) = static_cast<int8_t>(std::clamp(int(st.x(i - 1, d)) + int(rng() % 41) - 20, -128, 127));
  for (auto& v : st.wq.data) v = static_cast<int8_t>(int(rng() % 121) - 60);
  for (auto& v : st.wk.data) v = static_cast<int8_t>(int(rng() % 121) - 60);
  st.params = SplsParams::from_fractions(N, st.cfg.rho_milli, st.cfg.tau_milli, st.cfg.window, st.cfg.vote);
  st.golden = run_spls(st.cfg, st.params, st.x, st.wq, st.wk);
  return st;
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
