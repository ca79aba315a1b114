// The Verilated SPLS models linked into this binary, one per named configuration.
#pragma once
#include <string>
#include <vector>

#include "esact/sim/spls_runner.h"

namespace esact::sim {

using SplsRunFn = RunResult (*)(const SplsStimulus&, const RunOptions&);

// The runner for a configuration's model, or nullptr if no model was built for it.
SplsRunFn spls_runner_for(const std::string& config);
std::vector<std::string> built_configs();

}  // namespace esact::sim
