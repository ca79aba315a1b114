// System-level run of one encoder layer with prediction included: the Verilated SPLS top
// (esact_spls_top, docs/spec.md section 9) and the Verilated layer (esact_layer_top, section 22)
// clocked together in one simulation, the SPLS output stream wired beat for beat into the layer's
// SPLS input (the layer is always ready for it, section 22), so the layer's head-h work starts when
// the predictor has finished head h and the reported total includes prediction. The harness only
// feeds the predictor's input stream (X, then W_Q / W_K columns per head) and the layer's memory
// port; nothing is taken from the golden model at time zero. Both streams are checked: every SPLS
// beat against the golden SPLS beats, every layer slice by the layer scoreboard.
#pragma once
#include <verilated.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "esact/sim/layer_runner.h"

namespace esact::sim {

struct EncoderRunResult {
  bool pass = false, timed_out = false, assertion_failed = false;
  uint64_t cycles = 0;            // layer configuration handshake .. layer done
  uint64_t spls_done_cycle = 0;   // last SPLS beat (relative to the start)
  uint64_t spls_head0_cycle = 0;  // first KV beat: head 0's prediction is complete
  uint64_t spls_beats = 0, spls_beat_errors = 0;
  double wall_seconds = 0;
  LayerPerf perf;                 // the layer's counters
  std::vector<Mismatch> mismatches;
  std::string first_spls_error;
};

template <class SplsModel, class LayerModel>
EncoderRunResult run_encoder_case(const LayerStimulus& st, const LayerRunOptions& lopt) {
  const HwConfig& cfg = st.cfg;
  const SplsParams& p = st.params;
  const int N = cfg.N, D = cfg.D, H = cfg.H, dh = cfg.dh(), LANES = cfg.LANES, W = cfg.mac_cols;
  EncoderRunResult res;
  const uint64_t max_cycles = lopt.run.max_cycles ? lopt.run.max_cycles
                                                  : layer_watchdog(cfg, p, lopt.run.stall_prob) + default_watchdog(cfg, p, 0);

  // ---- predictor input beats (section 9): X rows, then per head the W_Q and W_K columns ----
  std::vector<std::vector<uint8_t>> in_beats;
  auto push = [&](const std::vector<int8_t>& v) {
    for (int b = 0; b < D / LANES; ++b) in_beats.emplace_back(v.begin() + b * LANES, v.begin() + (b + 1) * LANES);
  };
  for (int i = 0; i < p.L; ++i) push(std::vector<int8_t>(st.x.data.begin() + int64_t(i) * D, st.x.data.begin() + int64_t(i + 1) * D));
  for (int h = 0; h < H; ++h)
    for (const TensorI8* w : {&st.weights.wq, &st.weights.wk})
      for (int c = h * dh; c < (h + 1) * dh; ++c) {
        std::vector<int8_t> col(static_cast<size_t>(D));
        for (int d = 0; d < D; ++d) col[static_cast<size_t>(d)] = (*w)(d, c);
        push(col);
      }
  const std::vector<SplsBeat> spls_expected = expected_spls_beats(cfg, p.L, st.spls);

  LayerScoreboard sb(cfg, p, st.golden, &st.spls, st.sw, lopt.debug);
  MemoryModel mem = make_layer_memory(st, lopt);
  LayerMemPort port{mem, W};
  StallGen out_stall(lopt.run.seed * 7 + 3, lopt.run.stall_prob);

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->fatalOnError(false);
  auto sp = std::make_unique<SplsModel>(ctx.get(), "SPLS");
  auto ly = std::make_unique<LayerModel>(ctx.get(), "LAYER");
  uint64_t cycle = 0;
  auto edge = [&](int clk) {
    sp->clk_i = clk;
    ly->clk_i = clk;
    sp->eval();
    ly->eval();
  };
  sp->rst_ni = 0;
  ly->rst_ni = 0;
  sp->cfg_valid_i = 0;
  sp->in_valid_i = 0;
  sp->out_ready_i = 0;
  hold_layer_inputs(*ly);
  for (int i = 0; i < 5; ++i) {
    edge(0);
    edge(1);
  }
  sp->rst_ni = 1;
  ly->rst_ni = 1;

  const uint32_t switches = layer_switch_bits(st.sw);
  bool sp_cfg_done = false, ly_cfg_done = false, error_seen = false;
  size_t next_in = 0, loaded_in = SIZE_MAX, spls_index = 0;
  uint64_t start = 0, end = 0, stop_at = UINT64_MAX;
  auto note_error = [&](uint64_t c) {
    if (!error_seen) {
      error_seen = true;
      stop_at = c + lopt.run.cycles_after_error;
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  try {
    while (true) {
      // predictor: configuration, then its input stream (no input stalls: the predictor's operand
      // bandwidth is what is being measured)
      sp->cfg_valid_i = !sp_cfg_done;
      set_field(sp->cfg_len_i, 0, 16, static_cast<uint64_t>(p.L));
      set_field(sp->cfg_k_i, 0, 16, static_cast<uint64_t>(p.k));
      set_field(sp->cfg_t_i, 0, 16, static_cast<uint64_t>(p.T));
      set_field(sp->cfg_w_i, 0, 16, static_cast<uint64_t>(p.w));
      set_field(sp->cfg_v_i, 0, 16, static_cast<uint64_t>(p.V));
      sp->cfg_causal_i = p.causal;
      const bool in_valid = sp_cfg_done && next_in < in_beats.size();
      sp->in_valid_i = in_valid;
      if (next_in < in_beats.size() && loaded_in != next_in) {
        for (int e = 0; e < LANES; ++e) set_byte(sp->in_data_i, e, in_beats[next_in][static_cast<size_t>(e)]);
        loaded_in = next_in;
      }
      // layer: configuration, memory, results
      ly->cfg_valid_i = !ly_cfg_done;
      drive_layer_cfg(*ly, st, switches, lopt.debug);
      port.drive(*ly, cycle);
      const bool out_ready = !out_stall.stall();
      ly->out_ready_i = out_ready;
      // the wire: predictor output -> layer SPLS input (settled after the low-phase eval)
      sp->out_ready_i = ly_cfg_done ? 1 : 0;
      sp->clk_i = 0;
      sp->eval();
      ly->spls_valid_i = ly_cfg_done && sp->out_valid_o;
      ly->spls_kind_i = sp->out_kind_o;
      ly->spls_head_i = sp->out_head_o;
      ly->spls_row_i = sp->out_row_o;
      ly->spls_rep_i = sp->out_rep_o;
      for (int j = 0; j < N; ++j) set_field(ly->spls_mask_i, j, 1, get_bit(sp->out_mask_o, j));
      ly->clk_i = 0;
      ly->eval();
      sp->out_ready_i = ly_cfg_done && ly->spls_ready_o;

      if (!sp_cfg_done && sp->cfg_ready_o) sp_cfg_done = true;
      if (in_valid && sp->in_ready_o) ++next_in;
      if (!ly_cfg_done && ly->cfg_ready_o) {
        ly_cfg_done = true;
        start = cycle;
      }
      if (ly->spls_valid_i && ly->spls_ready_o) {  // one predictor beat crosses the wire
        SplsBeat b;
        b.kind = static_cast<BeatKind>(get_field(sp->out_kind_o, 0, 2));
        b.head = static_cast<int>(get_field(sp->out_head_o, 0, 16));
        b.row = static_cast<int>(get_field(sp->out_row_o, 0, 16));
        b.rep = static_cast<int>(get_field(sp->out_rep_o, 0, 16));
        b.shift_q = static_cast<int>(get_field(sp->out_shift_q_o, 0, 5));
        b.shift_k = static_cast<int>(get_field(sp->out_shift_k_o, 0, 5));
        bool ok = spls_index < spls_expected.size();
        if (ok) {
          const SplsBeat& e = spls_expected[spls_index];
          ok = e.kind == b.kind && e.head == b.head && (b.kind == BeatKind::kHead || e.row == b.row) &&
               (b.kind != BeatKind::kRow && b.kind != BeatKind::kToken ? true : e.rep == b.rep) &&
               (b.kind != BeatKind::kHead || (e.shift_q == b.shift_q && e.shift_k == b.shift_k));
          if (ok && (b.kind == BeatKind::kRow || b.kind == BeatKind::kKv))
            for (int j = 0; j < N; ++j) ok = ok && (get_bit(sp->out_mask_o, j) != 0) == (e.mask[static_cast<size_t>(j)] != 0);
        }
        if (!ok) {
          ++res.spls_beat_errors;
          if (res.first_spls_error.empty())
            res.first_spls_error = "SPLS beat " + std::to_string(spls_index) + " (head " + std::to_string(b.head) + ", row " +
                                   std::to_string(b.row) + ") differs from the golden SPLS at cycle " + std::to_string(cycle);
          note_error(cycle);
        }
        if (b.kind == BeatKind::kKv && res.spls_head0_cycle == 0) res.spls_head0_cycle = cycle - start;
        ++spls_index;
        ++res.spls_beats;
        if (spls_index == spls_expected.size()) res.spls_done_cycle = cycle - start;
      }
      port.sample(*ly);
      if (out_ready && ly->out_valid_o) {
        if (lopt.run.check && !sb.on_beat(read_layer_beat(*ly, W, cycle))) note_error(cycle);
      }
      const bool done = ly->done_o && ly_cfg_done;
      edge(1);
      ++cycle;
      port.commit(cycle - 1);
      check_rtl_assertion(*ctx, res.assertion_failed, sb, cycle, note_error);
      if (done && !error_seen) {
        end = cycle;
        break;
      }
      if (cycle >= stop_at) break;
      if (cycle >= max_cycles) {
        res.timed_out = true;
        sb.add_error("watchdog", "no completion after " + std::to_string(max_cycles) + " cycles", cycle);
        note_error(cycle);
        break;
      }
    }
  } catch (const std::exception& e) {
    sb.add_error("memory", e.what(), cycle);
    note_error(cycle);
  }
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (lopt.run.check && !res.timed_out) sb.finish(cycle);
  res.perf = read_layer_perf(*ly, /*issue_counts=*/false);
  sp->final();
  ly->final();
  res.cycles = end > start ? end - start : 0;
  res.mismatches = sb.mismatches();
  res.pass = !res.timed_out && !res.assertion_failed && end > 0 && res.spls_beat_errors == 0 &&
             spls_index == spls_expected.size() && (lopt.run.check ? sb.ok() : true);
  return res;
}

}  // namespace esact::sim
