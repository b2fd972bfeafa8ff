"""runtime_c's division by a per-row divisor without a divide (`mote_udiv32_by` and the
48-bit `mote_udiv48_by`, used by the norms): equal to C's `u / d` for every numerator and
divisor class, checked by a C program built on the host over edge values and a pseudo-random
sweep."""

from __future__ import annotations

from pathlib import Path

from tests.runtime.c_programs import run_host_program

PROGRAM = r"""
#include <stdio.h>
#include "kernels_common.h"

static int check(uint32_t u, uint32_t d) {
    mote_udiv32 v = mote_udiv32_setup(d);
    if (mote_udiv32_by(u, &v) != u / d) {
        printf("%u / %u: got %u\n", u, d, mote_udiv32_by(u, &v));
        return 1;
    }
    return 0;
}

int main(void) {
    static const uint32_t ds[] = {1u, 2u, 3u, 5u, 7u, 255u, 256u, 65535u, 65536u, 65537u,
                                  0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    int bad = 0;
    uint32_t x = 12345u;
    for (unsigned i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        uint32_t d = ds[i];
        uint32_t us[] = {0u, 1u, d - 1u, d, d + 1u, 2u * d - 1u, 2u * d,
                         0x7FFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu};
        for (unsigned j = 0; j < sizeof us / sizeof us[0]; j++)
            bad |= check(us[j], d);
    }
    for (int i = 0; i < 2000000; i++) {  /* xorshift: numerators and divisors of every size */
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t u = x;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t d = x >> (x & 31u);
        bad |= check(u, d ? d : 1u);
    }
    for (int i = 0; i < 1000000; i++) {  /* 48-by-16-bit: the norms' wide path */
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint64_t u = ((uint64_t)(x & 0xFFFFu) << 32);
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        u |= x;
        uint32_t d = (x >> 7) & 0xFFFFu;
        d = d ? d : 1u;
        mote_udiv32 v = mote_udiv32_setup(d);
        if (mote_udiv48_by(u, &v) != u / d) {
            printf("48-bit %llu / %u\n", (unsigned long long)u, d);
            bad = 1;
        }
    }
    return bad;
}
"""


def test_udiv32_equals_division(tmp_path: Path) -> None:
    result = run_host_program(PROGRAM, tmp_path)
    assert result.returncode == 0, result.stdout
