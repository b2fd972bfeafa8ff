// RUN: mote-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the qtfm ops (dialects/qtfm.py), each checked with its
// location (file:line:col of the failing op) and message. Attribute-level errors are parse
// errors and live in invalid_attributes.mlir.

// Weight with an empty name.
func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.weight' needs a non-empty name
  %w = qtfm.weight "" : tensor<64x64xi8>
  func.return
}

// -----

// Weight with a dynamic shape (the message calls the result an operand, hence the regex).
func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.weight' {{.*}}must have a static shape, got tensor<?x64xi8>
  %w = qtfm.weight "l0.wq" : tensor<?x64xi8>
  func.return
}

// -----

// Weight of floats (IRDL type constraint; generic form, see tools/mote-opt/parse-time-verify-error.mlir).
func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 2]]:3: error: 'qtfm.weight' op result 'result' at position 0 does not verify:
  // CHECK-NEXT: f32 should be of base attribute integer_type
  %w = "qtfm.weight"() <{sym = "l0.wq"}> : () -> tensor<64x64xf32>
  func.return
}

// -----

// Embedding table not 2-D.
func.func @f(%t: tensor<256xi8>, %ids: tensor<16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.embedding' table must be 2-D, got shape (256,)
  %e = qtfm.embedding %t[%ids] : (tensor<256xi8>, tensor<16xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Embedding result shape.
func.func @f(%t: tensor<256x64xi8>, %ids: tensor<16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.embedding' result shape must be (16, 64), got (16, 32)
  %e = qtfm.embedding %t[%ids] : (tensor<256x64xi8>, tensor<16xi32>) -> tensor<16x32xi8>
  func.return
}

// -----

// Embedding result element type.
func.func @f(%t: tensor<256x64xi8>, %ids: tensor<1x16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.embedding' result element type must match the table
  %e = qtfm.embedding %t[%ids] : (tensor<256x64xi8>, tensor<1x16xi32>) -> tensor<1x16x64xi16>
  func.return
}

// -----

// Matmul inner dimensions differ.
func.func @f(%a: tensor<16x64xi8>, %b: tensor<32x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' operand shapes (16, 64) and (32, 64) are incompatible
  %y = qtfm.matmul %a, %b : (tensor<16x64xi8>, tensor<32x64xi8>) -> tensor<16x64xi32>
  func.return
}

// -----

// Matmul batch dimensions do not broadcast.
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<3x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' operand shapes (2, 16, 32) and (3, 32, 16) are incompatible
  %y = qtfm.matmul %a, %b : (tensor<2x16x32xi8>, tensor<3x32x16xi8>) -> tensor<2x16x16xi32>
  func.return
}

// -----

// Matmul of a vector (rank < 2).
func.func @f(%a: tensor<64xi8>, %b: tensor<64x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' operand shapes (64,) and (64, 16) are incompatible
  %y = qtfm.matmul %a, %b : (tensor<64xi8>, tensor<64x16xi8>) -> tensor<16xi32>
  func.return
}

// -----

// Matmul result shape.
func.func @f(%a: tensor<1x2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' result shape must be (1, 2, 16, 16), got (2, 16, 16)
  %y = qtfm.matmul %a, %b : (tensor<1x2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi32>
  func.return
}

// -----

// Matmul with a dynamic operand.
func.func @f(%a: tensor<?x64xi8>, %b: tensor<64x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' op lhs must have a static shape, got tensor<?x64xi8>
  %y = qtfm.matmul %a, %b : (tensor<?x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi32>
  func.return
}

// -----

// Matmul of i32 operands (wider than 16 bits).
func.func @f(%a: tensor<2x16x32xi32>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' operands must be at most 16 bits wide, got i32
  %y = qtfm.matmul %a, %b : (tensor<2x16x32xi32>, tensor<2x32x16xi8>) -> tensor<2x16x16xi32>
  func.return
}

// -----

// Matmul into i64 (wider than 32 bits; the message calls the result an operand, hence the regex).
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' results must be at most 32 bits wide, got i64
  %y = qtfm.matmul %a, %b : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi64>
  func.return
}

// -----

// Matmul without requant into i8.
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' without requant accumulates into its result, which must be i32, got i8
  %y = qtfm.matmul %a, %b : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
  func.return
}

// -----

// Matmul without requant into i16.
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' without requant accumulates into its result, which must be i32, got i16
  %y = qtfm.matmul %a, %b : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi16>
  func.return
}

// -----

// Matmul requant clamp range does not fit the result type.
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' requant clamps to [-128, 127], which does not fit the result element type ui8 ([0, 255])
  %y = qtfm.matmul %a, %b requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xui8>
  func.return
}

// -----

// Matmul per-channel requant count.
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' requant has 3 channels but dimension 0 has size 2
  %y = qtfm.matmul %a, %b requant #qtfm.requant<mul = [1, 2, 3], add = 0, shift = 8, levels = 256, signed, axis = 0> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
  func.return
}

// -----

// Matmul requant axis out of range.
func.func @f(%a: tensor<2x16x32xi8>, %b: tensor<2x32x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.matmul' requant axis 3 is out of range for rank 3
  %y = qtfm.matmul %a, %b requant #qtfm.requant<mul = [1, 2], add = 0, shift = 8, levels = 256, signed, axis = 3> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
  func.return
}

// -----

// Linear weight not 2-D.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<1x64x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' weight must be 2-D (K x N), got shape (1, 64, 64)
  %y = qtfm.linear %x, %w : (tensor<16x64xi8>, tensor<1x64x64xi8>) -> tensor<16x64xi32>
  func.return
}

// -----

// Linear input's last dimension is not K.
func.func @f(%x: tensor<16x32xi8>, %w: tensor<64x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' input's last dimension must equal the weight's K = 64, got input shape (16, 32)
  %y = qtfm.linear %x, %w : (tensor<16x32xi8>, tensor<64x64xi8>) -> tensor<16x64xi32>
  func.return
}

// -----

// Linear of an i32 weight (wider than 16 bits).
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' operands must be at most 16 bits wide, got i32
  %y = qtfm.linear %x, %w : (tensor<16x64xi8>, tensor<64x64xi32>) -> tensor<16x64xi32>
  func.return
}

// -----

// Linear bias shape.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64x128xi8>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' bias must have shape (128,), got (64,)
  %y = qtfm.linear %x, %w, %b : (tensor<16x64xi8>, tensor<64x128xi8>, tensor<64xi32>) -> tensor<16x128xi32>
  func.return
}

// -----

// Linear result shape.
func.func @f(%x: tensor<1x16x64xi8>, %w: tensor<64x128xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' result shape must be (1, 16, 128), got (16, 128)
  %y = qtfm.linear %x, %w : (tensor<1x16x64xi8>, tensor<64x128xi8>) -> tensor<16x128xi32>
  func.return
}

// -----

// Linear without requant into i8.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64x64xi8>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' without requant accumulates into its result, which must be i32, got i8
  %y = qtfm.linear %x, %w, %b : (tensor<16x64xi8>, tensor<64x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Linear requant levels do not fit i8.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' requant clamps to [-32768, 32767], which does not fit the result element type i8 ([-128, 127])
  %y = qtfm.linear %x, %w requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 65536, signed> : (tensor<16x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Linear per-channel requant count.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64x4xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.linear' requant has 3 channels but dimension 1 has size 4
  %y = qtfm.linear %x, %w requant #qtfm.requant<mul = [1, 2, 3], add = [0, 0, 0], shift = 8, levels = 256, signed, axis = 1> : (tensor<16x64xi8>, tensor<64x4xi8>) -> tensor<16x4xi8>
  func.return
}

// -----

// Add operands do not broadcast.
func.func @f(%a: tensor<16x64xi8>, %b: tensor<16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.add' operand shapes (16, 64) and (16, 32) do not broadcast
  %y = qtfm.add %a, %b : (tensor<16x64xi8>, tensor<16x32xi8>) -> tensor<16x64xi32>
  func.return
}

// -----

// Add result shape (broadcast).
func.func @f(%a: tensor<16x64xi8>, %b: tensor<64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.add' result shape must be (16, 64), got (64,)
  %y = qtfm.add %a, %b : (tensor<16x64xi8>, tensor<64xi8>) -> tensor<64xi32>
  func.return
}

// -----

// Add without requant into i8.
func.func @f(%a: tensor<16x64xi8>, %b: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.add' without requant accumulates into its result, which must be i32, got i8
  %y = qtfm.add %a, %b : (tensor<16x64xi8>, tensor<16x64xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Add without requant into i16.
func.func @f(%a: tensor<16x64xi8>, %b: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.add' without requant accumulates into its result, which must be i32, got i16
  %y = qtfm.add %a, %b : (tensor<16x64xi8>, tensor<16x64xi8>) -> tensor<16x64xi16>
  func.return
}

// -----

// Add of i64 operands (wider than 32 bits).
func.func @f(%a: tensor<16x64xi64>, %b: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.add' operands must be at most 32 bits wide, got i64
  %y = qtfm.add %a, %b : (tensor<16x64xi64>, tensor<16x64xi8>) -> tensor<16x64xi32>
  func.return
}

// -----

// Mul without requant into ui8.
func.func @f(%a: tensor<16x64xi8>, %b: tensor<64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.mul' without requant accumulates into its result, which must be i32, got ui8
  %y = qtfm.mul %a, %b : (tensor<16x64xi8>, tensor<64xi8>) -> tensor<16x64xui8>
  func.return
}

// -----

// Mul operands do not broadcast.
func.func @f(%a: tensor<2x16x64xi8>, %b: tensor<3x1x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.mul' operand shapes (2, 16, 64) and (3, 1, 64) do not broadcast
  %y = qtfm.mul %a, %b : (tensor<2x16x64xi8>, tensor<3x1x64xi8>) -> tensor<3x16x64xi32>
  func.return
}

// -----

// Mul requant unsigned into i8.
func.func @f(%a: tensor<16x64xi8>, %b: tensor<64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.mul' requant clamps to [0, 255], which does not fit the result element type i8 ([-128, 127])
  %y = qtfm.mul %a, %b requant #qtfm.requant<mul = 3, add = 1, shift = 2, levels = 256, unsigned> : (tensor<16x64xi8>, tensor<64xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Requant result shape.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' result shape must equal the input shape (16, 64), got (64, 16)
  %y = qtfm.requant %x, #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : tensor<16x64xi32> -> tensor<64x16xi8>
  func.return
}

// -----

// Requant unsigned 256 levels into i8.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' requant clamps to [0, 255], which does not fit the result element type i8 ([-128, 127])
  %y = qtfm.requant %x, #qtfm.requant<mul = 5, add = 128, shift = 3, levels = 256, unsigned> : tensor<16x64xi32> -> tensor<16x64xi8>
  func.return
}

// -----

// Requant signed into ui8.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' requant clamps to [-128, 127], which does not fit the result element type ui8 ([0, 255])
  %y = qtfm.requant %x, #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : tensor<16x64xi32> -> tensor<16x64xui8>
  func.return
}

// -----

// Requant 512 levels into i8.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' requant clamps to [-256, 255], which does not fit the result element type i8 ([-128, 127])
  %y = qtfm.requant %x, #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 512, signed, rounding = floor> : tensor<16x64xi32> -> tensor<16x64xi8>
  func.return
}

// -----

// Requant per-channel count.
func.func @f(%x: tensor<1x2x16x16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' requant has 3 channels but dimension 1 has size 2
  %y = qtfm.requant %x, #qtfm.requant<mul = [11, 13, 17], add = 0, shift = 12, levels = 256, signed, axis = 1> : tensor<1x2x16x16xi32> -> tensor<1x2x16x16xi8>
  func.return
}

// -----

// Requant per-channel offsets count.
func.func @f(%x: tensor<1x2x16x16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' requant has 4 channels but dimension 3 has size 16
  %y = qtfm.requant %x, #qtfm.requant<mul = 11, add = [0, 1, 2, 3], shift = 12, levels = 256, signed, axis = 3> : tensor<1x2x16x16xi32> -> tensor<1x2x16x16xi8>
  func.return
}

// -----

// Requant axis out of range.
func.func @f(%x: tensor<1x2x16x16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.requant' requant axis 4 is out of range for rank 4
  %y = qtfm.requant %x, #qtfm.requant<mul = [11, 13], add = 0, shift = 12, levels = 256, signed, axis = 4> : tensor<1x2x16x16xi32> -> tensor<1x2x16x16xi8>
  func.return
}

// -----

// Softmax result i8 too narrow for [0, 255].
func.func @f(%s: tensor<1x2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' produces values in [0, 255], which do not fit the result element type i8
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xi8>
  func.return
}

// -----

// Softmax levels too many for ui8.
func.func @f(%s: tensor<1x2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' produces values in [0, 65535], which do not fit the result element type ui8
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 65536> : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
  func.return
}

// -----

// Softmax of an i32 input (wider than 16 bits).
func.func @f(%s: tensor<1x2x16x16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' operands must be at most 16 bits wide, got i32
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi32> -> tensor<1x2x16x16xui8>
  func.return
}

// -----

// Softmax exp sum beyond 2^62.
func.func @f(%s: tensor<1x2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' parameters let the exp sum of a 16-wide row exceed 2^62
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 2147483647, coeff_b = 2147483647, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
  func.return
}

// -----

// Softmax result shape.
func.func @f(%s: tensor<1x2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' result shape must equal the input shape (1, 2, 16, 16)
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi8> -> tensor<2x16x16xui8>
  func.return
}

// -----

// Softmax mask that does not broadcast to the input.
func.func @f(%s: tensor<1x2x16x16xi8>, %m: tensor<1x1x16x8xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' mask shape (1, 1, 16, 8) does not broadcast to (1, 2, 16, 16)
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> mask(%m : tensor<1x1x16x8xi8>) : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
  func.return
}

// -----

// Softmax mask larger than the input.
func.func @f(%s: tensor<1x2x16x16xi8>, %m: tensor<2x2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' mask shape (2, 2, 16, 16) does not broadcast to (1, 2, 16, 16)
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> mask(%m : tensor<2x2x16x16xi8>) : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
  func.return
}

// -----

// Softmax mask of i64 (wider than 32 bits).
func.func @f(%s: tensor<1x2x16x16xi8>, %m: tensor<1x1x16x16xi64>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.softmax' operands must be at most 32 bits wide, got i64
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> mask(%m : tensor<1x1x16x16xi64>) : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
  func.return
}

// -----

// Lut of a 16-bit input.
func.func @f(%x: tensor<16x64xi16>, %t: tensor<256xi16>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.lut' input must be 8 bits wide, got i16
  %y = qtfm.lut %x, %t : (tensor<16x64xi16>, tensor<256xi16>) -> tensor<16x64xi16>
  func.return
}

// -----

// Lut table without 256 entries.
func.func @f(%x: tensor<16x64xi8>, %t: tensor<128xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.lut' table must have 256 entries, got shape (128,)
  %y = qtfm.lut %x, %t : (tensor<16x64xi8>, tensor<128xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Lut table of rank 2.
func.func @f(%x: tensor<16x64xi8>, %t: tensor<1x256xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.lut' table must have 256 entries, got shape (1, 256)
  %y = qtfm.lut %x, %t : (tensor<16x64xi8>, tensor<1x256xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Lut result shape.
func.func @f(%x: tensor<16x64xi8>, %t: tensor<256xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.lut' result shape must equal the input shape
  %y = qtfm.lut %x, %t : (tensor<16x64xi8>, tensor<256xi8>) -> tensor<64x16xi8>
  func.return
}

// -----

// Lut result element type differs from the table.
func.func @f(%x: tensor<16x64xi8>, %t: tensor<256xui8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.lut' operand element type ui8 must match the result element type i8
  %y = qtfm.lut %x, %t : (tensor<16x64xi8>, tensor<256xui8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Rmsnorm weight shape.
func.func @f(%x: tensor<16x64xi8>, %g: tensor<32xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.rmsnorm' weight must have shape (64,), got (32,)
  %y = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 256> : (tensor<16x64xi8>, tensor<32xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Rmsnorm of a 0-d input.
func.func @f(%x: tensor<i8>, %g: tensor<1xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.rmsnorm' input must have rank >= 1
  %y = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 256> : (tensor<i8>, tensor<1xi32>) -> tensor<i8>
  func.return
}

// -----

// Rmsnorm of an i32 input (wider than 16 bits).
func.func @f(%x: tensor<16x64xi32>, %g: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.rmsnorm' operands must be at most 16 bits wide, got i32
  %y = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 256> : (tensor<16x64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Rmsnorm result shape.
func.func @f(%x: tensor<16x64xi8>, %g: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.rmsnorm' result shape must equal the input shape (16, 64)
  %y = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>) -> tensor<64x16xi8>
  func.return
}

// -----

// Rmsnorm levels do not fit i8.
func.func @f(%x: tensor<16x64xi8>, %g: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.rmsnorm' produces values in [-32768, 32767], which do not fit the result element type i8
  %y = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 65536> : (tensor<16x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Layernorm weight shape.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<16x64xi32>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm' weight must have shape (64,), got (16, 64)
  %y = qtfm.layernorm %x, %w, %b, #qtfm.layernorm<shift = 8, levels = 256> : (tensor<16x64xi8>, tensor<16x64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Layernorm bias shape.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64xi32>, %b: tensor<16xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm' bias must have shape (64,), got (16,)
  %y = qtfm.layernorm %x, %w, %b, #qtfm.layernorm<shift = 8, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<16xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Layernorm result shape.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64xi32>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm' result shape must equal the input shape (16, 64)
  %y = qtfm.layernorm %x, %w, %b, #qtfm.layernorm<shift = 8, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<1x16x64xi8>
  func.return
}

// -----

// Layernorm levels do not fit i8.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64xi32>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm' produces values in [-256, 255], which do not fit the result element type i8
  %y = qtfm.layernorm %x, %w, %b, #qtfm.layernorm<shift = 8, levels = 512> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Layernorm of an i32 input (wider than 16 bits).
func.func @f(%x: tensor<16x64xi32>, %w: tensor<64xi32>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm' operands must be at most 16 bits wide, got i32
  %y = qtfm.layernorm %x, %w, %b, #qtfm.layernorm<shift = 8, levels = 256> : (tensor<16x64xi32>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Hardswish into i8.
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.hardswish' without requant accumulates into its result, which must be i32, got i8
  %y = qtfm.hardswish %x, #qtfm.hardswish<one_over_six = 43, six = 96, three = 48> : tensor<16x64xi8> -> tensor<16x64xi8>
  func.return
}

// -----

// Hardswish result shape.
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.hardswish' result shape must equal the input shape (16, 64), got (16, 32)
  %y = qtfm.hardswish %x, #qtfm.hardswish<one_over_six = 43, six = 96, three = 48> : tensor<16x64xi8> -> tensor<16x32xi32>
  func.return
}

// -----

// Hardswish into i64 (wider than 32 bits).
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.hardswish' results must be at most 32 bits wide, got i64
  %y = qtfm.hardswish %x, #qtfm.hardswish<one_over_six = 43, six = 96, three = 48> : tensor<16x64xi8> -> tensor<16x64xi64>
  func.return
}

// -----

// Hardswish of an i32 input (wider than 16 bits).
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.hardswish' operands must be at most 16 bits wide, got i32
  %y = qtfm.hardswish %x, #qtfm.hardswish<one_over_six = 43, six = 96, three = 48> : tensor<16x64xi32> -> tensor<16x64xi32>
  func.return
}

// -----

// Gelu into i16.
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.gelu' without requant accumulates into its result, which must be i32, got i16
  %y = qtfm.gelu %x, #qtfm.gelu<b = -226, one = 4096> : tensor<16x64xi8> -> tensor<16x64xi16>
  func.return
}

// -----

// Gelu result shape.
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.gelu' result shape must equal the input shape (16, 64), got (1, 16, 64)
  %y = qtfm.gelu %x, #qtfm.gelu<b = -226, one = 4096> : tensor<16x64xi8> -> tensor<1x16x64xi32>
  func.return
}

// -----

// Gelu of an i32 input (wider than 16 bits).
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.gelu' operands must be at most 16 bits wide, got i32
  %y = qtfm.gelu %x, #qtfm.gelu<b = -226, one = 4096> : tensor<16x64xi32> -> tensor<16x64xi32>
  func.return
}

// -----

// Div into ui32.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.div' without requant accumulates into its result, which must be i32, got ui32
  %y = qtfm.div %x, #qtfm.div<delta = 1024, eps = 1, eta = 3, y = 7> : tensor<16x64xi32> -> tensor<16x64xui32>
  func.return
}

// -----

// Div into i8.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.div' without requant accumulates into its result, which must be i32, got i8
  %y = qtfm.div %x, #qtfm.div<delta = 1024, eps = 1, eta = 3, y = 7> : tensor<16x64xi32> -> tensor<16x64xi8>
  func.return
}

// -----

// Div result shape.
func.func @f(%x: tensor<16x64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.div' result shape must equal the input shape (16, 64), got (16,)
  %y = qtfm.div %x, #qtfm.div<delta = 1024, eps = 1, eta = 3, y = 7> : tensor<16x64xi32> -> tensor<16xi32>
  func.return
}

// -----

// IntDiv operands that do not broadcast.
func.func @f(%a: tensor<16x64xi32>, %b: tensor<16x2xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.int_div' operand shapes (16, 64) and (16, 2) do not broadcast
  %y = qtfm.int_div %a, %b, #qtfm.int_div<delta = 65536, eps = 1, eta = 7> : (tensor<16x64xi32>, tensor<16x2xi32>) -> tensor<16x64xi32>
  func.return
}

// -----

// IntDiv result shape.
func.func @f(%a: tensor<16x64xi32>, %b: tensor<16x1xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.int_div' result shape must be (16, 64), got (16, 1)
  %y = qtfm.int_div %a, %b, #qtfm.int_div<delta = 65536, eps = 1, eta = 7> : (tensor<16x64xi32>, tensor<16x1xi32>) -> tensor<16x1xi32>
  func.return
}

// -----

// IntDiv into i8 (the quotient is an i32 accumulator).
func.func @f(%a: tensor<16x64xi32>, %b: tensor<16x1xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.int_div' without requant accumulates into its result, which must be i32, got i8
  %y = qtfm.int_div %a, %b, #qtfm.int_div<delta = 65536, eps = 1, eta = 7> : (tensor<16x64xi32>, tensor<16x1xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Truncating layernorm of a 16-bit input (Deeploy's kernel and the bounds are 8-bit).
func.func @f(%x: tensor<16x64xi16>, %w: tensor<64xi32>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm_trunc' operands must be at most 8 bits wide, got i16
  %y = qtfm.layernorm_trunc %x, %w, %b, #qtfm.layernorm<shift = 14, levels = 256> : (tensor<16x64xi16>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Truncating layernorm bias shape.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64xi32>, %b: tensor<1xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm_trunc' bias must have shape (64,), got (1,)
  %y = qtfm.layernorm_trunc %x, %w, %b, #qtfm.layernorm<shift = 14, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<1xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Truncating layernorm: levels beyond the result type.
func.func @f(%x: tensor<16x64xi8>, %w: tensor<64xi32>, %b: tensor<64xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm_trunc' produces values in [-256, 255], which do not fit the result element type i8
  %y = qtfm.layernorm_trunc %x, %w, %b, #qtfm.layernorm<shift = 14, levels = 512> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
  func.return
}

// -----

// Truncating layernorm of a 0-d input.
func.func @f(%x: tensor<i8>, %w: tensor<1xi32>, %b: tensor<1xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.layernorm_trunc' input must have rank >= 1
  %y = qtfm.layernorm_trunc %x, %w, %b, #qtfm.layernorm<shift = 14, levels = 256> : (tensor<i8>, tensor<1xi32>, tensor<1xi32>) -> tensor<i8>
  func.return
}

// -----

// ITA softmax of a 16-bit input.
func.func @f(%x: tensor<2x16x16xi16>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.ita_softmax' operands must be at most 8 bits wide, got i16
  %y = qtfm.ita_softmax %x : tensor<2x16x16xi16> -> tensor<2x16x16xui8>
  func.return
}

// -----

// ITA softmax into a signed i8 (the result is in [0, 255]).
func.func @f(%x: tensor<2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.ita_softmax' produces values in [0, 255], which do not fit the result element type i8
  %y = qtfm.ita_softmax %x : tensor<2x16x16xi8> -> tensor<2x16x16xi8>
  func.return
}

// -----

// ITA softmax result shape.
func.func @f(%x: tensor<2x16x16xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.ita_softmax' result shape must equal the input shape (2, 16, 16), got (2, 16)
  %y = qtfm.ita_softmax %x : tensor<2x16x16xi8> -> tensor<2x16xui8>
  func.return
}

// -----

// Transpose perm with a repeated index.
func.func @f(%x: tensor<16x2x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.transpose' perm [0, 0, 1] is not a permutation of 0..2
  %y = qtfm.transpose %x perm = array<i64: 0, 0, 1> : tensor<16x2x32xi8> -> tensor<16x16x2xi8>
  func.return
}

// -----

// Transpose perm of the wrong length.
func.func @f(%x: tensor<16x2x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.transpose' perm [1, 0] is not a permutation of 0..2
  %y = qtfm.transpose %x perm = array<i64: 1, 0> : tensor<16x2x32xi8> -> tensor<2x16x32xi8>
  func.return
}

// -----

// Transpose result shape.
func.func @f(%x: tensor<16x2x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.transpose' result shape must be (2, 16, 32), got (2, 32, 16)
  %y = qtfm.transpose %x perm = array<i64: 1, 0, 2> : tensor<16x2x32xi8> -> tensor<2x32x16xi8>
  func.return
}

// -----

// Transpose element type.
func.func @f(%x: tensor<16x2x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.transpose' operand element type i8 must match the result element type ui8
  %y = qtfm.transpose %x perm = array<i64: 1, 0, 2> : tensor<16x2x32xi8> -> tensor<2x16x32xui8>
  func.return
}

// -----

// Reshape element count.
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.reshape' cannot reshape 1024 elements (16, 64) into 512 elements (16, 2, 16)
  %y = qtfm.reshape %x : tensor<16x64xi8> -> tensor<16x2x16xi8>
  func.return
}

// -----

// Reshape element type.
func.func @f(%x: tensor<16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.reshape' operand element type i8 must match the result element type i32
  %y = qtfm.reshape %x : tensor<16x64xi8> -> tensor<16x2x32xi32>
  func.return
}

// -----

// Slice with too few starts.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' needs one start and stride per dimension of the rank-4 input, got 3 starts, 4 strides and a rank-4 result
  %y = qtfm.slice %x starts = array<i64: 0, 0, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
  func.return
}

// -----

// Slice result of another rank.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' needs one start and stride per dimension of the rank-4 input, got 4 starts, 4 strides and a rank-3 result
  %y = qtfm.slice %x starts = array<i64: 0, 0, 0, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<2x16x32xi8>
  func.return
}

// -----

// Slice with a zero stride.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' stride 0 in dimension 2 must be > 0
  %y = qtfm.slice %x starts = array<i64: 0, 0, 0, 0> strides = array<i64: 1, 1, 0, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
  func.return
}

// -----

// Slice with a negative stride.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' stride -1 in dimension 2 must be > 0
  %y = qtfm.slice %x starts = array<i64: 0, 0, 127, 0> strides = array<i64: 1, 1, -1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
  func.return
}

// -----

// Slice past the end.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' dimension 2: 16 elements from 120 by 1 leave the input's 128
  %y = qtfm.slice %x starts = array<i64: 0, 0, 120, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
  func.return
}

// -----

// Slice past the end with a stride.
func.func @f(%x: tensor<1x2x16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' dimension 3: 33 elements from 1 by 2 leave the input's 64
  %y = qtfm.slice %x starts = array<i64: 0, 0, 0, 1> strides = array<i64: 1, 1, 1, 2> : tensor<1x2x16x64xi8> -> tensor<1x2x16x33xi8>
  func.return
}

// -----

// Slice with a negative start.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' dimension 2: 16 elements from -1 by 1 leave the input's 128
  %y = qtfm.slice %x starts = array<i64: 0, 0, -1, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
  func.return
}

// -----

// Slice element type.
func.func @f(%x: tensor<1x2x128x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.slice' operand element type i8 must match the result element type ui8
  %y = qtfm.slice %x starts = array<i64: 0, 0, 0, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xui8>
  func.return
}

// -----

// Concat of nothing.
func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' needs at least one input
  %y = qtfm.concat {axis = 0 : i64} : () -> tensor<16x64xi8>
  func.return
}

// -----

// Concat axis out of range.
func.func @f(%a: tensor<16x32xi8>, %b: tensor<16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' axis 2 is out of range for rank 2
  %y = qtfm.concat %a, %b {axis = 2 : i64} : (tensor<16x32xi8>, tensor<16x32xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Concat negative axis.
func.func @f(%a: tensor<16x32xi8>, %b: tensor<16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' axis -1 is out of range for rank 2
  %y = qtfm.concat %a, %b {axis = -1 : i64} : (tensor<16x32xi8>, tensor<16x32xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Concat shapes differ outside the axis.
func.func @f(%a: tensor<16x32xi8>, %b: tensor<8x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' input shapes [(16, 32), (8, 32)] differ outside axis 1
  %y = qtfm.concat %a, %b {axis = 1 : i64} : (tensor<16x32xi8>, tensor<8x32xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Concat ranks differ.
func.func @f(%a: tensor<16x32xi8>, %b: tensor<1x16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' input shapes [(16, 32), (1, 16, 32)] differ outside axis 1
  %y = qtfm.concat %a, %b {axis = 1 : i64} : (tensor<16x32xi8>, tensor<1x16x32xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Concat result shape.
func.func @f(%a: tensor<16x32xi8>, %b: tensor<16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' result shape must be (32, 32), got (16, 64)
  %y = qtfm.concat %a, %b {axis = 0 : i64} : (tensor<16x32xi8>, tensor<16x32xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Concat element types.
func.func @f(%a: tensor<16x32xi8>, %b: tensor<16x32xui8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.concat' operand element type ui8 must match the result element type i8
  %y = qtfm.concat %a, %b {axis = 1 : i64} : (tensor<16x32xi8>, tensor<16x32xui8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Concat without axis (IRDL: missing property).
func.func @f(%a: tensor<16x32xi8>, %b: tensor<16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: property 'axis' expected in operation 'qtfm.concat'
  %y = qtfm.concat %a, %b : (tensor<16x32xi8>, tensor<16x32xi8>) -> tensor<16x64xi8>
  func.return
}

// -----

// Kv_append pos not 0-d.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<1xi32>, %u: tensor<1x2x16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' pos must be a 0-d integer tensor
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<1xi32>, tensor<1x2x16x32xi8>) -> tensor<1x2x128x32xi8>
  func.return
}

// -----

// Kv_append with an i64 position (wider than 32 bits).
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i64>, %u: tensor<1x2x16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' operands must be at most 32 bits wide, got i64
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i64>, tensor<1x2x16x32xi8>) -> tensor<1x2x128x32xi8>
  func.return
}

// -----

// Kv_append ranks differ.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %u: tensor<2x16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' needs cache and update of equal rank and an axis in range, got (1, 2, 128, 32), (2, 16, 32), axis 2
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<2x16x32xi8>) -> tensor<1x2x128x32xi8>
  func.return
}

// -----

// Kv_append axis out of range.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %u: tensor<1x2x16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' needs cache and update of equal rank and an axis in range, got (1, 2, 128, 32), (1, 2, 16, 32), axis 4
  %y = qtfm.kv_append %c[%pos], %u {axis = 4 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x32xi8>) -> tensor<1x2x128x32xi8>
  func.return
}

// -----

// Kv_append update longer than the cache.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %u: tensor<1x2x256x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' update shape (1, 2, 256, 32) does not fit cache (1, 2, 128, 32) along axis 2
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x256x32xi8>) -> tensor<1x2x128x32xi8>
  func.return
}

// -----

// Kv_append update differs off the axis.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %u: tensor<1x2x16x64xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' update shape (1, 2, 16, 64) does not fit cache (1, 2, 128, 32) along axis 2
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x64xi8>) -> tensor<1x2x128x32xi8>
  func.return
}

// -----

// Kv_append result type.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %u: tensor<1x2x16x32xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' result type must equal the cache type
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x32xi8>) -> tensor<1x2x144x32xi8>
  func.return
}

// -----

// Kv_append element types.
func.func @f(%c: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %u: tensor<1x2x16x32xi16>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.kv_append' operand element type i16 must match the result element type i8
  %y = qtfm.kv_append %c[%pos], %u {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x32xi16>) -> tensor<1x2x128x32xi8>
  func.return
}
