#include "esact/sim/coverage.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace esact::sim {

namespace {
// Verilator writes one point per line: C '<key>' <count>, the key a sequence of
// \001<field>\002<value> pairs.
bool parse_point(const std::string& line, std::string* key, uint64_t* count) {
  if (line.size() < 6 || line.compare(0, 3, "C '") != 0) return false;
  const auto close = line.rfind('\'');
  if (close == std::string::npos || close < 3) return false;
  *key = line.substr(3, close - 3);
  const std::string n = line.substr(close + 1);
  size_t i = 0;
  while (i < n.size() && n[i] == ' ') ++i;
  if (i == n.size()) return false;
  uint64_t v = 0;
  for (; i < n.size(); ++i) {
    if (n[i] < '0' || n[i] > '9') return false;
    const uint64_t d = static_cast<uint64_t>(n[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *count = v;
  return true;
}
}  // namespace

void CoverageData::add(const std::string& key, uint64_t count) {
  uint64_t& c = points_[key];
  c = (UINT64_MAX - c < count) ? UINT64_MAX : c + count;
}

void CoverageData::add_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open the coverage file");
  std::string line;
  int lineno = 0;
  bool header = false;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (lineno == 1 && line.find("SystemC::Coverage") != std::string::npos) header = true;
      continue;
    }
    std::string key;
    uint64_t count = 0;
    if (!header || !parse_point(line, &key, &count))
      throw std::runtime_error(path + ": line " + std::to_string(lineno) +
                               ": not a Verilator coverage point (C '<key>' <count>)");
    add(key, count);
  }
  if (!header) throw std::runtime_error(path + ": not a Verilator coverage file (no SystemC::Coverage header)");
}

void CoverageData::write_atomic(const std::string& path) const {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << "# SystemC::Coverage-3\n";
    for (const auto& [k, c] : points_) f << "C '" << k << "' " << c << "\n";
    f.flush();
    if (!f) throw std::runtime_error(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename the temporary file into place");
  }
}

std::string coverage_key_field(const std::string& key, const std::string& field) {
  size_t pos = 0;
  while ((pos = key.find('\001', pos)) != std::string::npos) {
    const size_t sep = key.find('\002', pos + 1);
    if (sep == std::string::npos) break;
    const size_t end = key.find('\001', sep + 1);
    if (key.compare(pos + 1, sep - pos - 1, field) == 0)
      return key.substr(sep + 1, end == std::string::npos ? std::string::npos : end - sep - 1);
    pos = sep + 1;
  }
  return "";
}

CoverageSummary summarize_coverage(const CoverageData& data) {
  CoverageSummary s;
  for (const auto& [key, count] : data.points()) {
    const std::string page = coverage_key_field(key, "page");
    CoverageCounts* c = nullptr;
    if (page.rfind("v_line", 0) == 0 || page.rfind("v_branch", 0) == 0) c = &s.line;
    else if (page.rfind("v_toggle", 0) == 0) c = &s.toggle;
    else if (page.rfind("v_user", 0) == 0) c = &s.user;
    if (!c) continue;
    ++c->total;
    if (count > 0) {
      ++c->hit;
    } else if (c == &s.user) {
      std::string name = coverage_key_field(key, "h");
      if (name.rfind("TOP.", 0) == 0) name = name.substr(4);
      const std::string label = coverage_key_field(key, "o");
      // an unnamed cover has no label in its hierarchy: name it by file and line
      if (label == "cover") name += " (" + coverage_key_field(key, "f") + ":" + coverage_key_field(key, "l") + ")";
      s.unhit_covers.push_back(name);
    }
  }
  return s;
}

vectors::Json coverage_summary_json(const CoverageSummary& s, const std::string& merged_dat) {
  using vectors::Json;
  auto counts = [](const CoverageCounts& c) {
    Json j = Json::object();
    j.set("hit", Json(static_cast<long long>(c.hit)));
    j.set("total", Json(static_cast<long long>(c.total)));
    j.set("percent", Json(c.percent()));
    return j;
  };
  Json j = Json::object();
  j.set("merged_dat", Json(merged_dat));
  j.set("line", counts(s.line));
  j.set("toggle", counts(s.toggle));
  Json u = counts(s.user);
  Json unhit = Json::array();
  for (const auto& n : s.unhit_covers) unhit.push_back(Json(n));
  u.set("unhit", unhit);
  j.set("user", u);
  return j;
}

}  // namespace esact::sim
