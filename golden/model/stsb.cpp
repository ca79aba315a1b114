#include "esact/model/stsb.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace esact::model {

std::vector<StsPair> read_stsb(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("STS-B file '" + path + "': cannot open");
  std::vector<StsPair> pairs;
  std::string line;
  size_t line_no = 0;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("STS-B file '" + path + "' line " + std::to_string(line_no) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      const size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() < 7) {
      fail("expected at least 7 tab-separated fields (genre, file, year, id, score, sentence1, sentence2), got " +
           std::to_string(fields.size()));
    }
    const std::string& score_text = fields[4];
    errno = 0;
    char* end = nullptr;
    const double score = std::strtod(score_text.c_str(), &end);
    if (score_text.empty() || end != score_text.c_str() + score_text.size() || errno == ERANGE ||
        !std::isfinite(score)) {
      fail("score field '" + score_text + "' is not a number");
    }
    if (score < 0.0 || score > 5.0) fail("score " + score_text + " is outside 0..5");
    if (fields[5].empty() || fields[6].empty()) fail("empty sentence field");
    pairs.push_back(StsPair{score, fields[5], fields[6], line_no});
  }
  if (in.bad()) throw std::runtime_error("STS-B file '" + path + "': read error");
  if (pairs.empty()) throw std::runtime_error("STS-B file '" + path + "': no sentence pairs");
  return pairs;
}

std::string stsb_path(const std::string& data_dir, const std::string& split) {
  if (split != "dev" && split != "train") {
    throw std::invalid_argument("unknown STS-B split '" + split + "' (expected dev or train)");
  }
  return data_dir + "/stsb/sts-" + split + ".csv";
}

}  // namespace esact::model
