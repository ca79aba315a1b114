// Scoreboard of the esact_layer_top result stream (docs/spec.md section 22): every row slice the RTL
// sends is compared with the golden LayerResult (run_layer) at the same tensor, row and columns;
// duplicates, unexpected slices and missing slices are errors.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "esact/config.h"
#include "esact/layer.h"
#include "esact/sim/scoreboard.h"

namespace esact::sim {

enum class LayerKind : int { kQ = 0, kK, kV, kAttn, kOproj, kLn1, kHidden, kFfn, kOut, kLn1r, kOutR, kCount };
const char* layer_kind_name(LayerKind k);  // golden tensor name: q, k, v, attn, oproj, ln1, ...

struct LayerBeat {
  LayerKind kind = LayerKind::kOut;
  int row = 0, col = 0;
  std::vector<int32_t> data;  // MAC_COLS values
  uint64_t cycle = 0;
};

class LayerScoreboard {
 public:
  // debug: the RTL emits the intermediates (Q, K, V, attention, projection, LN1, FFN hidden and
  // branch); otherwise only the layer output is expected.
  LayerScoreboard(const HwConfig& cfg, const SplsParams& p, const LayerResult& golden, const SplsResult* spls,
                  const LayerSwitches& sw, bool debug);
  bool on_beat(const LayerBeat& got);
  void add_error(const std::string& tensor, const std::string& detail, uint64_t cycle);
  void finish(uint64_t cycle);  // one mismatch per tensor with missing slices
  bool complete() const { return received_ok_ >= expected_.size(); }
  bool ok() const { return mismatches_.empty() && complete(); }
  size_t expected_count() const { return expected_.size(); }
  size_t received() const { return received_; }
  const std::vector<Mismatch>& mismatches() const { return mismatches_; }
  static constexpr size_t kMaxRecorded = 64;

 private:
  struct Slot {
    std::vector<int32_t> values;
    int64_t cols = 0;  // width of the golden tensor (for the flat index)
    bool seen = false;
  };
  void record(Mismatch m);
  HwConfig cfg_;
  std::map<std::tuple<int, int, int>, Slot> expected_;
  size_t received_ = 0, received_ok_ = 0, beat_ = 0;
  std::vector<Mismatch> mismatches_;
  size_t suppressed_ = 0;
};

}  // namespace esact::sim
