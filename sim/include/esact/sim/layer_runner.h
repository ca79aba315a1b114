// Drives one encoder-layer case through a Verilated esact_layer_top (docs/spec.md section 22):
// reset, the configuration beat, the SPLS result stream (ESACT mode), a memory model serving the
// layer image with latency and back-pressure, the result stream with seeded random ready drops,
// a cycle watchdog, optional FST or VCD tracing of a cycle window, (coverage builds) the case's
// coverage file, an online scoreboard and the per-phase counters.
// Separate from the SPLS runner; shares its RunOptions.
#pragma once
#include <verilated.h>
// the waveform writer (FST or VCD, ESACT_TRACE_FORMAT) comes with spls_runner.h: sim::Tracer

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "esact/layer.h"
#include "esact/sim/bits.h"
#include "esact/sim/layer_scoreboard.h"
#include "esact/sim/memory_model.h"
#include "esact/sim/scoreboard.h"
#include "esact/sim/spls_runner.h"
#include "esact/sim/stalls.h"
#include "esact/sim/unit_bench.h"  // sign_extend

namespace esact::sim {

struct LayerStimulus {
  std::string name;
  HwConfig cfg;
  SplsParams params;
  LayerWeights weights;
  TensorI8 x;
  TensorI16 xr;            // INT16 layer input at the residual-1 scale
  LayerSwitches sw;        // all off: dense
  SplsResult spls;         // used when a switch is on
  LayerResult golden;      // run_layer(cfg, params, weights, x, xr, sw.any() ? &spls : nullptr, sw)
};

struct LayerRunOptions {
  RunOptions run;          // seed, stalls, watchdog, trace window, check
  int mem_latency = 0;     // 0: the configuration's MEM_LATENCY
  bool debug = true;       // emit and check the intermediates, not only the layer output
  // System runs (encoder_runner.h), test hook: the head-0 row-0 ROW beat of this sequence reaches
  // the layer with its last kept key cleared (the SPLS wire check still sees the true beat), so
  // that sequence's SPLS bank is corrupt; -1: off.
  int plant_spls_fault_seq = -1;
};

// Per-phase counters of the RTL (esact_layer_top perf_o).
struct LayerPerf {
  uint64_t total = 0, load = 0, wait_spls = 0, qkv = 0, attn = 0, oproj = 0, ffn = 0, tail = 0, mem_stall = 0;
  uint64_t issued_qkv = 0, issued_attn = 0, issued_oproj = 0, issued_ffn = 0;
  uint64_t compute() const { return qkv + attn + oproj + ffn + tail; }
};

struct LayerRunResult {
  bool pass = false, timed_out = false, assertion_failed = false;
  uint64_t cycles = 0, total_cycles = 0, first_error_cycle = 0, max_cycles = 0, mem_requests = 0;
  double wall_seconds = 0;
  size_t beats_out = 0, beats_expected = 0;
  LayerPerf perf;
  std::vector<Mismatch> mismatches;
  std::string trace_file;
  uint64_t trace_first_cycle = 0, trace_last_cycle = 0;  // window actually dumped
  uint64_t traced_cycles = 0;   // 0: the window held no simulated cycle
  bool interrupted = false;     // stopped by RunOptions::stop before completion
  std::string coverage_file;    // written when RunOptions::coverage_file was set (coverage builds)
};

inline uint64_t layer_watchdog(const HwConfig& cfg, const SplsParams& p, double stall_prob) {
  const LayerMacs m = dense_macs(cfg, p);
  const double pes = double(cfg.mac_rows) * cfg.mac_cols;
  const double stretch = stall_prob > 0 ? 1.0 / (1.0 - std::min(stall_prob, 0.95)) : 1.0;
  return static_cast<uint64_t>(6.0 * stretch * (double(m.total()) / pes + 400.0 * cfg.N * (cfg.H + 2))) + 20000;
}

// ---- pieces shared with the system-level runner (encoder_runner.h) ----

// cfg_switch_i of esact_layer_top: one bit per LayerSwitches flag (section 22).
inline uint32_t layer_switch_bits(const LayerSwitches& sw) {
  return (sw.skip_q ? 1u : 0u) | (sw.skip_kv ? 2u : 0u) | (sw.topk_attn ? 4u : 0u) | (sw.reuse_attn ? 8u : 0u) |
         (sw.reuse_oproj ? 16u : 0u) | (sw.reuse_ffn ? 32u : 0u);
}

// The memory model serving the layer image with the run's latency, seed and back-pressure.
inline MemoryModel make_layer_memory(const LayerStimulus& st, const LayerRunOptions& lopt) {
  return MemoryModel(build_layer_image(st.cfg, st.weights, st.x, st.xr), st.cfg.mac_cols,
                     lopt.mem_latency ? lopt.mem_latency : st.cfg.mem_latency, lopt.run.seed, lopt.run.stall_prob);
}

// The layer's input handshakes held low during reset.
template <class Model>
void hold_layer_inputs(Model& m) {
  m.cfg_valid_i = 0;
  m.spls_valid_i = 0;
  m.mem_req_ready_i = 0;
  m.mem_rsp_valid_i = 0;
  m.out_ready_i = 0;
}

// The configuration beat's fields (cfg_valid_i is driven by the caller).
template <class Model>
void drive_layer_cfg(Model& m, const LayerStimulus& st, uint32_t switches, bool debug) {
  m.cfg_len_i = static_cast<uint32_t>(st.params.L);
  m.cfg_causal_i = st.params.causal;
  m.cfg_switch_i = switches;
  m.cfg_dbg_i = debug;
}

// The layer's memory port on a MemoryModel, once per cycle: drive() before the low-phase eval,
// sample() after it (before the rising edge), commit() after the rising edge.
struct LayerMemPort {
  MemoryModel& mem;
  int W;
  bool req_ready = false, rsp_valid = false, req_hs = false, rsp_hs = false;
  uint64_t req_addr = 0;

  template <class Model>
  void drive(Model& m, uint64_t cycle) {
    req_ready = mem.req_ready();
    m.mem_req_ready_i = req_ready;
    rsp_valid = mem.rsp_valid(cycle);
    m.mem_rsp_valid_i = rsp_valid;
    if (rsp_valid) {
      const uint8_t* w = mem.rsp_word();
      for (int e = 0; e < W; ++e) set_byte(m.mem_rsp_data_i, e, w[e]);
    }
  }
  template <class Model>
  void sample(const Model& m) {
    req_hs = m.mem_req_valid_o && req_ready;
    req_addr = m.mem_req_addr_o;
    rsp_hs = rsp_valid && m.mem_rsp_ready_o;
  }
  void commit(uint64_t cycle) { mem.commit(cycle, req_hs, req_addr, rsp_hs); }
};

// The result slice on the layer's output port.
template <class Model>
LayerBeat read_layer_beat(const Model& m, int W, uint64_t cycle) {
  LayerBeat b;
  b.kind = static_cast<LayerKind>(get_field(m.out_kind_o, 0, 4));
  b.row = static_cast<int>(get_field(m.out_row_o, 0, 16));
  b.col = static_cast<int>(get_field(m.out_col_o, 0, 16));
  for (int c = 0; c < W; ++c) b.data.push_back(static_cast<int32_t>(sign_extend(get_field(m.out_data_o, 16 * c, 16), 16)));
  b.cycle = cycle;
  return b;
}

// The per-phase counters (perf_o); the issue counters only when issue_counts is set.
template <class Model>
LayerPerf read_layer_perf(const Model& m, bool issue_counts) {
  auto perf = [&](int i) { return get_field(m.perf_o, 32 * i, 32); };
  LayerPerf pf;
  pf.total = perf(0);
  pf.load = perf(1);
  pf.wait_spls = perf(2);
  pf.qkv = perf(3);
  pf.attn = perf(4);
  pf.oproj = perf(5);
  pf.ffn = perf(6);
  pf.tail = perf(7);
  pf.mem_stall = perf(8);
  if (issue_counts) {
    pf.issued_qkv = perf(9);
    pf.issued_attn = perf(10);
    pf.issued_oproj = perf(11);
    pf.issued_ffn = perf(12);
  }
  return pf;
}

// After the rising edge: a failed RTL assertion (Verilator %Error) is recorded once.
template <class NoteError>
void check_rtl_assertion(VerilatedContext& ctx, bool& assertion_failed, LayerScoreboard& sb, uint64_t cycle,
                         NoteError&& note_error) {
  if (ctx.gotError() && !assertion_failed) {
    assertion_failed = true;
    sb.add_error("assertion", "an RTL assertion failed (see the %Error line above)", cycle);
    note_error(cycle);
  }
}

template <class Model>
LayerRunResult run_layer_case(const LayerStimulus& st, const LayerRunOptions& lopt) {
  const RunOptions& opt = lopt.run;
  const HwConfig& cfg = st.cfg;
  const SplsParams& p = st.params;
  const int W = cfg.mac_cols, N = cfg.N;
  LayerRunResult res;
  res.max_cycles = opt.max_cycles ? opt.max_cycles : layer_watchdog(cfg, p, opt.stall_prob);

  const bool esact_mode = st.sw.any();
  const std::vector<SplsBeat> spls_beats = esact_mode ? expected_spls_beats(cfg, p.L, st.spls) : std::vector<SplsBeat>{};
  LayerScoreboard sb(cfg, p, st.golden, esact_mode ? &st.spls : nullptr, st.sw, lopt.debug);
  res.beats_expected = sb.expected_count();
  MemoryModel mem = make_layer_memory(st, lopt);
  LayerMemPort port{mem, W};

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->fatalOnError(false);
  ctx->randReset(opt.rand_reset);
  if (opt.verilator_seed) ctx->randSeed(opt.verilator_seed);
#if VM_TRACE
  // as in run_spls_case: trace bookkeeping costs time only once tracing was ever switched on
  if (!opt.trace_file.empty()) ctx->traceEverOn(true);
#endif
  auto m = std::make_unique<Model>(ctx.get(), "TOP");
#if VM_TRACE
  std::unique_ptr<Tracer> tfp;
  if (!opt.trace_file.empty()) {
    tfp = std::make_unique<Tracer>();
    if constexpr (HasTrace<Model>::value) m->trace(tfp.get(), 99);
    else throw std::runtime_error("this layer model was built without tracing");
    tfp->open(opt.trace_file.c_str());
    if (!tfp->isOpen()) throw std::runtime_error(opt.trace_file + ": cannot open the waveform file");
    res.trace_file = opt.trace_file;
  }
  bool traced_any = false;
  // Cycle c occupies time units [2c, 2c+2): clock low at 2c, rising edge at 2c+1 (as run_spls_case).
  auto dump = [&](uint64_t c, uint64_t t) {
    if (!tfp || c < opt.trace_start || c > opt.trace_end) return;
    if (!traced_any) res.trace_first_cycle = c;
    if (!traced_any || res.trace_last_cycle != c) ++res.traced_cycles;
    traced_any = true;
    res.trace_last_cycle = c;
    tfp->dump(t);
  };
#endif
  StallGen cfg_stall(opt.seed * 7 + 1, opt.stall_prob), spls_stall(opt.seed * 7 + 2, opt.stall_prob),
      out_stall(opt.seed * 7 + 3, opt.stall_prob);
  uint64_t cycle = 0;
  auto tick = [&]() {
    m->clk_i = 0;
    m->eval();
#if VM_TRACE
    dump(cycle, 2 * cycle);
#endif
  };
  auto tock = [&]() {
    m->clk_i = 1;
    m->eval();
#if VM_TRACE
    dump(cycle, 2 * cycle + 1);
#endif
    ++cycle;
  };
  m->rst_ni = 0;
  hold_layer_inputs(*m);
  for (int i = 0; i < 5; ++i) {
    tick();
    tock();
  }
  m->rst_ni = 1;

  const auto t0 = std::chrono::steady_clock::now();
  bool cfg_done = false, cfg_offered = false, spls_offered = false, error_seen = false;
  size_t next_spls = 0, loaded_spls = SIZE_MAX;
  uint64_t start_cycle = 0, end_cycle = 0, stop_at = UINT64_MAX;
  const uint32_t switches = layer_switch_bits(st.sw);
  auto note_error = [&](uint64_t c) {
    if (!error_seen) {
      error_seen = true;
      res.first_error_cycle = c;
      stop_at = c + opt.cycles_after_error;
    }
  };
  try {
    while (true) {
      const bool cfg_valid = !cfg_done && (cfg_offered || !cfg_stall.stall());
      cfg_offered = cfg_valid;
      m->cfg_valid_i = cfg_valid;
      drive_layer_cfg(*m, st, switches, lopt.debug);
      const bool spls_valid = cfg_done && next_spls < spls_beats.size() && (spls_offered || !spls_stall.stall());
      spls_offered = spls_valid;
      m->spls_valid_i = spls_valid;
      if (next_spls < spls_beats.size() && loaded_spls != next_spls) {
        const SplsBeat& b = spls_beats[next_spls];
        m->spls_kind_i = static_cast<uint32_t>(b.kind);
        m->spls_head_i = static_cast<uint32_t>(b.head);
        m->spls_row_i = static_cast<uint32_t>(b.row);
        m->spls_rep_i = static_cast<uint32_t>(b.rep < 0 ? 0 : b.rep);
        for (int j = 0; j < N; ++j) set_field(m->spls_mask_i, j, 1, b.mask.empty() ? 0 : b.mask[static_cast<size_t>(j)]);
        loaded_spls = next_spls;
      }
      port.drive(*m, cycle);
      const bool out_ready = !out_stall.stall();
      m->out_ready_i = out_ready;
      tick();
      if (cfg_valid && m->cfg_ready_o) {
        cfg_done = true;
        cfg_offered = false;
        start_cycle = cycle;
      }
      if (spls_valid && m->spls_ready_o) {  // a free SPLS bank: ready (section 22)
        ++next_spls;
        spls_offered = false;
      }
      port.sample(*m);
      if (out_ready && m->out_valid_o) {
        const LayerBeat b = read_layer_beat(*m, W, cycle);
        ++res.beats_out;
        if (opt.check && !sb.on_beat(b)) note_error(cycle);
      }
      const bool done = m->done_o && cfg_done;
      tock();
      port.commit(cycle - 1);
      check_rtl_assertion(*ctx, res.assertion_failed, sb, cycle, note_error);
      if (done && !error_seen) {
        end_cycle = cycle;
        break;
      }
      if (cycle >= stop_at) break;
      if (opt.stop && (cycle & 255) == 0 && *opt.stop) {
        res.interrupted = true;
        break;
      }
      if (cycle >= res.max_cycles) {
        res.timed_out = true;
        sb.add_error("watchdog", "no completion after " + std::to_string(res.max_cycles) + " cycles (" +
                                     std::to_string(res.beats_out) + "/" + std::to_string(res.beats_expected) +
                                     " result slices, " + std::to_string(mem.requests()) + " memory words)", cycle);
        note_error(cycle);
        break;
      }
    }
  } catch (const std::exception& e) {
    sb.add_error("memory", e.what(), cycle);
    note_error(cycle);
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (opt.check && !res.timed_out && !res.interrupted) sb.finish(cycle);
  res.perf = read_layer_perf(*m, /*issue_counts=*/true);
  m->final();
#if VM_TRACE
  if (tfp) tfp->close();
#endif
#if VM_COVERAGE
  // Only a run that ran to its end writes coverage (an interrupted case would under-count).
  if (!opt.coverage_file.empty() && !res.interrupted) {
    const std::string tmp = opt.coverage_file + ".tmp";
    ctx->coveragep()->write(tmp.c_str());
    if (std::rename(tmp.c_str(), opt.coverage_file.c_str()) != 0)
      throw std::runtime_error(opt.coverage_file + ": cannot move the coverage file into place");
    res.coverage_file = opt.coverage_file;
  }
#endif
  res.wall_seconds = std::chrono::duration<double>(t1 - t0).count();
  res.total_cycles = cycle;
  res.cycles = end_cycle > start_cycle ? end_cycle - start_cycle : 0;
  res.mem_requests = mem.requests();
  res.mismatches = sb.mismatches();
  res.pass = !res.timed_out && !res.assertion_failed && !res.interrupted && end_cycle > 0 && (opt.check ? sb.ok() : true);
  return res;
}

}  // namespace esact::sim
