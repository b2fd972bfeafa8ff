// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' | filecheck %s
// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' -t c | filecheck %s --check-prefix=C

// An int8 linear layer (K = 12, a multiple of 4) on packed SIMD: the weight is read packed
// N x K (`"w@nk"`, derived from the weight file when the C is emitted), each 4x4 block keeps
// 16 accumulators through the reduction, which steps 4 elements (one word) at a time with
// 8 word loads and 16 dot products; the leftover row uses 1x4 blocks.
// CHECK:      func.func @main(%x: memref<5x12xi8>, %y: memref<5x4xi8>)
// CHECK-NEXT:   %0 = tile.weight "w@nk" : memref<4x12xi8>
// CHECK-NEXT:   func.call @main_0_linear_y(%x, %0, %y)
// CHECK:      func.func private @main_0_linear_y(%x: memref<5x12xi8>, %0: memref<4x12xi8>, %y: memref<5x4xi8>)
// CHECK:        scf.for {{.*}} step %{{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) {
// CHECK-COUNT-8:  xpulp.load_word
// CHECK-COUNT-16: xpulp.sdotsp_b
// C:          #include "xpulp.h"
// C:          mote_xp_sdotsp_b(
// C:          mote_xp_load_word(
builtin.module {
  func.func @main(%x: memref<5x12xi8>, %y: memref<5x4xi8>) attributes {mote.num_inputs = 1 : i64} {
    %w = tile.weight "w" : memref<12x4xi8>
    tile.kernel "qtfm.linear" ins(%x, %w : memref<5x12xi8>, memref<12x4xi8>) outs(%y : memref<5x4xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed>}
    func.return
  }
}
