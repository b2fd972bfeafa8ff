// RUN: mote-opt %s -p 'tile-embedding-rows{rows=2}' | filecheck %s

// A clustered embedding lookup is row-wise in its ids like a plain one (its tables are read
// whole by every tile): the lookup and the norm after it run on 2, 2 and 1 of the 5 ids.
// CHECK:      func.func @embed
// CHECK:        %[[I0:.*]] = qtfm.slice %ids starts = array<i64: 0, 0> strides = array<i64: 1, 1> : tensor<1x5xi32> -> tensor<1x2xi32>
// CHECK-NEXT:   %e_r0 = qtfm.clustered_embedding %[[I0]], %c, %o, %a, %b {{.*}} : (tensor<1x2xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<1x2x4xi8>
// CHECK-NEXT:   %x_r0 = qtfm.layernorm %e_r0, {{.*}} -> tensor<1x2x4xi8>
// CHECK:        %e_r4 = qtfm.clustered_embedding {{.*}} -> tensor<1x1x4xi8>
// CHECK:        %x = qtfm.concat %x_r0, %x_r2, %x_r4 {axis = 1 : i64}
// CHECK-NEXT:   %k = qtfm.linear %x, %wk
func.func @embed(%ids: tensor<1x5xi32>) -> tensor<1x5x5xi32> {
  %c = qtfm.weight "e.clusters" : tensor<10xui8>
  %o = qtfm.weight "e.offsets" : tensor<3xi32>
  %a = qtfm.weight "e.coefficients" : tensor<20xi8>
  %b = qtfm.weight "e.bases" : tensor<3x4xi8>
  %gamma = qtfm.weight "gamma" : tensor<4xi32>
  %beta = qtfm.weight "beta" : tensor<4xi32>
  %wk = qtfm.weight "wk" : tensor<4x4xi8>
  %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<1x5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<1x5x4xi8>
  %x = qtfm.layernorm %e, %gamma, %beta, #qtfm.layernorm<shift = 16, levels = 256> : (tensor<1x5x4xi8>, tensor<4xi32>, tensor<4xi32>) -> tensor<1x5x4xi8>
  %k = qtfm.linear %x, %wk requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<4x4xi8>) -> tensor<1x5x4xi8>
  %kt = qtfm.transpose %k perm = array<i64: 0, 2, 1> : tensor<1x5x4xi8> -> tensor<1x4x5xi8>
  %q = qtfm.linear %x, %wk requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<4x4xi8>) -> tensor<1x5x4xi8>
  %scores = qtfm.matmul %q, %kt : (tensor<1x5x4xi8>, tensor<1x4x5xi8>) -> tensor<1x5x5xi32>
  func.return %scores : tensor<1x5x5xi32>
}
