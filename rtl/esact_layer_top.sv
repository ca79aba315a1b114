// Encoder layer top (docs/spec.md Part II, section 22): QKV generation, attention (QK^T, integer
// softmax, xV), output projection, residual + LayerNorm 1, FFN (up, i-GELU, down), residual +
// LayerNorm 2, in dense mode or with the ESACT switches of section 19, driven by the SPLS output
// stream of section 9.
//
// Streams (valid/ready):
//   cfg     one beat per layer: L, causal, six switches, debug enable
//   spls    the esact_spls_top output stream (HEAD, ROW, KV per head, then TOKEN); only needed
//           when a switch is on. Head h's Q/K/V generation starts as soon as its KV beat is in, so
//           prediction of head h+1 overlaps generation of head h (progressive generation). Two
//           banks: the stream of the next sequence is taken while this one computes.
//   mem     request (word address) / response (one Cols-byte word) in order; the harness owns the
//           memory, its latency and its back-pressure. Layout: section 22.
//   out     result rows: Q, K, V, attention, projection, LN1 (INT8 h1 and INT16 h1r), FFN hidden,
//           FFN branch (debug enable only) and the layer output (INT8 y and INT16 yr), one Cols-wide
//           row slice per beat.
//
// Datapath: one Rows x Cols output-stationary MAC array (esact_mac_array) shared by every matrix
// product; a tile is Rows output rows (tokens, compacted from the rows the switches keep) x Cols
// output channels, one reduction step per cycle. Weights stream from memory (a credit-based fetch
// engine runs the same loop nest ahead of the array); activations live in on-chip buffers. Finished
// tiles drain through requantiser -> GELU -> requantiser (esact_requant, esact_gelu) into the
// buffers, Rows softmax units (esact_softmax, one per tile row) and two LayerNorm units
// (esact_layernorm) that run behind the projection and FFN tiles.

module esact_layer_top
  import esact_pkg::*;
#(
  parameter int unsigned N          = 16,
  parameter int unsigned D          = 32,
  parameter int unsigned H          = 2,
  parameter int unsigned F          = 64,
  parameter int unsigned Rows       = 4,   // MAC_ROWS
  parameter int unsigned Cols       = 16,  // MAC_COLS (memory word = Cols bytes)
  parameter int unsigned MemLatency = 8,   // MEM_LATENCY: sizes the response buffer
  // derived
  localparam int unsigned Dh     = D / H,
  localparam int unsigned W      = Cols,
  localparam int unsigned CtD    = D / W,
  localparam int unsigned CtF    = F / W,
  localparam int unsigned CtH    = Dh / W,
  localparam int unsigned NT     = N / W,        // key tiles
  localparam int unsigned MaxK   = (F > D) ? F : D,
  localparam int unsigned RowW   = idx_w(N),
  localparam int unsigned LenW   = cnt_w(N),
  localparam int unsigned HeadW  = idx_w(H),
  localparam int unsigned ColW   = idx_w(MaxK),  // column / reduction index
  localparam int unsigned PerfN  = 13
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // configuration (accepted when idle or done)
  input  logic                          cfg_valid_i,
  output logic                          cfg_ready_o,
  input  logic [LenW-1:0]               cfg_len_i,      // L
  input  logic                          cfg_causal_i,
  input  logic [5:0]                    cfg_switch_i,   // {reuse_ffn, reuse_oproj, reuse_attn, topk_attn, skip_kv, skip_q}
  input  logic                          cfg_dbg_i,      // emit intermediate rows on out
  // SPLS results (the esact_spls_top output stream, section 9)
  input  logic                          spls_valid_i,
  output logic                          spls_ready_o,
  input  logic [1:0]                    spls_kind_i,
  input  logic [HeadW-1:0]              spls_head_i,
  input  logic [RowW-1:0]               spls_row_i,
  input  logic [RowW-1:0]               spls_rep_i,
  input  logic [N-1:0]                  spls_mask_i,
  // memory port
  output logic                          mem_req_valid_o,
  input  logic                          mem_req_ready_i,
  output logic [31:0]                   mem_req_addr_o,  // word address
  input  logic                          mem_rsp_valid_i,
  output logic                          mem_rsp_ready_o,
  input  int8_t [W-1:0]                 mem_rsp_data_i,  // byte e in bits [8e+7:8e]
  // result rows
  output logic                          out_valid_o,
  input  logic                          out_ready_i,
  output logic [3:0]                    out_kind_o,      // layer_kind_e
  output logic [RowW-1:0]               out_row_o,       // token
  output logic [ColW-1:0]               out_col_o,       // first column of the slice
  output int16_t [W-1:0]                out_data_o,      // values (INT8 sign-extended)
  // status and performance counters (cleared by a configuration beat)
  output logic                          done_o,
  output logic [PerfN-1:0][PerfW-1:0]   perf_o
);

  // ===============================================================================================
  // Memory layout (section 22): words of W bytes
  // ===============================================================================================
  localparam int unsigned NSeg = 25;
  function automatic int unsigned seg_len(input int unsigned s);
    unique case (s)
      0, 1, 2, 3, 4, 5, 6, 7:  return D * 4 / W;   // Q, K, V, O: bias, rq
      8, 9, 10:                return F * 4 / W;   // W1 bias, up rq, gelu rq
      11, 12:                  return D * 4 / W;   // W2 bias, down rq
      13:                      return ceil_div(H * 4, W);  // qk rq per head
      14:                      return D * 4 / W;   // av rq
      15, 19:                  return D * 2 / W;   // LN gamma
      16, 17, 20, 21:          return D * 4 / W;   // LN beta, rq
      18, 22:                  return 1;           // LN eps
      23, 24:                  return D * 4 / W;   // LN1, LN2 residual-copy rq
      default:                 return 0;
    endcase
  endfunction
  function automatic int unsigned seg_start(input int unsigned s);
    int unsigned a;
    a = N * 3 * D / W;
    for (int unsigned i = 0; i < NSeg; i++) if (i < s) a += seg_len(i);
    return a;
  endfunction
  localparam int unsigned PBase  = N * 3 * D / W;  // X: rows of D INT8 (x) then D INT16 (xr)
  localparam int unsigned PWords = seg_start(NSeg) - PBase;
  localparam int unsigned WBase  = seg_start(NSeg);
  function automatic logic [31:0] wbase(input logic [2:0] m);
    unique case (m)
      3'd0:    return 32'(WBase);
      3'd1:    return 32'(WBase + D * D / W);
      3'd2:    return 32'(WBase + 2 * D * D / W);
      3'd3:    return 32'(WBase + 3 * D * D / W);
      3'd4:    return 32'(WBase + 4 * D * D / W);
      default: return 32'(WBase + 4 * D * D / W + D * F / W);
    endcase
  endfunction

  // ===============================================================================================
  // Types
  // ===============================================================================================
  typedef enum logic [3:0] {
    PhIdle, PhLoad, PhQkv, PhQk, PhSmx, PhXv, PhOproj, PhUp, PhDown, PhTail, PhDone
  } phase_e;
  typedef enum logic [1:0] {TsPick, TsUnion, TsRun} tstage_e;
  typedef logic [RowW-1:0] row_t;
  typedef logic [ColW-1:0] col_t;
  typedef logic [idx_w(D)-1:0] dcol_t;  // column of a D-wide buffer
  typedef logic [idx_w(F)-1:0] fcol_t;  // column of the F-wide hidden buffer

  localparam int unsigned SlotW  = idx_w(Rows);
  localparam int unsigned NSlotW = cnt_w(Rows);
  localparam int unsigned UtW    = idx_w(NT);
  localparam int unsigned NUtW   = cnt_w(NT);
  localparam int unsigned CtW    = idx_w(CtF > NT ? CtF : NT);
  localparam int unsigned CntW   = 16;

  // Tile tag through the MAC array.
  typedef struct packed {
    phase_e             ph;
    logic [1:0]         mat;
    logic [HeadW-1:0]   head;
    logic [CtW-1:0]     ct;
    logic [UtW-1:0]     jt;
    logic               lastu;
    row_t [Rows-1:0]    rows;
  } ttag_t;

  // Row tag through the drain pipeline.
  typedef struct packed {
    phase_e             ph;
    logic [1:0]         mat;
    logic [HeadW-1:0]   head;
    logic [CtW-1:0]     ct;
    logic [UtW-1:0]     jt;
    logic               lastu;
    logic [SlotW-1:0]   slot;
    row_t               row;
  } rtag_t;

  typedef struct packed {
    rtag_t              t;
    int16_t [W-1:0]     val;   // requantised value (INT8 sign-extended or INT16)
  } ptag_t;

  // ===============================================================================================
  // Configuration
  // ===============================================================================================
  phase_e           ph_q;
  logic [LenW-1:0]  len_q;
  logic             causal_q, dbg_q;
  logic             sw_skip_q, sw_skip_kv, sw_topk, sw_reuse_attn, sw_reuse_oproj, sw_reuse_ffn;
  logic             head_sw, tok_sw;
  logic             cfg_hs;

  logic             used_q;  // the sequence in progress uses an SPLS bank (released when done)
  assign cfg_ready_o = ((ph_q == PhIdle) || (ph_q == PhDone)) && !used_q;
  assign cfg_hs      = cfg_valid_i && cfg_ready_o;
  assign done_o      = (ph_q == PhDone);
  assign head_sw     = sw_skip_q || sw_skip_kv || sw_topk || sw_reuse_attn;
  assign tok_sw      = sw_reuse_oproj || sw_reuse_ffn;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      len_q <= LenW'(1);
      {causal_q, dbg_q} <= '0;
      {sw_reuse_ffn, sw_reuse_oproj, sw_reuse_attn, sw_topk, sw_skip_kv, sw_skip_q} <= '0;
    end else if (cfg_hs) begin
      len_q    <= cfg_len_i;
      causal_q <= cfg_causal_i;
      dbg_q    <= cfg_dbg_i;
      {sw_reuse_ffn, sw_reuse_oproj, sw_reuse_attn, sw_topk, sw_skip_kv, sw_skip_q} <= cfg_switch_i;
    end
  end

  // ===============================================================================================
  // SPLS intake: two banks (section 22). The stream of sequence n+1 fills one bank while the layer
  // computes sequence n from the other. A sequence's stream starts with its HEAD beat of head 0;
  // every sequence after the first goes to the bank after the previous one's. The layer reads bank
  // rb_q and releases it (and moves rb_q on) when it finishes a sequence that used SPLS results;
  // a new sequence's first beat waits (spls_ready_o low) while its bank is still in use.
  // ===============================================================================================
  row_t            rep_b     [2][H][N];
  logic [N-1:0]    topk_b    [2][H][N];
  logic [N-1:0]    kv_b      [2][H];
  row_t            trep_b    [2][N];
  logic [N-1:0]    repself_b [2][H];
  logic [N-1:0]    tokself_b [2];
  logic [H-1:0]    hdone_b   [2];      // KV beat of head h received
  logic [LenW-1:0] tokcnt_b  [2];      // TOKEN beats received
  logic            wb_q, rb_q;         // bank of the incoming stream, bank the layer reads
  logic            wstarted_q;         // a stream has started since reset
  logic [1:0]      bbusy_q;            // bank holds a sequence the layer has not finished
  logic            spls_new, spls_bank, bank_release;
  // A finished sequence that used SPLS results releases its bank once the bank's stream is
  // complete (all TOKEN beats in; with only head switches the layer may finish before them).
  assign bank_release = (ph_q == PhDone) && used_q && (tokcnt_b[rb_q] == len_q);
  // read-bank views of the small per-bank state (the large arrays are indexed with rb_q in place)
  logic [N-1:0]    repself_q [H];
  logic [N-1:0]    kv_q      [H];
  logic [H-1:0]    head_done_q;
  row_t            trep_q    [N];
  logic [N-1:0]    tokself_q;
  logic            tok_done_q;
  logic            spls_hs;
  logic [N-1:0]    valid_rows;

  // a HEAD beat of head 0 after the first stream starts the next bank
  assign spls_new     = (spls_kind_i == OutHead) && (spls_head_i == '0) && wstarted_q;
  assign spls_bank    = spls_new ? !wb_q : wb_q;
  assign spls_ready_o = !(spls_new && bbusy_q[!wb_q]);
  assign spls_hs      = spls_valid_i && spls_ready_o;
  always_comb begin
    for (int unsigned i = 0; i < N; i++) valid_rows[i] = (LenW'(i) < len_q);
    for (int unsigned h = 0; h < H; h++) begin
      repself_q[h] = repself_b[rb_q][h];
      kv_q[h]      = kv_b[rb_q][h];
    end
    for (int unsigned i = 0; i < N; i++) trep_q[i] = trep_b[rb_q][i];
    head_done_q = hdone_b[rb_q];
    tokself_q   = tokself_b[rb_q];
    tok_done_q  = (tokcnt_b[rb_q] == len_q);
  end

  always_ff @(posedge clk_i) begin
    if (spls_hs) begin
      if (spls_kind_i == OutRow) begin
        rep_b[spls_bank][spls_head_i][spls_row_i]  <= spls_rep_i;
        topk_b[spls_bank][spls_head_i][spls_row_i] <= spls_mask_i;
      end
      if (spls_kind_i == OutKv) kv_b[spls_bank][spls_head_i] <= spls_mask_i;
      if (spls_kind_i == OutToken) trep_b[spls_bank][spls_row_i] <= spls_rep_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      used_q     <= 1'b0;
      wb_q       <= 1'b0;
      rb_q       <= 1'b0;
      wstarted_q <= 1'b0;
      bbusy_q    <= '0;
      for (int unsigned b = 0; b < 2; b++) begin
        hdone_b[b]   <= '0;
        tokcnt_b[b]  <= '0;
        tokself_b[b] <= '0;
        for (int unsigned h = 0; h < H; h++) repself_b[b][h] <= '0;
      end
    end else begin
      if (cfg_hs) used_q <= (cfg_switch_i != '0);
      // the layer finished the sequence of bank rb_q: free it, stale flags cleared
      if (bank_release) begin
        used_q         <= 1'b0;
        bbusy_q[rb_q]  <= 1'b0;
        hdone_b[rb_q]  <= '0;
        tokcnt_b[rb_q] <= '0;
        rb_q           <= !rb_q;
      end
      if (spls_hs) begin
        if (spls_kind_i == OutHead && spls_head_i == '0) begin  // a sequence's first beat
          wb_q                 <= spls_bank;
          wstarted_q           <= 1'b1;
          bbusy_q[spls_bank]   <= 1'b1;
          hdone_b[spls_bank]   <= '0;
          tokcnt_b[spls_bank]  <= '0;
          tokself_b[spls_bank] <= '0;
          for (int unsigned h = 0; h < H; h++) repself_b[spls_bank][h] <= '0;
        end
        if (spls_kind_i == OutRow) repself_b[spls_bank][spls_head_i][spls_row_i] <= (spls_rep_i == spls_row_i);
        if (spls_kind_i == OutKv) hdone_b[spls_bank][spls_head_i] <= 1'b1;
        if (spls_kind_i == OutToken) begin
          tokself_b[spls_bank][spls_row_i] <= (spls_rep_i == spls_row_i);
          tokcnt_b[spls_bank]              <= tokcnt_b[spls_bank] + LenW'(1);
        end
      end
    end
  end

  // Row masks of each phase (section 19).
  function automatic logic [N-1:0] phase_mask(input phase_e ph, input logic [1:0] mat,
                                              input logic [HeadW-1:0] h);
    logic [N-1:0] m;
    m = valid_rows;
    unique case (ph)
      PhQkv:   if (mat == 2'd0) begin if (sw_skip_q) m &= repself_q[h]; end
               else if (sw_skip_kv) m &= kv_q[h];
      PhQk:    if (sw_reuse_attn) m &= repself_q[h];
      PhOproj: if (sw_reuse_oproj) m &= tokself_q;
      PhUp:    if (sw_reuse_ffn) m &= tokself_q;
      default: m = '0;
    endcase
    return m;
  endfunction

  function automatic logic [LenW-1:0] popcount_n(input logic [N-1:0] m);
    logic [LenW-1:0] c;
    c = '0;
    for (int unsigned i = 0; i < N; i++) c += LenW'(m[i]);
    return c;
  endfunction

  // ===============================================================================================
  // Memory: response buffer and fetch engine (same loop nest as the feeder, run ahead)
  // ===============================================================================================
  localparam int unsigned RspDepth = 2 * MemLatency + 8;
  localparam int unsigned InflW    = cnt_w(RspDepth);

  logic              rsp_valid, rsp_pop;
  int8_t [W-1:0]     rsp_data;
  logic [InflW-1:0]  infl_q;    // requested and not yet consumed
  logic              req_hs;

  esact_stream_fifo #(.Width(W * 8), .Depth(RspDepth)) u_rsp_fifo (
    .clk_i,
    .rst_ni,
    .valid_i (mem_rsp_valid_i),
    .ready_o (mem_rsp_ready_o),
    .data_i  (mem_rsp_data_i),
    .valid_o (rsp_valid),
    .ready_i (rsp_pop),
    .data_o  (rsp_data),
    .count_o ()
  );

  typedef enum logic [2:0] {FIdle, FLoadX, FLoadP, FQkv, FOproj, FUp, FDown, FDone} fphase_e;
  fphase_e           fph_q;
  logic [HeadW-1:0]  fhead_q;
  logic [1:0]        fmat_q;
  logic [CntW-1:0]   ftile_q, fct_q, fk_q, fword_q;
  logic [CntW-1:0]   fntiles;
  logic              fwait;      // waiting for SPLS results
  logic [31:0]       faddr;
  logic              fissue;

  // tiles of the mask the fetch cursor is in
  always_comb begin
    phase_e ph;
    unique case (fph_q)
      FQkv:          ph = PhQkv;
      FOproj:        ph = PhOproj;
      FUp, FDown:    ph = PhUp;
      default:       ph = PhIdle;
    endcase
    fntiles = CntW'((32'(popcount_n(phase_mask(ph, fmat_q, fhead_q))) + Rows - 1) / Rows);
  end

  always_comb begin
    fwait = 1'b0;
    if (fph_q == FQkv && head_sw && !head_done_q[fhead_q]) fwait = 1'b1;
    if ((fph_q == FOproj || fph_q == FUp) && tok_sw && !tok_done_q) fwait = 1'b1;
    unique case (fph_q)
      FLoadX:  faddr = 32'(fword_q);
      FLoadP:  faddr = 32'(PBase) + 32'(fword_q);
      FQkv:    faddr = wbase({1'b0, fmat_q}) + (32'(fhead_q) * CtH + 32'(fct_q)) * D + 32'(fk_q);
      FOproj:  faddr = wbase(3'd3) + 32'(fct_q) * D + 32'(fk_q);
      FUp:     faddr = wbase(3'd4) + 32'(fct_q) * D + 32'(fk_q);
      FDown:   faddr = wbase(3'd5) + 32'(fct_q) * F + 32'(fk_q);
      default: faddr = '0;
    endcase
  end

  // A request goes out when there is room for its response; tile loops with no rows are skipped.
  logic fbusy;
  assign fbusy           = (fph_q == FLoadX || fph_q == FLoadP || fph_q == FQkv || fph_q == FOproj ||
                            fph_q == FUp || fph_q == FDown);
  assign fissue          = fbusy && !fwait && (infl_q < InflW'(RspDepth)) &&
                           !((fph_q == FQkv || fph_q == FOproj || fph_q == FUp) && fntiles == '0);
  assign mem_req_valid_o = fissue;
  assign mem_req_addr_o  = faddr;
  assign req_hs          = mem_req_valid_o && mem_req_ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      infl_q <= '0;
    end else begin
      unique case ({req_hs, rsp_pop})
        2'b10:   infl_q <= infl_q + InflW'(1);
        2'b01:   infl_q <= infl_q - InflW'(1);
        default: ;
      endcase
    end
  end

  // fetch cursor
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fph_q <= FIdle;
      {fhead_q, fmat_q} <= '0;
      {ftile_q, fct_q, fk_q, fword_q} <= '0;
    end else if (cfg_hs) begin
      fph_q <= FLoadX;
      {fhead_q, fmat_q} <= '0;
      {ftile_q, fct_q, fk_q, fword_q} <= '0;
    end else begin
      // empty tile loops: move on without a request
      if (!fwait && fntiles == '0 && (fph_q == FQkv || fph_q == FOproj || fph_q == FUp)) begin
        unique case (fph_q)
          FQkv: begin
            if (fmat_q != 2'd2) fmat_q <= fmat_q + 2'd1;
            else begin
              fmat_q <= '0;
              if (fhead_q == HeadW'(H - 1)) fph_q <= FOproj;
              else fhead_q <= fhead_q + HeadW'(1);
            end
          end
          FOproj:  fph_q <= FUp;
          default: fph_q <= FDone;
        endcase
      end
      if (req_hs) begin
        unique case (fph_q)
          FLoadX: begin
            if (fword_q + CntW'(1) == CntW'(32'(len_q) * 3 * CtD)) begin
              fword_q <= '0;
              fph_q   <= FLoadP;
            end else fword_q <= fword_q + CntW'(1);
          end
          FLoadP: begin
            if (fword_q + CntW'(1) == CntW'(PWords)) begin
              fword_q <= '0;
              fph_q   <= FQkv;
            end else fword_q <= fword_q + CntW'(1);
          end
          FQkv: begin
            fk_q <= fk_q + CntW'(1);
            if (fk_q == CntW'(D - 1)) begin
              fk_q  <= '0;
              fct_q <= fct_q + CntW'(1);
              if (fct_q == CntW'(CtH - 1)) begin
                fct_q   <= '0;
                ftile_q <= ftile_q + CntW'(1);
                if (ftile_q + CntW'(1) == fntiles) begin
                  ftile_q <= '0;
                  if (fmat_q != 2'd2) fmat_q <= fmat_q + 2'd1;
                  else begin
                    fmat_q <= '0;
                    if (fhead_q == HeadW'(H - 1)) fph_q <= FOproj;
                    else fhead_q <= fhead_q + HeadW'(1);
                  end
                end
              end
            end
          end
          FOproj: begin
            fk_q <= fk_q + CntW'(1);
            if (fk_q == CntW'(D - 1)) begin
              fk_q  <= '0;
              fct_q <= fct_q + CntW'(1);
              if (fct_q == CntW'(CtD - 1)) begin
                fct_q   <= '0;
                ftile_q <= ftile_q + CntW'(1);
                if (ftile_q + CntW'(1) == fntiles) begin
                  ftile_q <= '0;
                  fph_q   <= FUp;
                end
              end
            end
          end
          FUp: begin
            fk_q <= fk_q + CntW'(1);
            if (fk_q == CntW'(D - 1)) begin
              fk_q  <= '0;
              fct_q <= fct_q + CntW'(1);
              if (fct_q == CntW'(CtF - 1)) begin
                fct_q <= '0;
                fph_q <= FDown;
              end
            end
          end
          FDown: begin
            fk_q <= fk_q + CntW'(1);
            if (fk_q == CntW'(F - 1)) begin
              fk_q  <= '0;
              fct_q <= fct_q + CntW'(1);
              if (fct_q == CntW'(CtD - 1)) begin
                fct_q   <= '0;
                ftile_q <= ftile_q + CntW'(1);
                fph_q   <= (ftile_q + CntW'(1) == fntiles) ? FDone : FUp;
              end
            end
          end
          default: ;
        endcase
      end
    end
  end

  // ===============================================================================================
  // On-chip buffers and parameters
  // ===============================================================================================
  int8_t        x_buf    [N][D];
  int16_t       xr_buf   [N][D];   // INT16 layer input at the residual-1 scale
  int8_t        q_buf    [N][D];
  int8_t        k_buf    [N][D];
  int8_t        v_buf    [N][D];
  int8_t        attn_buf [N][D];
  int16_t       o_buf    [N][D];
  int8_t        h1_buf   [N][D];
  int16_t       h1r_buf  [N][D];   // LN1's INT16 copy at the residual-2 scale
  int16_t       fo_buf   [N][D];
  int8_t        g_buf    [Rows][F];
  logic [7:0]   pr_buf   [Rows][N];
  acc_t         chan_bias [6][MaxK];
  rq_t          chan_rq   [6][MaxK];
  rq_t          gelu_rq   [F];
  rq_t          qk_rq     [H];
  rq_t          av_rq     [D];
  int16_t       ln_gamma  [2][D];
  acc_t         ln_beta   [2][D];
  rq_t          ln_rq     [2][D];
  rq_t          ln_r_rq   [2][D];  // LN1 / LN2 residual-copy requantisers (h1r, yr)
  logic [63:0]  ln_eps    [2];
  logic [N-1:0] o_ready_q, fo_ready_q;

  // ===============================================================================================
  // Load engine: X rows and the parameter segments, in request order
  // ===============================================================================================
  logic [CntW-1:0] ld_word_q, ld_segw_q, ld_rw_q;
  logic [RowW-1:0] ld_row_q;    // X row being loaded, ld_rw_q its word (0 .. 3 D / W - 1)
  logic [4:0]      ld_seg_q;
  logic            ld_x_q;      // still loading X
  logic            ld_pop, load_done;

  assign load_done = (ph_q != PhLoad) && (ph_q != PhIdle);
  assign ld_pop    = (ph_q == PhLoad) && rsp_valid;

  function automatic logic [31:0] word32(input int8_t [W-1:0] w, input int unsigned j);
    return {w[4 * j + 3], w[4 * j + 2], w[4 * j + 1], w[4 * j]};
  endfunction
  // bits 15 and 31:22 of a requantiser word are reserved (0 in the image)
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic rq_t to_rq(input logic [31:0] v);
    return '{s: v[21:16], m: v[14:0]};
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  always_ff @(posedge clk_i) begin
    if (ld_pop) begin
      if (ld_x_q) begin
        if (32'(ld_rw_q) < CtD) begin
          for (int unsigned c = 0; c < W; c++) x_buf[ld_row_q][32'(ld_rw_q) * W + c] <= rsp_data[c];
        end else begin
          for (int unsigned c = 0; c < W / 2; c++)
            xr_buf[ld_row_q][(32'(ld_rw_q) - CtD) * (W / 2) + c] <= {rsp_data[2 * c + 1], rsp_data[2 * c]};
        end
      end else begin
        for (int unsigned j = 0; j < W / 4; j++) begin
          int unsigned ch;
          logic [31:0] v;
          ch = 32'(ld_segw_q) * (W / 4) + j;
          v  = word32(rsp_data, j);
          unique case (ld_seg_q)
            5'd0, 5'd2, 5'd4, 5'd6: if (ch < D) chan_bias[ld_seg_q / 2][ch] <= acc_t'(v);
            5'd1, 5'd3, 5'd5, 5'd7: if (ch < D) chan_rq[ld_seg_q / 2][ch] <= to_rq(v);
            5'd8:  if (ch < F) chan_bias[4][ch] <= acc_t'(v);
            5'd9:  if (ch < F) chan_rq[4][ch] <= to_rq(v);
            5'd10: if (ch < F) gelu_rq[ch] <= to_rq(v);
            5'd11: if (ch < D) chan_bias[5][ch] <= acc_t'(v);
            5'd12: if (ch < D) chan_rq[5][ch] <= to_rq(v);
            5'd13: if (ch < H) qk_rq[ch] <= to_rq(v);
            5'd14: if (ch < D) av_rq[ch] <= to_rq(v);
            5'd16: if (ch < D) ln_beta[0][ch] <= acc_t'(v);
            5'd17: if (ch < D) ln_rq[0][ch] <= to_rq(v);
            5'd20: if (ch < D) ln_beta[1][ch] <= acc_t'(v);
            5'd21: if (ch < D) ln_rq[1][ch] <= to_rq(v);
            5'd23: if (ch < D) ln_r_rq[0][ch] <= to_rq(v);
            5'd24: if (ch < D) ln_r_rq[1][ch] <= to_rq(v);
            default: ;
          endcase
        end
        for (int unsigned j = 0; j < W / 2; j++) begin
          int unsigned ch;
          ch = 32'(ld_segw_q) * (W / 2) + j;
          if (ld_seg_q == 5'd15 && ch < D) ln_gamma[0][ch] <= {rsp_data[2 * j + 1], rsp_data[2 * j]};
          if (ld_seg_q == 5'd19 && ch < D) ln_gamma[1][ch] <= {rsp_data[2 * j + 1], rsp_data[2 * j]};
        end
        if (ld_seg_q == 5'd18) ln_eps[0] <= {word32(rsp_data, 1), word32(rsp_data, 0)};
        if (ld_seg_q == 5'd22) ln_eps[1] <= {word32(rsp_data, 1), word32(rsp_data, 0)};
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ld_word_q <= '0;
      ld_segw_q <= '0;
      ld_seg_q  <= '0;
      ld_x_q    <= 1'b1;
      ld_row_q  <= '0;
      ld_rw_q   <= '0;
    end else if (cfg_hs) begin
      ld_word_q <= '0;
      ld_segw_q <= '0;
      ld_seg_q  <= '0;
      ld_x_q    <= 1'b1;
      ld_row_q  <= '0;
      ld_rw_q   <= '0;
    end else if (ld_pop) begin
      if (ld_x_q) begin
        ld_word_q <= ld_word_q + CntW'(1);
        if (ld_word_q + CntW'(1) == CntW'(32'(len_q) * 3 * CtD)) ld_x_q <= 1'b0;
        if (32'(ld_rw_q) + 1 == 3 * CtD) begin
          ld_rw_q  <= '0;
          ld_row_q <= ld_row_q + RowW'(1);
        end else ld_rw_q <= ld_rw_q + CntW'(1);
      end else begin
        ld_segw_q <= ld_segw_q + CntW'(1);
        if (32'(ld_segw_q) + 1 == seg_len(32'(ld_seg_q))) begin
          ld_segw_q <= '0;
          ld_seg_q  <= ld_seg_q + 5'd1;
        end
      end
    end
  end

  // ===============================================================================================
  // Feeder: the tile loop nest, operands of the MAC array
  // ===============================================================================================
  tstage_e             ts_q;
  logic [HeadW-1:0]    head_q;
  logic [1:0]          mat_q;
  logic [LenW-1:0]     pos_q;
  row_t [Rows-1:0]     trow_q;          // tile rows (tokens / query rows), ascending
  row_t [Rows-1:0]     qrow_q;          // QK: the Q row each tile row reads
  logic [NSlotW-1:0]   tn_q;            // rows in the tile
  logic [N-1:0]        colset_q [Rows]; // QK: column set C(h, i) of each tile row
  logic [UtW-1:0]      ulist_q [NT];    // key tiles of the union of the column sets
  logic [NUtW-1:0]     un_q;
  logic [CntW-1:0]     ct_q, k_q;
  logic                need_idle_q;

  // pick the next Rows rows of the phase's mask at or after pos_q
  logic [N-1:0]        pick_mask;
  row_t [Rows-1:0]     pick_rows;
  logic [NSlotW-1:0]   pick_n;
  logic [LenW-1:0]     pick_next;
  always_comb begin
    pick_mask = phase_mask(ph_q, mat_q, head_q);
    pick_rows = '0;
    pick_n    = '0;
    pick_next = pos_q;
    for (int unsigned i = 0; i < N; i++) begin
      if (LenW'(i) >= pos_q && pick_mask[i] && pick_n < NSlotW'(Rows)) begin
        pick_rows[pick_n[SlotW-1:0]] = row_t'(i);
        pick_n    = pick_n + NSlotW'(1);
        pick_next = LenW'(i + 1);
      end
    end
  end

  // Q row read by each picked row (skip_q: a head-follower reads its representative's) and the
  // column set C(h, i) of each picked row (section 17)
  row_t [Rows-1:0] pick_qrow;
  logic [N-1:0]    pick_colset [Rows];
  always_comb begin
    for (int unsigned r = 0; r < Rows; r++) begin
      pick_qrow[r] = (sw_skip_q && !repself_q[head_q][pick_rows[r]]) ? rep_b[rb_q][head_q][pick_rows[r]]
                                                                     : pick_rows[r];
      for (int unsigned j = 0; j < N; j++) begin
        pick_colset[r][j] = (NSlotW'(r) < pick_n) && valid_rows[j] &&
                            (!causal_q || row_t'(j) <= pick_rows[r]) &&
                            (!sw_topk || topk_b[rb_q][head_q][pick_rows[r]][j]) &&
                            (!sw_skip_kv || kv_q[head_q][j]);
      end
    end
  end

  // geometry of the current tile
  logic [CntW-1:0] k_len, ct_len;
  logic            uses_mem;
  always_comb begin
    k_len    = CntW'(D);
    ct_len   = CntW'(CtD);
    uses_mem = 1'b0;
    unique case (ph_q)
      PhQkv:   begin k_len = CntW'(D);  ct_len = CntW'(CtH); uses_mem = 1'b1; end
      PhQk:    begin k_len = CntW'(Dh); ct_len = CntW'(un_q); end
      PhXv:    begin k_len = CntW'(32'(un_q) * W); ct_len = CntW'(CtH); end
      PhOproj: begin k_len = CntW'(D);  ct_len = CntW'(CtD); uses_mem = 1'b1; end
      PhUp:    begin k_len = CntW'(D);  ct_len = CntW'(CtF); uses_mem = 1'b1; end
      PhDown:  begin k_len = CntW'(F);  ct_len = CntW'(CtD); uses_mem = 1'b1; end
      default: ;
    endcase
  end

  // datapath idle: nothing accumulating, draining, in the drain pipeline
  logic arr_busy, dp_idle, pipe_busy;
  assign dp_idle = !arr_busy && !pipe_busy;

  // LayerNorm progress (tokens finished)
  logic [LenW-1:0] ln1_cnt_q, ln2_cnt_q;
  localparam logic [3:0] LyLn1rKind = 4'd9;   // out kind of an h1r beat (section 22: LN1R)
  localparam logic [3:0] LyOutrKind = 4'd10;  // out kind of a yr beat (section 22: OUTR)

  // hazards and waits before an issue
  logic spls_wait, hazard_ok;
  always_comb begin
    spls_wait = 1'b0;
    if ((ph_q == PhQkv) && head_sw && !head_done_q[head_q]) spls_wait = 1'b1;
    if ((ph_q == PhOproj) && tok_sw && !tok_done_q) spls_wait = 1'b1;
    hazard_ok = !spls_wait && !(need_idle_q && !dp_idle);
    if (ph_q == PhUp && ts_q == TsRun && ln1_cnt_q <= LenW'(trow_q[tn_q - NSlotW'(1)])) hazard_ok = 1'b0;
  end

  // operands
  logic                         arr_valid, arr_ready, arr_hs, arr_first, arr_last;
  logic signed [Rows-1:0][8:0]  arr_a;
  int8_t [W-1:0]                arr_b;
  acc_t  [W-1:0]                arr_bias;
  ttag_t                        arr_tag;
  logic [HeadW-1:0]             k_head;  // head of reduction index k (output projection)

  always_comb begin
    dcol_t kc;
    row_t  src;
    kc     = dcol_t'(k_q);
    src    = '0;
    k_head = HeadW'(32'(k_q) / Dh);
    arr_a    = '0;
    arr_b    = '0;
    arr_bias = '0;
    for (int unsigned r = 0; r < Rows; r++) begin
      if (NSlotW'(r) < tn_q) begin
        unique case (ph_q)
          PhQkv:   arr_a[r] = 9'(x_buf[trow_q[r]][kc]);
          PhQk:    arr_a[r] = 9'(q_buf[qrow_q[r]][32'(head_q) * Dh + 32'(k_q)]);
          PhXv:    arr_a[r] = {1'b0, pr_buf[r][row_t'(k_q)]};
          PhOproj: begin
            src = (sw_reuse_attn && !repself_q[k_head][trow_q[r]]) ? rep_b[rb_q][k_head][trow_q[r]] : trow_q[r];
            arr_a[r] = 9'(attn_buf[src][kc]);
          end
          PhUp:    arr_a[r] = 9'(h1_buf[trow_q[r]][kc]);
          PhDown:  arr_a[r] = 9'(g_buf[r][fcol_t'(k_q)]);
          default: ;
        endcase
      end
    end
    for (int unsigned c = 0; c < W; c++) begin
      unique case (ph_q)
        PhQkv:   begin
          arr_b[c]    = rsp_data[c];
          arr_bias[c] = chan_bias[{1'b0, mat_q}][32'(head_q) * Dh + 32'(ct_q) * W + c];
        end
        PhQk:    arr_b[c] = k_buf[row_t'(32'(ulist_q[UtW'(ct_q)]) * W + c)][32'(head_q) * Dh + 32'(k_q)];
        PhXv:    arr_b[c] = v_buf[row_t'(32'(ulist_q[32'(k_q) / W]) * W + 32'(k_q) % W)]
                                 [32'(head_q) * Dh + 32'(ct_q) * W + c];
        PhOproj: begin
          arr_b[c]    = rsp_data[c];
          arr_bias[c] = chan_bias[3][32'(ct_q) * W + c];
        end
        PhUp:    begin
          arr_b[c]    = rsp_data[c];
          arr_bias[c] = chan_bias[4][32'(ct_q) * W + c];
        end
        PhDown:  begin
          arr_b[c]    = rsp_data[c];
          arr_bias[c] = chan_bias[5][32'(ct_q) * W + c];
        end
        default: ;
      endcase
    end
  end

  logic run_phase;
  assign run_phase = (ph_q == PhQkv || ph_q == PhQk || ph_q == PhXv || ph_q == PhOproj ||
                      ph_q == PhUp || ph_q == PhDown);
  assign arr_valid = run_phase && (ts_q == TsRun) && hazard_ok && (!uses_mem || rsp_valid);
  assign arr_first = (k_q == '0);
  assign arr_last  = (k_q + CntW'(1) == k_len);
  assign arr_hs    = arr_valid && arr_ready;
  assign rsp_pop   = ld_pop || (arr_hs && uses_mem);

  always_comb begin
    arr_tag       = '0;
    arr_tag.ph    = ph_q;
    arr_tag.mat   = mat_q;
    arr_tag.head  = head_q;
    arr_tag.ct    = CtW'(ct_q);
    arr_tag.jt    = ulist_q[UtW'(ct_q)];
    arr_tag.lastu = (ct_q + CntW'(1) == ct_len);
    arr_tag.rows  = trow_q;
  end

  // softmax bank status
  logic smx_idle;

  // key tiles holding a kept column of some tile row (QK^T and xV skip the others)
  logic [UtW-1:0]  union_list [NT];
  logic [NUtW-1:0] union_n;
  always_comb begin
    logic [NT-1:0] used;
    union_n = '0;
    for (int unsigned t = 0; t < NT; t++) begin
      union_list[t] = '0;
      used[t] = 1'b0;
      for (int unsigned r = 0; r < Rows; r++) used[t] |= |colset_q[r][t * W +: W];
    end
    for (int unsigned t = 0; t < NT; t++) begin
      if (used[t]) begin
        union_list[union_n[UtW-1:0]] = UtW'(t);
        union_n = union_n + NUtW'(1);
      end
    end
    // no kept column in the whole tile: one all-masked key tile (softmax gives zeros)
    if (union_n == '0) union_n = NUtW'(1);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ph_q        <= PhIdle;
      ts_q        <= TsPick;
      head_q      <= '0;
      mat_q       <= '0;
      pos_q       <= '0;
      trow_q      <= '0;
      qrow_q      <= '0;
      tn_q        <= '0;
      un_q        <= '0;
      ct_q        <= '0;
      k_q         <= '0;
      need_idle_q <= 1'b0;
    end else if (cfg_hs) begin
      ph_q        <= PhLoad;
      ts_q        <= TsPick;
      head_q      <= '0;
      mat_q       <= '0;
      pos_q       <= '0;
      ct_q        <= '0;
      k_q         <= '0;
      need_idle_q <= 1'b0;
    end else begin
      if (need_idle_q && dp_idle) need_idle_q <= 1'b0;
      unique case (ph_q)
        PhLoad: begin
          if (ld_pop && !ld_x_q && ld_seg_q == 5'(NSeg - 1) && 32'(ld_segw_q) + 1 == seg_len(NSeg - 1))
            ph_q <= PhQkv;
        end
        PhSmx: begin
          if (dp_idle && smx_idle) begin
            ph_q <= PhXv;
            ts_q <= TsRun;
            ct_q <= '0;
            k_q  <= '0;
          end
        end
        PhTail: if (ln2_cnt_q == len_q) ph_q <= PhDone;
        PhIdle, PhDone: ;
        default: begin  // tile phases
          if (ts_q == TsPick && hazard_ok) begin
            if (pick_n == '0) begin
              pos_q <= '0;
              unique case (ph_q)
                PhQkv: begin
                  if (mat_q != 2'd2) mat_q <= mat_q + 2'd1;
                  else begin
                    ph_q        <= PhQk;
                    need_idle_q <= 1'b1;
                  end
                end
                PhQk: begin
                  mat_q <= '0;
                  if (head_q == HeadW'(H - 1)) begin
                    ph_q        <= PhOproj;
                    need_idle_q <= 1'b1;
                  end else begin
                    head_q <= head_q + HeadW'(1);
                    ph_q   <= PhQkv;
                  end
                end
                PhOproj: ph_q <= PhUp;
                default: ph_q <= PhTail;  // PhUp: no more token tiles
              endcase
            end else begin
              trow_q <= pick_rows;
              tn_q   <= pick_n;
              pos_q  <= pick_next;
              ct_q   <= '0;
              k_q    <= '0;
              ts_q   <= (ph_q == PhQk) ? TsUnion : TsRun;
              qrow_q   <= pick_qrow;
              colset_q <= pick_colset;
            end
          end else if (ts_q == TsUnion) begin
            ulist_q <= union_list;
            un_q    <= union_n;
            ts_q    <= TsRun;
          end else if (arr_hs) begin
            k_q <= k_q + CntW'(1);
            if (arr_last) begin
              k_q  <= '0;
              ct_q <= ct_q + CntW'(1);
              if (ct_q + CntW'(1) == ct_len) begin
                ct_q <= '0;
                unique case (ph_q)
                  PhQk:   ph_q <= PhSmx;
                  PhXv:   begin ph_q <= PhQk; ts_q <= TsPick; end
                  PhUp:   begin ph_q <= PhDown; need_idle_q <= 1'b1; end
                  PhDown: begin ph_q <= PhUp; ts_q <= TsPick; end
                  default: ts_q <= TsPick;  // PhQkv, PhOproj: next row tile
                endcase
              end
            end
          end
        end
      endcase
    end
  end

  // ===============================================================================================
  // MAC array
  // ===============================================================================================
  logic   drn_valid, drn_ready;
  acc_t   [W-1:0] drn_acc;
  logic   [SlotW-1:0] drn_row;
  ttag_t  drn_tag;

  esact_mac_array #(.Rows(Rows), .Cols(W), .TagW($bits(ttag_t))) u_array (
    .clk_i,
    .rst_ni,
    .in_valid_i  (arr_valid),
    .in_ready_o  (arr_ready),
    .in_a_i      (arr_a),
    .in_b_i      (arr_b),
    .in_bias_i   (arr_bias),
    .in_first_i  (arr_first),
    .in_last_i   (arr_last),
    .in_rows_i   (tn_q),
    .in_tag_i    (arr_tag),
    .out_valid_o (drn_valid),
    .out_ready_i (drn_ready),
    .out_acc_o   (drn_acc),
    .out_row_o   (drn_row),
    .out_last_o  (),
    .out_tag_o   (drn_tag),
    .busy_o      (arr_busy)
  );

  // ===============================================================================================
  // Drain pipeline: requantiser -> GELU -> requantiser -> write-back
  // ===============================================================================================
  rtag_t           drn_rtag;
  rq_t [W-1:0]     rqa;
  always_comb begin
    drn_rtag       = '0;
    drn_rtag.ph    = drn_tag.ph;
    drn_rtag.mat   = drn_tag.mat;
    drn_rtag.head  = drn_tag.head;
    drn_rtag.ct    = drn_tag.ct;
    drn_rtag.jt    = drn_tag.jt;
    drn_rtag.lastu = drn_tag.lastu;
    drn_rtag.slot  = drn_row;
    drn_rtag.row   = drn_tag.rows[drn_row];
    for (int unsigned c = 0; c < W; c++) begin
      unique case (drn_tag.ph)
        PhQkv:   rqa[c] = chan_rq[{1'b0, drn_tag.mat}][32'(drn_tag.head) * Dh + 32'(drn_tag.ct) * W + c];
        PhQk:    rqa[c] = qk_rq[drn_tag.head];
        PhXv:    rqa[c] = av_rq[32'(drn_tag.head) * Dh + 32'(drn_tag.ct) * W + c];
        PhOproj: rqa[c] = chan_rq[3][32'(drn_tag.ct) * W + c];
        PhUp:    rqa[c] = chan_rq[4][32'(drn_tag.ct) * W + c];
        default: rqa[c] = chan_rq[5][32'(drn_tag.ct) * W + c];
      endcase
    end
  end

  logic            a_valid, a_ready, b_valid, b_ready, c_valid, c_ready;
  int8_t  [W-1:0]  a_y8;
  int16_t [W-1:0]  a_y16;
  rtag_t           a_tag;
  ptag_t           a_ptag, b_ptag, c_ptag;
  acc_t   [W-1:0]  b_g;
  rq_t    [W-1:0]  rqc;
  int8_t  [W-1:0]  c_y8;
  int16_t [W-1:0]  c_y16_unused;

  esact_requant #(.Lanes(W), .TagW($bits(rtag_t))) u_rq_a (
    .clk_i,
    .rst_ni,
    .valid_i (drn_valid),
    .ready_o (drn_ready),
    .acc_i   (drn_acc),
    .rq_i    (rqa),
    .tag_i   (drn_rtag),
    .valid_o (a_valid),
    .ready_i (a_ready),
    .y8_o    (a_y8),
    .y16_o   (a_y16),
    .tag_o   (a_tag)
  );

  // INT16 results: QK^T logits, projection and FFN branches, GELU input; INT8 otherwise
  always_comb begin
    a_ptag.t = a_tag;
    for (int unsigned c = 0; c < W; c++) begin
      a_ptag.val[c] = (a_tag.ph == PhQk || a_tag.ph == PhOproj || a_tag.ph == PhUp || a_tag.ph == PhDown)
                      ? a_y16[c] : 16'(a_y8[c]);
    end
  end

  esact_gelu #(.Lanes(W), .TagW($bits(ptag_t))) u_gelu (
    .clk_i,
    .rst_ni,
    .valid_i (a_valid),
    .ready_o (a_ready),
    .x_i     (a_y16),
    .tag_i   (a_ptag),
    .valid_o (b_valid),
    .ready_i (b_ready),
    .g_o     (b_g),
    .tag_o   (b_ptag)
  );

  always_comb begin
    for (int unsigned c = 0; c < W; c++) rqc[c] = gelu_rq[32'(b_ptag.t.ct) * W + c];
    // outside the FFN-up phase the second requantiser only carries the beat along
    if (b_ptag.t.ph != PhUp) rqc = {W{RqW'({6'd1, 15'd1})}};
  end

  esact_requant #(.Lanes(W), .TagW($bits(ptag_t))) u_rq_c (
    .clk_i,
    .rst_ni,
    .valid_i (b_valid),
    .ready_o (b_ready),
    .acc_i   (b_g),
    .rq_i    (rqc),
    .tag_i   (b_ptag),
    .valid_o (c_valid),
    .ready_i (c_ready),
    .y8_o    (c_y8),
    .y16_o   (c_y16_unused),
    .tag_o   (c_ptag)
  );

  assign pipe_busy = drn_valid || a_valid || b_valid || c_valid;

  // write-back
  rtag_t           wb;
  int16_t [W-1:0]  wb_val;
  logic            wb_needs_out, wb_is_qk, wb_hs, wb_out_grant;
  logic [Rows-1:0] smx_in_ready;
  assign wb = c_ptag.t;
  always_comb begin
    for (int unsigned c = 0; c < W; c++) wb_val[c] = (wb.ph == PhUp) ? 16'(c_y8[c]) : c_ptag.val[c];
  end
  assign wb_is_qk     = (wb.ph == PhQk);
  assign wb_needs_out = dbg_q && !wb_is_qk;
  assign c_ready      = (!wb_needs_out || wb_out_grant) && (!wb_is_qk || smx_in_ready[wb.slot]);
  assign wb_hs        = c_valid && c_ready;

  col_t wb_col;
  always_comb begin
    unique case (wb.ph)
      PhQkv, PhXv: wb_col = col_t'(32'(wb.head) * Dh + 32'(wb.ct) * W);
      default:     wb_col = col_t'(32'(wb.ct) * W);
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (wb_hs) begin
      for (int unsigned c = 0; c < W; c++) begin
        unique case (wb.ph)
          PhQkv: begin
            if (wb.mat == 2'd0) q_buf[wb.row][32'(wb_col) + c] <= int8_t'(wb_val[c]);
            if (wb.mat == 2'd1) k_buf[wb.row][32'(wb_col) + c] <= int8_t'(wb_val[c]);
            if (wb.mat == 2'd2) v_buf[wb.row][32'(wb_col) + c] <= int8_t'(wb_val[c]);
          end
          PhXv:    attn_buf[wb.row][32'(wb_col) + c] <= int8_t'(wb_val[c]);
          PhOproj: o_buf[wb.row][32'(wb_col) + c] <= wb_val[c];
          PhUp:    g_buf[wb.slot][32'(wb_col) + c] <= int8_t'(wb_val[c]);
          PhDown:  fo_buf[wb.row][32'(wb_col) + c] <= wb_val[c];
          default: ;
        endcase
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      o_ready_q  <= '0;
      fo_ready_q <= '0;
    end else if (cfg_hs) begin
      o_ready_q  <= '0;
      fo_ready_q <= '0;
    end else if (wb_hs && wb.ct == CtW'(CtD - 1)) begin
      if (wb.ph == PhOproj) o_ready_q[wb.row] <= 1'b1;
      if (wb.ph == PhDown)  fo_ready_q[wb.row] <= 1'b1;
    end
  end

  // ===============================================================================================
  // Softmax bank: one unit per tile row
  // ===============================================================================================
  logic [Rows-1:0] smx_idle_r;
  logic [UtW-1:0]  smx_ob_q [Rows];
  for (genvar r = 0; r < Rows; r++) begin : g_smx
    logic              o_valid, o_last;
    logic [W-1:0][7:0] o_prob;
    logic [W-1:0]      keep;
    for (genvar c = 0; c < W; c++) begin : g_keep
      assign keep[c] = colset_q[r][32'(wb.jt) * W + c];
    end
    esact_softmax #(.Lanes(W), .MaxBeats(NT), .DivPerCycle(11)) u_smx (
      .clk_i,
      .rst_ni,
      .in_valid_i  (c_valid && wb_is_qk && wb.slot == SlotW'(r)),
      .in_ready_o  (smx_in_ready[r]),
      .in_logit_i  (wb_val),
      .in_keep_i   (keep),
      .in_last_i   (wb.lastu),
      .out_valid_o (o_valid),
      .out_ready_i (1'b1),
      .out_prob_o  (o_prob),
      .out_last_o  (o_last),
      .idle_o      (smx_idle_r[r])
    );
    always_ff @(posedge clk_i) begin
      if (o_valid) begin
        for (int unsigned c = 0; c < W; c++) pr_buf[r][32'(smx_ob_q[r]) * W + c] <= o_prob[c];
      end
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) smx_ob_q[r] <= '0;
      else if (o_valid) smx_ob_q[r] <= o_last ? '0 : smx_ob_q[r] + UtW'(1);
    end
  end
  assign smx_idle = &smx_idle_r;

  // ===============================================================================================
  // LayerNorm engines: LN1 behind the output projection, LN2 behind the FFN
  // ===============================================================================================
  localparam int unsigned LnBeatW = idx_w(CtD);
  logic [LenW-1:0]    ln_in_tok_q [2];
  logic [LnBeatW-1:0] ln_in_b_q   [2];
  logic               ln_in_valid [2], ln_in_ready [2], ln_out_valid [2], ln_out_ready [2];
  acc_t [W-1:0]       ln_in_r     [2];
  logic [LnBeatW-1:0] ln_par_b    [2], ln_out_b [2];
  int16_t [W-1:0]     ln_gamma_l  [2];
  acc_t [W-1:0]       ln_beta_l   [2];
  rq_t [W-1:0]        ln_rq_l     [2];
  rq_t [W-1:0]        ln_rq16_l   [2];
  int8_t [W-1:0]      ln_y        [2];
  int16_t [W-1:0]     ln_y16      [2];
  logic               ln_half_q   [2];  // the beat on out is the INT16 half (h1r / yr)
  logic [LenW-1:0]    ln_cnt      [2];
  logic               ln_grant    [2];

  assign ln_cnt[0] = ln1_cnt_q;
  assign ln_cnt[1] = ln2_cnt_q;

  for (genvar e = 0; e < 2; e++) begin : g_ln
    row_t tok, src;
    logic src_ready;
    assign tok = row_t'(ln_in_tok_q[e]);
    if (e == 0) begin : g_src1
      assign src       = (sw_reuse_oproj && !tokself_q[tok]) ? trep_q[tok] : tok;
      assign src_ready = o_ready_q[src];
    end else begin : g_src2
      assign src       = (sw_reuse_ffn && !tokself_q[tok]) ? trep_q[tok] : tok;
      assign src_ready = fo_ready_q[src] && (ln1_cnt_q > ln_in_tok_q[e]);
    end
    assign ln_in_valid[e] = load_done && (ln_in_tok_q[e] < len_q) && src_ready;
    // Block-local temporaries of this loop stay out of the waves (traced, Verilator keeps them as
    // model members, a store per lane and cycle: docs/debugging.md); the block's outputs are traced.
    /*verilator tracing_off*/
    always_comb begin
      for (int unsigned c = 0; c < W; c++) begin
        dcol_t d;
        d = dcol_t'(32'(ln_in_b_q[e]) * W + c);
        if (e == 0) ln_in_r[e][c] = acc_t'(xr_buf[tok][d]) + acc_t'(o_buf[src][d]);
        else        ln_in_r[e][c] = acc_t'(h1r_buf[tok][d]) + acc_t'(fo_buf[src][d]);
        ln_gamma_l[e][c] = ln_gamma[e][32'(ln_par_b[e]) * W + c];
        ln_beta_l[e][c]  = ln_beta[e][32'(ln_par_b[e]) * W + c];
        ln_rq_l[e][c]    = ln_rq[e][32'(ln_par_b[e]) * W + c];
        ln_rq16_l[e][c]  = ln_r_rq[e][32'(ln_par_b[e]) * W + c];
      end
    end
    /*verilator tracing_on*/
    // each output beat goes out twice (INT8, then INT16) and is popped with the second; LN1's only
    // with dbg (without it LN1 pops straight into the buffers)
    assign ln_out_ready[e] = ((e == 0) && !dbg_q) || (ln_grant[e] && ln_half_q[e]);

    esact_layernorm #(.D(D), .Lanes(W), .SqrtPerCycle(4), .DivPerCycle(8)) u_ln (
      .clk_i,
      .rst_ni,
      .in_valid_i  (ln_in_valid[e]),
      .in_ready_o  (ln_in_ready[e]),
      .in_r_i      (ln_in_r[e]),
      .eps_i       (ln_eps[e]),
      .par_beat_o  (ln_par_b[e]),
      .gamma_i     (ln_gamma_l[e]),
      .beta_i      (ln_beta_l[e]),
      .rq_i        (ln_rq_l[e]),
      .rq16_i      (ln_rq16_l[e]),
      .out_valid_o (ln_out_valid[e]),
      .out_ready_i (ln_out_ready[e]),
      .out_y_o     (ln_y[e]),
      .out_y16_o   (ln_y16[e]),
      .out_norm_o  (),
      .out_beat_o  (ln_out_b[e]),
      .idle_o      ()
    );

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        ln_in_tok_q[e] <= '0;
        ln_in_b_q[e]   <= '0;
      end else if (cfg_hs) begin
        ln_in_tok_q[e] <= '0;
        ln_in_b_q[e]   <= '0;
      end else if (ln_in_valid[e] && ln_in_ready[e]) begin
        if (ln_in_b_q[e] == LnBeatW'(CtD - 1)) begin
          ln_in_b_q[e]   <= '0;
          ln_in_tok_q[e] <= ln_in_tok_q[e] + LenW'(1);
        end else ln_in_b_q[e] <= ln_in_b_q[e] + LnBeatW'(1);
      end
    end
  end

  // LN outputs: h1 buffer (LN1), token counters
  always_ff @(posedge clk_i) begin
    if (ln_out_valid[0] && ln_out_ready[0]) begin
      for (int unsigned c = 0; c < W; c++) begin
        h1_buf[row_t'(ln1_cnt_q)][32'(ln_out_b[0]) * W + c]  <= ln_y[0][c];
        h1r_buf[row_t'(ln1_cnt_q)][32'(ln_out_b[0]) * W + c] <= ln_y16[0][c];
      end
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ln1_cnt_q    <= '0;
      ln2_cnt_q    <= '0;
      ln_half_q[0] <= 1'b0;
      ln_half_q[1] <= 1'b0;
    end else if (cfg_hs) begin
      ln1_cnt_q    <= '0;
      ln2_cnt_q    <= '0;
      ln_half_q[0] <= 1'b0;
      ln_half_q[1] <= 1'b0;
    end else begin
      if (ln_grant[0]) ln_half_q[0] <= !ln_half_q[0];
      if (ln_grant[1]) ln_half_q[1] <= !ln_half_q[1];
      if (ln_out_valid[0] && ln_out_ready[0] && ln_out_b[0] == LnBeatW'(CtD - 1)) ln1_cnt_q <= ln1_cnt_q + LenW'(1);
      if (ln_out_valid[1] && ln_out_ready[1] && ln_out_b[1] == LnBeatW'(CtD - 1)) ln2_cnt_q <= ln2_cnt_q + LenW'(1);
    end
  end

  // ===============================================================================================
  // Output stream: LN2 (layer output) > LN1 > drain, the choice held while the beat waits
  // ===============================================================================================
  logic [1:0] sel, sel_q;   // 0 drain, 1 LN1, 2 LN2
  logic       lock_q;
  logic       src_valid [3];
  assign src_valid[0] = c_valid && wb_needs_out;
  assign src_valid[1] = ln_out_valid[0] && dbg_q;
  assign src_valid[2] = ln_out_valid[1];
  always_comb begin
    if (lock_q)            sel = sel_q;
    else if (src_valid[2]) sel = 2'd2;
    else if (src_valid[1]) sel = 2'd1;
    else                   sel = 2'd0;
  end
  assign out_valid_o  = src_valid[sel];
  assign wb_out_grant = out_ready_i && (sel == 2'd0);
  assign ln_grant[0]  = out_ready_i && (sel == 2'd1);
  assign ln_grant[1]  = out_ready_i && (sel == 2'd2);

  always_comb begin
    out_kind_o = 4'(LyOut);
    out_row_o  = '0;
    out_col_o  = '0;
    out_data_o = '0;
    unique case (sel)
      2'd0: begin
        unique case (wb.ph)
          PhQkv:   out_kind_o = 4'(LyQ) + 4'(wb.mat);
          PhXv:    out_kind_o = 4'(LyAttn);
          PhOproj: out_kind_o = 4'(LyOproj);
          PhUp:    out_kind_o = 4'(LyHidden);
          default: out_kind_o = 4'(LyFfn);
        endcase
        out_row_o  = wb.row;
        out_col_o  = wb_col;
        out_data_o = wb_val;
      end
      default: begin
        logic e;
        e          = (sel == 2'd2);
        if (e) out_kind_o = ln_half_q[1] ? LyOutrKind : 4'(LyOut);
        else   out_kind_o = ln_half_q[0] ? LyLn1rKind : 4'(LyLn1);
        out_row_o  = row_t'(ln_cnt[e]);
        out_col_o  = col_t'(32'(ln_out_b[e]) * W);
        for (int unsigned c = 0; c < W; c++) out_data_o[c] = ln_half_q[e] ? ln_y16[e][c] : 16'(ln_y[e][c]);
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      lock_q <= 1'b0;
      sel_q  <= '0;
    end else begin
      lock_q <= out_valid_o && !out_ready_i;
      sel_q  <= sel;
    end
  end

  // ===============================================================================================
  // Performance counters
  // ===============================================================================================
  // 0 total, 1 load, 2 wait for SPLS, 3 QKV, 4 attention, 5 output projection, 6 FFN, 7 LN2 tail,
  // 8 feeder waiting for memory, 9..12 issued MACs (rows x cols per step) of QKV, attention,
  // output projection, FFN.
  logic [PerfN-1:0][PerfW-1:0] perf_q;
  assign perf_o = perf_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      perf_q <= '0;
    end else if (cfg_hs) begin
      perf_q <= '0;
    end else if (ph_q != PhIdle && ph_q != PhDone) begin
      perf_q[0] <= perf_q[0] + 1;
      if (spls_wait) perf_q[2] <= perf_q[2] + 1;
      else begin
        unique case (ph_q)
          PhLoad:             perf_q[1] <= perf_q[1] + 1;
          PhQkv:              perf_q[3] <= perf_q[3] + 1;
          PhQk, PhSmx, PhXv:  perf_q[4] <= perf_q[4] + 1;
          PhOproj:            perf_q[5] <= perf_q[5] + 1;
          PhUp, PhDown:       perf_q[6] <= perf_q[6] + 1;
          default:            perf_q[7] <= perf_q[7] + 1;
        endcase
      end
      if (run_phase && ts_q == TsRun && uses_mem && hazard_ok && !rsp_valid) perf_q[8] <= perf_q[8] + 1;
      if (arr_hs) begin
        unique case (ph_q)
          PhQkv:       perf_q[9]  <= perf_q[9]  + PerfW'(32'(tn_q) * W);
          PhQk, PhXv:  perf_q[10] <= perf_q[10] + PerfW'(32'(tn_q) * W);
          PhOproj:     perf_q[11] <= perf_q[11] + PerfW'(32'(tn_q) * W);
          default:     perf_q[12] <= perf_q[12] + PerfW'(32'(tn_q) * W);
        endcase
      end
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions and coverage
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // configuration legality (the driver's duty)
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i |-> cfg_len_i != '0 && cfg_len_i <= LenW'(N));
  // stream protocol: valid and data held until ready
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i && !cfg_ready_o |=> cfg_valid_i && $stable(cfg_len_i) && $stable(cfg_switch_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   mem_req_valid_o && !mem_req_ready_i |=> mem_req_valid_o && $stable(mem_req_addr_o));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_kind_o) && $stable(out_row_o) &&
                                                   $stable(out_col_o) && $stable(out_data_o));
  // SPLS stream and banks: rows in range (row < L for the sequence the layer is on); every beat
  // but a sequence's first belongs to a started, unreleased bank; both banks busy means two
  // different sequences; the layer never computes from a free bank; only a busy bank is released
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   spls_valid_i |-> (spls_kind_i == OutHead || spls_kind_i == OutKv || 32'(spls_row_i) < N));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   spls_valid_i && used_q && spls_bank == rb_q |->
                     (spls_kind_i == OutHead || spls_kind_i == OutKv || LenW'(spls_row_i) < len_q));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   spls_valid_i && !(spls_kind_i == OutHead && spls_head_i == '0) |-> wstarted_q && bbusy_q[wb_q]);
  assert property (@(posedge clk_i) disable iff (!rst_ni) bbusy_q == 2'b11 |-> wb_q != rb_q);
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   (ph_q == PhQkv && head_sw || ph_q == PhOproj && tok_sw) && !spls_wait |-> bbusy_q[rb_q]);
  assert property (@(posedge clk_i) disable iff (!rst_ni) bank_release |-> bbusy_q[rb_q]);
  // the response buffer never overflows: requests are credited
  assert property (@(posedge clk_i) disable iff (!rst_ni) mem_rsp_valid_i |-> mem_rsp_ready_o);
  assert property (@(posedge clk_i) disable iff (!rst_ni) infl_q <= InflW'(RspDepth));
  // memory words are consumed only in the phases that read memory
  assert property (@(posedge clk_i) disable iff (!rst_ni) rsp_pop |-> rsp_valid);
  // the fetch engine and the feeder agree: memory phases never find the wrong loop
  assert property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhDone |-> fph_q == FDone);
  // a QK^T tile row always has a softmax unit waiting for it
  assert property (@(posedge clk_i) disable iff (!rst_ni) arr_hs |-> tn_q != '0);

  cov_mem_req_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) mem_req_valid_o && !mem_req_ready_i);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  cov_spls_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) spls_wait);
  // bank swap: the next sequence's stream accepted while the layer computes; back-pressure with
  // both banks busy; a release that finds the next bank's prediction complete; a swap back to bank 0
  cov_bank_next_in_flight: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                           spls_hs && spls_new && ph_q != PhIdle && ph_q != PhDone);
  cov_bank_both_busy: cover property (@(posedge clk_i) disable iff (!rst_ni) spls_valid_i && !spls_ready_o);
  cov_bank_release_ready: cover property (@(posedge clk_i) disable iff (!rst_ni) bank_release && (&hdone_b[!rb_q]));
  cov_bank_release_b1: cover property (@(posedge clk_i) disable iff (!rst_ni) bank_release && rb_q);
  cov_mem_starved: cover property (@(posedge clk_i) disable iff (!rst_ni) run_phase && uses_mem && !rsp_valid);
  cov_ph_smx: cover property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhSmx);
  cov_ph_xv: cover property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhXv);
  cov_ph_down: cover property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhDown);
  cov_ph_tail: cover property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhTail);
  cov_ph_done: cover property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhDone);
  cov_union_all_slots: cover property (@(posedge clk_i) disable iff (!rst_ni) ts_q == TsUnion && tn_q == NSlotW'(Rows));
  cov_up_hazard_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) ph_q == PhUp && ts_q == TsRun && !hazard_ok);
`endif

endmodule
