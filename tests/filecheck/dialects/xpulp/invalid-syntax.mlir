// RUN: mote-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Parse errors of the xpulp ops' custom syntax (dialects/xpulp.py): `file:line:col`, the
// source line, a caret line, then the message.

// CHECK: invalid-syntax.mlir:[[# @LINE + 3]]:21
// CHECK: expected `lo` or `hi`
func.func @f(%a: i32, %b: i32) {
  %y = xpulp.pack_b mid %a, %a, %b : i32
  func.return
}

// -----

// CHECK: invalid-syntax.mlir:[[# @LINE + 3]]:37
// CHECK: Expected 'step'
func.func @f(%b: memref<8xi8>, %i: index) {
  %x, %n = xpulp.load_postinc %b[%i], 1 : memref<8xi8>
  func.return
}

// -----

// CHECK: invalid-syntax.mlir:[[# @LINE + 3]]:19
// CHECK: Expected ','
func.func @f(%n: index) {
  xpulp.hwloop %k = 0 to %n : index {
  }
  func.return
}

// -----

// A hardware loop's body ends at its (implicit) xpulp.hwloop_end, nothing else.
// CHECK: invalid-syntax.mlir:[[# @LINE + 3]]:3
// CHECK: 'xpulp.hwloop' terminates with operation func.return instead of xpulp.hwloop_end
func.func @f(%n: index) {
  xpulp.hwloop count %n : index {
    func.return
  }
  func.return
}
