// The Verilated encoder-layer models linked into this binary, one per named configuration, and the
// stimulus of a layer case built from the golden model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "esact/sim/layer_runner.h"

namespace esact::sim {

using LayerRunFn = LayerRunResult (*)(const LayerStimulus&, const LayerRunOptions&);

// The runner for a configuration's layer model, or nullptr if none was built.
LayerRunFn layer_runner_for(const std::string& config);

// A synthetic layer case: make_synthetic_weights / make_synthetic_input (seed), SPLS with the
// configuration's defaults (or `p`), golden SPLS and run_layer with the given switches.
LayerStimulus make_layer_stimulus(const HwConfig& cfg, const SplsParams& p, uint64_t seed, const LayerSwitches& sw,
                                  const std::string& name);

// esact-sim layer: the encoder-layer front end (sim/src/layer_main.cpp).
int layer_main(const std::vector<std::string>& args);

}  // namespace esact::sim
