// RUN: mote-opt %s -t c | filecheck %s

// The files `-t c` prints, and the contract of model.h that harnesses rely on: I/O counts and
// byte sizes, the arena size (largest offset + size, rounded up to 8), the typed entry point
// with parameters named from mote.input_names / mote.output_names, and the pointer-array one.

// CHECK:       /* ----- model.h ----- */
// CHECK:        *   ids              int8_t[2][8]  (i8, 16 bytes)
// CHECK-NEXT:   *   mask             uint8_t[8]  (ui8, 8 bytes)
// CHECK-NEXT:   * Outputs, in order:
// CHECK-NEXT:   *   logits_0         int16_t[2][8]  (i16, 32 bytes)
// CHECK:       #define MOTE_MODEL_NUM_INPUTS 2
// CHECK-NEXT:  #define MOTE_MODEL_NUM_OUTPUTS 1
// CHECK-NEXT:  #define MOTE_MODEL_INPUT_BYTES 24 /* all inputs, concatenated */
// CHECK-NEXT:  #define MOTE_MODEL_OUTPUT_BYTES 32 /* all outputs, concatenated */
// CHECK-NEXT:  #define MOTE_MODEL_ARENA_BYTES 104 /* RAM for activations */
// CHECK-NEXT:  #define MOTE_MODEL_ARENA_ALIGN 8
// CHECK:       extern const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS]; /* bytes of each input */
// CHECK-NEXT:  extern const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS]; /* bytes of each output */
// CHECK:       void mote_model_run(uint8_t *arena, const int8_t *ids, const uint8_t *mask, int16_t *logits_0);
// CHECK:       void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs);

// CHECK:       /* ----- model_weights.h ----- */
// CHECK:       extern const int16_t mote_w_emb_scale[8]; /* "emb/scale": memref<8xi16> */

// CHECK:       /* ----- model.c ----- */
// CHECK:       #include "model.h"
// CHECK-NEXT:  #include "model_weights.h"
// CHECK-NOT:   mote_kernels.h
// CHECK:       const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS] = {16, 8};
// CHECK-NEXT:  const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS] = {32};
// CHECK-EMPTY:
// CHECK-NEXT:  static const int16_t mote_table_bias[8] = {
// CHECK-NEXT:    -1,2,-3,4,-5,6,-7,32767,
// CHECK-NEXT:  };
// CHECK-EMPTY:
// CHECK-NEXT:  void mote_model_run(uint8_t *arena, const int8_t *ids, const uint8_t *mask, int16_t *logits_0) {
// CHECK-NEXT:    int16_t *const tmp = (int16_t *)(void *)(arena + 68);
// CHECK-NEXT:    /* qtfm.mul %ids, %scale */
// CHECK-NEXT:    for (int32_t i = 0; i < 2; i++) {
// CHECK-NEXT:      for (int32_t j = 0; j < 8; j++) {
// CHECK-NEXT:        tmp[i * 8 + j] = (int16_t)((int16_t)((int16_t)ids[i * 8 + j] * mote_w_emb_scale[j]) + mote_table_bias[j]);
// CHECK-NEXT:        logits_0[i * 8 + j] = (int16_t)(tmp[i * 8 + j] * (int16_t)mask[j]);
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-EMPTY:
// CHECK-NEXT:  void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs) {
// CHECK-NEXT:    mote_model_run(
// CHECK-NEXT:        arena,
// CHECK-NEXT:        (const int8_t *)inputs[0],
// CHECK-NEXT:        (const uint8_t *)inputs[1],
// CHECK-NEXT:        (int16_t *)outputs[0]);
// CHECK-NEXT:  }
// CHECK-NOT:   model_weights.c
builtin.module attributes {qtfm.weights = "missing.npz"} {
  func.func @model(%a: memref<2x8xi8>, %b: memref<8xui8>, %out: memref<2x8xi16>)
      attributes {mote.num_inputs = 2 : i64, mote.input_names = ["ids", "mask"], mote.output_names = ["logits.0"]} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c8 = arith.constant 8 : index
    %scale = tile.weight "emb/scale" : memref<8xi16>
    %bias = tile.constant dense<[-1, 2, -3, 4, -5, 6, -7, 32767]> : tensor<8xi16> -> memref<8xi16>
    %tmp = tile.alloc #tile.mem<L2> offset 68 : memref<2x8xi16>
    scf.for %i = %c0 to %c2 step %c1 {
      scf.for %j = %c0 to %c8 step %c1 {
        %x = memref.load %a[%i, %j] : memref<2x8xi8>
        %s = memref.load %scale[%j] : memref<8xi16>
        %bj = memref.load %bias[%j] : memref<8xi16>
        %xw = arith.extsi %x : i8 to i16
        %p = arith.muli %xw, %s : i16
        %q = arith.addi %p, %bj : i16
        memref.store %q, %tmp[%i, %j] : memref<2x8xi16>
        %t = memref.load %tmp[%i, %j] : memref<2x8xi16>
        %m = memref.load %b[%j] : memref<8xui8>
        %mw = arith.extui %m : ui8 to i16
        %r = arith.muli %t, %mw : i16
        memref.store %r, %out[%i, %j] : memref<2x8xi16>
      }
    } {mote.note = "qtfm.mul %ids, %scale"}
    func.return
  }
}
