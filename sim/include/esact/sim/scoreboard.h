// Scoreboard of the SPLS output stream: every beat the RTL sends is compared, field by field,
// with the beat the golden model predicts at the same position (docs/spec.md section 9).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/spls.h"

namespace esact::sim {

enum class BeatKind : uint8_t { kRow = 0, kKv = 1, kToken = 2, kHead = 3 };
const char* beat_kind_name(BeatKind k);

struct SplsBeat {
  BeatKind kind = BeatKind::kRow;
  int head = 0, row = 0, rep = 0, shift_q = 0, shift_k = 0;
  std::vector<uint8_t> mask;  // N entries, 0/1
  uint64_t cycle = 0;         // cycle of the handshake (RTL beats only)
};

// The beat sequence of spec section 9 for one case.
std::vector<SplsBeat> expected_spls_beats(const HwConfig& cfg, int L, const SplsResult& golden);

// One differing element, located as a user debugging a waveform wants it.
struct Mismatch {
  std::string tensor;       // golden tensor name: topk_mask, rep, kv_needed, token_rep, shifts, stream
  int64_t flat_index = -1;  // index into that tensor as stored in the vector files
  std::string coords;       // "(head 1, row 3, col 7)"
  int64_t expected = 0, actual = 0;
  uint64_t cycle = 0;
  int64_t beat = -1;        // index of the output beat
  std::string phase;        // beat kind
  std::string detail;       // for stream-level errors
  std::string describe() const;
};

class SplsScoreboard {
 public:
  SplsScoreboard(const HwConfig& cfg, std::vector<SplsBeat> expected);
  // Compares one received beat; returns false if it added a mismatch.
  bool on_beat(const SplsBeat& got);
  // Records an error that is not a data mismatch (assertion, watchdog).
  void add_error(const std::string& tensor, const std::string& detail, uint64_t cycle);
  bool complete() const { return received_ >= expected_.size(); }
  bool ok() const { return mismatches_.empty() && complete(); }
  size_t received() const { return received_; }
  size_t expected_count() const { return expected_.size(); }
  const std::vector<Mismatch>& mismatches() const { return mismatches_; }
  // Adds a mismatch for the first missing beat if the stream ended early.
  void finish(uint64_t cycle);
  static constexpr size_t kMaxRecorded = 64;  // the first errors are the ones worth reading

 private:
  void record(Mismatch m);
  HwConfig cfg_;
  std::vector<SplsBeat> expected_;
  size_t received_ = 0;
  std::vector<Mismatch> mismatches_;
  size_t suppressed_ = 0;
};

}  // namespace esact::sim
