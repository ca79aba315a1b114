#include "esact/sim/report.h"

#include "esact/vectors/sha256.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace esact::sim {

using vectors::Json;

namespace {
Json i64(uint64_t v) { return Json(static_cast<long long>(v)); }

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

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default:
        // XML 1.0 forbids most control characters even escaped
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') o += '?';
        else o += c;
    }
  }
  return o;
}

const Json& member(const Json& j, const char* key, const std::string& where) {
  const Json* m = j.find(key);
  if (!m) throw std::runtime_error(where + ": missing field '" + key + "'");
  return *m;
}
std::string str_or(const Json& j, const char* key, const std::string& dflt = "") {
  const Json* m = j.find(key);
  return m && m->is_string() ? m->as_string() : dflt;
}
double num_or(const Json& j, const char* key, double dflt = 0) {
  const Json* m = j.find(key);
  return m && m->is_number() ? m->as_number() : dflt;
}
}  // namespace

// The "layer" object of an encoder-layer case: per phase the RTL's cycles, the golden model's
// executed MACs and the PE utilisation (MACs / (cycles x PEs)).
Json layer_json(const CaseReport& r) {
  const LayerCaseInfo& L = r.layer;
  const LayerMacs& m = L.executed;
  const double pes = L.pes > 0 ? double(L.pes) : 1.0;
  auto util = [&](uint64_t cyc, int64_t macs) { return cyc ? std::min(1.0, double(macs) / (double(cyc) * pes)) : 0.0; };
  const struct {
    const char* name;
    uint64_t cycles;
    int64_t macs;
  } rows[] = {{"load", L.perf.load, 0},
              {"wait_spls", L.perf.wait_spls, 0},
              {"qkv", L.perf.qkv, m.q + m.k + m.v},
              {"attention", L.perf.attn, m.qk + m.av},
              {"oproj", L.perf.oproj, m.oproj},
              {"ffn", L.perf.ffn, m.ffn_up + m.ffn_down},
              {"ln2_tail", L.perf.tail, 0}};
  // a run that did not complete has partial counters: report them, but no utilisation
  const bool whole = r.run.beats_expected > 0 && r.run.beats_out == r.run.beats_expected && !r.run.interrupted;
  Json ph = Json::object();
  for (const auto& row : rows) {
    Json e = Json::object();
    e.set("cycles", i64(row.cycles));
    e.set("executed_macs", Json(static_cast<long long>(row.macs)));
    e.set("pe_utilisation", Json(whole ? util(row.cycles, row.macs) : 0.0));
    ph.set(row.name, e);
  }
  Json j = Json::object();
  j.set("mode", Json(L.mode));
  j.set("pes", Json(L.pes));
  j.set("phases", ph);
  j.set("mem_stall_cycles", i64(L.perf.mem_stall));
  Json is = Json::object();
  is.set("qkv", i64(L.perf.issued_qkv));
  is.set("attention", i64(L.perf.issued_attn));
  is.set("oproj", i64(L.perf.issued_oproj));
  is.set("ffn", i64(L.perf.issued_ffn));
  j.set("issued", is);
  j.set("executed_macs", Json(static_cast<long long>(m.total())));
  j.set("dense_macs", Json(static_cast<long long>(L.dense.total())));
  j.set("mac_reduction", Json(1.0 - ratio(double(m.total()), double(L.dense.total()))));
  j.set("pe_utilisation", Json(whole ? util(r.run.cycles, m.total()) : 0.0));
  j.set("pair_key", Json(L.pair_key));
  return j;
}

const char* CaseReport::verdict() const {
  if (pass()) return "pass";
  if (!loaded || !error.empty()) return "error";
  if (run.interrupted) return "interrupted";
  return "fail";
}

Json case_report_json(const CaseReport& r) {
  Json j = Json::object();
  j.set("name", Json(r.ref.name));
  j.set("dir", Json(r.ref.dir));
  j.set("config", Json(r.loaded ? r.cfg.name : r.ref.config));
  j.set("index", Json(static_cast<long long>(r.index)));
  j.set("kind", Json(r.kind));
  j.set("verdict", Json(r.verdict()));
  if (!r.error.empty()) j.set("error", Json(r.error));
  if (!r.back_to_back.empty()) {
    Json b = Json::array();
    for (const auto& f : r.back_to_back) {
      Json e = Json::object();
      e.set("name", Json(f.name));
      e.set("dir", Json(f.dir));
      b.push_back(e);
    }
    j.set("back_to_back", b);
  }
  if (!r.loaded) {
    if (!r.repro.empty()) j.set("repro", Json(r.repro));
    return j;
  }
  Json p = Json::object();
  p.set("L", Json(r.params.L));
  p.set("k", Json(r.params.k));
  p.set("T", Json(r.params.T));
  p.set("w", Json(r.params.w));
  p.set("V", Json(r.params.V));
  p.set("causal", Json(r.params.causal));
  j.set("params", p);
  j.set("seed", i64(r.seed));
  j.set("verilator_seed", Json(r.verilator_seed));
  j.set("rand_reset", Json(r.rand_reset));
  j.set("stall_prob", Json(r.stall_prob));
  j.set("cycles", i64(r.run.cycles));
  if (r.kind == "layer") {
    j.set("total_cycles", i64(r.run.total_cycles));
    j.set("max_cycles", i64(r.run.max_cycles));
    j.set("wall_seconds", Json(r.run.wall_seconds));
    j.set("sim_cycles_per_second", Json(ratio(double(r.run.total_cycles), r.run.wall_seconds)));
    Json beats = Json::object();
    beats.set("out", i64(r.run.beats_out));
    beats.set("expected_out", i64(r.run.beats_expected));
    j.set("beats", beats);
    j.set("layer", layer_json(r));
  } else {
    j.set("bound_cycles", Json(r.bound_cycles()));
    j.set("cycles_over_bound", Json(ratio(double(r.run.cycles), r.bound_cycles())));
    j.set("total_cycles", i64(r.run.total_cycles));
    j.set("max_cycles", i64(r.run.max_cycles));
    j.set("wall_seconds", Json(r.run.wall_seconds));
    j.set("sim_cycles_per_second", Json(ratio(double(r.run.total_cycles), r.run.wall_seconds)));
    Json ph = Json::object();
    ph.set("load_x", i64(r.run.phases.load_x));
    ph.set("project", i64(r.run.phases.project));
    ph.set("heads", i64(r.run.phases.heads));
    ph.set("vote", i64(r.run.phases.vote));
    j.set("phases", ph);
    Json hc = Json::array();
    for (uint64_t c : r.run.head_cycles) hc.push_back(i64(c));
    j.set("head_cycles", hc);
    Json st = Json::object();
    st.set("in_withheld", i64(r.run.streams.in_beats_offered_idle));
    st.set("in_backpressure", i64(r.run.streams.in_backpressure));
    st.set("out_stalled", i64(r.run.streams.out_stalled));
    st.set("out_idle", i64(r.run.streams.out_idle));
    j.set("streams", st);
    Json ut = Json::object();
    ut.set("perf_cycles", i64(r.run.perf_cycles));
    ut.set("perf_busy", i64(r.run.perf_busy));
    ut.set("array_busy", Json(ratio(double(r.run.perf_busy), double(r.run.perf_cycles))));
    // lane utilisation needs the whole sequence's cycles: 0 for a run that did not complete
    const bool whole = r.run.beats_expected > 0 && r.run.beats_out == r.run.beats_expected;
    ut.set("lanes", Json(whole ? ratio(double(r.counters.pred_pairs), double(r.cfg.LANES) * double(r.run.cycles)) : 0.0));
    j.set("utilisation", ut);
    Json beats = Json::object();
    beats.set("in", i64(r.run.beats_in));
    beats.set("out", i64(r.run.beats_out));
    beats.set("expected_out", i64(r.run.beats_expected));
    j.set("beats", beats);
    Json c = Json::object();
    c.set("pred_pairs", Json(static_cast<long long>(r.counters.pred_pairs)));
    c.set("head_followers", Json(static_cast<long long>(r.counters.head_followers)));
    c.set("follower_share", Json(ratio(double(r.counters.head_followers),
                                       double(r.cfg.H) * double(r.chain_rows > 0 ? r.chain_rows : r.params.L))));
    c.set("token_followers", Json(static_cast<long long>(r.counters.token_followers)));
    c.set("kv_rows_skipped", Json(static_cast<long long>(r.counters.kv_rows_skipped)));
    c.set("dense_macs", mac_json(r.counters.dense));
    c.set("executed_macs", mac_json(r.counters.executed));
    c.set("mac_reduction",
          Json(1.0 - ratio(double(r.counters.executed.total()), double(r.counters.dense.total()))));
    j.set("counters", c);
  }
  j.set("timed_out", Json(r.run.timed_out));
  j.set("assertion_failed", Json(r.run.assertion_failed));
  j.set("interrupted", Json(r.run.interrupted));
  if (r.run.timed_out || r.run.assertion_failed || !r.run.mismatches.empty())
    j.set("first_error_cycle", i64(r.run.first_error_cycle));
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
    e.set("cycle", i64(m.cycle));
    e.set("beat", Json(static_cast<long long>(m.beat)));
    e.set("phase", Json(m.phase));
    e.set("message", Json(m.describe()));
    mm.push_back(e);
  }
  j.set("mismatches", mm);
  if (!r.run.trace_file.empty()) {
    j.set("trace_file", Json(r.run.trace_file));
    if (r.run.traced_cycles) {  // absent when the window held no simulated cycle
      Json w = Json::object();
      w.set("first_cycle", i64(r.run.trace_first_cycle));
      w.set("last_cycle", i64(r.run.trace_last_cycle));
      j.set("trace_window", w);
    }
  }
  if (!r.trace_on_fail.empty()) j.set("trace_on_fail", Json(r.trace_on_fail));
  if (!r.run.coverage_file.empty()) j.set("coverage_file", Json(r.run.coverage_file));
  if (!r.pass()) j.set("repro", Json(r.repro));
  return j;
}

Json summary_json(const Json::Array& cases) {
  long long passed = 0, failed = 0, errors = 0, interrupted = 0;
  for (const auto& c : cases) {
    const std::string v = str_or(c, "verdict");
    if (v == "pass") ++passed;
    else if (v == "error") ++errors;
    else if (v == "interrupted") ++interrupted;
    else ++failed;
  }
  Json s = Json::object();
  s.set("cases", Json(static_cast<long long>(cases.size())));
  s.set("passed", Json(passed));
  s.set("failed", Json(failed));
  s.set("errors", Json(errors));
  s.set("interrupted", Json(interrupted));
  return s;
}

Json layer_pairs_json(const Json::Array& cases) {
  Json pairs = Json::array();
  auto layer_of = [](const Json& c) -> const Json* {
    if (str_or(c, "kind") != "layer") return nullptr;
    const std::string v = str_or(c, "verdict");
    if (v != "pass" && v != "fail") return nullptr;
    const Json* l = c.find("layer");
    return l && l->is_object() && num_or(c, "cycles") > 0 ? l : nullptr;
  };
  for (const auto& e : cases) {
    const Json* le = layer_of(e);
    if (!le || str_or(*le, "mode") != "esact") continue;
    for (const auto& d : cases) {
      const Json* ld = layer_of(d);
      if (!ld || str_or(*ld, "mode") != "dense" || str_or(*ld, "pair_key") != str_or(*le, "pair_key") ||
          num_or(d, "seed") != num_or(e, "seed") || num_or(d, "stall_prob") != num_or(e, "stall_prob"))
        continue;
      const double cyc = num_or(e, "cycles") / num_or(d, "cycles");
      const double mac = ratio(num_or(*le, "executed_macs"), num_or(*ld, "dense_macs"));
      Json p = Json::object();
      p.set("config", Json(str_or(e, "config")));
      p.set("dense", Json(str_or(d, "name")));
      p.set("esact", Json(str_or(e, "name")));
      p.set("dense_index", Json(static_cast<long long>(num_or(d, "index"))));
      p.set("esact_index", Json(static_cast<long long>(num_or(e, "index"))));
      p.set("seed", Json(static_cast<long long>(num_or(e, "seed"))));
      p.set("both_pass", Json(str_or(e, "verdict") == "pass" && str_or(d, "verdict") == "pass"));
      p.set("dense_cycles", Json(static_cast<long long>(num_or(d, "cycles"))));
      p.set("esact_cycles", Json(static_cast<long long>(num_or(e, "cycles"))));
      p.set("speedup", Json(cyc > 0 ? 1.0 / cyc : 0.0));
      p.set("cycle_ratio", Json(cyc));
      p.set("mac_ratio", Json(mac));
      p.set("mac_reduction", Json(1.0 - mac));
      pairs.push_back(p);
      break;  // one dense partner per ESACT case: the first in selection order
    }
  }
  return pairs;
}

Json run_report_json(const RunMeta& meta, const std::vector<CaseReport>& cases) {
  Json j = Json::object();
  j.set("schema", Json(kReportSchema));
  j.set("schema_version", Json(kReportSchemaVersion));
  j.set("schema_minor", Json(kReportSchemaMinor));
  j.set("complete", Json(meta.complete));
  if (!meta.complete) j.set("incomplete_reason", Json(meta.incomplete_reason));
  j.set("command", Json(meta.command_line));
  j.set("started_at", Json(meta.started_at));
  j.set("vectors", Json(meta.vectors));
  j.set("seed", i64(meta.seed));
  j.set("seeds", Json(meta.seeds));
  j.set("rand_reset", Json(meta.rand_reset));
  j.set("stall_prob", Json(meta.stall_prob));
  j.set("wall_seconds", Json(meta.wall_seconds));
  Json build = Json::object();
  build.set("trace_format", Json(std::string(trace_format())));
  build.set("coverage", Json(kCoverageBuild));
  j.set("build", build);
  Json sh = Json::object();
  sh.set("index", Json(meta.shard_index));
  sh.set("count", Json(meta.shard_count));
  sh.set("source", Json(meta.shard_source));
  sh.set("cases_total", Json(static_cast<long long>(meta.cases_total)));
  sh.set("cases_in_shard", Json(static_cast<long long>(meta.cases_in_shard)));
  sh.set("selection_sha256", Json(meta.selection_sha256));
  j.set("shard", sh);
  Json arr = Json::array();
  for (const auto& c : cases) arr.push_back(case_report_json(c));
  j.set("summary", summary_json(arr.as_array()));
  j.set("coverage", meta.coverage);
  j.set("dense_vs_esact", layer_pairs_json(arr.as_array()));
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
    if (!f) {
      std::remove(tmp.c_str());
      throw std::runtime_error(path + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename the temporary file into place");
  }
}

std::string junit_xml(const Json& report) {
  const Json::Array& cases = report.find("cases")->as_array();
  std::ostringstream os;
  long long failures = 0, errors = 0, skipped = 0;
  for (const auto& c : cases) {
    const std::string v = str_or(c, "verdict");
    if (v == "fail") ++failures;
    else if (v == "error") ++errors;
    else if (v == "interrupted") ++skipped;
  }
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  os << "<testsuites>\n<testsuite name=\"esact-sim\" tests=\"" << cases.size() << "\" failures=\"" << failures
     << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << num_or(report, "wall_seconds")
     << "\">\n";
  for (const auto& c : cases) {
    const std::string v = str_or(c, "verdict");
    const std::string name = str_or(c, "name");
    // the seed distinguishes the runs of one case in random-seed mode
    const Json* seed = c.find("seed");
    const std::string shown = name + (seed && seed->is_int() && report.find("seeds") &&
                                              report.find("seeds")->as_int() > 1
                                          ? "@seed" + std::to_string(seed->as_int())
                                          : "");
    // classname spls.<config> or layer.<config> (a report of schema minor 0 has no "kind")
    os << "  <testcase classname=\"" << xml_escape(str_or(c, "kind", "spls") + "." + str_or(c, "config")) << "\" name=\""
       << xml_escape(shown) << "\" time=\"" << num_or(c, "wall_seconds") << "\">\n";
    if (v == "error") {
      os << "    <error message=\"" << xml_escape(str_or(c, "error")) << "\"/>\n";
    } else if (v == "interrupted") {
      os << "    <skipped message=\"interrupted before the case completed\"/>\n";
    } else if (v == "fail") {
      std::string first = "failed", all;
      if (const Json* mm = c.find("mismatches"); mm && mm->is_array()) {
        for (const auto& m : mm->as_array()) {
          if (first == "failed") first = str_or(m, "message");
          all += str_or(m, "message") + "\n";
        }
      }
      os << "    <failure message=\"" << xml_escape(first) << "\">" << xml_escape(all)
         << "repro: " << xml_escape(str_or(c, "repro")) << "</failure>\n";
    }
    os << "    <system-out>cycles=" << static_cast<long long>(num_or(c, "cycles"));
    if (const Json* l = c.find("layer"); l && l->is_object())
      os << " mode=" << xml_escape(str_or(*l, "mode")) << " pe_utilisation=" << num_or(*l, "pe_utilisation")
         << " mac_reduction=" << num_or(*l, "mac_reduction");
    os << "</system-out>\n";
    os << "  </testcase>\n";
  }
  os << "</testsuite>\n</testsuites>\n";
  return os.str();
}

Json read_report(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open the report");
  std::stringstream ss;
  ss << f.rdbuf();
  Json j;
  try {
    j = vectors::parse_json(ss.str());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not JSON: " + e.what());
  }
  if (!j.is_object() || str_or(j, "schema") != kReportSchema)
    throw std::runtime_error(path + ": field 'schema': not an esact-sim-report");
  const Json& v = member(j, "schema_version", path);
  if (!v.is_int() || v.as_int() != kReportSchemaVersion)
    throw std::runtime_error(path + ": field 'schema_version': this esact-sim reads version " +
                             std::to_string(kReportSchemaVersion));
  if (!member(j, "cases", path).is_array()) throw std::runtime_error(path + ": field 'cases': not an array");
  if (!member(j, "shard", path).is_object()) throw std::runtime_error(path + ": field 'shard': not an object");
  return j;
}

MergeResult merge_reports(const std::vector<std::string>& paths, const std::string& command_line) {
  if (paths.empty()) throw std::runtime_error("merge: no report given");
  MergeResult out;
  std::vector<Json> reports;
  for (const auto& p : paths) reports.push_back(read_report(p));
  // Reports of one selection (same selection_sha256) are shards of one regression: they must not
  // overlap and, for a complete merge, cover shards 0..N-1. Reports of different selections
  // (e.g. a no-stall pass and a stall pass) are concatenated, in order of first appearance.
  struct Group {
    std::string selection;
    int64_t count = 1;
    std::map<int64_t, std::string> shards;
    std::map<int64_t, Json> cases;
    int64_t total = 0;
  };
  std::vector<Group> groups;
  bool complete = true;
  std::vector<std::string> reasons;
  double wall = 0;
  for (size_t i = 0; i < reports.size(); ++i) {
    const Json& r = reports[i];
    const Json& sh = *r.find("shard");
    const std::string sel = str_or(sh, "selection_sha256");
    const int64_t count = member(sh, "count", paths[i]).as_int();
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.selection == sel; });
    if (g == groups.end()) {
      groups.push_back(Group{sel, count, {}, {}, 0});
      g = groups.end() - 1;
    } else if (g->count != count) {
      throw std::runtime_error(paths[i] + ": field 'shard.count': " + std::to_string(count) + ", but " +
                               g->shards.begin()->second + " of the same selection has " + std::to_string(g->count));
    }
    g->total = member(sh, "cases_total", paths[i]).as_int();
    const int64_t idx = member(sh, "index", paths[i]).as_int();
    if (!g->shards.emplace(idx, paths[i]).second)
      throw std::runtime_error(paths[i] + ": shard " + std::to_string(idx) + " also given as " + g->shards[idx]);
    if (!r.find("complete")->as_bool()) {
      complete = false;
      reasons.push_back(paths[i] + ": " + str_or(r, "incomplete_reason", "incomplete"));
    }
    wall += num_or(r, "wall_seconds");
    for (const auto& c : r.find("cases")->as_array()) {
      const Json* ix = c.find("index");
      if (!ix || !ix->is_int()) throw std::runtime_error(paths[i] + ": a case has no 'index'");
      if (!g->cases.emplace(ix->as_int(), c).second)
        throw std::runtime_error(paths[i] + ": case index " + std::to_string(ix->as_int()) + " ('" +
                                 str_or(c, "name") + "') appears in two reports");
    }
    const Json* cov = r.find("coverage");
    if (cov && cov->is_object()) {
      const std::string dat = str_or(*cov, "merged_dat");
      if (!dat.empty()) out.coverage_files.push_back(dat);
    }
  }
  for (const auto& g : groups)
    for (int64_t s = 0; s < g.count; ++s)
      if (!g.shards.count(s)) {
        complete = false;
        reasons.push_back("shard " + std::to_string(s) + " of " + std::to_string(g.count) + " missing (selection " +
                          g.selection.substr(0, 12) + ")");
      }
  const Json& first = reports.front();
  Json j = Json::object();
  j.set("schema", Json(kReportSchema));
  j.set("schema_version", Json(kReportSchemaVersion));
  j.set("schema_minor", Json(kReportSchemaMinor));
  j.set("complete", Json(complete));
  if (!complete) {
    std::string why;
    for (const auto& r : reasons) why += (why.empty() ? "" : "; ") + r;
    j.set("incomplete_reason", Json(why));
  }
  j.set("command", Json(command_line));
  for (const char* k : {"started_at", "vectors", "seed", "seeds", "rand_reset", "stall_prob"})
    if (const Json* v = first.find(k)) j.set(k, *v);
  j.set("wall_seconds", Json(wall));  // machine time: the sum over the inputs
  if (const Json* b = first.find("build")) j.set("build", *b);
  Json arr = Json::array();
  long long total = 0;
  std::string selection = groups.size() == 1 ? groups.front().selection : "";
  vectors::Sha256 combined;
  for (const auto& g : groups) {
    for (const auto& [ix, c] : g.cases) {
      Json cc = c;
      cc.set("index", Json(total + ix));  // renumbered after the earlier selections
      arr.push_back(std::move(cc));
    }
    total += g.total;
    combined.update(g.selection);
  }
  if (selection.empty()) selection = combined.hex_digest();
  Json sh = Json::object();
  sh.set("index", Json(0));
  sh.set("count", Json(1));
  sh.set("source", Json("merge of " + std::to_string(reports.size()) + " reports (" + std::to_string(groups.size()) +
                        (groups.size() == 1 ? " selection)" : " selections)")));
  sh.set("cases_total", Json(total));
  sh.set("cases_in_shard", Json(static_cast<long long>(arr.as_array().size())));
  sh.set("selection_sha256", Json(selection));
  j.set("shard", sh);
  j.set("summary", summary_json(arr.as_array()));
  j.set("coverage", Json());
  j.set("dense_vs_esact", layer_pairs_json(arr.as_array()));
  j.set("cases", arr);
  out.report = std::move(j);
  return out;
}

}  // namespace esact::sim
