#include "esact/sim/scoreboard.h"

#include <sstream>

namespace esact::sim {

const char* beat_kind_name(BeatKind k) {
  switch (k) {
    case BeatKind::kRow: return "ROW";
    case BeatKind::kKv: return "KV";
    case BeatKind::kToken: return "TOKEN";
    case BeatKind::kHead: return "HEAD";
  }
  return "?";
}

std::vector<SplsBeat> expected_spls_beats(const HwConfig& cfg, int L, const SplsResult& g) {
  std::vector<SplsBeat> beats;
  const int N = cfg.N;
  auto blank = [&](BeatKind kind) {
    SplsBeat b;
    b.kind = kind;
    b.mask.assign(static_cast<size_t>(N), 0);
    return b;
  };
  for (int h = 0; h < cfg.H; ++h) {
    SplsBeat head = blank(BeatKind::kHead);
    head.head = h;
    head.shift_q = g.shifts(h, 0);
    head.shift_k = g.shifts(h, 1);
    beats.push_back(head);
    for (int i = 0; i < L; ++i) {
      SplsBeat row = blank(BeatKind::kRow);
      row.head = h;
      row.row = i;
      row.rep = g.rep(h, i);
      for (int j = 0; j < N; ++j) row.mask[static_cast<size_t>(j)] = g.topk_mask(h, i, j);
      beats.push_back(row);
    }
    SplsBeat kv = blank(BeatKind::kKv);
    kv.head = h;
    for (int j = 0; j < N; ++j) kv.mask[static_cast<size_t>(j)] = g.kv_needed(h, j);
    beats.push_back(kv);
  }
  for (int i = 0; i < L; ++i) {
    SplsBeat t = blank(BeatKind::kToken);
    t.row = i;
    t.rep = g.token_rep.data[static_cast<size_t>(i)];
    beats.push_back(t);
  }
  return beats;
}

std::string Mismatch::describe() const {
  std::ostringstream os;
  if (flat_index >= 0) {
    os << "tensor '" << tensor << "' [" << flat_index << "] " << coords << ": expected " << expected
       << ", got " << actual;
  } else {
    os << tensor << ": " << detail;
  }
  os << " (cycle " << cycle;
  if (beat >= 0) os << ", output beat " << beat << " " << phase;
  os << ")";
  return os.str();
}

SplsScoreboard::SplsScoreboard(const HwConfig& cfg, std::vector<SplsBeat> expected)
    : cfg_(cfg), expected_(std::move(expected)) {}

void SplsScoreboard::record(Mismatch m) {
  if (mismatches_.size() < kMaxRecorded) {
    mismatches_.push_back(std::move(m));
  } else {
    ++suppressed_;
  }
}

void SplsScoreboard::add_error(const std::string& tensor, const std::string& detail, uint64_t cycle) {
  Mismatch m;
  m.tensor = tensor;
  m.detail = detail;
  m.cycle = cycle;
  record(std::move(m));
}

bool SplsScoreboard::on_beat(const SplsBeat& got) {
  const int64_t index = static_cast<int64_t>(received_++);
  const size_t before = mismatches_.size() + suppressed_;
  auto base = [&](const char* tensor) {
    Mismatch m;
    m.tensor = tensor;
    m.cycle = got.cycle;
    m.beat = index;
    m.phase = beat_kind_name(got.kind);
    return m;
  };
  if (static_cast<size_t>(index) >= expected_.size()) {
    Mismatch m = base("stream");
    m.detail = std::string("unexpected ") + beat_kind_name(got.kind) + " beat after the last expected one";
    record(m);
    return false;
  }
  const SplsBeat& exp = expected_[static_cast<size_t>(index)];
  const int N = cfg_.N;
  std::ostringstream where;
  if (got.kind != exp.kind || (exp.kind != BeatKind::kToken && got.head != exp.head) ||
      ((exp.kind == BeatKind::kRow || exp.kind == BeatKind::kToken) && got.row != exp.row)) {
    Mismatch m = base("stream");
    std::ostringstream os;
    os << "expected " << beat_kind_name(exp.kind) << " beat (head " << exp.head << ", row " << exp.row
       << "), got " << beat_kind_name(got.kind) << " beat (head " << got.head << ", row " << got.row << ")";
    m.detail = os.str();
    record(m);
    return false;
  }
  auto coords = [](int h, int i, int j) {
    std::ostringstream os;
    os << "(";
    if (h >= 0) os << "head " << h;
    if (i >= 0) os << (h >= 0 ? ", " : "") << "row " << i;
    if (j >= 0) os << ", col " << j;
    os << ")";
    return os.str();
  };
  auto check_mask = [&](const char* tensor, int64_t flat_base, int h, int i) {
    for (int j = 0; j < N; ++j) {
      if (got.mask[static_cast<size_t>(j)] != exp.mask[static_cast<size_t>(j)]) {
        Mismatch m = base(tensor);
        m.flat_index = flat_base + j;
        m.coords = coords(h, i, j);
        if (i < 0) m.coords = "(head " + std::to_string(h) + ", col " + std::to_string(j) + ")";
        m.expected = exp.mask[static_cast<size_t>(j)];
        m.actual = got.mask[static_cast<size_t>(j)];
        record(m);
      }
    }
  };
  switch (exp.kind) {
    case BeatKind::kHead:
      for (int which = 0; which < 2; ++which) {
        const int e = which ? exp.shift_k : exp.shift_q, a = which ? got.shift_k : got.shift_q;
        if (e != a) {
          Mismatch m = base("shifts");
          m.flat_index = int64_t{exp.head} * 2 + which;
          m.coords = "(head " + std::to_string(exp.head) + (which ? ", sK)" : ", sQ)");
          m.expected = e;
          m.actual = a;
          record(m);
        }
      }
      break;
    case BeatKind::kRow:
      check_mask("topk_mask", (int64_t{exp.head} * N + exp.row) * N, exp.head, exp.row);
      if (got.rep != exp.rep) {
        Mismatch m = base("rep");
        m.flat_index = int64_t{exp.head} * N + exp.row;
        m.coords = coords(exp.head, exp.row, -1);
        m.expected = exp.rep;
        m.actual = got.rep;
        record(m);
      }
      break;
    case BeatKind::kKv:
      check_mask("kv_needed", int64_t{exp.head} * N, exp.head, -1);
      break;
    case BeatKind::kToken:
      if (got.rep != exp.rep) {
        Mismatch m = base("token_rep");
        m.flat_index = exp.row;
        m.coords = "(token " + std::to_string(exp.row) + ")";
        m.expected = exp.rep;
        m.actual = got.rep;
        record(m);
      }
      break;
  }
  return mismatches_.size() + suppressed_ == before;
}

void SplsScoreboard::finish(uint64_t cycle) {
  if (complete()) return;
  const SplsBeat& next = expected_[received_];
  std::ostringstream os;
  os << "stream ended after " << received_ << " of " << expected_.size() << " output beats; next expected "
     << beat_kind_name(next.kind) << " beat (head " << next.head << ", row " << next.row << ")";
  add_error("stream", os.str(), cycle);
}

}  // namespace esact::sim
