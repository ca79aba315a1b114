// Integer LayerNorm of one token (docs/spec.md sections 13 and 14).
//
// A token arrives as D / Lanes beats of Lanes INT32 values (|r| < 2^17). Passes:
//   load  sum = sum r                                     (one beat per cycle, values stored)
//   var   V = sum (D r - sum)^2                           (one beat per cycle, 64-bit)
//   sqrt  sigma = isqrt(V + eps)                          (32 digit iterations, SqrtPerCycle per cycle)
//   div   recip = floor(2^47 / sigma)                     (48 iterations, DivPerCycle per cycle)
//   out   n = (c recip + 2^31) >>> 32, y = sat_8(requant(n gamma + beta, out))   (one beat per cycle)
// The per-channel parameters of output beat par_beat_o are looked up by the caller (gamma_i,
// beta_i, rq_i, combinational). eps_i must be stable while a token is in the unit.
//
// Latency per token: 3 D/Lanes + ceil(32/SqrtPerCycle) + ceil(48/DivPerCycle) cycles + 1.
// One token at a time; in_ready_o is low outside the load pass.

module esact_layernorm
  import esact_pkg::*;
#(
  parameter int unsigned D            = 32,
  parameter int unsigned Lanes        = 16,
  parameter int unsigned SqrtPerCycle = 4,
  parameter int unsigned DivPerCycle  = 8,
  // derived
  localparam int unsigned Beats = D / Lanes,
  localparam int unsigned BeatW = idx_w(Beats)
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  logic                       in_valid_i,   // value beat valid
  output logic                       in_ready_o,   // load pass
  input  acc_t   [Lanes-1:0]         in_r_i,       // residual values, |r| < 2^17
  input  logic   [63:0]              eps_i,        // 1 .. 2^61
  output logic   [BeatW-1:0]         par_beat_o,   // beat whose parameters are needed
  input  int16_t [Lanes-1:0]         gamma_i,      // gamma of channels par_beat_o * Lanes + l
  input  acc_t   [Lanes-1:0]         beta_i,       // beta
  input  rq_t    [Lanes-1:0]         rq_i,         // output requantiser (INT8 output)
  input  rq_t    [Lanes-1:0]         rq16_i,       // second requantiser (INT16 output)
  output logic                       out_valid_o,  // output beat valid
  input  logic                       out_ready_i,  // consumer accepts
  output int8_t  [Lanes-1:0]         out_y_o,      // INT8 output
  output int16_t [Lanes-1:0]         out_y16_o,    // INT16 output
  output logic   [Lanes-1:0][16:0]   out_norm_o,   // n (|n| <= 2^15), for tests
  output logic   [BeatW-1:0]         out_beat_o,   // beat index of out_y_o
  output logic                       idle_o        // no token held
);

  localparam int unsigned SqrtIters = 32;
  localparam int unsigned DivIters  = 48;

  typedef enum logic [2:0] {SLoad, SVar, SSqrt, SDiv, SOut} state_e;

  state_e                    state_q;
  logic signed [17:0]        buf_q [Beats][Lanes];
  logic        [BeatW-1:0]   b_q;
  logic signed [31:0]        sum_q;
  logic        [63:0]        var_q;
  logic        [63:0]        srem_q, sroot_q, sbit_q;
  logic        [5:0]         sit_q;
  logic        [31:0]        sigma_q;
  logic        [32:0]        drem_q;
  logic        [DivIters-1:0] quo_q;
  logic        [5:0]         dit_q;

  logic in_hs, out_hs, last_beat;

  assign in_ready_o  = (state_q == SLoad);
  assign in_hs       = in_valid_i && in_ready_o;
  assign out_valid_o = (state_q == SOut);
  assign out_hs      = out_valid_o && out_ready_i;
  assign last_beat   = (b_q == BeatW'(Beats - 1));
  assign par_beat_o  = b_q;
  assign out_beat_o  = b_q;
  assign idle_o      = (state_q == SLoad) && (b_q == '0);

  // centred, D-scaled values of the stored beat b_q: c = D r - sum (|c| < 2^27)
  logic signed [39:0] c_cur [Lanes];
  logic        [63:0] sq_sum;
  logic signed [31:0] in_sum;
  // Block-local temporaries of this loop stay out of the waves (traced, Verilator keeps them as
  // model members, a store per lane and cycle: docs/debugging.md); the block's outputs are traced.
  /*verilator tracing_off*/
  always_comb begin
    sq_sum = '0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      logic [63:0] sq;
      c_cur[l] = 40'(buf_q[b_q][l]) * $signed(40'(D)) - 40'(sum_q);
      sq       = unsigned'(64'(c_cur[l]) * 64'(c_cur[l]));  // < 2^54
      sq_sum   = sq_sum + sq;
    end
    in_sum = '0;
    for (int unsigned l = 0; l < Lanes; l++) in_sum = in_sum + 32'(in_r_i[l]);
  end
  /*verilator tracing_on*/

  // normalise, scale, shift, requantise
  // Block-local temporaries of this loop stay out of the waves (traced, Verilator keeps them as
  // model members, a store per lane and cycle: docs/debugging.md); the block's outputs are traced.
  /*verilator tracing_off*/
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      logic signed [79:0] prod;
      acc_t               n;  // |n| <= 2^15
      acc_t               t;
      prod          = 80'(c_cur[l]) * signed'({32'd0, quo_q}) + (80'sd1 <<< 31);
      n             = acc_t'(prod >>> 32);
      t             = n * acc_t'(gamma_i[l]) + beta_i[l];  // |t| < 2^31
      out_norm_o[l] = n[16:0];
      out_y_o[l]    = sat8(requant_round(t, rq_i[l]));
      out_y16_o[l]  = sat16(requant_round(t, rq16_i[l]));
    end
  end
  /*verilator tracing_on*/

  // digit-by-digit square root and restoring division, several iterations per cycle
  logic [63:0] srem_d, sroot_d, sbit_d;
  logic [5:0]  sit_d;
  logic [32:0] drem_d;
  logic [DivIters-1:0] quo_d;
  logic [5:0]  dit_d;
  always_comb begin
    srem_d  = srem_q;
    sroot_d = sroot_q;
    sbit_d  = sbit_q;
    sit_d   = sit_q;
    for (int unsigned s = 0; s < SqrtPerCycle; s++) begin
      if (sit_d < 6'(SqrtIters)) begin
        if (srem_d >= sroot_d + sbit_d) begin
          srem_d  = srem_d - (sroot_d + sbit_d);
          sroot_d = (sroot_d >> 1) + sbit_d;
        end else begin
          sroot_d = sroot_d >> 1;
        end
        sbit_d = sbit_d >> 2;
        sit_d  = sit_d + 6'd1;
      end
    end
    drem_d = drem_q;
    quo_d  = quo_q;
    dit_d  = dit_q;
    for (int unsigned s = 0; s < DivPerCycle; s++) begin
      if (dit_d < 6'(DivIters)) begin
        drem_d = {drem_d[31:0], (dit_d == 6'd0)};  // dividend 2^47: only its top bit is set
        quo_d  = {quo_d[DivIters-2:0], 1'b0};
        if (drem_d >= 33'(sigma_q)) begin
          drem_d   = drem_d - 33'(sigma_q);
          quo_d[0] = 1'b1;
        end
        dit_d = dit_d + 6'd1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= SLoad;
      b_q     <= '0;
      sum_q   <= '0;
      var_q   <= '0;
      srem_q  <= '0;
      sroot_q <= '0;
      sbit_q  <= '0;
      sit_q   <= '0;
      sigma_q <= 32'd1;
      drem_q  <= '0;
      quo_q   <= '0;
      dit_q   <= '0;
    end else begin
      unique case (state_q)
        SLoad: if (in_hs) begin
          sum_q <= sum_q + in_sum;
          if (last_beat) begin
            b_q     <= '0;
            var_q   <= '0;
            state_q <= SVar;
          end else begin
            b_q <= b_q + BeatW'(1);
          end
        end
        SVar: begin
          var_q <= var_q + sq_sum;
          if (last_beat) begin
            b_q     <= '0;
            srem_q  <= var_q + sq_sum + eps_i;
            sroot_q <= '0;
            sbit_q  <= 64'd1 << 62;
            sit_q   <= '0;
            state_q <= SSqrt;
          end else begin
            b_q <= b_q + BeatW'(1);
          end
        end
        SSqrt: begin
          srem_q  <= srem_d;
          sroot_q <= sroot_d;
          sbit_q  <= sbit_d;
          sit_q   <= sit_d;
          if (sit_d == 6'(SqrtIters)) begin
            sigma_q <= sroot_d[31:0];
            drem_q  <= '0;
            quo_q   <= '0;
            dit_q   <= '0;
            state_q <= SDiv;
          end
        end
        SDiv: begin
          drem_q <= drem_d;
          quo_q  <= quo_d;
          dit_q  <= dit_d;
          if (dit_d == 6'(DivIters)) state_q <= SOut;
        end
        SOut: if (out_hs) begin
          if (last_beat) begin
            b_q     <= '0;
            sum_q   <= '0;
            state_q <= SLoad;
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
      for (int unsigned l = 0; l < Lanes; l++) buf_q[b_q][l] <= in_r_i[l][17:0];
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  for (genvar l = 0; l < Lanes; l++) begin : g_chk
    assert property (@(posedge clk_i) disable iff (!rst_ni)
                     in_valid_i |-> $signed(in_r_i[l]) > -32'sd131072 && $signed(in_r_i[l]) < 32'sd131072);
  end
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   in_valid_i && !in_ready_o |=> in_valid_i && $stable(in_r_i));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
                   out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_beat_o));
  assert property (@(posedge clk_i) disable iff (!rst_ni) state_q == SDiv |-> sigma_q != '0);
  cov_sqrt: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == SSqrt);
  cov_out_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  cov_in_stall: cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
`endif

endmodule
