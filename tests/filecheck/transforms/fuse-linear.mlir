// RUN: mote-opt %s -p fuse-linear --split-input-file | filecheck %s

// matmul by a 2-D weight plus a bias weight of N values is a linear layer (either order).
// CHECK-LABEL: func.func @projection
// CHECK:         %y = qtfm.linear %x, %w, %b : (tensor<16x64xi8>, tensor<64x32xi8>, tensor<32xi16>) -> tensor<16x32xi32>
// CHECK-NEXT:    %z = qtfm.linear %x, %w, %b : (tensor<16x64xi8>, tensor<64x32xi8>, tensor<32xi16>) -> tensor<16x32xi32>
// CHECK-NOT:     qtfm.matmul
func.func @projection(%x: tensor<16x64xi8>) -> (tensor<16x32xi32>, tensor<16x32xi32>) {
  %w = qtfm.weight "w" : tensor<64x32xi8>
  %b = qtfm.weight "b" : tensor<32xi16>
  %acc = qtfm.matmul %x, %w : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  %y = qtfm.add %b, %acc : (tensor<32xi16>, tensor<16x32xi32>) -> tensor<16x32xi32>
  %acc2 = qtfm.matmul %x, %w : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  %z = qtfm.add %acc2, %b : (tensor<16x32xi32>, tensor<32xi16>) -> tensor<16x32xi32>
  func.return %y, %z : tensor<16x32xi32>, tensor<16x32xi32>
}

// -----

// Not a bias: a full-shape addend, an activation weight operand, or a requantized add.
// CHECK-LABEL: func.func @not_linear
// CHECK-COUNT-3: qtfm.matmul
// CHECK-NOT:     qtfm.linear
func.func @not_linear(%x: tensor<16x64xi8>, %v: tensor<64x32xi8>, %c: tensor<16x32xi32>) -> (tensor<16x32xi32>, tensor<16x32xi32>, tensor<16x32xi8>) {
  %w = qtfm.weight "w" : tensor<64x32xi8>
  %b = qtfm.weight "b" : tensor<32xi16>
  %a1 = qtfm.matmul %x, %w : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  %y1 = qtfm.add %a1, %c : (tensor<16x32xi32>, tensor<16x32xi32>) -> tensor<16x32xi32>
  %a2 = qtfm.matmul %x, %v : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  %y2 = qtfm.add %a2, %b : (tensor<16x32xi32>, tensor<32xi16>) -> tensor<16x32xi32>
  %a3 = qtfm.matmul %x, %w : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  %y3 = qtfm.add %a3, %b requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<16x32xi32>, tensor<32xi16>) -> tensor<16x32xi8>
  func.return %y1, %y2, %y3 : tensor<16x32xi32>, tensor<16x32xi32>, tensor<16x32xi8>
}
