// Local similarity of one head (docs/spec.md section 6) and its K/V-needed mask.
//
// Takes the top-k masks of rows 0 .. L-1 of a head, in row order, and returns one ROW beat per row
// (row, mask, rep) followed by one KV beat (mask = OR of the representative rows' masks). Row i
// follows the current representative r when i - r <= w and popcount(mask_i & mask_r) >= T;
// otherwise it becomes the representative. Row 0 is always a representative. After the KV beat
// the unit is ready for the next head (row 0 again).
//
// Latency: 1 cycle (registered output). Throughput: one row per cycle; the KV beat takes one
// extra cycle per head. w_i, t_i, len_i must be stable while a head is in flight.

module esact_similarity
  import esact_pkg::*;
#(
  parameter int unsigned N = 16,  // sequence slots: mask width
  // derived
  localparam int unsigned RowW = idx_w(N),
  localparam int unsigned LenW = cnt_w(N)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  // per-sequence settings (quasi-static)
  input  logic [LenW-1:0]  len_i,    // L: row L-1 closes the head
  input  logic [RowW-1:0]  w_i,      // window w, 0..N-1
  input  logic [LenW-1:0]  t_i,      // threshold T, 0..k
  // mask stream, rows 0 .. L-1 in order
  input  logic             valid_i,  // row_i, mask_i valid
  output logic             ready_o,  // unit accepts a row
  input  logic [RowW-1:0]  row_i,    // row index i
  input  logic [N-1:0]     mask_i,   // top-k mask of row i
  // ROW / KV stream
  output logic             valid_o,  // beat valid
  input  logic             ready_i,  // consumer accepts
  output out_kind_e        kind_o,   // OutRow or OutKv
  output logic [RowW-1:0]  row_o,    // ROW: row index; KV: 0
  output logic [RowW-1:0]  rep_o,    // ROW: representative of the row; KV: 0
  output logic [N-1:0]     mask_o    // ROW: the row's mask; KV: kv_h
);

  // -----------------------------------------------------------------------------------------------
  // State of the head being scanned
  // -----------------------------------------------------------------------------------------------
  logic [RowW-1:0] rep_q;       // current representative r
  logic [N-1:0]    rep_mask_q;  // mask_h[r]
  logic [N-1:0]    kv_q;        // OR of representative masks so far
  logic            kv_pend_q;   // the head's last row is out, its KV beat is owed

  logic            out_valid_q;
  out_kind_e       out_kind_q;
  logic [RowW-1:0] out_row_q, out_rep_q;
  logic [N-1:0]    out_mask_q;

  logic            out_free, in_hs, is_first, is_last, is_follower;
  logic [RowW:0]   row_dist;       // i - r, one extra bit so that a wrong order cannot alias
  logic [LenW-1:0] overlap;     // popcount(mask_i & mask_r)

  assign out_free = !out_valid_q || ready_i;
  assign ready_o  = out_free && !kv_pend_q;
  assign in_hs    = valid_i && ready_o;
  assign is_first = (row_i == '0);
  assign is_last  = ({1'b0, row_i} + (LenW)'(1) == LenW'(len_i));

  assign row_dist     = {1'b0, row_i} - {1'b0, rep_q};
  assign overlap  = LenW'($countones(mask_i & rep_mask_q));
  assign is_follower = !is_first && (row_dist <= {1'b0, w_i}) && (overlap >= t_i);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rep_q       <= '0;
      rep_mask_q  <= '0;
      kv_q        <= '0;
      kv_pend_q   <= 1'b0;
      out_valid_q <= 1'b0;
      out_kind_q  <= OutRow;
      out_row_q   <= '0;
      out_rep_q   <= '0;
      out_mask_q  <= '0;
    end else begin
      if (out_valid_q && ready_i) begin
        out_valid_q <= 1'b0;
      end
      if (in_hs) begin
        out_valid_q <= 1'b1;
        out_kind_q  <= OutRow;
        out_row_q   <= row_i;
        out_mask_q  <= mask_i;
        if (is_follower) begin
          out_rep_q <= rep_q;
        end else begin
          out_rep_q  <= row_i;
          rep_q      <= row_i;
          rep_mask_q <= mask_i;
        end
        // K/V needed: only representative rows count; row 0 restarts the accumulation
        if (is_first) begin
          kv_q <= mask_i;
        end else if (!is_follower) begin
          kv_q <= kv_q | mask_i;
        end
        kv_pend_q <= is_last;
      end else if (kv_pend_q && out_free) begin
        out_valid_q <= 1'b1;
        out_kind_q  <= OutKv;
        out_row_q   <= '0;
        out_rep_q   <= '0;
        out_mask_q  <= kv_q;
        kv_pend_q   <= 1'b0;
      end
    end
  end

  assign valid_o = out_valid_q;
  assign kind_o  = out_kind_q;
  assign row_o   = out_row_q;
  assign rep_o   = out_rep_q;
  assign mask_o  = out_mask_q;

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic [RowW:0] next_row_q;  // expected next row index (checker only)
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      next_row_q <= '0;
    end else if (in_hs) begin
      next_row_q <= is_last ? '0 : {1'b0, row_i} + 1'b1;
    end
  end

  // input stream (assume)
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(row_i) && $stable(mask_i));
  // rows arrive in order 0 .. L-1
  assert property (@(posedge clk_i) disable iff (!rst_ni) in_hs |-> {1'b0, row_i} == next_row_q);
  // settings legal
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i |-> len_i >= LenW'(1) && len_i <= LenW'(N) && LenW'(w_i) < LenW'(N));
  // output stream
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(kind_o) && $stable(row_o) &&
                                           $stable(rep_o) && $stable(mask_o));
  // a representative precedes its follower within the window
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && kind_o == OutRow |-> rep_o <= row_o && {1'b0, row_o - rep_o} <= {1'b0, w_i});

  // covers (named: the coverage summary lists unhit ones by name)
  cov_in_hs:         cover property (@(posedge clk_i) disable iff (!rst_ni) in_hs);
  cov_in_stall:      cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && !ready_o);
  cov_out_hs:        cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && ready_i);
  cov_out_stall:     cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
  cov_follower:      cover property (@(posedge clk_i) disable iff (!rst_ni) in_hs && is_follower);
  cov_new_rep:       cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     in_hs && !is_first && !is_follower);
  // a row that would follow by its mask overlap but lies just outside the window
  cov_out_of_window: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     in_hs && !is_first && overlap >= t_i &&
                                     row_dist == {1'b0, w_i} + 1'b1);
  cov_kv_pending:    cover property (@(posedge clk_i) disable iff (!rst_ni) kv_pend_q);
  cov_kv_beat:       cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && kind_o == OutKv);
`endif

endmodule
