// RUN: mote-opt %s -p 'tile-layer-rows{rows=2}' | filecheck %s

// A one-head layer on 4 rows in tiles of 2: the key and value projections (and the key's
// transpose) need every row and stay whole; everything else (query, scores, softmax,
// context, output projection, residual) runs per tile of X's rows. The output has X's type,
// so it is written over X a tile at a time (row updates that bufferization does in place);
// each tile reads its rows from the latest version, where they are still X's.
// CHECK:      func.func @layer
// CHECK:        %k = qtfm.linear %x, %wk
// CHECK:        %v = qtfm.linear %x, %wv
// CHECK:        %kt = qtfm.transpose %k
// CHECK-NEXT:   %[[X0:.*]] = qtfm.slice %x starts = array<i64: 0, 0, 0> strides = array<i64: 1, 1, 1> : tensor<1x4x8xi8> -> tensor<1x2x8xi8>
// CHECK-NEXT:   %q_r0 = qtfm.linear %[[X0]], %wq {{.*}} -> tensor<1x2x8xi8>
// CHECK-NEXT:   %s_r0 = qtfm.matmul %q_r0, %kt {{.*}} : (tensor<1x2x8xi8>, tensor<1x8x4xi8>) -> tensor<1x2x4xi8>
// CHECK-NEXT:   %p_r0 = qtfm.softmax %s_r0
// CHECK-NEXT:   %c_r0 = qtfm.matmul %p_r0, %v
// CHECK-NEXT:   %o_r0 = qtfm.linear %c_r0, %wo
// CHECK-NEXT:   %y_r0 = qtfm.add %o_r0, %[[X0]]
// CHECK-NEXT:   %[[P0:.*]] = arith.constant dense<0> : tensor<i32>
// CHECK-NEXT:   %[[X1:.*]] = qtfm.kv_append %x[%[[P0]]], %y_r0 {axis = 1 : i64} : (tensor<1x4x8xi8>, tensor<i32>, tensor<1x2x8xi8>) -> tensor<1x4x8xi8>
// CHECK-NEXT:   %[[X1R:.*]] = qtfm.slice %[[X1]] starts = array<i64: 0, 2, 0>
// CHECK:        %y = qtfm.kv_append %[[X1]][%{{.*}}], %y_r2 {axis = 1 : i64}
// CHECK-NEXT:   func.return %y
func.func @layer(%x: tensor<1x4x8xi8>) -> tensor<1x4x8xi8> {
  %wq = qtfm.weight "wq" : tensor<8x8xi8>
  %wk = qtfm.weight "wk" : tensor<8x8xi8>
  %wv = qtfm.weight "wv" : tensor<8x8xi8>
  %wo = qtfm.weight "wo" : tensor<8x8xi8>
  %q = qtfm.linear %x, %wq requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x4x8xi8>, tensor<8x8xi8>) -> tensor<1x4x8xi8>
  %k = qtfm.linear %x, %wk requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x4x8xi8>, tensor<8x8xi8>) -> tensor<1x4x8xi8>
  %v = qtfm.linear %x, %wv requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x4x8xi8>, tensor<8x8xi8>) -> tensor<1x4x8xi8>
  %kt = qtfm.transpose %k perm = array<i64: 0, 2, 1> : tensor<1x4x8xi8> -> tensor<1x8x4xi8>
  %s = qtfm.matmul %q, %kt requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x4x8xi8>, tensor<1x8x4xi8>) -> tensor<1x4x4xi8>
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 1, coeff_b = 173, coeff_c = 15599, log2 = 127, levels = 256> : tensor<1x4x4xi8> -> tensor<1x4x4xui8>
  %c = qtfm.matmul %p, %v requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<1x4x4xui8>, tensor<1x4x8xi8>) -> tensor<1x4x8xi8>
  %o = qtfm.linear %c, %wo requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x4x8xi8>, tensor<8x8xi8>) -> tensor<1x4x8xi8>
  %y = qtfm.add %o, %x requant #qtfm.requant<mul = 1, add = 0, shift = 1, levels = 256, signed> : (tensor<1x4x8xi8>, tensor<1x4x8xi8>) -> tensor<1x4x8xi8>
  func.return %y : tensor<1x4x8xi8>
}
