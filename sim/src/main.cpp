// esact-sim: the SPLS RTL regression front end. Streams each vector case into the Verilated
// model, compares every output beat with the golden model, and reports per case and in total.
//   esact-sim [run options]              run a regression (see --help)
//   esact-sim merge REPORT.json...       combine shard reports (and their coverage) into one
//   esact-sim html REPORT.json -o FILE   render a report as HTML
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "esact/sim/cases.h"
#include "esact/sim/layer_models.h"
#include "esact/sim/coverage.h"
#include "esact/sim/models.h"
#include "esact/sim/report.h"
#include "esact/vectors/layer_case.h"
#include "esact/vectors/sha256.h"
#include "esact/vectors/spls_case.h"

using namespace esact;
using namespace esact::sim;

namespace {

// Set by SIGINT / SIGTERM / SIGALRM (--max-wall); polled between cases and inside a case.
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) {
  g_stop_signal = sig;
  g_stop = 1;
  if (sig == SIGINT) std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

const char* kUsage = R"(usage: esact-sim [options]
       esact-sim merge REPORT.json... --report FILE [--junit FILE] [--html FILE] [--coverage-out FILE]
       esact-sim html REPORT.json -o FILE.html

Runs vector cases on the Verilated RTL and compares every output with the golden model: SPLS
cases on esact_spls_top, encoder-layer cases (kind "layer") on esact_layer_top, after the SPLS
cases, each with its per-phase cycles, PE utilisation and dense-vs-ESACT speedup in the report.

Cases:
  --vectors PATH      a case directory, a manifest.json, a directory holding one, or a regression
                      list file (docs/regressions.md) (default: the committed corpus, vectors/corpus)
  --work-dir DIR      where generator sweeps of a regression list are written (default out/esact-work)
  --config NAME       only cases of this configuration (built: %s)
  --filter TEXT       only cases whose name contains TEXT
  --tag TAG           only cases carrying TAG (see the manifest)
  --kind KIND         only cases of this kind: spls or layer (the manifest's "kind")
  --shard I/N         run the deterministic slice I of N (0 <= I < N): run j goes to shard j mod N
  --shard auto        take I/N from the environment: ESACT_SHARD, SLURM_ARRAY_TASK_ID (+ _COUNT or
                      _MIN/_MAX), JOB_COMPLETION_INDEX + ESACT_SHARD_COUNT, CI_NODE_INDEX/_TOTAL,
                      BUILDKITE_PARALLEL_JOB/_COUNT
Stimulus:
  --seed N            seed of the random back-pressure and of Verilator's reset values (default 1)
  --seeds N           random-seed mode: run every case with seeds seed .. seed+N-1, with random
                      stalls (default --stall-prob 0.3) and randomised reset values (--rand-reset 2)
  --back-to-back N    run up to N consecutive SPLS runs of one configuration back to back on one
                      model instance, each configuration offered while the unit is still busy
                      with the previous sequence (1..1000; default 1: a fresh instance per case);
                      a chain is one run of the report, named after its first case
  --stall-prob P      per-cycle stall probability on every stream, 0 <= P < 1 (default 0)
  --no-stalls         same as --stall-prob 0
  --rand-reset R      initial values of unreset state: 0 zeros, 1 ones, 2 random (default 0)
                      (+verilator+rand+reset+R is accepted too)
  --verilator-seed N  seed of Verilator's randomisation, 1..2147483647 (default: derived from
                      --seed; +verilator+seed+N is accepted too)
  --max-cycles N      per-case watchdog in cycles (default: 4x the timing bound, always on)
  --max-wall S        stop the whole run after S seconds; the report is marked incomplete
Checking and output:
  --no-check          performance run: count output beats, do not compare them
  -t, --trace[=FILE]  write a waveform (%s; default FILE: <case>.%s; one run only, SPLS or
                      layer case)
  --trace-start N     first cycle to trace (default 0)
  --trace-end N       last cycle to trace (default: end of run)
  --trace-on-fail[=DIR]  re-run each failing case with a waveform of the cycles around its first
                      error, into DIR (default .)
  --coverage DIR      coverage builds: one .dat per run in DIR, merged into DIR/merged.dat, and a
                      summary in the report
  --report FILE       write the JSON report (schema esact-sim-report v1, docs/reports.md)
  --junit FILE        write JUnit XML, one testcase per run
  --html FILE         write the HTML report (charts and heatmaps)
  --progress, --no-progress  progress line on stderr (default: on when stderr is a terminal)
  -q, --quiet         no per-case table, only the summary
  --plant-mismatch B  test hook: corrupt the expected value of output beat B of each SPLS case, so
                      the run fails there as it would on an RTL bug (docs/debugging.md); layer
                      cases are not affected
  -v, --verbose       print every mismatch (default: the first 5 per case) and the cycle phases
  -h, --help          this text

Exit status: 0 when every case passes, 1 when any fails, 2 on a usage error or a malformed
case file, 130 when interrupted (SIGINT, SIGTERM, --max-wall; the report is then marked incomplete).
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

uint64_t parse_ranged(const std::string& opt, const std::string& s, uint64_t lo, uint64_t hi) {
  const uint64_t v = parse_u64(opt, s);
  if (v < lo || v > hi)
    usage_error("option " + opt + ": " + s + " is not in " + std::to_string(lo) + ".." + std::to_string(hi));
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
  if (!s.empty() && s.find_first_of(" \t'\"$\\*?;&|<>()`!") == std::string::npos) return s;
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

std::string human_size(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "missing";
  const double b = double(st.st_size);
  char buf[32];
  if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1024 / 1024);
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Progress on stderr: a self-overwriting line on a terminal, otherwise (when asked) one plain
// line per 10 %% of the runs.
class Progress {
 public:
  Progress(bool enabled, bool tty, size_t total)
      : enabled_(enabled), tty_(tty), total_(total), t0_(std::chrono::steady_clock::now()) {}
  void update(size_t done, int passed, int failed, const std::string& current) {
    if (!enabled_ || total_ == 0) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double eta = done ? el / double(done) * double(total_ - done) : 0.0;
    char line[256];
    std::snprintf(line, sizeof line, "[%zu/%zu] %3.0f%%  %d pass  %d fail  %02d:%02d elapsed  eta %02d:%02d  %s",
                  done, total_, 100.0 * double(done) / double(total_), passed, failed, int(el) / 60, int(el) % 60,
                  int(eta) / 60, int(eta) % 60, current.c_str());
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line);
      shown_ = true;
    } else if (done * 10 / total_ != last_decile_ || done == total_) {
      last_decile_ = done * 10 / total_;
      std::fprintf(stderr, "%s\n", line);
    }
    std::fflush(stderr);
  }
  void clear() {
    if (enabled_ && tty_ && shown_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
      shown_ = false;
    }
  }

 private:
  bool enabled_, tty_;
  size_t total_;
  std::chrono::steady_clock::time_point t0_;
  size_t last_decile_ = 0;
  bool shown_ = false;
};

struct Run {
  CaseRef ref;
  uint64_t seed = 1;
  int64_t index = 0;
  std::vector<CaseRef> follow;  // --back-to-back: cases run after this one on the same model instance
};

// The parts of a layer run the regression loop shares with SPLS runs (verdict, cycles, errors,
// waveform, coverage); the layer's own counters go to CaseReport::layer.
RunResult as_run_result(const LayerRunResult& l) {
  RunResult r;
  r.pass = l.pass;
  r.timed_out = l.timed_out;
  r.assertion_failed = l.assertion_failed;
  r.cycles = l.cycles;
  r.total_cycles = l.total_cycles;
  r.first_error_cycle = l.first_error_cycle;
  r.max_cycles = l.max_cycles;
  r.wall_seconds = l.wall_seconds;
  r.beats_out = l.beats_out;
  r.beats_expected = l.beats_expected;
  r.mismatches = l.mismatches;
  r.trace_file = l.trace_file;
  r.trace_first_cycle = l.trace_first_cycle;
  r.trace_last_cycle = l.trace_last_cycle;
  r.traced_cycles = l.traced_cycles;
  r.interrupted = l.interrupted;
  r.coverage_file = l.coverage_file;
  return r;
}

int merge_main(const std::vector<std::string>& args, const std::string& cmdline) {
  std::vector<std::string> inputs;
  std::string report, junit, html, cov_out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= args.size()) usage_error("merge: option " + a + " needs a value");
      return args[++i];
    };
    if (a == "--report") report = need();
    else if (a == "--junit") junit = need();
    else if (a == "--html") html = need();
    else if (a == "--coverage-out") cov_out = need();
    else if (a == "-h" || a == "--help") {
      std::printf("usage: esact-sim merge REPORT.json... --report FILE [--junit FILE] [--html FILE] "
                  "[--coverage-out FILE.dat]\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') usage_error("merge: unknown option '" + a + "'");
    else inputs.push_back(a);
  }
  if (inputs.empty()) usage_error("merge: give the shard reports to merge");
  if (report.empty() && junit.empty() && html.empty()) usage_error("merge: give --report, --junit or --html");
  try {
    MergeResult m = merge_reports(inputs, cmdline);
    if (!m.coverage_files.empty()) {
      if (cov_out.empty()) cov_out = report.empty() ? "merged.dat" : report + ".dat";
      CoverageData data;
      for (const auto& f : m.coverage_files) data.add_file(f);
      data.write_atomic(cov_out);
      CoverageSummary s = summarize_coverage(data);
      s.files = m.coverage_files;
      m.report.set("coverage", coverage_summary_json(s, cov_out));
      std::printf("coverage: %s: line %.1f%% (%llu/%llu), toggle %.1f%% (%llu/%llu), covers %llu/%llu hit\n",
                  cov_out.c_str(), s.line.percent(), static_cast<unsigned long long>(s.line.hit),
                  static_cast<unsigned long long>(s.line.total), s.toggle.percent(),
                  static_cast<unsigned long long>(s.toggle.hit), static_cast<unsigned long long>(s.toggle.total),
                  static_cast<unsigned long long>(s.user.hit), static_cast<unsigned long long>(s.user.total));
      for (const auto& n : s.unhit_covers) std::printf("  unhit cover: %s\n", n.c_str());
    } else if (!cov_out.empty()) {
      usage_error("merge: --coverage-out given but no input report has coverage");
    }
    if (!report.empty()) write_file_atomic(report, vectors::dump_json(m.report));
    if (!junit.empty()) write_file_atomic(junit, junit_xml(m.report));
    if (!html.empty()) write_file_atomic(html, html_report(m.report));
    const vectors::Json& s = *m.report.find("summary");
    std::printf("esact-sim merge: %zu reports, %lld runs: %lld passed, %lld failed, %lld errors, %lld interrupted%s\n",
                inputs.size(), static_cast<long long>(s.find("cases")->as_int()),
                static_cast<long long>(s.find("passed")->as_int()), static_cast<long long>(s.find("failed")->as_int()),
                static_cast<long long>(s.find("errors")->as_int()),
                static_cast<long long>(s.find("interrupted")->as_int()),
                m.report.find("complete")->as_bool() ? "" : " (INCOMPLETE)");
    if (!m.report.find("complete")->as_bool())
      std::printf("  incomplete: %s\n", m.report.find("incomplete_reason")->as_string().c_str());
    if (!report.empty()) std::printf("report: %s\n", report.c_str());
    const bool ok = s.find("passed")->as_int() == s.find("cases")->as_int();
    if (!m.report.find("complete")->as_bool()) return 130;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim merge: %s\n", e.what());
    return 2;
  }
}

int html_main(const std::vector<std::string>& args) {
  std::string in, out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-o" && i + 1 < args.size()) out = args[++i];
    else if (args[i] == "-h" || args[i] == "--help") {
      std::printf("usage: esact-sim html REPORT.json -o FILE.html\n");
      return 0;
    } else if (!args[i].empty() && args[i][0] == '-') usage_error("html: unknown option '" + args[i] + "'");
    else if (in.empty()) in = args[i];
    else usage_error("html: one report at a time");
  }
  if (in.empty() || out.empty()) usage_error("html: need REPORT.json and -o FILE.html");
  try {
    write_file_atomic(out, html_report(read_report(in)));
    std::printf("html: %s\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim html: %s\n", e.what());
    return 2;
  }
}

int run_main(const std::vector<std::string>& args, const std::string& argv0, const std::string& cmdline) {
  // from the start: loading a large selection takes a while, and an interrupt then must still
  // produce an (empty, incomplete) report rather than kill the process
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::string vectors_path, work_dir = "out/esact-work", config_filter, name_filter, tag_filter, kind_filter, trace_file,
                            report_file, junit_file, html_file, coverage_dir, fail_trace_dir;
  bool trace = false, quiet = false, verbose = false, trace_on_fail = false;
  int progress_mode = -1;  // -1 auto, 0 off, 1 on
  ShardSpec shard;
  bool shard_auto = false;
  bool stall_given = false, rand_reset_given = false;
  uint64_t seeds = 1, max_wall = 0, back_to_back = 1;
  int verilator_seed = 0;
  RunOptions opt;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], val;
    // Verilator's own plusargs, for people who know them
    if (a.rfind("+verilator+rand+reset+", 0) == 0) {
      opt.rand_reset = static_cast<int>(parse_ranged("+verilator+rand+reset+", a.substr(22), 0, 2));
      rand_reset_given = true;
      continue;
    }
    if (a.rfind("+verilator+seed+", 0) == 0) {
      verilator_seed = static_cast<int>(parse_ranged("+verilator+seed+", a.substr(16), 1, 2147483647));
      continue;
    }
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
    auto no_value = [&]() {
      if (has_val) usage_error("option " + a + " takes no value");
    };
    if (a == "-h" || a == "--help") {
      std::printf(kUsage, join(built_configs(), ", ").c_str(),
                  *trace_format() ? trace_format() : "not in this build", *trace_format() ? trace_format() : "fst");
      return 0;
    } else if (a == "--vectors") {
      vectors_path = need();
    } else if (a == "--work-dir") {
      work_dir = need();
    } else if (a == "--config") {
      config_filter = need();
    } else if (a == "--filter") {
      name_filter = need();
    } else if (a == "--tag") {
      tag_filter = need();
    } else if (a == "--kind") {
      kind_filter = need();
      if (kind_filter != "spls" && kind_filter != "layer")
        usage_error("option --kind: '" + kind_filter + "' is not spls or layer");
    } else if (a == "--shard") {
      const std::string s = need();
      if (s == "auto") {
        shard_auto = true;
      } else {
        try {
          shard = parse_shard(s, "option --shard");
        } catch (const std::exception& e) {
          usage_error(e.what());
        }
        shard.source = "--shard";
      }
    } else if (a == "--seed") {
      opt.seed = parse_u64(a, need());
    } else if (a == "--seeds") {
      seeds = parse_ranged(a, need(), 1, 1000000);
    } else if (a == "--back-to-back") {
      back_to_back = parse_ranged(a, need(), 1, 1000);
    } else if (a == "--stall-prob") {
      opt.stall_prob = parse_prob(a, need());
      stall_given = true;
    } else if (a == "--no-stalls") {
      no_value();
      opt.stall_prob = 0.0;
      stall_given = true;
    } else if (a == "--rand-reset") {
      opt.rand_reset = static_cast<int>(parse_ranged(a, need(), 0, 2));
      rand_reset_given = true;
    } else if (a == "--verilator-seed") {
      verilator_seed = static_cast<int>(parse_ranged(a, need(), 1, 2147483647));
    } else if (a == "--max-cycles") {
      opt.max_cycles = parse_u64(a, need());
      if (opt.max_cycles == 0) usage_error("option --max-cycles: must be >= 1 (the watchdog is always on)");
    } else if (a == "--max-wall") {
      max_wall = parse_ranged(a, need(), 1, 30u * 24 * 3600);
    } else if (a == "--plant-mismatch") {
      opt.plant_mismatch = static_cast<int64_t>(parse_ranged(a, need(), 0, 1u << 30));
    } else if (a == "--no-check") {
      no_value();
      opt.check = false;
    } else if (a == "-t" || a == "--trace") {
      trace = true;
      if (has_val) {
        if (val.empty()) usage_error("option --trace=: empty file name");
        trace_file = val;
      }
    } else if (a == "--trace-start") {
      opt.trace_start = parse_u64(a, need());
    } else if (a == "--trace-end") {
      opt.trace_end = parse_u64(a, need());
    } else if (a == "--trace-on-fail") {
      trace_on_fail = true;
      fail_trace_dir = has_val ? val : ".";
      if (fail_trace_dir.empty()) usage_error("option --trace-on-fail=: empty directory name");
    } else if (a == "--coverage") {
      coverage_dir = need();
    } else if (a == "--report") {
      report_file = need();
    } else if (a == "--junit") {
      junit_file = need();
    } else if (a == "--html") {
      html_file = need();
    } else if (a == "--progress") {
      no_value();
      progress_mode = 1;
    } else if (a == "--no-progress") {
      no_value();
      progress_mode = 0;
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "-v" || a == "--verbose") {
      verbose = true;
    } else {
      usage_error("unknown option '" + args[i] + "'");
    }
  }
  if ((trace || trace_on_fail) && !*trace_format())
    usage_error("option --trace: this build has no tracing (configure with -DESACT_TRACE=ON)");
  if (opt.trace_end < opt.trace_start) usage_error("option --trace-end: must be >= --trace-start");
  if ((opt.trace_start != 0 || opt.trace_end != UINT64_MAX) && !trace)
    usage_error("option --trace-start/--trace-end: needs -t/--trace");
  if (!coverage_dir.empty() && !kCoverageBuild)
    usage_error("option --coverage: this build has no coverage (cmake --preset coverage, or ci/coverage)");
  if (!config_filter.empty() && !spls_runner_for(config_filter))
    usage_error("option --config: no model built for '" + config_filter + "' (built: " + join(built_configs(), ", ") + ")");
  for (const auto& f : {report_file, junit_file, html_file})
    if (!f.empty() && is_dir(f)) usage_error("output file '" + f + "' is a directory");
  if (trace_on_fail && !is_dir(fail_trace_dir)) usage_error("option --trace-on-fail: '" + fail_trace_dir + "' is not a directory");
  if (opt.plant_mismatch >= 0 && kind_filter == "layer")
    usage_error("option --plant-mismatch: applies to SPLS cases only (not with --kind layer)");
  if (back_to_back > 1 && kind_filter == "layer")
    usage_error("option --back-to-back: layer cases never run back to back (drop --kind layer or --back-to-back)");
  if (back_to_back > 1 && seeds > 1)
    usage_error("option --back-to-back: not with --seeds (a chain runs on one seed; use --seed per pass)");
  if (seeds > 1) {  // random-seed mode: random stalls and random reset values unless told otherwise
    if (!stall_given) opt.stall_prob = 0.3;
    if (!rand_reset_given) opt.rand_reset = 2;
  }
  if (shard_auto) {
    try {
      const auto env = shard_from_env();
      if (!env) usage_error("option --shard auto: no shard variable in the environment (ESACT_SHARD, "
                            "SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, CI_NODE_INDEX, BUILDKITE_PARALLEL_JOB)");
      shard = *env;
    } catch (const std::invalid_argument& e) {
      usage_error(std::string("option --shard auto: ") + e.what());
    }
  }
  if (vectors_path.empty()) vectors_path = vectors::default_corpus_dir();

  std::vector<CaseRef> all;
  try {
    all = resolve_cases(vectors_path, work_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim: %s\n", e.what());
    return 2;
  }
  std::vector<Run> spls_runs, layer_runs;
  for (const auto& c : all) {
    if (!config_filter.empty() && !c.config.empty() && c.config != config_filter) continue;
    if (!name_filter.empty() && c.name.find(name_filter) == std::string::npos) continue;
    if (!tag_filter.empty()) {
      bool has = false;
      for (const auto& t : c.tags) has |= t == tag_filter;
      if (!has) continue;
    }
    if (!kind_filter.empty() && c.kind != kind_filter) continue;
    // encoder-layer cases (kind "layer") run after the SPLS cases, never back to back
    for (uint64_t s = 0; s < seeds; ++s) (c.kind == "layer" ? layer_runs : spls_runs).push_back(Run{c, opt.seed + s, 0, {}});
  }
  // --back-to-back N: consecutive SPLS runs of one configuration form chains of up to N, each run
  // on one model instance; a chain is one run of the selection (so shards still partition it).
  std::vector<Run> runs;
  for (auto& r : spls_runs) {
    if (back_to_back > 1 && !runs.empty() && runs.back().follow.size() + 1 < back_to_back &&
        runs.back().ref.config == r.ref.config)
      runs.back().follow.push_back(r.ref);
    else
      runs.push_back(std::move(r));
  }
  for (auto& r : layer_runs) runs.push_back(std::move(r));
  vectors::Sha256 digest;
  if (back_to_back > 1) digest.update("back-to-back " + std::to_string(back_to_back) + "\n");
  for (size_t i = 0; i < runs.size(); ++i) {
    Run& r = runs[i];
    r.index = static_cast<int64_t>(i);
    digest.update(r.ref.name + "\t" + r.ref.config + "\t" + std::to_string(r.seed) + "\n");
    for (const auto& f : r.follow) digest.update("+" + f.name + "\n");
  }
  const size_t runs_total = runs.size();
  runs = shard_slice(runs, shard.index, shard.count);
  if (runs.empty()) {
    std::fprintf(stderr, "esact-sim: no case selected from %s%s\n", vectors_path.c_str(),
                 shard.count > 1 ? (" in shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count)).c_str() : "");
    return 2;
  }
  if (trace && runs.size() != 1)
    usage_error("option --trace: select exactly one run (--filter NAME, no --seeds), got " + std::to_string(runs.size()));
  if (!coverage_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(coverage_dir, ec);
    if (ec) usage_error("option --coverage: cannot create '" + coverage_dir + "': " + ec.message());
  }

  if (max_wall) {
    std::signal(SIGALRM, on_stop_signal);
    alarm(static_cast<unsigned>(max_wall));
  }
  opt.stop = &g_stop;
  const bool progress_tty = isatty(STDERR_FILENO) != 0;
  Progress progress(progress_mode == 1 || (progress_mode == -1 && progress_tty), progress_tty, runs.size());
  if (!quiet) {
    std::printf("%-28s %-7s %4s %4s %-7s %9s %9s %6s %8s %9s %7s %8s %7s\n", "case", "config", "L", "k", "verdict",
                "cycles", "bound", "ratio", "wall_ms", "kcyc/s", "follow", "kv_skip", "mac_red");
  }
  std::vector<CaseReport> reports;
  RunMeta meta;
  meta.command_line = cmdline;
  meta.vectors = vectors_path;
  meta.seed = opt.seed;
  meta.seeds = static_cast<int>(seeds);
  meta.rand_reset = opt.rand_reset;
  meta.stall_prob = opt.stall_prob;
  meta.started_at = utc_now();
  meta.shard_index = shard.index;
  meta.shard_count = shard.count;
  meta.shard_source = shard.count > 1 || shard_auto ? shard.source : "";
  meta.cases_total = static_cast<int64_t>(runs_total);
  meta.cases_in_shard = static_cast<int64_t>(runs.size());
  meta.selection_sha256 = digest.hex_digest();
  const auto t0 = std::chrono::steady_clock::now();
  int passed = 0, failed = 0, input_errors = 0;
  std::vector<std::string> coverage_files;
  for (const auto& run_item : runs) {
    const CaseRef& ref = run_item.ref;
    if (g_stop) break;
    progress.update(reports.size(), passed, failed, ref.name);
    CaseReport rep;
    rep.ref = ref;
    rep.kind = ref.kind == "layer" ? "layer" : "spls";
    rep.back_to_back = run_item.follow;
    rep.index = run_item.index;
    rep.seed = run_item.seed;
    rep.stall_prob = opt.stall_prob;
    rep.rand_reset = opt.rand_reset;
    rep.verilator_seed = verilator_seed ? verilator_seed : static_cast<int>(run_item.seed % 2147483646u) + 1;
    SplsStimulus st;
    std::vector<SplsStimulus> follow_st;
    LayerStimulus lst;
    try {
      if (rep.kind == "layer") {
        std::string drift;
        lst = load_layer_stimulus(ref.dir, &drift);
        rep.loaded = true;
        rep.cfg = lst.cfg;
        rep.params = lst.params;
        rep.layer.mode = vectors::switches_name(lst.sw);
        rep.layer.executed = lst.golden.executed;
        rep.layer.dense = lst.golden.dense;
        rep.layer.pes = lst.cfg.mac_rows * lst.cfg.mac_cols;
        // dense and ESACT cases of the same input, weights and params pair up for the speedup
        rep.layer.pair_key =
            lst.cfg.name + "/" + std::to_string(lst.params.L) + (lst.params.causal ? "c/" : "/") +
            vectors::sha256_hex(reinterpret_cast<const char*>(lst.x.data.data()), lst.x.data.size()) + "/" +
            vectors::sha256_hex(reinterpret_cast<const char*>(lst.weights.wo.data.data()), lst.weights.wo.data.size());
        if (!drift.empty()) rep.error = ref.dir + ": golden model and stored expectation differ: " + drift;
      } else {
        materialize_case(ref);
        std::string drift;
        st = load_stimulus(ref, nullptr, &drift);
        rep.loaded = true;
        rep.cfg = st.cfg;
        rep.params = st.params;
        rep.counters = st.golden.counters;
        rep.chain_rows = st.params.L;
        if (!drift.empty()) rep.error = ref.dir + ": golden model and stored expectation differ: " + drift;
        for (const CaseRef& f : run_item.follow) {  // the chain's further sequences
          if (!rep.error.empty()) break;
          materialize_case(f);
          follow_st.push_back(load_stimulus(f, nullptr, &drift));
          const SplsCounters& fc = follow_st.back().golden.counters;
          rep.counters.pred_pairs += fc.pred_pairs;
          rep.counters.head_followers += fc.head_followers;
          rep.counters.token_followers += fc.token_followers;
          rep.counters.kv_rows_skipped += fc.kv_rows_skipped;
          for (auto [to, from] : {std::pair{&rep.counters.dense, &fc.dense}, std::pair{&rep.counters.executed, &fc.executed}}) {
            to->q += from->q;
            to->kv += from->kv;
            to->qk += from->qk;
            to->av += from->av;
            to->oproj += from->oproj;
            to->ffn += from->ffn;
          }
          rep.chain_rows += follow_st.back().params.L;
          if (!drift.empty()) rep.error = f.dir + ": golden model and stored expectation differ: " + drift;
        }
      }
    } catch (const std::exception& e) {
      rep.error = e.what();
      ++input_errors;
    }
    const std::string tag = ref.name + (seeds > 1 ? "_s" + std::to_string(run_item.seed) : "");
    {
      std::string r = shell_quote(argv0);
      if (run_item.follow.empty()) {
        r += " --vectors " + shell_quote(ref.dir);
      } else {  // a chain: the same selection, sliced down to this one run
        r += " --vectors " + shell_quote(vectors_path);
        if (!is_dir(vectors_path) && vectors_path.size() > 5 &&
            vectors_path.compare(vectors_path.size() - 5, 5, ".json") != 0)  // a regression list
          r += " --work-dir " + shell_quote(work_dir);
        if (!config_filter.empty()) r += " --config " + shell_quote(config_filter);
        if (!name_filter.empty()) r += " --filter " + shell_quote(name_filter);
        if (!tag_filter.empty()) r += " --tag " + shell_quote(tag_filter);
        if (!kind_filter.empty()) r += " --kind " + kind_filter;
        r += " --back-to-back " + std::to_string(back_to_back) + " --shard " + std::to_string(run_item.index) + "/" +
             std::to_string(runs_total);
      }
      r += " --seed " + std::to_string(run_item.seed) +
           " --stall-prob " + format_prob(opt.stall_prob);
      if (opt.rand_reset) r += " --rand-reset " + std::to_string(opt.rand_reset);
      if (verilator_seed) r += " --verilator-seed " + std::to_string(verilator_seed);
      if (opt.max_cycles) r += " --max-cycles " + std::to_string(opt.max_cycles);
      if (!opt.check) r += " --no-check";
      if (opt.plant_mismatch >= 0) r += " --plant-mismatch " + std::to_string(opt.plant_mismatch);
      rep.repro = r;
    }
    if (rep.loaded && rep.error.empty()) {
      if (!config_filter.empty() && rep.cfg.name != config_filter) continue;
      // one runner for both kinds: SPLS cases on esact_spls_top, layer cases on esact_layer_top
      std::function<RunResult(const RunOptions&)> run;
      if (rep.kind == "layer") {
        if (const LayerRunFn lfn = layer_runner_for(rep.cfg.name))
          run = [&, lfn, first = true](const RunOptions& o) mutable {
            LayerRunOptions lo;
            lo.run = o;
            const LayerRunResult lr = lfn(lst, lo);
            if (first) rep.layer.perf = lr.perf;  // a --trace-on-fail re-run does not replace them
            first = false;
            return as_run_result(lr);
          };
      } else if (const SplsRunFn sfn = spls_runner_for(rep.cfg.name)) {
        run = [&, sfn](const RunOptions& o) {
          RunOptions oo = o;
          for (const auto& f : follow_st) oo.follow_on.push_back(&f);
          return sfn(st, oo);
        };
      }
      if (!run) {
        rep.error = ref.dir + ": field 'config': no RTL " + (rep.kind == "layer" ? "layer " : "") +
                    "model built for configuration '" + rep.cfg.name + "' (built: " + join(built_configs(), ", ") +
                    "; set -DESACT_CONFIGS)";
      } else {
        RunOptions o = opt;
        o.seed = run_item.seed;
        o.verilator_seed = rep.verilator_seed;
        if (trace) o.trace_file = trace_file.empty() ? ref.name + "." + trace_format() : trace_file;
        if (!coverage_dir.empty())
          o.coverage_file = coverage_dir + "/" + std::to_string(run_item.index) + "_" + tag + ".dat";
        try {
          rep.run = run(o);
        } catch (const std::exception& e) {
          rep.error = e.what();
        }
        const bool has_error_cycle =
            !rep.run.pass && !rep.run.interrupted && rep.error.empty() &&
            (!rep.run.mismatches.empty() || rep.run.timed_out || rep.run.assertion_failed);
        if (has_error_cycle) {
          const uint64_t c = rep.run.first_error_cycle;
          const uint64_t from = c > 200 ? c - 200 : 0, to = c + o.cycles_after_error;
          const std::string wave = tag + ".fail." + trace_format();
          rep.repro += " --trace=" + shell_quote(wave) + " --trace-start " + std::to_string(from) +
                       " --trace-end " + std::to_string(to);
          if (trace_on_fail && !g_stop) {
            RunOptions again = o;
            again.coverage_file.clear();  // the first run's coverage stands
            again.trace_file = fail_trace_dir + "/" + wave;
            again.trace_start = from;
            again.trace_end = to;
            try {
              const RunResult rr = run(again);
              rep.trace_on_fail = rr.trace_file;
            } catch (const std::exception& e) {
              rep.trace_on_fail.clear();
              std::fprintf(stderr, "esact-sim: trace-on-fail re-run of %s: %s\n", tag.c_str(), e.what());
            }
          }
        }
        if (!rep.run.coverage_file.empty()) coverage_files.push_back(rep.run.coverage_file);
      }
    }
    const bool ok = rep.pass();
    ok ? ++passed : ++failed;
    progress.clear();
    if (!quiet) {
      if (rep.loaded && rep.error.empty() && rep.kind == "layer") {
        const LayerMacs& m = rep.layer.executed;
        const double kcps = rep.run.wall_seconds > 0 ? rep.run.total_cycles / rep.run.wall_seconds / 1e3 : 0;
        std::printf("%-28s %-7s %4d %4s %-7s %9llu %9s %6s %8.1f %9.1f %7s %8s %6.1f%%  layer %s\n", tag.c_str(),
                    rep.cfg.name.c_str(), rep.params.L, "-", ok ? "PASS" : rep.verdict(),
                    static_cast<unsigned long long>(rep.run.cycles), "-", "-", rep.run.wall_seconds * 1e3, kcps, "-",
                    "-", 100.0 * (1.0 - double(m.total()) / double(rep.layer.dense.total())), rep.layer.mode.c_str());
        const LayerPerf& pf = rep.layer.perf;
        const double pes = rep.layer.pes;
        auto u = [&](uint64_t cyc, int64_t macs) { return cyc ? 100.0 * double(macs) / (double(cyc) * pes) : 0.0; };
        std::printf("  phases: load %llu, wait_spls %llu, qkv %llu (%.1f%% PE), attention %llu (%.1f%%), oproj %llu "
                    "(%.1f%%), ffn %llu (%.1f%%), ln2_tail %llu cycles; PE utilisation %.1f%%, memory stalls %llu\n",
                    static_cast<unsigned long long>(pf.load), static_cast<unsigned long long>(pf.wait_spls),
                    static_cast<unsigned long long>(pf.qkv), u(pf.qkv, m.q + m.k + m.v),
                    static_cast<unsigned long long>(pf.attn), u(pf.attn, m.qk + m.av),
                    static_cast<unsigned long long>(pf.oproj), u(pf.oproj, m.oproj),
                    static_cast<unsigned long long>(pf.ffn), u(pf.ffn, m.ffn_up + m.ffn_down),
                    static_cast<unsigned long long>(pf.tail), u(rep.run.cycles, m.total()),
                    static_cast<unsigned long long>(pf.mem_stall));
      } else if (rep.loaded && rep.error.empty()) {
        const double kcps = rep.run.wall_seconds > 0 ? rep.run.total_cycles / rep.run.wall_seconds / 1e3 : 0;
        std::printf("%-28s %-7s %4d %4d %-7s %9llu %9.0f %6.3f %8.1f %9.1f %6.1f%% %8lld %6.1f%%\n",
                    tag.c_str(), st.cfg.name.c_str(), st.params.L, st.params.k, ok ? "PASS" : rep.verdict(),
                    static_cast<unsigned long long>(rep.run.cycles), rep.bound_cycles(),
                    rep.bound_cycles() > 0 ? rep.run.cycles / rep.bound_cycles() : 0.0, rep.run.wall_seconds * 1e3,
                    kcps, 100.0 * rep.counters.head_followers / (st.cfg.H * double(rep.chain_rows)),
                    static_cast<long long>(rep.counters.kv_rows_skipped),
                    100.0 * (1.0 - double(rep.counters.executed.total()) / double(rep.counters.dense.total())));
        if (!run_item.follow.empty()) {
          std::string names;
          for (const auto& f : run_item.follow) names += " " + f.name;
          std::printf("  back to back on one instance, then:%s\n", names.c_str());
        }
        if (verbose)
          std::printf("  phases: load_x %llu, project %llu, heads %llu, vote %llu cycles; array busy %.1f%%; "
                      "stalls: in withheld %llu, in backpressure %llu, out stalled %llu\n",
                      static_cast<unsigned long long>(rep.run.phases.load_x),
                      static_cast<unsigned long long>(rep.run.phases.project),
                      static_cast<unsigned long long>(rep.run.phases.heads),
                      static_cast<unsigned long long>(rep.run.phases.vote),
                      rep.run.perf_cycles ? 100.0 * double(rep.run.perf_busy) / double(rep.run.perf_cycles) : 0.0,
                      static_cast<unsigned long long>(rep.run.streams.in_beats_offered_idle),
                      static_cast<unsigned long long>(rep.run.streams.in_backpressure),
                      static_cast<unsigned long long>(rep.run.streams.out_stalled));
      } else {
        std::printf("%-28s %-7s %4s %4s %-7s\n", tag.c_str(), ref.config.c_str(), "-", "-", "ERROR");
      }
    }
    if (!ok && !rep.run.interrupted) {
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
      if (!rep.trace_on_fail.empty())
        std::printf("  trace-on-fail: %s (%s)\n", rep.trace_on_fail.c_str(), human_size(rep.trace_on_fail).c_str());
    }
    std::fflush(stdout);
    reports.push_back(std::move(rep));
  }
  progress.update(reports.size(), passed, failed, "");
  progress.clear();
  meta.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (g_stop) {
    meta.complete = false;
    const int sig = g_stop_signal;
    meta.incomplete_reason = sig == SIGALRM ? "wall-clock limit (--max-wall " + std::to_string(max_wall) + " s) reached"
                             : sig == SIGTERM ? "SIGTERM received"
                                              : "SIGINT received";
    meta.incomplete_reason += " after " + std::to_string(reports.size()) + " of " + std::to_string(runs.size()) + " runs";
  }

  int rc_io = 0;
  if (!coverage_dir.empty() && !coverage_files.empty()) {
    try {
      CoverageData data;
      for (const auto& f : coverage_files) data.add_file(f);
      const std::string merged = coverage_dir + "/merged.dat";
      data.write_atomic(merged);
      CoverageSummary s = summarize_coverage(data);
      s.files = coverage_files;
      meta.coverage = coverage_summary_json(s, merged);
      std::printf("coverage: %s: line %.1f%% (%llu/%llu), toggle %.1f%% (%llu/%llu), covers %llu/%llu hit\n",
                  merged.c_str(), s.line.percent(), static_cast<unsigned long long>(s.line.hit),
                  static_cast<unsigned long long>(s.line.total), s.toggle.percent(),
                  static_cast<unsigned long long>(s.toggle.hit), static_cast<unsigned long long>(s.toggle.total),
                  static_cast<unsigned long long>(s.user.hit), static_cast<unsigned long long>(s.user.total));
      for (const auto& n : s.unhit_covers) std::printf("  unhit cover: %s\n", n.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "esact-sim: %s\n", e.what());
      rc_io = 2;
    }
  }
  vectors::Json rj;
  try {
    rj = run_report_json(meta, reports);
    if (!report_file.empty()) write_file_atomic(report_file, vectors::dump_json(rj));
    if (!junit_file.empty()) write_file_atomic(junit_file, junit_xml(rj));
    if (!html_file.empty()) write_file_atomic(html_file, html_report(rj));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim: %s\n", e.what());
    return 2;
  }
  uint64_t cycles = 0;
  double sim_wall = 0;
  PhaseCycles ph;
  uint64_t busy = 0, perf = 0;
  for (const auto& r : reports) {
    cycles += r.run.total_cycles;
    sim_wall += r.run.wall_seconds;
    ph.load_x += r.run.phases.load_x;
    ph.project += r.run.phases.project;
    ph.heads += r.run.phases.heads;
    ph.vote += r.run.phases.vote;
    busy += r.run.perf_busy;
    perf += r.run.perf_cycles;
  }
  std::printf("esact-sim: %zu runs, %llu simulated cycles in %.2f s (%.0f kcycles/s)%s\n", reports.size(),
              static_cast<unsigned long long>(cycles), meta.wall_seconds, sim_wall > 0 ? cycles / sim_wall / 1e3 : 0.0,
              meta.complete ? "" : (", INTERRUPTED (" + meta.incomplete_reason + "): report marked incomplete").c_str());
  const double ph_total = double(ph.load_x + ph.project + ph.heads + ph.vote);
  if (ph_total > 0)
    std::printf("phases: load_x %.1f%%, project %.1f%%, heads %.1f%%, vote %.1f%% of sequence cycles; array busy %.1f%%\n",
                100 * ph.load_x / ph_total, 100 * ph.project / ph_total, 100 * ph.heads / ph_total,
                100 * ph.vote / ph_total, perf ? 100.0 * double(busy) / double(perf) : 0.0);
  // encoder-layer cases: dense vs ESACT runs of the same input and weights (report: dense_vs_esact)
  if (const vectors::Json* pairs = rj.find("dense_vs_esact"); pairs && pairs->is_array())
    for (const auto& pj : pairs->as_array()) {
      const std::string config = pj.find("config")->as_string();
      const double cyc = pj.find("cycle_ratio")->as_number(), mac = pj.find("mac_ratio")->as_number();
      // the issue-4 target is stated for the minilm shape; tiny's fixed costs (load, LN tail) dominate
      const std::string verdict = config != "minilm" ? ""
                                  : cyc <= mac + 0.10 ? " (target <= MACs + 0.10: met)"
                                                      : " (target <= MACs + 0.10: MISSED)";
      std::printf("dense vs ESACT %s (%s / %s): speedup %.2fx (cycles %.3f of dense), MACs %.3f of dense, MAC "
                  "reduction %.1f%%%s\n",
                  config.c_str(), pj.find("dense")->as_string().c_str(), pj.find("esact")->as_string().c_str(),
                  pj.find("speedup")->as_number(), cyc, mac, 100 * (1 - mac), verdict.c_str());
    }
  for (const auto& r : reports)
    if (!r.run.trace_file.empty() && r.run.traced_cycles)
      std::printf("trace: %s (cycles %llu..%llu, %s)\n", r.run.trace_file.c_str(),
                  static_cast<unsigned long long>(r.run.trace_first_cycle),
                  static_cast<unsigned long long>(r.run.trace_last_cycle), human_size(r.run.trace_file).c_str());
    else if (!r.run.trace_file.empty())
      std::printf("trace: %s (empty: the run ended at cycle %llu, before --trace-start; %s)\n",
                  r.run.trace_file.c_str(), static_cast<unsigned long long>(r.run.total_cycles),
                  human_size(r.run.trace_file).c_str());
  if (!report_file.empty()) std::printf("report: %s\n", report_file.c_str());
  if (!junit_file.empty()) std::printf("junit: %s\n", junit_file.c_str());
  if (!html_file.empty()) std::printf("html: %s\n", html_file.c_str());
  const int interrupted = static_cast<int>(std::count_if(reports.begin(), reports.end(),
                                                          [](const CaseReport& r) { return r.run.interrupted; }));
  if (interrupted) std::printf("%d passed, %d failed, %d interrupted\n", passed, failed - interrupted, interrupted);
  else std::printf("%d passed, %d failed\n", passed, failed);
  if (!meta.complete) return 130;
  if (input_errors || rc_io) return 2;  // a malformed case is an input error, whatever else failed
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + shell_quote(argv[i]);
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string sub = args.empty() ? "" : args[0];
  if (sub == "merge") return merge_main({args.begin() + 1, args.end()}, cmdline);
  if (sub == "html") return html_main({args.begin() + 1, args.end()});
  if (sub == "layer") return esact::sim::layer_main({args.begin() + 1, args.end()});  // encoder layer (layer_main.cpp)
  return run_main(args, argv[0], cmdline);
}
