/* mote_kernels.h: the hand-written C kernels of the qtfm ops that are not plain loops
 * (the two softmaxes, the norms, GELU, hardswish, the two divisions, the masked mean).
 *
 * Why hand-written: each needs per-row reductions, integer square roots or divisions whose
 * exactness depends on magnitude arguments (docs/quantization.md section 5) that a loop
 * generator should not have to re-derive. Every function produces exactly the integers of
 * compiler/reference/kernels.py on every input the reference accepts; docs/runtime_kernels.md
 * explains the 32-bit fast paths and why they are exact. compiler/backend/runtime_kernels.py
 * maps an op to a function name and its scalar arguments.
 *
 * Conventions (all functions):
 *  - void; pointers first (inputs `const T *`, then the optional mask, then the output), then
 *    sizes and parameters, all int32_t (no parameter needs 64 bits).
 *  - "rows, n": `rows` contiguous rows of `n` elements; row-wise ops work along the last axis.
 *    The elementwise ops (gelu, hardswish, div) treat them as rows * n elements.
 *  - Names: mote_<op>_<types>, one type suffix per pointer argument in argument order, except
 *    the int32_t weight and bias of the norms: i8 = int8_t, u8 = uint8_t, i16 = int16_t,
 *    u16 = uint16_t, i32 = int32_t (MLIR uiN is uN; iN and siN are iN). The lists below are
 *    every combination the qtfm verifier allows.
 *  - No allocation, no global state, no floating point. Stack: a few words, except softmax
 *    (a buffer of MOTE_SOFTMAX_ROW_BUFFER uint32, default 256 = 1 KiB; compile-time option).
 *  - Results are defined for the inputs the reference accepts (e.g. an elementwise result that
 *    fits int32, positive int_div denominators); other inputs give unspecified values but
 *    never trap.
 *  - Functions are independent: link with -ffunction-sections and --gc-sections so that only
 *    the variants a program calls take flash.
 */
#ifndef MOTE_KERNELS_H
#define MOTE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * qtfm.softmax: docs/quantization.md section 3 "qtfm.softmax" (I-BERT, Deeploy iSoftmax).
 * Per row of n elements: e = (coeff_a * (p + coeff_b)^2 + coeff_c) >> z over the kept
 * elements, y = floor(e * (levels - 1) / sum(e)). coeff_a..levels are the #qtfm.softmax fields
 * as verified (coeff_a, log2 > 0; coeff_b, coeff_c >= 0; 2 <= levels <= 65536).
 * x in {i8, u8, i16, u16}; y in {i8, u8, i16, u16, i32} (it must hold levels - 1).
 */
void mote_softmax_i8_i8(const int8_t *x, int8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i8_u8(const int8_t *x, uint8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i8_i16(const int8_t *x, int16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i8_u16(const int8_t *x, uint16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i8_i32(const int8_t *x, int32_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u8_i8(const uint8_t *x, int8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u8_u8(const uint8_t *x, uint8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u8_i16(const uint8_t *x, int16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u8_u16(const uint8_t *x, uint16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u8_i32(const uint8_t *x, int32_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i16_i8(const int16_t *x, int8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i16_u8(const int16_t *x, uint8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i16_i16(const int16_t *x, int16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i16_u16(const int16_t *x, uint16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_i16_i32(const int16_t *x, int32_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u16_i8(const uint16_t *x, int8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u16_u8(const uint16_t *x, uint8_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u16_i16(const uint16_t *x, int16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u16_u16(const uint16_t *x, uint16_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_u16_i32(const uint16_t *x, int32_t *y, int32_t rows, int32_t n, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);

/* Masked softmax: mask element (r, j) of row r is mask[r * mask_row_stride +
 * j * mask_col_stride] (strides in elements; 0 broadcasts); non-zero keeps. A masked element
 * takes no part in the maximum or the sum and gives 0; an all-masked row is all 0.
 * mask in {i8, u8, i16, u16, i32}.
 */
void mote_softmax_mask_i8_i8_i8(const int8_t *x, const int8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i8_u8(const int8_t *x, const int8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i8_i16(const int8_t *x, const int8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i8_u16(const int8_t *x, const int8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i8_i32(const int8_t *x, const int8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u8_i8(const int8_t *x, const uint8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u8_u8(const int8_t *x, const uint8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u8_i16(const int8_t *x, const uint8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u8_u16(const int8_t *x, const uint8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u8_i32(const int8_t *x, const uint8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i16_i8(const int8_t *x, const int16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i16_u8(const int8_t *x, const int16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i16_i16(const int8_t *x, const int16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i16_u16(const int8_t *x, const int16_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i16_i32(const int8_t *x, const int16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u16_i8(const int8_t *x, const uint16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u16_u8(const int8_t *x, const uint16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u16_i16(const int8_t *x, const uint16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u16_u16(const int8_t *x, const uint16_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_u16_i32(const int8_t *x, const uint16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i32_i8(const int8_t *x, const int32_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i32_u8(const int8_t *x, const int32_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i32_i16(const int8_t *x, const int32_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i32_u16(const int8_t *x, const int32_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i8_i32_i32(const int8_t *x, const int32_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i8_i8(const uint8_t *x, const int8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i8_u8(const uint8_t *x, const int8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i8_i16(const uint8_t *x, const int8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i8_u16(const uint8_t *x, const int8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i8_i32(const uint8_t *x, const int8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u8_i8(const uint8_t *x, const uint8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u8_u8(const uint8_t *x, const uint8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u8_i16(const uint8_t *x, const uint8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u8_u16(const uint8_t *x, const uint8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u8_i32(const uint8_t *x, const uint8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i16_i8(const uint8_t *x, const int16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i16_u8(const uint8_t *x, const int16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i16_i16(const uint8_t *x, const int16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i16_u16(const uint8_t *x, const int16_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i16_i32(const uint8_t *x, const int16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u16_i8(const uint8_t *x, const uint16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u16_u8(const uint8_t *x, const uint16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u16_i16(const uint8_t *x, const uint16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u16_u16(const uint8_t *x, const uint16_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_u16_i32(const uint8_t *x, const uint16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i32_i8(const uint8_t *x, const int32_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i32_u8(const uint8_t *x, const int32_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i32_i16(const uint8_t *x, const int32_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i32_u16(const uint8_t *x, const int32_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u8_i32_i32(const uint8_t *x, const int32_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i8_i8(const int16_t *x, const int8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i8_u8(const int16_t *x, const int8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i8_i16(const int16_t *x, const int8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i8_u16(const int16_t *x, const int8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i8_i32(const int16_t *x, const int8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u8_i8(const int16_t *x, const uint8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u8_u8(const int16_t *x, const uint8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u8_i16(const int16_t *x, const uint8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u8_u16(const int16_t *x, const uint8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u8_i32(const int16_t *x, const uint8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i16_i8(const int16_t *x, const int16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i16_u8(const int16_t *x, const int16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i16_i16(const int16_t *x, const int16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i16_u16(const int16_t *x, const int16_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i16_i32(const int16_t *x, const int16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u16_i8(const int16_t *x, const uint16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u16_u8(const int16_t *x, const uint16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u16_i16(const int16_t *x, const uint16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u16_u16(const int16_t *x, const uint16_t *mask, uint16_t *y,
    int32_t rows, int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_u16_i32(const int16_t *x, const uint16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i32_i8(const int16_t *x, const int32_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i32_u8(const int16_t *x, const int32_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i32_i16(const int16_t *x, const int32_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i32_u16(const int16_t *x, const int32_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_i16_i32_i32(const int16_t *x, const int32_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i8_i8(const uint16_t *x, const int8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i8_u8(const uint16_t *x, const int8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i8_i16(const uint16_t *x, const int8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i8_u16(const uint16_t *x, const int8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i8_i32(const uint16_t *x, const int8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u8_i8(const uint16_t *x, const uint8_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u8_u8(const uint16_t *x, const uint8_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u8_i16(const uint16_t *x, const uint8_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u8_u16(const uint16_t *x, const uint8_t *mask, uint16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u8_i32(const uint16_t *x, const uint8_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i16_i8(const uint16_t *x, const int16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i16_u8(const uint16_t *x, const int16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i16_i16(const uint16_t *x, const int16_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i16_u16(const uint16_t *x, const int16_t *mask, uint16_t *y,
    int32_t rows, int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i16_i32(const uint16_t *x, const int16_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u16_i8(const uint16_t *x, const uint16_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u16_u8(const uint16_t *x, const uint16_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u16_i16(const uint16_t *x, const uint16_t *mask, int16_t *y,
    int32_t rows, int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u16_u16(const uint16_t *x, const uint16_t *mask, uint16_t *y,
    int32_t rows, int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_u16_i32(const uint16_t *x, const uint16_t *mask, int32_t *y,
    int32_t rows, int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i32_i8(const uint16_t *x, const int32_t *mask, int8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i32_u8(const uint16_t *x, const int32_t *mask, uint8_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i32_i16(const uint16_t *x, const int32_t *mask, int16_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i32_u16(const uint16_t *x, const int32_t *mask, uint16_t *y,
    int32_t rows, int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a,
    int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels);
void mote_softmax_mask_u16_i32_i32(const uint16_t *x, const int32_t *mask, int32_t *y, int32_t rows,
    int32_t n, int32_t mask_row_stride, int32_t mask_col_stride, int32_t coeff_a, int32_t coeff_b,
    int32_t coeff_c, int32_t log2, int32_t levels);

/* ---------------------------------------------------------------------------------------------
 * qtfm.ita_softmax: section 3 "qtfm.ita_softmax" (ITAMax, 256 levels), no parameters.
 * x in {i8, u8}; y in {u8, i16, u16, i32} (it must hold 255).
 */
void mote_ita_softmax_i8_u8(const int8_t *x, uint8_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_i8_i16(const int8_t *x, int16_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_i8_u16(const int8_t *x, uint16_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_i8_i32(const int8_t *x, int32_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_u8_u8(const uint8_t *x, uint8_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_u8_i16(const uint8_t *x, int16_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_u8_u16(const uint8_t *x, uint16_t *y, int32_t rows, int32_t n);
void mote_ita_softmax_u8_i32(const uint8_t *x, int32_t *y, int32_t rows, int32_t n);

/* ---------------------------------------------------------------------------------------------
 * qtfm.rmsnorm: section 3 "qtfm.rmsnorm" (Deeploy iRMSNorm).
 * y = clamp(floor(x * weight / isqrt(sum(x^2) // n + 1)) >> shift, -hi - 1, hi) per row.
 * weight: n int32 values (a weight of a narrower type is passed widened to int32);
 * shift: the attribute's shift (0..62); hi = levels / 2 - 1 (so the clamp is
 * [-levels/2, levels/2 - 1]). x in {i8, u8, i16, u16}; y in {i8, i16, i32}.
 */
void mote_rmsnorm_i8_i8(const int8_t *x, const int32_t *weight, int8_t *y, int32_t rows, int32_t n,
    int32_t shift, int32_t hi);
void mote_rmsnorm_i8_i16(const int8_t *x, const int32_t *weight, int16_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_i8_i32(const int8_t *x, const int32_t *weight, int32_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_u8_i8(const uint8_t *x, const int32_t *weight, int8_t *y, int32_t rows, int32_t n,
    int32_t shift, int32_t hi);
void mote_rmsnorm_u8_i16(const uint8_t *x, const int32_t *weight, int16_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_u8_i32(const uint8_t *x, const int32_t *weight, int32_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_i16_i8(const int16_t *x, const int32_t *weight, int8_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_i16_i16(const int16_t *x, const int32_t *weight, int16_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_i16_i32(const int16_t *x, const int32_t *weight, int32_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_u16_i8(const uint16_t *x, const int32_t *weight, int8_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_u16_i16(const uint16_t *x, const int32_t *weight, int16_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);
void mote_rmsnorm_u16_i32(const uint16_t *x, const int32_t *weight, int32_t *y, int32_t rows,
    int32_t n, int32_t shift, int32_t hi);

/* ---------------------------------------------------------------------------------------------
 * qtfm.layernorm: section 3 "qtfm.layernorm" (floor divisions).
 * qtfm.layernorm_trunc: section 3 "qtfm.layernorm_trunc" (Deeploy iLayerNorm; C's truncating
 * divisions for the mean and the normalised product).
 * weight, bias: n int32 values each; shift and hi as for rmsnorm.
 * layernorm: x in {i8, u8, i16, u16}; layernorm_trunc: x in {i8, u8}; y in {i8, i16, i32}.
 */
void mote_layernorm_i8_i8(const int8_t *x, const int32_t *weight, const int32_t *bias, int8_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_i8_i16(const int8_t *x, const int32_t *weight, const int32_t *bias, int16_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_i8_i32(const int8_t *x, const int32_t *weight, const int32_t *bias, int32_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_u8_i8(const uint8_t *x, const int32_t *weight, const int32_t *bias, int8_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_u8_i16(const uint8_t *x, const int32_t *weight, const int32_t *bias, int16_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_u8_i32(const uint8_t *x, const int32_t *weight, const int32_t *bias, int32_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_i16_i8(const int16_t *x, const int32_t *weight, const int32_t *bias, int8_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_i16_i16(const int16_t *x, const int32_t *weight, const int32_t *bias,
    int16_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_i16_i32(const int16_t *x, const int32_t *weight, const int32_t *bias,
    int32_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_u16_i8(const uint16_t *x, const int32_t *weight, const int32_t *bias, int8_t *y,
    int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_u16_i16(const uint16_t *x, const int32_t *weight, const int32_t *bias,
    int16_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_u16_i32(const uint16_t *x, const int32_t *weight, const int32_t *bias,
    int32_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);

void mote_layernorm_trunc_i8_i8(const int8_t *x, const int32_t *weight, const int32_t *bias,
    int8_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_trunc_i8_i16(const int8_t *x, const int32_t *weight, const int32_t *bias,
    int16_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_trunc_i8_i32(const int8_t *x, const int32_t *weight, const int32_t *bias,
    int32_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_trunc_u8_i8(const uint8_t *x, const int32_t *weight, const int32_t *bias,
    int8_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_trunc_u8_i16(const uint8_t *x, const int32_t *weight, const int32_t *bias,
    int16_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);
void mote_layernorm_trunc_u8_i32(const uint8_t *x, const int32_t *weight, const int32_t *bias,
    int32_t *y, int32_t rows, int32_t n, int32_t shift, int32_t hi);

/* ---------------------------------------------------------------------------------------------
 * qtfm.gelu: section 3 "qtfm.gelu" (I-BERT i-GELU), y = x * ((one + L) >> 1), b and one the
 * attribute fields (-2^15 <= b <= -1, 1 <= one < 2^31). x in {i8, u8, i16, u16}.
 */
void mote_gelu_i8_i32(const int8_t *x, int32_t *y, int32_t rows, int32_t n, int32_t b, int32_t one);
void mote_gelu_u8_i32(const uint8_t *x, int32_t *y, int32_t rows, int32_t n, int32_t b,
    int32_t one);
void mote_gelu_i16_i32(const int16_t *x, int32_t *y, int32_t rows, int32_t n, int32_t b,
    int32_t one);
void mote_gelu_u16_i32(const uint16_t *x, int32_t *y, int32_t rows, int32_t n, int32_t b,
    int32_t one);

/* qtfm.hardswish: section 3 "qtfm.hardswish", y = x * (clamp(x + three, 0, six) * one_over_six),
 * the attribute fields. x in {i8, u8, i16, u16}.
 */
void mote_hardswish_i8_i32(const int8_t *x, int32_t *y, int32_t rows, int32_t n,
    int32_t one_over_six, int32_t six, int32_t three);
void mote_hardswish_u8_i32(const uint8_t *x, int32_t *y, int32_t rows, int32_t n,
    int32_t one_over_six, int32_t six, int32_t three);
void mote_hardswish_i16_i32(const int16_t *x, int32_t *y, int32_t rows, int32_t n,
    int32_t one_over_six, int32_t six, int32_t three);
void mote_hardswish_u16_i32(const uint16_t *x, int32_t *y, int32_t rows, int32_t n,
    int32_t one_over_six, int32_t six, int32_t three);

/* qtfm.div: section 3 "qtfm.div" (TrueIntegerDiv), y = x * k with
 * k = floor(delta * eta / (y * eta + eps)) (DivAttr.multiplier(), 0 <= k < 2^31), computed at
 * compile time. x in {i8, u8, i16, u16, i32}.
 */
void mote_div_i8_i32(const int8_t *x, int32_t *y, int32_t rows, int32_t n, int32_t k);
void mote_div_u8_i32(const uint8_t *x, int32_t *y, int32_t rows, int32_t n, int32_t k);
void mote_div_i16_i32(const int16_t *x, int32_t *y, int32_t rows, int32_t n, int32_t k);
void mote_div_u16_i32(const uint16_t *x, int32_t *y, int32_t rows, int32_t n, int32_t k);
void mote_div_i32_i32(const int32_t *x, int32_t *y, int32_t rows, int32_t n, int32_t k);

/* ---------------------------------------------------------------------------------------------
 * qtfm.int_div: section 3 "qtfm.int_div" (IntegerDiv), numpy broadcasting as 2-D strides:
 * y is rows x n, contiguous; operand element (r, j) is at r * row_stride + j * col_stride
 * (elements; 0 broadcasts). q = sgn(num) * ((|num| + den / 2) // den) with
 * num = delta * eta * a, den = eta * b + eps; delta, eps, eta the attribute fields
 * (delta * eta < 2^31). A denominator <= 0 (an error in the reference) gives 0.
 * a, b in {i8, u8, i16, u16, i32}.
 */
void mote_int_div_i8_i8_i32(const int8_t *a, const int8_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i8_u8_i32(const int8_t *a, const uint8_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i8_i16_i32(const int8_t *a, const int16_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i8_u16_i32(const int8_t *a, const uint16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i8_i32_i32(const int8_t *a, const int32_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u8_i8_i32(const uint8_t *a, const int8_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u8_u8_i32(const uint8_t *a, const uint8_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u8_i16_i32(const uint8_t *a, const int16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u8_u16_i32(const uint8_t *a, const uint16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u8_i32_i32(const uint8_t *a, const int32_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i16_i8_i32(const int16_t *a, const int8_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i16_u8_i32(const int16_t *a, const uint8_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i16_i16_i32(const int16_t *a, const int16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i16_u16_i32(const int16_t *a, const uint16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i16_i32_i32(const int16_t *a, const int32_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u16_i8_i32(const uint16_t *a, const int8_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u16_u8_i32(const uint16_t *a, const uint8_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u16_i16_i32(const uint16_t *a, const int16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u16_u16_i32(const uint16_t *a, const uint16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_u16_i32_i32(const uint16_t *a, const int32_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i32_i8_i32(const int32_t *a, const int8_t *b, int32_t *y, int32_t rows, int32_t n,
    int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride, int32_t b_col_stride,
    int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i32_u8_i32(const int32_t *a, const uint8_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i32_i16_i32(const int32_t *a, const int16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i32_u16_i32(const int32_t *a, const uint16_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);
void mote_int_div_i32_i32_i32(const int32_t *a, const int32_t *b, int32_t *y, int32_t rows,
    int32_t n, int32_t a_row_stride, int32_t a_col_stride, int32_t b_row_stride,
    int32_t b_col_stride, int32_t delta, int32_t eps, int32_t eta);

/* ---------------------------------------------------------------------------------------------
 * qtfm.mean: section 3 "qtfm.mean". x is viewed as [outer][len][inner] (len = the reduced
 * axis), y as [outer][inner] (the same element type), the mask as [outer][len] (the op's mask
 * shape x.shape[:axis + 1]); non-zero keeps. y = floor((2 * sum + c) / (2 * c)) over the c
 * kept elements, 0 when c = 0. x, mask in {i8, u8, i16, u16, i32}.
 */
void mote_mean_i8_i8(const int8_t *x, int8_t *y, int32_t outer, int32_t len, int32_t inner);
void mote_mean_u8_u8(const uint8_t *x, uint8_t *y, int32_t outer, int32_t len, int32_t inner);
void mote_mean_i16_i16(const int16_t *x, int16_t *y, int32_t outer, int32_t len, int32_t inner);
void mote_mean_u16_u16(const uint16_t *x, uint16_t *y, int32_t outer, int32_t len, int32_t inner);
void mote_mean_i32_i32(const int32_t *x, int32_t *y, int32_t outer, int32_t len, int32_t inner);

void mote_mean_mask_i8_i8_i8(const int8_t *x, const int8_t *mask, int8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i8_u8_i8(const int8_t *x, const uint8_t *mask, int8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i8_i16_i8(const int8_t *x, const int16_t *mask, int8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i8_u16_i8(const int8_t *x, const uint16_t *mask, int8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i8_i32_i8(const int8_t *x, const int32_t *mask, int8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u8_i8_u8(const uint8_t *x, const int8_t *mask, uint8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u8_u8_u8(const uint8_t *x, const uint8_t *mask, uint8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u8_i16_u8(const uint8_t *x, const int16_t *mask, uint8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u8_u16_u8(const uint8_t *x, const uint16_t *mask, uint8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u8_i32_u8(const uint8_t *x, const int32_t *mask, uint8_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i16_i8_i16(const int16_t *x, const int8_t *mask, int16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i16_u8_i16(const int16_t *x, const uint8_t *mask, int16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i16_i16_i16(const int16_t *x, const int16_t *mask, int16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i16_u16_i16(const int16_t *x, const uint16_t *mask, int16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i16_i32_i16(const int16_t *x, const int32_t *mask, int16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u16_i8_u16(const uint16_t *x, const int8_t *mask, uint16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u16_u8_u16(const uint16_t *x, const uint8_t *mask, uint16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u16_i16_u16(const uint16_t *x, const int16_t *mask, uint16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u16_u16_u16(const uint16_t *x, const uint16_t *mask, uint16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_u16_i32_u16(const uint16_t *x, const int32_t *mask, uint16_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i32_i8_i32(const int32_t *x, const int8_t *mask, int32_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i32_u8_i32(const int32_t *x, const uint8_t *mask, int32_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i32_i16_i32(const int32_t *x, const int16_t *mask, int32_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i32_u16_i32(const int32_t *x, const uint16_t *mask, int32_t *y, int32_t outer,
    int32_t len, int32_t inner);
void mote_mean_mask_i32_i32_i32(const int32_t *x, const int32_t *mask, int32_t *y, int32_t outer,
    int32_t len, int32_t inner);

#ifdef __cplusplus
}
#endif

#endif /* MOTE_KERNELS_H */
