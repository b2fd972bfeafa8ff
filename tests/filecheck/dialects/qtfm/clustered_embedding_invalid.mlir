// RUN: mote-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of qtfm.clustered_embedding (ClusteredEmbeddingOp.verify_op in
// dialects/qtfm.py), each checked with its location and message. Every chunk differs from a
// valid lookup (2 clusters of ranks 2 and 1, D = 4, 10 tokens in blocks of 4) in one thing.

// Fewer muls than clusters.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' needs one rank, mul and shift per cluster, got 2 ranks, 1 muls and 2 shifts
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// No cluster at all.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' needs one rank, mul and shift per cluster, got 0 ranks, 0 muls and 0 shifts
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64>, muls = array<i64>, shifts = array<i64>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// Bases rows differ from the sum of the ranks.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<4x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' bases must be (sum of ranks = 3) x D, got shape (4, 4)
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<4x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// Bases not 2-D.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<12xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' bases must be (sum of ranks = 3) x D, got shape (12,)
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<12xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A rank above D.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<6x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' ranks must be in [0, 4], got [5, 1]
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 5, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<6x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A negative rank.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<1x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' ranks must be in [0, 4], got [2, -1]
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, -1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<1x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A multiplier of 2^31.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' muls must be in [0, 2^31) and shifts in [0, 62]
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 2147483648, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A negative multiplier.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' muls must be in [0, 2^31) and shifts in [0, 62]
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, -1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A shift of 63.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' muls must be in [0, 2^31) and shifts in [0, 62]
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 63, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// Clusters not 1-D.
func.func @f(%i: tensor<5xi32>, %c: tensor<2x5xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' clusters must be 1-D (one per token), got shape (2, 5)
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<2x5xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// Signed cluster ids.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xi8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' clusters must be ui8 or ui16, got i8
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xi8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// 32-bit cluster ids.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui32>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' clusters must be ui8 or ui16, got ui32
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui32>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A block of 0 tokens.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' needs block >= 1 and coef_bits 4 or 8, got 0 and 8
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 0 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// 2-bit coefficients.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' needs block >= 1 and coef_bits 4 or 8, got 4 and 2
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 2 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// One block offset short (10 tokens in blocks of 4 are 3 blocks).
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<2xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' block_offsets must have one entry per block of 4 tokens (3,), got (2,)
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<2xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// 16-bit block offsets.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi16>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' block_offsets must be i32
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi16>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A 2-D coefficient pool.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<4x5xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' coefficients must be a 1-D pool
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<4x5xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// Unsigned coefficient bytes.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xui8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' coefficients must be i8, got ui8
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xui8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// 16-bit bases.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi16>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' bases must be i8, got i16
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi16>) -> tensor<5x4xi8>
  func.return
}

// -----

// Result rows differ from the ids.
func.func @f(%i: tensor<1x5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' result shape must be (1, 5, 4), got (5, 4)
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<1x5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi8>
  func.return
}

// -----

// A 32-bit result.
func.func @f(%i: tensor<5xi32>, %c: tensor<10xui8>, %o: tensor<3xi32>, %a: tensor<20xi8>, %b: tensor<3x4xi8>) {
  // CHECK: clustered_embedding_invalid.mlir:[[# @LINE + 1]]:3: error: 'qtfm.clustered_embedding' results must be at most 16 bits wide, got i32
  %e = qtfm.clustered_embedding %i, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>} : (tensor<5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<5x4xi32>
  func.return
}
