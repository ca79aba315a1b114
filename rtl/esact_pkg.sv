// ESACT package: every width, type and shared function of the SPLS datapath (docs/spec.md Part I).
//
// Configuration-dependent widths (N, D, H, LANES are top-level parameters set per named config)
// are derived in the modules with the width helpers below, so every number is named once.

package esact_pkg;

  // ---------------------------------------------------------------------------------------------
  // Fixed widths
  // ---------------------------------------------------------------------------------------------

  // One INT8 operand.
  localparam int unsigned ByteW = 8;
  // Packed HLog code {zero, sign, e[2:0], h} (spec section 1).
  localparam int unsigned CodeW = 6;
  // Exponent of a code and of a code product (a.e + b.e <= 14).
  localparam int unsigned ExpW  = 3;
  localparam int unsigned ExpSumW = ExpW + 1;
  // Signed add-only product of two codes: |p| <= 2^14, so 16 bits signed.
  localparam int unsigned ProdW = 16;
  // Q^/K^ accumulators: |Q^| <= D * 2^14 <= 2^23 (D <= 512), held in 32 bits (spec section 3).
  localparam int unsigned AccW  = 32;
  // Per-head rescale shift sQ_h / sK_h (out_shift_*_o[4:0]).
  localparam int unsigned ShiftW = 5;
  // Cycle / performance counters.
  localparam int unsigned PerfW = 32;

  // ---------------------------------------------------------------------------------------------
  // Width helpers (constant functions, usable in parameter and port declarations)
  // ---------------------------------------------------------------------------------------------

  // Bits to index n things (0 .. n-1); at least 1 so that n = 1 still gives a legal port.
  function automatic int unsigned idx_w(input int unsigned n);
    return (n > 1) ? $clog2(n) : 1;
  endfunction

  // Bits to hold a count 0 .. n.
  function automatic int unsigned cnt_w(input int unsigned n);
    return $clog2(n + 1);
  endfunction

  // ceil(a / b)
  function automatic int unsigned ceil_div(input int unsigned a, input int unsigned b);
    return (a + b - 1) / b;
  endfunction

  // ---------------------------------------------------------------------------------------------
  // Types
  // ---------------------------------------------------------------------------------------------

  typedef logic signed [ByteW-1:0] int8_t;
  typedef logic signed [ProdW-1:0] prod_t;
  typedef logic signed [AccW-1:0]  acc_t;
  typedef logic [ShiftW-1:0]       shift_t;

  // HLog code, packed exactly as spec section 1: {zero[5], sign[4], e[3:1], h[0]}.
  typedef struct packed {
    logic            zero;  // value is 0 (all other fields 0)
    logic            sign;  // negative
    logic [ExpW-1:0] e;     // exponent 0..7
    logic            h;     // half step: magnitude 2^e * (1 + h/2)
  } hlog_code_t;

  localparam hlog_code_t HlogZero = '{zero: 1'b1, sign: 1'b0, e: '0, h: 1'b0};

  // Output beat kinds of esact_spls_top (spec section 9, out_kind_o).
  typedef enum logic [1:0] {
    OutRow   = 2'd0,
    OutKv    = 2'd1,
    OutToken = 2'd2,
    OutHead  = 2'd3
  } out_kind_e;

  // ---------------------------------------------------------------------------------------------
  // Shared functions (non-recursive)
  // ---------------------------------------------------------------------------------------------

  // HLog encoding of an INT8 (spec section 1): leading-one detector plus the two bits below it.
  //   {b1,b0} = 00 -> (p, 0); 01 | 10 -> (p, 1); 11 -> (p + 1, 0).
  // e never exceeds 7 for INT8 input; the clamp is kept (and asserted in esact_hlog_enc).
  function automatic hlog_code_t hlog_encode(input int8_t x);
    hlog_code_t  c;
    logic [7:0]  m;       // magnitude, 128 for x = -128
    logic [2:0]  p;       // leading-one position
    logic [9:0]  m_ext;   // m with two zero guard bits below bit 0
    logic        b1, b0;
    logic [3:0]  e_round;
    c = HlogZero;
    m = x[7] ? 8'(-x) : 8'(x);
    p = '0;
    for (int unsigned i = 0; i < 8; i++) begin
      if (m[i]) p = 3'(i);
    end
    // The two bits below the leading one; m_ext[p + 1] = m[p - 1], m_ext[p] = m[p - 2].
    m_ext = {m, 2'b00};
    b1 = m_ext[4'(p) + 4'd1];
    b0 = m_ext[4'(p)];
    e_round = {1'b0, p} + {3'b000, b1 & b0};
    if (x != '0) begin
      c.zero = 1'b0;
      c.sign = x[7];
      c.e    = (e_round > 4'd7) ? 3'd7 : e_round[2:0];
      c.h    = (b1 ^ b0) & (e_round <= 4'd7);
    end
    return c;
  endfunction

  // Add-only product of two codes (spec section 2): an exponent adder, two one-hot terms and a
  // conditional negate. No multiplier.
  //   (0,0) -> 1 << E;  (1,0)|(0,1) -> (1 << E) + (1 << (E-1));  (1,1) -> (1 << (E+1)) + (1 << (E-2))
  function automatic prod_t hlog_product(input hlog_code_t a, input hlog_code_t b);
    logic [ExpSumW-1:0] e_sum;
    logic [ProdW-1:0]   hi, lo, mag;
    e_sum = {1'b0, a.e} + {1'b0, b.e};
    hi = '0;
    lo = '0;
    unique case ({a.h, b.h})
      2'b00: begin
        hi = ProdW'(1) << e_sum;
      end
      2'b01, 2'b10: begin
        hi = ProdW'(1) << e_sum;
        lo = ProdW'(1) << (e_sum - ExpSumW'(1));  // e_sum >= 1 when a half step is present
      end
      2'b11: begin
        hi = ProdW'(1) << (e_sum + ExpSumW'(1));
        lo = ProdW'(1) << (e_sum - ExpSumW'(2));  // e_sum >= 2 when both have a half step
      end
      default: ;
    endcase
    mag = hi + lo;
    if (a.zero || b.zero) begin
      return '0;
    end
    return (a.sign ^ b.sign) ? prod_t'(-mag) : prod_t'(mag);
  endfunction

  // Smallest s >= 0 with (max_mag >> s) <= 127 (spec section 3): s = max(0, bitlen(max_mag) - 7).
  function automatic shift_t shift_for_max(input logic [AccW-1:0] max_mag);
    int unsigned bitlen;
    bitlen = 0;
    for (int unsigned i = 0; i < AccW; i++) begin
      if (max_mag[i]) bitlen = i + 1;
    end
    return (bitlen > 7) ? shift_t'(bitlen - 7) : '0;
  endfunction

  // |x| of an accumulator value (|Q^| < 2^31, so no overflow at the most negative value).
  function automatic logic [AccW-1:0] acc_abs(input acc_t x);
    return x[AccW-1] ? AccW'(-x) : AccW'(x);
  endfunction

  // =============================================================================================
  // Part II: the encoder layer (docs/spec.md sections 10-22)
  // =============================================================================================

  // Requantiser parameters (section 10): M in 1..2^15-1, S in 1..40. Memory image: one uint32 per
  // channel, M in bits [14:0], S in bits [21:16] (section 22).
  localparam int unsigned RqMW = 15;
  localparam int unsigned RqSW = 6;
  typedef struct packed {
    logic [RqSW-1:0] s;
    logic [RqMW-1:0] m;
  } rq_t;
  localparam int unsigned RqW = RqMW + RqSW;

  // Widths of the layer datapath.
  localparam int unsigned RqProdW = 48;  // |acc * M| < 2^46, + 2^(S-1) < 2^47
  typedef logic signed [15:0] int16_t;
  typedef logic signed [RqProdW-1:0] rqv_t;

  // Softmax constants (section 11).
  localparam int signed ExpK1 = -22038;
  localparam int signed ExpK2 = 5692;
  // GELU constants (section 12).
  localparam int unsigned GeluClip = 2637;
  localparam int unsigned GeluA = 17327;

  // Output beat kinds of esact_layer_top (section 22).
  typedef enum logic [3:0] {
    LyQ      = 4'd0,
    LyK      = 4'd1,
    LyV      = 4'd2,
    LyAttn   = 4'd3,
    LyOproj  = 4'd4,
    LyLn1    = 4'd5,
    LyHidden = 4'd6,
    LyFfn    = 4'd7,
    LyOut    = 4'd8
  } layer_kind_e;

  // (acc * M + 2^(S-1)) >>> S: round half up, arithmetic shift, 48-bit intermediate.
  function automatic rqv_t requant_round(input acc_t acc, input rq_t rq);
    rqv_t a, m, prod, rnd;
    a    = {{(RqProdW - AccW){acc[AccW-1]}}, acc};
    m    = {{(RqProdW - RqMW){1'b0}}, rq.m};
    prod = a * m;
    rnd  = rqv_t'(1) <<< (rq.s - RqSW'(1));
    return (prod + rnd) >>> rq.s;
  endfunction

  function automatic int8_t sat8(input rqv_t v);
    if (v < -rqv_t'(128)) return int8_t'(-128);
    if (v > rqv_t'(127))  return int8_t'(127);
    return int8_t'(v);
  endfunction

  function automatic int16_t sat16(input rqv_t v);
    if (v < -rqv_t'(32768)) return int16_t'(-32768);
    if (v > rqv_t'(32767))  return int16_t'(32767);
    return int16_t'(v);
  endfunction

  // 2^(-u/256) in Q0.15 for u = max - t (section 11): frac(r) >> z, 0 for z > 15.
  function automatic logic [15:0] iexp2_neg(input logic [15:0] u);
    logic [7:0]         z;
    logic signed [31:0] r, t, fr;
    logic        [31:0] fru;
    z  = u[15:8];
    r  = {24'd0, u[7:0]};
    t  = (32'(ExpK2) * r + 32'(256 * ExpK1)) * r;
    fr = 32'sd32768 + ((t + 32'sd32768) >>> 16);
    fru = unsigned'(fr);
    if (z > 8'd15) return '0;
    return 16'(fru >> z[3:0]);
  endfunction

  // i-GELU raw value (section 12): x * (2^15 +- erf_q(|x|)), INT32 with scale 2^-26.
  function automatic acc_t igelu_raw(input int16_t x);
    logic [16:0]        a;
    logic signed [17:0] d;
    logic signed [47:0] d48;
    logic [47:0]        dd, drop;
    logic [16:0]        erf, factor;
    acc_t               g;
    a    = x[15] ? 17'(-{x[15], x}) : {1'b0, x};
    d    = (a < 17'(GeluClip)) ? (18'(signed'({1'b0, a})) - 18'sd2637) : 18'sd0;
    d48  = 48'(d);
    dd   = 48'(unsigned'(d48 * d48));
    drop = (dd * 48'(GeluA) + (48'd1 << 21)) >> 22;
    erf  = 17'(48'd32768 - drop);
    if (x == '0)     factor = 17'd32768;
    else if (x[15])  factor = 17'd32768 - erf;
    else             factor = 17'd32768 + erf;
    g = acc_t'(x) * signed'({15'd0, factor});  // |g| < 2^31 (section 12)
    return g;
  endfunction

endpackage
