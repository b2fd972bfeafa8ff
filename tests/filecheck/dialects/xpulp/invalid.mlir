// RUN: mote-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the xpulp ops (dialects/xpulp.py).

func.func @f(%x: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.clip' bits must be in 1..32, got 33
  %y = xpulp.clip %x {bits = 33 : i64} : i32
  func.return
}

// -----

func.func @f(%b: memref<8xi16>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_word' reads 8-bit elements, got memref<8xi16>
  %w = xpulp.load_word %b[%i] : memref<8xi16>
  func.return
}

// -----

func.func @f(%b: memref<2x4xi8>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_word' reads a 1-D buffer (view it flat), got memref<2x4xi8>
  %w = xpulp.load_word %b[%i] : memref<2x4xi8>
  func.return
}

// -----

func.func @f(%a: i16, %b: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: {{.*}}
  %y = "xpulp.sdotsp_b"(%b, %a, %b) : (i32, i16, i32) -> i32
  func.return
}
