/* kernels_softmax.c: qtfm.softmax (I-BERT integer softmax, optional mask) and
 * qtfm.ita_softmax, bit-exact to compiler/reference/kernels.py.
 *
 * The softmax picks one of three arithmetic paths per call from its parameters (see
 * docs/runtime_kernels.md): all 32-bit (every Deeploy network), 32-bit exponentials with a
 * per-row reciprocal for the wide final division (the zoo's 16-bit probabilities), or 64-bit.
 */
#include "kernels_common.h"

#ifndef MOTE_SOFTMAX_ROW_BUFFER
#define MOTE_SOFTMAX_ROW_BUFFER 256
#endif

#if MOTE_SOFTMAX_ROW_BUFFER < 1
#error "MOTE_SOFTMAX_ROW_BUFFER must be at least 1"
#endif

/* Per-call constants of one softmax. */
typedef struct {
    uint32_t a, b, c, log2;
    uint32_t zm, zd; /* z = floor(d / log2) = mulhu(d, zm) | (d & zd) */
    uint32_t top;  /* levels - 1 */
    int path;      /* 0: 32-bit, 1: 32-bit exponentials + wide division, 2: 64-bit */
} sm_call;

/* Chooses the path. `range` = max(x) - min(x) over the input type, the largest distance d
 * from a row maximum. p = -(d mod log2) lies in [-m, 0] with m = min(log2 - 1, range), so the
 * polynomial is at most E = a * max(b, |b - m|)^2 + c (verified parameters keep E < 2^61).
 * The multiplier zm makes z = floor(d / log2) one mulhu for every d <= range < 2^16
 * (docs/runtime_kernels.md): ceil(2^32 / log2) for 2 <= log2 <= range, 1 (z = 0) for
 * log2 > range; for log2 = 1, where z = d, zm = 0 and the mask zd = ~0 (otherwise 0). */
static __attribute__((noinline)) sm_call sm_setup(int32_t n, int32_t coeff_a, int32_t coeff_b,
                                                   int32_t coeff_c, int32_t log2, int32_t levels,
                                                   uint32_t range)
{
    sm_call c;
    c.a = (uint32_t)coeff_a;
    c.b = (uint32_t)coeff_b;
    c.c = (uint32_t)coeff_c;
    c.log2 = (uint32_t)log2;
    c.top = (uint32_t)levels - 1u;
    c.zd = 0;
    if (c.log2 == 1u) {
        c.zm = 0;
        c.zd = 0xFFFFFFFFu;
    } else if (c.log2 > range)
        c.zm = 1;
    else
        c.zm = 0xFFFFFFFFu / c.log2 + 1u; /* ceil(2^32 / log2), log2 >= 2 */
    uint32_t m = c.log2 - 1u < range ? c.log2 - 1u : range;
    uint64_t far = c.b >= m ? c.b - m : m - c.b;
    uint64_t big = far > c.b ? far : c.b;
    uint64_t e_max = (uint64_t)c.a * (big * big) + c.c;
    if (e_max >> 32 != 0)
        c.path = 2;
    else if (e_max * c.top <= 0xFFFFFFFFu && e_max * (uint64_t)(uint32_t)n <= 0xFFFFFFFFu)
        c.path = 0; /* e * (levels - 1) and the row sum fit uint32 */
    else
        c.path = 1;
    return c;
}

/* floor(d / log2) for d <= range. */
static inline uint32_t sm_z(uint32_t d, const sm_call *c)
{
    return (uint32_t)(((uint64_t)d * c->zm) >> 32) | (d & c->zd);
}

/* The exponential of distance d >= 0 from the row maximum when E < 2^32: every intermediate
 * is below E, and e = 0 once z >= 32 (C's shift is undefined there). */
static inline uint32_t sm_exp32(uint32_t d, const sm_call *c)
{
    uint32_t z = sm_z(d, c);
    uint32_t t = c->b - (d - z * c->log2); /* p + coeff_b modulo 2^32, p = -(d mod log2) */
    uint32_t poly = c->a * (t * t) + c->c;  /* exact: the true value is below E < 2^32 */
    return z < 32 ? poly >> z : 0;
}

/* Out of line: the exponentials of the tail of rows longer than the buffer (recomputed rather
 * than stored) and of the 64-bit path, both rare; inlining them everywhere only costs code. */
static __attribute__((noinline)) uint32_t sm_exp32_call(uint32_t d, const sm_call *c)
{
    return sm_exp32(d, c);
}

/* The exponential in 64 bits (E < 2^61). */
static __attribute__((noinline)) uint64_t sm_exp64(uint32_t d, const sm_call *c)
{
    uint32_t z = sm_z(d, c);
    int64_t t = (int64_t)c->b - (int64_t)(d - z * c->log2);
    uint64_t poly = (uint64_t)c->a * (uint64_t)(t * t) + c->c;
    return z < 64 ? poly >> z : 0;
}

/* Path 1's final division floor(e * top / s) for one row, where e <= s (e is one of the
 * summands of s) and e < 2^32. If s <= top, e * top <= top^2 < 2^32: a 32-bit division.
 * Otherwise R = floor(top * 2^32 / s) < 2^32, and e * top * 2^32 / s lies in
 * [e R, e R + e): with e R = q' 2^32 + lo (one mulhu, one mul), the quotient is q' whenever
 * lo + e < 2^32, and only otherwise (probability below e / 2^32) is the exact remainder
 * e * top - q' s, in [0, 2s), compared with s. (R = 0 is possible, for s > top * 2^32: then
 * q' = lo = 0 and the quotient is 0.) */
typedef struct {
    uint64_t s;
    uint32_t recip;
    int narrow; /* s <= top */
} sm_row;

static __attribute__((noinline)) sm_row sm_row_setup(uint64_t s, uint32_t top)
{
    sm_row r;
    r.s = s;
    r.narrow = s <= top;
    uint64_t num = (uint64_t)top << 32;
    if (r.narrow)
        r.recip = 0;
    else
        r.recip = s >> 32 == 0 ? mote_udiv64_32(num, (uint32_t)s) : (uint32_t)(num / s);
    return r;
}

/* The rare case of sm_div_wide: q' or q' + 1 by the exact remainder. */
static __attribute__((noinline)) uint32_t sm_div_fix(uint32_t e, uint32_t q, uint32_t top,
                                                     const sm_row *r)
{
    uint64_t rem = (uint64_t)e * top - (uint64_t)q * r->s; /* in [0, 2s): q * s <= e * top */
    return q + (rem >= r->s);
}

static inline uint32_t sm_div_wide(uint32_t e, uint32_t top, const sm_row *r)
{
    uint64_t pr = (uint64_t)e * r->recip;
    uint32_t q = (uint32_t)(pr >> 32);
    if (MOTE_UNLIKELY((uint32_t)pr > ~e)) /* lo + e >= 2^32: q' or q' + 1 */
        return sm_div_fix(e, q, top, r);
    return q;
}

/* One softmax function. HAS_MASK is 0 or 1; the unmasked variant passes a null mask, which
 * the KEEP test then never reads. Per row: the maximum over kept elements; the exponentials
 * (the first MOTE_SOFTMAX_ROW_BUFFER kept in `buf`) and their sum; the divisions. */
#define MOTE_SM_KEEP(j) (!has_mask || mrow[(j) * mcs] != 0)
#define MOTE_SM_D(j) ((uint32_t)(mx - (int32_t)x[j]))
#define MOTE_SOFTMAX_IMPL(NAME, TX, TM, HAS_MASK, TY, RANGE)                                     \
    static void NAME(const TX *x, const TM *mask, TY *y, int32_t rows, int32_t n, int32_t mrs,  \
                     int32_t mcs, int32_t coeff_a, int32_t coeff_b, int32_t coeff_c,            \
                     int32_t log2, int32_t levels)                                              \
    {                                                                                           \
        const int has_mask = HAS_MASK;                                                          \
        const sm_call c = sm_setup(n, coeff_a, coeff_b, coeff_c, log2, levels, (RANGE));       \
        uint32_t buf[MOTE_SOFTMAX_ROW_BUFFER];                                                  \
        const int32_t nb = n < MOTE_SOFTMAX_ROW_BUFFER ? n : MOTE_SOFTMAX_ROW_BUFFER;           \
        for (int32_t r = 0; r < rows; ++r, x += n, y += n) {                                    \
            const TM *mrow = has_mask ? mask + r * mrs : mask;                                  \
            int32_t mx = INT32_MIN; /* below -32768 when no element is kept */                 \
            MOTE_UNROLL2 for (int32_t j = 0; j < n; ++j) {                                      \
                /* a masked element counts as x - 2^20 <= 65535 - 2^20 < -32768 */              \
                int32_t v = (int32_t)x[j] - ((int32_t)!MOTE_SM_KEEP(j) << 20);                  \
                mx = v > mx ? v : mx;                                                           \
            }                                                                                   \
            if (mx < -32768) {                                                                  \
                for (int32_t j = 0; j < n; ++j)                                                 \
                    y[j] = 0;                                                                   \
            } else if (c.path == 0) {                                                           \
                uint32_t s = 0;                                                                 \
                MOTE_UNROLL2 for (int32_t j = 0; j < nb; ++j) {                                 \
                    uint32_t e = MOTE_SM_KEEP(j) ? sm_exp32(MOTE_SM_D(j), &c) : 0;             \
                    buf[j] = e;                                                                 \
                    s += e;                                                                     \
                }                                                                               \
                for (int32_t j = nb; j < n; ++j)                                                \
                    s += MOTE_SM_KEEP(j) ? sm_exp32_call(MOTE_SM_D(j), &c) : 0;                 \
                const mote_udiv32 by_s = mote_udiv32_setup(s); /* s >= 1 */                    \
                MOTE_UNROLL2 for (int32_t j = 0; j < nb; ++j)                                   \
                    y[j] = (TY)mote_udiv32_by(buf[j] * c.top, &by_s);                           \
                for (int32_t j = nb; j < n; ++j) {                                              \
                    uint32_t e = MOTE_SM_KEEP(j) ? sm_exp32_call(MOTE_SM_D(j), &c) : 0;        \
                    y[j] = (TY)mote_udiv32_by(e * c.top, &by_s);                                \
                }                                                                               \
            } else if (c.path == 1) {                                                           \
                uint64_t s = 0;                                                                 \
                MOTE_UNROLL2 for (int32_t j = 0; j < nb; ++j) {                                 \
                    uint32_t e = MOTE_SM_KEEP(j) ? sm_exp32(MOTE_SM_D(j), &c) : 0;             \
                    buf[j] = e;                                                                 \
                    s += e;                                                                     \
                }                                                                               \
                for (int32_t j = nb; j < n; ++j)                                                \
                    s += MOTE_SM_KEEP(j) ? sm_exp32_call(MOTE_SM_D(j), &c) : 0;                 \
                const sm_row w = sm_row_setup(s, c.top);                                        \
                if (w.narrow) {                                                                 \
                    for (int32_t j = 0; j < nb; ++j)                                            \
                        y[j] = (TY)(buf[j] * c.top / (uint32_t)w.s);                            \
                } else {                                                                        \
                    MOTE_UNROLL2 for (int32_t j = 0; j < nb; ++j)                               \
                        y[j] = (TY)sm_div_wide(buf[j], c.top, &w);                              \
                }                                                                               \
                for (int32_t j = nb; j < n; ++j) {                                              \
                    uint32_t e = MOTE_SM_KEEP(j) ? sm_exp32_call(MOTE_SM_D(j), &c) : 0;        \
                    y[j] = (TY)(w.narrow ? e * c.top / (uint32_t)w.s : sm_div_wide(e, c.top, &w)); \
                }                                                                               \
            } else {                                                                            \
                uint64_t s = 0;                                                                 \
                for (int32_t j = 0; j < n; ++j)                                                 \
                    s += MOTE_SM_KEEP(j) ? sm_exp64(MOTE_SM_D(j), &c) : 0;                      \
                for (int32_t j = 0; j < n; ++j) {                                               \
                    uint64_t e = MOTE_SM_KEEP(j) ? sm_exp64(MOTE_SM_D(j), &c) : 0;             \
                    y[j] = (TY)(e * c.top / s); /* e * top < 2^62 (verifier) */                 \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

/* The range max - min of each input type. */
#define MOTE_RANGE_int8_t 255u
#define MOTE_RANGE_uint8_t 255u
#define MOTE_RANGE_int16_t 65535u
#define MOTE_RANGE_uint16_t 65535u

/* unmasked: mote_softmax_<x>_<y> */
#define MOTE_SOFTMAX_PLAIN(TX, SX, TY, SY)                                                       \
    MOTE_SOFTMAX_IMPL(softmax_##SX##_##SY, TX, uint8_t, 0, TY, MOTE_RANGE_##TX)                 \
    void mote_softmax_##SX##_##SY(const TX *x, TY *y, int32_t rows, int32_t n, int32_t coeff_a, \
                                  int32_t coeff_b, int32_t coeff_c, int32_t log2, int32_t levels) \
    {                                                                                           \
        softmax_##SX##_##SY(x, (const uint8_t *)0, y, rows, n, 0, 0, coeff_a, coeff_b, coeff_c, \
                            log2, levels);                                                      \
    }
#define MOTE_SOFTMAX_PLAIN_Y(TY, SY, XS) MOTE_CALL_(MOTE_SOFTMAX_PLAIN, MOTE_UNPACK_ XS, TY, SY)
#define MOTE_SOFTMAX_PLAIN_X(TX, SX, E) MOTE_T32_B(MOTE_SOFTMAX_PLAIN_Y, (TX, SX))
MOTE_T16_A(MOTE_SOFTMAX_PLAIN_X, 0)

/* masked: mote_softmax_mask_<x>_<m>_<y> */
#define MOTE_SOFTMAX_MASKED(TX, SX, TM, SM, TY, SY)                                              \
    MOTE_SOFTMAX_IMPL(softmax_mask_##SX##_##SM##_##SY, TX, TM, 1, TY, MOTE_RANGE_##TX)          \
    void mote_softmax_mask_##SX##_##SM##_##SY(const TX *x, const TM *mask, TY *y, int32_t rows, \
                                              int32_t n, int32_t mask_row_stride,              \
                                              int32_t mask_col_stride, int32_t coeff_a,        \
                                              int32_t coeff_b, int32_t coeff_c, int32_t log2,  \
                                              int32_t levels)                                  \
    {                                                                                           \
        softmax_mask_##SX##_##SM##_##SY(x, mask, y, rows, n, mask_row_stride, mask_col_stride, \
                                        coeff_a, coeff_b, coeff_c, log2, levels);              \
    }
#define MOTE_SOFTMAX_MASKED_Y(TY, SY, XM) MOTE_CALL_(MOTE_SOFTMAX_MASKED, MOTE_UNPACK_ XM, TY, SY)
#define MOTE_SOFTMAX_MASKED_M(TM, SM, XS)                                                        \
    MOTE_T32_C(MOTE_SOFTMAX_MASKED_Y, (MOTE_UNPACK_ XS, TM, SM))
#define MOTE_SOFTMAX_MASKED_X(TX, SX, E) MOTE_T32_B(MOTE_SOFTMAX_MASKED_M, (TX, SX))
MOTE_T16_A(MOTE_SOFTMAX_MASKED_X, 0)

/* ---------------------------------------------------------------------------------------------
 * qtfm.ita_softmax: d = max - x in [0, 255], shift = (d + 16) >> 5 in [0, 8],
 * inv = 65280 / sum(256 >> shift) (one division per row), y = inv >> shift. All uint32:
 * the sum is at most 256 * n. The shifts are recomputed rather than stored.
 */
#define MOTE_ITA_SOFTMAX(TX, SX, TY, SY)                                                         \
    void mote_ita_softmax_##SX##_##SY(const TX *x, TY *y, int32_t rows, int32_t n)              \
    {                                                                                           \
        for (int32_t r = 0; r < rows; ++r, x += n, y += n) {                                    \
            int32_t mx = INT32_MIN;                                                             \
            for (int32_t j = 0; j < n; ++j)                                                     \
                if ((int32_t)x[j] > mx)                                                         \
                    mx = (int32_t)x[j];                                                         \
            uint32_t sum = 0;                                                                   \
            for (int32_t j = 0; j < n; ++j)                                                     \
                sum += 256u >> ((uint32_t)(mx - (int32_t)x[j] + 16) >> 5);                      \
            const uint32_t inv = sum ? 65280u / sum : 0u;                                       \
            for (int32_t j = 0; j < n; ++j)                                                     \
                y[j] = (TY)(inv >> ((uint32_t)(mx - (int32_t)x[j] + 16) >> 5));                  \
        }                                                                                       \
    }
#define MOTE_ITA_SOFTMAX_X(TX, SX, E)                                                            \
    MOTE_ITA_SOFTMAX(TX, SX, uint8_t, u8) MOTE_ITA_SOFTMAX(TX, SX, int16_t, i16)                 \
    MOTE_ITA_SOFTMAX(TX, SX, uint16_t, u16) MOTE_ITA_SOFTMAX(TX, SX, int32_t, i32)
MOTE_T8_A(MOTE_ITA_SOFTMAX_X, 0)
