// RUN: mote-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the tile ops (dialects/tile.py).

func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.alloc' offset must be >= 0, got -4
  %x = tile.alloc #tile.mem<L2> offset -4 : memref<4xi8>
  func.return
}

// -----

func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.alloc' result must have a static shape, got memref<?xi8>
  %x = tile.alloc #tile.mem<L2> : memref<?xi8>
  func.return
}

// -----

func.func @f(%a: memref<4x8xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.view' cannot view memref<4x8xi8> as memref<33xi8>
  %v = tile.view %a : memref<4x8xi8> to memref<33xi8>
  func.return
}

// -----

func.func @f(%a: memref<4xi8>, %b: memref<4xi16>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.copy' source memref<4xi8> and destination memref<4xi16> differ
  tile.copy %a, %b : memref<4xi8>, memref<4xi16>
  func.return
}

// -----

// The kernel is checked as the qtfm op it carries: here a linear whose K does not match.
func.func @f(%a: memref<4x8xi8>, %w: memref<7x8xi8>, %o: memref<4x8xi32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.kernel' qtfm.linear: 'qtfm.linear' input's last dimension must equal the weight's K = 7, got input shape (4, 8)
  tile.kernel "qtfm.linear" ins(%a, %w : memref<4x8xi8>, memref<7x8xi8>) outs(%o : memref<4x8xi32>)
  func.return
}

// -----

func.func @f(%a: memref<4xi8>, %o: memref<4xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.kernel' kind 'qtfm.nope' is not a qtfm compute op
  tile.kernel "qtfm.nope" ins(%a : memref<4xi8>) outs(%o : memref<4xi8>)
  func.return
}

// -----

func.func @f(%a: memref<4xi8>) {
  %i = arith.constant 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.window' window memref<8xi8> is larger than its buffer memref<4xi8>
  %r = tile.window %a[%i] : memref<4xi8> to memref<8xi8>
  func.return
}

// -----

// A clustered embedding kernel is checked as the qtfm op it carries (result rows != ids).
func.func @f(%i: memref<5xi32>, %c: memref<10xui8>, %o: memref<3xi32>, %a: memref<20xi8>, %b: memref<3x4xi8>, %e: memref<4x4xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.kernel' qtfm.clustered_embedding: 'qtfm.clustered_embedding' result shape must be (5, 4), got (4, 4)
  tile.kernel "qtfm.clustered_embedding" ins(%i, %c, %o, %a, %b : memref<5xi32>, memref<10xui8>, memref<3xi32>, memref<20xi8>, memref<3x4xi8>) outs(%e : memref<4x4xi8>) {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>}
  func.return
}

// -----

// ... and its properties too (a missing shift).
func.func @f(%i: memref<5xi32>, %c: memref<10xui8>, %o: memref<3xi32>, %a: memref<20xi8>, %b: memref<3x4xi8>, %e: memref<5x4xi8>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'tile.kernel' qtfm.clustered_embedding: 'qtfm.clustered_embedding' needs one rank, mul and shift per cluster, got 2 ranks, 2 muls and 1 shifts
  tile.kernel "qtfm.clustered_embedding" ins(%i, %c, %o, %a, %b : memref<5xi32>, memref<10xui8>, memref<3xi32>, memref<20xi8>, memref<3x4xi8>) outs(%e : memref<5x4xi8>) {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2>}
  func.return
}
