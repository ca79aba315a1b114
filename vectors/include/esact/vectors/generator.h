// Seeded generator of SPLS cases whose tensors resemble real activations, the degenerate-input
// guard, and the definition of the committed corpus.
#pragma once
#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/vectors/spls_case.h"

namespace esact::vectors {

inline constexpr const char* kGeneratorName = "esact-vecgen";
// Bump when the bytes the generator produces for a given request change.
inline constexpr const char* kGeneratorVersion = "1.0.0";

// Refusal of a request or of degenerate tensors: the message says which rule and why.
class GeneratorError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// xoshiro256** seeded through splitmix64: the same stream on every machine and compiler.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  uint32_t below(uint32_t n);                 // uniform in [0, n), unbiased; n >= 1
  int32_t range(int32_t lo, int32_t hi);      // uniform in [lo, hi]
  bool chance(uint32_t num, uint32_t den);    // true with probability num/den
  // Approximately standard normal, times 65536 (Irwin-Hall sum of twelve 16-bit uniforms):
  // integer-only, so bit-identical everywhere; range +-6 sigma.
  int32_t gaussian_q16();

 private:
  uint64_t s_[4];
};

// Edge kinds a request may ask for (several may be combined).
//   correlated      default: AR(1) token rows with segment resets, outlier channels, shared offset
//   duplicates      some tokens repeat an earlier token of the window exactly (PAM ties)
//   zero_rows       some (not all) valid rows are all zero
//   extremes        heavy saturation: -128 and 127 in X and in the weights
//   identical_rows  every valid row is the same token (all followers with a large window)
//   distinct        independent rows, no shared offset (few or no followers)
std::vector<std::string> edge_kinds();

struct GenRequest {
  std::string config = "tiny";
  uint64_t seed = 1;
  std::string name;  // empty: derived from the request
  std::optional<int> L;
  std::optional<int> rho_milli, k;    // at most one of the two
  std::optional<int> tau_milli, T;    // at most one of the two
  std::optional<int> window, vote;
  bool causal = false;
  PredictFrom predict_from = PredictFrom::kProjected;
  std::vector<std::string> kinds;
  std::vector<std::string> extra_tags;
};

// Resolves the request's parameters (configuration defaults where not given). Throws
// GeneratorError naming the option (e.g. "--L must be in 1..16, got 17").
SplsParams resolve_params(const GenRequest& r, const HwConfig& cfg, std::optional<int>* rho_used,
                          std::optional<int>* tau_used);

// Generates inputs, runs the golden model, fills expected outputs, provenance and tags.
SplsCase generate_spls_case(const GenRequest& r);

// What a degenerate-input check may let through because an edge kind asked for it.
struct Allowance {
  bool zero_rows = false;       // some, not all, valid rows all zero
  bool identical_rows = false;  // all valid rows equal
};
// Throws GeneratorError if the inputs are degenerate: an all-zero or constant X (valid rows) or
// weight matrix, an all-zero valid row or all-identical valid rows unless allowed, wrong shapes.
void check_not_degenerate(const SplsCase& c, const Allowance& allow);

// Tags that describe what a case actually exercises, derived from its params and outputs:
// padding, k1, kL, causal, ties, zero_rows, extremes, no_followers, followers, all_followers,
// token_followers, default_params, generated_qk.
std::vector<std::string> derive_tags(const SplsCase& c);

// Builds a case from given inputs (e.g. real-model activations saved as .npy) and records the
// provenance; the inputs pass the same degenerate-input guard.
SplsCase case_from_inputs(const GenRequest& r, TensorI8 a, TensorI8 b, TensorI8 c,
                          const Json& provenance);

// The committed corpus: every case with the tags it must end up with.
struct CorpusEntry {
  GenRequest request;
  std::vector<std::string> must_have_tags;
};
std::vector<CorpusEntry> corpus_entries();

// Regenerates the corpus into out_dir (<config>/<name>/ per case) and writes manifest.json.
// Directories of cases listed in an existing manifest there are removed first. Throws if a case
// does not exhibit its must_have_tags. Progress lines go to log when given.
// Real-model cases (<config>/real_*/ in the committed corpus, default_corpus_dir(), tagged "real",
// written by `esact-eval export-vectors`) are carried over: their stored inputs and provenance are
// kept, their expected outputs recomputed by the golden model, and they are listed after the
// synthetic cases.
Manifest write_corpus(const std::string& out_dir, std::ostream* log = nullptr);

}  // namespace esact::vectors
