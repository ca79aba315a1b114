// Regression case lists: what --vectors names, resolved to case directories, and sharding.
#pragma once
#include <string>
#include <vector>

#include "esact/sim/spls_runner.h"
#include "esact/vectors/spls_case.h"

namespace esact::sim {

struct CaseRef {
  std::string dir;
  std::string name;
  std::string config;  // empty when not known before loading (a bare case directory)
  std::vector<std::string> tags;
};

// PATH is a case directory (holding case.json), a manifest.json, or a directory holding
// manifest.json. Throws std::runtime_error naming PATH when it is none of these.
std::vector<CaseRef> resolve_cases(const std::string& path);

// Deterministic slice: case i belongs to shard (i mod count). index is 0-based.
std::vector<CaseRef> shard_cases(const std::vector<CaseRef>& all, int index, int count);

// Loads a case and checks that a fresh golden run equals the expected tensors stored in it
// (a drifted golden model or a stale corpus is an error, not a pass). Throws VectorError on a bad
// case; returns a non-empty drift description in *drift when they differ.
SplsStimulus load_stimulus(const CaseRef& ref, vectors::SplsCase* loaded, std::string* drift);

}  // namespace esact::sim
