// Integer softmax of one row (docs/spec.md section 11): base-2 i-exp with the minimax polynomial,
// one reciprocal per row, UINT8 probabilities (scale 2^-8).
//
// A row arrives as 1..MaxBeats beats of Lanes INT16 logits (log2 units, 8 fraction bits) with a keep
// bit per lane; in_last_i marks its last beat. The unit then runs the three passes of the spec:
//   load  (the row max over kept lanes is tracked while the beats are stored)
//   sum   one beat per cycle: sum += iexp2_neg(max - t) over kept lanes
//   div   recip = floor(2^32 / sum), restoring division, DivPerCycle quotient bits per cycle
//   out   one beat per cycle: p = min(255, (e * recip + 2^23) >> 24) for kept lanes, 0 otherwise
// and emits the probabilities in the order the beats came in. A row with no kept lane gives zeros.
//
// Latency per row of n beats: n (in) + n (sum) + ceil(33 / DivPerCycle) + n (out) cycles.
// One row at a time; in_ready_o is low outside the load pass.

module esact_softmax
  import esact_pkg::*;
#(
  parameter int unsigned Lanes       = 4,
  parameter int unsigned MaxBeats    = 4,   // beats of the longest row (N / Lanes)
  parameter int unsigned DivPerCycle = 11,  // division iterations per cycle (33 in total)
  // derived
  localparam int unsigned BeatW = idx_w(MaxBeats),
  localparam int unsigned NbW   = cnt_w(MaxBeats)
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    in_valid_i,   // logit beat valid
  output logic                    in_ready_o,   // load pass
  input  int16_t [Lanes-1:0]      in_logit_i,   // INT16 logits, log2 units, 8 fraction bits
  input  logic   [Lanes-1:0]      in_keep_i,    // lane belongs to the column set
  input  logic                    in_last_i,    // last beat of the row
  output logic                    out_valid_o,  // probability beat valid
  input  logic                    out_ready_i,  // consumer accepts
  output logic   [Lanes-1:0][7:0] out_prob_o,   // UINT8 probabilities, scale 2^-8
  output logic                    out_last_o,   // last beat of the row
  output logic                    idle_o        // no row held
);

  localparam int unsigned DivIters = 33;
  localparam int unsigned RemW     = 26;

  typedef enum logic [1:0] {SLoad, SSum, SDiv, SOut} state_e;

  state_e                state_q;
  int16_t [Lanes-1:0]    buf_q  [MaxBeats];
  logic   [Lanes-1:0]    keep_q [MaxBeats];
  logic   [NbW-1:0]      nb_q;
  logic   [BeatW-1:0]    b_q;
  int16_t                max_q;
  logic                  any_q;
  logic   [31:0]         sum_q;
  logic   [RemW-1:0]     rem_q;
  logic   [DivIters-1:0] quo_q;
  logic   [5:0]          it_q;     // division iterations done

  logic   in_hs, out_hs;
  int16_t beat_max;
  logic   beat_any;
  logic   [Lanes-1:0][15:0] e_cur;
  logic   [31:0] beat_sum;

  assign in_ready_o = (state_q == SLoad);
  assign in_hs      = in_valid_i && in_ready_o;
  assign idle_o     = (state_q == SLoad) && (nb_q == '0);

  // max over the kept lanes of the incoming beat
  always_comb begin
    beat_max = int16_t'(-32768);
    beat_any = 1'b0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      if (in_keep_i[l] && (!beat_any || in_logit_i[l] > beat_max)) begin
        beat_max = in_logit_i[l];
        beat_any = 1'b1;
      end
    end
  end

  // exponentials of the stored beat b_q (sum and out passes)
  // Block-local temporaries of this loop stay out of the waves (traced, Verilator keeps them as
  // model members, a store per lane and cycle: docs/debugging.md); the block's outputs are traced.
  /*verilator tracing_off*/
  always_comb begin
    beat_sum = '0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      logic [15:0] diff;  // max - t is 0..65535: the 16-bit difference is exact
      diff     = 16'(max_q - buf_q[b_q][l]);
      e_cur[l] = keep_q[b_q][l] ? iexp2_neg(diff) : 16'd0;
      beat_sum = beat_sum + 32'(e_cur[l]);
    end
  end
  /*verilator tracing_on*/

  // normalise: (e * recip + 2^23) >> 24, saturated to 255
  // Block-local temporaries of this loop stay out of the waves (traced, Verilator keeps them as
  // model members, a store per lane and cycle: docs/debugging.md); the block's outputs are traced.
  /*verilator tracing_off*/
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      logic [49:0] p;
      p = 50'(e_cur[l]) * 50'(quo_q) + (50'd1 << 23);
      p = p >> 24;
      out_prob_o[l] = (p > 50'd255) ? 8'd255 : p[7:0];
    end
  end
  /*verilator tracing_on*/

  assign out_valid_o = (state_q == SOut);
  assign out_last_o  = (NbW'(b_q) + NbW'(1) == nb_q);
  assign out_hs      = out_valid_o && out_ready_i;

  // restoring division of 2^32 by sum_q, DivPerCycle iterations per cycle
  logic [RemW-1:0]     rem_d;
  logic [DivIters-1:0] quo_d;
  logic [5:0]          it_d;
  always_comb begin
    rem_d = rem_q;
    quo_d = quo_q;
    it_d  = it_q;
    for (int unsigned s = 0; s < DivPerCycle; s++) begin
      if (it_d < 6'(DivIters)) begin
        // dividend bit (32 - it): only bit 32 of 2^32 is set
        rem_d = {rem_d[RemW-2:0], (it_d == 6'd0)};
        quo_d = {quo_d[DivIters-2:0], 1'b0};
        if (rem_d >= RemW'(sum_q)) begin
          rem_d    = rem_d - RemW'(sum_q);
          quo_d[0] = 1'b1;
        end
        it_d = it_d + 6'd1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= SLoad;
      nb_q    <= '0;
      b_q     <= '0;
      max_q   <= int16_t'(-32768);
      any_q   <= 1'b0;
      sum_q   <= '0;
      rem_q   <= '0;
      quo_q   <= '0;
      it_q    <= '0;
    end else begin
      unique case (state_q)
        SLoad: if (in_hs) begin
          nb_q <= nb_q + NbW'(1);
          if (beat_any && (!any_q || beat_max > max_q)) max_q <= beat_max;
          if (beat_any) any_q <= 1'b1;
          if (in_last_i) begin
            state_q <= SSum;
            b_q     <= '0;
            sum_q   <= '0;
          end
        end
        SSum: begin
          sum_q <= sum_q + beat_sum;
          if (NbW'(b_q) + NbW'(1) == nb_q) begin
            b_q   <= '0;
            rem_q <= '0;
            quo_q <= '0;
            it_q  <= '0;
            // an empty row has no reciprocal: every probability is 0
            state_q <= any_q ? SDiv : SOut;
          end else begin
            b_q <= b_q + BeatW'(1);
          end
        end
        SDiv: begin
          rem_q <= rem_d;
          quo_q <= quo_d;
          it_q  <= it_d;
          if (it_d == 6'(DivIters)) state_q <= SOut;
        end
        SOut: if (out_hs) begin
          if (out_last_o) begin
            state_q <= SLoad;
            nb_q    <= '0;
            b_q     <= '0;
            max_q   <= int16_t'(-32768);
            any_q   <= 1'b0;
          end else begin
            b_q <= b_q + BeatW'(1);
          end
        end
        default: state_q <= SLoad;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_hs) begin
      buf_q[nb_q[BeatW-1:0]]  <= in_logit_i;
      keep_q[nb_q[BeatW-1:0]] <= in_keep_i;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_hs |-> nb_q < NbW'(MaxBeats));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_valid_i && !in_ready_o |=> in_valid_i && $stable(in_logit_i) && $stable(in_keep_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_prob_o));
  // the sum is at least 2^15 (the maximum contributes 2^15) and at most 2^15 * Lanes * MaxBeats
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   state_q == SDiv |-> sum_q >= 32'd32768);
  cov_div: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == SDiv);
  cov_sum_none_kept: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == SSum && !any_q);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  cov_row_end: cover property (@(posedge clk_i) disable iff (!rst_ni) in_hs && in_last_i);
`endif

endmodule
