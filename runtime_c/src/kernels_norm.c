/* kernels_norm.c: qtfm.rmsnorm, qtfm.layernorm (floor) and qtfm.layernorm_trunc, bit-exact to
 * compiler/reference/kernels.py.
 *
 * Each row takes the 32-bit path when its largest |x| (or |x - mean|) times the call's largest
 * |weight|, plus the largest |bias|, stays below 2^31 (a bound computed once per call from the
 * weights); otherwise it computes the product in 64 bits and divides it by the row's
 * standard deviation (< 2^16) with two 32-bit divisions. Sums of squares are 32-bit for 8-bit
 * inputs and 64-bit for 16-bit inputs. docs/runtime_kernels.md has the proofs.
 *
 * The clamp [-hi - 1, hi] is symmetric under ~ (bitwise not), and floor(v / 2^k) of a negative
 * v is ~(~v >> k): so a quotient is computed on the non-negative value u = v ^ sign, clamped
 * to hi, and its sign restored by ^ sign.
 */
#include "kernels_common.h"

/* Largest |w| of the n weights, as uint32 (2^31 for INT32_MIN). */
static uint32_t absmax32(const int32_t *w, int32_t n)
{
    uint32_t m = 0;
    for (int32_t j = 0; j < n; ++j) {
        uint32_t a = mote_abs32(w[j]);
        if (a > m)
            m = a;
    }
    return m;
}

/* The clamp of a non-negative quotient v to hi, signed back: sign is 0 or -1. */
static inline int32_t clamp_signed32(uint32_t v, uint32_t hi, int32_t sign)
{
    return (int32_t)(v < hi ? v : hi) ^ sign;
}

static inline int32_t clamp_signed64(uint64_t v, uint32_t hi, int32_t sign)
{
    return (int32_t)(v < hi ? (uint32_t)v : hi) ^ sign;
}

/* ---------------------------------------------------------------------------------------------
 * rmsnorm: y = clamp(floor(x * w / std) >> shift) = clamp(floor(x * w / (std << shift))).
 * WIDE_SUM: 1 when sum(x^2) may exceed 32 bits (16-bit inputs).
 */
#define MOTE_RMSNORM(TX, SX, TY, SY, WIDE_SUM)                                                   \
    void mote_rmsnorm_##SX##_##SY(const TX *x, const int32_t *weight, TY *y, int32_t rows,      \
                                  int32_t n, int32_t shift, int32_t hi)                         \
    {                                                                                           \
        if (n <= 0)                                                                             \
            return;                                                                             \
        const uint32_t lim2 = mote_limit_sq(absmax32(weight, n), 0);                            \
        const uint32_t uhi = (uint32_t)hi;                                                      \
        const int wide_sum = (WIDE_SUM) || n > 65536;                                           \
        for (int32_t r = 0; r < rows; ++r, x += n, y += n) {                                    \
            uint32_t ms, max2 = 0;                                                              \
            if (!wide_sum) {                                                                    \
                uint32_t sum = 0; /* 8-bit input: x^2 <= 2^16, n <= 2^16 */                     \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    uint32_t sq = (uint32_t)((int32_t)x[j] * (int32_t)x[j]);                    \
                    sum += sq;                                                                  \
                    if (sq > max2)                                                              \
                        max2 = sq;                                                              \
                }                                                                               \
                ms = sum / (uint32_t)n;                                                         \
            } else {                                                                            \
                uint64_t sum = 0;                                                               \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    uint32_t v = mote_abs32((int32_t)x[j]);                                     \
                    uint32_t sq = v * v; /* < 2^32 for |x| < 2^16 */                            \
                    sum += sq;                                                                  \
                    if (sq > max2)                                                              \
                        max2 = sq;                                                              \
                }                                                                               \
                ms = mote_udiv64_32(sum, (uint32_t)n); /* sum < n * 2^32 */                     \
            }                                                                                   \
            const uint32_t std = mote_isqrt32(ms + 1u); /* ms <= 65535^2: no wrap; std < 2^16 */ \
            if (max2 <= lim2) {                                                                 \
                /* |x * w| < 2^31: one floor division by D = std << shift per element */        \
                const uint64_t d64 = (uint64_t)std << (shift < 32 ? shift : 32);                \
                if (d64 > 0xFFFFFFFFu) {                                                        \
                    for (int32_t j = 0; j < n; ++j) /* |x * w| < D: the quotient is 0 or -1 */  \
                        y[j] = (TY)(((int32_t)x[j] * weight[j]) >> 31);                         \
                } else {                                                                        \
                    const mote_udiv32 d = mote_udiv32_setup((uint32_t)d64);                     \
                    for (int32_t j = 0; j < n; ++j) {                                           \
                        int32_t p = (int32_t)x[j] * weight[j];                                  \
                        int32_t sign = p >> 31;                                                 \
                        y[j] = (TY)clamp_signed32(mote_udiv32_by((uint32_t)(p ^ sign), &d), uhi, sign); \
                    }                                                                           \
                }                                                                               \
            } else {                                                                            \
                const mote_udiv32 by_std = mote_udiv32_setup(std);                              \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int64_t p = (int64_t)x[j] * weight[j]; /* |p| < 2^47 */                     \
                    int32_t sign = (int32_t)(p >> 63);                                          \
                    uint64_t q = mote_udiv48_by((uint64_t)(p ^ sign), &by_std);                 \
                    y[j] = (TY)clamp_signed64(q >> shift, uhi, sign);                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

/* ---------------------------------------------------------------------------------------------
 * layernorm (TRUNC = 0): mean = floor(sum / n), q = floor(xc * w / std);
 * layernorm_trunc (TRUNC = 1): mean = trunc(sum / n), q = trunc(xc * w / std);
 * both: y = clamp((q + bias) >> shift).
 * The row sum is 32-bit while n <= 32768 (|sum| <= 65535 * n < 2^31); the squares use
 * WIDE_SUM as for rmsnorm (|x - mean| <= 65535, so each square fits uint32).
 */
#define MOTE_LAYERNORM(NAME, TX, SX, TY, SY, WIDE_SUM, TRUNC)                                    \
    void NAME##_##SX##_##SY(const TX *x, const int32_t *weight, const int32_t *bias, TY *y,     \
                            int32_t rows, int32_t n, int32_t shift, int32_t hi)                 \
    {                                                                                           \
        if (n <= 0)                                                                             \
            return;                                                                             \
        const uint32_t lim2 = mote_limit_sq(absmax32(weight, n), absmax32(bias, n));            \
        const uint32_t uhi = (uint32_t)hi;                                                      \
        const uint32_t sh32 = shift < 31 ? (uint32_t)shift : 31u;                               \
        const int wide_sum = (WIDE_SUM) || n > 65536;                                           \
        for (int32_t r = 0; r < rows; ++r, x += n, y += n) {                                    \
            int32_t lo_x = INT32_MAX, hi_x = INT32_MIN, mean;                                   \
            if (n <= 32768) {                                                                   \
                int32_t sum = 0;                                                                \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int32_t v = (int32_t)x[j];                                                  \
                    sum += v;                                                                   \
                    if (v < lo_x)                                                               \
                        lo_x = v;                                                               \
                    if (v > hi_x)                                                               \
                        hi_x = v;                                                               \
                }                                                                               \
                if (TRUNC) {                                                                    \
                    mean = sum / n;                                                             \
                } else {                                                                        \
                    int32_t sign = sum >> 31;                                                   \
                    mean = (int32_t)((uint32_t)(sum ^ sign) / (uint32_t)n) ^ sign;              \
                }                                                                               \
            } else {                                                                            \
                int64_t sum = 0;                                                                \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int32_t v = (int32_t)x[j];                                                  \
                    sum += v;                                                                   \
                    if (v < lo_x)                                                               \
                        lo_x = v;                                                               \
                    if (v > hi_x)                                                               \
                        hi_x = v;                                                               \
                }                                                                               \
                int32_t sign = (int32_t)(sum >> 63);                                            \
                uint64_t mag = (uint64_t)(sum ^ sign); /* |sum| or |sum| - 1 < n * 2^16 */      \
                if (TRUNC) {                                                                    \
                    uint32_t q = mote_udiv64_32((uint64_t)(sign ? -sum : sum), (uint32_t)n);   \
                    mean = sign ? -(int32_t)q : (int32_t)q;                                     \
                } else {                                                                        \
                    mean = (int32_t)mote_udiv64_32(mag, (uint32_t)n) ^ sign;                    \
                }                                                                               \
            }                                                                                   \
            uint32_t var;                                                                       \
            if (!wide_sum) {                                                                    \
                uint32_t sum2 = 0; /* 8-bit input: |xc| <= 255, n <= 2^16 */                    \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int32_t c = (int32_t)x[j] - mean;                                           \
                    sum2 += (uint32_t)(c * c);                                                  \
                }                                                                               \
                var = sum2 / (uint32_t)n;                                                       \
            } else {                                                                            \
                uint64_t sum2 = 0;                                                              \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    uint32_t c = mote_abs32((int32_t)x[j] - mean);                              \
                    sum2 += c * c;                                                              \
                }                                                                               \
                var = mote_udiv64_32(sum2, (uint32_t)n);                                        \
            }                                                                                   \
            const uint32_t std = mote_isqrt32(var + 1u); /* var <= 65535^2; std < 2^16 */       \
            const uint32_t far = (uint32_t)(hi_x - mean) > (uint32_t)(mean - lo_x)              \
                                     ? (uint32_t)(hi_x - mean)                                  \
                                     : (uint32_t)(mean - lo_x);                                 \
            if (far * far <= lim2) {                                                            \
                /* |xc * w| + |bias| < 2^31, and |q| <= |xc * w| */                             \
                const mote_udiv32 by_std = mote_udiv32_setup(std);                              \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int32_t p = ((int32_t)x[j] - mean) * weight[j];                             \
                    int32_t q;                                                                  \
                    int32_t sign = p >> 31;                                                     \
                    if (TRUNC) { /* toward zero: the magnitude's floor, signed back */          \
                        uint32_t m = mote_udiv32_by((uint32_t)((p ^ sign) - sign), &by_std);     \
                        q = sign ? -(int32_t)m : (int32_t)m;                                    \
                    } else {                                                                    \
                        q = (int32_t)mote_udiv32_by((uint32_t)(p ^ sign), &by_std) ^ sign;      \
                    }                                                                           \
                    int32_t t = q + bias[j];                                                    \
                    int32_t tsign = t >> 31;                                                    \
                    y[j] = (TY)clamp_signed32((uint32_t)(t ^ tsign) >> sh32, uhi, tsign);       \
                }                                                                               \
            } else {                                                                            \
                const mote_udiv32 by_std64 = mote_udiv32_setup(std);                            \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int64_t p = (int64_t)((int32_t)x[j] - mean) * weight[j]; /* |p| < 2^47 */   \
                    int64_t psign = p >> 63;                                                    \
                    int64_t q;                                                                  \
                    if (TRUNC) {                                                                \
                        uint64_t m = mote_udiv48_by((uint64_t)((p ^ psign) - psign), &by_std64); \
                        q = psign ? -(int64_t)m : (int64_t)m;                                   \
                    } else {                                                                    \
                        q = (int64_t)mote_udiv48_by((uint64_t)(p ^ psign), &by_std64) ^ psign;  \
                    }                                                                           \
                    int64_t t = q + bias[j];                                                    \
                    int32_t sign = (int32_t)(t >> 63);                                          \
                    y[j] = (TY)clamp_signed64((uint64_t)(t ^ sign) >> shift, uhi, sign);        \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

#define MOTE_WIDE_int8_t 0
#define MOTE_WIDE_uint8_t 0
#define MOTE_WIDE_int16_t 1
#define MOTE_WIDE_uint16_t 1

#define MOTE_NORMS(TX, SX, TY, SY)                                                               \
    MOTE_RMSNORM(TX, SX, TY, SY, MOTE_WIDE_##TX)                                                \
    MOTE_LAYERNORM(mote_layernorm, TX, SX, TY, SY, MOTE_WIDE_##TX, 0)
#define MOTE_NORMS_Y(TY, SY, XS) MOTE_CALL_(MOTE_NORMS, MOTE_UNPACK_ XS, TY, SY)
#define MOTE_NORMS_X(TX, SX, E) MOTE_TSIGNED_B(MOTE_NORMS_Y, (TX, SX))
MOTE_T16_A(MOTE_NORMS_X, 0)

#define MOTE_LNT(TX, SX, TY, SY) MOTE_LAYERNORM(mote_layernorm_trunc, TX, SX, TY, SY, 0, 1)
#define MOTE_LNT_Y(TY, SY, XS) MOTE_CALL_(MOTE_LNT, MOTE_UNPACK_ XS, TY, SY)
#define MOTE_LNT_X(TX, SX, E) MOTE_TSIGNED_B(MOTE_LNT_Y, (TX, SX))
MOTE_T8_A(MOTE_LNT_X, 0)
