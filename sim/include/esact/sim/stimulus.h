// A synthetic SPLS case for benchmarks: correlated token rows (each token the previous one plus a
// small random step, as real activations are), Gaussian-ish weights, the configuration's default
// SPLS parameters at full length, and its golden answer.
#pragma once
#include <cstdint>
#include <string>

#include "esact/sim/spls_runner.h"

namespace esact::sim {

SplsStimulus correlated_stimulus(const std::string& config, uint32_t seed, const std::string& name);

}  // namespace esact::sim
