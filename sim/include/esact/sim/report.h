// Per-case results and the files that carry them: the JSON run report (schema esact-sim-report,
// documented in docs/reports.md, JSON Schema in docs/esact-sim-report.schema.json), JUnit XML
// (one testcase per case) and the HTML report, the last two rendered from the JSON report so a
// merged report of shards gets them too. Every file is written atomically (temp file + rename).
#pragma once
#include <string>
#include <vector>

#include "esact/sim/cases.h"
#include "esact/sim/layer_runner.h"
#include "esact/sim/spls_runner.h"
#include "esact/vectors/json.h"

namespace esact::sim {

inline constexpr const char* kReportSchema = "esact-sim-report";
inline constexpr int kReportSchemaVersion = 1;
// Additive revisions within a version (docs/reports.md): 1 adds encoder-layer cases ("kind":
// "layer", the "layer" object) and the top-level "dense_vs_esact" pairs.
inline constexpr int kReportSchemaMinor = 1;

// What an encoder-layer case (manifest kind "layer") adds to its run: the RTL's per-phase
// counters beside the golden model's executed MACs.
struct LayerCaseInfo {
  std::string mode;        // dense, esact or the single switch (vectors::switches_name)
  LayerPerf perf;          // esact_layer_top perf_o of the first run
  LayerMacs executed, dense;
  int pes = 0;             // MAC_ROWS x MAC_COLS
  std::string pair_key;    // dense and ESACT cases of the same input, weights and params share it
};

struct CaseReport {
  CaseRef ref;
  std::string kind = "spls";  // "spls" or "layer"
  LayerCaseInfo layer;        // kind "layer"
  // --back-to-back: the cases that ran after this one on the same model instance (the run's
  // cycles, beats and counters are then the whole chain's)
  std::vector<CaseRef> back_to_back;
  int64_t chain_rows = 0;     // sum of L over the chain (follower share of a chain)
  int64_t index = -1;  // position in the whole (unsharded) selection: merge restores this order
  bool loaded = false;
  std::string error;  // load error or golden drift (the case then fails without running)
  HwConfig cfg;
  SplsParams params;
  SplsCounters counters;
  RunResult run;
  double stall_prob = 0;
  uint64_t seed = 0;
  int verilator_seed = 0;
  int rand_reset = 0;
  std::string repro;
  std::string trace_on_fail;  // waveform of the automatic re-run of a failing case
  bool pass() const { return loaded && error.empty() && run.pass; }
  const char* verdict() const;  // pass, fail, error, interrupted
  // Lower bound of cycles from the timing contract: prediction additions / lanes.
  double bound_cycles() const {
    return cfg.LANES ? double(counters.pred_pairs) / cfg.LANES : 0.0;
  }
};

struct RunMeta {
  std::string command_line;
  std::string vectors;
  double stall_prob = 0;
  uint64_t seed = 0;
  int seeds = 1;              // random-seed mode: seeds per case
  int rand_reset = 0;
  bool complete = true;       // false when interrupted or stopped early
  std::string incomplete_reason;
  double wall_seconds = 0;
  std::string started_at;     // UTC, ISO 8601
  int shard_index = 0, shard_count = 1;
  std::string shard_source;   // "--shard", "SLURM_ARRAY_TASK_ID", ... or "" when unsharded
  int64_t cases_total = 0;    // runs in the whole selection (all shards)
  int64_t cases_in_shard = 0; // runs this shard was given
  std::string selection_sha256;  // digest of the whole selection: shards of one regression agree
  vectors::Json coverage;     // coverage summary (null when not a coverage run)
};

vectors::Json case_report_json(const CaseReport& r);
vectors::Json run_report_json(const RunMeta& meta, const std::vector<CaseReport>& cases);
void write_file_atomic(const std::string& path, const std::string& content);

// Renderings of a JSON run report (as written by run_report_json or by merge_reports).
std::string junit_xml(const vectors::Json& report);
// HTML with inline SVG: summary, coverage, per-case cycles by phase, PE utilisation and, for each
// case whose directory is readable, heatmaps of predicted vs exact top-k attention masks and of
// the representative/follower map. At most max_case_figures cases get heatmaps.
std::string html_report(const vectors::Json& report, int max_case_figures = 24);

// The top-level "dense_vs_esact" array of a report: for every layer case in ESACT mode that ran
// and a dense layer case with the same pair_key, seed and stall probability, the cycle ratio
// beside the MAC ratio. Computed from the case objects, so a merge of shards recomputes it.
vectors::Json layer_pairs_json(const vectors::Json::Array& cases);

// Reads and checks a report file (schema name and version); throws std::runtime_error naming it.
vectors::Json read_report(const std::string& path);

struct MergeResult {
  vectors::Json report;
  std::vector<std::string> coverage_files;  // merged_dat of each input that had one
};
// Combines reports into one. Reports of the same selection are shards: their cases are ordered
// by index in the whole selection, and the result is complete only if every input was complete
// and every shard 0..N-1 is present exactly once. Reports of different selections (e.g. passes
// with different stall settings) are concatenated in order of first appearance. Throws
// std::runtime_error on a shard or case present twice.
MergeResult merge_reports(const std::vector<std::string>& paths, const std::string& command_line);

// Summary object of a list of case objects (cases, passed, failed, errors, interrupted).
vectors::Json summary_json(const vectors::Json::Array& cases);

}  // namespace esact::sim
