// Encoder-layer test cases on disk (vectors/FORMAT.md, kind "layer"): a case directory with
// case.json, the layer input, the SPLS outputs that drive ESACT mode and the expected layer output and
// intermediates; the weights live in a separate weights directory (kind "layer_weights") that several
// cases share, referenced by relative path and pinned by the SHA-256 of its weights.json.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/layer.h"
#include "esact/spls.h"
#include "esact/tensor.h"
#include "esact/vectors/json.h"

namespace esact::vectors {

// One layer's weights, biases and quantisation parameters (docs/spec.md section 15).
struct LayerWeightsSet {
  std::string name;
  std::string dir;  // where it was loaded from
  HwConfig config;
  uint64_t seed = 0;
  std::string generator_name = "esact-vecgen";
  std::string generator_version;
  Json provenance;
  LayerWeights weights;
};

struct LayerCase {
  std::string name;
  std::string dir;
  HwConfig config;
  SplsParams params;  // predict_from is always projected (the SPLS inputs are x, W_Q, W_K)
  std::optional<int> rho_milli, tau_milli;
  LayerSwitches sw;
  uint64_t seed = 0;
  std::string generator_name = "esact-vecgen";
  std::string generator_version;
  Json provenance;
  std::vector<std::string> tags;
  std::string weights_path;    // relative to the case directory, e.g. "../layer_weights_s1"
  std::string weights_sha256;  // of weights.json
  LayerWeightsSet weights;     // filled by the loader (and needed by the writer for the summary)
  TensorI8 x;                  // [N, D] input (INT8: QKV and SPLS operand)
  TensorI16 xr;                // [N, D] input (INT16 at the residual-1 scale: the residual-1 skip operand)
  // SPLS outputs driving the switches (ESACT mode only): topk_mask, rep, kv_needed, token_rep.
  SplsResult spls;
  // Expected: q, k, v, attn, oproj, ln1, ln1r, ffn_hidden, ffn_out, out, out_r, and the MAC counters.
  LayerResult expected;
};

// "dense", "esact", or the one switch that is on ("skip_q", ...); "custom" otherwise.
std::string switches_name(const LayerSwitches& sw);
// Parses "dense", "esact" or a comma list of switch names. Throws std::invalid_argument.
LayerSwitches parse_switches(const std::string& text);

// Writes weights.json and the .npy files. Returns the SHA-256 of weights.json.
std::string write_layer_weights(const LayerWeightsSet& w, const std::string& dir);
LayerWeightsSet load_layer_weights(const std::string& dir);

// Writes case.json and tensors (the weights directory must exist at dir/weights_path with the
// given checksum). Returns the SHA-256 of case.json.
std::string write_layer_case(const LayerCase& c, const std::string& case_dir);
// Loads and validates the case and its weights: fields, configuration, params, switches, the weights
// checksum, every tensor's dtype/shape/SHA-256, structural rules (padding rows zero, SPLS tensors
// legal, slices that are not computed are zero) and the MAC summary against a recount. Throws
// VectorError naming the file and field.
LayerCase load_layer_case(const std::string& case_dir);

// The golden model on the case's inputs: SPLS (when a switch is on) and run_layer.
struct LayerGolden {
  SplsResult spls;
  LayerResult layer;
};
LayerGolden run_layer_golden(const LayerCase& c);
// Empty when the stored expectation equals a fresh golden run, else the first difference.
std::string layer_drift(const LayerCase& c, const LayerGolden& g);

// The "kind" of the case.json in case_dir ("spls" or "layer"). Throws VectorError.
std::string case_kind(const std::string& case_dir);

// ---- Generation -------------------------------------------------------------------------------
struct LayerGenRequest {
  std::string config = "tiny";
  uint64_t seed = 1;          // input X
  uint64_t weights_seed = 1;  // make_synthetic_weights
  std::optional<int> L;
  bool causal = false;
  LayerSwitches sw;
  std::string name;  // empty: <mode>_s<seed>
  std::vector<std::string> extra_tags;
};
LayerWeightsSet synthetic_layer_weights(const std::string& config, uint64_t weights_seed);
// Builds the case for given weights (already written at weights_path with weights_sha256).
LayerCase generate_layer_case(const LayerGenRequest& r, const LayerWeightsSet& w, const std::string& weights_path,
                              const std::string& weights_sha256);
// A case from given inputs (e.g. a real sentence's INT8 layer input and quantised real weights):
// SPLS with the given params, the golden layer, tags; the provenance is recorded as given.
LayerCase layer_case_from_inputs(const std::string& name, const SplsParams& p, std::optional<int> rho_milli,
                                 std::optional<int> tau_milli, const LayerSwitches& sw, const TensorI8& x,
                                 const TensorI16& xr, const LayerWeightsSet& w, const std::string& weights_path,
                                 const std::string& weights_sha256, const Json& provenance,
                                 const std::vector<std::string>& extra_tags);
// Real-model layer cases of a corpus (<config>/layer_real_*/, tagged "real", e.g. written by
// `esact-eval export-vectors --layer-cases`): inputs, weights and provenance are frozen data; the
// corpus writer keeps them and recomputes the expected tensors with the golden model.
std::vector<LayerCase> load_real_layer_cases(const std::string& corpus_dir);

// Tags derived from the case: layer, the mode (dense / esact / the single switch), padding, causal,
// followers, token_followers.
std::vector<std::string> derive_layer_tags(const LayerCase& c);

// The layer cases of the committed corpus (written by write_corpus after the SPLS cases).
struct LayerCorpusEntry {
  LayerGenRequest request;
  std::vector<std::string> must_have_tags;
};
std::vector<LayerCorpusEntry> layer_corpus_entries();

}  // namespace esact::vectors
