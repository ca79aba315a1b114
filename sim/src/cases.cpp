#include "esact/sim/cases.h"

#include <sys/stat.h>

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
std::string parent_of(const std::string& p) {
  const auto slash = p.find_last_of('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}
}  // namespace

std::vector<CaseRef> resolve_cases(const std::string& path) {
  std::vector<CaseRef> out;
  std::string manifest;
  if (is_dir(path) && is_file(path + "/case.json")) {
    CaseRef r;
    r.dir = path;
    const auto slash = path.find_last_of('/');
    r.name = slash == std::string::npos ? path : path.substr(slash + 1);
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
    out.push_back(r);
  }
  (void)parent_of;
  return out;
}

std::vector<CaseRef> shard_cases(const std::vector<CaseRef>& all, int index, int count) {
  std::vector<CaseRef> out;
  for (size_t i = 0; i < all.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(count)) == index) out.push_back(all[i]);
  return out;
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
