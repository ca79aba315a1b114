// Cost of compiling tracing in, side by side in one process, tracing switched off in both:
//   traced   the model verilated with --trace-fst (or --trace) --trace-structs, which esact-sim
//            runs when a waveform is asked for;
//   default  what esact-sim runs otherwise (spls_runner_for, layer_runner_for): in a tracing
//            build the untraced twin Vspls_<cfg>_nt / Vlayer_<cfg>_nt, the same RTL and Verilator
//            flags without tracing, i.e. the model a build with ESACT_TRACE=OFF has.
// Rows: esact_spls_top of every built configuration, esact_layer_top of tiny (an ESACT layer
// case; with --config NAME, the SPLS and layer models of NAME: a minilm layer takes seconds per run).
// Rounds alternate the two so drifting machine load hits both alike; the figure is the median
// over rounds of (default cycles/s) / (traced cycles/s) - 1: what a run without a waveform would
// lose if esact-sim used the traced model. Outputs are checked, so a broken model cannot look fast.
// --kind spls|layer keeps only those rows.
//   build/bin/esact-trace-bench [--rounds N] [--config NAME] [--kind spls|layer]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "esact/sim/layer_models.h"
#include "esact/sim/models.h"
#include "esact/sim/stimulus.h"
#include "esact/spls.h"

using namespace esact;

namespace {

sim::SplsStimulus make_stimulus(const std::string& config, uint32_t seed) {
  return sim::correlated_stimulus(config, seed, config + "-trace-bench");
}

// One run of a model with tracing off: its simulated cycles (exits on a failed run, so a broken
// model cannot look fast).
using RunOnce = std::function<uint64_t()>;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Simulated cycles per second of `reps` runs, per wall-clock second and per second of this
// thread's CPU time (the latter does not count the time the thread waits for a core on a
// loaded machine).
struct Speed {
  double wall, cpu;
};
Speed cycles_per_second(const RunOnce& run, int reps) {
  uint64_t cycles = 0;
  const double c0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) cycles += run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = thread_cpu_seconds() - c0;
  return {double(cycles) / wall, double(cycles) / cpu};
}

struct Pair {
  std::string label;
  RunOnce traced, untraced;
};

RunOnce spls_once(sim::SplsRunFn fn, std::shared_ptr<const sim::SplsStimulus> st) {
  return [fn, st]() {
    const sim::RunResult r = fn(*st, sim::RunOptions{});
    if (!r.pass) {
      std::fprintf(stderr, "esact-trace-bench: %s run failed\n", st->name.c_str());
      std::exit(1);
    }
    return r.total_cycles;
  };
}

RunOnce layer_once(sim::LayerRunFn fn, std::shared_ptr<const sim::LayerStimulus> st) {
  return [fn, st]() {
    const sim::LayerRunResult r = fn(*st, sim::LayerRunOptions{});
    if (!r.pass) {
      std::fprintf(stderr, "esact-trace-bench: layer %s run failed\n", st->name.c_str());
      std::exit(1);
    }
    return r.total_cycles;
  };
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  std::string only, kind;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--config" && i + 1 < argc) only = argv[++i];
    else if (a == "--kind" && i + 1 < argc && (std::string(argv[i + 1]) == "spls" || std::string(argv[i + 1]) == "layer"))
      kind = argv[++i];
    else {
      std::fprintf(stderr, "usage: esact-trace-bench [--rounds N] [--config NAME] [--kind spls|layer]\n");
      return 2;
    }
  }
  std::vector<Pair> pairs;
  for (const auto& c : sim::built_configs()) {
    if ((!only.empty() && only != c) || kind == "layer") continue;
    auto st = std::make_shared<const sim::SplsStimulus>(make_stimulus(c, 7));
    pairs.push_back({"spls " + c, spls_once(sim::spls_traced_runner_for(c), st), spls_once(sim::spls_runner_for(c), st)});
  }
  for (const auto& c : sim::built_configs()) {
    if ((only.empty() ? c != "tiny" : only != c) || kind == "spls") continue;
    const HwConfig cfg = config_by_name(c);
    const SplsParams p = SplsParams::from_fractions(cfg.N, cfg.rho_milli, cfg.tau_milli, cfg.window, cfg.vote, false);
    auto st = std::make_shared<const sim::LayerStimulus>(
        sim::make_layer_stimulus(cfg, p, 7, LayerSwitches::esact(), c + "-trace-bench"));
    pairs.push_back({"layer " + c, layer_once(sim::layer_traced_runner_for(c), st),
                     layer_once(sim::layer_runner_for(c), st)});
  }
  std::printf("trace format compiled in: %s; both models run with tracing off\n", sim::trace_format());
  std::printf("%-13s %6s %14s %16s %15s %10s %15s\n", "model", "rounds", "traced kcyc/s", "default kcyc/s",
              "cost (wall)", "worst", "cost (cpu)");
  for (const auto& p : pairs) {
    // about 0.5 s per measurement; one run of each model first, so neither is measured cold
    const auto t0 = std::chrono::steady_clock::now();
    (void)p.untraced();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    (void)p.traced();
    const int reps = std::max(1, static_cast<int>(0.5 / std::max(secs, 1e-6)));
    std::vector<double> over, over_cpu;
    double traced_best = 0, plain_best = 0;
    for (int r = 0; r < rounds; ++r) {
      // alternate which model goes first
      Speed t, u;
      if (r % 2) {
        u = cycles_per_second(p.untraced, reps);
        t = cycles_per_second(p.traced, reps);
      } else {
        t = cycles_per_second(p.traced, reps);
        u = cycles_per_second(p.untraced, reps);
      }
      traced_best = std::max(traced_best, t.wall);
      plain_best = std::max(plain_best, u.wall);
      over.push_back(u.wall / t.wall - 1.0);
      over_cpu.push_back(u.cpu / t.cpu - 1.0);
    }
    std::sort(over.begin(), over.end());
    std::sort(over_cpu.begin(), over_cpu.end());
    std::printf("%-13s %6d %14.1f %16.1f %14.2f%% %9.2f%% %14.2f%%\n", p.label.c_str(), rounds, traced_best / 1e3,
                plain_best / 1e3, 100 * over[over.size() / 2], 100 * over.back(), 100 * over_cpu[over_cpu.size() / 2]);
  }
  std::printf("esact-sim runs the default model whenever no waveform is asked for, so a tracing build\n"
              "run without -t has the speed of a build without tracing (ESACT_TRACE=OFF).\n");
  return 0;
}
