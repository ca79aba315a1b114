// Token vote (docs/spec.md section 7).
//
// For token i, takes the representatives rep_h[i] of all H heads and returns token_rep[i]: the
// in-window candidate r in [max(0, i-w), i-1] followed in the most heads (ties to the lower r) if
// at least V heads follow it, else i. Only the head representatives can carry votes, so the vote
// is H x H equality comparators and an arg-max over H, not a scan of the window.
//
// Latency: 1 cycle (registered output). Throughput: one token per cycle.

module esact_token_vote
  import esact_pkg::*;
#(
  parameter int unsigned N = 16,  // sequence slots
  parameter int unsigned H = 2,   // heads
  // derived
  localparam int unsigned RowW  = idx_w(N),
  localparam int unsigned VoteW = cnt_w(H)
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  // per-sequence settings (quasi-static)
  input  logic [RowW-1:0]          w_i,      // window w
  input  logic [VoteW-1:0]         v_i,      // votes needed V, 1..H
  // token stream
  input  logic                     valid_i,  // row_i, reps_i valid
  output logic                     ready_o,  // unit accepts a token
  input  logic [RowW-1:0]          row_i,    // token index i
  input  logic [H-1:0][RowW-1:0]   reps_i,   // rep_h[i] of head h
  // token representative stream
  output logic                     valid_o,  // row_o, rep_o valid
  input  logic                     ready_i,  // consumer accepts
  output logic [RowW-1:0]          row_o,    // token index i
  output logic [RowW-1:0]          rep_o     // token_rep[i]
);

  // -----------------------------------------------------------------------------------------------
  // Vote
  // -----------------------------------------------------------------------------------------------
  logic [H-1:0]    eligible;  // head h follows an earlier row inside the window
  logic [RowW-1:0] token_rep;

  always_comb begin
    for (int unsigned h = 0; h < H; h++) begin
      eligible[h] = (reps_i[h] < row_i) && ((row_i - reps_i[h]) <= w_i);
    end
  end

  // The vote's block-local counters (best_cnt, best_rep, cnt) and loop indices stay out of the
  // waves: traced, Verilator keeps them as model members and every increment becomes a store
  // (docs/debugging.md); the result, token_rep, is traced.
  /*verilator tracing_off*/
  always_comb begin
    logic [VoteW-1:0] best_cnt;
    logic [RowW-1:0]  best_rep;
    best_cnt = '0;
    best_rep = row_i;
    for (int unsigned h = 0; h < H; h++) begin
      logic [VoteW-1:0] cnt;
      cnt = '0;
      for (int unsigned g = 0; g < H; g++) begin
        if (eligible[g] && reps_i[g] == reps_i[h]) cnt = cnt + VoteW'(1);
      end
      if (eligible[h] && (cnt > best_cnt || (cnt == best_cnt && reps_i[h] < best_rep))) begin
        best_cnt = cnt;
        best_rep = reps_i[h];
      end
    end
    token_rep = (best_cnt >= v_i && best_cnt != '0) ? best_rep : row_i;
  end
  /*verilator tracing_on*/

  // -----------------------------------------------------------------------------------------------
  // Output register
  // -----------------------------------------------------------------------------------------------
  logic            out_valid_q;
  logic [RowW-1:0] out_row_q, out_rep_q;

  assign ready_o = !out_valid_q || ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_valid_q <= 1'b0;
      out_row_q   <= '0;
      out_rep_q   <= '0;
    end else if (ready_o) begin
      out_valid_q <= valid_i;
      if (valid_i) begin
        out_row_q <= row_i;
        out_rep_q <= token_rep;
      end
    end
  end

  assign valid_o = out_valid_q;
  assign row_o   = out_row_q;
  assign rep_o   = out_rep_q;

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // input stream (assume)
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(row_i) && $stable(reps_i));
  // a head's representative never follows the row (spec section 6)
  for (genvar h = 0; h < H; h++) begin : g_rep_chk
    assert property (@(posedge clk_i) disable iff (!rst_ni) valid_i |-> reps_i[h] <= row_i);
  end
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i |-> v_i >= VoteW'(1) && v_i <= VoteW'(H));
  // output stream
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(row_o) && $stable(rep_o));
  assert property (@(posedge clk_i) disable iff (!rst_ni) valid_o |-> rep_o <= row_o);

  // covers (named: the coverage summary lists unhit ones by name)
  cov_in_hs:     cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && ready_o);
  cov_in_stall:  cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && !ready_o);
  cov_out_hs:    cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && ready_i);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
  cov_follower:  cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && rep_o != row_o);
  cov_own_rep:   cover property (@(posedge clk_i) disable iff (!rst_ni)
                                 valid_o && rep_o == row_o && row_o != '0);
`endif

endmodule
