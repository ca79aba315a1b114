// Valid/ready stream FIFO of Depth entries of Width bits.
//
// Latency: 1 cycle (an entry is visible at the output the cycle after it was written).
// Throughput: one beat per cycle in and out at the same time. ready_o does not depend on ready_i
// (no combinational path through the FIFO).

module esact_stream_fifo
  import esact_pkg::*;
#(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 4,
  // derived
  localparam int unsigned PtrW = idx_w(Depth),
  localparam int unsigned CntW = cnt_w(Depth)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             valid_i,  // data_i valid
  output logic             ready_o,  // FIFO not full
  input  logic [Width-1:0] data_i,   // beat in
  output logic             valid_o,  // FIFO not empty
  input  logic             ready_i,  // consumer accepts
  output logic [Width-1:0] data_o,   // oldest beat
  output logic [CntW-1:0]  count_o   // entries held
);

  logic [Width-1:0] mem_q [Depth];
  logic [PtrW-1:0]  wr_q, rd_q;
  logic [CntW-1:0]  cnt_q;
  logic             push, pop;

  assign ready_o = (cnt_q != CntW'(Depth));
  assign valid_o = (cnt_q != '0);
  assign push    = valid_i && ready_o;
  assign pop     = valid_o && ready_i;
  assign data_o  = mem_q[rd_q];
  assign count_o = cnt_q;

  function automatic logic [PtrW-1:0] ptr_inc(input logic [PtrW-1:0] p);
    return (p == PtrW'(Depth - 1)) ? '0 : p + PtrW'(1);
  endfunction

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_q  <= '0;
      rd_q  <= '0;
      cnt_q <= '0;
    end else begin
      if (push) wr_q <= ptr_inc(wr_q);
      if (pop)  rd_q <= ptr_inc(rd_q);
      unique case ({push, pop})
        2'b10:   cnt_q <= cnt_q + CntW'(1);
        2'b01:   cnt_q <= cnt_q - CntW'(1);
        default: ;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) mem_q[wr_q] <= data_i;
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni) cnt_q <= CntW'(Depth));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_i && !ready_o |=> valid_i && $stable(data_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   valid_o && !ready_i |=> valid_o && $stable(data_o));
  // covers (named: the coverage summary lists unhit ones by name)
  cov_full:      cover property (@(posedge clk_i) disable iff (!rst_ni) !ready_o);
  cov_in_stall:  cover property (@(posedge clk_i) disable iff (!rst_ni) valid_i && !ready_o);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) valid_o && !ready_i);
  cov_push_pop:  cover property (@(posedge clk_i) disable iff (!rst_ni) push && pop);
`endif

endmodule
