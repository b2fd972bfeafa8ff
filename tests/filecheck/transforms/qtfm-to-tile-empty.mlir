// RUN: mote-opt %s -p qtfm-to-tile | filecheck %s

// Scores assembled column block by column block (as K/V recomputation does): qtfm.empty is a
// buffer with no kernel, and each kv_append of columns (not one contiguous run) is a kernel
// that copies its piece into that same buffer: one 1x2x4 buffer, no copy of the whole.
// CHECK:      func.func @columns
// CHECK-NEXT:   %[[S:.*]] = tile.alloc #tile.mem<L2> : memref<1x2x4xi8>
// CHECK-NEXT:   tile.constant
// CHECK-NEXT:   tile.kernel "qtfm.kv_append" ins(%[[S]], {{.*}}) outs(%[[S]] : memref<1x2x4xi8>)
// CHECK-NEXT:   tile.constant
// CHECK-NEXT:   tile.kernel "qtfm.kv_append" ins(%[[S]], {{.*}}) outs(%[[S]] : memref<1x2x4xi8>)
// CHECK-NEXT:   tile.kernel "qtfm.requant" ins(%[[S]]
func.func @columns(%a: tensor<1x2x3xi8>, %b: tensor<1x2x1xi8>) -> tensor<1x2x4xi8> {
  %e = qtfm.empty : tensor<1x2x4xi8>
  %p0 = arith.constant dense<0> : tensor<i32>
  %s0 = qtfm.kv_append %e[%p0], %a {axis = 2 : i64} : (tensor<1x2x4xi8>, tensor<i32>, tensor<1x2x3xi8>) -> tensor<1x2x4xi8>
  %p3 = arith.constant dense<3> : tensor<i32>
  %s1 = qtfm.kv_append %s0[%p3], %b {axis = 2 : i64} : (tensor<1x2x4xi8>, tensor<i32>, tensor<1x2x1xi8>) -> tensor<1x2x4xi8>
  %r = qtfm.requant %s1, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed> : tensor<1x2x4xi8> -> tensor<1x2x4xi8>
  func.return %r : tensor<1x2x4xi8>
}
