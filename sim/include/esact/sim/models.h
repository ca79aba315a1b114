// The Verilated SPLS models linked into this binary, one per named configuration.
#pragma once
#include <string>
#include <vector>

#include "esact/sim/spls_runner.h"

namespace esact::sim {

using SplsRunFn = RunResult (*)(const SplsStimulus&, const RunOptions&);

// The runner for a configuration's model, or nullptr if no model was built for it. In builds
// with tracing it runs the untraced twin model unless the run asks for a waveform.
SplsRunFn spls_runner_for(const std::string& config);
// Always the model with tracing compiled in (the trace-overhead bench compares the two).
SplsRunFn spls_traced_runner_for(const std::string& config);
std::vector<std::string> built_configs();

}  // namespace esact::sim
