// Row-wise top-k selector (docs/spec.md section 5, "Hardware (choice)").
//
// Takes one PAM row as ceil(L/P) beats of P values (beat b holds columns bP .. bP+P-1) and returns the N-bit
// mask of the kept columns. Candidates are j < L (and j <= row when causal). The rank of candidate
// j is #{candidate m : v[m] > v[j] or (v[m] == v[j] and m < j)}; j is kept iff rank < k. Ranking
// uses comparators only: P candidates per cycle, each against all N buffered values.
//
// Structure: two row buffers. While one row is being ranked (ceil(L/P) cycles) the next one fills
// the other buffer, so the selector keeps pace with the PAM stream: one row per ceil(L/P) cycles.
//
// Latency: first beat of a row to its mask at the output: 2 * ceil(L/P) cycles (+1 when L <= P).
// Throughput: one row per ceil(L/P) cycles. len_i, k_i and causal_i must be stable while rows flow.

module esact_topk
  import esact_pkg::*;
#(
  parameter int unsigned N    = 16,  // sequence slots: mask width
  parameter int unsigned P    = 1,   // PAM values per beat
  parameter int unsigned ValW = 20,  // signed PAM value width
  // derived
  localparam int unsigned RowW = idx_w(N),
  localparam int unsigned LenW = cnt_w(N)
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  // per-sequence settings (quasi-static)
  input  logic [LenW-1:0]            len_i,     // L, 1..N
  input  logic [LenW-1:0]            k_i,       // k, 1..L
  input  logic                       causal_i,  // candidates j <= row only
  // PAM value stream
  input  logic                       valid_i,   // vals_i, row_i valid
  output logic                       ready_o,   // selector accepts a beat
  input  logic [P-1:0][ValW-1:0]     vals_i,    // signed PAM values, one block of P columns
  input  logic [RowW-1:0]            row_i,     // row index (same for all beats of a row)
  // mask stream
  output logic                       valid_o,   // row_o, mask_o valid
  input  logic                       ready_i,   // consumer accepts
  output logic [RowW-1:0]            row_o,     // row index
  output logic [N-1:0]               mask_o     // bit j set: column j kept
);

  localparam int unsigned RankW  = cnt_w(N);
  // column index arithmetic wide enough for N + P (the last block may run past N)
  localparam int unsigned ColW   = $clog2(N + P + 1);

  typedef logic signed [ValW-1:0] val_t;
  typedef logic [ColW-1:0] col_t;

  // -----------------------------------------------------------------------------------------------
  // Row buffers
  // -----------------------------------------------------------------------------------------------
  val_t            buf_q  [2][N];
  logic [RowW-1:0] brow_q [2];
  logic [RowW-1:0] fill_row;            // row index of the buffer being filled
  logic [1:0]      full_q;
  logic            wr_q, rd_q;          // buffer being filled / being ranked
  col_t            wcol_q, rcol_q;      // first column of the current block, fill / rank side

  // last block of a row: first column + P >= L
  function automatic logic is_last_blk(input col_t col, input logic [LenW-1:0] len);
    return (col + col_t'(P)) >= col_t'(len);
  endfunction

  // -----------------------------------------------------------------------------------------------
  // Fill side
  // -----------------------------------------------------------------------------------------------
  logic in_hs, in_last;
  assign ready_o = !full_q[wr_q];
  assign in_hs   = valid_i && ready_o;
  assign in_last = is_last_blk(wcol_q, len_i);
  assign fill_row = brow_q[wr_q];

  always_ff @(posedge clk_i) begin
    if (in_hs) begin
      for (int unsigned p = 0; p < P; p++) begin
        if (wcol_q + col_t'(p) < col_t'(N)) begin
          buf_q[wr_q][RowW'(wcol_q + col_t'(p))] <= val_t'(vals_i[p]);
        end
      end
      brow_q[wr_q] <= row_i;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Rank side: P candidates per cycle against all N values of the buffer
  // -----------------------------------------------------------------------------------------------
  logic [N-1:0] is_cand;       // candidate columns of the row being ranked
  logic [N-1:0] keep_new;      // kept columns decided this cycle
  logic [N-1:0] mask_acc_q;    // kept columns decided in earlier cycles of this row
  logic         rk_active, rk_last, rk_step;
  logic         out_valid_q;
  logic [RowW-1:0] out_row_q;
  logic [N-1:0] out_mask_q;

  always_comb begin
    for (int unsigned m = 0; m < N; m++) begin
      is_cand[m] = (LenW'(m) < len_i) && (!causal_i || RowW'(m) <= brow_q[rd_q]);
    end
  end

  // The rank loop's temporaries (j, rank) and indices stay out of the waves: traced, they become
  // model members and the N x P rank increments stores (docs/debugging.md); keep_new is traced.
  /*verilator tracing_off*/
  always_comb begin
    keep_new = '0;
    for (int unsigned p = 0; p < P; p++) begin
      col_t                 j;
      logic [RankW-1:0]     rank;
      j = rcol_q + col_t'(p);
      rank = '0;
      if (j < col_t'(N)) begin
        for (int unsigned m = 0; m < N; m++) begin
          if (is_cand[m] && ((buf_q[rd_q][m] > buf_q[rd_q][RowW'(j)]) ||
                             (buf_q[rd_q][m] == buf_q[rd_q][RowW'(j)] && col_t'(m) < j))) begin
            rank = rank + RankW'(1);
          end
        end
        keep_new[RowW'(j)] = is_cand[RowW'(j)] && (rank < RankW'(k_i));
      end
    end
  end
  /*verilator tracing_on*/

  assign rk_active = full_q[rd_q];
  assign rk_last   = is_last_blk(rcol_q, len_i);
  // the last block needs the output register free
  assign rk_step   = rk_active && (!rk_last || !out_valid_q || ready_i);

  // -----------------------------------------------------------------------------------------------
  // Control registers
  // -----------------------------------------------------------------------------------------------
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      full_q      <= '0;
      wr_q        <= 1'b0;
      rd_q        <= 1'b0;
      wcol_q      <= '0;
      rcol_q      <= '0;
      mask_acc_q  <= '0;
      out_valid_q <= 1'b0;
      out_row_q   <= '0;
      out_mask_q  <= '0;
    end else begin
      // fill side
      if (in_hs) begin
        if (in_last) begin
          full_q[wr_q] <= 1'b1;
          wr_q         <= !wr_q;
          wcol_q       <= '0;
        end else begin
          wcol_q <= wcol_q + col_t'(P);
        end
      end
      // output register
      if (out_valid_q && ready_i) begin
        out_valid_q <= 1'b0;
      end
      // rank side
      if (rk_step) begin
        if (rk_last) begin
          full_q[rd_q] <= 1'b0;  // never the buffer being set above: that one is wr_q != rd_q
          rd_q         <= !rd_q;
          rcol_q       <= '0;
          mask_acc_q   <= '0;
          out_valid_q  <= 1'b1;
          out_row_q    <= brow_q[rd_q];
          out_mask_q   <= mask_acc_q | keep_new;
        end else begin
          rcol_q     <= rcol_q + col_t'(P);
          mask_acc_q <= mask_acc_q | keep_new;
        end
      end
    end
  end

  assign valid_o = out_valid_q;
  assign row_o   = out_row_q;
  assign mask_o  = out_mask_q;

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // input stream (assume)
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(vals_i) && $stable(row_i));
  // output stream
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(row_o) && $stable(mask_o));
  // settings legal while rows are in flight
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   (valid_i || |full_q) |-> len_i >= LenW'(1) && len_i <= LenW'(N) &&
                                            k_i >= LenW'(1) && k_i <= len_i);
  // all beats of a row carry the same row index
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_hs && wcol_q != '0 |-> row_i == fill_row);
  // a row is ranked only after it was filled, never both buffers written at once
  assert property (@(posedge clk_i) disable iff (!rst_ni) rk_active |-> wr_q != rd_q || full_q == 2'b11);
  // a kept mask never has more than k bits
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o |-> $countones(mask_o) <= int'(k_i));

  // covers (named: the coverage summary lists unhit ones by name)
  cov_in_hs:        cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && ready_o);
  cov_in_stall:     cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && !ready_o);
  cov_out_hs:       cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && ready_i);
  cov_out_stall:    cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
  // row-buffer states: both empty, one full (either buffer), both full
  cov_bufs_empty:   cover property (@(posedge clk_i) disable iff (!rst_ni) full_q == 2'b00);
  cov_buf0_full:    cover property (@(posedge clk_i) disable iff (!rst_ni) full_q == 2'b01);
  cov_buf1_full:    cover property (@(posedge clk_i) disable iff (!rst_ni) full_q == 2'b10);
  cov_bufs_full:    cover property (@(posedge clk_i) disable iff (!rst_ni) full_q == 2'b11);
  cov_k_eq_len:     cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && k_i == len_i);
  cov_k_one:        cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && k_i == LenW'(1));
  cov_causal_row:   cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && causal_i);
`endif

endmodule
