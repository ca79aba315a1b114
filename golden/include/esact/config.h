// Named hardware configurations (configs/*.cfg) and the per-case SPLS parameters.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace esact {

// A named hardware configuration: the same numbers in CMake, RTL, golden model and generator.
struct HwConfig {
  std::string name;
  int N = 0, D = 0, H = 0, F = 0, LANES = 0;
  int rho_milli = 250, tau_milli = 750, window = 4, vote = 1;  // SPLS defaults
  int mac_rows = 1, mac_cols = 1;  // encoder-layer MAC array (spec section 22)
  int mem_latency = 1;             // default memory-model latency (cycles)
  int dh() const { return D / H; }
  int P() const { return LANES / dh(); }  // PAM columns per cycle
  // Throws std::invalid_argument naming the violated rule (spec section 0).
  void validate() const;
};

// Looks a configuration up by name in the table generated from configs/*.cfg.
// Throws std::invalid_argument listing the known names if there is none.
HwConfig config_by_name(const std::string& name);
std::vector<std::string> config_names();

enum class PredictFrom { kProjected, kGeneratedQk };

// Per-case SPLS registers (spec sections 5-7), already resolved to integers.
struct SplsParams {
  int L = 0;       // valid tokens
  int k = 1;       // top-k per row
  int T = 0;       // similarity threshold (popcount)
  int w = 4;       // window
  int V = 1;       // token vote
  bool causal = false;
  PredictFrom predict_from = PredictFrom::kProjected;

  // k = clamp(ceil(rho_milli * L / 1000), 1, L); T = ceil(tau_milli * k / 1000).
  static SplsParams from_fractions(int L, int rho_milli, int tau_milli, int w, int V,
                                   bool causal = false);
  // Throws std::invalid_argument naming the field if out of range for cfg.
  void validate(const HwConfig& cfg) const;
};

}  // namespace esact
