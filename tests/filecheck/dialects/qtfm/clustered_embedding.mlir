// RUN: MOTE_ROUNDTRIP
// RUN: MOTE_GENERIC_ROUNDTRIP

// qtfm.clustered_embedding in its custom syntax survives custom -> generic -> custom, and its
// generic form carries every property. One lookup with int8 coefficients (two clusters, one of
// rank 0), one with int4 coefficients and 16-bit ids, clusters and result.

// CHECK:      func.func @lookup(%ids: tensor<1x5xi32>) -> tensor<1x5x4xi8> {
// CHECK-NEXT:   %c = qtfm.weight "emb.clusters" : tensor<10xui8>
// CHECK-NEXT:   %o = qtfm.weight "emb.offsets" : tensor<3xi32>
// CHECK-NEXT:   %a = qtfm.weight "emb.coefficients" : tensor<20xi8>
// CHECK-NEXT:   %b = qtfm.weight "emb.bases" : tensor<3x4xi8>
// CHECK-NEXT:   %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 3, 0>, muls = array<i64: 3, 2147483647>, shifts = array<i64: 2, 62>} : (tensor<1x5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<1x5x4xi8>
// CHECK-NEXT:   func.return %e : tensor<1x5x4xi8>
// CHECK-NEXT: }

// CHECK-GENERIC: %e = "qtfm.clustered_embedding"(%ids, %c, %o, %a, %b) <{block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 3, 0>, muls = array<i64: 3, 2147483647>, shifts = array<i64: 2, 62>}> : (tensor<1x5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<1x5x4xi8>
func.func @lookup(%ids: tensor<1x5xi32>) -> tensor<1x5x4xi8> {
  %c = qtfm.weight "emb.clusters" : tensor<10xui8>
  %o = qtfm.weight "emb.offsets" : tensor<3xi32>
  %a = qtfm.weight "emb.coefficients" : tensor<20xi8>
  %b = qtfm.weight "emb.bases" : tensor<3x4xi8>
  %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 4 : i64, coef_bits = 8 : i64, ranks = array<i64: 3, 0>, muls = array<i64: 3, 2147483647>, shifts = array<i64: 2, 62>} : (tensor<1x5xi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x4xi8>) -> tensor<1x5x4xi8>
  func.return %e : tensor<1x5x4xi8>
}

// -----

// CHECK:      func.func @int4(%ids: tensor<7xi16>, %c: tensor<300xui16>, %o: tensor<5xi32>, %a: tensor<600xi8>, %b: tensor<9x6xi8>) -> tensor<7x6xi16> {
// CHECK-NEXT:   %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 64 : i64, coef_bits = 4 : i64, ranks = array<i64: 6, 1, 2>, muls = array<i64: 0, 1, 5>, shifts = array<i64: 0, 1, 40>} : (tensor<7xi16>, tensor<300xui16>, tensor<5xi32>, tensor<600xi8>, tensor<9x6xi8>) -> tensor<7x6xi16>
// CHECK-GENERIC: "qtfm.clustered_embedding"(%{{.*}}) <{block = 64 : i64, coef_bits = 4 : i64, ranks = array<i64: 6, 1, 2>, muls = array<i64: 0, 1, 5>, shifts = array<i64: 0, 1, 40>}> : (tensor<7xi16>, tensor<300xui16>, tensor<5xi32>, tensor<600xi8>, tensor<9x6xi8>) -> tensor<7x6xi16>
func.func @int4(%ids: tensor<7xi16>, %c: tensor<300xui16>, %o: tensor<5xi32>, %a: tensor<600xi8>, %b: tensor<9x6xi8>) -> tensor<7x6xi16> {
  %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 64 : i64, coef_bits = 4 : i64, ranks = array<i64: 6, 1, 2>, muls = array<i64: 0, 1, 5>, shifts = array<i64: 0, 1, 40>} : (tensor<7xi16>, tensor<300xui16>, tensor<5xi32>, tensor<600xi8>, tensor<9x6xi8>) -> tensor<7x6xi16>
  func.return %e : tensor<7x6xi16>
}
