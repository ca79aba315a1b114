// esact-golden: runs the golden SPLS model alone and writes every intermediate as a NumPy .npy
// file, for golden-model comparison runs against other implementations (PyTorch, another RTL).
#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "esact/spls.h"
#include "esact/vectors/npy.h"
#include "esact/vectors/spls_case.h"

namespace ev = esact::vectors;
using namespace esact;

namespace {
const char* kUsage = R"(usage: esact-golden --case DIR --out DIR [overrides]
       esact-golden --inputs DIR --config NAME --L N --out DIR [overrides]

Runs the golden SPLS model (docs/spec.md Part I) and writes into --out, as .npy:
  x_codes (u1 [N,D], packed HLog codes {zero,sign,e[3],h}), q_hat, k_hat (i4 [N,D]),
  shifts (i4 [H,2]), q_scaled, k_scaled (i1 [N,D]), q_codes, k_codes (u1 [N,D]),
  pam (i4 [H,N,N]), topk_mask (u1 [H,N,N]), rep (i2 [H,N]), kv_needed (u1 [H,N]),
  token_rep (i2 [N]), and summary.json (parameters and counters).

Inputs:
  --case DIR            a vector case (vectors/FORMAT.md); its inputs and parameters
  --inputs DIR          x.npy, wq.npy, wk.npy (i1) or, with --predict-from generated_qk, q.npy, k.npy
  --config NAME         configuration for --inputs (configs/NAME.cfg)
  --L N                 valid tokens for --inputs
Overrides (default: the case's values, or the configuration's defaults):
  --k N | --rho-milli R     top-k
  --T N | --tau-milli T     similarity threshold
  --w N  --V N  --causal  --predict-from projected|generated_qk
  -h, --help
Exit status: 0 on success, 1 on bad input files, 2 on bad options.
)";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_int(const std::string& opt, const std::string& s) {
  int v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
    throw Usage(opt + ": expected an integer, got '" + s + "'");
  return v;
}

template <typename T>
void save(const std::string& dir, const char* name, const Tensor<T>& t) {
  ev::write_file_bytes(dir + "/" + name + ".npy", ev::encode_npy(t));
}

TensorU8 codes_of(const TensorI8& t) {
  TensorU8 c(t.shape);
  for (size_t i = 0; i < t.data.size(); ++i) c.data[i] = hlog_encode(t.data[i]).packed();
  return c;
}

int run(const std::vector<std::string>& args) {
  std::string case_dir, inputs, config, out;
  int L = -1, k = -1, T = -1, rho = -1, tau = -1, w = -1, V = -1;
  bool causal = false, causal_set = false;
  std::string predict;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= args.size()) throw Usage(a + ": missing value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--case") case_dir = val();
    else if (a == "--inputs") inputs = val();
    else if (a == "--config") config = val();
    else if (a == "--out") out = val();
    else if (a == "--L") L = parse_int(a, val());
    else if (a == "--k") k = parse_int(a, val());
    else if (a == "--T") T = parse_int(a, val());
    else if (a == "--rho-milli") rho = parse_int(a, val());
    else if (a == "--tau-milli") tau = parse_int(a, val());
    else if (a == "--w") w = parse_int(a, val());
    else if (a == "--V") V = parse_int(a, val());
    else if (a == "--causal") causal = causal_set = true;
    else if (a == "--predict-from") predict = val();
    else throw Usage("unknown option '" + a + "'");
  }
  if (out.empty()) throw Usage("--out DIR is required");
  if (case_dir.empty() == inputs.empty()) throw Usage("give exactly one of --case DIR and --inputs DIR");
  if (k >= 0 && rho >= 0) throw Usage("--k and --rho-milli exclude each other");
  if (T >= 0 && tau >= 0) throw Usage("--T and --tau-milli exclude each other");
  if (!predict.empty() && predict != "projected" && predict != "generated_qk")
    throw Usage("--predict-from: expected projected or generated_qk, got '" + predict + "'");

  HwConfig cfg;
  SplsParams p;
  TensorI8 a, b, c;
  if (!case_dir.empty()) {
    ev::SplsCase sc = ev::load_spls_case(case_dir);
    cfg = sc.config;
    p = sc.params;
    const bool projected = p.predict_from == PredictFrom::kProjected;
    a = projected ? sc.x : sc.q;
    b = projected ? sc.wq : sc.k;
    c = sc.wk;
    if (L >= 0) throw Usage("--L applies to --inputs only (a case fixes its valid length)");
  } else {
    if (config.empty()) throw Usage("--inputs needs --config NAME");
    if (L < 0) throw Usage("--inputs needs --L N");
    cfg = config_by_name(config);
    p = SplsParams::from_fractions(L, cfg.rho_milli, cfg.tau_milli, cfg.window, cfg.vote);
    if (predict == "generated_qk") p.predict_from = PredictFrom::kGeneratedQk;
    const bool projected = p.predict_from == PredictFrom::kProjected;
    auto load = [&](const char* name) {
      const std::string path = inputs + "/" + name + ".npy";
      return ev::npy_to_tensor<int8_t>(ev::read_npy(path), path);
    };
    a = load(projected ? "x" : "q");
    b = load(projected ? "wq" : "k");
    if (projected) c = load("wk");
  }
  if (!predict.empty()) p.predict_from = predict == "projected" ? PredictFrom::kProjected : PredictFrom::kGeneratedQk;
  // k first (it fixes what T's fraction is of), then T; spec sections 5 and 6.
  if (rho >= 0) p.k = SplsParams::from_fractions(p.L, rho, 0, 0, 1).k;
  if (k >= 0) p.k = k;
  if (tau >= 0) p.T = static_cast<int>((int64_t{tau} * p.k + 999) / 1000);
  if (T >= 0) p.T = T;
  if (w >= 0) p.w = w;
  if (V >= 0) p.V = V;
  if (causal_set) p.causal = causal;

  const SplsResult r = run_spls(cfg, p, a, b, c);  // validates shapes and parameters
  mkdir(out.c_str(), 0777);
  save(out, "x_codes", r.x_codes);
  save(out, "q_hat", r.q_hat);
  save(out, "k_hat", r.k_hat);
  save(out, "shifts", r.shifts);
  save(out, "q_scaled", r.q_scaled);
  save(out, "k_scaled", r.k_scaled);
  save(out, "q_codes", codes_of(r.q_scaled));
  save(out, "k_codes", codes_of(r.k_scaled));
  save(out, "pam", r.pam);
  save(out, "topk_mask", r.topk_mask);
  save(out, "rep", r.rep);
  save(out, "kv_needed", r.kv_needed);
  save(out, "token_rep", r.token_rep);
  ev::Json s = ev::Json::object();
  s.set("config", ev::Json(cfg.name));
  ev::Json pj = ev::Json::object();
  pj.set("L", ev::Json(p.L));
  pj.set("k", ev::Json(p.k));
  pj.set("T", ev::Json(p.T));
  pj.set("w", ev::Json(p.w));
  pj.set("V", ev::Json(p.V));
  pj.set("causal", ev::Json(p.causal));
  pj.set("predict_from", ev::Json(p.predict_from == PredictFrom::kProjected ? "projected" : "generated_qk"));
  s.set("params", pj);
  const SplsCounters& k2 = r.counters;
  s.set("pred_pairs", ev::Json(static_cast<long long>(k2.pred_pairs)));
  s.set("head_followers", ev::Json(static_cast<long long>(k2.head_followers)));
  s.set("token_followers", ev::Json(static_cast<long long>(k2.token_followers)));
  s.set("kv_rows_skipped", ev::Json(static_cast<long long>(k2.kv_rows_skipped)));
  s.set("macs_dense_total", ev::Json(static_cast<long long>(k2.dense.total())));
  s.set("macs_executed_total", ev::Json(static_cast<long long>(k2.executed.total())));
  s.set("mac_reduction", ev::Json(1.0 - double(k2.executed.total()) / double(k2.dense.total())));
  ev::write_file_bytes(out + "/summary.json", ev::dump_json(s));
  std::printf("esact-golden: %s L=%d k=%d T=%d w=%d V=%d: head followers %lld, token followers %lld, "
              "K/V rows skipped %lld, MAC reduction %.1f%%; 14 files in %s\n",
              cfg.name.c_str(), p.L, p.k, p.T, p.w, p.V, static_cast<long long>(k2.head_followers),
              static_cast<long long>(k2.token_followers), static_cast<long long>(k2.kv_rows_skipped),
              100.0 * (1.0 - double(k2.executed.total()) / double(k2.dense.total())), out.c_str());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const Usage& e) {
    std::fprintf(stderr, "esact-golden: %s\n(try esact-golden --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-golden: %s\n", e.what());
    return 1;
  }
}
