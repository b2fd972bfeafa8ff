// RUN: mote-opt %s --split-input-file -p qtfm-to-tile | filecheck %s --check-prefix=TILE
// RUN: mote-opt %s --split-input-file -p qtfm-to-tile,tile-to-loops | filecheck %s
// RUN: mote-opt %s --split-input-file -p 'qtfm-to-tile,tile-to-loops{simd=xpulp}' | filecheck %s --check-prefix=XPULP
// RUN: mote-opt %s --split-input-file -p qtfm-to-tile,tile-to-loops,plan-memory -t c | filecheck %s --check-prefix=C

// qtfm-to-tile: the lookup becomes a tile.kernel carrying the op's properties (its verifier
// rebuilds the qtfm op on the buffers' shapes), computed straight into the output.
// TILE:      func.func @main(%ids: memref<1x3xi32>, %out0: memref<1x3x6xi8>)
// TILE:        tile.kernel "qtfm.clustered_embedding" ins(%ids, %c, %o, %a, %b : memref<1x3xi32>, memref<10xui8>, memref<3xi32>, memref<20xi8>, memref<3x6xi8>) outs(%out0 : memref<1x3x6xi8>) {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 2147483647, 3>, shifts = array<i64: 40, 1>}

// tile-to-loops, int8 coefficients, two clusters of ranks 2 and 1: per-cluster tables (rank,
// first basis row, multiplier, rounding term, shift), a loop over the ids with a bounds check,
// the coefficient start (block offset + ranks of the block's earlier tokens, a loop with a
// data-dependent trip count), then 4 columns with i32 accumulators over the token's rank, the
// last 2 columns with 2, each requantized in i64 (2^31 - 1 needs it); ids out of range get a
// zero row.
// CHECK:      func.func private @main_0_clustered_embedding_out0(%ids: memref<1x3xi32>, %c: memref<10xui8>, %o: memref<3xi32>, %a: memref<20xi8>, %b: memref<3x6xi8>, %out0: memref<1x3x6xi8>) attributes {mote.noinline}
// CHECK-DAG:    %[[RANKS:.*]] = tile.constant dense<[2, 1]> : tensor<2xi8> -> memref<2xi8>
// CHECK-DAG:    tile.constant dense<[0, 2]> : tensor<2xi8> -> memref<2xi8>
// CHECK-DAG:    tile.constant dense<[2147483647, 3]> : tensor<2xi32> -> memref<2xi32>
// CHECK-DAG:    tile.constant dense<[549755813888, 1]> : tensor<2xi64> -> memref<2xi64>
// CHECK-DAG:    tile.constant dense<[40, 1]> : tensor<2xi8> -> memref<2xi8>
// CHECK:        scf.for
// CHECK:          arith.cmpi sge
// CHECK:          arith.cmpi slt
// CHECK:          scf.if
// CHECK:            memref.load %c[
// CHECK:            %[[BLK:.*]] = arith.divui %{{.*}}, %{{.*}} : index
// CHECK:            memref.load %o[%[[BLK]]] : memref<3xi32>
// CHECK:            scf.for {{.*}} iter_args({{.*}}) -> (index) {
// CHECK:              memref.load %c[
// CHECK:              memref.load %[[RANKS]][
// CHECK:            } {mote.trip_count = 1 : i64}
// CHECK:            scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32) {
// CHECK:              memref.load %a[
// CHECK-COUNT-4:      memref.load %b[
// CHECK:            } {mote.trip_count = 2 : i64}
// CHECK:            arith.extsi {{.*}} : i32 to i64
// CHECK-NEXT:       arith.muli {{.*}} : i64
// CHECK-NEXT:       arith.addi {{.*}} : i64
// CHECK-NEXT:       arith.shrsi {{.*}} : i64
// CHECK-NEXT:       arith.trunci {{.*}} : i64 to i32
// CHECK-NEXT:       arith.maxsi
// CHECK-NEXT:       arith.minsi
// CHECK-NEXT:       arith.trunci {{.*}} : i32 to i8
// CHECK-NEXT:       memref.store
// CHECK:            scf.for {{.*}} iter_args({{.*}}) -> (i32, i32) {
// CHECK:            } {mote.trip_count = 2 : i64}
// CHECK:          } else {
// CHECK:            scf.for
// CHECK-NEXT:         memref.store

// On CORE-V the loops stay scalar; the clamps become cv.clip.
// XPULP:      func.func private @main_0_clustered_embedding_out0(
// XPULP:        xpulp.clip {{.*}} {bits = 8 : i64} : i32

func.func @main(%ids: tensor<1x3xi32>) -> tensor<1x3x6xi8> {
  %c = qtfm.weight "e.clusters" : tensor<10xui8>
  %o = qtfm.weight "e.offsets" : tensor<3xi32>
  %a = qtfm.weight "e.coefficients" : tensor<20xi8>
  %b = qtfm.weight "e.bases" : tensor<3x6xi8>
  %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 2147483647, 3>, shifts = array<i64: 40, 1>} : (tensor<1x3xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x6xi8>) -> tensor<1x3x6xi8>
  func.return %e : tensor<1x3x6xi8>
}

// -----

// int4 coefficients, one cluster of rank 3: no tables and no cluster ids read, the start is
// the block offset + (t mod block) * 3, the rank loop has constant bounds; each coefficient is
// nibble (start + k) of the pool, moved to the top of the word and shifted down with its sign.
// The requantization fits 32 bits.
// CHECK:      func.func private @int4_0_clustered_embedding_out0(
// CHECK-NOT:    tile.constant
// CHECK-NOT:    memref.load %c
// CHECK:        scf.if
// CHECK:          arith.subi
// CHECK-NEXT:     arith.muli
// CHECK-NEXT:     arith.addi
// CHECK:          scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32) {
// CHECK-NEXT:       arith.addi
// CHECK-NEXT:       arith.divui
// CHECK-NEXT:       memref.load %a[
// CHECK-NEXT:       arith.extsi {{.*}} : i8 to i32
// CHECK-NEXT:       arith.andi
// CHECK-NEXT:       arith.index_cast
// CHECK-NEXT:       arith.muli
// CHECK-NEXT:       arith.subi
// CHECK-NEXT:       arith.shli
// CHECK-NEXT:       arith.shrsi
// CHECK:          }
// CHECK-NOT:      mote.trip_count
// CHECK-NOT:      i64
// CHECK:          arith.muli {{.*}} : i32
// CHECK-NEXT:     arith.addi {{.*}} : i32
// CHECK-NEXT:     arith.shrsi {{.*}} : i32

// C:      static __attribute__((noinline)) void mote_int4_0_clustered_embedding_out0(
// C:        (void)c;
// C:        if ((t0 >= 0) & (t0 < 9)) {
// C:          const int32_t t2 = o[t1] + (t0 - t1 * 8) * 3;
// C:          for (int32_t i1 = 0; i1 < 3; i1++) {
// C:            const int32_t t4 = (int32_t)((uint32_t)(int32_t)a[(int32_t)((uint32_t)t3 / 2)] << (uint32_t)(28 - (t3 & 1) * 4)) >> 28;
// C-NEXT:       acc0 += t4 * (int32_t)b[i1 * 4];

func.func @int4(%ids: tensor<5xi16>) -> tensor<5x4xi8> {
  %c = qtfm.weight "f.clusters" : tensor<9xui16>
  %o = qtfm.weight "f.offsets" : tensor<2xi32>
  %a = qtfm.weight "f.coefficients" : tensor<14xi8>
  %b = qtfm.weight "f.bases" : tensor<3x4xi8>
  %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 8 : i64, coef_bits = 4 : i64, ranks = array<i64: 3>, muls = array<i64: 77>, shifts = array<i64: 9>} : (tensor<5xi16>, tensor<9xui16>, tensor<2xi32>, tensor<14xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return %e : tensor<5x4xi8>
}
