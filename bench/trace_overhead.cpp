// Cost of compiling tracing in, side by side in one process, tracing switched off in both:
//   traced   the model verilated with --trace-fst (or --trace) --trace-structs, which esact-sim
//            runs when a waveform is asked for;
//   default  what esact-sim runs otherwise (spls_runner_for): in a tracing build the untraced
//            twin Vspls_<cfg>_nt, the same RTL and Verilator flags without tracing, i.e. the model
//            a build with ESACT_TRACE=OFF has.
// Rounds alternate the two so drifting machine load hits both alike; the figure is the median
// over rounds of (default cycles/s) / (traced cycles/s) - 1: what a run without a waveform would
// lose if esact-sim used the traced model. Outputs are checked, so a broken model cannot look fast.
//   build/bin/esact-trace-bench [--rounds N] [--config NAME]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "esact/sim/models.h"
#include "esact/sim/stimulus.h"
#include "esact/spls.h"

using namespace esact;

namespace {

sim::SplsStimulus make_stimulus(const std::string& config, uint32_t seed) {
  return sim::correlated_stimulus(config, seed, config + "-trace-bench");
}

using RunFn = sim::RunResult (*)(const sim::SplsStimulus&, const sim::RunOptions&);

// Simulated cycles per second of `reps` runs (outputs checked: a broken model cannot look fast).
double cycles_per_second(RunFn run, const sim::SplsStimulus& st, int reps) {
  sim::RunOptions opt;
  uint64_t cycles = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    const sim::RunResult res = run(st, opt);
    if (!res.pass) {
      std::fprintf(stderr, "esact-trace-bench: %s run failed\n", st.name.c_str());
      std::exit(1);
    }
    cycles += res.total_cycles;
  }
  return double(cycles) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Pair {
  const char* config;
  RunFn traced, untraced;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--config" && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: esact-trace-bench [--rounds N] [--config NAME]\n");
      return 2;
    }
  }
  const std::vector<std::string> configs = sim::built_configs();
  std::vector<Pair> pairs;
  for (const auto& c : configs) pairs.push_back({c.c_str(), sim::spls_traced_runner_for(c), sim::spls_runner_for(c)});
  std::printf("trace format compiled in: %s; both models run with tracing off\n", sim::trace_format());
  std::printf("%-8s %6s %14s %16s %16s %10s\n", "config", "rounds", "traced kcyc/s", "default kcyc/s",
              "traced model cost", "worst round");
  for (const auto& p : pairs) {
    if (!only.empty() && only != p.config) continue;
    const sim::SplsStimulus st = make_stimulus(p.config, 7);
    // about 0.5 s per measurement
    const double probe = cycles_per_second(p.untraced, st, 1);
    const sim::RunResult one = p.untraced(st, sim::RunOptions{});
    const int reps = std::max(1, static_cast<int>(0.5 * probe / double(one.total_cycles)));
    std::vector<double> over;
    double traced_best = 0, plain_best = 0;
    for (int r = 0; r < rounds; ++r) {
      // alternate which model goes first
      double t, u;
      if (r % 2) {
        u = cycles_per_second(p.untraced, st, reps);
        t = cycles_per_second(p.traced, st, reps);
      } else {
        t = cycles_per_second(p.traced, st, reps);
        u = cycles_per_second(p.untraced, st, reps);
      }
      traced_best = std::max(traced_best, t);
      plain_best = std::max(plain_best, u);
      over.push_back(u / t - 1.0);
    }
    std::sort(over.begin(), over.end());
    const double median = over[over.size() / 2];
    std::printf("%-8s %6d %14.1f %16.1f %15.2f%% %9.2f%%\n", p.config, rounds, traced_best / 1e3,
                plain_best / 1e3, 100 * median, 100 * over.back());
  }
  std::printf("esact-sim runs the default model whenever no waveform is asked for, so a tracing build\n"
              "run without -t has the speed of a build without tracing (ESACT_TRACE=OFF).\n");
  return 0;
}
