// RUN: mote-opt %s -p 'tile-layer-rows{rows=2 recompute_kv=3}' | filecheck %s

// The one-head layer of tile-layer-rows.mlir with K and V recomputed per key tile (3 + 1
// rows) in every query tile (2 + 2 rows): the whole key/value projections are gone; each
// query tile's scores are assembled from Q_t . K_j^T over key tiles, each piece written into
// its columns of one buffer (qtfm.empty, then kv_append updates) as soon as it is computed;
// its context is the int32 sum over key tiles of P_t[:, j] . V_j, requantized once. X stays whole (later tiles
// recompute K and V from it), so the output is concatenated, not written over X.
// CHECK:      func.func @layer
// CHECK-NOT:    qtfm.linear %x,
// CHECK:        %[[X0:.*]] = qtfm.slice %x starts = array<i64: 0, 0, 0> {{.*}} -> tensor<1x2x8xi8>
// CHECK-NEXT:   %q_r0 = qtfm.linear %[[X0]], %wq
// CHECK-NEXT:   %[[E:.*]] = qtfm.empty : tensor<1x2x4xi8>
// CHECK-NEXT:   %[[K0:.*]] = qtfm.slice %x starts = array<i64: 0, 0, 0> {{.*}} -> tensor<1x3x8xi8>
// CHECK-NEXT:   %k_r0 = qtfm.linear %[[K0]], %wk {{.*}} -> tensor<1x3x8xi8>
// CHECK-NEXT:   %kt_r0 = qtfm.transpose %k_r0 {{.*}} -> tensor<1x8x3xi8>
// CHECK-NEXT:   %[[S0:.*]] = qtfm.matmul %q_r0, %kt_r0 requant {{.*}} -> tensor<1x2x3xi8>
// CHECK-NEXT:   %[[AT0:.*]] = arith.constant dense<0> : tensor<i32>
// CHECK-NEXT:   %[[E0:.*]] = qtfm.kv_append %[[E]][%[[AT0]]], %[[S0]] {axis = 2 : i64}
// CHECK-NEXT:   %[[K3:.*]] = qtfm.slice %x starts = array<i64: 0, 3, 0> {{.*}} -> tensor<1x1x8xi8>
// CHECK-NEXT:   %k_r3 = qtfm.linear %[[K3]], %wk
// CHECK-NEXT:   %kt_r3 = qtfm.transpose %k_r3
// CHECK-NEXT:   %[[S3:.*]] = qtfm.matmul %q_r0, %kt_r3 requant {{.*}} -> tensor<1x2x1xi8>
// CHECK-NEXT:   %[[AT3:.*]] = arith.constant dense<3> : tensor<i32>
// CHECK-NEXT:   %s_r0 = qtfm.kv_append %[[E0]][%[[AT3]]], %[[S3]] {axis = 2 : i64} : (tensor<1x2x4xi8>, tensor<i32>, tensor<1x2x1xi8>) -> tensor<1x2x4xi8>
// CHECK-NEXT:   %p_r0 = qtfm.softmax %s_r0
// CHECK-NEXT:   %[[V0IN:.*]] = qtfm.slice %x starts = array<i64: 0, 0, 0> {{.*}} -> tensor<1x3x8xi8>
// CHECK-NEXT:   %v_r0 = qtfm.linear %[[V0IN]], %wv
// CHECK-NEXT:   %[[P0:.*]] = qtfm.slice %p_r0 starts = array<i64: 0, 0, 0> {{.*}} -> tensor<1x2x3xui8>
// CHECK-NEXT:   %[[C0:.*]] = qtfm.matmul %[[P0]], %v_r0 : (tensor<1x2x3xui8>, tensor<1x3x8xi8>) -> tensor<1x2x8xi32>
// CHECK-NEXT:   %[[V3IN:.*]] = qtfm.slice %x starts = array<i64: 0, 3, 0>
// CHECK-NEXT:   %v_r3 = qtfm.linear %[[V3IN]], %wv
// CHECK-NEXT:   %[[P3:.*]] = qtfm.slice %p_r0 starts = array<i64: 0, 0, 3> {{.*}} -> tensor<1x2x1xui8>
// CHECK-NEXT:   %[[C3:.*]] = qtfm.matmul %[[P3]], %v_r3 : (tensor<1x2x1xui8>, tensor<1x1x8xi8>) -> tensor<1x2x8xi32>
// CHECK-NEXT:   %[[SUM:.*]] = qtfm.add %[[C0]], %[[C3]] : (tensor<1x2x8xi32>, tensor<1x2x8xi32>) -> tensor<1x2x8xi32>
// CHECK-NEXT:   %c_r0 = qtfm.requant %[[SUM]], #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed>
// CHECK-NEXT:   %o_r0 = qtfm.linear %c_r0, %wo
// CHECK-NEXT:   %y_r0 = qtfm.add %o_r0, %[[X0]]
// CHECK-NEXT:   %[[X2:.*]] = qtfm.slice %x starts = array<i64: 0, 2, 0>
// CHECK-NEXT:   %q_r2 = qtfm.linear %[[X2]], %wq
// CHECK:        %y = qtfm.concat %y_r0, %y_r2 {axis = 1 : i64}
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
