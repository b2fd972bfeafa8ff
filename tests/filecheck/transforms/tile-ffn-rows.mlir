// RUN: mote-opt %s -p 'tile-ffn-rows{rows=2}' | filecheck %s

// The feed-forward block (widening linear, activation table, narrowing linear) runs on 2, 2
// and 1 rows of the 5-row input: the 5 x 8 intermediates exist 2 x 8 at a time.
// CHECK:      func.func @ffn
// CHECK:        %{{.*}} = qtfm.slice %x starts = array<i64: 0, 0, 0> strides = array<i64: 1, 1, 1> : tensor<1x5x4xi8> -> tensor<1x2x4xi8>
// CHECK-NEXT:   %h_r0 = qtfm.linear %{{.*}}, %w1 requant {{.*}} -> tensor<1x2x8xi8>
// CHECK-NEXT:   %a_r0 = qtfm.lut %h_r0, %t : (tensor<1x2x8xi8>, tensor<256xi8>) -> tensor<1x2x8xi8>
// CHECK-NEXT:   %y_r0 = qtfm.linear %a_r0, %w2 requant {{.*}} -> tensor<1x2x4xi8>
// CHECK:        %y_r4 = qtfm.linear {{.*}} -> tensor<1x1x4xi8>
// CHECK-NEXT:   %y = qtfm.concat %y_r0, %y_r2, %y_r4 {axis = 1 : i64}
// CHECK-NEXT:   %z = qtfm.add %y, %x
func.func @ffn(%x: tensor<1x5x4xi8>) -> tensor<1x5x4xi8> {
  %w1 = qtfm.weight "w1" : tensor<4x8xi8>
  %w2 = qtfm.weight "w2" : tensor<8x4xi8>
  %t = qtfm.weight "t" : tensor<256xi8>
  %h = qtfm.linear %x, %w1 requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<4x8xi8>) -> tensor<1x5x8xi8>
  %a = qtfm.lut %h, %t : (tensor<1x5x8xi8>, tensor<256xi8>) -> tensor<1x5x8xi8>
  %y = qtfm.linear %a, %w2 requant #qtfm.requant<mul = 1, add = 0, shift = 4, levels = 256, signed> : (tensor<1x5x8xi8>, tensor<8x4xi8>) -> tensor<1x5x4xi8>
  %z = qtfm.add %y, %x requant #qtfm.requant<mul = 1, add = 0, shift = 1, levels = 256, signed> : (tensor<1x5x4xi8>, tensor<1x5x4xi8>) -> tensor<1x5x4xi8>
  func.return %z : tensor<1x5x4xi8>
}
