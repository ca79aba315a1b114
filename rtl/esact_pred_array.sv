// Add-only prediction array (docs/spec.md section 2).
//
// Consumes Lanes HLog code pairs (a_i[e], b_i[e]) per beat and returns, per group g, the signed sum
// of the add-only products of lanes g*GroupSize .. g*GroupSize+GroupSize-1 (GroupSize = Lanes /
// Groups). A product is an exponent add plus at most two one-hot terms and a conditional negate
// (esact_pkg::hlog_product): there is no multiplier in this module.
//
// Structure: one register stage of products, then a balanced adder tree per group with one
// register stage per tree level (ceil-halving, so GroupSize need not be a power of two). A tag
// travels with each beat unchanged.
//
// Latency: 1 + $clog2(GroupSize) cycles. Throughput: one beat per cycle. Flow control: all stages
// advance together when the output register is empty or accepted (ready_o = !valid_o | ready_i),
// so beats are never lost or duplicated under back-pressure.

module esact_pred_array
  import esact_pkg::*;
#(
  parameter int unsigned Lanes  = 16,
  parameter int unsigned Groups = 1,
  parameter int unsigned TagW   = 1,
  // derived
  localparam int unsigned GroupSize = Lanes / Groups,
  localparam int unsigned Levels    = $clog2(GroupSize),
  // |sum| <= GroupSize 2^14 fits in ProdW + clog2(GroupSize) signed bits (|product| <= 2^14)
  localparam int unsigned SumW      = ProdW + Levels
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // operand stream
  input  logic                          valid_i,  // a_i, b_i, tag_i valid
  output logic                          ready_o,  // array accepts a beat
  input  hlog_code_t [Lanes-1:0]        a_i,      // lane e: left operand code
  input  hlog_code_t [Lanes-1:0]        b_i,      // lane e: right operand code
  input  logic [TagW-1:0]               tag_i,    // user tag, returned with the sums
  // group sum stream
  output logic                          valid_o,  // sum_o, tag_o valid
  input  logic                          ready_i,  // consumer accepts
  output logic [Groups-1:0][SumW-1:0]   sum_o,    // group g: signed sum of its lanes' products
  output logic [TagW-1:0]               tag_o,    // tag of this beat
  // status
  output logic                          busy_o    // a beat is somewhere in the pipeline
);

  localparam int unsigned Stages = Levels + 1;

  // The same bits viewed per group: a_grp[g][n] is lane g GroupSize + n.
  hlog_code_t [Groups-1:0][GroupSize-1:0] a_grp, b_grp;
  assign a_grp = a_i;
  assign b_grp = b_i;

  // -----------------------------------------------------------------------------------------------
  // Pipeline control: a single enable for all stages
  // -----------------------------------------------------------------------------------------------
  logic [Stages-1:0] valid_q;
  logic [TagW-1:0]   tag_q [Stages];
  logic              en;

  assign en      = !valid_q[Stages-1] || ready_i;
  assign ready_o = en;
  assign valid_o = valid_q[Stages-1];
  assign tag_o   = tag_q[Stages-1];
  assign busy_o  = |valid_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= '0;
    end else if (en) begin
      valid_q[0] <= valid_i;
      for (int unsigned s = 1; s < Stages; s++) begin
        valid_q[s] <= valid_q[s-1];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (en) begin
      tag_q[0] <= tag_i;
      for (int unsigned s = 1; s < Stages; s++) begin
        tag_q[s] <= tag_q[s-1];
      end
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Stage 0: add-only products
  // -----------------------------------------------------------------------------------------------
  for (genvar g = 0; g < Groups; g++) begin : g_group
    for (genvar l = 0; l <= Levels; l++) begin : g_level
      // nodes at tree level l: ceil(GroupSize / 2^l)
      localparam int unsigned Nodes = (GroupSize + (1 << l) - 1) >> l;
      logic signed [SumW-1:0] node_q [Nodes];

      if (l == 0) begin : g_products
        always_ff @(posedge clk_i) begin
          if (en && valid_i) begin
            for (int unsigned n = 0; n < Nodes; n++) begin
              node_q[n] <= SumW'(hlog_product(a_grp[g][n], b_grp[g][n]));
            end
          end
        end
      end else begin : g_adders
        // -----------------------------------------------------------------------------------------
        // Stage l: one adder tree level (an odd last child passes through)
        // -----------------------------------------------------------------------------------------
        localparam int unsigned Children = (GroupSize + (1 << (l - 1)) - 1) >> (l - 1);
        always_ff @(posedge clk_i) begin
          if (en && valid_q[l-1]) begin
            for (int unsigned n = 0; n < Nodes; n++) begin
              if ((n << 1) + 1 < Children) begin
                node_q[n] <= g_level[l-1].node_q[n << 1] + g_level[l-1].node_q[(n << 1) + 1];
              end else begin
                node_q[n] <= g_level[l-1].node_q[n << 1];
              end
            end
          end
        end
      end
    end

    assign sum_o[g] = g_level[Levels].node_q[0];
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  initial begin
    assert (Lanes % Groups == 0) else $fatal(1, "Lanes must be a multiple of Groups");
    assert (Stages >= 1);
  end

  // input stream (assume): valid holds and data is stable until accepted
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(a_i) && $stable(b_i) && $stable(tag_i));
  // output stream: valid holds and data is stable until accepted
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(sum_o) && $stable(tag_o));

  // covers (named: the coverage summary lists unhit ones by name)
  cov_in_hs:     cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && ready_o);
  cov_in_stall:  cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && !ready_o);
  cov_in_idle:   cover property (@(posedge clk_i) disable iff (!rst_ni) !valid_i && ready_o);
  cov_out_hs:    cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && ready_i);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
`endif

endmodule
