// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' | filecheck %s
// RUN: mote-opt %s -p 'tile-to-loops{simd=xpulp}' -t c | filecheck %s --check-prefix=C

// An int8 linear layer (K = 12, a multiple of 4) on packed SIMD: the weight is read packed
// N x K (`"w@nk"`, derived from the weight file when the C is emitted), each 4x4 block keeps
// 16 accumulators through the reduction, one `xpulp.dot_block` (a hardware loop of 3 words,
// rows K = 12 bytes apart in both operands); the leftover row uses 1x4 blocks. The C has the
// hardware loop as CORE-V assembly (cv.setup as .insn) and the portable loop beside it.
// CHECK:      func.func @main(%x: memref<5x12xi8>, %y: memref<5x4xi8>)
// CHECK-NEXT:   %0 = tile.weight "w@nk" : memref<4x12xi8>
// CHECK-NEXT:   func.call @main_0_linear_y(%x, %0, %y)
// CHECK:      func.func private @main_0_linear_y(%x: memref<5x12xi8>, %0: memref<4x12xi8>, %y: memref<5x4xi8>)
// CHECK:        xpulp.dot_block %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}] init({{.*}}) {kind = "sdotsp_b", rows = 4 : i64, cols = 4 : i64, lhs_stride = 12 : i64, rhs_stride = 12 : i64, words = 3 : i64} : memref<60xi8>, memref<48xi8> -> i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32
// CHECK:        xpulp.dot_block {{.*}} {kind = "sdotsp_b", rows = 1 : i64, cols = 4 : i64, lhs_stride = 12 : i64, rhs_stride = 12 : i64, words = 3 : i64}
// C:          #include "xpulp.h"
// C:          #if MOTE_XPULP_ASM
// C:          ".insn i 0x2b, 4, x14, %[n], 25\n"
// C-NEXT:     "cv.lw %[w0], (%[pw]), 4\n"
// C-NEXT:     "lw %[w1], 8(%[pw])\n"
// C-NEXT:     "cv.lw %[a0], (%[pa]), 4\n"
// C-NEXT:     "lw %[a1], 8(%[pa])\n"
// C:          "cv.sdotsp.b %[c3_3], %[a3], %[w1]\n"
// C-NEXT:     ".option pop\n"
// C:          : [n] "r"((uint32_t)3)
// C:          #else
// C:          mote_xp_sdotsp_b(
// C:          #endif
builtin.module {
  func.func @main(%x: memref<5x12xi8>, %y: memref<5x4xi8>) attributes {mote.num_inputs = 1 : i64} {
    %w = tile.weight "w" : memref<12x4xi8>
    tile.kernel "qtfm.linear" ins(%x, %w : memref<5x12xi8>, memref<12x4xi8>) outs(%y : memref<5x4xi8>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 256, signed>}
    func.return
  }
}
