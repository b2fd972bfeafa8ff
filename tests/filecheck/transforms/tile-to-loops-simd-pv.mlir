// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' | filecheck %s
// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp},plan-memory' -t c | filecheck %s --check-prefix=C

// Attention's P.V with 16-bit probabilities: V (keys x d, a linear layer's output split into
// heads) is stored transposed with each group of four keys in the order 0, 2, 1, 3, folded
// into the linear's store (no transpose kernel is left); the product reduces four keys per
// step: per column one word of V and three instructions give the two halfword pairs, per row
// two words of P, then two halfword dot products per output of the (4x2 or 2x4) block.
// CHECK:      func.func @main(%p: memref<2x8x12xui16>, %x: memref<12x4xi8>, %y: memref<2x8x4xi8>)
// CHECK-NEXT:   %0 = tile.weight "w@nk" : memref<8x4xi8>
// CHECK-NEXT:   %1 = tile.alloc #tile.mem<L2> : memref<2x4x3x2x2xi8>
// CHECK-NEXT:   func.call @main_0_linear(%x, %0, %1)
// CHECK-NEXT:   %2 = tile.view %1 : memref<2x4x3x2x2xi8> to memref<2x4x12xi8>
// CHECK-NEXT:   func.call @main_{{[0-9]+}}_matmul_y(%p, %2, %y)
// CHECK:      func.func private @main_{{[0-9]+}}_matmul_y(
// CHECK:        scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32, i32, i32, i32, i32) {
// CHECK:          %[[W:.*]] = xpulp.load_word %{{.*}}[%{{.*}}] : memref<{{[0-9]+}}xi8>
// CHECK-NEXT:     %[[S:.*]] = arith.shli %[[W]], %{{.*}} : i32
// CHECK-NEXT:     %[[LO:.*]] = xpulp.sra_h %[[S]] {shift = 8 : i64} : i32
// CHECK-NEXT:     %[[HI:.*]] = xpulp.sra_h %[[W]] {shift = 8 : i64} : i32
// CHECK:          %[[P0:.*]] = xpulp.load_word %{{.*}}[%{{.*}}] : memref<{{[0-9]+}}xui16>
// CHECK:          %[[P1:.*]] = xpulp.load_word %{{.*}}[%{{.*}}] : memref<{{[0-9]+}}xui16>
// CHECK-NEXT:     %[[A:.*]] = xpulp.sdotusp_h %{{.*}}, %[[P0]], %[[LO]] : i32
// CHECK-NEXT:     %{{.*}} = xpulp.sdotusp_h %[[A]], %[[P1]], %[[HI]] : i32
// C:          MOTE_XP_SRA_H(
// C:          mote_xp_sdotusp_h(
builtin.module {
  func.func @main(%p: memref<2x8x12xui16>, %x: memref<12x4xi8>, %y: memref<2x8x4xi8>) attributes {mote.num_inputs = 2 : i64} {
    %w = tile.weight "w" : memref<4x8xi8>
    %l = tile.alloc #tile.mem<L2> : memref<12x8xi8>
    tile.kernel "qtfm.linear" ins(%x, %w : memref<12x4xi8>, memref<4x8xi8>) outs(%l : memref<12x8xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed>}
    %h = tile.view %l : memref<12x8xi8> to memref<12x2x4xi8>
    %v = tile.alloc #tile.mem<L2> : memref<2x12x4xi8>
    tile.kernel "qtfm.transpose" ins(%h : memref<12x2x4xi8>) outs(%v : memref<2x12x4xi8>) {perm = array<i64: 1, 0, 2>}
    tile.kernel "qtfm.matmul" ins(%p, %v : memref<2x8x12xui16>, memref<2x12x4xi8>) outs(%y : memref<2x8x4xi8>) {requant = #qtfm.requant<mul = 5, add = 0, shift = 20, levels = 256, signed>}
    func.return
  }
}
