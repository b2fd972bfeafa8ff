// RUN: mote-opt %s --split-input-file | mote-opt --split-input-file | filecheck %s
// RUN: MOTE_ROUNDTRIP
// RUN: MOTE_GENERIC_ROUNDTRIP

// Round-trip of every qtfm attribute form, first as entries of the module's attribute
// dictionary (the attribute parser and printer alone, including values at the edges of
// the accepted ranges), then as properties of ops.
// Inputs that are not in canonical form check the printer's normalisation:
// `rounding = half_up` (the default) is dropped, a one-element list prints as a scalar,
// and `rounding` before `axis` prints as `axis` then `rounding`.
// MOTE_ROUNDTRIP: custom -> generic -> custom; MOTE_GENERIC_ROUNDTRIP pins the generic form.

builtin.module attributes {
  rq.scalar = #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed>,
  rq.negative = #qtfm.requant<mul = -3, add = -128, shift = 0, levels = 2, signed>,
  rq.int32_limits = #qtfm.requant<mul = 2147483647, add = -2147483648, shift = 62, levels = 256, signed>,
  rq.unsigned = #qtfm.requant<mul = 5, add = 128, shift = 3, levels = 256, unsigned>,
  rq.unsigned4 = #qtfm.requant<mul = 5, add = 0, shift = 3, levels = 16, unsigned>,
  rq.floor = #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed, rounding = floor>,
  rq.half_up = #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed, rounding = half_up>,
  rq.per_channel = #qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, unsigned, axis = 1>,
  rq.per_channel_mul = #qtfm.requant<mul = [11, 13, 17, 19], add = 0, shift = 12, levels = 256, signed, axis = 0>,
  rq.per_channel_add = #qtfm.requant<mul = 7, add = [1, 2, 3], shift = 4, levels = 256, signed, axis = 2>,
  rq.per_channel_floor = #qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, signed, rounding = floor, axis = 3>,
  rq.one_element_list = #qtfm.requant<mul = [5], add = [1], shift = 2, levels = 256, signed>,
  rq.axis_scalar = #qtfm.requant<mul = 5, add = 1, shift = 2, levels = 256, signed, axis = 0>,
  sm = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256>,
  sm.lower_bounds = #qtfm.softmax<coeff_a = 1, coeff_b = 0, coeff_c = 1, log2 = 1, levels = 2>,
  sm.upper_bounds = #qtfm.softmax<coeff_a = 2147483647, coeff_b = 2147483647, coeff_c = 2147483647, log2 = 2147483647, levels = 65536>,
  rms = #qtfm.rmsnorm<shift = 6, levels = 256>,
  ln = #qtfm.layernorm<shift = 0, levels = 65536>,
  hs = #qtfm.hardswish<one_over_six = 43, six = 96, three = 48>,
  hs.lower_bounds = #qtfm.hardswish<one_over_six = 1, six = 1, three = 0>,
  hs.upper_bounds = #qtfm.hardswish<one_over_six = 65535, six = 65535, three = 65535>,
  gelu = #qtfm.gelu<b = -226, one = 4096>,
  gelu.bounds = #qtfm.gelu<b = -32768, one = 1>,
  gelu.bounds2 = #qtfm.gelu<b = -1, one = 2147483647>,
  div = #qtfm.div<delta = 16384, eps = 1, eta = 200000, y = 2>,
  div.small = #qtfm.div<delta = 1, eps = -5, eta = 1, y = 7>,
  div.negative_y = #qtfm.div<delta = 1073741824, eps = 2147483647, eta = 1, y = -2147483646>,
  idiv = #qtfm.int_div<delta = 65536, eps = 1, eta = 7>,
  idiv.lower_bounds = #qtfm.int_div<delta = 1, eps = -2147483648, eta = 1>,
  idiv.upper_bounds = #qtfm.int_div<delta = 1, eps = 2147483647, eta = 2147483647>
} {
}

// CHECK:      builtin.module attributes {
// CHECK-SAME: rq.scalar = #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed>,
// CHECK-SAME: rq.negative = #qtfm.requant<mul = -3, add = -128, shift = 0, levels = 2, signed>,
// CHECK-SAME: rq.int32_limits = #qtfm.requant<mul = 2147483647, add = -2147483648, shift = 62, levels = 256, signed>,
// CHECK-SAME: rq.unsigned = #qtfm.requant<mul = 5, add = 128, shift = 3, levels = 256, unsigned>,
// CHECK-SAME: rq.unsigned4 = #qtfm.requant<mul = 5, add = 0, shift = 3, levels = 16, unsigned>,
// CHECK-SAME: rq.floor = #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed, rounding = floor>,
// CHECK-SAME: rq.half_up = #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed>,
// CHECK-SAME: rq.per_channel = #qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, unsigned, axis = 1>,
// CHECK-SAME: rq.per_channel_mul = #qtfm.requant<mul = [11, 13, 17, 19], add = 0, shift = 12, levels = 256, signed, axis = 0>,
// CHECK-SAME: rq.per_channel_add = #qtfm.requant<mul = 7, add = [1, 2, 3], shift = 4, levels = 256, signed, axis = 2>,
// CHECK-SAME: rq.per_channel_floor = #qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, signed, axis = 3, rounding = floor>,
// CHECK-SAME: rq.one_element_list = #qtfm.requant<mul = 5, add = 1, shift = 2, levels = 256, signed>,
// CHECK-SAME: rq.axis_scalar = #qtfm.requant<mul = 5, add = 1, shift = 2, levels = 256, signed, axis = 0>,
// CHECK-SAME: sm = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256>,
// CHECK-SAME: sm.lower_bounds = #qtfm.softmax<coeff_a = 1, coeff_b = 0, coeff_c = 1, log2 = 1, levels = 2>,
// CHECK-SAME: sm.upper_bounds = #qtfm.softmax<coeff_a = 2147483647, coeff_b = 2147483647, coeff_c = 2147483647, log2 = 2147483647, levels = 65536>,
// CHECK-SAME: rms = #qtfm.rmsnorm<shift = 6, levels = 256>,
// CHECK-SAME: ln = #qtfm.layernorm<shift = 0, levels = 65536>,
// CHECK-SAME: hs = #qtfm.hardswish<one_over_six = 43, six = 96, three = 48>,
// CHECK-SAME: hs.lower_bounds = #qtfm.hardswish<one_over_six = 1, six = 1, three = 0>,
// CHECK-SAME: hs.upper_bounds = #qtfm.hardswish<one_over_six = 65535, six = 65535, three = 65535>,
// CHECK-SAME: gelu = #qtfm.gelu<b = -226, one = 4096>,
// CHECK-SAME: gelu.bounds = #qtfm.gelu<b = -32768, one = 1>,
// CHECK-SAME: gelu.bounds2 = #qtfm.gelu<b = -1, one = 2147483647>,
// CHECK-SAME: div = #qtfm.div<delta = 16384, eps = 1, eta = 200000, y = 2>,
// CHECK-SAME: div.small = #qtfm.div<delta = 1, eps = -5, eta = 1, y = 7>,
// CHECK-SAME: div.negative_y = #qtfm.div<delta = 1073741824, eps = 2147483647, eta = 1, y = -2147483646>,
// CHECK-SAME: idiv = #qtfm.int_div<delta = 65536, eps = 1, eta = 7>,
// CHECK-SAME: idiv.lower_bounds = #qtfm.int_div<delta = 1, eps = -2147483648, eta = 1>,
// CHECK-SAME: idiv.upper_bounds = #qtfm.int_div<delta = 1, eps = 2147483647, eta = 2147483647>} {

// CHECK-GENERIC:      "builtin.module"() ({
// CHECK-GENERIC:      }) {rq.scalar = #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed>,
// CHECK-GENERIC-SAME: rq.per_channel_floor = #qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, signed, axis = 3, rounding = floor>,
// CHECK-GENERIC-SAME: idiv.upper_bounds = #qtfm.int_div<delta = 1, eps = 2147483647, eta = 2147483647>} : () -> ()

// -----

func.func @props(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>, %s: tensor<1x2x16x16xi8>) {
  %0 = qtfm.matmul %a, %b requant #qtfm.requant<mul = [11, 13], add = 0, shift = 12, levels = 256, signed, rounding = half_up, axis = 0> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
  %1 = "qtfm.softmax"(%s) <{params = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256>}> : (tensor<1x2x16x16xi8>) -> tensor<1x2x16x16xui8>
  %2 = qtfm.requant %0, #qtfm.requant<mul = [3], add = [-1], shift = 1, levels = 16, unsigned, rounding = floor> : tensor<2x16x16xi8> -> tensor<2x16x16xui8>
  func.return
}

// CHECK:      func.func @props(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>, %s: tensor<1x2x16x16xi8>) {
// CHECK-NEXT:   %0 = qtfm.matmul %a, %b requant #qtfm.requant<mul = [11, 13], add = 0, shift = 12, levels = 256, signed, axis = 0> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
// CHECK-NEXT:   %1 = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
// CHECK-NEXT:   %2 = qtfm.requant %0, #qtfm.requant<mul = 3, add = -1, shift = 1, levels = 16, unsigned, rounding = floor> : tensor<2x16x16xi8> -> tensor<2x16x16xui8>
// CHECK-NEXT:   func.return

// CHECK-GENERIC:      %0 = "qtfm.matmul"(%a, %b) <{requant = #qtfm.requant<mul = [11, 13], add = 0, shift = 12, levels = 256, signed, axis = 0>}> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
// CHECK-GENERIC-NEXT: %1 = "qtfm.softmax"(%s) <{params = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256>}> : (tensor<1x2x16x16xi8>) -> tensor<1x2x16x16xui8>
// CHECK-GENERIC-NEXT: %2 = "qtfm.requant"(%0) <{params = #qtfm.requant<mul = 3, add = -1, shift = 1, levels = 16, unsigned, rounding = floor>}> : (tensor<2x16x16xi8>) -> tensor<2x16x16xui8>
