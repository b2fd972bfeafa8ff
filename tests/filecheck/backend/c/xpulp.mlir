// RUN: mote-opt %s -t c | filecheck %s

// The xpulp ops printed as plain C: post-increment loads as the element extended to 32 bits
// and the next index, post-increment stores as a narrowing store, hardware loops as counted
// loops marked by a comment (level 1 outside, level 0 inside), packs as xpulp.h intrinsics.

// CHECK:       #include "xpulp.h"
// CHECK-LABEL: void mote_model_run(uint8_t *arena, const int8_t *x, int16_t *y) {
// CHECK-NEXT:    (void)arena;
// CHECK-NEXT:    /* xpulp.hwloop: hardware loop 1 (cv.setup) on CORE-V, a counted loop here */
// CHECK-NEXT:    for (int32_t r = 0; r < 2; r++) {
// CHECK-NEXT:      /* xpulp.hwloop: hardware loop 0 (cv.setup) on CORE-V, a counted loop here */
// CHECK-NEXT:      for (int32_t i0 = 0; i0 < 3; i0++) {
// CHECK-NEXT:        const int32_t a = (int32_t)x[r];
// CHECK-NEXT:        const int32_t i1 = r + 2;
// CHECK-NEXT:        const int32_t b = (int32_t)(uint8_t)x[i1];
// CHECK-NEXT:        const int32_t p = (int32_t)mote_xp_pack_h(a, b);
// CHECK-NEXT:        const int32_t q = (int32_t)mote_xp_shuffle_b((uint32_t)p, (uint32_t)b);
// CHECK-NEXT:        y[r] = (int16_t)q;
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:  }
builtin.module {
  func.func @main(%x: memref<8xi8>, %y: memref<4xi16>) attributes {mote.num_inputs = 1 : i64} {
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : i32
    xpulp.hwloop %r, count %c2 : index {
      xpulp.hwloop count %c3 : i32 {
        %a, %i1 = xpulp.load_postinc %x[%r] step 2 : memref<8xi8>
        %b, %i2 = xpulp.load_postinc unsigned %x[%i1] step -1 : memref<8xi8>
        %p = xpulp.pack_h %a, %b : i32
        %q = xpulp.shuffle_b %p, %b : i32
        %n = xpulp.store_postinc %q, %y[%r] step 1 : memref<4xi16>
      }
    }
    func.return
  }
}
