// RUN: mote-opt %s -p 'tile-embedding-rows{rows=2}' | filecheck %s

// The embedding stage (lookup, position constant added, norm) runs on 2, 2 and 1 ids of the
// 5: only tiles of the 16-bit sum exist, each tile's norm output goes into its rows of the
// concatenation. The layer after it (a key projection read by an attention product) needs
// its input whole and stays as it is.
// CHECK:      func.func @embed
// CHECK:        %[[I0:.*]] = qtfm.slice %ids starts = array<i64: 0, 0> strides = array<i64: 1, 1> : tensor<1x5xi32> -> tensor<1x2xi32>
// CHECK-NEXT:   %[[P0:.*]] = qtfm.slice %pos starts = array<i64: 0, 0, 0> strides = array<i64: 1, 1, 1> : tensor<1x5x4xi16> -> tensor<1x2x4xi16>
// CHECK-NEXT:   %e_r0 = qtfm.embedding %table[%[[I0]]] : (tensor<10x4xi8>, tensor<1x2xi32>) -> tensor<1x2x4xi8>
// CHECK-NEXT:   %s_r0 = qtfm.add %e_r0, %[[P0]] {{.*}} -> tensor<1x2x4xi16>
// CHECK-NEXT:   %x_r0 = qtfm.layernorm %s_r0, {{.*}} -> tensor<1x2x4xi8>
// CHECK:        %x_r4 = qtfm.layernorm {{.*}} -> tensor<1x1x4xi8>
// CHECK-NEXT:   %x = qtfm.concat %x_r0, %x_r2, %x_r4 {axis = 1 : i64}
// CHECK-NEXT:   %k = qtfm.linear %x, %wk
func.func @embed(%ids: tensor<1x5xi32>) -> tensor<1x5x5xi32> {
  %table = qtfm.weight "table" : tensor<10x4xi8>
  %pos = qtfm.weight "pos" : tensor<1x5x4xi16>
  %gamma = qtfm.weight "gamma" : tensor<4xi32>
  %beta = qtfm.weight "beta" : tensor<4xi32>
  %wk = qtfm.weight "wk" : tensor<4x4xi8>
  %e = qtfm.embedding %table[%ids] : (tensor<10x4xi8>, tensor<1x5xi32>) -> tensor<1x5x4xi8>
  %s = qtfm.add %e, %pos requant #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 65536, signed> : (tensor<1x5x4xi8>, tensor<1x5x4xi16>) -> tensor<1x5x4xi16>
  %x = qtfm.layernorm %s, %gamma, %beta, #qtfm.layernorm<shift = 16, levels = 256> : (tensor<1x5x4xi16>, tensor<4xi32>, tensor<4xi32>) -> tensor<1x5x4xi8>
  %k = qtfm.linear %x, %wk requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<4x4xi8>) -> tensor<1x5x4xi8>
  %kt = qtfm.transpose %k perm = array<i64: 0, 2, 1> : tensor<1x5x4xi8> -> tensor<1x4x5xi8>
  %q = qtfm.linear %x, %wk requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<4x4xi8>) -> tensor<1x5x4xi8>
  %scores = qtfm.matmul %q, %kt : (tensor<1x5x4xi8>, tensor<1x4x5xi8>) -> tensor<1x5x5xi32>
  func.return %scores : tensor<1x5x5xi32>
}
