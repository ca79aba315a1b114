// Seeded random back-pressure for valid/ready streams. One generator per stream, so adding a
// stream does not change the stall pattern of the others.
#pragma once
#include <cstdint>

namespace esact::sim {

class StallGen {
 public:
  StallGen(uint64_t seed, double prob) : state_(seed ^ 0x9E3779B97F4A7C15ull), prob_(prob) {
    threshold_ = prob <= 0.0 ? 0 : prob >= 1.0 ? ~uint64_t{0} : static_cast<uint64_t>(prob * 18446744073709551616.0);
  }
  // True when this cycle should stall (valid low on an input, ready low on an output).
  bool stall() { return prob_ > 0.0 && next() < threshold_; }
  uint64_t next() {  // splitmix64: the same sequence on every compiler and machine
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
  double prob_;
  uint64_t threshold_ = 0;
};

}  // namespace esact::sim
