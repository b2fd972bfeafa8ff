/* xpulp.h: the CORE-V (Xpulp) intrinsics that mote's generated C calls.
 *
 * Every intrinsic is a `static inline` function with two bodies:
 *  - on the rv32imc-xcv target (MOTE_XPULP, or clang with xcvsimd, xcvmac, xcvmem and xcvalu
 *    enabled) one CORE-V instruction in inline asm: clang-19 knows the encodings but has no C
 *    builtins for them, and does not form cv.mac or any SIMD instruction by itself;
 *  - everywhere else (host, rv32imc under qemu) portable C that gives bit-identical results.
 * Defining MOTE_XPULP_PORTABLE forces the portable bodies even where the asm is available.
 * tests/runtime/test_xpulp.py runs every intrinsic on random and edge operands both ways and
 * compares the outputs; the emulator that executes the asm is runtime_c/unicorn_hook/.
 *
 * Semantics are those of the CV32E40P user manual (OpenHW Group, "CORE-V Instruction Set
 * Extensions"), as encoded by LLVM 19 (the CV32E40Pv2 encodings). Arithmetic is on 32-bit
 * registers and wraps around in two's complement: an accumulator that overflows wraps; no
 * instruction here saturates except the clips. Byte/halfword lane i of a register is bits
 * [8i+7:8i] / [16i+15:16i] (lane 0 is the least significant).
 *
 * Encoding groups: custom-0 = opcode 0x0b, custom-1 = 0x2b, custom-3 = 0x7b. SIMD instructions
 * (xcvsimd, custom-3) have funct5 in bits 31:27 and the element mode in funct3: 000 .h,
 * 001 .b (vector-vector), 100/101 .sc (scalar rs2), 110/111 .sci (6-bit immediate).
 *
 * Hardware loops (xcvhwlp) are not here: clang-19 cannot emit them, so loops stay branches. */
#ifndef MOTE_XPULP_H
#define MOTE_XPULP_H

#include <stdint.h>

#if defined(MOTE_XPULP) && !(defined(__riscv_xcvsimd) && defined(__riscv_xcvmac) && \
                             defined(__riscv_xcvmem) && defined(__riscv_xcvalu))
#error "MOTE_XPULP needs -march=..._xcvsimd_xcvmac_xcvmem_xcvalu (clang-19)"
#endif

#if !defined(MOTE_XPULP_PORTABLE) && defined(__riscv_xcvsimd) && defined(__riscv_xcvmac) && \
    defined(__riscv_xcvmem) && defined(__riscv_xcvalu)
#define MOTE_XPULP_ASM 1
#else
#define MOTE_XPULP_ASM 0
#endif

/* Portable helpers: lanes as exact integers, and the two's-complement wrap of a uint32_t
 * (a conversion GCC and clang define as modulo 2^32). */
static inline int32_t mote_xp_s32(uint32_t u) {
    return (int32_t)u;
}
static inline int32_t mote_xp_sb(uint32_t x, int i) {
    return (int32_t)((x >> (8 * i)) & 0xffu) - (int32_t)(((x >> (8 * i)) & 0x80u) << 1);
}
static inline uint32_t mote_xp_ub(uint32_t x, int i) {
    return (x >> (8 * i)) & 0xffu;
}
static inline int32_t mote_xp_sh(uint32_t x, int i) {
    return (int32_t)((x >> (16 * i)) & 0xffffu) - (int32_t)(((x >> (16 * i)) & 0x8000u) << 1);
}
static inline uint32_t mote_xp_uh(uint32_t x, int i) {
    return (x >> (16 * i)) & 0xffffu;
}

/* ---- Packed dot products (xcvsimd, custom-3) ---------------------------------------------- */

/* cv.sdotsp.b rD, rs1, rs2 (funct5 10101, funct3 001):
 * rD = rD + sum_{i<4} sext(a[i]) * sext(b[i]), 32-bit wrap-around. 4 int8 MACs. */
static inline int32_t mote_xp_sdotsp_b(int32_t acc, uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.sdotsp.b %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 4; i++) {
        s += (uint32_t)(mote_xp_sb(a, i) * mote_xp_sb(b, i));
    }
    return mote_xp_s32(s);
#endif
}

/* cv.sdotup.b rD, rs1, rs2 (funct5 10011, funct3 001):
 * rD = rD + sum_{i<4} zext(a[i]) * zext(b[i]), 32-bit wrap-around. */
static inline int32_t mote_xp_sdotup_b(int32_t acc, uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.sdotup.b %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 4; i++) {
        s += mote_xp_ub(a, i) * mote_xp_ub(b, i);
    }
    return mote_xp_s32(s);
#endif
}

/* cv.sdotusp.b rD, rs1, rs2 (funct5 10100, funct3 001):
 * rD = rD + sum_{i<4} zext(a[i]) * sext(b[i]): a's bytes unsigned, b's signed. */
static inline int32_t mote_xp_sdotusp_b(int32_t acc, uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.sdotusp.b %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 4; i++) {
        s += (uint32_t)((int32_t)mote_xp_ub(a, i) * mote_xp_sb(b, i));
    }
    return mote_xp_s32(s);
#endif
}

/* cv.sdotsp.h rD, rs1, rs2 (funct5 10101, funct3 000):
 * rD = rD + sext(a[0]) * sext(b[0]) + sext(a[1]) * sext(b[1]) on halfwords, 32-bit wrap. */
static inline int32_t mote_xp_sdotsp_h(int32_t acc, uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.sdotsp.h %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 2; i++) {
        s += (uint32_t)(mote_xp_sh(a, i) * mote_xp_sh(b, i));
    }
    return mote_xp_s32(s);
#endif
}

/* cv.sdotup.h rD, rs1, rs2 (funct5 10011, funct3 000):
 * rD = rD + zext(a[0]) * zext(b[0]) + zext(a[1]) * zext(b[1]) on halfwords, 32-bit wrap. */
static inline int32_t mote_xp_sdotup_h(int32_t acc, uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.sdotup.h %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 2; i++) {
        s += mote_xp_uh(a, i) * mote_xp_uh(b, i);
    }
    return mote_xp_s32(s);
#endif
}

/* cv.sdotusp.h rD, rs1, rs2 (funct5 10100, funct3 000):
 * rD = rD + zext(a[0]) * sext(b[0]) + zext(a[1]) * sext(b[1]) on halfwords, 32-bit wrap. */
static inline int32_t mote_xp_sdotusp_h(int32_t acc, uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.sdotusp.h %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 2; i++) {
        s += mote_xp_uh(a, i) * (uint32_t)mote_xp_sh(b, i);
    }
    return mote_xp_s32(s);
#endif
}

/* cv.dotsp.b rD, rs1, rs2 (funct5 10010, funct3 001): rD = sum_{i<4} sext(a[i]) * sext(b[i]). */
static inline int32_t mote_xp_dotsp_b(uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.dotsp.b %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return mote_xp_sdotsp_b(0, a, b);
#endif
}

/* cv.dotup.b rD, rs1, rs2 (funct5 10000, funct3 001): rD = sum_{i<4} zext(a[i]) * zext(b[i]). */
static inline int32_t mote_xp_dotup_b(uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.dotup.b %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return mote_xp_sdotup_b(0, a, b);
#endif
}

/* cv.dotusp.b rD, rs1, rs2 (funct5 10001, funct3 001): rD = sum_{i<4} zext(a[i]) * sext(b[i]). */
static inline int32_t mote_xp_dotusp_b(uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.dotusp.b %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return mote_xp_sdotusp_b(0, a, b);
#endif
}

/* cv.dotsp.h rD, rs1, rs2 (funct5 10010, funct3 000): rD = sum_{i<2} sext(a[i]) * sext(b[i]). */
static inline int32_t mote_xp_dotsp_h(uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.dotsp.h %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return mote_xp_sdotsp_h(0, a, b);
#endif
}

/* ---- Multiply-accumulate (xcvmac, custom-1 funct3 011) ------------------------------------ */

/* cv.mac rD, rs1, rs2 (funct7 1001000): rD = rD + a * b, low 32 bits (wraps). */
static inline int32_t mote_xp_mac(int32_t acc, int32_t a, int32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.mac %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    return mote_xp_s32((uint32_t)acc + (uint32_t)a * (uint32_t)b);
#endif
}

/* cv.msu rD, rs1, rs2 (funct7 1001001): rD = rD - a * b, low 32 bits (wraps). */
static inline int32_t mote_xp_msu(int32_t acc, int32_t a, int32_t b) {
#if MOTE_XPULP_ASM
    __asm__("cv.msu %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    return mote_xp_s32((uint32_t)acc - (uint32_t)a * (uint32_t)b);
#endif
}

/* ---- Clip, min, max (xcvalu, custom-1 funct3 011) ----------------------------------------- */

/* Portable cv.clip with bound b = 2^(n-1) - 1 (0 for n = 0): [-(b+1), b]. */
static inline int32_t mote_xp_clip_bits_c(int32_t x, int n) {
    int32_t hi = n == 0 ? 0 : (int32_t)((1u << (n - 1)) - 1u);
    int32_t lo = -hi - 1;
    return x <= lo ? lo : x >= hi ? hi : x;
}

/* Portable cv.clipu with bound b = 2^(n-1) - 1 (0 for n = 0): [0, b]. */
static inline int32_t mote_xp_clipu_bits_c(int32_t x, int n) {
    int32_t hi = n == 0 ? 0 : (int32_t)((1u << (n - 1)) - 1u);
    return x <= 0 ? 0 : x >= hi ? hi : x;
}

/* cv.clip rD, rs1, Is2 (funct7 0111000, Is2 in the rs2 field): clamps x to
 * [-2^(Is2-1), 2^(Is2-1) - 1]; MOTE_XP_CLIP(x, n) takes the immediate n (1..31) as a literal. */
#define MOTE_XP_STR_(n) #n
#define MOTE_XP_STR(n) MOTE_XP_STR_(n)
#if MOTE_XPULP_ASM
#define MOTE_XP_CLIP(x, n)                                                   \
    __extension__({                                                          \
        int32_t mote_xp_r_;                                                  \
        __asm__("cv.clip %0, %1, " MOTE_XP_STR(n) : "=r"(mote_xp_r_) : "r"((int32_t)(x))); \
        mote_xp_r_;                                                          \
    })
/* cv.clipu rD, rs1, Is2 (funct7 0111001): clamps x to [0, 2^(Is2-1) - 1]. */
#define MOTE_XP_CLIPU(x, n)                                                   \
    __extension__({                                                           \
        int32_t mote_xp_r_;                                                   \
        __asm__("cv.clipu %0, %1, " MOTE_XP_STR(n) : "=r"(mote_xp_r_) : "r"((int32_t)(x))); \
        mote_xp_r_;                                                           \
    })
#else
#define MOTE_XP_CLIP(x, n) mote_xp_clip_bits_c((int32_t)(x), (n))
#define MOTE_XP_CLIPU(x, n) mote_xp_clipu_bits_c((int32_t)(x), (n))
#endif

/* ---- Packed shifts (xcvsimd) ---------------------------------------------------------------- */

/* Portable cv.sra.sci.h: each halfword of x shifted right arithmetically by n (0..15). */
static inline uint32_t mote_xp_sra_h_c(uint32_t x, int n) {
    uint32_t lo = (uint32_t)(mote_xp_sh(x, 0) >> n) & 0xffffu;
    uint32_t hi = (uint32_t)(mote_xp_sh(x, 1) >> n) & 0xffffu;
    return hi << 16 | lo;
}

/* cv.sra.sci.h rD, rs1, Imm6 (funct5 01001, funct3 110): each halfword arithmetic-shifted
 * right by the immediate; MOTE_XP_SRA_H(x, n) takes n (0..15) as a literal. A word of two
 * bytes in the high byte of each halfword becomes the two bytes sign-extended to 16 bits. */
#if MOTE_XPULP_ASM
#define MOTE_XP_SRA_H(x, n)                                                   \
    __extension__({                                                           \
        uint32_t mote_xp_r_;                                                  \
        __asm__("cv.sra.sci.h %0, %1, " MOTE_XP_STR(n) : "=r"(mote_xp_r_) : "r"((uint32_t)(x))); \
        mote_xp_r_;                                                           \
    })
#else
#define MOTE_XP_SRA_H(x, n) mote_xp_sra_h_c((uint32_t)(x), (n))
#endif

/* cv.clip rD, rs1, 8: x clamped to [-128, 127] (int8). */
static inline int32_t mote_xp_clip8(int32_t x) {
    return MOTE_XP_CLIP(x, 8);
}

/* cv.clip rD, rs1, 16: x clamped to [-32768, 32767] (int16). */
static inline int32_t mote_xp_clip16(int32_t x) {
    return MOTE_XP_CLIP(x, 16);
}

/* cv.clipu rD, rs1, 9: x clamped to [0, 255] (uint8). */
static inline int32_t mote_xp_clipu8(int32_t x) {
    return MOTE_XP_CLIPU(x, 9);
}

/* cv.clipu rD, rs1, 17: x clamped to [0, 65535] (uint16). */
static inline int32_t mote_xp_clipu16(int32_t x) {
    return MOTE_XP_CLIPU(x, 17);
}

/* cv.clipr rD, rs1, rs2 (funct7 0111010): with b = bound & 0x7fffffff, x clamped to
 * [-(b+1), b]. */
static inline int32_t mote_xp_clipr(int32_t x, int32_t bound) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.clipr %0, %1, %2" : "=r"(r) : "r"(x), "r"(bound));
    return r;
#else
    int32_t hi = (int32_t)((uint32_t)bound & 0x7fffffffu);
    int32_t lo = -hi - 1;
    return x <= lo ? lo : x >= hi ? hi : x;
#endif
}

/* cv.clipur rD, rs1, rs2 (funct7 0111011): with b = bound & 0x7fffffff, x clamped to [0, b]. */
static inline int32_t mote_xp_clipur(int32_t x, int32_t bound) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.clipur %0, %1, %2" : "=r"(r) : "r"(x), "r"(bound));
    return r;
#else
    int32_t hi = (int32_t)((uint32_t)bound & 0x7fffffffu);
    return x <= 0 ? 0 : x >= hi ? hi : x;
#endif
}

/* cv.min rD, rs1, rs2 (funct7 0101011): signed minimum. */
static inline int32_t mote_xp_min(int32_t a, int32_t b) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.min %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return a < b ? a : b;
#endif
}

/* cv.max rD, rs1, rs2 (funct7 0101101): signed maximum. */
static inline int32_t mote_xp_max(int32_t a, int32_t b) {
#if MOTE_XPULP_ASM
    int32_t r;
    __asm__("cv.max %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return a < b ? b : a;
#endif
}

/* cv.minu rD, rs1, rs2 (funct7 0101100): unsigned minimum. */
static inline uint32_t mote_xp_minu(uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    uint32_t r;
    __asm__("cv.minu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return a < b ? a : b;
#endif
}

/* cv.maxu rD, rs1, rs2 (funct7 0101110): unsigned maximum. */
static inline uint32_t mote_xp_maxu(uint32_t a, uint32_t b) {
#if MOTE_XPULP_ASM
    uint32_t r;
    __asm__("cv.maxu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return a < b ? b : a;
#endif
}

/* ---- Packing and shuffling (xcvsimd, custom-3) --------------------------------------------- */

/* cv.pack rD, rs1, rs2 (funct5 11110, bit 25 = 0, funct3 000):
 * rD[31:16] = hi[15:0], rD[15:0] = lo[15:0]. */
static inline uint32_t mote_xp_pack_h(int32_t hi, int32_t lo) {
#if MOTE_XPULP_ASM
    uint32_t r;
    __asm__("cv.pack %0, %1, %2" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
#else
    return ((uint32_t)hi << 16) | ((uint32_t)lo & 0xffffu);
#endif
}

/* cv.packlo.b rD, rs1, rs2 (funct5 11111, bit 25 = 0, funct3 001):
 * rD[15:8] = b1[7:0], rD[7:0] = b0[7:0]; rD[31:16] keeps the value of `rd`. */
static inline uint32_t mote_xp_packlo_b(uint32_t rd, int32_t b1, int32_t b0) {
#if MOTE_XPULP_ASM
    __asm__("cv.packlo.b %0, %1, %2" : "+r"(rd) : "r"(b1), "r"(b0));
    return rd;
#else
    return (rd & 0xffff0000u) | (((uint32_t)b1 & 0xffu) << 8) | ((uint32_t)b0 & 0xffu);
#endif
}

/* cv.packhi.b rD, rs1, rs2 (funct5 11111, bit 25 = 1, funct3 001):
 * rD[31:24] = b3[7:0], rD[23:16] = b2[7:0]; rD[15:0] keeps the value of `rd`. */
static inline uint32_t mote_xp_packhi_b(uint32_t rd, int32_t b3, int32_t b2) {
#if MOTE_XPULP_ASM
    __asm__("cv.packhi.b %0, %1, %2" : "+r"(rd) : "r"(b3), "r"(b2));
    return rd;
#else
    return (rd & 0x0000ffffu) | (((uint32_t)b3 & 0xffu) << 24) | (((uint32_t)b2 & 0xffu) << 16);
#endif
}

/* Four int8 values packed into one word, lane 0 = b0 (cv.packlo.b then cv.packhi.b). */
static inline uint32_t mote_xp_pack4_b(int32_t b3, int32_t b2, int32_t b1, int32_t b0) {
    return mote_xp_packhi_b(mote_xp_packlo_b(0, b1, b0), b3, b2);
}

/* cv.shuffle.b rD, rs1, rs2 (funct5 11000, funct3 001): for each byte lane i,
 * rD[i] = a[sel[8i+1:8i]] (the other selector bits are ignored). */
static inline uint32_t mote_xp_shuffle_b(uint32_t a, uint32_t sel) {
#if MOTE_XPULP_ASM
    uint32_t r;
    __asm__("cv.shuffle.b %0, %1, %2" : "=r"(r) : "r"(a), "r"(sel));
    return r;
#else
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        r |= ((a >> (8 * ((sel >> (8 * i)) & 3u))) & 0xffu) << (8 * i);
    }
    return r;
#endif
}

/* cv.shuffle2.b rD, rs1, rs2 (funct5 11100, funct3 001): for each byte lane i, with
 * s = sel[8i+2:8i], rD[i] = (s & 4 ? a : rd)[s & 3] (old rd and a as byte vectors). */
static inline uint32_t mote_xp_shuffle2_b(uint32_t rd, uint32_t a, uint32_t sel) {
#if MOTE_XPULP_ASM
    __asm__("cv.shuffle2.b %0, %1, %2" : "+r"(rd) : "r"(a), "r"(sel));
    return rd;
#else
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t s = (sel >> (8 * i)) & 7u;
        uint32_t src = (s & 4u) ? a : rd;
        r |= ((src >> (8 * (s & 3u))) & 0xffu) << (8 * i);
    }
    return r;
#endif
}

/* ---- Post-increment loads and stores (xcvmem) ---------------------------------------------- *
 * Register-increment forms, custom-1 funct3 011: cv.l{b,bu,h,hu,w} rD, (rs1), rs2 (funct7
 * 0000000, 0001000, 0000001, 0001001, 0000010) and cv.s{b,h,w} rs2, (rs1), rs3 (funct7 0010000,
 * 0010001, 0010010): access memory at *p, then *p += step_bytes. (The immediate-increment forms,
 * custom-0 / custom-1 funct3 0-2, are what clang emits for its own loops.) A constant step costs
 * one `li`, which the compiler hoists out of loops. */

#if MOTE_XPULP_ASM
#define MOTE_XP_LOAD_PI(insn, T, R)                                                               \
    R v;                                                                                          \
    const T *q = *p;                                                                              \
    __asm__(insn " %0, (%1), %3" : "=r"(v), "+r"(q) : "m"(*q), "r"(step_bytes));                 \
    *p = q;                                                                                       \
    return v;
#define MOTE_XP_STORE_PI(insn, T)                                                                 \
    T *q = *p;                                                                                    \
    __asm__(insn " %2, (%0), %3" : "+r"(q), "=m"(*q) : "r"(v), "r"(step_bytes));                 \
    *p = q;
#else
#define MOTE_XP_LOAD_PI(insn, T, R)                                                               \
    const T *q = *p;                                                                              \
    R v = (R)*q;                                                                                  \
    *p = (const T *)(const void *)((const char *)q + step_bytes);                                \
    return v;
#define MOTE_XP_STORE_PI(insn, T)                                                                 \
    T *q = *p;                                                                                    \
    *q = (T)v;                                                                                    \
    *p = (T *)(void *)((char *)q + step_bytes);
#endif

/* cv.lb rD, (rs1), rs2: rD = sext(mem8[*p]); *p += step_bytes. */
static inline int32_t mote_xp_lb_pi(const int8_t **p, int32_t step_bytes) {
    MOTE_XP_LOAD_PI("cv.lb", int8_t, int32_t)
}

/* cv.lbu rD, (rs1), rs2: rD = zext(mem8[*p]); *p += step_bytes. */
static inline uint32_t mote_xp_lbu_pi(const uint8_t **p, int32_t step_bytes) {
    MOTE_XP_LOAD_PI("cv.lbu", uint8_t, uint32_t)
}

/* cv.lh rD, (rs1), rs2: rD = sext(mem16[*p]); *p += step_bytes. */
static inline int32_t mote_xp_lh_pi(const int16_t **p, int32_t step_bytes) {
    MOTE_XP_LOAD_PI("cv.lh", int16_t, int32_t)
}

/* cv.lhu rD, (rs1), rs2: rD = zext(mem16[*p]); *p += step_bytes. */
static inline uint32_t mote_xp_lhu_pi(const uint16_t **p, int32_t step_bytes) {
    MOTE_XP_LOAD_PI("cv.lhu", uint16_t, uint32_t)
}

/* cv.lw rD, (rs1), rs2: rD = mem32[*p]; *p += step_bytes. */
static inline int32_t mote_xp_lw_pi(const int32_t **p, int32_t step_bytes) {
    MOTE_XP_LOAD_PI("cv.lw", int32_t, int32_t)
}

/* The packed-SIMD operand load. A 4-byte group of int8 (or uint8) data at *p, as one word (lane
 * i = byte i); *p += step_bytes. The group must be 4-byte aligned on hardware. */
typedef struct {
    int8_t b[4];
} mote_xp_int8x4;
static inline uint32_t mote_xp_lw4_pi(const mote_xp_int8x4 **p, int32_t step_bytes) {
#if MOTE_XPULP_ASM
    uint32_t v;
    const mote_xp_int8x4 *q = *p;
    __asm__("cv.lw %0, (%1), %3" : "=r"(v), "+r"(q) : "m"(*q), "r"(step_bytes));
    *p = q;
    return v;
#else
    const mote_xp_int8x4 *q = *p;
    uint32_t v = (uint32_t)(uint8_t)q->b[0] | (uint32_t)(uint8_t)q->b[1] << 8 |
                 (uint32_t)(uint8_t)q->b[2] << 16 | (uint32_t)(uint8_t)q->b[3] << 24;
    *p = (const mote_xp_int8x4 *)(const void *)((const char *)q + step_bytes);
    return v;
#endif
}

/* cv.sb rs2, (rs1), rs3: mem8[*p] = v[7:0]; *p += step_bytes. */
static inline void mote_xp_sb_pi(int8_t **p, int32_t v, int32_t step_bytes) {
    MOTE_XP_STORE_PI("cv.sb", int8_t)
}

/* cv.sh rs2, (rs1), rs3: mem16[*p] = v[15:0]; *p += step_bytes. */
static inline void mote_xp_sh_pi(int16_t **p, int32_t v, int32_t step_bytes) {
    MOTE_XP_STORE_PI("cv.sh", int16_t)
}

/* cv.sw rs2, (rs1), rs3: mem32[*p] = v; *p += step_bytes. */
static inline void mote_xp_sw_pi(int32_t **p, int32_t v, int32_t step_bytes) {
    MOTE_XP_STORE_PI("cv.sw", int32_t)
}

#undef MOTE_XP_LOAD_PI
#undef MOTE_XP_STORE_PI

/* Four consecutive bytes at p as one word (lane i = byte i), what mote's generated SIMD loops
 * read operands with (`xpulp.load_word`): one `lw` on CORE-V, where the compiler walks it
 * with post-increment `cv.lw` on its own; p is 4-byte aligned there (misaligned words work on
 * CV32E40P at an extra cycle). The portable body reads bytes (any alignment, no aliasing). */
typedef uint32_t __attribute__((may_alias)) mote_xp_word;
static inline uint32_t mote_xp_load_word(const void *p) {
#if MOTE_XPULP_ASM
    return *(const mote_xp_word *)p;
#else
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
#endif
}

#endif /* MOTE_XPULP_H */
