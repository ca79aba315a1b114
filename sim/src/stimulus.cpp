#include "esact/sim/stimulus.h"

#include <algorithm>
#include <random>

namespace esact::sim {

SplsStimulus correlated_stimulus(const std::string& config, uint32_t seed, const std::string& name) {
  SplsStimulus st;
  st.name = name;
  st.cfg = config_by_name(config);
  const int N = st.cfg.N, D = st.cfg.D;
  std::mt19937 rng(seed);  // the engine is fully specified; only its raw output is used
  st.x = TensorI8({N, D});
  st.wq = TensorI8({D, D});
  st.wk = TensorI8({D, D});
  for (int d = 0; d < D; ++d) st.x(0, d) = static_cast<int8_t>(int(rng() % 201) - 100);
  for (int i = 1; i < N; ++i)
    for (int d = 0; d < D; ++d)
      st.x(i, d) = static_cast<int8_t>(std::clamp(int(st.x(i - 1, d)) + int(rng() % 41) - 20, -128, 127));
  for (auto& v : st.wq.data) v = static_cast<int8_t>(int(rng() % 121) - 60);
  for (auto& v : st.wk.data) v = static_cast<int8_t>(int(rng() % 121) - 60);
  st.params = SplsParams::from_fractions(N, st.cfg.rho_milli, st.cfg.tau_milli, st.cfg.window, st.cfg.vote);
  st.golden = run_spls(st.cfg, st.params, st.x, st.wq, st.wk);
  return st;
}

}  // namespace esact::sim
