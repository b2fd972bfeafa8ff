// RUN: not mote-opt %s 2> %t.err
// RUN: filecheck %s --input-file=%t.err
// RUN: not mote-opt < %s 2>&1 | filecheck %s --check-prefix=STDIN

// A syntax error is one located message on stderr and a non-zero exit, never a traceback.
// The result type of the reshape is missing; the parser notices at the next token.

// CHECK-NOT:  Traceback
// STDIN-NOT:  Traceback
func.func @malformed(%x: tensor<16x64xi8>) -> tensor<16x64xi8> {
  %y = qtfm.reshape %x : tensor<16x64xi8> ->
  // CHECK:      error: {{.*}}malformed.mlir:[[# @LINE + 5]]:3
  // CHECK-NEXT:   func.return %y : tensor<16x64xi8>
  // CHECK-NEXT:   ^^^^^^^^^^^
  // CHECK-NEXT:   type expected
  // STDIN:      error: stdin:[[# @LINE + 1]]:3
  func.return %y : tensor<16x64xi8>
}
// CHECK-NOT:  Traceback
// STDIN:      type expected
// STDIN-NOT:  Traceback
