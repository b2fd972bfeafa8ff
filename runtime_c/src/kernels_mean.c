/* kernels_mean.c: qtfm.mean, the (masked) mean along one axis rounded half up, bit-exact to
 * compiler/reference/kernels.py (masked_mean).
 *
 * x is [outer][len][inner] and the reduction runs along len with a stride of inner elements,
 * so no accumulator array is needed. The sum is 32-bit while 2 * len * max|x| + len < 2^31
 * (8- and 16-bit inputs of realistic length, decided once per call), else 64-bit with a
 * 64-by-32-bit division whose quotient, a mean of int32 values, fits 32 bits.
 */
#include "kernels_common.h"

#define MOTE_MAXABS_int8_t 128
#define MOTE_MAXABS_uint8_t 255
#define MOTE_MAXABS_int16_t 32768
#define MOTE_MAXABS_uint16_t 65535
#define MOTE_MAXABS_int32_t 0 /* unused: int32 input always sums in 64 bits */
#define MOTE_WIDE_int8_t 0
#define MOTE_WIDE_uint8_t 0
#define MOTE_WIDE_int16_t 0
#define MOTE_WIDE_uint16_t 0
#define MOTE_WIDE_int32_t 1

/* y = floor((2 sum + c) / (2 c)), c > 0, via floor(v / d) = floor((v ^ s) / d) ^ s where
 * s = -1 for a negative v (~v = -v - 1 >= 0). */
#define MOTE_MEAN_IMPL(NAME, TX, TM, HAS_MASK, WIDE, MAXABS)                                     \
    static void NAME(const TX *x, const TM *mask, TX *y, int32_t outer, int32_t len,            \
                     int32_t inner)                                                             \
    {                                                                                           \
        const int narrow = !(WIDE) && len <= (int32_t)(0x7FFFFFFF / (2 * (MAXABS) + 1));        \
        for (int32_t o = 0; o < outer; ++o, x += len * inner, y += inner) {                     \
            const TM *m = HAS_MASK ? mask + o * len : mask;                                     \
            int32_t count = len;                                                                \
            if (HAS_MASK) {                                                                     \
                count = 0;                                                                      \
                for (int32_t l = 0; l < len; ++l)                                               \
                    count += m[l] != 0;                                                         \
            }                                                                                   \
            const uint32_t den = 2u * (uint32_t)count;                                          \
            for (int32_t i = 0; i < inner; ++i) {                                               \
                if (count == 0) {                                                               \
                    y[i] = 0;                                                                   \
                } else if (narrow) {                                                            \
                    int32_t sum = 0;                                                            \
                    for (int32_t l = 0; l < len; ++l)                                           \
                        if (!HAS_MASK || m[l] != 0)                                             \
                            sum += (int32_t)x[l * inner + i];                                   \
                    int32_t v = 2 * sum + count;                                                \
                    int32_t s = v >> 31;                                                        \
                    y[i] = (TX)((int32_t)((uint32_t)(v ^ s) / den) ^ s);                        \
                } else {                                                                        \
                    int64_t sum = 0;                                                            \
                    for (int32_t l = 0; l < len; ++l)                                           \
                        if (!HAS_MASK || m[l] != 0)                                             \
                            sum += (int32_t)x[l * inner + i];                                   \
                    int64_t v = 2 * sum + count;                                                \
                    int32_t s = (int32_t)(v >> 63);                                             \
                    y[i] = (TX)((int32_t)mote_udiv64_32((uint64_t)(v ^ s), den) ^ s);           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

#define MOTE_MEAN_PLAIN(TX, SX, E)                                                               \
    MOTE_MEAN_IMPL(mean_##SX, TX, uint8_t, 0, MOTE_WIDE_##TX, MOTE_MAXABS_##TX)                 \
    void mote_mean_##SX##_##SX(const TX *x, TX *y, int32_t outer, int32_t len, int32_t inner)   \
    {                                                                                           \
        mean_##SX(x, (const uint8_t *)0, y, outer, len, inner);                                 \
    }
MOTE_T32_A(MOTE_MEAN_PLAIN, 0)

#define MOTE_MEAN_MASKED(TX, SX, TM, SM)                                                         \
    MOTE_MEAN_IMPL(mean_mask_##SX##_##SM, TX, TM, 1, MOTE_WIDE_##TX, MOTE_MAXABS_##TX)          \
    void mote_mean_mask_##SX##_##SM##_##SX(const TX *x, const TM *mask, TX *y, int32_t outer,   \
                                           int32_t len, int32_t inner)                          \
    {                                                                                           \
        mean_mask_##SX##_##SM(x, mask, y, outer, len, inner);                                   \
    }
#define MOTE_MEAN_MASKED_M(TM, SM, XS) MOTE_CALL_(MOTE_MEAN_MASKED, MOTE_UNPACK_ XS, TM, SM)
#define MOTE_MEAN_MASKED_X(TX, SX, E) MOTE_T32_B(MOTE_MEAN_MASKED_M, (TX, SX))
MOTE_T32_A(MOTE_MEAN_MASKED_X, 0)
