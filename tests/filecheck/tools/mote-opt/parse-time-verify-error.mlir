// RUN: not mote-opt %s 2> %t.err
// RUN: filecheck %s --input-file=%t.err

// KNOWN BUG: in the custom syntax, xDSL's declarative assembly format checks the operand
// and result type constraints while parsing and raises a VerifyException (not a
// ParseError). mote-opt then prints the bare constraint message, with no file:line:col and
// no op name ("f32 should be of base attribute integer_type"). The generic form of the
// same op is reported correctly (see dialects/qtfm/invalid.mlir). Once LocatingParser
// turns such exceptions into located errors this test passes, lit reports it as XPASS

// CHECK-NOT:  Traceback
func.func @f32_weight() {
  // CHECK:      parse-time-verify-error.mlir:[[# @LINE + 2]]:{{[0-9]+}}
  // CHECK:      f32 should be of base attribute integer_type
  %w = qtfm.weight "l0.wq" : tensor<64x64xf32>
  func.return
}
// CHECK-NOT:  Traceback
