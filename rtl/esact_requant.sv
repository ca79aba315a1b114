// Requantiser (docs/spec.md section 10): Lanes parallel y = sat((acc * M + 2^(S-1)) >>> S), one
// (M, S) per lane, both saturations (INT8 and INT16) out.
//
// Latency: 1 cycle (one register stage). Throughput: one beat per cycle. ready_o = !valid_o ||
// ready_i; the tag travels with the beat unchanged.

module esact_requant
  import esact_pkg::*;
#(
  parameter int unsigned Lanes = 4,
  parameter int unsigned TagW  = 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   valid_i,  // beat valid
  output logic                   ready_o,  // stage accepts
  input  acc_t   [Lanes-1:0]     acc_i,    // accumulators
  input  rq_t    [Lanes-1:0]     rq_i,     // per-lane (M, S)
  input  logic   [TagW-1:0]      tag_i,    // passed through
  output logic                   valid_o,  // result valid
  input  logic                   ready_i,  // consumer accepts
  output int8_t  [Lanes-1:0]     y8_o,     // sat_8(requant)
  output int16_t [Lanes-1:0]     y16_o,    // sat_16(requant)
  output logic   [TagW-1:0]      tag_o
);

  int8_t  [Lanes-1:0] y8_d;
  int16_t [Lanes-1:0] y16_d;
  logic               valid_q;

  // Block-local temporaries of this loop stay out of the waves (traced, Verilator keeps them as
  // model members, a store per lane and cycle: docs/debugging.md); the block's outputs are traced.
  /*verilator tracing_off*/
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      rqv_t v;
      v        = requant_round(acc_i[l], rq_i[l]);
      y8_d[l]  = sat8(v);
      y16_d[l] = sat16(v);
    end
  end
  /*verilator tracing_on*/

  assign ready_o = !valid_q || ready_i;
  assign valid_o = valid_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= 1'b0;
    else if (ready_o) valid_q <= valid_i;
  end

  always_ff @(posedge clk_i) begin
    if (ready_o && valid_i) begin
      y8_o  <= y8_d;
      y16_o <= y16_d;
      tag_o <= tag_i;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  for (genvar l = 0; l < Lanes; l++) begin : g_chk
    assert property (@(posedge clk_i) disable iff (!rst_ni)
                     valid_i |-> rq_i[l].m != '0 && rq_i[l].s >= RqSW'(1) && rq_i[l].s <= RqSW'(40));
  end
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(acc_i) && $stable(tag_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(y16_o) && $stable(tag_o));
  cov_in_hs: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && ready_o);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
`endif

endmodule
