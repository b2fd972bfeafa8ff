// RUN: mote-opt %s -t c | filecheck %s

// Runtime kernels are private declarations (prototypes come from mote_kernels.h); private
// helpers with bodies become static functions named mote_<name>; windows are pointers into a
// buffer; integer arguments are printed as literals; if results are assigned in both branches.

// CHECK:       #include "mote_kernels.h"
// CHECK-NOT:   mote_softmax_row(
// CHECK:       static int32_t mote_row_max(const int8_t *row, int32_t floor) {
// CHECK-NEXT:    int32_t best = floor;
// CHECK-NEXT:    for (int32_t i = 0; i < 16; i++) {
// CHECK-NEXT:      const int32_t v = (int32_t)row[i];
// CHECK-NEXT:      int32_t n;
// CHECK-NEXT:      if (v > best) {
// CHECK-NEXT:        n = v;
// CHECK-NEXT:      } else {
// CHECK-NEXT:        n = best;
// CHECK-NEXT:      }
// CHECK-NEXT:      best = n;
// CHECK-NEXT:    }
// CHECK-NEXT:    return best;
// CHECK-NEXT:  }
// CHECK-EMPTY:
// CHECK-NEXT:  void mote_model_run(uint8_t *arena, const int8_t *x, int8_t *y, int32_t *peaks) {
// CHECK-NEXT:    int8_t *const buf = (int8_t *)(arena + 16);
// CHECK-NEXT:    const int8_t *const xf = x;
// CHECK-NEXT:    int8_t *const yf = y;
// CHECK-NEXT:    /* qtfm.softmax %x */
// CHECK-NEXT:    for (int32_t r = 0; r < 4; r++) {
// CHECK-NEXT:      const int32_t off = r * 16;
// CHECK-NEXT:      const int8_t *const row = xf + off;
// CHECK-NEXT:      int8_t *const dst = buf + off;
// CHECK-NEXT:      mote_softmax_row(row, dst, 16, -5, INT64_C(123456789012));
// CHECK-NEXT:      const int32_t peak = mote_row_max(dst, -128);
// CHECK-NEXT:      peaks[r] = peak;
// CHECK-NEXT:      int8_t *const out = yf + off;
// CHECK-NEXT:      mote_copy_row(dst, out, 16, INT64_MIN);
// CHECK-NEXT:    }
// CHECK-NEXT:  }
builtin.module {
  func.func private @mote_softmax_row(memref<16xi8>, memref<16xi8>, index, i32, i64)
  func.func private @mote_copy_row(memref<16xi8>, memref<16xi8>, index, i64)
  func.func private @unused_helper() {
    func.return
  }
  func.func private @row_max(%row: memref<16xi8>, %floor: i32) -> i32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %m = scf.for %i = %c0 to %c16 step %c1 iter_args(%best = %floor) -> (i32) {
      %e = memref.load %row[%i] : memref<16xi8>
      %v = arith.extsi %e : i8 to i32
      %gt = arith.cmpi sgt, %v, %best : i32
      %n = scf.if %gt -> (i32) {
        scf.yield %v : i32
      } else {
        scf.yield %best : i32
      }
      scf.yield %n : i32
    }
    func.return %m : i32
  }
  func.func @calls(%x: memref<4x16xi8>, %y: memref<4x16xi8>, %peaks: memref<4xi32>) attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c16 = arith.constant 16 : index
    %minus5 = arith.constant -5 : i32
    %floor = arith.constant -128 : i32
    %big = arith.constant 123456789012 : i64
    %min = arith.constant -9223372036854775808 : i64
    %buf = tile.alloc #tile.mem<L2> offset 16 : memref<64xi8>
    %xf = tile.view %x : memref<4x16xi8> to memref<64xi8>
    %yf = tile.view %y : memref<4x16xi8> to memref<64xi8>
    scf.for %r = %c0 to %c4 step %c1 {
      %off = arith.muli %r, %c16 : index
      %row = tile.window %xf[%off] : memref<64xi8> to memref<16xi8>
      %dst = tile.window %buf[%off] : memref<64xi8> to memref<16xi8>
      func.call @mote_softmax_row(%row, %dst, %c16, %minus5, %big) : (memref<16xi8>, memref<16xi8>, index, i32, i64) -> ()
      %peak = func.call @row_max(%dst, %floor) : (memref<16xi8>, i32) -> i32
      memref.store %peak, %peaks[%r] : memref<4xi32>
      %out = tile.window %yf[%off] : memref<64xi8> to memref<16xi8>
      func.call @mote_copy_row(%dst, %out, %c16, %min) : (memref<16xi8>, memref<16xi8>, index, i64) -> ()
    } {mote.note = "qtfm.softmax %x"}
    func.return
  }
}
// CHECK-NOT:   unused_helper
