// A clocked bench around one Verilated unit model for the RTL unit tests (tests/sim/unit_*).
// One VerilatedContext per bench (so per test case); assertion failures are recorded, not fatal,
// and reported by assertion_failed() so that a test can CHECK them.
//
// Cycle protocol used by every unit test:
//   1. drive the inputs of this cycle (valid held until its handshake),
//   2. settle(): evaluate with clk low; read ready/valid and sample outputs (the handshakes of
//      this cycle are valid && ready now),
//   3. posedge(): the clock edge commits them.
#pragma once
#include <verilated.h>

#include <cstdint>
#include <memory>

namespace esact::sim {

template <class Model>
class UnitBench {
 public:
  UnitBench() : ctx_(std::make_unique<VerilatedContext>()) {
    ctx_->fatalOnError(false);
    ctx_->randReset(0);
    m_ = std::make_unique<Model>(ctx_.get(), "TOP");
  }
  ~UnitBench() { m_->final(); }
  UnitBench(const UnitBench&) = delete;
  UnitBench& operator=(const UnitBench&) = delete;

  Model& m() { return *m_; }
  Model* operator->() { return m_.get(); }

  // Synchronous view of the active-low asynchronous reset: held low for `cycles` edges.
  void reset(int cycles = 3) {
    m_->rst_ni = 0;
    for (int i = 0; i < cycles; ++i) {
      settle();
      posedge();
    }
    m_->rst_ni = 1;
    settle();
  }
  void settle() {
    m_->clk_i = 0;
    m_->eval();
  }
  void posedge() {
    m_->clk_i = 1;
    m_->eval();
    ++cycle_;
  }
  uint64_t cycle() const { return cycle_; }
  // An `assert` in the RTL failed (the context records $error/$stop instead of aborting).
  bool assertion_failed() const { return ctx_->gotError(); }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> m_;
  uint64_t cycle_ = 0;
};

// Sign-extends the low `width` bits of v.
inline int64_t sign_extend(uint64_t v, int width) {
  const uint64_t m = uint64_t{1} << (width - 1);
  v &= (width >= 64) ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
  return static_cast<int64_t>((v ^ m) - m);
}

}  // namespace esact::sim
