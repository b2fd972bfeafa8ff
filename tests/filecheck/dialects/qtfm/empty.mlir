// RUN: mote-opt %s | mote-opt | filecheck %s
// RUN: mote-opt %s --print-op-generic | mote-opt | filecheck %s

// qtfm.empty: a tensor without an initial value, assembled by kv_append updates.
// CHECK:      %e = qtfm.empty : tensor<1x2x4xi8>
// CHECK-NEXT: %s = qtfm.kv_append %e[%p], %a {axis = 2 : i64}
func.func @assemble(%a: tensor<1x2x4xi8>) -> tensor<1x2x4xi8> {
  %p = arith.constant dense<0> : tensor<i32>
  %e = qtfm.empty : tensor<1x2x4xi8>
  %s = qtfm.kv_append %e[%p], %a {axis = 2 : i64} : (tensor<1x2x4xi8>, tensor<i32>, tensor<1x2x4xi8>) -> tensor<1x2x4xi8>
  func.return %s : tensor<1x2x4xi8>
}
