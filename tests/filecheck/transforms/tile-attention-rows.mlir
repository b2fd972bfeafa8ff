// RUN: mote-opt %s --split-input-file -p 'tile-attention-rows{rows=2}' | filecheck %s

// softmax(Q K^T) V head by head (Q, K^T and V sliced per head), then on 5 query rows in
// tiles of 2, 2 and 1 rows: Q and the causal mask are sliced by rows, the head's K^T and V are
// used whole by every tile, the context rows are concatenated per head, then the heads.
// The 5 x 5 score matrix is never formed.
// CHECK:      func.func @attention
// CHECK-NEXT:   %[[Q0:.*]] = qtfm.slice %q starts = array<i64: 0, 0, 0, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x5x4xi8> -> tensor<1x1x5x4xi8>
// CHECK-NEXT:   %[[K0:.*]] = qtfm.slice %kt starts = array<i64: 0, 0, 0, 0> {{.*}} -> tensor<1x1x4x5xi8>
// CHECK-NEXT:   %[[V0:.*]] = qtfm.slice %v starts = array<i64: 0, 0, 0, 0> {{.*}} -> tensor<1x1x5x4xi8>
// CHECK-NEXT:   %[[QT:.*]] = qtfm.slice %[[Q0]] starts = array<i64: 0, 0, 0, 0> {{.*}} -> tensor<1x1x2x4xi8>
// CHECK-NEXT:   %[[M:.*]] = qtfm.slice %mask starts = array<i64: 0, 0, 0, 0> {{.*}} : tensor<1x1x5x5xi8> -> tensor<1x1x2x5xi8>
// CHECK-NEXT:   %s_r0_r0 = qtfm.matmul %[[QT]], %[[K0]] requant {{.*}} : (tensor<1x1x2x4xi8>, tensor<1x1x4x5xi8>) -> tensor<1x1x2x5xi8>
// CHECK-NEXT:   %p_r0_r0 = qtfm.softmax %s_r0_r0, {{.*}} mask(%[[M]] : tensor<1x1x2x5xi8>) : tensor<1x1x2x5xi8> -> tensor<1x1x2x5xui8>
// CHECK-NEXT:   %c_r0_r0 = qtfm.matmul %p_r0_r0, %[[V0]] requant {{.*}} -> tensor<1x1x2x4xi8>
// CHECK:        %c_r0_r4 = qtfm.matmul {{.*}} -> tensor<1x1x1x4xi8>
// CHECK-NEXT:   %c_r0 = qtfm.concat %c_r0_r0, %c_r0_r2, %c_r0_r4 {axis = 2 : i64} : (tensor<1x1x2x4xi8>, tensor<1x1x2x4xi8>, tensor<1x1x1x4xi8>) -> tensor<1x1x5x4xi8>
// CHECK:        %c_r1 = qtfm.concat %c_r1_r0, %c_r1_r2, %c_r1_r4 {axis = 2 : i64}
// CHECK-NEXT:   %c = qtfm.concat %c_r0, %c_r1 {axis = 1 : i64} : (tensor<1x1x5x4xi8>, tensor<1x1x5x4xi8>) -> tensor<1x2x5x4xi8>
// CHECK-NEXT:   func.return %c
func.func @attention(%q: tensor<1x2x5x4xi8>, %kt: tensor<1x2x4x5xi8>, %v: tensor<1x2x5x4xi8>, %mask: tensor<1x1x5x5xi8>) -> tensor<1x2x5x4xi8> {
  %s = qtfm.matmul %q, %kt requant #qtfm.requant<mul = 1, add = 0, shift = 2, levels = 256, signed> : (tensor<1x2x5x4xi8>, tensor<1x2x4x5xi8>) -> tensor<1x2x5x5xi8>
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 1, coeff_b = 173, coeff_c = 15599, log2 = 127, levels = 256> mask(%mask : tensor<1x1x5x5xi8>) : tensor<1x2x5x5xi8> -> tensor<1x2x5x5xui8>
  %c = qtfm.matmul %p, %v requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<1x2x5x5xui8>, tensor<1x2x5x4xi8>) -> tensor<1x2x5x4xi8>
  func.return %c : tensor<1x2x5x4xi8>
}

// -----

// A score matrix needed elsewhere (here returned) is not tiled.
// CHECK-LABEL: func.func @shared_scores
// CHECK-NOT:   qtfm.slice
// CHECK-NOT:   qtfm.concat
func.func @shared_scores(%q: tensor<1x5x4xi8>, %kt: tensor<1x4x5xi8>, %v: tensor<1x5x4xi8>) -> (tensor<1x5x4xi8>, tensor<1x5x5xi8>) {
  %s = qtfm.matmul %q, %kt requant #qtfm.requant<mul = 1, add = 0, shift = 2, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<1x4x5xi8>) -> tensor<1x5x5xi8>
  %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 1, coeff_b = 173, coeff_c = 15599, log2 = 127, levels = 256> : tensor<1x5x5xi8> -> tensor<1x5x5xui8>
  %c = qtfm.matmul %p, %v requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<1x5x5xui8>, tensor<1x5x4xi8>) -> tensor<1x5x4xi8>
  func.return %c, %s : tensor<1x5x4xi8>, tensor<1x5x5xi8>
}
