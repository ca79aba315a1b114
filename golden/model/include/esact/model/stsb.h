// STS Benchmark reader: tab-separated rows genre, file, year, id, score (0..5), sentence 1, sentence 2;
// fields after the seventh are ignored. Errors name the file and the 1-based line.
#pragma once

#include <string>
#include <vector>

namespace esact::model {

struct StsPair {
  double score = 0.0;
  std::string sentence1;
  std::string sentence2;
  size_t line = 0;  // 1-based line in the source file
};

std::vector<StsPair> read_stsb(const std::string& path);
// <data_dir>/stsb/sts-<split>.csv; split must be "dev" or "train".
std::string stsb_path(const std::string& data_dir, const std::string& split);

}  // namespace esact::model
