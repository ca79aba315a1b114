// Verilator coverage files (.dat, "SystemC::Coverage-3"): reading, merging (counts of the same
// point add up, as verilator_coverage --write does), atomic writing, and the summary the run
// report carries: line %, toggle %, user covers hit/total and the unhit covers by name.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "esact/vectors/json.h"

namespace esact::sim {

class CoverageData {
 public:
  // Adds every point of a .dat file. Throws std::runtime_error naming the file and line when it
  // is not a Verilator coverage file.
  void add_file(const std::string& path);
  void add(const std::string& key, uint64_t count);
  // Writes the merged points (temp file + rename).
  void write_atomic(const std::string& path) const;
  size_t size() const { return points_.size(); }
  const std::map<std::string, uint64_t>& points() const { return points_; }

 private:
  std::map<std::string, uint64_t> points_;  // key as written by Verilator -> count
};

struct CoverageCounts {
  uint64_t hit = 0, total = 0;
  double percent() const { return total ? 100.0 * double(hit) / double(total) : 0.0; }
};

struct CoverageSummary {
  CoverageCounts line;    // v_line and v_branch points (statement blocks and branch arms)
  CoverageCounts toggle;  // v_toggle points (each bit of each signal)
  CoverageCounts user;    // v_user points (cover property)
  std::vector<std::string> unhit_covers;  // hierarchical names, e.g. esact_spls_top.cov_out_stall
  std::vector<std::string> files;         // the .dat files summarised
};

// A point is hit when its count is >= 1.
CoverageSummary summarize_coverage(const CoverageData& data);
// One field of a coverage key (e.g. "page", "h", "o"), or "" when absent.
std::string coverage_key_field(const std::string& key, const std::string& field);

vectors::Json coverage_summary_json(const CoverageSummary& s, const std::string& merged_dat);

}  // namespace esact::sim
