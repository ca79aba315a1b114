// INT8 MAC array (docs/spec.md section 22): Rows x Cols output-stationary processing elements.
//
// Each accepted beat carries one reduction step k of an output tile: a column of Rows operands
// a[r] (9-bit signed: INT8 activations or UINT8 probabilities) and a row of Cols INT8 operands b[c];
// every PE does acc[r][c] += a[r] * b[c] (exact in INT32). in_first_i starts a tile (the PE loads
// bias[c] + a[r] * b[c]); in_last_i ends it: the finished tile moves to a shadow register and the
// array starts the next tile on the next beat (double buffering). The shadow is drained one row
// (Cols accumulators) per cycle on the output stream, rows 0 .. in_rows_i - 1, with the tile's tag.
//
// Throughput: one beat per cycle; a last beat waits only while the previous tile is still draining
// (drain of n rows takes n cycles, so tiles of K >= n steps never wait). Latency: the first row of a
// tile is on the output the cycle after its last beat.

module esact_mac_array
  import esact_pkg::*;
#(
  parameter int unsigned Rows = 4,
  parameter int unsigned Cols = 16,
  parameter int unsigned TagW = 1,
  // derived
  localparam int unsigned RowW = idx_w(Rows),
  localparam int unsigned NRowW = cnt_w(Rows)
) (
  input  logic                            clk_i,
  input  logic                            rst_ni,
  input  logic                            in_valid_i,   // step valid
  output logic                            in_ready_o,   // array accepts
  input  logic signed [Rows-1:0][8:0]     in_a_i,       // a[r] (activation column)
  input  int8_t       [Cols-1:0]          in_b_i,       // b[c] (weight row)
  input  acc_t        [Cols-1:0]          in_bias_i,    // bias[c], used with in_first_i
  input  logic                            in_first_i,   // first step of a tile
  input  logic                            in_last_i,    // last step of a tile
  input  logic        [NRowW-1:0]         in_rows_i,    // with last: rows to drain (1..Rows)
  input  logic        [TagW-1:0]          in_tag_i,     // with last: tile tag
  output logic                            out_valid_o,  // drained row valid
  input  logic                            out_ready_i,  // consumer accepts
  output acc_t        [Cols-1:0]          out_acc_o,    // accumulators of row out_row_o
  output logic        [RowW-1:0]          out_row_o,    // row index in the tile
  output logic                            out_last_o,   // last drained row of the tile
  output logic        [TagW-1:0]          out_tag_o,    // tile tag
  output logic                            busy_o        // a tile is accumulating or draining
);

  acc_t [Cols-1:0]   acc_q    [Rows];
  acc_t [Cols-1:0]   shadow_q [Rows];
  logic              sh_valid_q, accum_q;
  logic [NRowW-1:0]  sh_rows_q;
  logic [TagW-1:0]   sh_tag_q;
  logic [RowW-1:0]   drain_q;
  logic              in_hs, out_hs;

  assign in_ready_o  = !(in_last_i && sh_valid_q);
  assign in_hs       = in_valid_i && in_ready_o;
  assign out_valid_o = sh_valid_q;
  assign out_acc_o   = shadow_q[drain_q];
  assign out_row_o   = drain_q;
  assign out_last_o  = (NRowW'(drain_q) + NRowW'(1) == sh_rows_q);
  assign out_tag_o   = sh_tag_q;
  assign out_hs      = out_valid_o && out_ready_i;
  assign busy_o      = accum_q || sh_valid_q;

  // The PEs: one multiply-accumulate each per accepted step.
  for (genvar r = 0; r < Rows; r++) begin : g_rows
    for (genvar c = 0; c < Cols; c++) begin : g_cols
      acc_t sum;
      assign sum = (in_first_i ? in_bias_i[c] : acc_q[r][c]) + 32'(in_a_i[r] * 17'(in_b_i[c]));
      always_ff @(posedge clk_i) begin
        if (in_hs) begin
          if (in_last_i) shadow_q[r][c] <= sum;
          else           acc_q[r][c]    <= sum;
        end
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sh_valid_q <= 1'b0;
      accum_q    <= 1'b0;
      sh_rows_q  <= '0;
      sh_tag_q   <= '0;
      drain_q    <= '0;
    end else begin
      if (in_hs) accum_q <= !in_last_i;
      if (out_hs) begin
        if (out_last_o) sh_valid_q <= 1'b0;
        else            drain_q    <= drain_q + RowW'(1);
      end
      if (in_hs && in_last_i) begin
        sh_valid_q <= 1'b1;
        sh_rows_q  <= in_rows_i;
        sh_tag_q   <= in_tag_i;
        drain_q    <= '0;
      end
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_valid_i && in_last_i |-> in_rows_i != '0 && in_rows_i <= NRowW'(Rows));
  // a tile starts with a first step and only then accumulates
  assert property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !accum_q |-> in_first_i);
  assert property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && accum_q |-> !in_first_i);
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_valid_i && !in_ready_o |=> in_valid_i && $stable(in_a_i) && $stable(in_b_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_row_o) && $stable(out_tag_o));
  cov_in_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  cov_single_beat: cover property (@(posedge clk_i) disable iff (!rst_ni) in_hs && in_first_i && in_last_i);
`endif

endmodule
