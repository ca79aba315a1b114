// esact-sim: the SPLS RTL regression front end. Streams each vector case into the Verilated
// model, compares every output beat with the golden model, and reports per case and in total.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "esact/sim/cases.h"
#include "esact/sim/models.h"
#include "esact/sim/report.h"
#include "esact/vectors/spls_case.h"

using namespace esact;
using namespace esact::sim;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

const char* kUsage = R"(usage: esact-sim [options]

Runs SPLS vector cases on the Verilated RTL and compares every output with the golden model.

Cases:
  --vectors PATH      a case directory, a manifest.json, or a directory holding one
                      (default: the committed corpus, vectors/corpus)
  --config NAME       only cases of this configuration (built: %s)
  --filter TEXT       only cases whose name contains TEXT
  --tag TAG           only cases carrying TAG (see the manifest)
  --shard I/N         run the deterministic slice I of N (0 <= I < N): case j runs in shard j mod N
Stimulus:
  --seed N            seed of the random back-pressure (default 1)
  --stall-prob P      per-cycle stall probability on every stream, 0 <= P < 1 (default 0)
  --no-stalls         same as --stall-prob 0
  --max-cycles N      per-case watchdog in cycles (default: 4x the timing bound, always on)
Checking and output:
  --no-check          performance run: count output beats, do not compare them
  -t, --trace[=FILE]  write an FST waveform (default FILE: <case>.fst; one case only)
  --trace-start N     first cycle to trace (default 0)
  --trace-end N       last cycle to trace (default: end of run)
  --report FILE       write the JSON report (schema esact-sim-report v1)
  --junit FILE        write JUnit XML, one testcase per case
  -q, --quiet         no per-case table, only the summary
  -v, --verbose       print every mismatch (default: the first 5 per case)
  -h, --help          this text

Exit status: 0 when every case passes, 1 when any fails, 2 on a usage error or a malformed\ncase file, 130 when interrupted (the report is then marked incomplete).
)";

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "esact-sim: %s\n(try esact-sim --help)\n", msg.c_str());
  std::exit(2);
}

uint64_t parse_u64(const std::string& opt, const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    usage_error("option " + opt + ": '" + s + "' is not a non-negative integer");
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno == ERANGE || *end) usage_error("option " + opt + ": '" + s + "' is out of range");
  return v;
}

double parse_prob(const std::string& opt, const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || errno == ERANGE || !(v >= 0.0 && v < 1.0))
    usage_error("option " + opt + ": '" + s + "' is not a probability in [0, 1)");
  return v;
}

std::string shell_quote(const std::string& s) {
  if (s.find_first_of(" \t'\"$\\") == std::string::npos) return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

std::string format_prob(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", p);
  return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string o;
  for (const auto& s : v) o += (o.empty() ? "" : sep) + s;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string vectors_path, config_filter, name_filter, tag_filter, trace_file, report_file, junit_file;
  bool trace = false, quiet = false, verbose = false;
  int shard_index = 0, shard_count = 1;
  RunOptions opt;
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + shell_quote(argv[i]);

  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], val;
    const auto eq = a.find('=');
    bool has_val = false;
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_val = true;
    }
    auto need = [&]() -> std::string {
      if (has_val) return val;
      if (i + 1 >= args.size()) usage_error("option " + a + " needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf(kUsage, join(built_configs(), ", ").c_str());
      return 0;
    } else if (a == "--vectors") {
      vectors_path = need();
    } else if (a == "--config") {
      config_filter = need();
    } else if (a == "--filter") {
      name_filter = need();
    } else if (a == "--tag") {
      tag_filter = need();
    } else if (a == "--shard") {
      const std::string s = need();
      const auto slash = s.find('/');
      if (slash == std::string::npos) usage_error("option --shard: '" + s + "' is not I/N");
      shard_index = static_cast<int>(parse_u64("--shard", s.substr(0, slash)));
      shard_count = static_cast<int>(parse_u64("--shard", s.substr(slash + 1)));
      if (shard_count < 1 || shard_index >= shard_count)
        usage_error("option --shard: need 0 <= I < N, got '" + s + "'");
    } else if (a == "--seed") {
      opt.seed = parse_u64(a, need());
    } else if (a == "--stall-prob") {
      opt.stall_prob = parse_prob(a, need());
    } else if (a == "--no-stalls") {
      opt.stall_prob = 0.0;
    } else if (a == "--max-cycles") {
      opt.max_cycles = parse_u64(a, need());
      if (opt.max_cycles == 0) usage_error("option --max-cycles: must be >= 1 (the watchdog is always on)");
    } else if (a == "--no-check") {
      opt.check = false;
    } else if (a == "-t" || a == "--trace") {
      trace = true;
      if (has_val) trace_file = val;
    } else if (a == "--trace-start") {
      opt.trace_start = parse_u64(a, need());
    } else if (a == "--trace-end") {
      opt.trace_end = parse_u64(a, need());
    } else if (a == "--report") {
      report_file = need();
    } else if (a == "--junit") {
      junit_file = need();
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "-v" || a == "--verbose") {
      verbose = true;
    } else {
      usage_error("unknown option '" + args[i] + "'");
    }
  }
#if !ESACT_TRACE
  if (trace) usage_error("option --trace: this build has no tracing (configure with -DESACT_TRACE=ON)");
#endif
  if (opt.trace_end < opt.trace_start) usage_error("option --trace-end: must be >= --trace-start");
  if (!config_filter.empty() && !spls_runner_for(config_filter))
    usage_error("option --config: no model built for '" + config_filter + "' (built: " + join(built_configs(), ", ") + ")");
  if (vectors_path.empty()) vectors_path = vectors::default_corpus_dir();

  std::vector<CaseRef> all;
  try {
    all = resolve_cases(vectors_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim: %s\n", e.what());
    return 2;
  }
  std::vector<CaseRef> selected;
  for (const auto& c : all) {
    if (!config_filter.empty() && !c.config.empty() && c.config != config_filter) continue;
    if (!name_filter.empty() && c.name.find(name_filter) == std::string::npos) continue;
    if (!tag_filter.empty()) {
      bool has = false;
      for (const auto& t : c.tags) has |= t == tag_filter;
      if (!has) continue;
    }
    selected.push_back(c);
  }
  selected = shard_cases(selected, shard_index, shard_count);
  if (selected.empty()) {
    std::fprintf(stderr, "esact-sim: no case selected from %s\n", vectors_path.c_str());
    return 2;
  }
  if (trace && selected.size() != 1)
    usage_error("option --trace: select exactly one case (--filter NAME), got " + std::to_string(selected.size()));

  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  if (!quiet) {
    std::printf("%-28s %-7s %4s %4s %-7s %9s %9s %6s %8s %9s %7s %8s %7s\n", "case", "config", "L", "k", "verdict",
                "cycles", "bound", "ratio", "wall_ms", "kcyc/s", "follow", "kv_skip", "mac_red");
  }
  std::vector<CaseReport> reports;
  RunMeta meta;
  meta.command_line = cmdline;
  meta.vectors = vectors_path;
  meta.seed = opt.seed;
  meta.stall_prob = opt.stall_prob;
  const auto t0 = std::chrono::steady_clock::now();
  int passed = 0, failed = 0, input_errors = 0;
  for (const auto& ref : selected) {
    if (g_interrupted) {
      meta.complete = false;
      break;
    }
    CaseReport rep;
    rep.ref = ref;
    rep.seed = opt.seed;
    rep.stall_prob = opt.stall_prob;
    SplsStimulus st;
    try {
      std::string drift;
      st = load_stimulus(ref, nullptr, &drift);
      rep.loaded = true;
      rep.cfg = st.cfg;
      rep.params = st.params;
      rep.counters = st.golden.counters;
      if (!drift.empty()) rep.error = ref.dir + ": golden model and stored expectation differ: " + drift;
    } catch (const std::exception& e) {
      rep.error = e.what();
      ++input_errors;
    }
    {
      std::string r = "esact-sim --vectors " + shell_quote(ref.dir) + " --seed " + std::to_string(opt.seed) +
                      " --stall-prob " + format_prob(opt.stall_prob);
      rep.repro = r;
    }
    if (rep.loaded && rep.error.empty()) {
      if (!config_filter.empty() && st.cfg.name != config_filter) continue;
      const SplsRunFn run = spls_runner_for(st.cfg.name);
      if (!run) {
        rep.error = ref.dir + ": field 'config': no RTL model built for configuration '" + st.cfg.name +
                    "' (built: " + join(built_configs(), ", ") + "; set -DESACT_CONFIGS)";
      } else {
        RunOptions o = opt;
        if (trace) o.trace_file = trace_file.empty() ? ref.name + ".fst" : trace_file;
        rep.run = run(st, o);
        if (!rep.run.pass && !rep.run.mismatches.empty()) {
          const uint64_t c = rep.run.first_error_cycle;
          rep.repro += " --trace=" + ref.name + ".fst --trace-start " + std::to_string(c > 200 ? c - 200 : 0) +
                       " --trace-end " + std::to_string(c + 50);
        }
      }
    }
    const bool ok = rep.pass();
    ok ? ++passed : ++failed;
    if (!quiet) {
      if (rep.loaded && rep.error.empty()) {
        const double kcps = rep.run.wall_seconds > 0 ? rep.run.total_cycles / rep.run.wall_seconds / 1e3 : 0;
        std::printf("%-28s %-7s %4d %4d %-7s %9llu %9.0f %6.3f %8.1f %9.1f %6.1f%% %8lld %6.1f%%\n",
                    ref.name.c_str(), st.cfg.name.c_str(), st.params.L, st.params.k, ok ? "PASS" : "FAIL",
                    static_cast<unsigned long long>(rep.run.cycles), rep.bound_cycles(),
                    rep.bound_cycles() > 0 ? rep.run.cycles / rep.bound_cycles() : 0.0, rep.run.wall_seconds * 1e3,
                    kcps, 100.0 * rep.counters.head_followers / (st.cfg.H * st.params.L),
                    static_cast<long long>(rep.counters.kv_rows_skipped),
                    100.0 * (1.0 - double(rep.counters.executed.total()) / double(rep.counters.dense.total())));
      } else {
        std::printf("%-28s %-7s %4s %4s %-7s\n", ref.name.c_str(), ref.config.c_str(), "-", "-", "ERROR");
      }
    }
    if (!ok) {
      if (!rep.error.empty()) std::printf("  error: %s\n", rep.error.c_str());
      size_t shown = 0;
      for (const auto& m : rep.run.mismatches) {
        if (!verbose && shown++ >= 5) {
          std::printf("  ... %zu more (use -v)\n", rep.run.mismatches.size() - 5);
          break;
        }
        std::printf("  mismatch: %s\n", m.describe().c_str());
      }
      std::printf("  repro: %s\n", rep.repro.c_str());
    }
    if (!rep.run.trace_file.empty()) std::printf("  trace: %s\n", rep.run.trace_file.c_str());
    std::fflush(stdout);
    reports.push_back(std::move(rep));
  }
  meta.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (g_interrupted) meta.complete = false;

  try {
    if (!report_file.empty()) write_file_atomic(report_file, vectors::dump_json(run_report_json(meta, reports)));
    if (!junit_file.empty()) write_file_atomic(junit_file, junit_xml(meta, reports));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim: %s\n", e.what());
    return 2;
  }
  uint64_t cycles = 0;
  double sim_wall = 0;
  for (const auto& r : reports) {
    cycles += r.run.total_cycles;
    sim_wall += r.run.wall_seconds;
  }
  std::printf("esact-sim: %zu cases, %llu simulated cycles in %.2f s (%.0f kcycles/s)%s\n", reports.size(),
              static_cast<unsigned long long>(cycles), meta.wall_seconds, sim_wall > 0 ? cycles / sim_wall / 1e3 : 0.0,
              meta.complete ? "" : ", INTERRUPTED: report marked incomplete");
  if (!report_file.empty()) std::printf("report: %s\n", report_file.c_str());
  if (!junit_file.empty()) std::printf("junit: %s\n", junit_file.c_str());
  std::printf("%d passed, %d failed\n", passed, failed);
  if (!meta.complete) return 130;
  if (input_errors) return 2;  // a malformed case is an input error, whatever else failed
  return failed ? 1 : 0;
}
