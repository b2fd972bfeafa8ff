// RUN: mote-opt %s -p qtfm-to-tile | filecheck %s

// Row updates of a buffer at its last use happen in place: %x1 and %y live in %x's buffer
// and each tile's rows are computed straight into their place (a window of that buffer);
// no kv_append kernel and no copy remain. Contiguous slices are views of the buffer. The
// chain ends in the function's result, so the buffer is the output itself, from %x on.
// CHECK:      tile.kernel "qtfm.requant" ins(%in : memref<1x4x8xi8>) outs(%out0 : memref<1x4x8xi8>)
// CHECK:      tile.window %out0[%{{.*}}] : memref<1x4x8xi8> to memref<16xi8>
// CHECK:      %r0 = tile.view
// CHECK:      tile.kernel "qtfm.requant" ins(%{{.*}} : memref<1x2x8xi8>) outs(%r0 : memref<1x2x8xi8>)
// CHECK-NOT:  kv_append
// CHECK-NOT:  tile.alloc
// CHECK-NOT:  tile.copy
func.func @main(%in: tensor<1x4x8xi8>) -> tensor<1x4x8xi8> {
  %x = qtfm.requant %in, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed> : tensor<1x4x8xi8> -> tensor<1x4x8xi8>
  %s0 = qtfm.slice %x starts = array<i64: 0, 0, 0> strides = array<i64: 1, 1, 1> : tensor<1x4x8xi8> -> tensor<1x2x8xi8>
  %r0 = qtfm.requant %s0, #qtfm.requant<mul = 3, add = 0, shift = 1, levels = 256, signed> : tensor<1x2x8xi8> -> tensor<1x2x8xi8>
  %p0 = arith.constant dense<0> : tensor<i32>
  %x1 = qtfm.kv_append %x[%p0], %r0 {axis = 1 : i64} : (tensor<1x4x8xi8>, tensor<i32>, tensor<1x2x8xi8>) -> tensor<1x4x8xi8>
  %s1 = qtfm.slice %x1 starts = array<i64: 0, 2, 0> strides = array<i64: 1, 1, 1> : tensor<1x4x8xi8> -> tensor<1x2x8xi8>
  %r1 = qtfm.requant %s1, #qtfm.requant<mul = 3, add = 0, shift = 1, levels = 256, signed> : tensor<1x2x8xi8> -> tensor<1x2x8xi8>
  %p1 = arith.constant dense<2> : tensor<i32>
  %y = qtfm.kv_append %x1[%p1], %r1 {axis = 1 : i64} : (tensor<1x4x8xi8>, tensor<i32>, tensor<1x2x8xi8>) -> tensor<1x4x8xi8>
  func.return %y : tensor<1x4x8xi8>
}

// A softmax of the same type as its scores, at their last use, overwrites them (the runtime
// kernel reads a row whole before writing it): one buffer for both.
// CHECK:      func.func @softmax(%s: memref<2x8xi8>, %w: memref<8x8xi8>, %out0: memref<2x8xi16>)
// CHECK-NEXT:   %x = tile.alloc #tile.mem<L2> : memref<2x8xi16>
// CHECK-NEXT:   tile.kernel "qtfm.linear" ins(%s, %w : memref<2x8xi8>, memref<8x8xi8>) outs(%x : memref<2x8xi16>)
// CHECK-NEXT:   tile.kernel "qtfm.softmax" ins(%x : memref<2x8xi16>) outs(%x : memref<2x8xi16>)
// CHECK-NEXT:   tile.kernel "qtfm.requant" ins(%x : memref<2x8xi16>) outs(%out0 : memref<2x8xi16>)
func.func @softmax(%s: tensor<2x8xi8>, %w: tensor<8x8xi8>) -> tensor<2x8xi16> {
  %x = qtfm.linear %s, %w requant #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 65536, signed> : (tensor<2x8xi8>, tensor<8x8xi8>) -> tensor<2x8xi16>
  %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 8093, coeff_c = 34332632, log2 = 4146, levels = 32768> : tensor<2x8xi16> -> tensor<2x8xi16>
  %y = qtfm.requant %p, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 65536, signed> : tensor<2x8xi16> -> tensor<2x8xi16>
  func.return %y : tensor<2x8xi16>
}
