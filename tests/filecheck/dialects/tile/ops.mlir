// RUN: MOTE_ROUNDTRIP
// RUN: MOTE_GENERIC_ROUNDTRIP

// Every tile op in its custom syntax, printed back identically after a generic round trip.
// CHECK-LABEL: func.func @buffers
// CHECK-NEXT:    %x = tile.alloc #tile.mem<L2> offset 64 : memref<4x8xi32>
// CHECK-NEXT:    %u = tile.alloc #tile.mem<L1> : memref<4x8xi8>
// CHECK-NEXT:    %w = tile.weight "l0.w" : memref<8x8xi8>
// CHECK-NEXT:    %c = tile.constant dense<1> : tensor<8xi32> -> memref<8xi32>
// CHECK-NEXT:    tile.kernel "qtfm.linear" ins(%a, %w, %c : memref<4x8xi8>, memref<8x8xi8>, memref<8xi32>) outs(%x : memref<4x8xi32>)
// CHECK-NEXT:    %v = tile.view %x : memref<4x8xi32> to memref<32xi32>
// CHECK-NEXT:    tile.kernel "qtfm.requant" ins(%x : memref<4x8xi32>) outs(%o : memref<4x8xi8>) {params = #qtfm.requant<mul = 3, add = 0, shift = 2, levels = 256, signed>}
// CHECK-NEXT:    %i = arith.constant 8 : index
// CHECK-NEXT:    %r = tile.window %a[%i] : memref<4x8xi8> to memref<8xi8>
// CHECK-NEXT:    tile.copy %a, %u : memref<4x8xi8>, memref<4x8xi8>
// CHECK-GENERIC: "tile.alloc"() <{level = #tile.mem<L2>, offset = 64 : i64}> : () -> memref<4x8xi32>
// CHECK-GENERIC: "tile.kernel"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{kind = "qtfm.linear", operandSegmentSizes = array<i32: 3, 1>}>
func.func @buffers(%a: memref<4x8xi8>, %o: memref<4x8xi8>) {
  %x = tile.alloc #tile.mem<L2> offset 64 : memref<4x8xi32>
  %u = tile.alloc #tile.mem<L1> : memref<4x8xi8>
  %w = tile.weight "l0.w" : memref<8x8xi8>
  %c = tile.constant dense<1> : tensor<8xi32> -> memref<8xi32>
  tile.kernel "qtfm.linear" ins(%a, %w, %c : memref<4x8xi8>, memref<8x8xi8>, memref<8xi32>) outs(%x : memref<4x8xi32>)
  %v = tile.view %x : memref<4x8xi32> to memref<32xi32>
  tile.kernel "qtfm.requant" ins(%x : memref<4x8xi32>) outs(%o : memref<4x8xi8>) {params = #qtfm.requant<mul = 3, add = 0, shift = 2, levels = 256, signed>}
  %i = arith.constant 8 : index
  %r = tile.window %a[%i] : memref<4x8xi8> to memref<8xi8>
  tile.copy %a, %u : memref<4x8xi8>, memref<4x8xi8>
  func.return
}
