#include "esact/config.h"

#include <stdexcept>

#include "esact/configs_table.h"

namespace esact {

namespace {
[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}
}  // namespace

void HwConfig::validate() const {
  const std::string where = "configuration '" + name + "'";
  if (N < 1 || N > 256) fail(where, "N must be in 1..256, got " + std::to_string(N));
  if (D < 1 || D > 512) fail(where, "D must be in 1..512, got " + std::to_string(D));
  if (H < 1 || D % H != 0) fail(where, "H must divide D (D=" + std::to_string(D) + ", H=" + std::to_string(H) + ")");
  if (dh() > 64) fail(where, "dh = D/H must be <= 64, got " + std::to_string(dh()));
  if (LANES < 1 || D % LANES != 0) fail(where, "LANES must divide D, got LANES=" + std::to_string(LANES));
  if (LANES % dh() != 0) fail(where, "LANES must be a multiple of dh, got LANES=" + std::to_string(LANES));
  if (F < 1) fail(where, "F must be >= 1");
  if (mac_rows < 1 || mac_rows > 64) fail(where, "MAC_ROWS must be in 1..64, got " + std::to_string(mac_rows));
  if (mac_cols < 1 || dh() % mac_cols != 0)
    fail(where, "MAC_COLS must divide dh = D/H (so a column tile never straddles heads), got " + std::to_string(mac_cols));
  if (F % mac_cols != 0) fail(where, "MAC_COLS must divide F, got " + std::to_string(mac_cols));
  if (mem_latency < 1 || mem_latency > 1000) fail(where, "MEM_LATENCY must be in 1..1000");
}

HwConfig config_by_name(const std::string& name) {
  for (const auto& row : generated::kConfigs) {
    if (name == row.name) {
      HwConfig c;
      c.name = row.name;
      c.N = row.N;
      c.D = row.D;
      c.H = row.H;
      c.F = row.F;
      c.LANES = row.LANES;
      c.rho_milli = row.RHO_MILLI;
      c.tau_milli = row.TAU_MILLI;
      c.window = row.WINDOW;
      c.vote = row.VOTE;
      c.mac_rows = row.MAC_ROWS;
      c.mac_cols = row.MAC_COLS;
      c.mem_latency = row.MEM_LATENCY;
      c.validate();
      return c;
    }
  }
  std::string known;
  for (const auto& row : generated::kConfigs) known += std::string(known.empty() ? "" : ", ") + row.name;
  throw std::invalid_argument("unknown configuration '" + name + "' (known: " + known + ")");
}

std::vector<std::string> config_names() {
  std::vector<std::string> names;
  for (const auto& row : generated::kConfigs) names.emplace_back(row.name);
  return names;
}

SplsParams SplsParams::from_fractions(int L, int rho_milli, int tau_milli, int w, int V, bool causal) {
  SplsParams p;
  p.L = L;
  int k = static_cast<int>((static_cast<int64_t>(rho_milli) * L + 999) / 1000);
  if (k < 1) k = 1;
  if (k > L) k = L;
  p.k = k;
  p.T = static_cast<int>((static_cast<int64_t>(tau_milli) * k + 999) / 1000);
  p.w = w;
  p.V = V;
  p.causal = causal;
  return p;
}

void SplsParams::validate(const HwConfig& cfg) const {
  auto bad = [](const char* field, const std::string& why) {
    throw std::invalid_argument(std::string("parameter '") + field + "': " + why);
  };
  if (L < 1 || L > cfg.N) bad("L", "must be in 1.." + std::to_string(cfg.N) + ", got " + std::to_string(L));
  if (k < 1 || k > L) bad("k", "must be in 1..L=" + std::to_string(L) + ", got " + std::to_string(k));
  if (T < 0 || T > k) bad("T", "must be in 0..k=" + std::to_string(k) + ", got " + std::to_string(T));
  if (w < 0 || w > cfg.N - 1) bad("w", "must be in 0.." + std::to_string(cfg.N - 1) + ", got " + std::to_string(w));
  if (V < 1 || V > cfg.H) bad("V", "must be in 1..H=" + std::to_string(cfg.H) + ", got " + std::to_string(V));
}

}  // namespace esact
