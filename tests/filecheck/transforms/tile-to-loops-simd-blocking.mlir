// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' | filecheck %s

builtin.module {
// Two rows: of the blockings tried (4x4, 4x2, 2x4), 2x4 is the cheapest by the static
// estimate (4x4 would leave the two rows to 1x4 blocks, loading each weight word twice).
// CHECK:      func.func private @two_rows_0_linear_y2(
// CHECK:        xpulp.dot_block {{.*}} {kind = "sdotsp_b", rows = 2 : i64, cols = 4 : i64, {{.*}}} : memref<24xi8>, memref<96xi8> -> i32, i32, i32, i32, i32, i32, i32, i32
  func.func @two_rows(%x2: memref<2x12xi8>, %y2: memref<2x8xi8>) attributes {mote.num_inputs = 1 : i64} {
    %w2 = tile.weight "w2" : memref<12x8xi8>
    tile.kernel "qtfm.linear" ins(%x2, %w2 : memref<2x12xi8>, memref<12x8xi8>) outs(%y2 : memref<2x8xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed>}
    func.return
  }
}
