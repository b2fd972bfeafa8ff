// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' | filecheck %s

// A linear layer of int16 activations (mixed precision) by an int8 weight: the weight is read
// N x K with each group of four k in the order 0, 2, 1, 3 (`"w@nki"`, packed when the C is
// emitted); per four k, one word of a weight row gives both halfword pairs (shift left by 8,
// then two packed arithmetic shifts by 8) and two words of an activation row meet them in
// two `cv.sdotsp.h`; the accumulators start from the bias.
// CHECK:      func.func @main(%x: memref<5x12xi16>, %b: memref<4xi32>, %y: memref<5x4xi8>)
// CHECK-NEXT:   %0 = tile.weight "w@nki" : memref<4x12xi8>
// CHECK:      func.func private @main_0_linear_y(
// CHECK:        %[[B:.*]] = memref.load %b[%{{.*}}] : memref<4xi32>
// CHECK:        scf.for {{.*}} iter_args(%{{.*}} = %[[B]]
// CHECK:          %[[W:.*]] = xpulp.load_word %{{.*}}[%{{.*}}] : memref<48xi8>
// CHECK-NEXT:     %[[S:.*]] = arith.shli %[[W]], %{{.*}} : i32
// CHECK-NEXT:     %[[LO:.*]] = xpulp.sra_h %[[S]] {shift = 8 : i64} : i32
// CHECK-NEXT:     %[[HI:.*]] = xpulp.sra_h %[[W]] {shift = 8 : i64} : i32
// CHECK:          %[[X0:.*]] = xpulp.load_word %{{.*}}[%{{.*}}] : memref<60xi16>
// CHECK:          %[[X1:.*]] = xpulp.load_word %{{.*}}[%{{.*}}] : memref<60xi16>
// CHECK-NEXT:     %[[A:.*]] = xpulp.sdotsp_h %{{.*}}, %[[X0]], %[[LO]] : i32
// CHECK-NEXT:     %{{.*}} = xpulp.sdotsp_h %[[A]], %[[X1]], %[[HI]] : i32
builtin.module {
  func.func @main(%x: memref<5x12xi16>, %b: memref<4xi32>, %y: memref<5x4xi8>) attributes {mote.num_inputs = 2 : i64} {
    %w = tile.weight "w" : memref<12x4xi8>
    tile.kernel "qtfm.linear" ins(%x, %w, %b : memref<5x12xi16>, memref<12x4xi8>, memref<4xi32>) outs(%y : memref<5x4xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 12, levels = 256, signed>}
    func.return
  }
}
