// SPLS sparsity predictor top (docs/spec.md Part I; interface and stream order: section 9).
//
// One sequence at a time: a configuration beat, then X rows and the per-head W_Q / W_K columns on
// the input stream; out come, per head, HEAD (shifts), ROW 0..L-1 (top-k mask, representative),
// KV, and finally TOKEN 0..L-1 (token representative).
//
// Port widths (parameters N, D, H, LANES as in configs/<name>.cfg; widths from esact_pkg helpers):
//
//   port                  width                   tiny (N16 H2 L16)  minilm (N128 H12 L128)
//   cfg_len_i, cfg_k_i,   cnt_w(N) = clog2(N+1)   5                  8
//   cfg_t_i
//   cfg_w_i               idx_w(N) = clog2(N)     4                  7
//   cfg_v_i               cnt_w(H) = clog2(H+1)   2                  4
//   cfg_causal_i          1                       1                  1
//   in_data_i             LANES x 8               128                1024
//   out_kind_o            2 (out_kind_e)          2                  2
//   out_head_o            idx_w(H) = max(1, clog2(H))  1             4
//   out_row_o, out_rep_o  idx_w(N)                4                  7
//   out_mask_o            N                       16                 128
//   out_shift_q_o/_k_o    ShiftW = 5              5                  5
//   perf_cycles_o,        PerfW = 32              32                 32   (not in spec section 9:
//   perf_busy_o                                                            optional counters)
//
// Datapath. Input beats are HLog-encoded on arrival (LANES encoders) into the X code buffer
// (N x D codes) or into one of two weight column slots (D codes each): the loader fills one slot
// while the prediction array consumes the other, so weight columns are prefetched. The shared
// add-only array (LANES lanes, P = LANES / dh groups of dh lanes) runs, per head h:
//   projection: for each of the dh Q columns then the dh K columns, for each row, D / LANES beats
//               of (X codes, W codes); the P group sums are added and accumulated into Q^ / K^
//               (N x dh int32 each), with a running max |.| per matrix;
//   drain:      wait until the last projection sum is written, latch sQ_h / sK_h, queue HEAD;
//   PAM:        for each row i and block of P columns j, lanes carry (HLog(q[i][c]), HLog(k[j][c]))
//               where q = Q^ >>> sQ_h, encoded on the fly; the P group sums are PAM_h[i][j].
// PAM beats stream into the top-k selector (double-buffered rows), its masks into the similarity
// unit, whose ROW / KV beats, together with HEAD and TOKEN beats, go through the output FIFO.
// Top-k and similarity of head h run while the array already projects head h+1.
//
// Timing contract. The array takes one beat per cycle whenever it has operands and room: cycles
// per sequence are L D / LANES (X load) + pred_pairs / LANES (array) + H (drain + 1) + a tail of
// about 2 ceil(L/P) + L + a few cycles, without stalls. Every stream obeys valid/ready; output
// back-pressure stalls the PAM path back to the array and the input stream; input starvation
// just idles the array.

module esact_spls_top
  import esact_pkg::*;
#(
  parameter int unsigned N     = 16,   // sequence slots
  parameter int unsigned D     = 32,   // model width
  parameter int unsigned H     = 2,    // heads
  parameter int unsigned LANES = 16,   // code pairs per cycle (spec name, as in configs/*.cfg)
  parameter int unsigned OutFifoDepth = 4,
  // derived
  localparam int unsigned Dh    = D / H,          // head width
  localparam int unsigned P     = LANES / Dh,     // PAM columns per cycle
  localparam int unsigned C     = D / LANES,      // beats per X row / per W column
  localparam int unsigned RowW  = idx_w(N),
  localparam int unsigned LenW  = cnt_w(N),
  localparam int unsigned HeadW = idx_w(H),
  localparam int unsigned VoteW = cnt_w(H)
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  // configuration stream: one beat starts a sequence (accepted only when idle)
  input  logic                    cfg_valid_i,    // configuration valid
  output logic                    cfg_ready_o,    // unit idle
  input  logic [LenW-1:0]         cfg_len_i,      // L, 1..N
  input  logic [LenW-1:0]         cfg_k_i,        // k, 1..L
  input  logic [LenW-1:0]         cfg_t_i,        // T, 0..k
  input  logic [RowW-1:0]         cfg_w_i,        // window w, 0..N-1
  input  logic [VoteW-1:0]        cfg_v_i,        // token vote V, 1..H
  input  logic                    cfg_causal_i,   // causal top-k candidates
  // input stream: X rows, then per head the W_Q and W_K columns (spec section 9)
  input  logic                    in_valid_i,     // in_data_i valid
  output logic                    in_ready_o,     // unit accepts a beat
  input  int8_t [LANES-1:0]       in_data_i,      // element e in bits [8e+7:8e]
  // output stream: HEAD, ROW, KV per head, then TOKEN
  output logic                    out_valid_o,    // beat valid
  input  logic                    out_ready_i,    // consumer accepts
  output logic [1:0]              out_kind_o,     // out_kind_e: ROW 0, KV 1, TOKEN 2, HEAD 3
  output logic [HeadW-1:0]        out_head_o,     // HEAD, ROW, KV: head h
  output logic [RowW-1:0]         out_row_o,      // ROW, TOKEN: row / token i
  output logic [RowW-1:0]         out_rep_o,      // ROW: rep_h[i]; TOKEN: token_rep[i]
  output logic [N-1:0]            out_mask_o,     // ROW: mask_h[i]; KV: kv_h
  output logic [ShiftW-1:0]       out_shift_q_o,  // HEAD: sQ_h
  output logic [ShiftW-1:0]       out_shift_k_o,  // HEAD: sK_h
  // performance counters (cleared by a configuration beat)
  output logic [PerfW-1:0]        perf_cycles_o,  // cycles since the configuration handshake
  output logic [PerfW-1:0]        perf_busy_o     // cycles the array accepted a beat
);

  localparam int unsigned ColW    = idx_w(Dh);
  localparam int unsigned ChunkW  = idx_w(C);
  localparam int unsigned PamW    = ProdW + $clog2(Dh);   // esact_pred_array SumW with Dh lanes/group
  localparam int unsigned WColsW  = cnt_w(D + D);
  localparam int unsigned PColW   = $clog2(N + P + 1);     // PAM column base, may run past N
  localparam int unsigned HCntW   = cnt_w(H);

  typedef hlog_code_t [LANES-1:0] lanes_code_t;
  typedef logic [PColW-1:0] pcol_t;

  // Tag that travels with each beat through the array.
  typedef struct packed {
    logic            pam;    // PAM beat (else projection)
    logic            is_k;   // projection: K column (else Q)
    logic            first;  // projection: first chunk of a dot product
    logic            last;   // projection: last chunk of a dot product
    logic [RowW-1:0] row;    // projection: X row; PAM: PAM row
    logic [ColW-1:0] col;    // projection: column within the head
  } tag_t;

  // Output FIFO entry.
  typedef struct packed {
    out_kind_e        kind;
    logic [HeadW-1:0] head;
    logic [RowW-1:0]  row;
    logic [RowW-1:0]  rep;
    logic [N-1:0]     mask;
    shift_t           shift_q;
    shift_t           shift_k;
  } out_beat_t;

  // ===============================================================================================
  // Sequence control and configuration registers
  // ===============================================================================================
  logic             seq_active_q;
  logic [LenW-1:0]  len_q, k_q, t_q;
  logic [RowW-1:0]  w_q;
  logic [VoteW-1:0] v_q;
  logic             causal_q;
  logic             cfg_hs, seq_end;

  assign cfg_ready_o = !seq_active_q;
  assign cfg_hs      = cfg_valid_i && cfg_ready_o;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      seq_active_q <= 1'b0;
      len_q        <= LenW'(1);
      k_q          <= LenW'(1);
      t_q          <= '0;
      w_q          <= '0;
      v_q          <= VoteW'(1);
      causal_q     <= 1'b0;
    end else if (cfg_hs) begin
      seq_active_q <= 1'b1;
      len_q        <= cfg_len_i;
      k_q          <= cfg_k_i;
      t_q          <= cfg_t_i;
      w_q          <= cfg_w_i;
      v_q          <= cfg_v_i;
      causal_q     <= cfg_causal_i;
    end else if (seq_end) begin
      seq_active_q <= 1'b0;
    end
  end

  // ===============================================================================================
  // Input loader: HLog-encode each beat into the X buffer or a weight column slot
  // ===============================================================================================
  lanes_code_t     in_codes;
  lanes_code_t     xbuf_q [N][C];   // X codes: [row][chunk]
  lanes_code_t     wbuf_q [2][C];   // weight column slots: [slot][chunk]
  logic            x_done_q;
  logic [RowW-1:0] x_row_q;
  logic [ChunkW-1:0] x_chunk_q;
  logic [1:0]      w_full_q;        // slot holds a complete column not yet consumed
  logic            w_wr_q;          // slot being filled
  logic [ChunkW-1:0] w_chunk_q;
  logic [WColsW-1:0] w_cols_in_q;   // columns received
  logic            in_hs, x_last_beat, w_last_beat;
  logic            w_free_slot;     // the issue side releases slot w_rd_q this cycle

  for (genvar e = 0; e < LANES; e++) begin : g_in_enc
    esact_hlog_enc u_enc (
      .data_i (in_data_i[e]),
      .code_o (in_codes[e])
    );
  end

  assign in_ready_o  = seq_active_q &&
                       (!x_done_q || (w_cols_in_q != WColsW'(D + D) && !w_full_q[w_wr_q]));
  assign in_hs       = in_valid_i && in_ready_o;
  assign x_last_beat = (LenW'(x_row_q) + LenW'(1) == len_q) && (x_chunk_q == ChunkW'(C - 1));
  assign w_last_beat = (w_chunk_q == ChunkW'(C - 1));

  always_ff @(posedge clk_i) begin
    if (in_hs && !x_done_q) xbuf_q[x_row_q][x_chunk_q] <= in_codes;
    if (in_hs && x_done_q)  wbuf_q[w_wr_q][w_chunk_q]  <= in_codes;
  end

  logic w_rd_q;  // slot being consumed (issue side)

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x_done_q    <= 1'b0;
      x_row_q     <= '0;
      x_chunk_q   <= '0;
      w_full_q    <= '0;
      w_wr_q      <= 1'b0;
      w_chunk_q   <= '0;
      w_cols_in_q <= '0;
    end else if (cfg_hs) begin
      x_done_q    <= 1'b0;
      x_row_q     <= '0;
      x_chunk_q   <= '0;
      w_full_q    <= '0;
      w_wr_q      <= 1'b0;
      w_chunk_q   <= '0;
      w_cols_in_q <= '0;
    end else begin
      if (in_hs && !x_done_q) begin
        if (x_chunk_q == ChunkW'(C - 1)) begin
          x_chunk_q <= '0;
          x_row_q   <= x_row_q + RowW'(1);
        end else begin
          x_chunk_q <= x_chunk_q + ChunkW'(1);
        end
        if (x_last_beat) x_done_q <= 1'b1;
      end
      if (in_hs && x_done_q) begin
        if (w_last_beat) begin
          w_chunk_q        <= '0;
          w_full_q[w_wr_q] <= 1'b1;
          w_wr_q           <= !w_wr_q;
          w_cols_in_q      <= w_cols_in_q + WColsW'(1);
        end else begin
          w_chunk_q <= w_chunk_q + ChunkW'(1);
        end
      end
      // the loader only writes a free slot, so this never clears the bit set above
      if (w_free_slot) w_full_q[w_rd_q] <= 1'b0;
    end
  end

  // ===============================================================================================
  // Issue controller of the prediction array
  // ===============================================================================================
  typedef enum logic [1:0] {
    AIdle  = 2'd0,   // nothing to issue
    AProj  = 2'd1,   // Q / K projection of head a_head_q
    ADrain = 2'd2,   // wait for the last projection sum, latch the shifts
    APam   = 2'd3    // PAM rows of head a_head_q
  } arr_state_e;

  arr_state_e       a_state_q;
  logic [HeadW-1:0] a_head_q;
  // projection counters
  logic             p_isk_q;
  logic [ColW-1:0]  p_col_q;
  logic [RowW-1:0]  p_row_q;
  logic [ChunkW-1:0] p_chunk_q;
  // PAM counters
  logic [RowW-1:0]  m_row_q;
  pcol_t            m_col_q;        // first PAM column of the block
  // per-head scale
  logic [AccW-1:0]  maxq_q, maxk_q; // running max |Q^|, |K^| of the head being projected
  shift_t           sq_q, sk_q;     // shifts of the head whose PAM is issued
  logic             head_pend_q;    // a HEAD beat is waiting for its turn at the output
  logic [HeadW-1:0] head_pend_h_q;
  shift_t           head_pend_sq_q, head_pend_sk_q;
  logic             head_push;

  // array ports
  logic             arr_valid, arr_ready, arr_hs, arr_busy;
  lanes_code_t      arr_a, arr_b;
  tag_t             arr_tag;
  logic             arr_out_valid, arr_out_ready;
  logic [P-1:0][PamW-1:0] arr_sum;
  tag_t             arr_out_tag;

  // -----------------------------------------------------------------------------------------------
  // PAM operands: q row and P k rows, rescaled and HLog-encoded on the fly
  // -----------------------------------------------------------------------------------------------
  acc_t  qbuf_q [N][Dh];            // Q^ of the current head: [row][column in head]
  acc_t  kbuf_q [N][Dh];            // K^ of the current head
  int8_t [Dh-1:0]        q_scaled;
  hlog_code_t [Dh-1:0]   q_codes;
  int8_t [P-1:0][Dh-1:0] k_scaled;
  hlog_code_t [P-1:0][Dh-1:0] k_codes, pam_a;
  logic [P-1:0]          k_in_range;

  for (genvar c = 0; c < Dh; c++) begin : g_q_enc
    acc_t q_shifted;
    assign q_shifted   = qbuf_q[m_row_q][c] >>> sq_q;
    assign q_scaled[c] = int8_t'(q_shifted);
    esact_hlog_enc u_enc (
      .data_i (q_scaled[c]),
      .code_o (q_codes[c])
    );
  end

  for (genvar p = 0; p < P; p++) begin : g_k_rows
    pcol_t j;
    assign j             = m_col_q + pcol_t'(p);
    assign k_in_range[p] = (j < pcol_t'(N));
    for (genvar c = 0; c < Dh; c++) begin : g_k_enc
      acc_t k_raw, k_shifted;
      // (shift a signed operand on its own: inside ?: with '0 it would become a logical shift)
      assign k_raw          = k_in_range[p] ? kbuf_q[RowW'(j)][c] : acc_t'(0);
      assign k_shifted      = k_raw >>> sk_q;
      assign k_scaled[p][c] = int8_t'(k_shifted);
      esact_hlog_enc u_enc (
        .data_i (k_scaled[p][c]),
        .code_o (k_codes[p][c])
      );
    end
    assign pam_a[p] = q_codes;  // the q row meets each of the P k rows
  end

  // -----------------------------------------------------------------------------------------------
  // Operand / tag mux and sequencing
  // -----------------------------------------------------------------------------------------------
  always_comb begin
    arr_valid = 1'b0;
    arr_a     = xbuf_q[p_row_q][p_chunk_q];
    arr_b     = wbuf_q[w_rd_q][p_chunk_q];
    arr_tag   = '{pam: 1'b0, is_k: p_isk_q, first: (p_chunk_q == '0),
                  last: (p_chunk_q == ChunkW'(C - 1)), row: p_row_q, col: p_col_q};
    unique case (a_state_q)
      AProj: begin
        arr_valid = x_done_q && w_full_q[w_rd_q];
      end
      APam: begin
        arr_valid = 1'b1;
        arr_a     = pam_a;
        arr_b     = k_codes;
        arr_tag   = '{pam: 1'b1, is_k: 1'b0, first: 1'b0, last: 1'b0, row: m_row_q, col: '0};
      end
      default: ;
    endcase
  end

  assign arr_hs = arr_valid && arr_ready;

  logic p_col_done, p_head_done, m_row_done, m_head_done;
  assign p_col_done  = (p_chunk_q == ChunkW'(C - 1)) && (LenW'(p_row_q) + LenW'(1) == len_q);
  assign p_head_done = p_col_done && p_isk_q && (p_col_q == ColW'(Dh - 1));
  assign w_free_slot = (a_state_q == AProj) && arr_hs && p_col_done;
  assign m_row_done  = (m_col_q + pcol_t'(P) >= pcol_t'(len_q));
  assign m_head_done = m_row_done && (LenW'(m_row_q) + LenW'(1) == len_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_state_q      <= AIdle;
      a_head_q       <= '0;
      p_isk_q        <= 1'b0;
      p_col_q        <= '0;
      p_row_q        <= '0;
      p_chunk_q      <= '0;
      m_row_q        <= '0;
      m_col_q        <= '0;
      w_rd_q         <= 1'b0;
      sq_q           <= '0;
      sk_q           <= '0;
      head_pend_q    <= 1'b0;
      head_pend_h_q  <= '0;
      head_pend_sq_q <= '0;
      head_pend_sk_q <= '0;
    end else if (cfg_hs) begin
      a_state_q   <= AProj;
      a_head_q    <= '0;
      p_isk_q     <= 1'b0;
      p_col_q     <= '0;
      p_row_q     <= '0;
      p_chunk_q   <= '0;
      m_row_q     <= '0;
      m_col_q     <= '0;
      w_rd_q      <= 1'b0;
      head_pend_q <= 1'b0;
    end else begin
      if (head_push) head_pend_q <= 1'b0;
      unique case (a_state_q)
        AProj: begin
          if (arr_hs) begin
            if (p_chunk_q != ChunkW'(C - 1)) begin
              p_chunk_q <= p_chunk_q + ChunkW'(1);
            end else begin
              p_chunk_q <= '0;
              if (!p_col_done) begin
                p_row_q <= p_row_q + RowW'(1);
              end else begin
                // column complete: release its weight slot
                p_row_q <= '0;
                w_rd_q  <= !w_rd_q;
                if (p_col_q != ColW'(Dh - 1)) begin
                  p_col_q <= p_col_q + ColW'(1);
                end else begin
                  p_col_q <= '0;
                  p_isk_q <= !p_isk_q;
                  if (p_head_done) a_state_q <= ADrain;
                end
              end
            end
          end
        end
        ADrain: begin
          // all projection sums written (array empty) and the previous HEAD beat is out
          if (!arr_busy && (!head_pend_q || head_push)) begin
            sq_q           <= shift_for_max(maxq_q);
            sk_q           <= shift_for_max(maxk_q);
            head_pend_q    <= 1'b1;
            head_pend_h_q  <= a_head_q;
            head_pend_sq_q <= shift_for_max(maxq_q);
            head_pend_sk_q <= shift_for_max(maxk_q);
            m_row_q        <= '0;
            m_col_q        <= '0;
            a_state_q      <= APam;
          end
        end
        APam: begin
          if (arr_hs) begin
            if (!m_row_done) begin
              m_col_q <= m_col_q + pcol_t'(P);
            end else begin
              m_col_q <= '0;
              if (!m_head_done) begin
                m_row_q <= m_row_q + RowW'(1);
              end else begin
                m_row_q <= '0;
                if (a_head_q == HeadW'(H - 1)) begin
                  a_state_q <= AIdle;
                end else begin
                  a_head_q  <= a_head_q + HeadW'(1);
                  a_state_q <= AProj;
                end
              end
            end
          end
        end
        default: ;  // AIdle
      endcase
    end
  end

  // ===============================================================================================
  // Prediction array (shared by projection and PAM)
  // ===============================================================================================
  esact_pred_array #(
    .Lanes  (LANES),
    .Groups (P),
    .TagW   ($bits(tag_t))
  ) u_pred_array (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .valid_i (arr_valid),
    .ready_o (arr_ready),
    .a_i     (arr_a),
    .b_i     (arr_b),
    .tag_i   (arr_tag),
    .valid_o (arr_out_valid),
    .ready_i (arr_out_ready),
    .sum_o   (arr_sum),
    .tag_o   (arr_out_tag),
    .busy_o  (arr_busy)
  );

  // ===============================================================================================
  // Projection write-back: accumulate D / LANES chunk sums into Q^ / K^, track max |.|
  // ===============================================================================================
  logic topk_ready;
  acc_t acc_q, proj_sum, proj_val;
  logic proj_wb;

  assign arr_out_ready = arr_out_tag.pam ? topk_ready : 1'b1;
  assign proj_wb       = arr_out_valid && !arr_out_tag.pam;

  always_comb begin
    proj_sum = '0;
    for (int unsigned p = 0; p < P; p++) begin
      proj_sum = proj_sum + AccW'($signed(arr_sum[p]));
    end
    proj_val = arr_out_tag.first ? proj_sum : acc_q + proj_sum;
  end

  always_ff @(posedge clk_i) begin
    if (proj_wb) begin
      acc_q <= proj_val;
      if (arr_out_tag.last) begin
        if (arr_out_tag.is_k) kbuf_q[arr_out_tag.row][arr_out_tag.col] <= proj_val;
        else                  qbuf_q[arr_out_tag.row][arr_out_tag.col] <= proj_val;
      end
    end
  end

  logic [AccW-1:0] proj_abs;
  assign proj_abs = acc_abs(proj_val);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      maxq_q <= '0;
      maxk_q <= '0;
    end else if (cfg_hs || (a_state_q == ADrain && !arr_busy && (!head_pend_q || head_push))) begin
      // the drain step latches the shifts of this head and clears the maxima for the next one
      maxq_q <= '0;
      maxk_q <= '0;
    end else if (proj_wb && arr_out_tag.last) begin
      if (arr_out_tag.is_k && proj_abs > maxk_q) maxk_q <= proj_abs;
      if (!arr_out_tag.is_k && proj_abs > maxq_q) maxq_q <= proj_abs;
    end
  end

  // ===============================================================================================
  // Top-k selector and local similarity
  // ===============================================================================================
  logic            topk_valid, sim_ready;
  logic [RowW-1:0] topk_row;
  logic [N-1:0]    topk_mask;

  esact_topk #(
    .N    (N),
    .P    (P),
    .ValW (PamW)
  ) u_topk (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .len_i    (len_q),
    .k_i      (k_q),
    .causal_i (causal_q),
    .valid_i  (arr_out_valid && arr_out_tag.pam),
    .ready_o  (topk_ready),
    .vals_i   (arr_sum),
    .row_i    (arr_out_tag.row),
    .valid_o  (topk_valid),
    .ready_i  (sim_ready),
    .row_o    (topk_row),
    .mask_o   (topk_mask)
  );

  logic            sim_valid, sim_out_ready;
  out_kind_e       sim_kind;
  logic [RowW-1:0] sim_row, sim_rep;
  logic [N-1:0]    sim_mask;

  esact_similarity #(
    .N (N)
  ) u_similarity (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .len_i   (len_q),
    .w_i     (w_q),
    .t_i     (t_q),
    .valid_i (topk_valid),
    .ready_o (sim_ready),
    .row_i   (topk_row),
    .mask_i  (topk_mask),
    .valid_o (sim_valid),
    .ready_i (sim_out_ready),
    .kind_o  (sim_kind),
    .row_o   (sim_row),
    .rep_o   (sim_rep),
    .mask_o  (sim_mask)
  );

  // ===============================================================================================
  // Output ordering: HEAD h, ROW h .., KV h, then TOKEN ..
  // ===============================================================================================
  logic [HCntW-1:0] heads_out_q, kvs_out_q;  // HEAD / KV beats pushed this sequence
  logic             head_open;               // HEAD of the head in the similarity unit is out
  logic             fifo_valid_in, fifo_ready_in, sim_push, kv_push;
  out_beat_t        fifo_in, fifo_out;
  logic [RowW-1:0]  rep_tab_q [H][N];        // rep_h[i], for the token vote
  logic [cnt_w(OutFifoDepth)-1:0] out_fifo_count;

  assign head_open     = (heads_out_q != kvs_out_q);
  assign head_push     = head_pend_q && !head_open && fifo_ready_in;
  assign sim_out_ready = head_open && fifo_ready_in;
  assign sim_push      = sim_valid && sim_out_ready;
  assign kv_push       = sim_push && (sim_kind == OutKv);

  // token vote
  logic             tok_phase, tv_valid_in, tv_ready_in, tv_valid, tv_hs_in;
  logic [LenW-1:0]  tok_cnt_q;
  logic [H-1:0][RowW-1:0] tok_reps;
  logic [RowW-1:0]  tv_row, tv_rep;

  assign tok_phase   = seq_active_q && (kvs_out_q == HCntW'(H));
  assign tv_valid_in = tok_phase && (tok_cnt_q != len_q);
  assign tv_hs_in    = tv_valid_in && tv_ready_in;

  always_comb begin
    for (int unsigned h = 0; h < H; h++) begin
      tok_reps[h] = rep_tab_q[h][RowW'(tok_cnt_q)];
    end
  end

  esact_token_vote #(
    .N (N),
    .H (H)
  ) u_token_vote (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .w_i     (w_q),
    .v_i     (v_q),
    .valid_i (tv_valid_in),
    .ready_o (tv_ready_in),
    .row_i   (RowW'(tok_cnt_q)),
    .reps_i  (tok_reps),
    .valid_o (tv_valid),
    .ready_i (fifo_ready_in),
    .row_o   (tv_row),
    .rep_o   (tv_rep)
  );

  always_comb begin
    fifo_valid_in = 1'b0;
    fifo_in       = '0;
    if (head_pend_q && !head_open) begin
      fifo_valid_in   = 1'b1;
      fifo_in.kind    = OutHead;
      fifo_in.head    = head_pend_h_q;
      fifo_in.shift_q = head_pend_sq_q;
      fifo_in.shift_k = head_pend_sk_q;
    end else if (sim_valid && head_open) begin
      fifo_valid_in = 1'b1;
      fifo_in.kind  = sim_kind;
      fifo_in.head  = HeadW'(kvs_out_q);
      fifo_in.row   = sim_row;
      fifo_in.rep   = sim_rep;
      fifo_in.mask  = sim_mask;
    end else if (tv_valid) begin
      fifo_valid_in = 1'b1;
      fifo_in.kind  = OutToken;
      fifo_in.row   = tv_row;
      fifo_in.rep   = tv_rep;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      heads_out_q <= '0;
      kvs_out_q   <= '0;
      tok_cnt_q   <= '0;
    end else if (cfg_hs) begin
      heads_out_q <= '0;
      kvs_out_q   <= '0;
      tok_cnt_q   <= '0;
    end else begin
      if (head_push) heads_out_q <= heads_out_q + HCntW'(1);
      if (kv_push)   kvs_out_q   <= kvs_out_q + HCntW'(1);
      if (tv_hs_in)  tok_cnt_q   <= tok_cnt_q + LenW'(1);
    end
  end

  always_ff @(posedge clk_i) begin
    if (sim_push && sim_kind == OutRow) rep_tab_q[HeadW'(kvs_out_q)][sim_row] <= sim_rep;
  end

  esact_stream_fifo #(
    .Width ($bits(out_beat_t)),
    .Depth (OutFifoDepth)
  ) u_out_fifo (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .valid_i (fifo_valid_in),
    .ready_o (fifo_ready_in),
    .data_i  (fifo_in),
    .valid_o (out_valid_o),
    .ready_i (out_ready_i),
    .data_o  (fifo_out),
    .count_o (out_fifo_count)
  );

  assign out_kind_o    = fifo_out.kind;
  assign out_head_o    = fifo_out.head;
  assign out_row_o     = fifo_out.row;
  assign out_rep_o     = fifo_out.rep;
  assign out_mask_o    = fifo_out.mask;
  assign out_shift_q_o = fifo_out.shift_q;
  assign out_shift_k_o = fifo_out.shift_k;

  // the last TOKEN beat leaves: the unit is idle
  assign seq_end = out_valid_o && out_ready_i && (fifo_out.kind == OutToken) &&
                   (LenW'(fifo_out.row) + LenW'(1) == len_q);

  // ===============================================================================================
  // Performance counters
  // ===============================================================================================
  logic [PerfW-1:0] perf_cycles_q, perf_busy_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      perf_cycles_q <= '0;
      perf_busy_q   <= '0;
    end else if (cfg_hs) begin
      perf_cycles_q <= '0;
      perf_busy_q   <= '0;
    end else if (seq_active_q) begin
      perf_cycles_q <= perf_cycles_q + PerfW'(1);
      if (arr_hs) perf_busy_q <= perf_busy_q + PerfW'(1);
    end
  end
  assign perf_cycles_o = perf_cycles_q;
  assign perf_busy_o   = perf_busy_q;

  // ===============================================================================================
  // Assertions
  // ===============================================================================================
`ifndef SYNTHESIS
  initial begin
    assert (D % H == 0)     else $fatal(1, "D %% H != 0");
    assert (D % LANES == 0) else $fatal(1, "D %% LANES != 0");
    assert (LANES % Dh == 0) else $fatal(1, "LANES %% dh != 0");
    assert (D <= 512 && Dh <= 64 && N <= 256 && N >= 2) else $fatal(1, "configuration out of range");
  end

  // configuration stream (assume): held until accepted, legal values
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i && !cfg_ready_o |=> cfg_valid_i && $stable(cfg_len_i) &&
                   $stable(cfg_k_i) && $stable(cfg_t_i) && $stable(cfg_w_i) && $stable(cfg_v_i) &&
                   $stable(cfg_causal_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i |-> cfg_len_i >= LenW'(1) && cfg_len_i <= LenW'(N));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i |-> cfg_k_i >= LenW'(1) && cfg_k_i <= cfg_len_i);
  assert property (@(posedge clk_i) disable iff (!rst_ni) cfg_valid_i |-> cfg_t_i <= cfg_k_i);
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i |-> cfg_v_i >= VoteW'(1) && cfg_v_i <= VoteW'(H));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   cfg_valid_i |-> LenW'(cfg_w_i) < LenW'(N));
  // input stream (assume)
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_valid_i && !in_ready_o |=> in_valid_i && $stable(in_data_i));
  // output stream
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_kind_o) &&
                   $stable(out_head_o) && $stable(out_row_o) && $stable(out_rep_o) &&
                   $stable(out_mask_o) && $stable(out_shift_q_o) && $stable(out_shift_k_o));
  // internal invariants
  assert property (@(posedge clk_i) disable iff (!rst_ni) !(in_hs && x_done_q && w_full_q[w_wr_q]));
  assert property (@(posedge clk_i) disable iff (!rst_ni) w_cols_in_q <= WColsW'(D + D));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   arr_hs && a_state_q == AProj |-> x_done_q && w_full_q[w_rd_q]);
  // at most one HEAD / ROW-KV / TOKEN producer offers a beat
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   $onehot0({head_pend_q && !head_open, sim_valid && head_open, tv_valid}));
  // rescaled q / k fit INT8 (spec section 3: (max >> s) <= 127)
  for (genvar c = 0; c < Dh; c++) begin : g_q_chk
    assert property (@(posedge clk_i) disable iff (!rst_ni)
                     a_state_q == APam |-> g_q_enc[c].q_shifted == acc_t'(q_scaled[c]));
  end
  for (genvar p = 0; p < P; p++) begin : g_k_chk
    for (genvar c = 0; c < Dh; c++) begin : g_c
      assert property (@(posedge clk_i) disable iff (!rst_ni)
                       a_state_q == APam && g_k_rows[p].j < pcol_t'(len_q) |->
                       g_k_rows[p].g_k_enc[c].k_shifted == acc_t'(k_scaled[p][c]))
        else $error("K^ >>> sK = %0d does not fit INT8", g_k_rows[p].g_k_enc[c].k_shifted);
    end
  end
  // nothing is produced outside a sequence
  assert property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o |-> seq_active_q);

  // a head's K/V set always holds its representatives' k keys: it is never empty
  assert property (@(posedge clk_i) disable iff (!rst_ni) kv_push |-> sim_mask != '0);

  // -----------------------------------------------------------------------------------------------
  // Covers (named: the coverage summary lists unhit ones by name)
  // -----------------------------------------------------------------------------------------------
  // every stream: handshake, stall by the consumer, idle producer
  cov_cfg_hs:        cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_hs);
  cov_cfg_busy:      cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_valid_i && !cfg_ready_o);
  cov_in_hs:         cover property (@(posedge clk_i) disable iff (!rst_ni) in_hs);
  cov_in_stall:      cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
  cov_in_starved:    cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     seq_active_q && !in_valid_i && in_ready_o);
  cov_out_hs:        cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && out_ready_i);
  cov_out_stall:     cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  cov_arr_hs:        cover property (@(posedge clk_i) disable iff (!rst_ni) arr_hs);
  cov_arr_stall:     cover property (@(posedge clk_i) disable iff (!rst_ni) arr_valid && !arr_ready);
  cov_topk_stall:    cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     arr_out_valid && arr_out_tag.pam && !topk_ready);
  cov_sim_stall:     cover property (@(posedge clk_i) disable iff (!rst_ni) topk_valid && !sim_ready);
  cov_fifo_stall:    cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     fifo_valid_in && !fifo_ready_in);
  cov_head_wait:     cover property (@(posedge clk_i) disable iff (!rst_ni) head_pend_q && head_open);
  cov_fifo_full:     cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     int'(out_fifo_count) == OutFifoDepth);
  // array issue FSM: every state, and the overlap of head h+1's projection with head h's rows
  cov_st_idle_seq:   cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     seq_active_q && a_state_q == AIdle);
  cov_st_proj:       cover property (@(posedge clk_i) disable iff (!rst_ni) a_state_q == AProj);
  cov_st_drain:      cover property (@(posedge clk_i) disable iff (!rst_ni) a_state_q == ADrain);
  cov_st_pam:        cover property (@(posedge clk_i) disable iff (!rst_ni) a_state_q == APam);
  cov_proj_overlap:  cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     a_state_q == AProj && a_head_q != '0 && head_open);
  cov_proj_no_w:     cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     a_state_q == AProj && x_done_q && !w_full_q[w_rd_q]);
  cov_w_slots_full:  cover property (@(posedge clk_i) disable iff (!rst_ni) w_full_q == 2'b11);
  cov_tok_phase:     cover property (@(posedge clk_i) disable iff (!rst_ni) tok_phase);
  cov_seq_end:       cover property (@(posedge clk_i) disable iff (!rst_ni) seq_end);

  // sparsity corners of a sequence's configuration
  cov_k_eq_len:      cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     cfg_hs && cfg_k_i == cfg_len_i);
  cov_k_one:         cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_hs && cfg_k_i == LenW'(1));
  cov_t_zero:        cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_hs && cfg_t_i == '0);
  cov_w_zero:        cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_hs && cfg_w_i == '0);
  cov_len_full:      cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     cfg_hs && cfg_len_i == LenW'(N));
  cov_len_padded:    cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     cfg_hs && cfg_len_i < LenW'(N));
  cov_causal:        cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_hs && cfg_causal_i);
  cov_vote_all:      cover property (@(posedge clk_i) disable iff (!rst_ni) cfg_hs && cfg_v_i == VoteW'(H));

  // sparsity corners of the results, watched on the output stream
  logic out_hs;
  assign out_hs = out_valid_o && out_ready_i;
  // Coverage-only bookkeeping (all_follow_q, none_follow_q, len_mask below) stays out of the
  // waves: without --coverage the covers are dropped and, untraced, so is this logic; traced, the
  // model would compute it every cycle (docs/debugging.md).
  /*verilator tracing_off*/
  logic all_follow_q, none_follow_q;  // rows 1.. of the current head: all / none follow
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      all_follow_q  <= 1'b1;
      none_follow_q <= 1'b1;
    end else if (out_hs && out_kind_o == OutHead) begin
      all_follow_q  <= 1'b1;
      none_follow_q <= 1'b1;
    end else if (out_hs && out_kind_o == OutRow && out_row_o != '0) begin
      if (out_rep_o == out_row_o) all_follow_q <= 1'b0;
      else                        none_follow_q <= 1'b0;
    end
  end
  /*verilator tracing_on*/
  cov_head_all_followers: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutKv && all_follow_q && len_q > LenW'(1));
  cov_head_no_followers:  cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutKv && none_follow_q && len_q > LenW'(1));
  cov_follower:      cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutRow && out_rep_o != out_row_o);
  cov_new_rep:       cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutRow && out_rep_o == out_row_o &&
                                     out_row_o != '0);
  // a follower exactly w rows behind its representative: the window boundary
  cov_window_edge:   cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutRow && out_rep_o != out_row_o &&
                                     out_row_o - out_rep_o == w_q);
  // K/V sets: every valid key needed (nothing skipped), and at most k keys (all rows share one
  // representative mask; the least K/V work a head can have)
  /*verilator tracing_off*/
  logic [N-1:0] len_mask;
  always_comb begin
    for (int unsigned j = 0; j < N; j++) len_mask[j] = (LenW'(j) < len_q);
  end
  /*verilator tracing_on*/
  cov_kv_all_needed: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutKv && out_mask_o == len_mask);
  cov_kv_minimal:    cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutKv &&
                                     $countones(out_mask_o) == int'(k_q));
  cov_token_follower: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     out_hs && out_kind_o == OutToken && out_rep_o != out_row_o);
`endif

endmodule
