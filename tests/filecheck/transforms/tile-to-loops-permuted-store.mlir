// RUN: mote-opt %s -p tile-to-loops | filecheck %s

// A key projection split into heads and transposed ([5, 4] -> [5, 2, 2] -> [2, 2, 5]) is read
// only through the transposes: the linear stores each element straight into the transposed
// buffer (offsets by division and remainder per stored element), and neither the projection's
// own buffer nor the transpose copy remains.
// CHECK:      func.func @main(%x: memref<5x4xi8>, %w: memref<4x4xi8>, %q: memref<2x3x2xi8>, %s: memref<2x3x5xi32>)
// CHECK-NEXT:   %kt = tile.alloc #tile.mem<L2> : memref<2x2x5xi8>
// CHECK-NEXT:   func.call @main_0_linear_kt(%x, %w, %kt) : (memref<5x4xi8>, memref<4x4xi8>, memref<2x2x5xi8>) -> ()
// CHECK-NEXT:   func.call @main_2_matmul_s(%q, %kt, %s)
// CHECK-NEXT:   func.return
// CHECK-NOT:  transpose
// CHECK:      func.func private @main_0_linear_kt(%x: memref<5x4xi8>, %w: memref<4x4xi8>, %kt: memref<2x2x5xi8>)
// CHECK:        %[[FLAT:.*]] = tile.view %kt : memref<2x2x5xi8> to memref<20xi8>
// CHECK:        arith.divui
// CHECK:        arith.remui
// CHECK:        memref.store %{{.*}}, %[[FLAT]][%{{.*}}] : memref<20xi8>
builtin.module {
  func.func @main(%x: memref<5x4xi8>, %w: memref<4x4xi8>, %q: memref<2x3x2xi8>, %s: memref<2x3x5xi32>) attributes {mote.num_inputs = 3 : i64} {
    %k = tile.alloc #tile.mem<L2> : memref<5x4xi8>
    tile.kernel "qtfm.linear" ins(%x, %w : memref<5x4xi8>, memref<4x4xi8>) outs(%k : memref<5x4xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed>}
    %heads = tile.view %k : memref<5x4xi8> to memref<5x2x2xi8>
    %kt = tile.alloc #tile.mem<L2> : memref<2x2x5xi8>
    tile.kernel "qtfm.transpose" ins(%heads : memref<5x2x2xi8>) outs(%kt : memref<2x2x5xi8>) {perm = array<i64: 1, 2, 0>}
    tile.kernel "qtfm.matmul" ins(%q, %kt : memref<2x3x2xi8>, memref<2x2x5xi8>) outs(%s : memref<2x3x5xi32>)
    func.return
  }
}
