// Synthetic SPLS cases that look like transformer activations, and the committed corpus.
//
// Everything here is integer arithmetic on a seeded xoshiro256** stream, so a request produces the
// same bytes on every machine and compiler (no <random> distributions, no floating point).
#include "esact/vectors/generator.h"

#include <map>

#include "esact/vectors/layer_case.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "esact/spls.h"

namespace esact::vectors {
namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------------------
// PRNG
// ------------------------------------------------------------------------------------------------
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint32_t Rng::below(uint32_t n) {
  if (n == 0) throw std::invalid_argument("Rng::below(0)");
  // Rejection sampling on the top 32 bits: unbiased for every n.
  const uint32_t threshold = static_cast<uint32_t>((uint64_t{1} << 32) % n);
  while (true) {
    const auto x = static_cast<uint32_t>(next() >> 32);
    if (x >= threshold) return x % n;
  }
}

int32_t Rng::range(int32_t lo, int32_t hi) {
  return lo + static_cast<int32_t>(below(static_cast<uint32_t>(hi - lo + 1)));
}

bool Rng::chance(uint32_t num, uint32_t den) { return below(den) < num; }

int32_t Rng::gaussian_q16() {
  int64_t sum = 0;
  for (int i = 0; i < 12; ++i) sum += static_cast<int64_t>(next() >> 48);
  return static_cast<int32_t>(sum - 12 * 32768);
}

// ------------------------------------------------------------------------------------------------
// Activation and weight models
// ------------------------------------------------------------------------------------------------
namespace {

// Round-half-up of v / 2^s with a floor that does not depend on how >> treats negatives.
int64_t round_shift(int64_t v, int s) {
  const int64_t half = int64_t{1} << (s - 1);
  const int64_t num = v + half;
  const int64_t den = int64_t{1} << s;
  return num >= 0 ? num / den : -((-num + den - 1) / den);
}

int8_t sat8(int64_t v) { return static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127)); }

// AR(1) coefficient a = 0.92 and innovation gain sqrt(1 - a^2), both in Q16 (a^2 + b^2 ~ 1).
constexpr int64_t kArA = 60293;
constexpr int64_t kArB = 25690;

struct Kinds {
  bool duplicates = false, zero_rows = false, extremes = false, identical_rows = false, distinct = false;
};

Kinds parse_kinds(const std::vector<std::string>& names) {
  Kinds k;
  for (const auto& n : names) {
    if (n == "correlated") continue;
    else if (n == "duplicates") k.duplicates = true;
    else if (n == "zero_rows") k.zero_rows = true;
    else if (n == "extremes") k.extremes = true;
    else if (n == "identical_rows") k.identical_rows = true;
    else if (n == "distinct") k.distinct = true;
    else {
      std::string known;
      for (const auto& e : edge_kinds()) known += (known.empty() ? "" : ", ") + e;
      throw GeneratorError("--kind: unknown edge kind '" + n + "' (known: " + known + ")");
    }
  }
  if (k.identical_rows && (k.distinct || k.duplicates)) {
    throw GeneratorError("--kind: identical_rows cannot be combined with distinct or duplicates");
  }
  return k;
}

// Token activations [N, D]: per-channel scale and offset, a few outlier channels, rows following
// an AR(1) process over tokens with occasional segment resets (sentence/phrase boundaries).
TensorI8 activations(Rng& rng, int N, int D, const Kinds& kinds) {
  std::vector<int64_t> scale(static_cast<size_t>(D)), mean(static_cast<size_t>(D));
  for (int d = 0; d < D; ++d) {
    scale[static_cast<size_t>(d)] = rng.range(12, 28);
    mean[static_cast<size_t>(d)] = kinds.distinct ? 0 : round_shift(int64_t{rng.gaussian_q16()} * 10, 16);
  }
  const int outliers = std::max(1, D / 24);
  for (int o = 0; o < outliers; ++o) {
    const auto d = static_cast<size_t>(rng.below(static_cast<uint32_t>(D)));
    scale[d] = rng.range(60, 110);
    if (!kinds.distinct) mean[d] = rng.chance(1, 2) ? rng.range(20, 50) : -rng.range(20, 50);
  }
  if (kinds.extremes) {
    for (auto& s : scale) s *= 3;
  }
  TensorI8 x({N, D});
  std::vector<int64_t> z(static_cast<size_t>(D), 0);
  for (int i = 0; i < N; ++i) {
    const bool reset = i == 0 || kinds.distinct || rng.chance(1, 7);
    for (int d = 0; d < D; ++d) {
      const int64_t g = rng.gaussian_q16();
      int64_t& zd = z[static_cast<size_t>(d)];
      zd = reset ? g : round_shift(kArA * zd + kArB * g, 16);
      x(i, d) = sat8(mean[static_cast<size_t>(d)] + round_shift(scale[static_cast<size_t>(d)] * zd, 16));
    }
  }
  return x;
}

// Weights [D, D] (y = x W): roughly Gaussian INT8 with a per-output-column scale.
TensorI8 weights(Rng& rng, int D, bool extremes) {
  std::vector<int64_t> sigma(static_cast<size_t>(D));
  for (auto& s : sigma) s = rng.range(8, 40) * (extremes ? 4 : 1);
  TensorI8 w({D, D});
  for (int d = 0; d < D; ++d) {
    for (int c = 0; c < D; ++c) w(d, c) = sat8(round_shift(int64_t{rng.gaussian_q16()} * sigma[static_cast<size_t>(c)], 16));
  }
  return w;
}

// Plants both INT8 extremes at random positions of rows [0, rows).
void plant_extremes(Rng& rng, TensorI8& t, int rows) {
  const int cols = static_cast<int>(t.shape[1]);
  const int count = std::max(2, rows * cols / 64);
  for (int n = 0; n < count; ++n) {
    const int i = rng.range(0, rows - 1), d = rng.range(0, cols - 1);
    t(i, d) = n % 2 == 0 ? int8_t{-128} : int8_t{127};
  }
}

// Edge-kind shaping of a token tensor; L = valid rows.
void apply_kinds(Rng& rng, TensorI8& x, int L, const Kinds& kinds) {
  const int D = static_cast<int>(x.shape[1]);
  auto copy_row = [&](int dst, int src) {
    for (int d = 0; d < D; ++d) x(dst, d) = x(src, d);
  };
  if (kinds.duplicates) {
    // Repeated tokens: identical K rows give identical PAM columns, hence top-k ties.
    for (int i = 1; i < L; ++i) {
      if (rng.chance(2, 5)) copy_row(i, i - 1 - static_cast<int>(rng.below(static_cast<uint32_t>(std::min(i, 3)))));
    }
  }
  if (kinds.identical_rows) {
    for (int i = 1; i < L; ++i) copy_row(i, 0);
  }
  if (kinds.extremes) plant_extremes(rng, x, L);
  if (kinds.zero_rows) {
    if (L < 2) throw GeneratorError("--kind zero_rows needs L >= 2 (some rows zero, not all)");
    const int count = std::max(1, L / 4);
    std::vector<int> rows(static_cast<size_t>(L));
    for (int i = 0; i < L; ++i) rows[static_cast<size_t>(i)] = i;
    for (int n = 0; n < count; ++n) {  // partial Fisher-Yates: `count` distinct rows
      const int j = n + static_cast<int>(rng.below(static_cast<uint32_t>(L - n)));
      std::swap(rows[static_cast<size_t>(n)], rows[static_cast<size_t>(j)]);
      for (int d = 0; d < D; ++d) x(rows[static_cast<size_t>(n)], d) = 0;
    }
  }
}

std::string kinds_label(const std::vector<std::string>& kinds) {
  std::string s;
  for (const auto& k : kinds) s += (s.empty() ? "" : ",") + k;
  return s.empty() ? "correlated" : s;
}

void check_matrix(const TensorI8& t, int rows, const char* name, const Allowance& allow, bool token_rows) {
  const int64_t cols = t.shape[1];
  bool all_zero = true, constant = true, all_rows_equal = true;
  const int8_t first = t.data.empty() ? 0 : t.data[0];
  int first_zero_row = -1;
  for (int i = 0; i < rows; ++i) {
    bool row_zero = true;
    for (int64_t d = 0; d < cols; ++d) {
      const int8_t v = t(i, d);
      all_zero = all_zero && v == 0;
      constant = constant && v == first;
      row_zero = row_zero && v == 0;
      all_rows_equal = all_rows_equal && v == t(0, d);
    }
    if (row_zero && first_zero_row < 0) first_zero_row = i;
  }
  // Whole-tensor rules first: they say more than "row 0 is zero".
  const std::string where = std::string(name) + (token_rows ? " (valid rows)" : "");
  if (all_zero) throw GeneratorError("degenerate input: " + where + " is all zero");
  if (constant) throw GeneratorError("degenerate input: " + where + " is constant (" + std::to_string(first) + ")");
  if (token_rows && first_zero_row >= 0 && !allow.zero_rows) {
    throw GeneratorError(std::string("degenerate input: ") + name + " row " + std::to_string(first_zero_row) +
                         " is all zero (ask for --kind zero_rows if intended)");
  }
  if (token_rows && rows > 1 && all_rows_equal && !allow.identical_rows) {
    throw GeneratorError("degenerate input: all " + std::to_string(rows) + " valid rows of " + name +
                         " are identical (ask for --kind identical_rows if intended)");
  }
}

void check_shape(const TensorI8& t, int64_t r, int64_t c, const char* name) {
  if (t.shape != std::vector<int64_t>{r, c}) {
    throw GeneratorError(std::string("input ") + name + ": shape " + shape_str(t.shape) + ", expected " +
                         shape_str({r, c}));
  }
}

}  // namespace

std::vector<std::string> edge_kinds() {
  return {"correlated", "duplicates", "zero_rows", "extremes", "identical_rows", "distinct"};
}

SplsParams resolve_params(const GenRequest& r, const HwConfig& cfg, std::optional<int>* rho_used,
                          std::optional<int>* tau_used) {
  auto range_error = [](const char* opt, int lo, int hi, int got) {
    return GeneratorError(std::string(opt) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                          ", got " + std::to_string(got));
  };
  const int L = r.L.value_or(cfg.N);
  if (L < 1 || L > cfg.N) throw range_error("--L", 1, cfg.N, L);
  if (r.rho_milli && r.k) throw GeneratorError("give --rho-milli or --k, not both");
  if (r.tau_milli && r.T) throw GeneratorError("give --tau-milli or --T, not both");
  if (r.rho_milli && (*r.rho_milli < 0 || *r.rho_milli > 1000)) throw range_error("--rho-milli", 0, 1000, *r.rho_milli);
  if (r.tau_milli && (*r.tau_milli < 0 || *r.tau_milli > 1000)) throw range_error("--tau-milli", 0, 1000, *r.tau_milli);
  if (r.k && *r.k < 1) throw GeneratorError("--k must be >= 1, got " + std::to_string(*r.k));
  const int w = r.window.value_or(cfg.window), V = r.vote.value_or(cfg.vote);
  if (w < 0 || w > cfg.N - 1) throw range_error("--window", 0, cfg.N - 1, w);
  if (V < 1 || V > cfg.H) throw range_error("--vote", 1, cfg.H, V);

  rho_used->reset();
  tau_used->reset();
  SplsParams p;
  if (r.k) {
    p = SplsParams::from_fractions(L, 0, 0, w, V, r.causal);
    p.k = std::min(*r.k, L);  // spec section 5: an absolute k is clamped to L
  } else {
    *rho_used = r.rho_milli.value_or(cfg.rho_milli);
    p = SplsParams::from_fractions(L, **rho_used, 0, w, V, r.causal);
  }
  if (r.T) {
    if (*r.T < 0 || *r.T > p.k) throw range_error("--T", 0, p.k, *r.T);
    p.T = *r.T;
  } else {
    *tau_used = r.tau_milli.value_or(cfg.tau_milli);
    p.T = static_cast<int>((int64_t{**tau_used} * p.k + 999) / 1000);
  }
  p.predict_from = r.predict_from;
  try {
    p.validate(cfg);
  } catch (const std::invalid_argument& e) {
    throw GeneratorError(e.what());
  }
  return p;
}

void check_not_degenerate(const SplsCase& c, const Allowance& allow) {
  const int N = c.config.N, D = c.config.D, L = c.params.L;
  if (L < 1 || L > N) throw GeneratorError("L must be in 1.." + std::to_string(N) + ", got " + std::to_string(L));
  if (c.params.predict_from == PredictFrom::kProjected) {
    check_shape(c.x, N, D, "x");
    check_shape(c.wq, D, D, "wq");
    check_shape(c.wk, D, D, "wk");
    check_matrix(c.x, L, "x", allow, true);
    check_matrix(c.wq, D, "wq", allow, false);
    check_matrix(c.wk, D, "wk", allow, false);
  } else {
    check_shape(c.q, N, D, "q");
    check_shape(c.k, N, D, "k");
    check_matrix(c.q, L, "q", allow, true);
    check_matrix(c.k, L, "k", allow, true);
  }
}

std::vector<std::string> derive_tags(const SplsCase& c) {
  const HwConfig& cfg = c.config;
  const SplsParams& p = c.params;
  const SplsResult& r = c.expected;
  const int L = p.L, N = cfg.N, H = cfg.H;
  std::vector<std::string> tags;
  if (L < N) tags.push_back("padding");
  if (p.k == 1) tags.push_back("k1");
  if (p.k == L) tags.push_back("kL");
  if (p.causal) tags.push_back("causal");
  // A tie at the top-k boundary: the smallest kept value equals the largest dropped candidate.
  bool ties = false;
  for (int h = 0; h < H && !ties; ++h) {
    for (int i = 0; i < L && !ties; ++i) {
      const int candidates = p.causal ? i + 1 : L;
      int64_t min_kept = INT64_MAX, max_dropped = INT64_MIN;
      for (int j = 0; j < candidates; ++j) {
        const int64_t v = r.pam(h, i, j);
        if (r.topk_mask(h, i, j)) min_kept = std::min(min_kept, v);
        else max_dropped = std::max(max_dropped, v);
      }
      ties = max_dropped != INT64_MIN && min_kept == max_dropped;
    }
  }
  if (ties) tags.push_back("ties");
  const TensorI8& a = p.predict_from == PredictFrom::kProjected ? c.x : c.q;
  bool zero_row = false, has_min = false, has_max = false;
  for (int i = 0; i < L; ++i) {
    bool row_zero = true;
    for (int64_t d = 0; d < a.shape[1]; ++d) {
      row_zero = row_zero && a(i, d) == 0;
      has_min = has_min || a(i, d) == -128;
      has_max = has_max || a(i, d) == 127;
    }
    zero_row = zero_row || row_zero;
  }
  if (zero_row) tags.push_back("zero_rows");
  if (has_min && has_max) tags.push_back("extremes");
  const int64_t followers = r.counters.head_followers;
  if (followers == 0) tags.push_back("no_followers");
  if (followers > 0) tags.push_back("followers");
  if (L > 1 && followers == int64_t{H} * (L - 1)) tags.push_back("all_followers");
  if (r.counters.token_followers > 0) tags.push_back("token_followers");
  if (L == N && c.rho_milli == cfg.rho_milli && c.tau_milli == cfg.tau_milli && p.w == cfg.window &&
      p.V == cfg.vote && !p.causal && p.predict_from == PredictFrom::kProjected) {
    tags.push_back("default_params");
  }
  if (p.predict_from == PredictFrom::kGeneratedQk) tags.push_back("generated_qk");
  return tags;
}

namespace {

HwConfig config_for(const GenRequest& r) {
  try {
    return config_by_name(r.config);
  } catch (const std::invalid_argument& e) {
    throw GeneratorError(std::string("--config: ") + e.what());
  }
}

void finish_case(SplsCase& c, const GenRequest& r, const Allowance& allow) {
  check_not_degenerate(c, allow);
  c.expected = run_golden(c);
  c.tags = derive_tags(c);
  for (const auto& t : r.extra_tags) {
    if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end()) c.tags.push_back(t);
  }
}

}  // namespace

SplsCase generate_spls_case(const GenRequest& r) {
  SplsCase c;
  c.config = config_for(r);
  c.params = resolve_params(r, c.config, &c.rho_milli, &c.tau_milli);
  if (r.seed > static_cast<uint64_t>(INT64_MAX)) throw GeneratorError("--seed must be < 2^63");
  const Kinds kinds = parse_kinds(r.kinds);
  c.seed = r.seed;
  c.generator_name = kGeneratorName;
  c.generator_version = kGeneratorVersion;
  c.name = r.name.empty() ? kinds_label(r.kinds) + "_s" + std::to_string(r.seed) : r.name;
  for (char& ch : c.name) ch = ch == ',' ? '+' : ch;
  const int N = c.config.N, D = c.config.D, L = c.params.L;

  Rng rng(r.seed);
  if (c.params.predict_from == PredictFrom::kProjected) {
    c.x = activations(rng, N, D, kinds);
    apply_kinds(rng, c.x, L, kinds);
    c.wq = weights(rng, D, kinds.extremes);
    c.wk = weights(rng, D, kinds.extremes);
    if (kinds.extremes) {
      plant_extremes(rng, c.wq, D);
      plant_extremes(rng, c.wk, D);
    }
  } else {
    c.q = activations(rng, N, D, kinds);
    apply_kinds(rng, c.q, L, kinds);
    c.k = activations(rng, N, D, kinds);
    apply_kinds(rng, c.k, L, kinds);
  }
  c.provenance = Json(
      std::string("synthetic: ") + kGeneratorName + " " + kGeneratorVersion + ", seed " + std::to_string(r.seed) +
      ", kinds [" + kinds_label(r.kinds) +
      "]; token rows = AR(1) over tokens (a = 0.92) with segment resets (p = 1/7), per-channel scale "
      "12..28 and shared offset, D/24 outlier channels (scale 60..110), saturated to INT8; weights "
      "Gaussian INT8 with per-column sigma 8..40 (Irwin-Hall normals from xoshiro256**)");
  finish_case(c, r, Allowance{kinds.zero_rows, kinds.identical_rows});
  return c;
}

SplsCase case_from_inputs(const GenRequest& r, TensorI8 a, TensorI8 b, TensorI8 w, const Json& provenance) {
  SplsCase c;
  c.config = config_for(r);
  c.params = resolve_params(r, c.config, &c.rho_milli, &c.tau_milli);
  const Kinds kinds = parse_kinds(r.kinds);
  c.seed = r.seed;
  c.generator_name = kGeneratorName;
  c.generator_version = kGeneratorVersion;
  c.name = r.name.empty() ? "inputs_s" + std::to_string(r.seed) : r.name;
  if (c.params.predict_from == PredictFrom::kProjected) {
    c.x = std::move(a);
    c.wq = std::move(b);
    c.wk = std::move(w);
  } else {
    c.q = std::move(a);
    c.k = std::move(b);
  }
  c.provenance = provenance;
  finish_case(c, r, Allowance{kinds.zero_rows, kinds.identical_rows});
  return c;
}

// ------------------------------------------------------------------------------------------------
// The committed corpus
// ------------------------------------------------------------------------------------------------
std::vector<CorpusEntry> corpus_entries() {
  std::vector<CorpusEntry> out;
  auto add = [&](const std::string& config, const std::string& name, uint64_t seed,
                 std::vector<std::string> must, auto&& setup) {
    CorpusEntry e;
    e.request.config = config;
    e.request.name = name;
    e.request.seed = seed;
    setup(e.request);
    e.must_have_tags = std::move(must);
    out.push_back(std::move(e));
  };
  auto none = [](GenRequest&) {};

  // ---- tiny (N=16, D=32, H=2) ----
  for (uint64_t s = 1; s <= 6; ++s) {
    add("tiny", "default_s" + std::to_string(s), 100 + s, {"default_params", "followers"}, none);
  }
  add("tiny", "pad_l9", 201, {"padding"}, [](GenRequest& r) { r.L = 9; });
  add("tiny", "pad_l1", 202, {"padding", "k1", "kL", "no_followers"}, [](GenRequest& r) { r.L = 1; });
  add("tiny", "pad_l2", 203, {"padding"}, [](GenRequest& r) { r.L = 2; });
  add("tiny", "pad_l5", 204, {"padding"}, [](GenRequest& r) { r.L = 5; });
  add("tiny", "pad_l13_causal", 205, {"padding", "causal"}, [](GenRequest& r) { r.L = 13; r.causal = true; });
  add("tiny", "causal_s1", 206, {"causal", "followers"}, [](GenRequest& r) { r.causal = true; });
  add("tiny", "k1", 207, {"k1"}, [](GenRequest& r) { r.k = 1; });
  add("tiny", "kL", 208, {"kL"}, [](GenRequest& r) { r.k = 16; });
  add("tiny", "kL_pad_l7", 209, {"kL", "padding"}, [](GenRequest& r) { r.L = 7; r.k = 7; });
  add("tiny", "rho1000", 210, {"kL"}, [](GenRequest& r) { r.rho_milli = 1000; });
  add("tiny", "ties_dup_s1", 211, {"ties"}, [](GenRequest& r) { r.kinds = {"duplicates"}; });
  add("tiny", "ties_dup_s2", 212, {"ties"}, [](GenRequest& r) { r.kinds = {"duplicates"}; r.k = 3; });
  add("tiny", "ties_dup_causal", 213, {"ties", "causal"}, [](GenRequest& r) { r.kinds = {"duplicates"}; r.causal = true; });
  add("tiny", "zero_rows_s1", 214, {"zero_rows"}, [](GenRequest& r) { r.kinds = {"zero_rows"}; });
  add("tiny", "zero_rows_pad_l10", 215, {"zero_rows", "padding"}, [](GenRequest& r) { r.kinds = {"zero_rows"}; r.L = 10; });
  add("tiny", "extremes_s1", 216, {"extremes"}, [](GenRequest& r) { r.kinds = {"extremes"}; });
  add("tiny", "extremes_causal", 217, {"extremes", "causal"}, [](GenRequest& r) { r.kinds = {"extremes"}; r.causal = true; });
  add("tiny", "no_followers_w0", 218, {"no_followers"}, [](GenRequest& r) { r.window = 0; });
  add("tiny", "no_followers_distinct", 219, {"no_followers"},
      [](GenRequest& r) { r.kinds = {"distinct"}; r.tau_milli = 1000; r.k = 6; });
  add("tiny", "all_followers", 220, {"all_followers", "token_followers"},
      [](GenRequest& r) { r.kinds = {"identical_rows"}; r.window = 15; });
  add("tiny", "all_followers_t1_pad_l11", 221, {"all_followers", "padding"},
      [](GenRequest& r) { r.kinds = {"identical_rows"}; r.window = 15; r.T = 1; r.L = 11; });
  add("tiny", "t0_window_max", 222, {"followers"}, [](GenRequest& r) { r.T = 0; r.window = 15; });
  add("tiny", "vote1", 223, {"token_followers"}, [](GenRequest& r) { r.vote = 1; });
  add("tiny", "tau500_w8", 224, {"followers"}, [](GenRequest& r) { r.tau_milli = 500; r.window = 8; });
  add("tiny", "mixed_edges_pad_l12", 225, {"zero_rows", "extremes", "padding", "causal"}, [](GenRequest& r) {
    r.kinds = {"duplicates", "zero_rows", "extremes"};
    r.L = 12;
    r.causal = true;
  });
  add("tiny", "distinct_default", 226, {}, [](GenRequest& r) { r.kinds = {"distinct"}; });

  // ---- minilm (N=128, D=384, H=12) ----
  add("minilm", "default_s1", 301, {"default_params", "followers"}, none);
  add("minilm", "pad_l100", 302, {"padding", "followers"}, [](GenRequest& r) { r.L = 100; });
  add("minilm", "pad_l37_causal", 303, {"padding", "causal"}, [](GenRequest& r) { r.L = 37; r.causal = true; });
  add("minilm", "ties_dup", 304, {"ties"}, [](GenRequest& r) { r.kinds = {"duplicates"}; });
  add("minilm", "zero_rows_extremes_l64", 305, {"zero_rows", "extremes", "padding"},
      [](GenRequest& r) { r.kinds = {"zero_rows", "extremes"}; r.L = 64; });
  add("minilm", "k1_l96", 306, {"k1", "padding"}, [](GenRequest& r) { r.k = 1; r.L = 96; });
  add("minilm", "kL_l32", 307, {"kL", "padding"}, [](GenRequest& r) { r.k = 32; r.L = 32; });
  add("minilm", "all_followers_l48", 308, {"all_followers", "padding"},
      [](GenRequest& r) { r.kinds = {"identical_rows"}; r.window = 127; r.L = 48; });
  add("minilm", "no_followers_w0", 309, {"no_followers"}, [](GenRequest& r) { r.window = 0; r.vote = 1; });
  return out;
}

namespace {

// Real-model cases (esact-eval export-vectors): directories <config>/real_*/ of the committed corpus,
// tagged "real". Their inputs are activations of the real model and cannot be regenerated without
// the model files, so they are frozen data; everything else about them is regenerated: the golden
// model runs again on the stored inputs and the case is rewritten, so the corpus test still compares
// every byte and still catches a golden-model change. Loaded before write_corpus removes anything.
std::vector<SplsCase> load_real_cases(const std::string& source_dir) {
  std::vector<SplsCase> out;
  if (!fs::is_directory(source_dir)) return out;
  std::vector<fs::path> dirs;
  for (const auto& config_dir : fs::directory_iterator(source_dir)) {
    if (!config_dir.is_directory()) continue;
    for (const auto& case_dir : fs::directory_iterator(config_dir.path())) {
      const std::string name = case_dir.path().filename().string();
      if (case_dir.is_directory() && name.rfind("real_", 0) == 0 && fs::exists(case_dir.path() / "case.json"))
        dirs.push_back(case_dir.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    // LANES is the prediction array's throughput, which no golden value depends on: a case exported
    // under another LANES is carried over with the configuration's (its inputs stay byte for byte).
    const SplsCase c = load_spls_case(dir.string(), /*lanes_record_only=*/true);
    if (std::find(c.tags.begin(), c.tags.end(), "real") == c.tags.end()) {
      throw GeneratorError("corpus case " + dir.string() + " is named real_* but is not tagged 'real'");
    }
    GenRequest r;
    r.config = c.config.name;
    r.name = c.name;
    r.seed = c.seed;
    r.L = c.params.L;
    if (c.rho_milli) r.rho_milli = *c.rho_milli; else r.k = c.params.k;
    if (c.tau_milli) r.tau_milli = *c.tau_milli; else r.T = c.params.T;
    r.window = c.params.w;
    r.vote = c.params.V;
    r.causal = c.params.causal;
    r.predict_from = c.params.predict_from;
    r.extra_tags = {"real"};
    const bool projected = c.params.predict_from == PredictFrom::kProjected;
    out.push_back(case_from_inputs(r, projected ? c.x : c.q, projected ? c.wq : c.k, c.wk, c.provenance));
    out.back().generator_name = c.generator_name;
    out.back().generator_version = c.generator_version;
  }
  return out;
}

}  // namespace

Manifest write_corpus(const std::string& out_dir, std::ostream* log) {
  const std::string manifest_path = out_dir + "/manifest.json";
  const std::vector<SplsCase> real_cases = load_real_cases(default_corpus_dir());
  const std::vector<LayerCase> real_layer_cases = load_real_layer_cases(default_corpus_dir());
  if (fs::exists(manifest_path)) {
    // Remove the cases of the previous corpus (only directories that hold a case.json).
    const Manifest old = read_manifest(manifest_path, /*verify_checksums=*/false);
    for (const auto& e : old.cases) {
      const fs::path dir = fs::path(out_dir) / e.path;
      if (fs::exists(dir / "case.json")) fs::remove_all(dir);
    }
  }
  Manifest m;
  m.dir = out_dir;
  m.generator_name = kGeneratorName;
  m.generator_version = kGeneratorVersion;
  for (const CorpusEntry& e : corpus_entries()) {
    const SplsCase c = generate_spls_case(e.request);
    for (const auto& t : e.must_have_tags) {
      if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end()) {
        std::string got;
        for (const auto& g : c.tags) got += (got.empty() ? "" : ",") + g;
        throw GeneratorError("corpus case " + e.request.config + "/" + c.name + " should exhibit '" + t +
                             "' but its tags are [" + got + "]: change its request");
      }
    }
    ManifestEntry me;
    me.path = c.config.name + "/" + c.name;
    me.config = c.config.name;
    me.name = c.name;
    me.tags = c.tags;
    me.case_json_sha256 = write_spls_case(c, out_dir + "/" + me.path);
    if (log) {
      *log << me.path << ": L=" << c.params.L << " k=" << c.params.k << " T=" << c.params.T
           << " w=" << c.params.w << " V=" << c.params.V << (c.params.causal ? " causal" : "")
           << " head_followers=" << c.expected.counters.head_followers
           << " token_followers=" << c.expected.counters.token_followers << " tags=";
      for (size_t i = 0; i < c.tags.size(); ++i) *log << (i ? "," : "") << c.tags[i];
      *log << "\n";
    }
    m.cases.push_back(std::move(me));
  }
  for (const SplsCase& c : real_cases) {
    ManifestEntry me;
    me.path = c.config.name + "/" + c.name;
    me.config = c.config.name;
    me.name = c.name;
    me.tags = c.tags;
    me.case_json_sha256 = write_spls_case(c, out_dir + "/" + me.path);
    if (log) *log << me.path << ": real-model case, inputs kept, expected outputs regenerated\n";
    m.cases.push_back(std::move(me));
  }
  // Layer cases (kind "layer"), after the SPLS cases so that the SPLS entries keep their order and
  // bytes. Weights directories <config>/layer_weights_s<seed>/ are shared by the cases that use them.
  std::map<std::string, std::pair<LayerWeightsSet, std::string>> weights;  // dir -> (set, sha)
  for (const LayerCorpusEntry& e : layer_corpus_entries()) {
    const std::string wname = "layer_weights_s" + std::to_string(e.request.weights_seed);
    const std::string wdir = e.request.config + "/" + wname;
    if (!weights.count(wdir)) {
      LayerWeightsSet w = synthetic_layer_weights(e.request.config, e.request.weights_seed);
      const std::string sha = write_layer_weights(w, out_dir + "/" + wdir);
      if (log) *log << wdir << ": layer weights\n";
      weights.emplace(wdir, std::make_pair(std::move(w), sha));
    }
    const auto& [w, wsha] = weights.at(wdir);
    const LayerCase c = generate_layer_case(e.request, w, "../" + wname, wsha);
    for (const auto& t : e.must_have_tags) {
      if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end())
        throw GeneratorError("corpus layer case " + e.request.config + "/" + c.name + " should exhibit '" + t + "'");
    }
    ManifestEntry me;
    me.path = c.config.name + "/" + c.name;
    me.config = c.config.name;
    me.name = c.name;
    me.kind = "layer";
    me.tags = c.tags;
    me.case_json_sha256 = write_layer_case(c, out_dir + "/" + me.path);
    if (log) {
      *log << me.path << ": layer L=" << c.params.L << (c.params.causal ? " causal" : "") << " MACs "
           << c.expected.executed.total() << "/" << c.expected.dense.total() << " tags=";
      for (size_t i = 0; i < c.tags.size(); ++i) *log << (i ? "," : "") << c.tags[i];
      *log << "\n";
    }
    m.cases.push_back(std::move(me));
  }
  // Real-model layer cases: inputs, weights (their own directory) and provenance kept, expected
  // tensors recomputed.
  for (const LayerCase& r : real_layer_cases) {
    const std::string wname = fs::path(r.weights_path).filename().string();
    const std::string wsha = write_layer_weights(r.weights, out_dir + "/" + r.config.name + "/" + wname);
    const LayerCase c = layer_case_from_inputs(r.name, r.params, r.rho_milli, r.tau_milli, r.sw, r.x, r.xr, r.weights,
                                               r.weights_path, wsha, r.provenance, {"real"});
    ManifestEntry me;
    me.path = c.config.name + "/" + c.name;
    me.config = c.config.name;
    me.name = c.name;
    me.kind = "layer";
    me.tags = c.tags;
    me.case_json_sha256 = write_layer_case(c, out_dir + "/" + me.path);
    if (log) *log << me.path << ": real-model layer case, inputs and weights kept, expected outputs regenerated\n";
    m.cases.push_back(std::move(me));
  }
  write_manifest(m, manifest_path);
  return m;
}

}  // namespace esact::vectors
