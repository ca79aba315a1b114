// Encoder-layer speed: the golden run_layer (dense and ESACT) and the Verilated esact_layer_top in
// simulated cycles per second (no stalls, no trace, results still checked so the figure is for a
// useful run). Synthetic case of make_layer_stimulus, seed 1, L = N.
//   build/bin/esact-bench --benchmark_filter=Layer
#include <benchmark/benchmark.h>

#include "esact/layer.h"
#include "esact/sim/layer_models.h"

using namespace esact;

namespace {

sim::LayerStimulus stimulus(const std::string& config, bool esact_mode) {
  const HwConfig cfg = config_by_name(config);
  const SplsParams p = SplsParams::from_fractions(cfg.N, cfg.rho_milli, cfg.tau_milli, cfg.window, cfg.vote);
  return sim::make_layer_stimulus(cfg, p, 1, esact_mode ? LayerSwitches::esact() : LayerSwitches::dense(),
                                  config + (esact_mode ? "-esact" : "-dense"));
}

void BM_GoldenLayer(benchmark::State& state, const std::string& config, bool esact_mode) {
  const sim::LayerStimulus st = stimulus(config, esact_mode);
  const SplsResult* spls = esact_mode ? &st.spls : nullptr;
  for (auto _ : state) {
    LayerResult r = run_layer(st.cfg, st.params, st.weights, st.x, spls, st.sw);
    benchmark::DoNotOptimize(r.out.data.data());
  }
  state.counters["MACs/s"] =
      benchmark::Counter(double(st.golden.executed.total()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_RtlLayer(benchmark::State& state, const std::string& config, bool esact_mode) {
  const sim::LayerRunFn run = sim::layer_runner_for(config);
  if (!run) {
    state.SkipWithError(("no layer model built for " + config).c_str());
    return;
  }
  const sim::LayerStimulus st = stimulus(config, esact_mode);
  sim::LayerRunOptions opt;
  uint64_t cycles = 0, layer_cycles = 0;
  for (auto _ : state) {
    const sim::LayerRunResult r = run(st, opt);
    if (!r.pass) {
      state.SkipWithError("RTL layer run failed");
      return;
    }
    cycles += r.total_cycles;
    layer_cycles = r.cycles;
  }
  state.counters["sim_cycles/s"] = benchmark::Counter(double(cycles), benchmark::Counter::kIsRate);
  state.counters["layer_cycles"] = double(layer_cycles);
}

}  // namespace

BENCHMARK_CAPTURE(BM_GoldenLayer, minilm_dense, std::string("minilm"), false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GoldenLayer, minilm_esact, std::string("minilm"), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GoldenLayer, tiny_esact, std::string("tiny"), true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RtlLayer, tiny_dense, std::string("tiny"), false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RtlLayer, tiny_esact, std::string("tiny"), true)->Unit(benchmark::kMillisecond);
// A minilm layer takes 15-25 s of wall time: one iteration each.
BENCHMARK_CAPTURE(BM_RtlLayer, minilm_dense, std::string("minilm"), false)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_RtlLayer, minilm_esact, std::string("minilm"), true)->Unit(benchmark::kSecond)->Iterations(1);
