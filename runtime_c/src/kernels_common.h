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
#include "xpulp.h"

/* MOTE_KSIMD: the packed-SIMD (Xpulp) statistics paths of the norms and softmax. On only where
 * the CORE-V asm is (rv32imc-xcv), so the rv32imc and host builds compile the scalar code alone;
 * MOTE_KERNELS_SIMD forces them on with xpulp.h's portable twins (host tests of their logic). */
#if MOTE_XPULP_ASM || defined(MOTE_KERNELS_SIMD)
#define MOTE_KSIMD 1
#else
#define MOTE_KSIMD 0
#endif

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

#if MOTE_KSIMD
#include <stddef.h>

/* Packed signed max/min of halfword and byte lanes (cv.max.h, cv.min.h, cv.max.b, cv.min.b). */
#if MOTE_XPULP_ASM
#define MOTE_K_PACKED(NAME, INSN)                                                                \
    static inline uint32_t NAME(uint32_t a, uint32_t b)                                         \
    {                                                                                           \
        uint32_t r;                                                                             \
        __asm__(INSN " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));                                 \
        return r;                                                                               \
    }
MOTE_K_PACKED(mote_k_max_h, "cv.max.h")
MOTE_K_PACKED(mote_k_min_h, "cv.min.h")
MOTE_K_PACKED(mote_k_max_b, "cv.max.b")
MOTE_K_PACKED(mote_k_min_b, "cv.min.b")
#undef MOTE_K_PACKED
#else
static inline uint32_t mote_k_lanes(uint32_t a, uint32_t b, int bits, int take_max)
{
    uint32_t r = 0, m = (1u << bits) - 1u;
    for (int i = 0; i < 32; i += bits) {
        int32_t x = (int32_t)(((a >> i) & m) ^ (1u << (bits - 1))) - (1 << (bits - 1));
        int32_t y = (int32_t)(((b >> i) & m) ^ (1u << (bits - 1))) - (1 << (bits - 1));
        r |= ((uint32_t)((x > y) == take_max ? x : y) & m) << i;
    }
    return r;
}
static inline uint32_t mote_k_max_h(uint32_t a, uint32_t b) { return mote_k_lanes(a, b, 16, 1); }
static inline uint32_t mote_k_min_h(uint32_t a, uint32_t b) { return mote_k_lanes(a, b, 16, 0); }
static inline uint32_t mote_k_max_b(uint32_t a, uint32_t b) { return mote_k_lanes(a, b, 8, 1); }
static inline uint32_t mote_k_min_b(uint32_t a, uint32_t b) { return mote_k_lanes(a, b, 8, 0); }
#endif

/* Statistics of one row of n >= 1 elements of an 8- or 16-bit type, on y = x - off (off = 0 for
 * signed types, 128 or 32768 for unsigned ones, so that every y is a signed lane: the lanes are
 * flipped with flip = 0x80 / 0x8000 per lane): sum(y), min(y), max(y) and sum(y^2).
 * Packed: a word holds 2 halfwords / 4 bytes; sum(y) = cv.sdotsp(y, 1...1), sum(y^2) =
 * cv.sdotsp(y, y), min and max lane-wise. Exact when n <= 32768 (docs/runtime_kernels.md):
 * |sum(y)| <= 32768 n <= 2^30; for bytes y^2 <= 2^14, sum(y^2) <= 2^29 in 32 bits; for
 * halfwords a pair of squares adds at most 2^31 < 2^32 to the 32-bit low word, so it wraps at
 * most once per instruction and the wrap is seen as (new < old): one carry, 64-bit exact.
 * Scalar head (to a 4-byte boundary: rows of halfwords start at even addresses, of bytes
 * anywhere) and tail (what is left after the last whole word). */
typedef struct {
    int32_t s1, lo, hi;
    uint64_t s2;
} mote_rowstats;

#define MOTE_RS_ONE(yv)                                                                          \
    do {                                                                                        \
        int32_t y_ = (yv);                                                                      \
        uint32_t t_ = s2 + (uint32_t)(y_ * y_); /* y^2 <= 2^30 */                               \
        c2 += t_ < s2;                                                                          \
        s2 = t_;                                                                                \
        s1 += (uint32_t)y_;                                                                     \
        lo = y_ < lo ? y_ : lo;                                                                 \
        hi = y_ > hi ? y_ : hi;                                                                 \
    } while (0)

/* Halfword rows: x as uint16 (int16 data read as uint16 is the same bytes), flip16 = 0x8000
 * for uint16 data, else 0. */
static inline mote_rowstats mote_rowstats_h(const uint16_t *x, int32_t n, uint32_t flip16)
{
    uint32_t s1 = 0, s2 = 0, c2 = 0, mx = 0x80008000u, mn = 0x7FFF7FFFu;
    const uint32_t flip = flip16 | flip16 << 16;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    const int32_t head = (int32_t)(((uintptr_t)x >> 1) & 1u); /* n >= 1 */
    const int32_t words = (n - head) >> 1;
    if (head)
        MOTE_RS_ONE((int32_t)(int16_t)(uint16_t)(x[0] ^ flip16));
    const uint16_t *p = x + head;
    MOTE_UNROLL2 for (int32_t k = 0; k < words; ++k) {
        uint32_t v = mote_xp_load_word(p + 2 * k) ^ flip;
        s1 = (uint32_t)mote_xp_sdotsp_h((int32_t)s1, v, 0x00010001u);
        mx = mote_k_max_h(mx, v);
        mn = mote_k_min_h(mn, v);
        uint32_t t = (uint32_t)mote_xp_sdotsp_h((int32_t)s2, v, v); /* adds <= 2^31 */
        c2 += t < s2;
        s2 = t;
    }
    if (head + 2 * words < n)
        MOTE_RS_ONE((int32_t)(int16_t)(uint16_t)(x[n - 1] ^ flip16));
    int32_t a = (int32_t)(int16_t)mx, b = (int32_t)mx >> 16;
    hi = a > hi ? a : hi;
    hi = b > hi ? b : hi;
    a = (int32_t)(int16_t)mn;
    b = (int32_t)mn >> 16;
    lo = a < lo ? a : lo;
    lo = b < lo ? b : lo;
    mote_rowstats st = {(int32_t)s1, lo, hi, (uint64_t)c2 << 32 | s2};
    return st;
}

/* Byte rows: flip8 = 0x80 for uint8 data, else 0. */
static inline mote_rowstats mote_rowstats_b(const uint8_t *x, int32_t n, uint32_t flip8)
{
    uint32_t s1 = 0, s2 = 0, c2 = 0, mx = 0x80808080u, mn = 0x7F7F7F7Fu;
    const uint32_t flip = flip8 * 0x01010101u;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    int32_t head = (int32_t)((0u - (uint32_t)(uintptr_t)x) & 3u);
    head = head < n ? head : n;
    const int32_t words = (n - head) >> 2;
    for (int32_t j = 0; j < head; ++j)
        MOTE_RS_ONE((int32_t)(int8_t)(uint8_t)(x[j] ^ flip8));
    const uint8_t *p = x + head;
    MOTE_UNROLL2 for (int32_t k = 0; k < words; ++k) {
        uint32_t v = mote_xp_load_word(p + 4 * k) ^ flip;
        s1 = (uint32_t)mote_xp_sdotsp_b((int32_t)s1, v, 0x01010101u);
        mx = mote_k_max_b(mx, v);
        mn = mote_k_min_b(mn, v);
        s2 = (uint32_t)mote_xp_sdotsp_b((int32_t)s2, v, v); /* sum(y^2) <= 2^14 n: no wrap */
    }
    for (int32_t j = head + 4 * words; j < n; ++j)
        MOTE_RS_ONE((int32_t)(int8_t)(uint8_t)(x[j] ^ flip8));
    for (int i = 0; i < 32; i += 8) {
        int32_t a = (int32_t)(int8_t)(uint8_t)(mx >> i), b = (int32_t)(int8_t)(uint8_t)(mn >> i);
        hi = a > hi ? a : hi;
        lo = b < lo ? b : lo;
    }
    mote_rowstats st = {(int32_t)s1, lo, hi, (uint64_t)c2 << 32 | s2};
    return st;
}
#undef MOTE_RS_ONE

/* The statistics of a row of TX (int8_t, uint8_t, int16_t or uint16_t), on y = x - off. */
#define MOTE_ROWSTATS_OFF(TX) ((TX)-1 > 0 ? (sizeof(TX) == 2 ? 32768 : 128) : 0)
#define MOTE_ROWSTATS(TX, x, n)                                                                  \
    (sizeof(TX) == 2 ? mote_rowstats_h((const uint16_t *)(const void *)(x), (n),               \
                                       (uint32_t)MOTE_ROWSTATS_OFF(TX))                         \
                     : mote_rowstats_b((const uint8_t *)(const void *)(x), (n),                \
                                       (uint32_t)MOTE_ROWSTATS_OFF(TX)))
#endif /* MOTE_KSIMD */

#endif /* MOTE_KERNELS_COMMON_H */
