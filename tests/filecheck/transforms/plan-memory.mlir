// RUN: mote-opt %s -p plan-memory | filecheck %s

// Buffers live at the same time get disjoint bytes; a buffer whose lifetime has ended gives
// its bytes to a later one. The module records the arena size and the lower bound (the
// largest total live at one step): here both are 112 bytes (a and c meet at the slice).
// CHECK: builtin.module attributes {tile.arena_bytes = {L2 = 112 : i64}, tile.arena_lower_bound = {L2 = 112 : i64}}
// CHECK-DAG: %a = tile.alloc #tile.mem<L2> offset [[A:[0-9]+]] : memref<64xi8>
// CHECK-DAG: %b = tile.alloc #tile.mem<L2> offset [[B:[0-9]+]] : memref<32xi8>
// CHECK-DAG: %c = tile.alloc #tile.mem<L2> offset {{[0-9]+}} : memref<48xi8>
// CHECK-DAG: %d = tile.alloc #tile.mem<L2> offset {{[0-9]+}} : memref<48xi8>
builtin.module {
  func.func @main(%x: memref<32xi8>, %y: memref<48xi8>) attributes {mote.num_inputs = 1 : i64} {
    %a = tile.alloc #tile.mem<L2> : memref<64xi8>
    %b = tile.alloc #tile.mem<L2> : memref<32xi8>
    tile.kernel "qtfm.requant" ins(%x : memref<32xi8>) outs(%b : memref<32xi8>) {params = #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed>}
    %a2 = tile.view %a : memref<64xi8> to memref<2x32xi8>
    tile.kernel "qtfm.concat" ins(%b, %b : memref<32xi8>, memref<32xi8>) outs(%a : memref<64xi8>) {axis = 0 : i64}
    %c = tile.alloc #tile.mem<L2> : memref<48xi8>
    tile.kernel "qtfm.slice" ins(%a : memref<64xi8>) outs(%c : memref<48xi8>) {starts = array<i64: 0>, strides = array<i64: 1>}
    %d = tile.alloc #tile.mem<L2> : memref<48xi8>
    tile.kernel "qtfm.requant" ins(%c : memref<48xi8>) outs(%d : memref<48xi8>) {params = #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed>}
    tile.copy %d, %y : memref<48xi8>, memref<48xi8>
    func.return
  }
}
