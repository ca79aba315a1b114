// The Verilated encoder-layer models linked into this binary, one per named configuration, and the
// stimulus of a layer case built from the golden model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "esact/sim/layer_runner.h"

namespace esact::sim {

using LayerRunFn = LayerRunResult (*)(const LayerStimulus&, const LayerRunOptions&);

// The runner for a configuration's layer model, or nullptr if none was built. In builds with
// tracing it runs the untraced twin model unless the run asks for a waveform.
LayerRunFn layer_runner_for(const std::string& config);
// Always the layer model with tracing compiled in (esact-trace-bench compares the two).
LayerRunFn layer_traced_runner_for(const std::string& config);

// The system-level runner (esact_spls_top and esact_layer_top in one simulation, encoder_runner.h)
// for a configuration, or nullptr.
struct EncoderRunResult;
using EncoderRunFn = EncoderRunResult (*)(const LayerStimulus&, const LayerRunOptions&);
EncoderRunFn encoder_runner_for(const std::string& config);
// The same with several sequences back to back through predictor and layer (section 22: the layer's
// two SPLS banks), or nullptr.
using EncoderSeqRunFn = EncoderRunResult (*)(const std::vector<const LayerStimulus*>&, const LayerRunOptions&);
EncoderSeqRunFn encoder_sequences_runner_for(const std::string& config);

// A synthetic layer case: make_synthetic_weights / make_synthetic_input (seed), SPLS with the
// configuration's defaults (or `p`), golden SPLS and run_layer with the given switches.
LayerStimulus make_layer_stimulus(const HwConfig& cfg, const SplsParams& p, uint64_t seed, const LayerSwitches& sw,
                                  const std::string& name);

// A layer case from the vector corpus (kind "layer", vectors/FORMAT.md): inputs, weights and SPLS
// outputs from the files; the RTL is compared with the stored expectation. *drift receives the first
// difference between the stored expectation and a fresh golden run (empty when they agree).
// Throws VectorError on a malformed case.
LayerStimulus load_layer_stimulus(const std::string& case_dir, std::string* drift);

// esact-sim layer: the encoder-layer front end (sim/src/layer_main.cpp).
int layer_main(const std::vector<std::string>& args);

}  // namespace esact::sim
