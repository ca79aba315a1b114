// Per-case results and the files that carry them: JSON report (schema in docs/reports.md) and
// JUnit XML (one testcase per vector case). Both are written atomically (temp file + rename).
#pragma once
#include <string>
#include <vector>

#include "esact/sim/cases.h"
#include "esact/sim/spls_runner.h"
#include "esact/vectors/json.h"

namespace esact::sim {

struct CaseReport {
  CaseRef ref;
  bool loaded = false;
  std::string error;  // load error or golden drift (the case then fails without running)
  HwConfig cfg;
  SplsParams params;
  SplsCounters counters;
  RunResult run;
  double stall_prob = 0;
  uint64_t seed = 0;
  std::string repro;
  bool pass() const { return loaded && error.empty() && run.pass; }
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
  bool complete = true;  // false when interrupted or stopped early
  double wall_seconds = 0;
};

vectors::Json case_report_json(const CaseReport& r);
vectors::Json run_report_json(const RunMeta& meta, const std::vector<CaseReport>& cases);
void write_file_atomic(const std::string& path, const std::string& content);
std::string junit_xml(const RunMeta& meta, const std::vector<CaseReport>& cases);

}  // namespace esact::sim
