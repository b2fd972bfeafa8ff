// RUN: MOTE_ROUNDTRIP
// RUN: MOTE_GENERIC_ROUNDTRIP

// Every xpulp op in its custom syntax, printed back identically after a generic round trip.
// CHECK-LABEL: func.func @simd
// CHECK-NEXT:    %w = xpulp.load_word %buf[%i] : memref<16xi8>
// CHECK-NEXT:    %0 = xpulp.sdotsp_b %acc, %a, %w : i32
// CHECK-NEXT:    %1 = xpulp.sdotusp_b %0, %a, %b : i32
// CHECK-NEXT:    %2 = xpulp.sdotup_b %1, %a, %b : i32
// CHECK-NEXT:    %3 = xpulp.sdotsp_h %2, %a, %b : i32
// CHECK-NEXT:    %4 = xpulp.mac %3, %a, %b : i32
// CHECK-NEXT:    %5 = xpulp.clip %4 {bits = 8 : i64} : i32
// CHECK-NEXT:    %6 = xpulp.min %5, %a : i32
// CHECK-NEXT:    %7 = xpulp.max %6, %b : i32
// CHECK-GENERIC: "xpulp.sdotsp_b"(%{{.*}}, %{{.*}}, %{{.*}}) : (i32, i32, i32) -> i32
// CHECK-GENERIC: "xpulp.clip"(%{{.*}}) <{bits = 8 : i64}> : (i32) -> i32
func.func @simd(%acc: i32, %a: i32, %b: i32, %buf: memref<16xi8>, %i: index) -> i32 {
  %w = xpulp.load_word %buf[%i] : memref<16xi8>
  %0 = xpulp.sdotsp_b %acc, %a, %w : i32
  %1 = xpulp.sdotusp_b %0, %a, %b : i32
  %2 = xpulp.sdotup_b %1, %a, %b : i32
  %3 = xpulp.sdotsp_h %2, %a, %b : i32
  %4 = xpulp.mac %3, %a, %b : i32
  %5 = xpulp.clip %4 {bits = 8 : i64} : i32
  %6 = xpulp.min %5, %a : i32
  %7 = xpulp.max %6, %b : i32
  func.return %7 : i32
}
