#include "esact/sim/report.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace esact::sim {

using vectors::Json;

namespace {
Json mac_json(const MacCounts& m) {
  Json j = Json::object();
  j.set("q", Json(static_cast<long long>(m.q)));
  j.set("kv", Json(static_cast<long long>(m.kv)));
  j.set("qk", Json(static_cast<long long>(m.qk)));
  j.set("av", Json(static_cast<long long>(m.av)));
  j.set("oproj", Json(static_cast<long long>(m.oproj)));
  j.set("ffn", Json(static_cast<long long>(m.ffn)));
  j.set("total", Json(static_cast<long long>(m.total())));
  return j;
}
std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}
}  // namespace

Json case_report_json(const CaseReport& r) {
  Json j = Json::object();
  j.set("name", Json(r.ref.name));
  j.set("dir", Json(r.ref.dir));
  j.set("config", Json(r.loaded ? r.cfg.name : r.ref.config));
  j.set("verdict", Json(r.pass() ? "pass" : (r.loaded && r.error.empty() ? "fail" : "error")));
  if (!r.error.empty()) j.set("error", Json(r.error));
  if (!r.loaded) return j;
  Json p = Json::object();
  p.set("L", Json(r.params.L));
  p.set("k", Json(r.params.k));
  p.set("T", Json(r.params.T));
  p.set("w", Json(r.params.w));
  p.set("V", Json(r.params.V));
  p.set("causal", Json(r.params.causal));
  j.set("params", p);
  j.set("seed", Json(static_cast<long long>(r.seed)));
  j.set("stall_prob", Json(r.stall_prob));
  j.set("cycles", Json(static_cast<long long>(r.run.cycles)));
  j.set("bound_cycles", Json(r.bound_cycles()));
  j.set("cycles_over_bound", Json(r.bound_cycles() > 0 ? double(r.run.cycles) / r.bound_cycles() : 0.0));
  j.set("total_cycles", Json(static_cast<long long>(r.run.total_cycles)));
  j.set("max_cycles", Json(static_cast<long long>(r.run.max_cycles)));
  j.set("wall_seconds", Json(r.run.wall_seconds));
  j.set("sim_cycles_per_second",
        Json(r.run.wall_seconds > 0 ? double(r.run.total_cycles) / r.run.wall_seconds : 0.0));
  Json beats = Json::object();
  beats.set("in", Json(static_cast<long long>(r.run.beats_in)));
  beats.set("out", Json(static_cast<long long>(r.run.beats_out)));
  beats.set("expected_out", Json(static_cast<long long>(r.run.beats_expected)));
  j.set("beats", beats);
  Json c = Json::object();
  c.set("pred_pairs", Json(static_cast<long long>(r.counters.pred_pairs)));
  c.set("head_followers", Json(static_cast<long long>(r.counters.head_followers)));
  c.set("follower_share", Json(double(r.counters.head_followers) / double(r.cfg.H * r.params.L)));
  c.set("token_followers", Json(static_cast<long long>(r.counters.token_followers)));
  c.set("kv_rows_skipped", Json(static_cast<long long>(r.counters.kv_rows_skipped)));
  c.set("dense_macs", mac_json(r.counters.dense));
  c.set("executed_macs", mac_json(r.counters.executed));
  c.set("mac_reduction", Json(1.0 - double(r.counters.executed.total()) / double(r.counters.dense.total())));
  j.set("counters", c);
  j.set("timed_out", Json(r.run.timed_out));
  j.set("assertion_failed", Json(r.run.assertion_failed));
  Json mm = Json::array();
  for (const auto& m : r.run.mismatches) {
    Json e = Json::object();
    e.set("tensor", Json(m.tensor));
    if (m.flat_index >= 0) {
      e.set("index", Json(static_cast<long long>(m.flat_index)));
      e.set("coords", Json(m.coords));
      e.set("expected", Json(static_cast<long long>(m.expected)));
      e.set("actual", Json(static_cast<long long>(m.actual)));
    } else {
      e.set("detail", Json(m.detail));
    }
    e.set("cycle", Json(static_cast<long long>(m.cycle)));
    e.set("beat", Json(static_cast<long long>(m.beat)));
    e.set("phase", Json(m.phase));
    e.set("message", Json(m.describe()));
    mm.push_back(e);
  }
  j.set("mismatches", mm);
  if (!r.run.trace_file.empty()) j.set("trace_file", Json(r.run.trace_file));
  if (!r.pass()) j.set("repro", Json(r.repro));
  return j;
}

Json run_report_json(const RunMeta& meta, const std::vector<CaseReport>& cases) {
  Json j = Json::object();
  j.set("schema", Json("esact-sim-report"));
  j.set("schema_version", Json(1));
  j.set("complete", Json(meta.complete));
  j.set("command", Json(meta.command_line));
  j.set("vectors", Json(meta.vectors));
  j.set("seed", Json(static_cast<long long>(meta.seed)));
  j.set("stall_prob", Json(meta.stall_prob));
  j.set("wall_seconds", Json(meta.wall_seconds));
  int passed = 0;
  Json arr = Json::array();
  for (const auto& c : cases) {
    passed += c.pass();
    arr.push_back(case_report_json(c));
  }
  Json s = Json::object();
  s.set("cases", Json(static_cast<long long>(cases.size())));
  s.set("passed", Json(passed));
  s.set("failed", Json(static_cast<long long>(cases.size()) - passed));
  j.set("summary", s);
  j.set("cases", arr);
  return j;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << content;
    f.flush();
    if (!f) throw std::runtime_error(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename the temporary file into place");
  }
}

std::string junit_xml(const RunMeta& meta, const std::vector<CaseReport>& cases) {
  std::ostringstream os;
  int failures = 0, errors = 0;
  for (const auto& c : cases) {
    if (c.pass()) continue;
    (c.loaded && c.error.empty() ? failures : errors)++;
  }
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  os << "<testsuites>\n<testsuite name=\"esact-sim\" tests=\"" << cases.size() << "\" failures=\"" << failures
     << "\" errors=\"" << errors << "\" time=\"" << meta.wall_seconds << "\">\n";
  for (const auto& c : cases) {
    const std::string cls = "spls." + (c.loaded ? c.cfg.name : c.ref.config);
    os << "  <testcase classname=\"" << xml_escape(cls) << "\" name=\"" << xml_escape(c.ref.name) << "\" time=\""
       << c.run.wall_seconds << "\">\n";
    if (!c.loaded || !c.error.empty()) {
      os << "    <error message=\"" << xml_escape(c.error) << "\"/>\n";
    } else if (!c.pass()) {
      const std::string first = c.run.mismatches.empty() ? "failed" : c.run.mismatches.front().describe();
      os << "    <failure message=\"" << xml_escape(first) << "\">";
      for (const auto& m : c.run.mismatches) os << xml_escape(m.describe()) << "\n";
      os << "repro: " << xml_escape(c.repro) << "</failure>\n";
    }
    os << "    <system-out>cycles=" << c.run.cycles << "</system-out>\n";
    os << "  </testcase>\n";
  }
  os << "</testsuite>\n</testsuites>\n";
  return os.str();
}

}  // namespace esact::sim
