// RUN: not mote-opt %s -p no-such-pass 2>&1 | filecheck %s
// RUN: not mote-opt %s.does-not-exist 2>&1 | filecheck %s --check-prefix=MISSING

// Tool-level user errors (an unknown pass, a missing input file) are one clear message and a
// non-zero exit, never a traceback.

func.func @f() {
  func.return
}

// CHECK-NOT: Traceback
// CHECK:     mote-opt: error: Unrecognized passes: ['no-such-pass']
// CHECK-NOT: Traceback

// MISSING-NOT: Traceback
// MISSING:     mote-opt: error: [Errno 2] No such file or directory: '{{.*}}unknown-pass.mlir.does-not-exist'
// MISSING-NOT: Traceback
