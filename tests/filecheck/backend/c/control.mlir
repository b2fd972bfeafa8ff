// RUN: mote-opt %s -t c | filecheck %s

// i32 loop bounds, an scf.if without results, an index_cast that is no conversion in C (the
// name is reused), a constant expression folded at compile time (no C overflow), and a dead
// pure value that is not printed.

// CHECK-LABEL: void mote_model_run(uint8_t *arena, const int32_t *x, int32_t *y) {
// CHECK-NEXT:    (void)arena;
// CHECK-NEXT:    for (int32_t i = 0; i < 8; i++) {
// CHECK-NEXT:      const int32_t v = x[i];
// CHECK-NEXT:      if (v < 0) {
// CHECK-NEXT:        y[i] = 0 - v;
// CHECK-NEXT:      } else {
// CHECK-NEXT:        y[i] = INT32_MIN;
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:  }
builtin.module {
  func.func @edge(%x: memref<8xi32>, %y: memref<8xi32>) attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : i32
    %c1 = arith.constant 1 : i32
    %c8 = arith.constant 8 : i32
    %z = arith.constant 0 : index
    %big = arith.constant 2147483647 : i32
    %one = arith.constant 1 : i32
    %ovf = arith.addi %big, %one : i32
    scf.for %i = %c0 to %c8 step %c1 : i32 {
      %ii = arith.index_cast %i : i32 to index
      %v = memref.load %x[%ii] : memref<8xi32>
      %neg = arith.cmpi slt, %v, %c0 : i32
      scf.if %neg {
        %m = arith.subi %c0, %v : i32
        memref.store %m, %y[%ii] : memref<8xi32>
      } else {
        memref.store %ovf, %y[%ii] : memref<8xi32>
      }
      %dead = arith.muli %v, %v : i32
    }
    func.return
  }
}
