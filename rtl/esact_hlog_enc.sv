// HLog encoder: one INT8 value -> one packed HLog code (docs/spec.md section 1).
//
// Leading-one detector on |x| plus the two bits below the leading one; no arithmetic beyond the
// magnitude negate and a 3-bit increment.
//
// Latency: combinational (0 cycles). Throughput: one value per cycle.

module esact_hlog_enc
  import esact_pkg::*;
(
  input  int8_t      data_i,  // INT8 value
  output hlog_code_t code_o   // {zero, sign, e[2:0], h}
);

  assign code_o = hlog_encode(data_i);

  // -----------------------------------------------------------------------------------------------
  // Assertions (immediate: the unit has no clock)
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  always_comb begin
    // zero code is exactly 6'b100000 and only for x == 0
    assert (code_o.zero == (data_i == '0));
    assert (!code_o.zero || (code_o.sign == 1'b0 && code_o.e == '0 && code_o.h == 1'b0));
    // a half step only exists above the smallest level (e >= 1), see spec section 2
    assert (!(code_o.h && code_o.e == '0));
    // the 2^(n-1) clamp never has to fire for INT8: 128 = 2^7 is the top level, without a half step
    assert (!(code_o.e == 3'd7 && code_o.h));
  end
`endif

endmodule
