// SPLS test cases on disk (vectors/FORMAT.md): a directory with case.json and one .npy per tensor,
// and the corpus manifest that lists such directories.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/spls.h"
#include "esact/tensor.h"
#include "esact/vectors/error.h"
#include "esact/vectors/json.h"
#include "esact/vectors/npy.h"

namespace esact::vectors {

inline constexpr const char* kFormatName = "esact-vectors";
inline constexpr int kFormatVersion = 1;
inline constexpr const char* kManifestFormatName = "esact-vectors-manifest";

struct SplsCase {
  std::string name;
  std::string dir;  // where it was loaded from (empty for a case built in memory)
  HwConfig config;
  SplsParams params;
  // The fractions k and T were derived from, when the case was specified that way.
  std::optional<int> rho_milli, tau_milli;
  uint64_t seed = 0;  // at most 2^63 - 1 (a JSON integer every reader keeps exact)
  std::string generator_name = "esact-vecgen";
  std::string generator_version;
  Json provenance;  // a string or an object (e.g. real-model source: model, sentence, layer)
  std::vector<std::string> tags;

  // Inputs. kProjected: x [N,D], wq [D,D], wk [D,D]. kGeneratedQk: q [N,D], k [N,D].
  TensorI8 x, wq, wk, q, k;
  // Expected outputs of esact::run_spls (every tensor and the counters).
  SplsResult expected;
};

// Runs the golden model on the case's inputs, with the right arguments for its predict_from.
SplsResult run_golden(const SplsCase& c);

// Loads and validates a case directory: case.json fields and types, format and version, the named
// configuration (known, and N/D/H/F/LANES equal to configs/), params (legal for the configuration,
// and k/T consistent with rho_milli/tau_milli when given), every tensor present with the right
// dtype, shape and SHA-256, and the expected tensors consistent with each other and with the summary.
// Throws VectorError naming the file and the field.
// lanes_record_only: LANES (the prediction array's throughput, read by no golden computation) may
// differ from the configuration's; the loaded case takes the configuration's. Used by the corpus
// generator to carry frozen real-model cases over a LANES change (vectors/FORMAT.md).
SplsCase load_spls_case(const std::string& case_dir, bool lanes_record_only = false);

// Writes case.json and the .npy files into case_dir (created if needed). Returns the SHA-256 of
// the case.json written. Throws VectorError on I/O errors, std::invalid_argument on a bad case.
std::string write_spls_case(const SplsCase& c, const std::string& case_dir);

// The whole case.json document for c (with the checksums of the tensors as encoded).
Json spls_case_json(const SplsCase& c);

// ---- Manifest ----------------------------------------------------------------------------------
struct ManifestEntry {
  std::string path;  // case directory, relative to the manifest's directory
  std::string config;
  std::string name;
  std::vector<std::string> tags;
  std::string case_json_sha256;
  std::string kind = "spls";  // "spls" or "layer"; written to manifest.json only when not "spls"
};

struct Manifest {
  std::string dir;  // directory holding manifest.json (set by read_manifest)
  std::string generator_name, generator_version;
  std::vector<ManifestEntry> cases;
  std::string case_dir(const ManifestEntry& e) const { return dir + "/" + e.path; }
};

// Reads manifest.json (a path to the file or to its directory), checks its fields and, when
// verify_checksums, that every listed case.json exists and has the listed SHA-256.
Manifest read_manifest(const std::string& path, bool verify_checksums = true);
void write_manifest(const Manifest& m, const std::string& manifest_path);

// Directory of the committed corpus (ESACT_CORPUS_DIR overrides the compiled-in source path).
std::string default_corpus_dir();

}  // namespace esact::vectors
