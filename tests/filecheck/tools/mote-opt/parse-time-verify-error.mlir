// RUN: not mote-opt %s 2> %t.err
// RUN: filecheck %s --input-file=%t.err

// In the custom syntax, xDSL's declarative assembly format checks operand and result type
// constraints while parsing and raises a VerifyException rather than a ParseError;
// LocatingParser turns it into a located error naming the line of the op.

// CHECK-NOT:  Traceback
func.func @f32_weight() {
  // CHECK:      parse-time-verify-error.mlir:[[# @LINE + 2]]:{{[0-9]+}}
  // CHECK:      f32 should be of base attribute integer_type
  %w = qtfm.weight "l0.wq" : tensor<64x64xf32>
  func.return
}
// CHECK-NOT:  Traceback
