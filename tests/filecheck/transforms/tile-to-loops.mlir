// RUN: mote-opt %s -p tile-to-loops | filecheck %s
// RUN: mote-opt %s -p 'tile-to-loops{outline=false}' | filecheck %s --check-prefix=INLINE

// A linear becomes its own function of register-blocked loops: 4x2 blocks over the first four
// rows (eight i32 accumulators carried through the k loop), a 4x1 edge for the third column and
// 1x2 / 1x1 blocks for the fifth row; requantization happens in registers before each store.
// The softmax of 16-bit rows becomes a call of runtime_c's kernel on pointers to its buffers
// (8-bit rows get a compile-time exponent table: see softmax-table.mlir).
// CHECK:      func.func private @mote_softmax_i16_u8(memref<?xi16>, memref<?xui8>, i32, i32, i32, i32, i32, i32, i32) -> ()
// CHECK:      func.func @main(%x: memref<5x4xi8>, %w: memref<4x3xi8>, %p: memref<5x3xui8>)
// CHECK:        %y = tile.alloc #tile.mem<L2> : memref<5x3xi16>
// CHECK-NEXT:   func.call @main_0_linear_y(%x, %w, %y) : (memref<5x4xi8>, memref<4x3xi8>, memref<5x3xi16>) -> ()
// CHECK-NEXT:   %{{.*}} = tile.window %y[%{{.*}}] : memref<5x3xi16> to memref<?xi16>
// CHECK-NEXT:   %{{.*}} = tile.window %p[%{{.*}}] : memref<5x3xui8> to memref<?xui8>
// CHECK-NEXT:   func.call @mote_softmax_i16_u8(
// CHECK:      func.func private @main_0_linear_y(%x: memref<5x4xi8>, %w: memref<4x3xi8>, %y: memref<5x3xi16>) attributes {mote.noinline}
// CHECK:        scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32, i32, i32, i32, i32) {
// CHECK-COUNT-4: memref.load %x
// CHECK-COUNT-2: memref.load %w
// CHECK:        arith.shrsi
// CHECK:        arith.maxsi
// CHECK:        arith.minsi
// CHECK:        arith.trunci {{.*}} : i32 to i16
// CHECK:        memref.store
// CHECK:        scf.for {{.*}} -> (i32, i32, i32, i32) {
// CHECK:        scf.for {{.*}} -> (i32, i32) {
// CHECK:        scf.for {{.*}} -> (i32) {

// Without outlining, the same loops sit in @main itself.
// INLINE:     func.func @main(
// INLINE-NOT: func.call @main_0
// INLINE:       scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32) {
builtin.module {
  func.func @main(%x: memref<5x4xi8>, %w: memref<4x3xi8>, %p: memref<5x3xui8>) attributes {mote.num_inputs = 2 : i64} {
    %y = tile.alloc #tile.mem<L2> : memref<5x3xi16>
    tile.kernel "qtfm.linear" ins(%x, %w : memref<5x4xi8>, memref<4x3xi8>) outs(%y : memref<5x3xi16>) {requant = #qtfm.requant<mul = 3, add = 0, shift = 4, levels = 65536, signed>}
    tile.kernel "qtfm.softmax" ins(%y : memref<5x3xi16>) outs(%p : memref<5x3xui8>) {params = #qtfm.softmax<coeff_a = 1, coeff_b = 173, coeff_c = 15599, log2 = 127, levels = 256>}
    func.return
  }
}
