// esact-vecgen: generate SPLS test cases, regenerate the committed corpus, or check vector files.
//
//   esact-vecgen --config NAME --seed N --out DIR [options]     one case into DIR
//   esact-vecgen corpus --out DIR [--quiet]                    the whole committed corpus
//   esact-vecgen layer --config NAME --seed N --out DIR [options]   one encoder-layer case
//   esact-vecgen check PATH...                                 validate case dirs or manifests
//
// Exit status: 0 success, 1 refused or invalid input (message names file/field or option),
// 2 usage error.
#include <charconv>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "esact/vectors/generator.h"
#include "esact/vectors/layer_case.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/spls_case.h"

namespace ev = esact::vectors;
namespace fs = std::filesystem;

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage = R"(usage:
  esact-vecgen --config NAME --seed N --out DIR [options]
  esact-vecgen corpus --out DIR [--quiet]
  esact-vecgen layer --config NAME --seed N --out DIR [--mode M] [--L n] [--causal]
                     [--weights-seed S] [--weights DIR] [--name NAME] [--tag T]
  esact-vecgen check PATH...

Generate one SPLS case (case.json + .npy tensors, expected outputs from the golden model) into DIR.
  --config NAME          named configuration (configs/NAME.cfg)
  --seed N               PRNG seed, 0 .. 2^63-1 (same seed, same bytes)
  --out DIR              case directory to write
  --name NAME            case name (default: <kinds>_s<seed>)
  --L n                  valid tokens, 1..N (default N)
  --rho-milli r | --k k  top-k as a fraction in 1/1000 (default from the configuration) or absolute
  --tau-milli t | --T t  similarity threshold as a fraction of k in 1/1000, or absolute
  --window w             local-similarity window, 0..N-1
  --vote v               token vote, 1..H
  --causal               causal top-k (j <= i)
  --predict-from P       projected (default) or generated_qk
  --kind K[,K...]        edge kinds: correlated (default), duplicates, zero_rows, extremes,
                         identical_rows, distinct
  --tag T                extra tag for the case (repeatable)
  --inputs DIR           take the inputs from DIR/{x,wq,wk}.npy (or {q,k}.npy) instead of
                         generating them, e.g. real-model activations; needs --provenance
  --provenance TEXT      where the inputs come from (recorded in case.json)

layer:  one encoder-layer case (kind "layer", vectors/FORMAT.md): synthetic input X (--seed), the
        SPLS outputs and the expected layer output and intermediates from the golden model.
  --mode M               dense (default), esact, or a comma list of switches (skip_q, skip_kv,
                         topk_attn, reuse_attn, reuse_oproj, reuse_ffn)
  --weights-seed S       synthetic weights seed (default 1), written to --weights DIR
                         (default DIR/../layer_weights_s<S>; an existing identical set is reused)

corpus: regenerate the committed corpus (vectors/corpus) deterministically, with manifest.json.
check:  validate case directories or manifest.json files (every field, tensor and checksum).
)";

int64_t parse_int(const std::string& opt, const std::string& s, int64_t lo, int64_t hi) {
  int64_t v = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  const auto r = std::from_chars(first, last, v);
  if (s.empty() || r.ec != std::errc() || r.ptr != last) {
    throw UsageError(opt + ": expected an integer, got '" + s + "'");
  }
  if (v < lo || v > hi) {
    throw UsageError(opt + ": " + s + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return v;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int cmd_corpus(const std::vector<std::string>& args) {
  std::string out;
  bool quiet = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i] == "--quiet") {
      quiet = true;
    } else {
      throw UsageError("corpus: unexpected argument '" + args[i] + "'");
    }
  }
  if (out.empty()) throw UsageError("corpus: --out DIR is required");
  const ev::Manifest m = ev::write_corpus(out, quiet ? nullptr : &std::cout);
  std::cout << "wrote " << m.cases.size() << " cases and " << out << "/manifest.json\n";
  return 0;
}

int cmd_check(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("check: give at least one case directory or manifest.json");
  int cases = 0;
  for (const auto& path : args) {
    const bool is_manifest = fs::is_regular_file(path) || fs::exists(fs::path(path) / "manifest.json");
    if (is_manifest) {
      const ev::Manifest m = ev::read_manifest(path);
      for (const auto& e : m.cases) {
        if (e.kind == "layer") {
          const ev::LayerCase lc = ev::load_layer_case(m.case_dir(e));
          if (lc.config.name != e.config || lc.name != e.name)
            throw ev::VectorError(m.case_dir(e) + "/case.json", "name",
                                  "manifest lists " + e.config + "/" + e.name + ", case is " + lc.config.name + "/" + lc.name);
          ++cases;
          continue;
        }
        if (ev::case_kind(m.case_dir(e)) != "spls")
          throw ev::VectorError(m.case_dir(e) + "/case.json", "kind", "manifest lists this case as kind spls");
        const ev::SplsCase c = ev::load_spls_case(m.case_dir(e));
        if (c.config.name != e.config || c.name != e.name) {
          throw ev::VectorError(m.case_dir(e) + "/case.json", "name",
                                "manifest lists " + e.config + "/" + e.name + ", case is " + c.config.name + "/" + c.name);
        }
        ++cases;
      }
    } else {
      if (ev::case_kind(path) == "layer") ev::load_layer_case(path);
      else ev::load_spls_case(path);
      ++cases;
    }
  }
  std::cout << "ok: " << cases << " case(s) valid\n";
  return 0;
}

esact::TensorI8 load_input(const std::string& dir, const char* name) {
  const std::string path = dir + "/" + name + ".npy";
  return ev::npy_to_tensor<int8_t>(ev::read_npy(path), path);
}

int cmd_generate(const std::vector<std::string>& args) {
  ev::GenRequest r;
  std::string out, inputs, provenance;
  bool have_config = false, have_seed = false;
  auto value = [&](size_t& i) -> const std::string& {
    if (i + 1 >= args.size()) throw UsageError(args[i] + ": missing value");
    return args[++i];
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config") { r.config = value(i); have_config = true; }
    else if (a == "--seed") { r.seed = static_cast<uint64_t>(parse_int(a, value(i), 0, INT64_MAX)); have_seed = true; }
    else if (a == "--out") out = value(i);
    else if (a == "--name") r.name = value(i);
    else if (a == "--L") r.L = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--rho-milli") r.rho_milli = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--k") r.k = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--tau-milli") r.tau_milli = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--T") r.T = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--window") r.window = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--vote") r.vote = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--causal") r.causal = true;
    else if (a == "--predict-from") {
      const std::string& v = value(i);
      if (v == "projected") r.predict_from = esact::PredictFrom::kProjected;
      else if (v == "generated_qk") r.predict_from = esact::PredictFrom::kGeneratedQk;
      else throw UsageError("--predict-from: expected projected or generated_qk, got '" + v + "'");
    } else if (a == "--kind") {
      for (auto& k : split_commas(value(i))) r.kinds.push_back(k);
    } else if (a == "--tag") r.extra_tags.push_back(value(i));
    else if (a == "--inputs") inputs = value(i);
    else if (a == "--provenance") provenance = value(i);
    else throw UsageError("unknown option '" + a + "'");
  }
  if (!have_config) throw UsageError("--config NAME is required");
  if (!have_seed) throw UsageError("--seed N is required");
  if (out.empty()) throw UsageError("--out DIR is required");

  ev::SplsCase c;
  if (inputs.empty()) {
    if (!provenance.empty()) throw UsageError("--provenance is only for --inputs (generated cases record their own)");
    c = ev::generate_spls_case(r);
  } else {
    if (provenance.empty()) throw UsageError("--inputs needs --provenance TEXT (where the tensors come from)");
    const bool projected = r.predict_from == esact::PredictFrom::kProjected;
    esact::TensorI8 a = load_input(inputs, projected ? "x" : "q");
    esact::TensorI8 b = load_input(inputs, projected ? "wq" : "k");
    esact::TensorI8 w = projected ? load_input(inputs, "wk") : esact::TensorI8{};
    c = ev::case_from_inputs(r, std::move(a), std::move(b), std::move(w), ev::Json(provenance));
  }
  ev::write_spls_case(c, out);
  std::cout << out << ": " << c.config.name << " L=" << c.params.L << " k=" << c.params.k << " T=" << c.params.T
            << " w=" << c.params.w << " V=" << c.params.V << " head_followers=" << c.expected.counters.head_followers
            << " token_followers=" << c.expected.counters.token_followers << " tags=";
  for (size_t i = 0; i < c.tags.size(); ++i) std::cout << (i ? "," : "") << c.tags[i];
  std::cout << "\n";
  return 0;
}

int cmd_layer(const std::vector<std::string>& args) {
  ev::LayerGenRequest r;
  std::string out, wdir;
  bool have_config = false, have_seed = false;
  auto value = [&](size_t& i) -> const std::string& {
    if (i + 1 >= args.size()) throw UsageError(args[i] + ": missing value");
    return args[++i];
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config") { r.config = value(i); have_config = true; }
    else if (a == "--seed") { r.seed = static_cast<uint64_t>(parse_int(a, value(i), 0, INT64_MAX)); have_seed = true; }
    else if (a == "--weights-seed") r.weights_seed = static_cast<uint64_t>(parse_int(a, value(i), 0, INT64_MAX));
    else if (a == "--weights") wdir = value(i);
    else if (a == "--out") out = value(i);
    else if (a == "--name") r.name = value(i);
    else if (a == "--L") r.L = static_cast<int>(parse_int(a, value(i), INT32_MIN, INT32_MAX));
    else if (a == "--causal") r.causal = true;
    else if (a == "--mode") {
      try {
        r.sw = ev::parse_switches(value(i));
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--mode: ") + e.what());
      }
    } else if (a == "--tag") r.extra_tags.push_back(value(i));
    else throw UsageError("layer: unknown option '" + a + "'");
  }
  if (!have_config) throw UsageError("layer: --config NAME is required");
  if (!have_seed) throw UsageError("layer: --seed N is required");
  if (out.empty()) throw UsageError("layer: --out DIR is required");
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (wdir.empty()) wdir = (fs::path(out).parent_path() / ("layer_weights_s" + std::to_string(r.weights_seed))).string();
  ev::LayerWeightsSet w = ev::synthetic_layer_weights(r.config, r.weights_seed);
  const std::string wsha = ev::write_layer_weights(w, wdir);
  fs::create_directories(out);
  const std::string rel = fs::relative(fs::absolute(wdir), fs::absolute(out)).string();
  const ev::LayerCase c = ev::generate_layer_case(r, w, rel, wsha);
  ev::write_layer_case(c, out);
  std::cout << out << ": layer " << c.config.name << " L=" << c.params.L << " mode " << ev::switches_name(c.sw)
            << " MACs " << c.expected.executed.total() << " of " << c.expected.dense.total() << " (weights " << wdir
            << ") tags=";
  for (size_t i = 0; i < c.tags.size(); ++i) std::cout << (i ? "," : "") << c.tags[i];
  std::cout << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
      std::cout << kUsage;
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "corpus") return cmd_corpus({args.begin() + 1, args.end()});
    if (args[0] == "layer") return cmd_layer({args.begin() + 1, args.end()});
    if (args[0] == "check") return cmd_check({args.begin() + 1, args.end()});
    return cmd_generate(args);
  } catch (const UsageError& e) {
    std::cerr << "esact-vecgen: " << e.what() << "\n(run esact-vecgen --help for usage)\n";
    return 2;
  } catch (const ev::VectorError& e) {
    std::cerr << "esact-vecgen: " << e.what() << "\n";
    return 1;
  } catch (const ev::GeneratorError& e) {
    std::cerr << "esact-vecgen: refused: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "esact-vecgen: error: " << e.what() << "\n";
    return 1;
  }
}
