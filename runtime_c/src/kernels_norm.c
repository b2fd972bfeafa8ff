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

/* The last step of the 32-bit paths: clamp(v >> sh) for an int32 v, sh <= 31. */
static inline int32_t out_signed32(int32_t v, uint32_t sh, uint32_t hi)
{
    int32_t sign = v >> 31;
    return clamp_signed32((uint32_t)(v ^ sign) >> sh, hi, sign);
}

/* The general element of layernorm (floor or trunc): q = p / std (|p| < 2^47) with two
 * 32-bit steps, then clamp((q + bias) >> shift) in 64 bits. Exact for every input. */
static inline int32_t ln_elem64(int64_t p, int32_t bias, const mote_udiv32 *by_std,
                                int32_t shift, uint32_t hi, int trunc)
{
    int64_t psign = p >> 63;
    int64_t q;
    if (trunc) { /* toward zero: the magnitude's floor, signed back */
        uint64_t m = mote_udiv48_by((uint64_t)((p ^ psign) - psign), by_std);
        q = psign ? -(int64_t)m : (int64_t)m;
    } else {
        q = (int64_t)mote_udiv48_by((uint64_t)(p ^ psign), by_std) ^ psign;
    }
    int64_t t = q + bias;
    int32_t sign = (int32_t)(t >> 63);
    return clamp_signed64((uint64_t)(t ^ sign) >> shift, hi, sign);
}

/* Out of line, for the rare elements of the reciprocal path whose quotient exceeds 32 bits. */
static __attribute__((noinline)) int32_t ln_elem64_call(int64_t p, int32_t bias,
                                                        const mote_udiv32 *by_std, int32_t shift,
                                                        uint32_t hi, int trunc)
{
    return ln_elem64(p, bias, by_std, shift, hi, trunc);
}

/* int64 -> int32, saturated. */
static inline int32_t sat32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* ---------------------------------------------------------------------------------------------
 * rmsnorm: y = clamp(floor(x * w / std) >> shift) = clamp(floor(x * w / (std << shift))).
 * WIDE_SUM: 1 when sum(x^2) may exceed 32 bits (16-bit inputs).
 * Rows with |x w| < 2^31: one 32-bit floor division by D = std << shift. Other rows, when
 * 2 <= D < 2^30: the 64-bit product divided by D with mote_udivq; a product beyond its range
 * (u >= 2^(32+t)) has a quotient above 2^31 > hi and saturates. Otherwise: two 32-bit steps
 * by std, then the shift, in 64 bits.
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
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    uint32_t sq = (uint32_t)((int32_t)x[j] * (int32_t)x[j]);                    \
                    sum += sq;                                                                  \
                    max2 = sq > max2 ? sq : max2;                                               \
                }                                                                               \
                ms = sum / (uint32_t)n;                                                         \
            } else {                                                                            \
                uint64_t sum = 0;                                                               \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    uint32_t v = mote_abs32((int32_t)x[j]);                                     \
                    uint32_t sq = v * v; /* < 2^32 for |x| < 2^16 */                            \
                    sum += sq;                                                                  \
                    max2 = sq > max2 ? sq : max2;                                               \
                }                                                                               \
                ms = mote_udiv64_32(sum, (uint32_t)n); /* sum < n * 2^32 */                     \
            }                                                                                   \
            const uint32_t std = mote_isqrt32(ms + 1u); /* ms <= 65535^2: no wrap; std < 2^16 */ \
            const uint64_t d64 = (uint64_t)std << (shift < 32 ? shift : 32);                    \
            if (max2 <= lim2) {                                                                 \
                /* |x * w| < 2^31: one floor division by D = std << shift per element */        \
                if (d64 > 0xFFFFFFFFu) {                                                        \
                    for (int32_t j = 0; j < n; ++j) /* |x * w| < D: the quotient is 0 or -1 */  \
                        y[j] = (TY)(((int32_t)x[j] * weight[j]) >> 31);                         \
                } else {                                                                        \
                    const mote_udiv32 d = mote_udiv32_setup((uint32_t)d64);                     \
                    MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                              \
                        int32_t p = (int32_t)x[j] * weight[j];                                  \
                        int32_t sign = p >> 31;                                                 \
                        y[j] = (TY)clamp_signed32(mote_udiv32_by((uint32_t)(p ^ sign), &d), uhi, sign); \
                    }                                                                           \
                }                                                                               \
            } else if (d64 >= 2u && d64 < 0x40000000u) {                                       \
                const mote_udivq dq = mote_udivq_setup((uint32_t)d64);                          \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    int64_t p = (int64_t)x[j] * weight[j]; /* |p| < 2^47 */                     \
                    uint32_t sign = (uint32_t)(p >> 63);                                        \
                    uint32_t uh = (uint32_t)((uint64_t)p >> 32) ^ sign, ul = (uint32_t)p ^ sign; \
                    uint32_t q = MOTE_LIKELY(mote_udivq_fits(uh, &dq))                          \
                                     ? mote_udivq_by(uh, ul, &dq)                               \
                                     : 0xFFFFFFFFu; /* quotient > 2^31 > hi */                  \
                    y[j] = (TY)clamp_signed32(q, uhi, (int32_t)sign);                           \
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
 * The row sum is 32-bit while n <= 32768 (|sum| <= 65535 * n < 2^31); the sum of squares is
 * 32-bit when far^2 <= (2^32 - 1) / n (far = max |x - mean|), else 64-bit.
 * Four ways to compute the quotients of a row (docs/runtime_kernels.md has the bounds):
 *  A  |xc * w| + |bias| < 2^31 (from far): 32-bit product, mote_udiv32_by;
 *  B  far * wmax <= (2^31 - 1 - bmax) * std, std >= 2: |q| + |bias| < 2^31; 64-bit product,
 *     mote_udivq_by, the rest in 32 bits;
 *  W  std >= 2 and (hi + 1) << shift <= 2^31: as B, then q + bias saturated to int32 (which
 *     leaves the clamped result unchanged); a product with a quotient of 2^32 or more (u
 *     beyond mote_udivq's range) goes to the general element;
 *  C  otherwise: the general element, two 32-bit division steps and 64-bit arithmetic.
 */
#define MOTE_LN_Q32(TRUNC, m, sign) (TRUNC ? (int32_t)(((m) ^ (sign)) - (sign)) : (int32_t)((m) ^ (sign)))
#define MOTE_LAYERNORM(NAME, TX, SX, TY, SY, WIDE_SUM, TRUNC)                                    \
    void NAME##_##SX##_##SY(const TX *x, const int32_t *weight, const int32_t *bias, TY *y,     \
                            int32_t rows, int32_t n, int32_t shift, int32_t hi)                 \
    {                                                                                           \
        if (n <= 0)                                                                             \
            return;                                                                             \
        const uint32_t wmax = absmax32(weight, n), bmax = absmax32(bias, n);                    \
        const uint32_t lim2 = mote_limit_sq(wmax, bmax);                                        \
        const uint32_t uhi = (uint32_t)hi;                                                      \
        const uint32_t sh32 = shift < 31 ? (uint32_t)shift : 31u;                               \
        const uint32_t sq_lim = 0xFFFFFFFFu / (uint32_t)n; /* far^2 <= sq_lim: 32-bit sums */   \
        /* B's bound on |q|, and whether W applies: (hi + 1) << shift <= 2^31 */               \
        const uint64_t qmax = bmax < 0x80000000u ? 0x7FFFFFFFu - bmax : 0;                     \
        const int w_ok = shift >= 0 && shift < 32 &&                                            \
                         ((uint64_t)uhi + 1u) << shift <= 0x80000000u;                          \
        for (int32_t r = 0; r < rows; ++r, x += n, y += n) {                                    \
            int32_t lo_x = INT32_MAX, hi_x = INT32_MIN, mean;                                   \
            if (n <= 32768) {                                                                   \
                int32_t sum = 0;                                                                \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    int32_t v = (int32_t)x[j];                                                  \
                    sum += v;                                                                   \
                    lo_x = v < lo_x ? v : lo_x;                                                 \
                    hi_x = v > hi_x ? v : hi_x;                                                 \
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
            /* |x - mean| <= far <= 65535 */                                                    \
            const uint32_t far = (uint32_t)(hi_x - mean) > (uint32_t)(mean - lo_x)              \
                                     ? (uint32_t)(hi_x - mean)                                  \
                                     : (uint32_t)(mean - lo_x);                                 \
            uint32_t var;                                                                       \
            if ((!(WIDE_SUM) && n <= 65536) || far * far <= sq_lim) {                           \
                uint32_t sum2 = 0; /* n * far^2 < 2^32 (8-bit input: |xc| <= 255, n <= 2^16) */ \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    uint32_t c = (uint32_t)((int32_t)x[j] - mean);                              \
                    sum2 += c * c; /* c^2 modulo 2^32 = c^2 */                                  \
                }                                                                               \
                var = sum2 / (uint32_t)n;                                                       \
            } else {                                                                            \
                uint64_t sum2 = 0;                                                              \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    uint32_t c = (uint32_t)((int32_t)x[j] - mean);                              \
                    sum2 += c * c;                                                              \
                }                                                                               \
                var = mote_udiv64_32(sum2, (uint32_t)n);                                        \
            }                                                                                   \
            const uint32_t std = mote_isqrt32(var + 1u); /* var <= 65535^2; std < 2^16 */       \
            if (far * far <= lim2) { /* A: |xc * w| + |bias| < 2^31, and |q| <= |xc * w| */    \
                const mote_udiv32 by_std = mote_udiv32_setup(std);                              \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    int32_t p = ((int32_t)x[j] - mean) * weight[j];                             \
                    int32_t sign = p >> 31;                                                     \
                    uint32_t m = mote_udiv32_by((uint32_t)((p ^ sign) - (TRUNC ? sign : 0)), &by_std); \
                    y[j] = (TY)out_signed32(MOTE_LN_Q32(TRUNC, m, sign) + bias[j], sh32, uhi);        \
                }                                                                               \
            } else if (std >= 2u && (uint64_t)far * wmax <= qmax * std) { /* B */               \
                const mote_udivq dq = mote_udivq_setup(std);                                    \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    int64_t p = (int64_t)((int32_t)x[j] - mean) * weight[j];                    \
                    uint32_t sign = (uint32_t)(p >> 63);                                        \
                    uint64_t u = (uint64_t)(p ^ (int64_t)(int32_t)sign) - (TRUNC ? (int32_t)sign : 0); \
                    uint32_t m = mote_udivq_by((uint32_t)(u >> 32), (uint32_t)u, &dq);         \
                    y[j] = (TY)out_signed32(MOTE_LN_Q32(TRUNC, m, (int32_t)sign) + bias[j], sh32, uhi); \
                }                                                                               \
            } else if (std >= 2u && w_ok) { /* W */                                            \
                const mote_udivq dq = mote_udivq_setup(std);                                    \
                const mote_udiv32 by_std = mote_udiv32_setup(std);                              \
                MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                  \
                    int64_t p = (int64_t)((int32_t)x[j] - mean) * weight[j];                    \
                    int64_t sign = p >> 63;                                                     \
                    uint64_t u = (uint64_t)((p ^ sign) - (TRUNC ? sign : 0));                   \
                    if (MOTE_UNLIKELY(!mote_udivq_fits((uint32_t)(u >> 32), &dq))) {            \
                        y[j] = (TY)ln_elem64_call(p, bias[j], &by_std, shift, uhi, TRUNC);      \
                        continue;                                                               \
                    }                                                                           \
                    int64_t m = mote_udivq_by((uint32_t)(u >> 32), (uint32_t)u, &dq);           \
                    int64_t q = TRUNC ? (m ^ sign) - sign : m ^ sign;                           \
                    y[j] = (TY)out_signed32(sat32(q + bias[j]), sh32, uhi);                     \
                }                                                                               \
            } else { /* C */                                                                    \
                const mote_udiv32 by_std = mote_udiv32_setup(std);                              \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    int64_t p = (int64_t)((int32_t)x[j] - mean) * weight[j]; /* |p| < 2^47 */   \
                    y[j] = (TY)ln_elem64(p, bias[j], &by_std, shift, uhi, TRUNC);               \
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
