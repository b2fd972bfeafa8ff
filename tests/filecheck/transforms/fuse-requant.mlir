// RUN: mote-opt %s -p fuse-requant --split-input-file | filecheck %s

// A requant that is the accumulator's only user folds into the producer.
// CHECK-LABEL: func.func @matmul
// CHECK-NEXT:    %y = qtfm.matmul %a, %b requant #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed> : (tensor<2x16x8xi8>, tensor<2x8x16xi8>) -> tensor<2x16x16xi8>
// CHECK-NEXT:    func.return %y
func.func @matmul(%a: tensor<2x16x8xi8>, %b: tensor<2x8x16xi8>) -> tensor<2x16x16xi8> {
  %acc = qtfm.matmul %a, %b : (tensor<2x16x8xi8>, tensor<2x8x16xi8>) -> tensor<2x16x16xi32>
  %y = qtfm.requant %acc, #qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed> : tensor<2x16x16xi32> -> tensor<2x16x16xi8>
  func.return %y : tensor<2x16x16xi8>
}

// -----

// Per-channel parameters and unsigned clamps move with the attribute; add and mul fuse too.
// CHECK-LABEL: func.func @elementwise
// CHECK-NEXT:    %s = qtfm.add %a, %b requant #qtfm.requant<mul = [1, 2], add = [0, -3], shift = 1, levels = 256, unsigned, axis = 1> : (tensor<4x2xi8>, tensor<4x2xi8>) -> tensor<4x2xui8>
// CHECK-NEXT:    %p = qtfm.mul %a, %b requant #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 16, signed, rounding = floor> : (tensor<4x2xi8>, tensor<4x2xi8>) -> tensor<4x2xi8>
func.func @elementwise(%a: tensor<4x2xi8>, %b: tensor<4x2xi8>) -> (tensor<4x2xui8>, tensor<4x2xi8>) {
  %sum = qtfm.add %a, %b : (tensor<4x2xi8>, tensor<4x2xi8>) -> tensor<4x2xi32>
  %s = qtfm.requant %sum, #qtfm.requant<mul = [1, 2], add = [0, -3], shift = 1, levels = 256, unsigned, axis = 1> : tensor<4x2xi32> -> tensor<4x2xui8>
  %prod = qtfm.mul %a, %b : (tensor<4x2xi8>, tensor<4x2xi8>) -> tensor<4x2xi32>
  %p = qtfm.requant %prod, #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 16, signed, rounding = floor> : tensor<4x2xi32> -> tensor<4x2xi8>
  func.return %s, %p : tensor<4x2xui8>, tensor<4x2xi8>
}

// -----

// An accumulator with a second user stays: fusing would compute it twice.
// CHECK-LABEL: func.func @shared
// CHECK-NEXT:    %acc = qtfm.matmul %a, %b : (tensor<4x4xi8>, tensor<4x4xi8>) -> tensor<4x4xi32>
// CHECK-NEXT:    %y = qtfm.requant %acc
func.func @shared(%a: tensor<4x4xi8>, %b: tensor<4x4xi8>) -> (tensor<4x4xi8>, tensor<4x4xi32>) {
  %acc = qtfm.matmul %a, %b : (tensor<4x4xi8>, tensor<4x4xi8>) -> tensor<4x4xi32>
  %y = qtfm.requant %acc, #qtfm.requant<mul = 1, add = 0, shift = 2, levels = 256, signed> : tensor<4x4xi32> -> tensor<4x4xi8>
  func.return %y, %acc : tensor<4x4xi8>, tensor<4x4xi32>
}

// -----

// A requant of a value that is not an accumulator (here an input) is left alone.
// CHECK-LABEL: func.func @input
// CHECK-NEXT:    %y = qtfm.requant %x
func.func @input(%x: tensor<8xi32>) -> tensor<8xi8> {
  %y = qtfm.requant %x, #qtfm.requant<mul = 1, add = 0, shift = 2, levels = 256, signed> : tensor<8xi32> -> tensor<8xi8>
  func.return %y : tensor<8xi8>
}

// -----

// A linear layer without bias keeps its optional operand empty.
// CHECK-LABEL: func.func @linear_no_bias
// CHECK-NEXT:    %y = qtfm.linear %x, %w requant #qtfm.requant<mul = 3, add = 0, shift = 8, levels = 256, signed> : (tensor<4x8xi8>, tensor<8x2xi8>) -> tensor<4x2xi8>
func.func @linear_no_bias(%x: tensor<4x8xi8>, %w: tensor<8x2xi8>) -> tensor<4x2xi8> {
  %acc = qtfm.linear %x, %w : (tensor<4x8xi8>, tensor<8x2xi8>) -> tensor<4x2xi32>
  %y = qtfm.requant %acc, #qtfm.requant<mul = 3, add = 0, shift = 8, levels = 256, signed> : tensor<4x2xi32> -> tensor<4x2xi8>
  func.return %y : tensor<4x2xi8>
}
