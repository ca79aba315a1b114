// The layer's memory as the harness owns it (docs/spec.md section 22): the byte image of one layer
// (activations, per-channel parameters, weights in column-tile order) and a memory model that serves
// the RTL's word requests in order with a configurable latency and seeded random back-pressure on
// both the request and the response stream.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "esact/config.h"
#include "esact/layer.h"
#include "esact/sim/stalls.h"

namespace esact::sim {

// Word addresses of the image regions (words of cfg.mac_cols bytes).
struct LayerImageLayout {
  int word_bytes = 0;
  uint64_t x_base = 0, param_base = 0, weight_base = 0, words = 0;
  std::vector<uint64_t> seg_start;  // 25 parameter segments (section 22 table), then the end
  uint64_t weight_matrix_base[6] = {};  // W_Q, W_K, W_V, W_O, W_1, W_2
};

LayerImageLayout layer_image_layout(const HwConfig& cfg);

// The byte image: X rows (row i: the D INT8 values x[i], then the D INT16 values xr[i], little-endian;
// L valid, the rest 0), parameters, weights. Throws std::invalid_argument if the configuration cannot
// hold the layout (MAC_COLS must be a multiple of 8 dividing dh, N, F).
std::vector<uint8_t> build_layer_image(const HwConfig& cfg, const LayerWeights& w, const TensorI8& x,
                                       const TensorI16& xr);

class MemoryModel {
 public:
  MemoryModel(std::vector<uint8_t> image, int word_bytes, int latency, uint64_t seed, double stall_prob)
      : image_(std::move(image)), word_bytes_(word_bytes), latency_(latency),
        req_stall_(seed * 5 + 11, stall_prob), rsp_stall_(seed * 5 + 12, stall_prob) {}

  // Before the clock edge: the request-ready and response (valid, word) the memory drives this cycle.
  bool req_ready() {
    if (!req_decided_) {
      req_ready_ = !req_stall_.stall();
      req_decided_ = true;
    }
    return req_ready_;
  }
  bool rsp_valid(uint64_t cycle) {
    if (!rsp_offered_ && !queue_.empty() && queue_.front().due <= cycle && !rsp_stall_.stall()) rsp_offered_ = true;
    return rsp_offered_;
  }
  const uint8_t* rsp_word() const { return &image_[queue_.front().addr * static_cast<uint64_t>(word_bytes_)]; }
  // At the clock edge: the handshakes that happened. Throws std::out_of_range on a bad address.
  void commit(uint64_t cycle, bool req_hs, uint64_t addr, bool rsp_hs) {
    if (req_hs) {
      if ((addr + 1) * static_cast<uint64_t>(word_bytes_) > image_.size())
        throw std::out_of_range("memory: request for word " + std::to_string(addr) + " outside the image (" +
                                std::to_string(image_.size() / word_bytes_) + " words)");
      queue_.push_back({addr, cycle + static_cast<uint64_t>(latency_)});
      ++requests_;
    }
    if (rsp_hs) {
      queue_.pop_front();
      rsp_offered_ = false;
    }
    req_decided_ = false;
  }
  uint64_t requests() const { return requests_; }
  size_t pending() const { return queue_.size(); }

 private:
  struct Pending {
    uint64_t addr, due;
  };
  std::vector<uint8_t> image_;
  int word_bytes_, latency_;
  StallGen req_stall_, rsp_stall_;
  std::deque<Pending> queue_;
  bool rsp_offered_ = false, req_decided_ = false, req_ready_ = false;
  uint64_t requests_ = 0;
};

}  // namespace esact::sim
