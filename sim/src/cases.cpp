#include "esact/sim/cases.h"

#include "esact/vectors/layer_case.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace esact::sim {

namespace {
bool is_file(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
}  // namespace

namespace {
std::string dir_of(const std::string& p) {
  const auto slash = p.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
}
std::string join_path(const std::string& base, const std::string& p) {
  return p.empty() || p[0] == '/' ? p : base + "/" + p;
}
std::vector<std::string> split_ws(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size() || line[i] == '#') break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}
std::vector<std::string> split_char(const std::string& s, char c) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(c, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}
long long to_int(const std::string& s, const std::string& where) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error(where + ": '" + s + "' is not a non-negative integer");
  return std::stoll(s);
}

std::vector<CaseRef> resolve_path(const std::string& path);

// One line of a regression list: "PATH [config=C] [tag=T] [filter=TEXT]" or
// "sweep config=C seeds=A..B [L=n] [k=n | rho_milli=n] [T=n | tau_milli=n] [window=n] [vote=n]
//  [kind=K,K] [causal]".
std::vector<CaseRef> resolve_list(const std::string& list_path, const std::string& work_dir) {
  std::ifstream f(list_path);
  if (!f) throw std::runtime_error(list_path + ": cannot open the regression list");
  std::vector<CaseRef> out;
  std::string line;
  int lineno = 0;
  const std::string base = dir_of(list_path);
  while (std::getline(f, line)) {
    ++lineno;
    const std::string where = list_path + ":" + std::to_string(lineno);
    const auto words = split_ws(line);
    if (words.empty()) continue;
    if (words[0] == "sweep") {
      vectors::GenRequest req;
      bool have_config = false;
      long long s0 = -1, s1 = -1;
      for (size_t i = 1; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "causal") {
          req.causal = true;
          continue;
        }
        const auto eq = w.find('=');
        if (eq == std::string::npos) throw std::runtime_error(where + ": sweep: '" + w + "' is not key=value");
        const std::string k = w.substr(0, eq), v = w.substr(eq + 1);
        const std::string kw = where + ": sweep " + k;
        if (k == "config") {
          req.config = v;
          have_config = true;
        } else if (k == "seeds") {
          const auto dots = v.find("..");
          if (dots == std::string::npos) {
            s0 = s1 = to_int(v, kw);
          } else {
            s0 = to_int(v.substr(0, dots), kw);
            s1 = to_int(v.substr(dots + 2), kw);
          }
          if (s1 < s0 || s1 - s0 >= 100000) throw std::runtime_error(kw + ": need A..B with A <= B, at most 100000 seeds");
        } else if (k == "L") req.L = static_cast<int>(to_int(v, kw));
        else if (k == "k") req.k = static_cast<int>(to_int(v, kw));
        else if (k == "rho_milli") req.rho_milli = static_cast<int>(to_int(v, kw));
        else if (k == "T") req.T = static_cast<int>(to_int(v, kw));
        else if (k == "tau_milli") req.tau_milli = static_cast<int>(to_int(v, kw));
        else if (k == "window") req.window = static_cast<int>(to_int(v, kw));
        else if (k == "vote") req.vote = static_cast<int>(to_int(v, kw));
        else if (k == "kind") req.kinds = split_char(v, ',');
        else throw std::runtime_error(where + ": sweep: unknown key '" + k + "'");
      }
      if (!have_config || s0 < 0) throw std::runtime_error(where + ": sweep needs config=NAME and seeds=A..B");
      // a fixed, readable name per request: the same on every shard and machine
      std::string stem = "sweep_" + req.config;
      for (const auto& kd : req.kinds) stem += "_" + kd;
      if (req.L) stem += "_L" + std::to_string(*req.L);
      if (req.k) stem += "_k" + std::to_string(*req.k);
      if (req.rho_milli) stem += "_rho" + std::to_string(*req.rho_milli);
      if (req.T) stem += "_T" + std::to_string(*req.T);
      if (req.tau_milli) stem += "_tau" + std::to_string(*req.tau_milli);
      if (req.window) stem += "_w" + std::to_string(*req.window);
      if (req.vote) stem += "_v" + std::to_string(*req.vote);
      if (req.causal) stem += "_causal";
      for (long long sd = s0; sd <= s1; ++sd) {
        CaseRef r;
        vectors::GenRequest g = req;
        g.seed = static_cast<uint64_t>(sd);
        g.name = stem + "_s" + std::to_string(sd);
        r.name = g.name;
        r.config = g.config;
        r.dir = work_dir + "/sweeps/" + g.name;
        r.tags = {"sweep"};
        r.generate = g;
        out.push_back(std::move(r));
      }
      continue;
    }
    std::string config, tag, filter;
    for (size_t i = 1; i < words.size(); ++i) {
      const auto eq = words[i].find('=');
      const std::string k = eq == std::string::npos ? words[i] : words[i].substr(0, eq);
      const std::string v = eq == std::string::npos ? "" : words[i].substr(eq + 1);
      if (k == "config") config = v;
      else if (k == "tag") tag = v;
      else if (k == "filter") filter = v;
      else throw std::runtime_error(where + ": unknown selector '" + words[i] + "' (config=, tag=, filter=)");
    }
    std::vector<CaseRef> refs;
    try {
      refs = resolve_path(join_path(base, words[0]));
    } catch (const std::exception& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
    for (auto& r : refs) {
      if (!config.empty() && !r.config.empty() && r.config != config) continue;
      if (!filter.empty() && r.name.find(filter) == std::string::npos) continue;
      if (!tag.empty() && std::find(r.tags.begin(), r.tags.end(), tag) == r.tags.end()) continue;
      out.push_back(std::move(r));
    }
  }
  return out;
}

bool looks_like_json(const std::string& path) {
  std::ifstream f(path);
  char c = 0;
  while (f.get(c))
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  return false;
}

std::vector<CaseRef> resolve_path(const std::string& path) {
  std::vector<CaseRef> out;
  std::string manifest;
  if (is_dir(path) && is_file(path + "/case.json")) {
    CaseRef r;
    r.dir = path;
    while (!r.dir.empty() && r.dir.back() == '/' && r.dir.size() > 1) r.dir.pop_back();
    const auto slash = r.dir.find_last_of('/');
    r.name = slash == std::string::npos ? r.dir : r.dir.substr(slash + 1);
    r.kind = vectors::case_kind(r.dir);
    out.push_back(r);
    return out;
  }
  if (is_dir(path) && is_file(path + "/manifest.json")) {
    manifest = path + "/manifest.json";
  } else if (is_file(path)) {
    manifest = path;
  } else {
    throw std::runtime_error(path + ": not a case directory (no case.json), a manifest.json, or a directory holding one");
  }
  const vectors::Manifest m = vectors::read_manifest(manifest, true);
  for (const auto& e : m.cases) {
    CaseRef r;
    r.dir = m.case_dir(e);
    r.name = e.name;
    r.config = e.config;
    r.tags = e.tags;
    r.kind = e.kind;
    out.push_back(r);
  }
  return out;
}
}  // namespace

std::vector<CaseRef> resolve_cases(const std::string& path, const std::string& work_dir) {
  if (is_file(path) && !looks_like_json(path)) return resolve_list(path, work_dir);
  return resolve_path(path);
}

ShardSpec parse_shard(const std::string& s, const std::string& what) {
  const auto slash = s.find('/');
  auto num = [&](const std::string& t) -> long long {
    if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument(what + ": '" + s + "' is not I/N");
    return std::stoll(t);
  };
  if (slash == std::string::npos) throw std::invalid_argument(what + ": '" + s + "' is not I/N");
  ShardSpec sp;
  sp.index = static_cast<int>(num(s.substr(0, slash)));
  sp.count = static_cast<int>(num(s.substr(slash + 1)));
  if (sp.count < 1 || sp.index >= sp.count)
    throw std::invalid_argument(what + ": need 0 <= I < N, got '" + s + "'");
  sp.source = what;
  return sp;
}

std::optional<ShardSpec> shard_from_env() {
  auto env = [](const char* n) -> std::optional<std::string> {
    const char* v = std::getenv(n);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
  auto num = [](const char* var, const std::string& v) -> long long {
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument(std::string("environment variable ") + var + "='" + v +
                                  "' is not a non-negative integer");
    return std::stoll(v);
  };
  auto make = [](long long i, long long n, const std::string& src) {
    if (n < 1 || i < 0 || i >= n)
      throw std::invalid_argument(src + ": shard index " + std::to_string(i) + " not in 0.." + std::to_string(n - 1));
    ShardSpec sp;
    sp.index = static_cast<int>(i);
    sp.count = static_cast<int>(n);
    sp.source = src;
    return sp;
  };
  if (auto v = env("ESACT_SHARD")) return parse_shard(*v, "ESACT_SHARD");
  if (auto id = env("SLURM_ARRAY_TASK_ID")) {
    const long long tid = num("SLURM_ARRAY_TASK_ID", *id);
    const auto mn = env("SLURM_ARRAY_TASK_MIN"), mx = env("SLURM_ARRAY_TASK_MAX"), st = env("SLURM_ARRAY_TASK_STEP"),
               cnt = env("SLURM_ARRAY_TASK_COUNT");
    const long long lo = mn ? num("SLURM_ARRAY_TASK_MIN", *mn) : 0;
    const long long step = st ? std::max(1LL, num("SLURM_ARRAY_TASK_STEP", *st)) : 1;
    if ((tid - lo) % step != 0)
      throw std::invalid_argument("SLURM_ARRAY_TASK_ID " + std::to_string(tid) + " is not on the array's step");
    long long n = -1;
    if (cnt) n = num("SLURM_ARRAY_TASK_COUNT", *cnt);
    else if (mx) n = (num("SLURM_ARRAY_TASK_MAX", *mx) - lo) / step + 1;
    if (n < 0)
      throw std::invalid_argument(
          "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX: "
          "the shard count is unknown (use --array=A-B, or --shard I/N)");
    return make((tid - lo) / step, n, "SLURM_ARRAY_TASK_ID");
  }
  if (auto ix = env("JOB_COMPLETION_INDEX")) {
    const auto n = env("ESACT_SHARD_COUNT");
    if (!n)
      throw std::invalid_argument(
          "JOB_COMPLETION_INDEX is set (Kubernetes indexed job) but ESACT_SHARD_COUNT is not: set it to the "
          "job's .spec.completions");
    return make(num("JOB_COMPLETION_INDEX", *ix), num("ESACT_SHARD_COUNT", *n), "JOB_COMPLETION_INDEX");
  }
  if (auto ix = env("CI_NODE_INDEX")) {
    const auto n = env("CI_NODE_TOTAL");
    if (!n) throw std::invalid_argument("CI_NODE_INDEX is set but CI_NODE_TOTAL is not");
    return make(num("CI_NODE_INDEX", *ix) - 1, num("CI_NODE_TOTAL", *n), "CI_NODE_INDEX");  // 1-based
  }
  if (auto ix = env("BUILDKITE_PARALLEL_JOB")) {
    const auto n = env("BUILDKITE_PARALLEL_JOB_COUNT");
    if (!n) throw std::invalid_argument("BUILDKITE_PARALLEL_JOB is set but BUILDKITE_PARALLEL_JOB_COUNT is not");
    return make(num("BUILDKITE_PARALLEL_JOB", *ix), num("BUILDKITE_PARALLEL_JOB_COUNT", *n), "BUILDKITE_PARALLEL_JOB");
  }
  return std::nullopt;
}

void materialize_case(const CaseRef& ref) {
  if (!ref.generate || is_file(ref.dir + "/case.json")) return;
  const vectors::SplsCase c = vectors::generate_spls_case(*ref.generate);
  const std::string tmp = ref.dir + ".tmp." + std::to_string(getpid());
  std::filesystem::create_directories(dir_of(ref.dir));
  vectors::write_spls_case(c, tmp);
  if (std::rename(tmp.c_str(), ref.dir.c_str()) != 0) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    // another process put it there first: keep theirs (same request, same bytes)
    if (!is_file(ref.dir + "/case.json"))
      throw std::runtime_error(ref.dir + ": cannot move the generated case into place");
  }
}

namespace {
template <typename T>
void compare_tensor(const char* name, const Tensor<T>& fresh, const Tensor<T>& stored, std::string* drift) {
  if (!drift->empty()) return;
  if (fresh.shape != stored.shape) {
    *drift = std::string("tensor '") + name + "': shape differs";
    return;
  }
  for (size_t i = 0; i < fresh.data.size(); ++i) {
    if (fresh.data[i] != stored.data[i]) {
      *drift = std::string("tensor '") + name + "' [" + std::to_string(i) + "]: golden model gives " +
               std::to_string(int64_t(fresh.data[i])) + ", the case file stores " + std::to_string(int64_t(stored.data[i]));
      return;
    }
  }
}
}  // namespace

SplsStimulus load_stimulus(const CaseRef& ref, vectors::SplsCase* loaded, std::string* drift) {
  vectors::SplsCase c = vectors::load_spls_case(ref.dir);
  SplsStimulus st;
  st.name = c.name;
  st.cfg = c.config;
  st.params = c.params;
  st.x = c.x;
  st.wq = c.wq;
  st.wk = c.wk;
  const SplsResult fresh = vectors::run_golden(c);
  drift->clear();
  compare_tensor("x_codes", fresh.x_codes, c.expected.x_codes, drift);
  compare_tensor("q_hat", fresh.q_hat, c.expected.q_hat, drift);
  compare_tensor("k_hat", fresh.k_hat, c.expected.k_hat, drift);
  compare_tensor("shifts", fresh.shifts, c.expected.shifts, drift);
  compare_tensor("pam", fresh.pam, c.expected.pam, drift);
  compare_tensor("topk_mask", fresh.topk_mask, c.expected.topk_mask, drift);
  compare_tensor("rep", fresh.rep, c.expected.rep, drift);
  compare_tensor("kv_needed", fresh.kv_needed, c.expected.kv_needed, drift);
  compare_tensor("token_rep", fresh.token_rep, c.expected.token_rep, drift);
  // The RTL is compared with the stored expectation: it is what the case file promises.
  st.golden = c.expected;
  st.golden.counters = fresh.counters;
  if (loaded) *loaded = std::move(c);
  return st;
}

}  // namespace esact::sim
