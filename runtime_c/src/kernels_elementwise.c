/* kernels_elementwise.c: qtfm.gelu, qtfm.hardswish, qtfm.div and qtfm.int_div, bit-exact to
 * compiler/reference/kernels.py.
 *
 * gelu, hardswish and div have an i32 result that the reference requires to fit int32, so the
 * final product is formed modulo 2^32 in uint32 (exact whenever the true value fits, and
 * free of signed-overflow undefined behaviour); every other intermediate provably fits.
 * int_div needs 64 bits in general (|delta * eta * a| up to 2^62): an element takes the 32-bit
 * path when its operands are in ranges precomputed per call, and the 64-bit one otherwise.
 */
#include "kernels_common.h"

/* gelu: q = min(|x|, -b) + b in [b, 0], L = sgn(x) (one - q^2), y = x * ((one + L) >> 1).
 * x > 0: (2 one - q^2) >> 1 = one - ((q^2 + 1) >> 1); x < 0: q^2 >> 1; x = 0: y = 0.
 * q^2 <= 2^30 and one < 2^31, so the factor fits int32. */
#define MOTE_GELU(TX, SX, E)                                                                     \
    void mote_gelu_##SX##_i32(const TX *x, int32_t *y, int32_t rows, int32_t n, int32_t b,       \
                              int32_t one)                                                      \
    {                                                                                           \
        const int32_t count = rows * n;                                                         \
        const uint32_t nb = (uint32_t)-b;                                                       \
        for (int32_t i = 0; i < count; ++i) {                                                   \
            int32_t v = (int32_t)x[i];                                                          \
            uint32_t a = mote_abs32(v);                                                         \
            uint32_t q = (a < nb ? a : nb) - nb; /* q modulo 2^32; q^2 is exact */              \
            uint32_t q2 = q * q;                                                                \
            uint32_t f = v > 0 ? (uint32_t)one - ((q2 + 1u) >> 1) : q2 >> 1;                    \
            y[i] = (int32_t)((uint32_t)v * f);                                                  \
        }                                                                                       \
    }
MOTE_T16_A(MOTE_GELU, 0)

/* hardswish: y = x * (clamp(x + three, 0, six) * one_over_six); the inner factor is below
 * 2^32 (six, one_over_six < 2^16). */
#define MOTE_HARDSWISH(TX, SX, E)                                                                \
    void mote_hardswish_##SX##_i32(const TX *x, int32_t *y, int32_t rows, int32_t n,             \
                                   int32_t one_over_six, int32_t six, int32_t three)            \
    {                                                                                           \
        const int32_t count = rows * n;                                                         \
        for (int32_t i = 0; i < count; ++i) {                                                   \
            int32_t v = (int32_t)x[i];                                                          \
            int32_t t = v + three;                                                              \
            t = t < 0 ? 0 : t > six ? six : t;                                                  \
            uint32_t inner = (uint32_t)t * (uint32_t)one_over_six;                              \
            y[i] = (int32_t)((uint32_t)v * inner);                                              \
        }                                                                                       \
    }
MOTE_T16_A(MOTE_HARDSWISH, 0)

/* div: y = x * k with the compile-time multiplier k. */
#define MOTE_DIV(TX, SX, E)                                                                      \
    void mote_div_##SX##_i32(const TX *x, int32_t *y, int32_t rows, int32_t n, int32_t k)       \
    {                                                                                           \
        const int32_t count = rows * n;                                                         \
        for (int32_t i = 0; i < count; ++i)                                                     \
            y[i] = (int32_t)((uint32_t)(int32_t)x[i] * (uint32_t)k);                            \
    }
MOTE_T32_A(MOTE_DIV, 0)

/* ---------------------------------------------------------------------------------------------
 * int_div: num = C a with C = delta * eta in [1, 2^31), den = eta b + eps,
 * q = sgn(a) ((|num| + (den >> 1)) // den).
 * 32-bit path: |a| <= a_lim = floor(2^31 / C) (capped at 2^31 - 1) gives |num| <= 2^31, and
 * b in [b_lo, b_hi] gives den in [1, 2^31); then |num| + den / 2 < 2^32 in uint32.
 */
typedef struct {
    uint32_t c, eta, eps;
    uint32_t a_lim;        /* |a| <= a_lim */
    uint32_t b_lo, b_span; /* b in [b_lo, b_lo + b_span] as (uint32)(b - b_lo) <= b_span */
    int no_b;              /* no b gives a denominator in [1, 2^31) */
} idiv_call;

static int64_t floor_div64(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    return q - (a % b < 0);
}

static idiv_call idiv_setup(int32_t delta, int32_t eps, int32_t eta)
{
    idiv_call c;
    c.c = (uint32_t)delta * (uint32_t)eta;
    c.eta = (uint32_t)eta;
    c.eps = (uint32_t)eps;
    uint32_t lim = 0x80000000u / c.c;
    c.a_lim = lim > 0x7FFFFFFFu ? 0x7FFFFFFFu : lim;
    /* eta b + eps >= 1  <=>  b >= ceil((1 - eps) / eta) = -floor((eps - 1) / eta);
       eta b + eps <= 2^31 - 1  <=>  b <= floor((2^31 - 1 - eps) / eta) */
    int64_t lo = -floor_div64((int64_t)eps - 1, eta);
    int64_t hi = floor_div64(INT64_C(0x7FFFFFFF) - eps, eta);
    if (lo < INT32_MIN)
        lo = INT32_MIN;
    if (hi > INT32_MAX)
        hi = INT32_MAX;
    c.no_b = lo > hi;
    c.b_lo = c.no_b ? 0u : (uint32_t)(int32_t)lo;
    c.b_span = c.no_b ? 0u : (uint32_t)(hi - lo);
    return c;
}

static inline int32_t idiv_one(int32_t a, int32_t b, const idiv_call *c)
{
    if ((uint32_t)a + c->a_lim <= 2u * c->a_lim && !c->no_b && (uint32_t)b - c->b_lo <= c->b_span) {
        uint32_t num = mote_abs32(a) * c->c;
        uint32_t den = c->eta * (uint32_t)b + c->eps; /* exact: in [1, 2^31) */
        uint32_t q = (num + (den >> 1)) / den;
        return (int32_t)(a < 0 ? 0u - q : q);
    }
    int64_t num = (int64_t)c->c * a;
    int64_t den = (int64_t)c->eta * b + (int32_t)c->eps;
    if (den <= 0)
        return 0; /* outside the reference's domain */
    uint64_t mag = (uint64_t)(num < 0 ? -num : num); /* < 2^62 */
    uint64_t q = (mag + (uint64_t)(den >> 1)) / (uint64_t)den;
    return (int32_t)(uint32_t)(num < 0 ? 0u - q : q);
}

#define MOTE_INT_DIV(TA, SA, TB, SB)                                                             \
    void mote_int_div_##SA##_##SB##_i32(const TA *a, const TB *b, int32_t *y, int32_t rows,      \
                                        int32_t n, int32_t a_row_stride, int32_t a_col_stride,  \
                                        int32_t b_row_stride, int32_t b_col_stride,             \
                                        int32_t delta, int32_t eps, int32_t eta)                \
    {                                                                                           \
        const idiv_call c = idiv_setup(delta, eps, eta);                                        \
        for (int32_t r = 0; r < rows; ++r, y += n) {                                            \
            const TA *ar = a + r * a_row_stride;                                                \
            const TB *br = b + r * b_row_stride;                                                \
            for (int32_t j = 0; j < n; ++j)                                                     \
                y[j] = idiv_one((int32_t)ar[j * a_col_stride], (int32_t)br[j * b_col_stride], &c); \
        }                                                                                       \
    }
#define MOTE_INT_DIV_B(TB, SB, AS) MOTE_CALL_(MOTE_INT_DIV, MOTE_UNPACK_ AS, TB, SB)
#define MOTE_INT_DIV_A(TA, SA, E) MOTE_T32_B(MOTE_INT_DIV_B, (TA, SA))
MOTE_T32_A(MOTE_INT_DIV_A, 0)
