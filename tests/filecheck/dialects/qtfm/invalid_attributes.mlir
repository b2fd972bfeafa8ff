// RUN: mote-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Attribute-level errors of the qtfm dialect. The attributes check their parameters when
// they are built, so every one of these is a parse error located at the attribute (or at
// the offending token): `file:line:col`, the source line, a caret line, then the message.

// Requant: negative shift.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant shift must be in [0, 62] (a right shift), got -1
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 257, add = 0, shift = -1, levels = 256, signed>} {
}

// -----

// Requant: shift beyond 62.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant shift must be in [0, 62] (a right shift), got 63
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 257, add = 0, shift = 63, levels = 256, signed>} {
}

// -----

// Requant: fewer than two levels.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant levels must be >= 2, got 1
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 1, signed>} {
}

// -----

// Requant: unknown rounding mode.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant rounding must be one of half_up, floor, got 'nearest'
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed, rounding = nearest>} {
}

// -----

// Requant: rounding mode as a string.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:120
// CHECK: identifier expected
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed, rounding = "floor">} {
}

// -----

// Requant: several multipliers without axis.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant with several `mul`/`add` values needs `axis`
builtin.module attributes {qtfm.param = #qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, signed>} {
}

// -----

// Requant: several offsets without axis.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant with several `mul`/`add` values needs `axis`
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 3, add = [0, -1], shift = 8, levels = 256, unsigned>} {
}

// -----

// Requant: negative axis.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:118
// CHECK: Expected integer literal
builtin.module attributes {qtfm.param = #qtfm.requant<mul = [3, 5], add = 0, shift = 8, levels = 256, signed, axis = -1>} {
}

// -----

// Requant: multiplier above int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant mul 2147483648 does not fit in int32
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 2147483648, add = 0, shift = 16, levels = 256, signed>} {
}

// -----

// Requant: per-channel multiplier above int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant mul 4294967296 does not fit in int32
builtin.module attributes {qtfm.param = #qtfm.requant<mul = [1, 4294967296], add = 0, shift = 16, levels = 256, signed, axis = 0>} {
}

// -----

// Requant: offset below int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant add -2147483649 does not fit in int32
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 1, add = -2147483649, shift = 16, levels = 256, signed>} {
}

// -----

// Requant: as many multipliers as offsets.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant has 3 multipliers but 2 offsets
builtin.module attributes {qtfm.param = #qtfm.requant<mul = [1, 2, 3], add = [0, 1], shift = 8, levels = 256, signed, axis = 1>} {
}

// -----

// Requant: no multiplier.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.requant needs at least one `mul` and one `add`
builtin.module attributes {qtfm.param = #qtfm.requant<mul = [], add = 0, shift = 8, levels = 256, signed>} {
}

// -----

// Requant: missing signedness.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:96
// CHECK: Expected ','
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256>} {
}

// -----

// Requant: unknown signedness.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:98
// CHECK: expected `signed` or `unsigned`
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signless>} {
}

// -----

// Requant: unknown trailing field.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:106
// CHECK: expected `axis` or `rounding`
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed, zero_point = 1>} {
}

// -----

// Requant: fields out of order.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:55
// CHECK: Expected 'mul'
builtin.module attributes {qtfm.param = #qtfm.requant<add = 0, mul = 1, shift = 8, levels = 256, signed>} {
}

// -----

// Requant: missing field.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:73
// CHECK: Expected 'shift'
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 1, add = 0, levels = 256, signed>} {
}

// -----

// Requant: a float multiplier.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:61
// CHECK: Expected integer literal
builtin.module attributes {qtfm.param = #qtfm.requant<mul = 1.5, add = 0, shift = 8, levels = 256, signed>} {
}

// -----

// Softmax: fields out of order.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:55
// CHECK: Expected 'coeff_a'
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_b = 1383, coeff_a = 359, coeff_c = 344, log2 = 89, levels = 256>} {
}

// -----

// Softmax: missing field.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:101
// CHECK: Expected 'log2'
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, levels = 256>} {
}

// -----

// Softmax: extra field.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:124
// CHECK: '>' expected
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256, axis = 3>} {
}

// -----

// Softmax: non-positive log2.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax log2 must be positive, got 0
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 0, levels = 256>} {
}

// -----

// Softmax: fewer than two levels.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax levels must be >= 2, got 1
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 1>} {
}

// -----

// Softmax: non-positive coeff_a.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax coeff_a must be positive, got 0
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 0, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256>} {
}

// -----

// Softmax: negative coeff_b.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax coeff_b must be in [0, 2147483647], got -1383
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = -1383, coeff_c = 344, log2 = 89, levels = 256>} {
}

// -----

// Softmax: coeff_c above int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax coeff_c must be in [0, 2147483647], got 2147483648
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 2147483648, log2 = 89, levels = 256>} {
}

// -----

// Softmax: more than 2^16 levels.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax levels must be <= 65536, got 65537
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 65537>} {
}

// -----

// Softmax: exp(0) must be positive.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.softmax needs coeff_a * coeff_b^2 + coeff_c > 0 (exp(0) must be positive)
builtin.module attributes {qtfm.param = #qtfm.softmax<coeff_a = 1, coeff_b = 0, coeff_c = 0, log2 = 89, levels = 256>} {
}

// -----

// Rmsnorm: shift beyond 62.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.rmsnorm shift must be in [0, 62], got 63
builtin.module attributes {qtfm.param = #qtfm.rmsnorm<shift = 63, levels = 256>} {
}

// -----

// Rmsnorm: fewer than two levels.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.rmsnorm levels must be >= 2, got 0
builtin.module attributes {qtfm.param = #qtfm.rmsnorm<shift = 6, levels = 0>} {
}

// -----

// Rmsnorm: fields out of order.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:55
// CHECK: Expected 'shift'
builtin.module attributes {qtfm.param = #qtfm.rmsnorm<levels = 256, shift = 6>} {
}

// -----

// Layernorm: negative shift.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:56
// CHECK: #qtfm.layernorm shift must be in [0, 62], got -1
builtin.module attributes {qtfm.param = #qtfm.layernorm<shift = -1, levels = 256>} {
}

// -----

// Layernorm: fewer than two levels.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:56
// CHECK: #qtfm.layernorm levels must be >= 2, got -256
builtin.module attributes {qtfm.param = #qtfm.layernorm<shift = 8, levels = -256>} {
}

// -----

// Hardswish: non-positive one_over_six.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:56
// CHECK: #qtfm.hardswish one_over_six must be in [1, 65535], got 0
builtin.module attributes {qtfm.param = #qtfm.hardswish<one_over_six = 0, six = 96, three = 48>} {
}

// -----

// Hardswish: negative six.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:56
// CHECK: #qtfm.hardswish six must be in [1, 65535], got -96
builtin.module attributes {qtfm.param = #qtfm.hardswish<one_over_six = 43, six = -96, three = 48>} {
}

// -----

// Hardswish: six beyond 16 bits.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:56
// CHECK: #qtfm.hardswish six must be in [1, 65535], got 65536
builtin.module attributes {qtfm.param = #qtfm.hardswish<one_over_six = 43, six = 65536, three = 48>} {
}

// -----

// Hardswish: negative three.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:56
// CHECK: #qtfm.hardswish three must be in [0, 65535], got -1
builtin.module attributes {qtfm.param = #qtfm.hardswish<one_over_six = 43, six = 96, three = -1>} {
}

// -----

// Gelu: b must be negative (zero).
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:51
// CHECK: #qtfm.gelu b must be in [-32768, -1], got 0
builtin.module attributes {qtfm.param = #qtfm.gelu<b = 0, one = 4096>} {
}

// -----

// Gelu: b must be negative (positive).
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:51
// CHECK: #qtfm.gelu b must be in [-32768, -1], got 226
builtin.module attributes {qtfm.param = #qtfm.gelu<b = 226, one = 4096>} {
}

// -----

// Gelu: b beyond 16 bits.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:51
// CHECK: #qtfm.gelu b must be in [-32768, -1], got -32769
builtin.module attributes {qtfm.param = #qtfm.gelu<b = -32769, one = 4096>} {
}

// -----

// Gelu: non-positive one.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:51
// CHECK: #qtfm.gelu one must be in [1, 2147483647], got 0
builtin.module attributes {qtfm.param = #qtfm.gelu<b = -226, one = 0>} {
}

// -----

// Gelu: a float field.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:68
// CHECK: Expected integer literal
builtin.module attributes {qtfm.param = #qtfm.gelu<b = -226, one = 4096.0>} {
}

// -----

// Div: delta not a power of two.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div delta must be a power of two, got 1000
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1000, eps = 1, eta = 3, y = 7>} {
}

// -----

// Div: non-positive delta.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div delta must be in [1, 2147483647], got 0
builtin.module attributes {qtfm.param = #qtfm.div<delta = 0, eps = 1, eta = 3, y = 7>} {
}

// -----

// Div: non-positive eta.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div eta must be in [1, 2147483647], got -3
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1024, eps = 1, eta = -3, y = 7>} {
}

// -----

// Div: y * eta + eps not positive.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div needs y * eta + eps > 0
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1024, eps = 0, eta = 3, y = 0>} {
}

// -----

// Div: negative divisor.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div needs y * eta + eps > 0
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1024, eps = 1, eta = 3, y = -7>} {
}

// -----

// Div: multiplier beyond int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div multiplier 2147483648 does not fit int32
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1073741824, eps = -2, eta = 4, y = 1>} {
}

// -----

// Div: y above int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:50
// CHECK: #qtfm.div y must be in [-2147483648, 2147483647], got 2147483648
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1024, eps = 1, eta = 3, y = 2147483648>} {
}

// -----

// Div: missing field.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:81
// CHECK: Expected ','
builtin.module attributes {qtfm.param = #qtfm.div<delta = 1024, eps = 1, eta = 3>} {
}

// -----

// IntDiv: delta must be positive.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.int_div delta must be in [1, 2147483647], got 0
builtin.module attributes {qtfm.param = #qtfm.int_div<delta = 0, eps = 1, eta = 7>} {
}

// -----

// IntDiv: eta must be positive.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.int_div eta must be in [1, 2147483647], got -7
builtin.module attributes {qtfm.param = #qtfm.int_div<delta = 65536, eps = 1, eta = -7>} {
}

// -----

// IntDiv: eps beyond int32.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.int_div eps must be in [-2147483648, 2147483647], got 2147483648
builtin.module attributes {qtfm.param = #qtfm.int_div<delta = 65536, eps = 2147483648, eta = 7>} {
}

// -----

// IntDiv: delta * eta must fit int32 (Deeploy forms the product in 32 bits).
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:54
// CHECK: #qtfm.int_div delta * eta = 2147483648 does not fit int32
builtin.module attributes {qtfm.param = #qtfm.int_div<delta = 65536, eps = 1, eta = 32768>} {
}

// -----

// Unknown qtfm attribute.
// CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:51
// CHECK: 'qtfm.relu' is not registered
builtin.module attributes {qtfm.param = #qtfm.relu<levels = 256>} {
}

// -----

// The same checks apply where the attributes are used: as the property of an op, in the
// custom syntax...
func.func @custom(%x: tensor<16x64xi32>) -> tensor<16x64xi8> {
  // CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:38
  // CHECK: #qtfm.requant levels must be >= 2, got 0
  %y = qtfm.requant %x, #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 0, signed> : tensor<16x64xi32> -> tensor<16x64xi8>
  func.return %y : tensor<16x64xi8>
}

// -----

// ... and in the generic syntax.
func.func @generic(%s: tensor<1x2x16x16xi8>) -> tensor<1x2x16x16xui8> {
  // CHECK: invalid_attributes.mlir:[[# @LINE + 2]]:51
  // CHECK: #qtfm.softmax log2 must be positive, got -89
  %p = "qtfm.softmax"(%s) <{params = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = -89, levels = 256>}> : (tensor<1x2x16x16xi8>) -> tensor<1x2x16x16xui8>
  func.return %p : tensor<1x2x16x16xui8>
}
