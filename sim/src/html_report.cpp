// HTML rendering of a JSON run report: hand-written inline SVG, no scripts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "esact/sim/report.h"
#include "esact/vectors/spls_case.h"

namespace esact::sim {

using vectors::Json;

namespace {

std::string esc(const std::string& s) {
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
std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string str_or(const Json& j, const char* key, const std::string& d = "") {
  const Json* m = j.find(key);
  return m && m->is_string() ? m->as_string() : d;
}
double num_at(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* k : path) {
    cur = cur->find(k);
    if (!cur) return 0;
  }
  return cur->is_number() ? cur->as_number() : 0;
}

struct PhaseStyle {
  const char* key;
  const char* label;
  const char* colour;
};
constexpr PhaseStyle kPhases[] = {
    {"load_x", "load X", "#8da0cb"},
    {"project", "project head 0", "#66c2a5"},
    {"heads", "PAM / top-k / similarity (all heads)", "#fc8d62"},
    {"vote", "token vote + drain", "#e78ac3"},
};

// "name" or, in random-seed mode, "name s<seed>"
std::string run_label(const Json& c, bool multi_seed) {
  return str_or(c, "name") + (multi_seed ? " s" + std::to_string(static_cast<long long>(num_at(c, {"seed"}))) : "");
}

// Stacked horizontal bars: one per case, phases in order, the timing bound as a tick.
std::string phase_chart(const Json::Array& cases, bool multi_seed) {
  double max_c = 1;
  for (const auto& c : cases) max_c = std::max({max_c, num_at(c, {"cycles"}), num_at(c, {"bound_cycles"})});
  const int label_w = 220, bar_w = 560, row_h = 16;
  const int h = static_cast<int>(cases.size()) * row_h + 56;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << label_w + bar_w + 240 << "' height='" << h
    << "' font-family='sans-serif' font-size='11'>\n";
  int y = 4;
  for (const auto& c : cases) {
    o << "<text x='" << label_w - 4 << "' y='" << y + 11 << "' text-anchor='end'>" << esc(run_label(c, multi_seed))
      << "</text>\n";
    double x = label_w;
    double phase_sum = 0;
    for (const auto& p : kPhases) phase_sum += num_at(c, {"phases", p.key});
    if (phase_sum == 0 && num_at(c, {"cycles"}) > 0)  // the run did not complete: no phase split
      o << "<rect x='" << label_w << "' y='" << y << "' width='" << fmt("%.1f", num_at(c, {"cycles"}) / max_c * bar_w)
        << "' height='" << row_h - 3 << "' fill='#bbb'><title>run did not complete: cycles up to the stop, not split "
        << "by phase</title></rect>\n";
    for (const auto& p : kPhases) {
      const double v = num_at(c, {"phases", p.key});
      const double w = v / max_c * bar_w;
      if (w > 0)
        o << "<rect x='" << fmt("%.1f", x) << "' y='" << y << "' width='" << fmt("%.1f", w) << "' height='"
          << row_h - 3 << "' fill='" << p.colour << "'><title>" << esc(str_or(c, "name")) << ": " << p.label
          << " " << static_cast<long long>(v) << " cycles</title></rect>\n";
      x += w;
    }
    const double cyc = num_at(c, {"cycles"});
    const double bx = label_w + num_at(c, {"bound_cycles"}) / max_c * bar_w;
    o << "<line x1='" << fmt("%.1f", bx) << "' x2='" << fmt("%.1f", bx) << "' y1='" << y - 1 << "' y2='"
      << y + row_h - 2 << "' stroke='black' stroke-width='2'><title>timing bound " << fmt("%.0f", num_at(c, {"bound_cycles"}))
      << " cycles</title></line>\n";
    const std::string verdict = str_or(c, "verdict");
    o << "<text x='" << fmt("%.1f", label_w + cyc / max_c * bar_w + 6) << "' y='" << y + 11 << "'"
      << (verdict == "pass" ? "" : " fill='#c00' font-weight='bold'") << ">" << static_cast<long long>(cyc)
      << (verdict == "pass" ? "" : " " + verdict) << "</text>\n";
    y += row_h;
  }
  int lx = label_w;
  for (const auto& p : kPhases) {
    o << "<rect x='" << lx << "' y='" << y + 8 << "' width='10' height='10' fill='" << p.colour << "'/><text x='"
      << lx + 14 << "' y='" << y + 17 << "'>" << p.label << "</text>\n";
    lx += 40 + static_cast<int>(std::string(p.label).size()) * 6;
  }
  o << "<line x1='" << label_w << "' x2='" << label_w << "' y1='" << y + 23 << "' y2='" << y + 35
    << "' stroke='black' stroke-width='2'/><text x='" << label_w + 6 << "' y='" << y + 33
    << "'>timing bound: prediction pairs / LANES</text><rect x='" << label_w + 260 << "' y='" << y + 24
    << "' width='10' height='10' fill='#bbb'/><text x='" << label_w + 274 << "' y='" << y + 33
    << "'>run did not complete (no phase split)</text>\n</svg>\n";
  return o.str();
}

// Two bars per case: prediction-array busy share (RTL perf counters) and lane utilisation.
std::string utilisation_chart(const Json::Array& cases, bool multi_seed) {
  const int label_w = 220, bar_w = 400, row_h = 20;
  const int h = static_cast<int>(cases.size()) * row_h + 34;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << label_w + bar_w + 160 << "' height='" << h
    << "' font-family='sans-serif' font-size='11'>\n";
  int y = 4;
  for (const auto& c : cases) {
    const double busy = num_at(c, {"utilisation", "array_busy"}), lanes = num_at(c, {"utilisation", "lanes"});
    o << "<text x='" << label_w - 4 << "' y='" << y + 13 << "' text-anchor='end'>" << esc(run_label(c, multi_seed))
      << "</text>\n";
    o << "<rect x='" << label_w << "' y='" << y << "' width='" << bar_w << "' height='16' fill='#eee'/>\n";
    o << "<rect x='" << label_w << "' y='" << y << "' width='" << fmt("%.1f", busy * bar_w)
      << "' height='8' fill='#4c72b0'><title>array busy " << fmt("%.1f", 100 * busy) << "%</title></rect>\n";
    o << "<rect x='" << label_w << "' y='" << y + 8 << "' width='" << fmt("%.1f", lanes * bar_w)
      << "' height='8' fill='#55a868'><title>lane utilisation " << fmt("%.1f", 100 * lanes) << "%</title></rect>\n";
    o << "<text x='" << label_w + bar_w + 6 << "' y='" << y + 13 << "'>" << fmt("%.0f%%", 100 * busy) << " busy, "
      << fmt("%.0f%%", 100 * lanes) << " lanes</text>\n";
    y += row_h;
  }
  o << "<rect x='" << label_w << "' y='" << y + 8 << "' width='10' height='10' fill='#4c72b0'/><text x='"
    << label_w + 14 << "' y='" << y + 17 << "'>array accepted a beat (perf_busy / perf_cycles)</text>"
    << "<rect x='" << label_w + 280 << "' y='" << y + 8 << "' width='10' height='10' fill='#55a868'/><text x='"
    << label_w + 294 << "' y='" << y + 17 << "'>useful lanes (pred_pairs / LANES / cycles)</text>\n</svg>\n";
  return o.str();
}

// Exact top-k of one head: scores from the integer Q = X W_Q, K = X W_K (not the HLog
// prediction), the same candidates and tie rule as spec section 5 (lower index wins a tie).
std::vector<uint8_t> exact_topk_head(const vectors::SplsCase& c, int h) {
  const int N = c.config.N, D = c.config.D, dh = c.config.dh(), L = c.params.L;
  std::vector<int64_t> q(static_cast<size_t>(L * dh)), k(static_cast<size_t>(L * dh));
  for (int i = 0; i < L; ++i)
    for (int cc = 0; cc < dh; ++cc) {
      const int col = h * dh + cc;
      int64_t sq = 0, sk = 0;
      if (c.params.predict_from == PredictFrom::kProjected) {
        for (int d = 0; d < D; ++d) {
          sq += int64_t(c.x(i, d)) * c.wq(d, col);
          sk += int64_t(c.x(i, d)) * c.wk(d, col);
        }
      } else {
        sq = c.q(i, col);
        sk = c.k(i, col);
      }
      q[static_cast<size_t>(i * dh + cc)] = sq;
      k[static_cast<size_t>(i * dh + cc)] = sk;
    }
  std::vector<uint8_t> mask(static_cast<size_t>(N * N), 0);
  std::vector<int64_t> s(static_cast<size_t>(L));
  for (int i = 0; i < L; ++i) {
    const int cand = c.params.causal ? i + 1 : L;
    for (int j = 0; j < cand; ++j) {
      int64_t v = 0;
      for (int cc = 0; cc < dh; ++cc) v += q[static_cast<size_t>(i * dh + cc)] * k[static_cast<size_t>(j * dh + cc)];
      s[static_cast<size_t>(j)] = v;
    }
    for (int j = 0; j < cand; ++j) {
      int rank = 0;
      for (int m = 0; m < cand; ++m)
        rank += s[static_cast<size_t>(m)] > s[static_cast<size_t>(j)] ||
                (s[static_cast<size_t>(m)] == s[static_cast<size_t>(j)] && m < j);
      if (rank < c.params.k) mask[static_cast<size_t>(i * N + j)] = 1;
    }
  }
  return mask;
}

// L x L cells: predicted and exact kept (dark), predicted only (orange), exact only (blue).
// Cells the RTL got wrong (topk_mask mismatches in the report) are outlined in red.
std::string mask_heatmap(const vectors::SplsCase& c, int h, const std::vector<uint8_t>& exact,
                         const std::vector<std::pair<int, int>>& bad, double* recall) {
  const int N = c.config.N, L = c.params.L;
  const int cell = std::max(2, std::min(12, 240 / std::max(L, 1)));
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << L * cell + 2 << "' height='" << L * cell + 2 << "'>\n";
  int both = 0, exact_n = 0;
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < L; ++j) {
      const bool p = c.expected.topk_mask(h, i, j) != 0, e = exact[static_cast<size_t>(i * N + j)] != 0;
      both += p && e;
      exact_n += e;
      if (!p && !e) continue;
      const char* col = p && e ? "#1b4f72" : p ? "#f39c12" : "#85c1e9";
      o << "<rect x='" << 1 + j * cell << "' y='" << 1 + i * cell << "' width='" << cell << "' height='" << cell
        << "' fill='" << col << "'/>";
    }
  for (const auto& [i, j] : bad)
    if (i < L && j < L)
      o << "<rect x='" << 1 + j * cell << "' y='" << 1 + i * cell << "' width='" << cell << "' height='" << cell
        << "' fill='none' stroke='red' stroke-width='2'/>";
  o << "<rect x='0.5' y='0.5' width='" << L * cell + 1 << "' height='" << L * cell + 1
    << "' fill='none' stroke='#999'/>\n</svg>";
  *recall = exact_n ? double(both) / exact_n : 1.0;
  return o.str();
}

// H rows (heads) + 1 row (token vote) of L cells: representative rows dark, followers light with
// a line to their representative.
std::string rep_map(const vectors::SplsCase& c) {
  const int H = c.config.H, L = c.params.L;
  const int cell = std::max(4, std::min(16, 480 / std::max(L, 1))), lab = 60, gap = 10;
  const int rows = H + 1;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << lab + L * cell + 4 << "' height='"
    << rows * (cell + gap) + 4 << "' font-family='sans-serif' font-size='10'>\n";
  for (int r = 0; r < rows; ++r) {
    const int y = 2 + r * (cell + gap);
    o << "<text x='" << lab - 4 << "' y='" << y + cell - 2 << "' text-anchor='end'>"
      << (r < H ? "head " + std::to_string(r) : std::string("token")) << "</text>";
    for (int i = 0; i < L; ++i) {
      const int rep = r < H ? c.expected.rep(r, i) : c.expected.token_rep.data[static_cast<size_t>(i)];
      const bool follower = rep != i;
      o << "<rect x='" << lab + i * cell << "' y='" << y << "' width='" << cell - 1 << "' height='" << cell
        << "' fill='" << (follower ? "#f5cba7" : "#6c3483") << "'><title>row " << i
        << (follower ? " follows " + std::to_string(rep) : std::string(" representative")) << "</title></rect>";
      if (follower)
        o << "<path d='M" << lab + i * cell + cell / 2 << "," << y + cell << " Q" << lab + (i + rep) * cell / 2 + cell / 2
          << "," << y + cell + gap - 1 << " " << lab + rep * cell + cell / 2 << "," << y + cell
          << "' stroke='#a04000' fill='none' stroke-width='1'/>";
    }
    o << "\n";
  }
  o << "</svg>";
  return o.str();
}

// "(head 1, row 3, col 7)" -> (1, 3, 7)
bool parse_coords(const std::string& s, int* h, int* r, int* col) {
  return std::sscanf(s.c_str(), "(head %d, row %d, col %d)", h, r, col) == 3;
}

std::string bar(double pct, const char* colour) {
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='204' height='14'><rect x='0' y='0' width='204' "
       "height='14' fill='#eee'/><rect x='2' y='2' width='"
    << fmt("%.1f", std::clamp(pct, 0.0, 100.0) * 2) << "' height='10' fill='" << colour << "'/></svg>";
  return o.str();
}

// ---- encoder-layer cases (kind "layer") ----
constexpr PhaseStyle kLayerPhases[] = {
    {"load", "load X", "#8da0cb"},        {"wait_spls", "wait for SPLS", "#bbbbbb"},
    {"qkv", "Q/K/V projection", "#66c2a5"}, {"attention", "attention", "#fc8d62"},
    {"oproj", "output projection", "#e78ac3"}, {"ffn", "FFN", "#a6d854"},
    {"ln2_tail", "LayerNorm 2 tail", "#ffd92f"},
};
constexpr const char* kLayerUtilPhases[] = {"qkv", "attention", "oproj", "ffn"};

std::string layer_label(const Json& c, bool multi_seed) {
  const Json* l = c.find("layer");
  return run_label(c, multi_seed) + (l ? " (" + str_or(*l, "mode") + ")" : "");
}

// Stacked bars: the RTL's cycles per phase of every layer case.
std::string layer_phase_chart(const Json::Array& cases, bool multi_seed) {
  double max_c = 1;
  for (const auto& c : cases) max_c = std::max(max_c, num_at(c, {"cycles"}));
  const int label_w = 260, bar_w = 560, row_h = 16;
  const int h = static_cast<int>(cases.size()) * row_h + 40;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << label_w + bar_w + 140 << "' height='" << h
    << "' font-family='sans-serif' font-size='11'>\n";
  int y = 4;
  for (const auto& c : cases) {
    o << "<text x='" << label_w - 4 << "' y='" << y + 11 << "' text-anchor='end'>" << esc(layer_label(c, multi_seed))
      << "</text>\n";
    double x = label_w;
    for (const auto& p : kLayerPhases) {
      const double v = num_at(c, {"layer", "phases", p.key, "cycles"});
      const double w = v / max_c * bar_w;
      if (w > 0)
        o << "<rect x='" << fmt("%.1f", x) << "' y='" << y << "' width='" << fmt("%.1f", w) << "' height='"
          << row_h - 3 << "' fill='" << p.colour << "'><title>" << esc(str_or(c, "name")) << ": " << p.label << " "
          << static_cast<long long>(v) << " cycles</title></rect>\n";
      x += w;
    }
    const std::string verdict = str_or(c, "verdict");
    o << "<text x='" << fmt("%.1f", x + 6) << "' y='" << y + 11 << "'"
      << (verdict == "pass" ? "" : " fill='#c00' font-weight='bold'") << ">"
      << static_cast<long long>(num_at(c, {"cycles"})) << (verdict == "pass" ? "" : " " + verdict) << "</text>\n";
    y += row_h;
  }
  int lx = 8;
  for (const auto& p : kLayerPhases) {
    o << "<rect x='" << lx << "' y='" << y + 8 << "' width='10' height='10' fill='" << p.colour << "'/><text x='"
      << lx + 14 << "' y='" << y + 17 << "'>" << p.label << "</text>\n";
    lx += 30 + static_cast<int>(std::string(p.label).size()) * 6;
  }
  o << "</svg>\n";
  return o.str();
}

// Per layer case: the PE utilisation of the whole run (executed MACs / (cycles x PEs)) and of
// each compute phase.
std::string layer_util_chart(const Json::Array& cases, bool multi_seed) {
  const int label_w = 260, bar_w = 400, bar_h = 5;
  const int row_h = bar_h * 5 + 6;
  const int h = static_cast<int>(cases.size()) * row_h + 30;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << label_w + bar_w + 200 << "' height='" << h
    << "' font-family='sans-serif' font-size='11'>\n";
  int y = 4;
  for (const auto& c : cases) {
    o << "<text x='" << label_w - 4 << "' y='" << y + 15 << "' text-anchor='end'>" << esc(layer_label(c, multi_seed))
      << "</text>\n<rect x='" << label_w << "' y='" << y << "' width='" << bar_w << "' height='" << bar_h * 5
      << "' fill='#eee'/>\n";
    const double total = num_at(c, {"layer", "pe_utilisation"});
    o << "<rect x='" << label_w << "' y='" << y << "' width='" << fmt("%.1f", total * bar_w) << "' height='" << bar_h
      << "' fill='#4c72b0'><title>whole layer " << fmt("%.1f", 100 * total) << "%</title></rect>\n";
    int k = 1;
    for (const char* ph : kLayerUtilPhases) {
      const double u = num_at(c, {"layer", "phases", ph, "pe_utilisation"});
      const char* colour = "#999";
      for (const auto& p : kLayerPhases)
        if (std::string(p.key) == ph) colour = p.colour;
      o << "<rect x='" << label_w << "' y='" << y + k * bar_h << "' width='" << fmt("%.1f", u * bar_w) << "' height='"
        << bar_h << "' fill='" << colour << "'><title>" << ph << " " << fmt("%.1f", 100 * u) << "%</title></rect>\n";
      ++k;
    }
    o << "<text x='" << label_w + bar_w + 6 << "' y='" << y + 15 << "'>" << fmt("%.0f%%", 100 * total) << " whole, "
      << "qkv " << fmt("%.0f%%", 100 * num_at(c, {"layer", "phases", "qkv", "pe_utilisation"})) << ", ffn "
      << fmt("%.0f%%", 100 * num_at(c, {"layer", "phases", "ffn", "pe_utilisation"})) << "</text>\n";
    y += row_h;
  }
  o << "<rect x='" << label_w << "' y='" << y + 6 << "' width='10' height='10' fill='#4c72b0'/><text x='"
    << label_w + 14 << "' y='" << y + 15 << "'>whole layer; then per phase: qkv, attention, oproj, ffn "
    << "(executed MACs / (cycles x PEs))</text>\n</svg>\n";
  return o.str();
}

}  // namespace

std::string html_report(const Json& report, int max_case_figures) {
  // SPLS runs get the SPLS table, charts and heatmaps; encoder-layer runs a section of their own
  Json::Array cases, layer_cases;
  for (const auto& c : report.find("cases")->as_array())
    (str_or(c, "kind", "spls") == "layer" ? layer_cases : cases).push_back(c);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>esact-sim report</title>\n<style>"
       "body{font-family:sans-serif;margin:1.5em;max-width:1200px}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}"
       "td:first-child,th:first-child{text-align:left}.fail{color:#c00;font-weight:bold}"
       ".figs{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.figs div{font-size:11px}"
       "code{background:#f4f4f4;padding:1px 3px}</style></head><body>\n";
  const Json& s = *report.find("summary");
  const bool complete = report.find("complete") && report.find("complete")->as_bool();
  o << "<h1>esact-sim report</h1>\n<p><b>" << static_cast<long long>(num_at(s, {"cases"})) << "</b> runs: <b>"
    << static_cast<long long>(num_at(s, {"passed"})) << "</b> passed, <span"
    << (num_at(s, {"failed"}) + num_at(s, {"errors"}) > 0 ? " class='fail'" : "") << ">"
    << static_cast<long long>(num_at(s, {"failed"})) << " failed, " << static_cast<long long>(num_at(s, {"errors"}))
    << " errors</span>, " << static_cast<long long>(num_at(s, {"interrupted"})) << " interrupted; wall "
    << fmt("%.1f", num_at(report, {"wall_seconds"})) << " s."
    << (complete ? "" : " <span class='fail'>INCOMPLETE: " + esc(str_or(report, "incomplete_reason")) + "</span>")
    << "</p>\n<p>command: <code>" << esc(str_or(report, "command")) << "</code><br>vectors: <code>"
    << esc(str_or(report, "vectors")) << "</code>, stall probability " << num_at(report, {"stall_prob"})
    << ", shard: " << esc(str_or(*report.find("shard"), "source", "none")) << "</p>\n";

  // coverage
  const Json* cov = report.find("coverage");
  o << "<h2>Coverage</h2>\n";
  if (cov && cov->is_object()) {
    o << "<table><tr><th>kind</th><th>hit</th><th>total</th><th>%</th><th></th></tr>\n";
    for (const char* k : {"line", "toggle", "user"}) {
      const double pct = num_at(*cov, {k, "percent"});
      o << "<tr><td>" << (std::string(k) == "user" ? "user covers" : k) << "</td><td>"
        << static_cast<long long>(num_at(*cov, {k, "hit"})) << "</td><td>"
        << static_cast<long long>(num_at(*cov, {k, "total"})) << "</td><td>" << fmt("%.1f", pct) << "</td><td>"
        << bar(pct, pct >= 90 ? "#55a868" : pct >= 60 ? "#dd8452" : "#c44e52") << "</td></tr>\n";
    }
    o << "</table>\n";
    const Json* unhit = cov->find("user") ? cov->find("user")->find("unhit") : nullptr;
    if (unhit && unhit->is_array() && !unhit->as_array().empty()) {
      o << "<p>Unhit covers:</p><ul>";
      for (const auto& n : unhit->as_array()) o << "<li><code>" << esc(n.as_string()) << "</code></li>";
      o << "</ul>\n";
    } else {
      o << "<p>Every user cover was hit.</p>\n";
    }
    o << "<p>merged data: <code>" << esc(str_or(*cov, "merged_dat")) << "</code></p>\n";
  } else {
    o << "<p>Not a coverage run (build with <code>cmake --preset coverage</code>, run with "
         "<code>--coverage DIR</code>, or use <code>ci/coverage</code>).</p>\n";
  }

  // per-case table
  o << "<h2>SPLS cases</h2>\n<table><tr><th>case</th><th>config</th><th>seed</th><th>verdict</th><th>cycles</th>"
       "<th>bound</th><th>ratio</th><th>load X</th><th>project</th><th>heads</th><th>vote</th><th>array busy</th>"
       "<th>followers</th><th>MAC red.</th><th>kcyc/s</th></tr>\n";
  for (const auto& c : cases) {
    const std::string v = str_or(c, "verdict");
    o << "<tr><td>" << esc(str_or(c, "name")) << "</td><td>" << esc(str_or(c, "config")) << "</td><td>"
      << static_cast<long long>(num_at(c, {"seed"})) << "</td><td" << (v == "pass" ? "" : " class='fail'") << ">"
      << v << "</td><td>" << static_cast<long long>(num_at(c, {"cycles"})) << "</td><td>"
      << fmt("%.0f", num_at(c, {"bound_cycles"})) << "</td><td>" << fmt("%.3f", num_at(c, {"cycles_over_bound"}))
      << "</td>";
    for (const auto& p : kPhases) o << "<td>" << static_cast<long long>(num_at(c, {"phases", p.key})) << "</td>";
    o << "<td>" << fmt("%.1f%%", 100 * num_at(c, {"utilisation", "array_busy"})) << "</td><td>"
      << fmt("%.1f%%", 100 * num_at(c, {"counters", "follower_share"})) << "</td><td>"
      << fmt("%.1f%%", 100 * num_at(c, {"counters", "mac_reduction"})) << "</td><td>"
      << fmt("%.0f", num_at(c, {"sim_cycles_per_second"}) / 1e3) << "</td></tr>\n";
    if (v != "pass") {
      std::string why = str_or(c, "error");
      if (const Json* mm = c.find("mismatches"); why.empty() && mm && mm->is_array() && !mm->as_array().empty())
        why = str_or(mm->as_array().front(), "message");
      o << "<tr><td colspan='15' class='fail'>" << esc(why) << "<br><code>" << esc(str_or(c, "repro"))
        << "</code></td></tr>\n";
    }
  }
  o << "</table>\n";

  const bool multi_seed = report.find("seeds") && report.find("seeds")->is_int() && report.find("seeds")->as_int() > 1;
  if (!cases.empty()) {
    o << "<h2>Cycles by phase</h2>\n" << phase_chart(cases, multi_seed);
    o << "<h2>PE utilisation</h2>\n" << utilisation_chart(cases, multi_seed);
  }

  if (!layer_cases.empty()) {
    o << "<h2>Encoder-layer cases</h2>\n<table><tr><th>case</th><th>config</th><th>mode</th><th>seed</th>"
         "<th>verdict</th><th>cycles</th>";
    for (const auto& p : kLayerPhases) o << "<th>" << p.key << "</th>";
    o << "<th>PE util.</th><th>MAC red.</th><th>kcyc/s</th></tr>\n";
    for (const auto& c : layer_cases) {
      const std::string v = str_or(c, "verdict");
      const Json* l = c.find("layer");
      o << "<tr><td>" << esc(str_or(c, "name")) << "</td><td>" << esc(str_or(c, "config")) << "</td><td>"
        << esc(l ? str_or(*l, "mode") : "") << "</td><td>" << static_cast<long long>(num_at(c, {"seed"})) << "</td><td"
        << (v == "pass" ? "" : " class='fail'") << ">" << v << "</td><td>" << static_cast<long long>(num_at(c, {"cycles"}))
        << "</td>";
      for (const auto& p : kLayerPhases)
        o << "<td>" << static_cast<long long>(num_at(c, {"layer", "phases", p.key, "cycles"})) << "</td>";
      o << "<td>" << fmt("%.1f%%", 100 * num_at(c, {"layer", "pe_utilisation"})) << "</td><td>"
        << fmt("%.1f%%", 100 * num_at(c, {"layer", "mac_reduction"})) << "</td><td>"
        << fmt("%.0f", num_at(c, {"sim_cycles_per_second"}) / 1e3) << "</td></tr>\n";
      if (v != "pass") {
        std::string why = str_or(c, "error");
        if (const Json* mm = c.find("mismatches"); why.empty() && mm && mm->is_array() && !mm->as_array().empty())
          why = str_or(mm->as_array().front(), "message");
        o << "<tr><td colspan='16' class='fail'>" << esc(why) << "<br><code>" << esc(str_or(c, "repro"))
          << "</code></td></tr>\n";
      }
    }
    o << "</table>\n";
    if (const Json* pairs = report.find("dense_vs_esact"); pairs && pairs->is_array() && !pairs->as_array().empty()) {
      o << "<h3>Dense vs ESACT</h3>\n<table><tr><th>dense</th><th>ESACT</th><th>config</th><th>dense cycles</th>"
           "<th>ESACT cycles</th><th>speedup</th><th>cycles / dense</th><th>MACs / dense</th></tr>\n";
      for (const auto& p : pairs->as_array())
        o << "<tr><td>" << esc(str_or(p, "dense")) << "</td><td>" << esc(str_or(p, "esact")) << "</td><td>"
          << esc(str_or(p, "config")) << "</td><td>" << static_cast<long long>(num_at(p, {"dense_cycles"}))
          << "</td><td>" << static_cast<long long>(num_at(p, {"esact_cycles"})) << "</td><td>"
          << fmt("%.2fx", num_at(p, {"speedup"})) << "</td><td>" << fmt("%.3f", num_at(p, {"cycle_ratio"}))
          << "</td><td>" << fmt("%.3f", num_at(p, {"mac_ratio"})) << "</td></tr>\n";
      o << "</table>\n";
    }
    o << "<h3>Layer cycles by phase</h3>\n" << layer_phase_chart(layer_cases, multi_seed);
    o << "<h3>Layer PE utilisation</h3>\n" << layer_util_chart(layer_cases, multi_seed);
  }

  // heatmaps: failing runs first, then the rest, one figure set per case directory
  o << "<h2>Predicted vs exact attention, representatives</h2>\n<p>Mask cells: <span style='color:#1b4f72'>"
       "&#9632;</span> kept by the HLog prediction and by the exact top-k of Q K<sup>T</sup>, <span "
       "style='color:#f39c12'>&#9632;</span> predicted only, <span style='color:#85c1e9'>&#9632;</span> exact "
       "only; red outline: the RTL's mask differs from the golden model there. Representative map: <span "
       "style='color:#6c3483'>&#9632;</span> representative, <span style='color:#f5cba7'>&#9632;</span> follower "
       "(arc to its representative).</p>\n";
  std::vector<const Json*> order;
  for (const auto& c : cases)
    if (str_or(c, "verdict") != "pass") order.push_back(&c);
  for (const auto& c : cases)
    if (str_or(c, "verdict") == "pass") order.push_back(&c);
  std::vector<std::string> done_dirs;
  int shown = 0;
  for (const Json* cp : order) {
    if (shown >= max_case_figures) {
      o << "<p>(" << order.size() - static_cast<size_t>(shown) << " more runs not drawn)</p>\n";
      break;
    }
    const std::string dir = str_or(*cp, "dir");
    if (std::find(done_dirs.begin(), done_dirs.end(), dir) != done_dirs.end()) continue;
    done_dirs.push_back(dir);
    vectors::SplsCase sc;
    try {
      sc = vectors::load_spls_case(dir);
    } catch (const std::exception& e) {
      o << "<h3>" << esc(str_or(*cp, "name")) << "</h3><p>(case not readable here: " << esc(e.what()) << ")</p>\n";
      continue;
    }
    ++shown;
    std::vector<std::vector<std::pair<int, int>>> bad(static_cast<size_t>(sc.config.H));
    if (const Json* mm = cp->find("mismatches"); mm && mm->is_array())
      for (const auto& m : mm->as_array()) {
        int h, r, col;
        if (str_or(m, "tensor") == "topk_mask" && parse_coords(str_or(m, "coords"), &h, &r, &col) && h >= 0 &&
            h < sc.config.H)
          bad[static_cast<size_t>(h)].emplace_back(r, col);
      }
    o << "<h3>" << esc(str_or(*cp, "name")) << " <small>(" << esc(sc.config.name) << ", L=" << sc.params.L
      << ", k=" << sc.params.k << ", T=" << sc.params.T << ", w=" << sc.params.w
      << (sc.params.causal ? ", causal" : "") << ")</small></h3>\n<div class='figs'>";
    const int heads_drawn = std::min(sc.config.H, 4);
    for (int h = 0; h < heads_drawn; ++h) {
      double recall = 0;
      const std::string svg = mask_heatmap(sc, h, exact_topk_head(sc, h), bad[static_cast<size_t>(h)], &recall);
      o << "<div>" << svg << "<br>head " << h << ": recall of exact top-k " << fmt("%.0f%%", 100 * recall) << "</div>";
    }
    if (heads_drawn < sc.config.H) o << "<div>(" << sc.config.H - heads_drawn << " more heads)</div>";
    o << "<div>" << rep_map(sc) << "</div></div>\n";
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace esact::sim
