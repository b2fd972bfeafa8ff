// RUN: mote-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the xpulp ops (dialects/xpulp.py).

func.func @f(%x: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.clip' bits must be in 1..32, got 33
  %y = xpulp.clip %x {bits = 33 : i64} : i32
  func.return
}

// -----

func.func @f(%x: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.sra_h' shift must be in 0..15, got 16
  %y = xpulp.sra_h %x {shift = 16 : i64} : i32
  func.return
}

// -----

func.func @f(%b: memref<8xi32>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_word' reads 8- or 16-bit elements, got memref<8xi32>
  %w = xpulp.load_word %b[%i] : memref<8xi32>
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

// -----

func.func @f(%b: memref<8xi64>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_postinc' accesses 8-, 16- or 32-bit integers, got memref<8xi64>
  %x, %n = xpulp.load_postinc %b[%i] step 1 : memref<8xi64>
  func.return
}

// -----

func.func @f(%b: memref<2x4xi8>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_postinc' accesses a 1-D buffer (view it flat), got memref<2x4xi8>
  %x, %n = xpulp.load_postinc %b[%i] step 1 : memref<2x4xi8>
  func.return
}

// -----

func.func @f(%b: memref<8xi16>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_postinc' step of 1024 elements is 2048 bytes, outside the 12-bit immediate's -2048..2047
  %x, %n = xpulp.load_postinc %b[%i] step 1024 : memref<8xi16>
  func.return
}

// -----

func.func @f(%b: memref<8xi32>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.load_postinc' unsigned applies to 8- and 16-bit elements (cv.lw)
  %x, %n = xpulp.load_postinc unsigned %b[%i] step 1 : memref<8xi32>
  func.return
}

// -----

func.func @f(%v: i32, %b: memref<8xi32>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.store_postinc' step of -513 elements is -2052 bytes, outside the 12-bit immediate's -2048..2047
  %n = xpulp.store_postinc %v, %b[%i] step -513 : memref<8xi32>
  func.return
}

// -----

func.func @f(%v: i32, %b: memref<8xf32>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.store_postinc' accesses 8-, 16- or 32-bit integers, got memref<8xf32>
  %n = xpulp.store_postinc %v, %b[%i] step 1 : memref<8xf32>
  func.return
}

// -----

func.func @f(%a: i16, %b: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: {{.*}}
  %y = "xpulp.shuffle2_b"(%b, %a, %b) : (i32, i16, i32) -> i32
  func.return
}

// -----

func.func @f(%n: i16) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: {{.*}}
  xpulp.hwloop count %n : i16 {
  }
  func.return
}

// -----

func.func @f(%n: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.hwloop' iteration argument is i32, the count is index: they must agree
  "xpulp.hwloop"(%n) ({
  ^bb0(%k: i32):
    "xpulp.hwloop_end"() : () -> ()
  }) : (index) -> ()
  func.return
}

// -----

func.func @f(%n: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.hwloop' body takes at most one argument (the iteration), got 2
  "xpulp.hwloop"(%n) ({
  ^bb0(%k: index, %l: index):
    "xpulp.hwloop_end"() : () -> ()
  }) : (index) -> ()
  func.return
}

// -----

func.func @f() {
  %zero = arith.constant 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.hwloop' count must be at least 1, got 0 (a count of 0 runs the body once on CV32E40P)
  xpulp.hwloop count %zero : index {
  }
  func.return
}

// -----

func.func @f(%n: index) {
  xpulp.hwloop count %n : index {
    xpulp.hwloop count %n : index {
      // CHECK: invalid.mlir:[[# @LINE + 1]]:7: error: 'xpulp.hwloop' nested 3 deep: CV32E40P has 2 hardware loop levels
      xpulp.hwloop count %n : index {
      }
    }
  }
  func.return
}

// -----

func.func @f(%n: index, %c: i1) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.hwloop' body must be straight-line code (no branches, jumps or calls on CV32E40P), found 'scf.if'
  xpulp.hwloop count %n : index {
    scf.if %c {
    }
  }
  func.return
}

// -----

func.func private @g()
func.func @f(%n: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.hwloop' body must be straight-line code (no branches, jumps or calls on CV32E40P), found 'func.call'
  xpulp.hwloop count %n : index {
    func.call @g() : () -> ()
  }
  func.return
}

// -----

func.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: {{.*}}
  xpulp.hwloop_end
}

// -----

func.func @f(%a: memref<64xi8>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' kind must be one of sdotsp_b, sdotusp_b, sdotup_b, got 'sdotsp_h'
  %r = xpulp.dot_block %a[%i], %a[%i] init(%z) {kind = "sdotsp_h", rows = 1 : i64, cols = 1 : i64, lhs_stride = 4 : i64, rhs_stride = 4 : i64, words = 1 : i64} : memref<64xi8>, memref<64xi8> -> i32
  func.return
}

// -----

func.func @f(%a: memref<64xi8>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' blocks are 1..4 x 1..4, got 5 x 1
  %r:5 = xpulp.dot_block %a[%i], %a[%i] init(%z, %z, %z, %z, %z) {kind = "sdotsp_b", rows = 5 : i64, cols = 1 : i64, lhs_stride = 4 : i64, rhs_stride = 4 : i64, words = 1 : i64} : memref<64xi8>, memref<64xi8> -> i32, i32, i32, i32, i32
  func.return
}

// -----

func.func @f(%a: memref<64xi8>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' 1 x 2 block needs 2 accumulators, got 1
  %r = xpulp.dot_block %a[%i], %a[%i] init(%z) {kind = "sdotsp_b", rows = 1 : i64, cols = 2 : i64, lhs_stride = 4 : i64, rhs_stride = 4 : i64, words = 1 : i64} : memref<64xi8>, memref<64xi8> -> i32
  func.return
}

// -----

func.func @f(%a: memref<64xi8>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' words must be at least 1, got 0
  %r = xpulp.dot_block %a[%i], %a[%i] init(%z) {kind = "sdotsp_b", rows = 1 : i64, cols = 1 : i64, lhs_stride = 4 : i64, rhs_stride = 4 : i64, words = 0 : i64} : memref<64xi8>, memref<64xi8> -> i32
  func.return
}

// -----

func.func @f(%a: memref<64xi8>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' strides must be positive multiples of 4, got (6, 4)
  %r = xpulp.dot_block %a[%i], %a[%i] init(%z) {kind = "sdotsp_b", rows = 1 : i64, cols = 1 : i64, lhs_stride = 6 : i64, rhs_stride = 4 : i64, words = 1 : i64} : memref<64xi8>, memref<64xi8> -> i32
  func.return
}

// -----

func.func @f(%a: memref<64xi8>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' row offsets exceed the 12-bit load immediate (strides (1100, 4))
  %r:3 = xpulp.dot_block %a[%i], %a[%i] init(%z, %z, %z) {kind = "sdotsp_b", rows = 3 : i64, cols = 1 : i64, lhs_stride = 1100 : i64, rhs_stride = 4 : i64, words = 1 : i64} : memref<64xi8>, memref<64xi8> -> i32, i32, i32
  func.return
}

// -----

func.func @f(%a: memref<64xi16>, %z: i32, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: 'xpulp.dot_block' reads flat 8-bit buffers, got memref<64xi16>
  %r = xpulp.dot_block %a[%i], %a[%i] init(%z) {kind = "sdotsp_b", rows = 1 : i64, cols = 1 : i64, lhs_stride = 4 : i64, rhs_stride = 4 : i64, words = 1 : i64} : memref<64xi16>, memref<64xi16> -> i32
  func.return
}
