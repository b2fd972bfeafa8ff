// RUN: mote-opt %s -p qtfm-to-tile | filecheck %s

// Tensors become buffers: weights stay named, intermediate results get an L2 buffer, a returned
// result is computed straight into its output argument, a reshape is a view, and values that
// cannot be written in place (a view, an input) are copied to their outputs.
// CHECK:      func.func @main(%x: memref<4x8xi8>, %out0: memref<32xi8>, %out1: memref<4x8xi8>, %out2: memref<4x8xi8>) attributes {mote.num_inputs = 1 : i64} {
// CHECK-NEXT:   %w = tile.weight "l0.w" : memref<8x8xi8>
// CHECK-NEXT:   tile.kernel "qtfm.linear" ins(%x, %w : memref<4x8xi8>, memref<8x8xi8>) outs(%out1 : memref<4x8xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed>}
// CHECK-NEXT:   %z = tile.alloc #tile.mem<L2> : memref<4x8xi8>
// CHECK-NEXT:   tile.kernel "qtfm.add" ins(%out1, %x : memref<4x8xi8>, memref<4x8xi8>) outs(%z : memref<4x8xi8>)
// CHECK-NEXT:   %r = tile.view %z : memref<4x8xi8> to memref<32xi8>
// CHECK-NEXT:   tile.copy %r, %out0 : memref<32xi8>, memref<32xi8>
// CHECK-NEXT:   tile.copy %x, %out2 : memref<4x8xi8>, memref<4x8xi8>
// CHECK-NEXT:   func.return
builtin.module attributes {qtfm.weights = "w.npz"} {
  func.func @main(%x: tensor<4x8xi8>) -> (tensor<32xi8>, tensor<4x8xi8>, tensor<4x8xi8>) {
    %w = qtfm.weight "l0.w" : tensor<8x8xi8>
    %y = qtfm.linear %x, %w requant #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed> : (tensor<4x8xi8>, tensor<8x8xi8>) -> tensor<4x8xi8>
    %z = qtfm.add %y, %x requant #qtfm.requant<mul = 1, add = 0, shift = 1, levels = 256, signed> : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi8>
    %r = qtfm.reshape %z : tensor<4x8xi8> -> tensor<32xi8>
    func.return %r, %y, %x : tensor<32xi8>, tensor<4x8xi8>, tensor<4x8xi8>
  }
}
