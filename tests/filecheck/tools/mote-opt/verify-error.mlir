// RUN: not mote-opt %s 2> %t.err
// RUN: filecheck %s --input-file=%t.err
// RUN: not mote-opt < %s 2>&1 | filecheck %s --check-prefix=STDIN

// A verifier error names the failing op with file:line:col and prints that op alone
// (generic form), not the whole module; the exit status is non-zero.

// CHECK-NOT:  Traceback
// CHECK-NOT:  qtfm.weight
// CHECK-NOT:  func.func
// STDIN-NOT:  Traceback
func.func @verify_error(%x: tensor<16x64xi8>) -> tensor<16x64xi8> {
  %w = qtfm.weight "l0.wq" : tensor<64x64xi8>
  // CHECK:      verify-error.mlir:[[# @LINE + 3]]:3: error: 'qtfm.reshape' cannot reshape 1024 elements (16, 64) into 512 elements (16, 2, 16)
  // CHECK-NEXT:   %y = "qtfm.reshape"(%x) : (tensor<16x64xi8>) -> tensor<16x2x16xi8>
  // STDIN:      stdin:[[# @LINE + 1]]:3: error: 'qtfm.reshape' cannot reshape
  %y = qtfm.reshape %x : tensor<16x64xi8> -> tensor<16x2x16xi8>
  func.return %x : tensor<16x64xi8>
}
// CHECK-NOT:  qtfm.weight
// CHECK-NOT:  func.return
// CHECK-NOT:  Traceback
// STDIN-NOT:  Traceback
