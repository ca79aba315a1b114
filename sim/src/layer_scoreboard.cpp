#include "esact/sim/layer_scoreboard.h"

namespace esact::sim {

const char* layer_kind_name(LayerKind k) {
  static const char* names[] = {"q", "k", "v", "attn", "oproj", "ln1", "ffn_hidden", "ffn_out", "out", "ln1r", "out_r"};
  const int i = static_cast<int>(k);
  return i >= 0 && i < static_cast<int>(LayerKind::kCount) ? names[i] : "?";
}

LayerScoreboard::LayerScoreboard(const HwConfig& cfg, const SplsParams& p, const LayerResult& g,
                                 const SplsResult* spls, const LayerSwitches& sw, bool debug)
    : cfg_(cfg) {
  const int W = cfg.mac_cols, D = cfg.D, F = cfg.F, dh = cfg.dh(), H = cfg.H;
  auto add8 = [&](LayerKind k, const TensorI8& t, int i, int c0) {
    Slot s;
    s.cols = t.shape[1];
    for (int c = 0; c < W; ++c) s.values.push_back(t(i, c0 + c));
    expected_[{static_cast<int>(k), i, c0}] = s;
  };
  auto add16 = [&](LayerKind k, const TensorI16& t, int i, int c0) {
    Slot s;
    s.cols = t.shape[1];
    for (int c = 0; c < W; ++c) s.values.push_back(t(i, c0 + c));
    expected_[{static_cast<int>(k), i, c0}] = s;
  };
  for (int i = 0; i < p.L; ++i) {
    const bool token_follower = spls && spls->token_rep.data[static_cast<size_t>(i)] != i;
    for (int c0 = 0; c0 < D; c0 += W) {
      add8(LayerKind::kOut, g.out, i, c0);
      add16(LayerKind::kOutR, g.out_r, i, c0);
    }
    if (!debug) continue;
    for (int h = 0; h < H; ++h) {
      for (int c0 = h * dh; c0 < (h + 1) * dh; c0 += W) {
        if (g.q_generated(h, i)) add8(LayerKind::kQ, g.q, i, c0);
        if (g.kv_generated(h, i)) {
          add8(LayerKind::kK, g.k, i, c0);
          add8(LayerKind::kV, g.v, i, c0);
        }
        if (g.attn_computed(h, i)) add8(LayerKind::kAttn, g.attn, i, c0);
      }
    }
    for (int c0 = 0; c0 < D; c0 += W) {
      if (!(sw.reuse_oproj && token_follower)) add16(LayerKind::kOproj, g.oproj, i, c0);
      add8(LayerKind::kLn1, g.ln1, i, c0);
      add16(LayerKind::kLn1r, g.ln1r, i, c0);
      if (!(sw.reuse_ffn && token_follower)) add16(LayerKind::kFfn, g.ffn_out, i, c0);
    }
    if (!(sw.reuse_ffn && token_follower))
      for (int c0 = 0; c0 < F; c0 += W) add8(LayerKind::kHidden, g.ffn_hidden, i, c0);
  }
}

void LayerScoreboard::record(Mismatch m) {
  if (mismatches_.size() < kMaxRecorded) mismatches_.push_back(std::move(m));
  else ++suppressed_;
}

bool LayerScoreboard::on_beat(const LayerBeat& got) {
  ++received_;
  const int64_t beat = static_cast<int64_t>(beat_++);
  const LayerKind k = got.kind;
  const char* name = layer_kind_name(k);
  const bool per_head = k == LayerKind::kQ || k == LayerKind::kK || k == LayerKind::kV || k == LayerKind::kAttn;
  auto coords = [&](int c) {
    std::string s = "(";
    if (per_head) s += "head " + std::to_string(c / cfg_.dh()) + ", ";
    return s + "row " + std::to_string(got.row) + ", col " + std::to_string(c) + ")";
  };
  auto it = expected_.find({static_cast<int>(k), got.row, got.col});
  if (it == expected_.end() || it->second.seen) {
    Mismatch m;
    m.tensor = name;
    m.coords = coords(got.col);
    m.cycle = got.cycle;
    m.beat = beat;
    m.phase = name;
    m.detail = std::string(it == expected_.end() ? "unexpected slice (not computed by the golden model)"
                                                 : "duplicate slice") + " at " + m.coords;
    record(m);
    return false;
  }
  Slot& s = it->second;
  s.seen = true;
  bool ok = got.data.size() == s.values.size();
  for (size_t c = 0; ok && c < s.values.size(); ++c) ok = got.data[c] == s.values[c];
  if (ok) {
    ++received_ok_;
    return true;
  }
  for (size_t c = 0; c < s.values.size(); ++c) {
    const int32_t a = c < got.data.size() ? got.data[c] : 0;
    if (a == s.values[c]) continue;
    Mismatch m;
    m.tensor = name;
    m.flat_index = static_cast<int64_t>(got.row) * s.cols + got.col + static_cast<int64_t>(c);
    m.coords = coords(got.col + static_cast<int>(c));
    m.expected = s.values[c];
    m.actual = a;
    m.cycle = got.cycle;
    m.beat = beat;
    m.phase = name;
    record(m);
  }
  ++received_ok_;  // the slice arrived (wrong): completeness counts arrivals
  return false;
}

void LayerScoreboard::add_error(const std::string& tensor, const std::string& detail, uint64_t cycle) {
  Mismatch m;
  m.tensor = tensor;
  m.detail = detail;
  m.cycle = cycle;
  record(m);
}

void LayerScoreboard::finish(uint64_t cycle) {
  std::map<int, std::pair<size_t, std::string>> missing;  // kind -> (count, first position)
  for (const auto& [key, slot] : expected_) {
    if (slot.seen) continue;
    auto& e = missing[std::get<0>(key)];
    if (e.first++ == 0) e.second = "row " + std::to_string(std::get<1>(key)) + ", col " + std::to_string(std::get<2>(key));
  }
  for (const auto& [kind, e] : missing) {
    Mismatch m;
    m.tensor = layer_kind_name(static_cast<LayerKind>(kind));
    m.cycle = cycle;
    m.detail = std::to_string(e.first) + " expected slice(s) never arrived, first at " + e.second;
    record(m);
  }
}

}  // namespace esact::sim
