// RUN: mote-opt < %s | filecheck %s
// RUN: mote-opt --print-op-generic < %s | mote-opt | filecheck %s

// With no input file, mote-opt reads the program from stdin.

func.func @stdin(%x: tensor<16x64xi32>) -> tensor<16x64xi8> {
  %y = qtfm.requant %x, #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed> : tensor<16x64xi32> -> tensor<16x64xi8>
  func.return %y : tensor<16x64xi8>
}

// CHECK:      builtin.module {
// CHECK-NEXT:   func.func @stdin(%x: tensor<16x64xi32>) -> tensor<16x64xi8> {
// CHECK-NEXT:     %y = qtfm.requant %x, #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed> : tensor<16x64xi32> -> tensor<16x64xi8>
// CHECK-NEXT:     func.return %y : tensor<16x64xi8>
// CHECK-NEXT:   }
// CHECK-NEXT: }
