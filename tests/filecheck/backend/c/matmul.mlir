// RUN: mote-opt %s -t c | filecheck %s

// A register-blocked int8 matmul (2x2 block, i32 accumulators carried by the k loop) with a
// bias and an int64 requantization in the epilogue: single-use values are inlined, block rows
// and columns are constant offsets of one subscript, accumulators update with +=.

// CHECK-LABEL: void mote_model_run(uint8_t *arena, const int8_t *x, int8_t *y) {
// CHECK-NEXT:    (void)arena;
// CHECK-NEXT:    /* qtfm.linear %x, %w, %b */
// CHECK-NEXT:    for (int32_t m = 0; m < 4; m += 2) {
// CHECK-NEXT:      for (int32_t n = 0; n < 4; n += 2) {
// CHECK-NEXT:        int32_t a00 = 0;
// CHECK-NEXT:        int32_t a01 = 0;
// CHECK-NEXT:        int32_t a10 = 0;
// CHECK-NEXT:        int32_t a11 = 0;
// CHECK-NEXT:        for (int32_t k = 0; k < 8; k++) {
// CHECK-NEXT:          const int32_t e0 = (int32_t)x[m * 8 + k];
// CHECK-NEXT:          const int32_t e1 = (int32_t)x[m * 8 + k + 8];
// CHECK-NEXT:          const int32_t f0 = (int32_t)mote_w_l0_w[k * 4 + n];
// CHECK-NEXT:          const int32_t f1 = (int32_t)mote_w_l0_w[k * 4 + n + 1];
// CHECK-NEXT:          a00 += e0 * f0;
// CHECK-NEXT:          a01 += e0 * f1;
// CHECK-NEXT:          a10 += e1 * f0;
// CHECK-NEXT:          a11 += e1 * f1;
// CHECK-NEXT:        }
// CHECK-NEXT:        const int64_t s00 = ((int64_t)(a00 + mote_w_l0_b[n]) * 1518500250 + 1073741824) >> 31;
// CHECK-NEXT:        const int64_t l00 = s00 > -128 ? s00 : -128;
// CHECK-NEXT:        y[m * 4 + n] = (int8_t)(l00 < 127 ? l00 : 127);
// CHECK-NEXT:        y[m * 4 + n + 1] = (int8_t)a01;
// CHECK-NEXT:        y[m * 4 + n + 4] = (int8_t)a10;
// CHECK-NEXT:        y[m * 4 + n + 5] = (int8_t)(a11 >> 3);
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:  }
builtin.module attributes {qtfm.weights = "missing.npz"} {
  func.func @matmul(%x: memref<4x8xi8>, %y: memref<4x4xi8>) attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %zero = arith.constant 0 : i32
    %three = arith.constant 3 : i32
    %mult = arith.constant 1518500250 : i64
    %round = arith.constant 1073741824 : i64
    %shift = arith.constant 31 : i64
    %lo = arith.constant -128 : i64
    %hi = arith.constant 127 : i64
    %w = tile.weight "l0.w" : memref<8x4xi8>
    %b = tile.weight "l0.b" : memref<4xi32>
    scf.for %m = %c0 to %c4 step %c2 {
      %m1 = arith.addi %m, %c1 : index
      scf.for %n = %c0 to %c4 step %c2 {
        %n1 = arith.addi %n, %c1 : index
        %acc:4 = scf.for %k = %c0 to %c8 step %c1 iter_args(%a00 = %zero, %a01 = %zero, %a10 = %zero, %a11 = %zero) -> (i32, i32, i32, i32) {
          %x0 = memref.load %x[%m, %k] : memref<4x8xi8>
          %e0 = arith.extsi %x0 : i8 to i32
          %x1 = memref.load %x[%m1, %k] : memref<4x8xi8>
          %e1 = arith.extsi %x1 : i8 to i32
          %w0 = memref.load %w[%k, %n] : memref<8x4xi8>
          %f0 = arith.extsi %w0 : i8 to i32
          %w1 = memref.load %w[%k, %n1] : memref<8x4xi8>
          %f1 = arith.extsi %w1 : i8 to i32
          %p00 = arith.muli %e0, %f0 : i32
          %s00 = arith.addi %a00, %p00 : i32
          %p01 = arith.muli %e0, %f1 : i32
          %s01 = arith.addi %a01, %p01 : i32
          %p10 = arith.muli %e1, %f0 : i32
          %s10 = arith.addi %a10, %p10 : i32
          %p11 = arith.muli %e1, %f1 : i32
          %s11 = arith.addi %p11, %a11 : i32
          scf.yield %s00, %s01, %s10, %s11 : i32, i32, i32, i32
        }
        %bias = memref.load %b[%n] : memref<4xi32>
        %q = arith.addi %acc#0, %bias : i32
        %qw = arith.extsi %q : i32 to i64
        %qm = arith.muli %qw, %mult : i64
        %qr = arith.addi %qm, %round : i64
        %s00 = arith.shrsi %qr, %shift : i64
        %l00 = arith.maxsi %s00, %lo : i64
        %h00 = arith.minsi %l00, %hi : i64
        %t00 = arith.trunci %h00 : i64 to i8
        memref.store %t00, %y[%m, %n] : memref<4x4xi8>
        %t01 = arith.trunci %acc#1 : i32 to i8
        memref.store %t01, %y[%m, %n1] : memref<4x4xi8>
        %t10 = arith.trunci %acc#2 : i32 to i8
        memref.store %t10, %y[%m1, %n] : memref<4x4xi8>
        %sh = arith.shrsi %acc#3, %three : i32
        %t11 = arith.trunci %sh : i32 to i8
        memref.store %t11, %y[%m1, %n1] : memref<4x4xi8>
      }
    } {mote.note = "qtfm.linear %x, %w, %b"}
    func.return
  }
}
