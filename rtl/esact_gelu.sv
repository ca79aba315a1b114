// Integer GELU (docs/spec.md section 12): Lanes parallel igelu_raw(x) = x * (2^15 +- erf_q(|x|)),
// INT16 (10 fraction bits) in, INT32 (scale 2^-26) out; the caller requantises.
//
// Latency: 1 cycle (one register stage). Throughput: one beat per cycle.

module esact_gelu
  import esact_pkg::*;
#(
  parameter int unsigned Lanes = 4,
  parameter int unsigned TagW  = 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 valid_i,  // beat valid
  output logic                 ready_o,  // stage accepts
  input  int16_t [Lanes-1:0]   x_i,      // GELU input, Q.10
  input  logic   [TagW-1:0]    tag_i,    // passed through
  output logic                 valid_o,  // result valid
  input  logic                 ready_i,  // consumer accepts
  output acc_t   [Lanes-1:0]   g_o,      // igelu_raw(x), scale 2^-26
  output logic   [TagW-1:0]    tag_o
);

  acc_t [Lanes-1:0] g_d;
  logic             valid_q;

  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) g_d[l] = igelu_raw(x_i[l]);
  end

  assign ready_o = !valid_q || ready_i;
  assign valid_o = valid_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= 1'b0;
    else if (ready_o) valid_q <= valid_i;
  end

  always_ff @(posedge clk_i) begin
    if (ready_o && valid_i) begin
      g_o   <= g_d;
      tag_o <= tag_i;
    end
  end

`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(x_i) && $stable(tag_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(g_o) && $stable(tag_o));
  cov_in_hs: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && ready_o);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
`endif

endmodule
