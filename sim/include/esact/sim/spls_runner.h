// Drives one SPLS case through a Verilated esact_spls_top: reset, configuration beat, the input
// stream with seeded random valid gaps, the output stream with seeded random ready drops, a cycle
// watchdog, optional FST or VCD tracing of a cycle window, an online scoreboard, per-phase cycle
// counters, and (coverage builds) the case's coverage file. Width-generic: the same template
// serves every named configuration's model.
#pragma once
#include <verilated.h>
#if VM_TRACE_FST
#include <verilated_fst_c.h>
#elif VM_TRACE_VCD
#include <verilated_vcd_c.h>
#endif
#if VM_COVERAGE
#include <verilated_cov.h>
#endif

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "esact/sim/bits.h"
#include "esact/sim/scoreboard.h"
#include "esact/sim/stalls.h"
#include "esact/spls.h"

namespace esact::sim {

#if VM_TRACE_FST
using Tracer = VerilatedFstC;
#elif VM_TRACE_VCD
using Tracer = VerilatedVcdC;
#endif
#if VM_TRACE
// A model verilated without tracing (esact_verilate NO_TRACE: the untraced twin of rtl/)
// has no trace(): the runner then refuses a trace request instead of failing to compile.
template <class M, class = void>
struct HasTrace : std::false_type {};
template <class M>
struct HasTrace<M, std::void_t<decltype(std::declval<M&>().trace(static_cast<Tracer*>(nullptr), 0))>>
    : std::true_type {};
#endif

// The waveform format compiled in (ESACT_TRACE / ESACT_TRACE_FORMAT): "fst", "vcd" or "" (none).
inline const char* trace_format() {
#if VM_TRACE_FST
  return "fst";
#elif VM_TRACE_VCD
  return "vcd";
#else
  return "";
#endif
}
inline constexpr bool kCoverageBuild = VM_COVERAGE;

// One case as the harness needs it: configuration, registers, inputs and the golden answer.
struct SplsStimulus {
  std::string name;
  HwConfig cfg;
  SplsParams params;
  TensorI8 x, wq, wk;
  SplsResult golden;
};

struct RunOptions {
  uint64_t seed = 1;
  double stall_prob = 0.0;      // per cycle, per stream: valid low on inputs, ready low on outputs
  uint64_t max_cycles = 0;      // watchdog; 0 = derive from the case (always on)
  std::string trace_file;       // empty: no trace
  uint64_t trace_start = 0;     // first traced cycle
  uint64_t trace_end = UINT64_MAX;  // last traced cycle
  uint64_t cycles_after_error = 16; // keep running so the waveform shows context
  bool check = true;            // false: performance run, beats are counted, not compared
  int verilator_seed = 0;       // +verilator+seed (0: Verilator default)
  int rand_reset = 0;           // +verilator+rand+reset (0, 1 or 2)
  std::string coverage_file;    // coverage builds: write this case's coverage here (atomically)
  int64_t plant_mismatch = -1;  // test hook: corrupt the expectation of this output beat
  // Polled every few hundred cycles: when it reads non-zero the case stops and is reported as
  // interrupted (SIGINT / SIGTERM / the run's wall-clock limit set it).
  const volatile std::sig_atomic_t* stop = nullptr;
  // Further cases (same configuration) run back to back on the same model instance after this
  // one: each next configuration beat is offered as soon as the previous sequence's input beats
  // are all accepted, while the unit is still busy, so state left from one sequence or a
  // configuration held off by a busy unit shows up as a mismatch.
  std::vector<const SplsStimulus*> follow_on;
};

// Cycles of one sequence split by what the streams show (each relative to the configuration
// handshake; they add up to RunResult::cycles):
//   load_x   handshake .. the last X row beat accepted
//   project  .. the first HEAD beat leaves (head 0's Q^/K^ projection and drain)
//   heads    .. the last KV beat leaves (PAM, top-k, similarity of every head, overlapped with the
//               projection of the next head)
//   vote     .. the last TOKEN beat leaves (token vote and output drain)
struct PhaseCycles {
  uint64_t load_x = 0, project = 0, heads = 0, vote = 0;
};

// Stream activity counted by the driver and monitor (cycles).
struct StreamStats {
  uint64_t in_beats_offered_idle = 0;  // the driver withheld valid (random stall) with beats left
  uint64_t in_backpressure = 0;        // in_valid && !in_ready
  uint64_t out_stalled = 0;            // out_valid && !out_ready (random ready drop)
  uint64_t out_idle = 0;               // between configuration and last beat: nothing to send
};

struct RunResult {
  bool pass = false;
  bool timed_out = false;
  bool assertion_failed = false;
  uint64_t cycles = 0;          // configuration handshake to last output beat
  uint64_t total_cycles = 0;    // including reset and the tail after an error
  uint64_t first_error_cycle = 0;
  uint64_t max_cycles = 0;
  double wall_seconds = 0;
  size_t beats_in = 0, beats_out = 0, beats_expected = 0;
  std::vector<Mismatch> mismatches;
  std::string trace_file;
  uint64_t trace_first_cycle = 0, trace_last_cycle = 0;  // window actually dumped
  uint64_t traced_cycles = 0;   // 0: the window held no simulated cycle
  bool interrupted = false;     // stopped by RunOptions::stop before completion
  PhaseCycles phases;
  std::vector<uint64_t> head_cycles;  // per head: its HEAD beat to its KV beat
  StreamStats streams;
  uint64_t perf_cycles = 0, perf_busy = 0;  // the RTL's counters (perf_cycles_o, perf_busy_o)
  std::string coverage_file;    // written when RunOptions::coverage_file was set
};

// The watchdog a case gets when none is given: four times the bound of the timing contract plus
// room for reset and stalls (so a hang is caught in seconds, never mistaken for slowness).
inline uint64_t default_watchdog(const HwConfig& cfg, const SplsParams& p, double stall_prob) {
  const uint64_t pairs = 2 * uint64_t(p.L) * cfg.D * cfg.D + uint64_t(cfg.H) * p.L * p.L * cfg.dh();
  const double stretch = stall_prob > 0 ? 1.0 / (1.0 - std::min(stall_prob, 0.95)) : 1.0;
  return static_cast<uint64_t>(4.0 * stretch * double(pairs / uint64_t(cfg.LANES) + 64u * cfg.N * cfg.H)) + 10000;
}

template <class Model>
RunResult run_spls_case(const SplsStimulus& st, const RunOptions& opt) {
  const HwConfig& cfg = st.cfg;
  const SplsParams& p = st.params;
  const int N = cfg.N, D = cfg.D, H = cfg.H, dh = cfg.dh(), LANES = cfg.LANES;
  RunResult res;
  res.max_cycles = opt.max_cycles ? opt.max_cycles : default_watchdog(cfg, p, opt.stall_prob);

  // ---- the input beats of spec section 9, one list per sequence ----
  std::vector<const SplsStimulus*> seqs{&st};
  for (const SplsStimulus* f : opt.follow_on) {
    if (f->cfg.name != cfg.name)
      throw std::invalid_argument("follow-on case '" + f->name + "' has configuration '" + f->cfg.name +
                                  "', not '" + cfg.name + "'");
    seqs.push_back(f);
  }
  std::vector<std::vector<std::vector<int8_t>>> seq_beats;
  std::vector<int8_t> vec(static_cast<size_t>(D));
  for (const SplsStimulus* s : seqs) {
    std::vector<std::vector<int8_t>> list;
    auto push_vec = [&](const std::vector<int8_t>& v) {
      for (int b = 0; b < D / LANES; ++b) list.emplace_back(v.begin() + b * LANES, v.begin() + (b + 1) * LANES);
    };
    for (int i = 0; i < s->params.L; ++i) {
      for (int d = 0; d < D; ++d) vec[static_cast<size_t>(d)] = s->x(i, d);
      push_vec(vec);
    }
    for (int h = 0; h < H; ++h) {
      for (const TensorI8* w : {&s->wq, &s->wk}) {
        for (int c = h * dh; c < (h + 1) * dh; ++c) {
          for (int d = 0; d < D; ++d) vec[static_cast<size_t>(d)] = (*w)(d, c);
          push_vec(vec);
        }
      }
    }
    seq_beats.push_back(std::move(list));
  }
  size_t seq = 0;  // sequence whose input beats are being sent
  const std::vector<std::vector<int8_t>>* beats = &seq_beats[0];
  size_t total_in_beats = 0;
  for (const auto& l : seq_beats) total_in_beats += l.size();
  for (size_t i = 1; i < seqs.size(); ++i) res.max_cycles += default_watchdog(cfg, seqs[i]->params, opt.stall_prob);

  std::vector<SplsBeat> expected = expected_spls_beats(cfg, p.L, st.golden);
  if (opt.plant_mismatch >= 0 && static_cast<size_t>(opt.plant_mismatch) < expected.size()) {
    // Test hook (docs/debugging.md): corrupt one expected beat so the scoreboard sees the RTL
    // "wrong" there, exactly as it would see a real RTL bug at that beat.
    SplsBeat& b = expected[static_cast<size_t>(opt.plant_mismatch)];
    if (b.kind == BeatKind::kHead) b.shift_q ^= 1;
    else if (b.kind == BeatKind::kToken) b.rep ^= 1;
    else b.mask[0] ^= 1;
  }
  for (size_t i = 1; i < seqs.size(); ++i) {
    const std::vector<SplsBeat> more = expected_spls_beats(cfg, seqs[i]->params.L, seqs[i]->golden);
    expected.insert(expected.end(), more.begin(), more.end());
  }
  SplsScoreboard sb(cfg, std::move(expected));
  res.beats_expected = sb.expected_count();

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->fatalOnError(false);  // an assertion is a reported failure, not an abort of the regression
  ctx->randReset(opt.rand_reset);
  if (opt.verilator_seed) ctx->randSeed(opt.verilator_seed);
#if VM_TRACE
  // Trace bookkeeping in the model's eval costs time only once tracing was ever switched on, so
  // a traced build run without --trace stays fast (measured: bench/trace_overhead).
  if (!opt.trace_file.empty()) ctx->traceEverOn(true);
#endif
  auto m = std::make_unique<Model>(ctx.get(), "TOP");
#if VM_TRACE
  std::unique_ptr<Tracer> tfp;
  if (!opt.trace_file.empty()) {
    tfp = std::make_unique<Tracer>();
    if constexpr (HasTrace<Model>::value) m->trace(tfp.get(), 99);
    else throw std::runtime_error("this model was built without tracing");
    tfp->open(opt.trace_file.c_str());
    if (!tfp->isOpen()) throw std::runtime_error(opt.trace_file + ": cannot open the waveform file");
    res.trace_file = opt.trace_file;
  }
  bool traced_any = false;
  auto dump = [&](uint64_t cycle, uint64_t t) {
    if (!tfp || cycle < opt.trace_start || cycle > opt.trace_end) return;
    if (!traced_any) res.trace_first_cycle = cycle;
    if (!traced_any || res.trace_last_cycle != cycle) ++res.traced_cycles;
    traced_any = true;
    res.trace_last_cycle = cycle;
    tfp->dump(t);
  };
#endif

  StallGen in_stall(opt.seed * 3 + 1, opt.stall_prob), out_stall(opt.seed * 3 + 2, opt.stall_prob),
      cfg_stall(opt.seed * 3 + 3, opt.stall_prob);
  uint64_t cycle = 0;
  // Cycle c occupies time units [2c, 2c+2): clock low at 2c, rising edge at 2c+1.
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

  // ---- reset ----
  m->rst_ni = 0;
  m->cfg_valid_i = 0;
  m->in_valid_i = 0;
  m->out_ready_i = 0;
  for (int i = 0; i < 5; ++i) {
    tick();
    tock();
  }
  m->rst_ni = 1;

  const auto t0 = std::chrono::steady_clock::now();
  bool cfg_done = false, cfg_offered = false, in_offered = false;
  size_t cfg_count = 0;  // configuration handshakes so far
  size_t next_beat = 0, loaded_beat = SIZE_MAX;
  uint64_t start_cycle = 0, last_out_cycle = 0;
  bool error_seen = false;
  uint64_t stop_at = UINT64_MAX;
  const size_t x_beats = static_cast<size_t>(p.L) * static_cast<size_t>(D / LANES);
  uint64_t x_done_cycle = 0, first_head_cycle = 0, last_kv_cycle = 0;
  bool x_done = false, head_seen = false;
  res.head_cycles.assign(static_cast<size_t>(H), 0);
  std::vector<uint64_t> head_start(static_cast<size_t>(H), 0);
  while (true) {
    // Drive this cycle's inputs (held stable while valid and not yet accepted).
    // Valid/ready rule: once valid is high it stays high, with the same data, until accepted;
    // the stall generator only decides when a new beat is offered.
    // The next sequence's configuration is offered once the previous one's inputs are all in.
    const bool cfg_wanted = cfg_count < seqs.size() && (cfg_count == 0 || next_beat == beats->size());
    const bool cfg_valid = cfg_wanted && (cfg_offered || !cfg_stall.stall());
    cfg_offered = cfg_valid;
    m->cfg_valid_i = cfg_valid;
    const SplsParams& cp = seqs[std::min(cfg_count, seqs.size() - 1)]->params;
    set_field(m->cfg_len_i, 0, 16, static_cast<uint64_t>(cp.L));
    set_field(m->cfg_k_i, 0, 16, static_cast<uint64_t>(cp.k));
    set_field(m->cfg_t_i, 0, 16, static_cast<uint64_t>(cp.T));
    set_field(m->cfg_w_i, 0, 16, static_cast<uint64_t>(cp.w));
    set_field(m->cfg_v_i, 0, 16, static_cast<uint64_t>(cp.V));
    m->cfg_causal_i = cp.causal;
    const bool in_pending = cfg_done && next_beat < beats->size();
    const bool in_valid = in_pending && (in_offered || !in_stall.stall());
    in_offered = in_valid;
    m->in_valid_i = in_valid;
    if (next_beat < beats->size() && loaded_beat != next_beat) {  // data changes only per beat
      for (int e = 0; e < LANES; ++e)
        set_byte(m->in_data_i, e, static_cast<uint8_t>((*beats)[next_beat][static_cast<size_t>(e)]));
      loaded_beat = next_beat;
    }
    const bool out_ready = !out_stall.stall();
    m->out_ready_i = out_ready;
    tick();  // combinational outputs settle on this cycle's inputs

    if (cfg_valid && m->cfg_ready_o) {
      if (cfg_count == 0) start_cycle = cycle;
      if (cfg_count > 0) {  // the next sequence's input beats start
        seq = cfg_count;
        beats = &seq_beats[seq];
        next_beat = 0;
        loaded_beat = SIZE_MAX;
      }
      ++cfg_count;
      cfg_done = true;
      cfg_offered = false;
    }
    if (in_valid && m->in_ready_o) {
      ++next_beat;
      ++res.beats_in;
      in_offered = false;
      if (seq == 0 && next_beat == x_beats) {
        x_done = true;
        x_done_cycle = cycle;
      }
    } else if (in_valid) {
      ++res.streams.in_backpressure;
    } else if (in_pending) {
      ++res.streams.in_beats_offered_idle;
    }
    if (m->out_valid_o && !out_ready) ++res.streams.out_stalled;
    if (cfg_done && !m->out_valid_o && res.beats_out < res.beats_expected) ++res.streams.out_idle;
    if (out_ready && m->out_valid_o) {
      SplsBeat b;
      b.kind = static_cast<BeatKind>(get_field(m->out_kind_o, 0, 2));
      b.head = static_cast<int>(get_field(m->out_head_o, 0, 16));
      b.row = static_cast<int>(get_field(m->out_row_o, 0, 16));
      b.rep = static_cast<int>(get_field(m->out_rep_o, 0, 16));
      b.shift_q = static_cast<int>(get_field(m->out_shift_q_o, 0, 5));
      b.shift_k = static_cast<int>(get_field(m->out_shift_k_o, 0, 5));
      b.mask.resize(static_cast<size_t>(N));
      for (int j = 0; j < N; ++j) b.mask[static_cast<size_t>(j)] = get_bit(m->out_mask_o, j);
      b.cycle = cycle;
      ++res.beats_out;
      last_out_cycle = cycle;
      if (b.head >= 0 && b.head < H) {
        const size_t h = static_cast<size_t>(b.head);
        if (b.kind == BeatKind::kHead) {
          if (!head_seen) first_head_cycle = cycle;
          head_seen = true;
          head_start[h] = cycle;
        } else if (b.kind == BeatKind::kKv) {
          res.head_cycles[h] = cycle - head_start[h];
          last_kv_cycle = cycle;
        }
      }
      if (opt.check) {
        if (!sb.on_beat(b) && !error_seen) {
          error_seen = true;
          res.first_error_cycle = cycle;
          stop_at = cycle + opt.cycles_after_error;
        }
      }
    }
    tock();
    if (ctx->gotError() && !res.assertion_failed) {
      res.assertion_failed = true;
      sb.add_error("assertion", "an RTL assertion failed (see the %Error line above)", cycle);
      if (!error_seen) {
        error_seen = true;
        res.first_error_cycle = cycle;
        stop_at = cycle + opt.cycles_after_error;
      }
    }
    if (opt.stop && (cycle & 255) == 0 && *opt.stop) {
      res.interrupted = true;
      break;
    }
    if (!opt.check && res.beats_out >= res.beats_expected) break;
    if (opt.check && sb.complete() && !error_seen) break;
    if (cycle >= stop_at) break;
    if (cycle >= res.max_cycles) {
      res.timed_out = true;
      std::string why = "watchdog: no completion after " + std::to_string(res.max_cycles) + " cycles (" +
                        std::to_string(res.beats_in) + "/" + std::to_string(total_in_beats) + " input beats, " +
                        std::to_string(res.beats_out) + "/" + std::to_string(res.beats_expected) + " output beats)";
      sb.add_error("watchdog", why, cycle);
      if (!error_seen) res.first_error_cycle = cycle;
      break;
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  // a run stopped a few cycles after its first error is short of beats by design: not a new error
  if (opt.check && !res.timed_out && !res.interrupted && !error_seen) sb.finish(cycle);
  res.perf_cycles = get_field(m->perf_cycles_o, 0, 32);
  res.perf_busy = get_field(m->perf_busy_o, 0, 32);
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
  res.cycles = last_out_cycle >= start_cycle ? last_out_cycle - start_cycle + 1 : 0;
  if (seqs.size() == 1 && x_done && head_seen && last_kv_cycle && res.beats_out == res.beats_expected) {
    res.phases.load_x = x_done_cycle - start_cycle + 1;
    res.phases.project = first_head_cycle - x_done_cycle;
    res.phases.heads = last_kv_cycle - first_head_cycle;
    res.phases.vote = last_out_cycle - last_kv_cycle;
  }
  res.mismatches = sb.mismatches();
  res.pass = !res.timed_out && !res.assertion_failed && !res.interrupted &&
             (opt.check ? sb.ok() : res.beats_out == res.beats_expected);
  return res;
}

}  // namespace esact::sim
