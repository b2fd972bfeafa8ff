/* kernels_common.h: integer helpers shared by the kernels_*.c files (private to the runtime).
 *
 * They exist so that the kernels avoid 64-bit divisions (a libgcc call of ~100 instructions
 * on RV32) where a value is known to fit a narrower division, and so that floor / truncating
 * division, the integer square root and the type-specialisation lists are written once.
 * Every helper states its precondition; docs/runtime_kernels.md has the proofs.
 */
#ifndef MOTE_KERNELS_COMMON_H
#define MOTE_KERNELS_COMMON_H

#include <stdint.h>

#include "mote_kernels.h"

/* X-macro lists of element types, F(ctype, suffix, E): one list per nesting level, because a
 * macro cannot expand inside its own expansion. */
#define MOTE_T16_A(F, E) F(int8_t, i8, E) F(uint8_t, u8, E) F(int16_t, i16, E) F(uint16_t, u16, E)
#define MOTE_T8_A(F, E) F(int8_t, i8, E) F(uint8_t, u8, E)
#define MOTE_T32_A(F, E) MOTE_T16_A(F, E) F(int32_t, i32, E)
#define MOTE_T32_B(F, E)                                                                        \
    F(int8_t, i8, E) F(uint8_t, u8, E) F(int16_t, i16, E) F(uint16_t, u16, E) F(int32_t, i32, E)
#define MOTE_T32_C(F, E)                                                                        \
    F(int8_t, i8, E) F(uint8_t, u8, E) F(int16_t, i16, E) F(uint16_t, u16, E) F(int32_t, i32, E)
#define MOTE_TSIGNED_B(F, E) F(int8_t, i8, E) F(int16_t, i16, E) F(int32_t, i32, E)

/* The E argument of the lists carries the outer levels' types in parentheses;
 * MOTE_CALL_(M, MOTE_UNPACK_ E, ...) re-splits them into separate arguments of M. */
#define MOTE_UNPACK_(...) __VA_ARGS__
#define MOTE_CALL_(M, ...) M(__VA_ARGS__)

/* Unrolls the next loop twice (GCC and clang both read this pragma): on a core without
 * hardware loops a taken back-branch costs 3 cycles, a third of a short loop body. */
#define MOTE_UNROLL2 _Pragma("GCC unroll 2")

/* Hints for branches whose outcome is almost always the same. */
#define MOTE_LIKELY(c) __builtin_expect(!!(c), 1)
#define MOTE_UNLIKELY(c) __builtin_expect(!!(c), 0)

/* Number of leading zero bits of v != 0 (no Zbb on rv32imc: a 5-step binary search). */
static inline uint32_t mote_clz32(uint32_t v)
{
    uint32_t n = 0;
    if (v < 0x10000u) { n += 16; v <<= 16; }
    if (v < 0x1000000u) { n += 8; v <<= 8; }
    if (v < 0x10000000u) { n += 4; v <<= 4; }
    if (v < 0x40000000u) { n += 2; v <<= 2; }
    if (v < 0x80000000u) { n += 1; }
    return n;
}

/* floor(u / d) for a 64-bit u whose quotient fits 32 bits, i.e. (u >> 32) < d (so d > 0).
 * Long division in base 2^16 with 32-bit divisions (Knuth's algorithm D for a two-digit
 * divisor): normalise d to its top bit, estimate each 16-bit quotient digit from the top
 * digit of d and correct it (at most twice) against the second digit. */
static inline uint32_t mote_udiv64_32(uint64_t u, uint32_t d)
{
    uint32_t hi = (uint32_t)(u >> 32), lo = (uint32_t)u;
    if (hi == 0)
        return lo / d;
    uint32_t s = mote_clz32(d);
    d <<= s;
    uint32_t dh = d >> 16, dl = d & 0xFFFFu;
    uint32_t top = s ? (hi << s) | (lo >> (32 - s)) : hi; /* (u << s) >> 32 < d */
    uint32_t low = lo << s;
    uint32_t u1 = low >> 16, u0 = low & 0xFFFFu;

    uint32_t q1 = top / dh, r = top - q1 * dh;
    while (q1 > 0xFFFFu || q1 * dl > ((r << 16) | u1)) {
        q1 -= 1;
        r += dh;
        if (r > 0xFFFFu)
            break;
    }
    uint32_t mid = (top << 16) + u1 - q1 * d; /* the remainder, < d: exact modulo 2^32 */
    uint32_t q0 = mid / dh;
    r = mid - q0 * dh;
    while (q0 > 0xFFFFu || q0 * dl > ((r << 16) | u0)) {
        q0 -= 1;
        r += dh;
        if (r > 0xFFFFu)
            break;
    }
    return (q1 << 16) | q0;
}

/* Many floor divisions u / d (uint32) by one divisor d >= 1, without a divide per element:
 * with R = floor(2^32 / d) (d >= 2), q' = floor(u * R / 2^32) satisfies u/d - 1 < q' <= u/d
 * (R > 2^32/d - 1 and u < 2^32), so q' is q or q - 1 and one comparison of the remainder
 * fixes it. R is computed in 32 bits: floor(2^32/d) = floor((2^32-1)/d) + 1 exactly when
 * (2^32-1) mod d = d - 1. A divide costs up to 35 cycles on CV32E40P; this a mulhu, a mul
 * and a compare. d = 1 takes R = 2^32 - 1 = 2^32/d - 1: then u/d - 1 <= u R / 2^32 <= u/d
 * and q' = u - 1 for u >= 1 (remainder 1, corrected) or 0 for u = 0; no branch. */
typedef struct {
    uint32_t d, r;
} mote_udiv32;

static inline mote_udiv32 mote_udiv32_setup(uint32_t d)
{
    mote_udiv32 v;
    v.d = d;
    v.r = 0xFFFFFFFFu;
    if (d > 1) {
        v.r = 0xFFFFFFFFu / d;
        if (0xFFFFFFFFu - v.r * d == d - 1u)
            v.r += 1u;
    }
    return v;
}

static inline uint32_t mote_udiv32_by(uint32_t u, const mote_udiv32 *v)
{
    uint32_t q = (uint32_t)(((uint64_t)u * v->r) >> 32);
    if (u - q * v->d >= v->d)
        q += 1u;
    return q;
}

/* floor(u / d) for u < 2^48 and 1 <= d < 2^16, given d's mote_udiv32: two steps of 32-by-16
 * long division ((u >> 16) < 2^32, and the first remainder r < d, so (r << 16) | low16 <
 * 2^32), each step a multiplication. */
static inline uint64_t mote_udiv48_by(uint64_t u, const mote_udiv32 *v)
{
    uint32_t top = (uint32_t)(u >> 16);
    uint32_t qh = mote_udiv32_by(top, v);
    uint32_t low = ((top - qh * v->d) << 16) | ((uint32_t)u & 0xFFFFu);
    return ((uint64_t)qh << 16) | mote_udiv32_by(low, v);
}


/* floor(u / d) for a 64-bit u = (hi, lo) by a per-row divisor 2 <= d < 2^30, when
 * u < 2^(32+t) with 2^t <= d < 2^(t+1) (mote_udivq_fits: hi < 2^t): one mulhu and two
 * corrections, where mote_udiv48_by needs two mulhu. top = u >> t < 2^32 and
 * R = floor((2^(32+t) - 1) / d) < 2^32 (computed once per row) give q' = floor(top R / 2^32)
 * in [q - 2, q]: R <= 2^(32+t)/d makes q' <= u/d, and R >= 2^(32+t)/d - 1 with
 * top < 2^32 and u - top 2^t < 2^t <= d makes top R / 2^32 > u/d - 2. The remainder
 * u - q' d < 3d < 2^32 is then exact from the low words alone. docs/runtime_kernels.md. */
typedef struct {
    uint32_t d, d2, r, t, lsh;
} mote_udivq;

static inline mote_udivq mote_udivq_setup(uint32_t d)
{
    mote_udivq v;
    v.d = d;
    v.d2 = 2u * d;
    v.t = 31u - mote_clz32(d); /* 1 <= t <= 29 */
    v.lsh = 32u - v.t;
    v.r = mote_udiv64_32(((uint64_t)1 << (32u + v.t)) - 1u, d); /* (u >> 32) = 2^t - 1 < d */
    return v;
}

static inline int mote_udivq_fits(uint32_t hi, const mote_udivq *v)
{
    return (hi >> v->t) == 0;
}

static inline uint32_t mote_udivq_by(uint32_t hi, uint32_t lo, const mote_udivq *v)
{
    uint32_t top = (hi << v->lsh) | (lo >> v->t);
    uint32_t q = (uint32_t)(((uint64_t)top * v->r) >> 32);
    uint32_t rem = lo - q * v->d; /* the true remainder, in [0, 3d) */
    q += rem >= v->d;
    q += rem >= v->d2;
    return q;
}

/* floor(sqrt(v)) for any uint32 v: the digit-by-digit method, one result bit per step. */
static inline uint32_t mote_isqrt32(uint32_t v)
{
    uint32_t root = 0, bit = 1u << 30;
    while (bit > v)
        bit >>= 2;
    while (bit != 0) {
        if (v >= root + bit) {
            v -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

/* |v| of an int32 as uint32 (2^31 for INT32_MIN). */
static inline uint32_t mote_abs32(int32_t v)
{
    return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

/* Largest |x| with |x| * wmax + extra <= 2^31 - 1, squared and saturated to uint32: the
 * per-call bound of the norms' 32-bit path, compared with the largest x^2 of a row.
 * Returns 0 when no x != 0 qualifies (x = 0 always does). */
static inline uint32_t mote_limit_sq(uint32_t wmax, uint32_t extra)
{
    if (extra > 0x7FFFFFFFu)
        return 0;
    uint32_t room = 0x7FFFFFFFu - extra;
    if (wmax == 0)
        return 0xFFFFFFFFu;
    uint32_t lim = room / wmax;
    if (lim >= 0xFFFFu)
        return 0xFFFFFFFFu; /* 0xFFFF^2 < 0xFFFFFFFF: every 16-bit |x| qualifies */
    return lim * lim;
}

#endif /* MOTE_KERNELS_COMMON_H */
