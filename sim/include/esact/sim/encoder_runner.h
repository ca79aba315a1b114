// System-level run of encoder layers with prediction included: the Verilated SPLS top
// (esact_spls_top, docs/spec.md section 9) and the Verilated layer (esact_layer_top, section 22)
// clocked together in one simulation, the SPLS output stream wired beat for beat into the layer's
// SPLS input (ready while the layer has a free SPLS bank, section 22), so the layer's head-h work
// starts when the predictor has finished head h and the reported total includes prediction. One
// sequence or several back to back (the next sequence's prediction overlaps this one's layer). The harness only
// feeds the predictor's input stream (X, then W_Q / W_K columns per head) and the layer's memory
// port; nothing is taken from the golden model at time zero. Both streams are checked: every SPLS
// beat against the golden SPLS beats, every layer slice by the layer scoreboard.
#pragma once
#include <verilated.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "esact/sim/layer_runner.h"

namespace esact::sim {

// One sequence of a back-to-back system run. Cycles are absolute (from the first layer
// configuration handshake of the run).
struct EncoderSeqResult {
  uint64_t layer_start = 0, layer_end = 0;  // this sequence's layer configuration handshake .. done
  uint64_t spls_first = 0, spls_last = 0;   // its first and last SPLS beat across the wire
  LayerPerf perf;                           // the layer's counters for this sequence
  bool pass = false;                        // every slice of this sequence bit-exact and complete
  size_t mismatches = 0;
  uint64_t compute() const { return perf.compute(); }
};

struct EncoderRunResult {
  bool pass = false, timed_out = false, assertion_failed = false;
  uint64_t cycles = 0;            // first layer configuration handshake .. last layer done
  uint64_t spls_done_cycle = 0;   // first sequence's last SPLS beat (relative to the start)
  uint64_t spls_head0_cycle = 0;  // first KV beat: head 0's prediction is complete
  uint64_t spls_beats = 0, spls_beat_errors = 0;
  double wall_seconds = 0;
  LayerPerf perf;                 // the layer's counters (first sequence)
  std::vector<EncoderSeqResult> seqs;
  std::vector<Mismatch> mismatches;
  std::string first_spls_error;

  // Sum of the compute-phase cycles (QKV, attention, projection, FFN, LN2 tail) of every sequence.
  uint64_t compute_cycles() const {
    uint64_t c = 0;
    for (const EncoderSeqResult& q : seqs) c += q.compute();
    return c;
  }
  // First sequence alone: its layer configuration .. done over its compute phases.
  double single_ratio() const {
    return seqs.empty() || !seqs[0].compute() ? 0.0
                                             : double(seqs[0].layer_end - seqs[0].layer_start) / double(seqs[0].compute());
  }
  // Steady state: cycles each further sequence adds to the run (last done - first done) over the
  // compute-phase cycles of those sequences; 0 with one sequence.
  double steady_ratio() const {
    if (seqs.size() < 2) return 0.0;
    uint64_t c = 0;
    for (size_t i = 1; i < seqs.size(); ++i) c += seqs[i].compute();
    return c ? double(seqs.back().layer_end - seqs[0].layer_end) / double(c) : 0.0;
  }
};

// Sequences run back to back through esact_spls_top -> esact_layer_top in one simulation: the
// predictor takes sequence s+1's configuration as soon as sequence s's input stream is in, its
// output stream fills the layer's second SPLS bank while the layer computes s (section 22), and
// the layer takes s+1's configuration as soon as it is done with s (its memory image switches to
// s+1's at that handshake). Every SPLS beat of every sequence is checked against the golden beats,
// every layer slice by that sequence's scoreboard.
template <class SplsModel, class LayerModel>
EncoderRunResult run_encoder_sequences(const std::vector<const LayerStimulus*>& sts, const LayerRunOptions& lopt) {
  EncoderRunResult res;
  if (sts.empty()) throw std::invalid_argument("run_encoder_sequences: no sequence");
  const LayerStimulus& st0 = *sts[0];
  const HwConfig& cfg = st0.cfg;
  const int N = cfg.N, D = cfg.D, H = cfg.H, dh = cfg.dh(), LANES = cfg.LANES, W = cfg.mac_cols;
  const size_t S = sts.size();
  for (const LayerStimulus* st : sts)
    if (st->cfg.name != cfg.name || !st->sw.any())
      throw std::invalid_argument("run_encoder_sequences: every sequence needs configuration '" + cfg.name +
                                  "' and an ESACT switch on (the layer reads an SPLS bank)");
  uint64_t max_cycles = lopt.run.max_cycles;
  if (!max_cycles)
    for (const LayerStimulus* st : sts)
      max_cycles += layer_watchdog(cfg, st->params, lopt.run.stall_prob) + default_watchdog(cfg, st->params, 0);

  // ---- per sequence: predictor input beats (section 9), expected SPLS beats, scoreboard, memory ----
  std::vector<std::vector<std::vector<uint8_t>>> in_beats(S);
  std::vector<SplsBeat> spls_expected;
  std::vector<size_t> beat_seq;  // sequence of each expected SPLS beat
  std::vector<LayerScoreboard> sbs;
  std::vector<MemoryModel> mems;
  sbs.reserve(S);
  mems.reserve(S);
  for (size_t s = 0; s < S; ++s) {
    const LayerStimulus& st = *sts[s];
    const SplsParams& p = st.params;
    auto push = [&](const std::vector<int8_t>& v) {
      for (int b = 0; b < D / LANES; ++b) in_beats[s].emplace_back(v.begin() + b * LANES, v.begin() + (b + 1) * LANES);
    };
    for (int i = 0; i < p.L; ++i)
      push(std::vector<int8_t>(st.x.data.begin() + int64_t(i) * D, st.x.data.begin() + int64_t(i + 1) * D));
    for (int h = 0; h < H; ++h)
      for (const TensorI8* w : {&st.weights.wq, &st.weights.wk})
        for (int c = h * dh; c < (h + 1) * dh; ++c) {
          std::vector<int8_t> col(static_cast<size_t>(D));
          for (int d = 0; d < D; ++d) col[static_cast<size_t>(d)] = (*w)(d, c);
          push(col);
        }
    for (SplsBeat& b : expected_spls_beats(cfg, p.L, st.spls)) {
      spls_expected.push_back(std::move(b));
      beat_seq.push_back(s);
    }
    sbs.emplace_back(cfg, p, st.golden, &st.spls, st.sw, lopt.debug);
    mems.push_back(make_layer_memory(st, lopt));
  }
  res.seqs.resize(S);
  std::vector<LayerMemPort> ports;
  ports.reserve(S);
  for (size_t s = 0; s < S; ++s) ports.push_back(LayerMemPort{mems[s], W});
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

  // predictor: sp_cur is the sequence whose input stream is being fed (-1 before the first)
  long sp_cur = -1, ly_cur = -1;  // layer: the sequence being computed
  size_t sp_next = 0, ly_next = 0, next_in = 0, loaded_in = SIZE_MAX, spls_index = 0;
  std::vector<bool> ly_done(S, false);
  bool error_seen = false;
  uint64_t start = 0, stop_at = UINT64_MAX;
  auto note_error = [&](uint64_t c) {
    if (!error_seen) {
      error_seen = true;
      stop_at = c + lopt.run.cycles_after_error;
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  try {
    while (true) {
      // the layer finished its sequence (done_o is a register: its value before this cycle's edge)
      if (ly_cur >= 0 && !ly_done[static_cast<size_t>(ly_cur)] && ly->done_o) {
        EncoderSeqResult& q = res.seqs[static_cast<size_t>(ly_cur)];
        ly_done[static_cast<size_t>(ly_cur)] = true;
        q.layer_end = cycle + 1 - start;
        q.perf = read_layer_perf(*ly, /*issue_counts=*/false);
        if (static_cast<size_t>(ly_cur) + 1 == S) break;
      }
      // predictor: the next configuration as soon as the current input stream is in (it is taken
      // when the unit has sent the current sequence's last beat), then its input stream (no input
      // stalls: the predictor's operand bandwidth is what is being measured)
      const bool sp_cfg_valid =
          sp_next < S && (sp_cur < 0 || next_in >= in_beats[static_cast<size_t>(sp_cur)].size());
      sp->cfg_valid_i = sp_cfg_valid;
      if (sp_next < S) {
        const SplsParams& p = sts[sp_next]->params;
        set_field(sp->cfg_len_i, 0, 16, static_cast<uint64_t>(p.L));
        set_field(sp->cfg_k_i, 0, 16, static_cast<uint64_t>(p.k));
        set_field(sp->cfg_t_i, 0, 16, static_cast<uint64_t>(p.T));
        set_field(sp->cfg_w_i, 0, 16, static_cast<uint64_t>(p.w));
        set_field(sp->cfg_v_i, 0, 16, static_cast<uint64_t>(p.V));
        sp->cfg_causal_i = p.causal;
      }
      const std::vector<std::vector<uint8_t>>* cur_in = sp_cur >= 0 ? &in_beats[static_cast<size_t>(sp_cur)] : nullptr;
      const bool in_valid = cur_in && next_in < cur_in->size();
      sp->in_valid_i = in_valid;
      if (in_valid && loaded_in != next_in) {
        for (int e = 0; e < LANES; ++e) set_byte(sp->in_data_i, e, (*cur_in)[next_in][static_cast<size_t>(e)]);
        loaded_in = next_in;
      }
      // layer: the next configuration once the current sequence is done, memory, results
      const bool ly_cfg_valid = ly_next < S && (ly_cur < 0 || ly_done[static_cast<size_t>(ly_cur)]);
      ly->cfg_valid_i = ly_cfg_valid;
      const LayerStimulus& lst = *sts[ly_next < S ? ly_next : S - 1];
      drive_layer_cfg(*ly, lst, layer_switch_bits(lst.sw), lopt.debug);
      LayerMemPort& port = ports[ly_cur >= 0 ? static_cast<size_t>(ly_cur) : 0];
      port.drive(*ly, cycle);
      const bool out_ready = !out_stall.stall();
      ly->out_ready_i = out_ready;
      // the wire: predictor output -> layer SPLS input (settled after the low-phase eval); the
      // layer takes a sequence's stream into its free bank, before or after its configuration
      sp->clk_i = 0;
      sp->eval();
      ly->spls_valid_i = sp->out_valid_o;
      ly->spls_kind_i = sp->out_kind_o;
      ly->spls_head_i = sp->out_head_o;
      ly->spls_row_i = sp->out_row_o;
      ly->spls_rep_i = sp->out_rep_o;
      // test hook: one sequence's head-0 row-0 mask reaches the layer with its last kept key cleared
      int planted_bit = -1;
      if (lopt.plant_spls_fault_seq >= 0 && sp->out_valid_o && spls_index < beat_seq.size() &&
          beat_seq[spls_index] == static_cast<size_t>(lopt.plant_spls_fault_seq) &&
          get_field(sp->out_kind_o, 0, 2) == static_cast<uint64_t>(BeatKind::kRow) && get_field(sp->out_head_o, 0, 16) == 0 &&
          get_field(sp->out_row_o, 0, 16) == 0)
        for (int j = 0; j < N; ++j)
          if (get_bit(sp->out_mask_o, j)) planted_bit = j;
      for (int j = 0; j < N; ++j) set_field(ly->spls_mask_i, j, 1, j == planted_bit ? 0 : get_bit(sp->out_mask_o, j));
      ly->clk_i = 0;
      ly->eval();
      sp->out_ready_i = ly->spls_ready_o;

      if (sp_cfg_valid && sp->cfg_ready_o) {
        sp_cur = static_cast<long>(sp_next++);
        next_in = 0;
        loaded_in = SIZE_MAX;
      } else if (in_valid && sp->in_ready_o) {
        ++next_in;
      }
      bool ly_cfg_hs = false;
      if (ly_cfg_valid && ly->cfg_ready_o) {
        ly_cfg_hs = true;
        if (ly_next == 0) start = cycle;
        res.seqs[ly_next].layer_start = cycle - start;
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
        const size_t bs = spls_index < beat_seq.size() ? beat_seq[spls_index] : S - 1;
        if (!ok) {
          ++res.spls_beat_errors;
          if (res.first_spls_error.empty())
            res.first_spls_error = "SPLS beat " + std::to_string(spls_index) + (S > 1 ? " (sequence " + std::to_string(bs) : " (") +
                                   (S > 1 ? ", head " : "head ") + std::to_string(b.head) + ", row " + std::to_string(b.row) +
                                   ") differs from the golden SPLS at cycle " + std::to_string(cycle);
          note_error(cycle);
        }
        EncoderSeqResult& q = res.seqs[bs];
        const uint64_t rel = cycle >= start ? cycle - start : 0;
        if (spls_index == 0 || beat_seq[spls_index - 1] != bs) q.spls_first = rel;
        q.spls_last = rel;
        if (bs == 0 && b.kind == BeatKind::kKv && res.spls_head0_cycle == 0) res.spls_head0_cycle = rel;
        ++spls_index;
        ++res.spls_beats;
        if (spls_index <= beat_seq.size() && (spls_index == beat_seq.size() || beat_seq[spls_index] != bs) && bs == 0)
          res.spls_done_cycle = rel;
      }
      port.sample(*ly);
      LayerScoreboard& sb = sbs[ly_cur >= 0 ? static_cast<size_t>(ly_cur) : 0];
      if (out_ready && ly->out_valid_o) {
        if (lopt.run.check && !sb.on_beat(read_layer_beat(*ly, W, cycle))) note_error(cycle);
      }
      edge(1);
      ++cycle;
      port.commit(cycle - 1);
      if (ly_cfg_hs) ly_cur = static_cast<long>(ly_next++);  // its memory image from the next cycle on
      check_rtl_assertion(*ctx, res.assertion_failed, sb, cycle, note_error);
      if (cycle >= stop_at) break;
      if (cycle >= max_cycles) {
        res.timed_out = true;
        sb.add_error("watchdog", "no completion after " + std::to_string(max_cycles) + " cycles (sequence " +
                                     std::to_string(ly_cur) + " of " + std::to_string(S) + " in the layer)", cycle);
        note_error(cycle);
        break;
      }
    }
  } catch (const std::exception& e) {
    sbs[ly_cur >= 0 ? static_cast<size_t>(ly_cur) : 0].add_error("memory", e.what(), cycle);
    note_error(cycle);
  }
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sp->final();
  ly->final();
  bool all_done = true;
  for (size_t s = 0; s < S; ++s) {
    if (lopt.run.check && !res.timed_out) sbs[s].finish(cycle);
    for (Mismatch m : sbs[s].mismatches()) {
      if (S > 1) m.tensor = "sequence " + std::to_string(s) + ": " + m.tensor;
      res.mismatches.push_back(std::move(m));
    }
    EncoderSeqResult& q = res.seqs[s];
    q.mismatches = sbs[s].mismatches().size();
    q.pass = ly_done[s] && (lopt.run.check ? sbs[s].ok() : true);
    all_done = all_done && ly_done[s];
  }
  res.perf = res.seqs[0].perf;
  res.cycles = all_done ? res.seqs[S - 1].layer_end : 0;
  res.pass = !res.timed_out && !res.assertion_failed && !error_seen && all_done && res.spls_beat_errors == 0 &&
             spls_index == spls_expected.size();
  for (const EncoderSeqResult& q : res.seqs) res.pass = res.pass && q.pass;
  return res;
}

template <class SplsModel, class LayerModel>
EncoderRunResult run_encoder_case(const LayerStimulus& st, const LayerRunOptions& lopt) {
  return run_encoder_sequences<SplsModel, LayerModel>({&st}, lopt);
}

}  // namespace esact::sim
