// RUN: mote-opt %s -p tile-to-loops | filecheck %s

// A softmax of 8-bit rows without a mask: I-BERT's exponent of every distance to the row
// maximum (0..255) is evaluated at compile time into a table in flash (i32), and each row is
// three loops: maximum, sum of table entries, and y = table[max - x] * 255 / sum.
// CHECK:      func.func private @main_0_softmax_p(%x: memref<3x8xi8>, %p: memref<3x8xui8>) attributes {mote.noinline}
// CHECK:        %{{.*}} = tile.constant dense<{{.*}}> : tensor<256xi32> -> memref<256xi32>
// CHECK:        scf.for
// CHECK:          arith.maxsi
// CHECK:          arith.subi
// CHECK:          memref.load %{{.*}}[%{{.*}}] : memref<256xi32>
// CHECK:          arith.divsi
// CHECK:          arith.trunci {{.*}} : i32 to ui8
builtin.module {
  func.func @main(%x: memref<3x8xi8>, %p: memref<3x8xui8>) attributes {mote.num_inputs = 1 : i64} {
    tile.kernel "qtfm.softmax" ins(%x : memref<3x8xi8>) outs(%p : memref<3x8xui8>) {params = #qtfm.softmax<coeff_a = 1, coeff_b = 0, coeff_c = 15599, log2 = 127, levels = 256>}
    func.return
  }
}
