// RUN: mote-opt %s -t c --split-input-file --verify-diagnostics | filecheck %s

// Ops that a lowering should have removed are errors that name the op and the pass to run.

// CHECK: error: 'tile.kernel' (qtfm.requant) in @unlowered cannot be emitted as C: run tile-to-loops first
builtin.module {
  func.func @unlowered(%x: memref<8xi8>, %y: memref<8xi8>) attributes {mote.num_inputs = 1 : i64} {
    tile.kernel "qtfm.requant" ins(%x : memref<8xi8>) outs(%y : memref<8xi8>) {params = #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed>}
    func.return
  }
}

// -----

// CHECK: error: 'tile.alloc' in @unplanned has no offset: run plan-memory first
builtin.module {
  func.func @unplanned(%x: memref<8xi8>, %y: memref<8xi8>) attributes {mote.num_inputs = 1 : i64} {
    %b = tile.alloc #tile.mem<L2> : memref<8xi8>
    func.return
  }
}

// -----

// CHECK: error: 'math.absi' in @unknown cannot be emitted as C: it is not one of the scf/arith/memref/func/tile ops of the loops stage
builtin.module {
  func.func @unknown(%x: memref<8xi8>, %y: memref<8xi8>) attributes {mote.num_inputs = 1 : i64} {
    %a = arith.constant -1 : i32
    %b = math.absi %a : i32
    func.return
  }
}

// -----

// CHECK: error: 'arith.constant' in @floats: only integer constants, got 1.000000e+00 : f32
builtin.module {
  func.func @floats(%x: memref<8xi8>, %y: memref<8xi8>) attributes {mote.num_inputs = 1 : i64} {
    %a = arith.constant 1.0 : f32
    func.return
  }
}

// -----

// CHECK: error: not implemented yet: buffers in more than one memory level (L1, L2): the C target has one arena
builtin.module {
  func.func @levels(%x: memref<8xi8>, %y: memref<8xi8>) attributes {mote.num_inputs = 1 : i64} {
    %a = tile.alloc #tile.mem<L1> offset 0 : memref<8xi8>
    %b = tile.alloc #tile.mem<L2> offset 0 : memref<8xi8>
    func.return
  }
}

// -----

// CHECK: error: the entry function @no_count needs an integer attribute mote.num_inputs
builtin.module {
  func.func @no_count(%x: memref<8xi8>, %y: memref<8xi8>) {
    func.return
  }
}
