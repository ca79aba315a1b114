// Regression case lists: what --vectors names, resolved to case directories (or generator sweep
// entries), deterministic sharding, and the shard the environment of a CI matrix, a Slurm job
// array or a Kubernetes indexed job asks for. Formats: docs/regressions.md.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "esact/sim/spls_runner.h"
#include "esact/vectors/generator.h"
#include "esact/vectors/spls_case.h"

namespace esact::sim {

struct CaseRef {
  std::string dir;
  std::string name;
  std::string config;  // empty when not known before loading (a bare case directory)
  std::vector<std::string> tags;
  std::string kind = "spls";  // "layer": an encoder-layer case (run on esact_layer_top)
  // A generator sweep entry: the case is generated into dir (if not there yet) when it runs.
  std::optional<vectors::GenRequest> generate;
};

// PATH is a case directory (holding case.json), a manifest.json, a directory holding
// manifest.json, or a regression list file (docs/regressions.md). work_dir receives the cases
// of generator sweeps. Throws std::runtime_error naming PATH (and the list line) when it is none
// of these or malformed.
std::vector<CaseRef> resolve_cases(const std::string& path, const std::string& work_dir = "out/esact-work");

// Deterministic slice: item i belongs to shard (i mod count). index is 0-based.
template <typename T>
std::vector<T> shard_slice(const std::vector<T>& all, int index, int count) {
  std::vector<T> out;
  for (size_t i = 0; i < all.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(count)) == index) out.push_back(all[i]);
  return out;
}
inline std::vector<CaseRef> shard_cases(const std::vector<CaseRef>& all, int index, int count) {
  return shard_slice(all, index, count);
}

struct ShardSpec {
  int index = 0, count = 1;
  std::string source;  // the variable(s) it came from
};
// Parses "I/N" (0 <= I < N). Throws std::invalid_argument with a message naming `what`.
ShardSpec parse_shard(const std::string& text, const std::string& what);
// The shard the environment asks for, first match wins: ESACT_SHARD=I/N; SLURM_ARRAY_TASK_ID with
// SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN/_MAX (and _STEP); JOB_COMPLETION_INDEX with
// ESACT_SHARD_COUNT (Kubernetes indexed job); CI_NODE_INDEX/CI_NODE_TOTAL (GitLab parallel,
// 1-based); BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT. nullopt when none is set; throws
// std::invalid_argument naming the variable when one is set but malformed or inconsistent.
std::optional<ShardSpec> shard_from_env();

// Generates a sweep entry's case into ref.dir unless a case is already there (atomically: a
// temporary directory renamed into place). Throws what the generator throws.
void materialize_case(const CaseRef& ref);

// Loads a case and checks that a fresh golden run equals the expected tensors stored in it
// (a drifted golden model or a stale corpus is an error, not a pass). Throws VectorError on a bad
// case; returns a non-empty drift description in *drift when they differ.
SplsStimulus load_stimulus(const CaseRef& ref, vectors::SplsCase* loaded, std::string* drift);

}  // namespace esact::sim
