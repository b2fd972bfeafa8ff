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
// CHECK-NEXT:    %8 = xpulp.sdotusp_h %7, %a, %b : i32
// CHECK-NEXT:    %9 = xpulp.sra_h %8 {shift = 8 : i64} : i32
// CHECK-GENERIC: "xpulp.sdotsp_b"(%{{.*}}, %{{.*}}, %{{.*}}) : (i32, i32, i32) -> i32
// CHECK-GENERIC: "xpulp.clip"(%{{.*}}) <{bits = 8 : i64}> : (i32) -> i32
// CHECK-GENERIC: "xpulp.sra_h"(%{{.*}}) <{shift = 8 : i64}> : (i32) -> i32
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
  %8 = xpulp.sdotusp_h %7, %a, %b : i32
  %9 = xpulp.sra_h %8 {shift = 8 : i64} : i32
  func.return %9 : i32
}

// -----

// Packing and shuffling: pack_b's half is a keyword (`lo` = cv.packlo.b, `hi` = cv.packhi.b)
// and a unit property in the generic form.
// CHECK-LABEL: func.func @pack
// CHECK-NEXT:    %0 = xpulp.pack_h %a, %b : i32
// CHECK-NEXT:    %1 = xpulp.pack_b lo %0, %a, %b : i32
// CHECK-NEXT:    %2 = xpulp.pack_b hi %1, %a, %b : i32
// CHECK-NEXT:    %3 = xpulp.pack4_b %a, %b, %2, %a : i32
// CHECK-NEXT:    %4 = xpulp.shuffle_b %3, %b : i32
// CHECK-NEXT:    %5 = xpulp.shuffle2_b %4, %a, %b : i32
// CHECK-GENERIC: "xpulp.pack_b"(%{{.*}}, %{{.*}}, %{{.*}}) : (i32, i32, i32) -> i32
// CHECK-GENERIC: "xpulp.pack_b"(%{{.*}}, %{{.*}}, %{{.*}}) <{hi}> : (i32, i32, i32) -> i32
// CHECK-GENERIC: "xpulp.shuffle2_b"(%{{.*}}, %{{.*}}, %{{.*}}) : (i32, i32, i32) -> i32
func.func @pack(%a: i32, %b: i32) -> i32 {
  %0 = xpulp.pack_h %a, %b : i32
  %1 = xpulp.pack_b lo %0, %a, %b : i32
  %2 = xpulp.pack_b hi %1, %a, %b : i32
  %3 = xpulp.pack4_b %a, %b, %2, %a : i32
  %4 = xpulp.shuffle_b %3, %b : i32
  %5 = xpulp.shuffle2_b %4, %a, %b : i32
  func.return %5 : i32
}

// -----

// Post-increment loads and stores: the value (sign- or zero-extended to i32) and the next
// index; steps in elements, negative allowed.
// CHECK-LABEL: func.func @postinc
// CHECK-NEXT:    %x, %next = xpulp.load_postinc %buf[%i] step 1 : memref<16xi8>
// CHECK-NEXT:    %u, %next2 = xpulp.load_postinc unsigned %h[%next] step -2 : memref<8xi16>
// CHECK-NEXT:    %w, %next3 = xpulp.load_postinc %words[%next2] step 511 : memref<4xi32>
// CHECK-NEXT:    %next4 = xpulp.store_postinc %u, %buf[%next3] step 4 : memref<16xi8>
// CHECK-NEXT:    %next5 = xpulp.store_postinc %w, %h[%next4] step -1024 : memref<8xi16>
// CHECK-GENERIC: "xpulp.load_postinc"(%{{.*}}, %{{.*}}) <{step = -2 : i64, unsigned}> : (memref<8xi16>, index) -> (i32, index)
// CHECK-GENERIC: "xpulp.store_postinc"(%{{.*}}, %{{.*}}, %{{.*}}) <{step = 4 : i64}> : (i32, memref<16xi8>, index) -> index
func.func @postinc(%buf: memref<16xi8>, %h: memref<8xi16>, %words: memref<4xi32>, %i: index) -> index {
  %x, %next = xpulp.load_postinc %buf[%i] step 1 : memref<16xi8>
  %u, %next2 = xpulp.load_postinc unsigned %h[%next] step -2 : memref<8xi16>
  %w, %next3 = xpulp.load_postinc %words[%next2] step 511 : memref<4xi32>
  %next4 = xpulp.store_postinc %u, %buf[%next3] step 4 : memref<16xi8>
  %next5 = xpulp.store_postinc %w, %h[%next4] step -1024 : memref<8xi16>
  func.return %next5 : index
}

// -----

// Hardware loops: with or without an iteration value, two levels, the terminator implicit.
// CHECK-LABEL: func.func @hwloop
// CHECK-NEXT:    xpulp.hwloop count %n : index {
// CHECK-NEXT:      xpulp.hwloop %k, count %m : i32 {
// CHECK-NEXT:        %x = xpulp.mac %a, %a, %k : i32
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    xpulp.hwloop %j, count %n : index {
// CHECK-NEXT:      %v, %next = xpulp.load_postinc %buf[%j] step 1 : memref<16xi8>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
// CHECK-GENERIC:      "xpulp.hwloop"(%{{.*}}) ({
// CHECK-GENERIC-NEXT:   "xpulp.hwloop"(%{{.*}}) ({
// CHECK-GENERIC-NEXT:   ^{{.*}}(%{{.*}}: i32):
// CHECK-GENERIC:          "xpulp.hwloop_end"() : () -> ()
// CHECK-GENERIC-NEXT:   }) : (i32) -> ()
// CHECK-GENERIC-NEXT:   "xpulp.hwloop_end"() : () -> ()
// CHECK-GENERIC-NEXT: }) : (index) -> ()
func.func @hwloop(%a: i32, %n: index, %m: i32, %buf: memref<16xi8>) {
  xpulp.hwloop count %n : index {
    xpulp.hwloop %k, count %m : i32 {
      %x = xpulp.mac %a, %a, %k : i32
    }
  }
  xpulp.hwloop %j, count %n : index {
    %v, %next = xpulp.load_postinc %buf[%j] step 1 : memref<16xi8>
    xpulp.hwloop_end
  }
  func.return
}

// -----

// A register block's reduction as one hardware loop: its parameters are properties.
// CHECK-LABEL: func.func @dot_block
// CHECK-NEXT:    %acc, %acc_1, %acc_2, %acc_3 = xpulp.dot_block %a[%i], %w[%j] init(%z, %z, %z, %z) {kind = "sdotusp_b", rows = 2 : i64, cols = 2 : i64, lhs_stride = 64 : i64, rhs_stride = 128 : i64, words = 16 : i64} : memref<256xui8>, memref<512xi8> -> i32, i32, i32, i32
// CHECK-GENERIC: "xpulp.dot_block"(%a, %i, %w, %j, %z, %z, %z, %z) <{kind = "sdotusp_b", rows = 2 : i64, cols = 2 : i64, lhs_stride = 64 : i64, rhs_stride = 128 : i64, words = 16 : i64}>
func.func @dot_block(%a: memref<256xui8>, %w: memref<512xi8>, %i: index, %j: index, %z: i32) -> i32 {
  %acc:4 = xpulp.dot_block %a[%i], %w[%j] init(%z, %z, %z, %z) {kind = "sdotusp_b", rows = 2 : i64, cols = 2 : i64, lhs_stride = 64 : i64, rhs_stride = 128 : i64, words = 16 : i64} : memref<256xui8>, memref<512xi8> -> i32, i32, i32, i32
  func.return %acc#3 : i32
}
