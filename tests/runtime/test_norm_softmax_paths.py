"""The cycle-saving paths of runtime_c's softmax and norms, bit for bit against the numpy
reference: rows aimed at each way the kernels divide (docs/runtime_kernels.md), at the edges of
their bounds, plus the division helper `mote_udivq` against C's 64-bit division.

- `mote_udivq_by` (floor(u / d) by a per-row reciprocal, u < 2^(32+t)): edge and random
  numerators for divisors 2 .. 2^30 - 1, checked by a host C program.
- softmax: z = floor(d / log2) by a multiplier, on rows holding every distance d of the input
  type (0 .. 65535) for log2 = 1, 2, 3, powers of two, primes, the range and beyond; path 1's
  reciprocal with its rare exact fix (exponentials near 2^32); path 0's reciprocal.
- layernorm / layernorm_trunc / rmsnorm: rows with an outlier (|x - mean| / std up to
  sqrt(n)), constant rows (std = 1), weights and biases up to the int32 extremes, shifts and
  levels on both sides of (hi + 1) << shift = 2^31, so that paths A, B, W (with its 64-bit
  fallback) and C are all taken; n not a power of two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from compiler.backend.runtime_kernels import runtime_call
from compiler.reference import kernels as K
from tests.backend.kernel_lib import DTYPES, build, run
from tests.runtime.c_programs import run_host_program

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1

UDIVQ_PROGRAM = r"""
#include <stdio.h>
#include "kernels_common.h"

static uint32_t x = 2463534242u;
static uint32_t next(void) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x; }

static int check(uint64_t u, uint32_t d) {
    mote_udivq v = mote_udivq_setup(d);
    int fits = u < ((uint64_t)1 << (32 + v.t));
    if (mote_udivq_fits((uint32_t)(u >> 32), &v) != fits) {
        printf("fits %llu / %u\n", (unsigned long long)u, d);
        return 1;
    }
    if (fits && mote_udivq_by((uint32_t)(u >> 32), (uint32_t)u, &v) != u / d) {
        printf("%llu / %u: got %u\n", (unsigned long long)u, d,
               mote_udivq_by((uint32_t)(u >> 32), (uint32_t)u, &v));
        return 1;
    }
    return 0;
}

int main(void) {
    int bad = 0;
    for (uint32_t t = 1; t < 30; t++) {
        uint32_t ds[] = {1u << t, (1u << t) + 1u, (2u << t) - 1u, (1u << t) + (1u << (t - 1)), 3u};
        for (unsigned i = 0; i < sizeof ds / sizeof ds[0]; i++) {
            uint32_t d = ds[i];
            mote_udivq v = mote_udivq_setup(d);
            uint64_t top = ((uint64_t)1 << (32 + v.t)) - 1u;
            uint64_t us[] = {0u, 1u, d - 1u, d, 2u * (uint64_t)d - 1u, 3u * (uint64_t)d,
                             0xFFFFFFFFu, 0x100000000u, top, top - d, top + 1u,
                             top / d * d, top / d * d - 1u, (uint64_t)0x7FFFFFFFu * d};
            for (unsigned j = 0; j < sizeof us / sizeof us[0]; j++)
                bad |= check(us[j], d);
        }
    }
    for (int i = 0; i < 3000000; i++) { /* divisors of every size, numerators up to the bound */
        uint32_t d = next() >> (2u + next() % 30u);
        if (d < 2u)
            d = 2u;
        mote_udivq v = mote_udivq_setup(d);
        uint64_t u = (((uint64_t)next() << 32) | next()) >> (32u - v.t + next() % (33u + v.t));
        bad |= check(u, d);
        bad |= check(u % ((uint64_t)1 << (32 + v.t)), d);
    }
    return bad;
}
"""


def test_udivq_equals_division(tmp_path: Path) -> None:
    result = run_host_program(UDIVQ_PROGRAM, tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.fixture(scope="module")
def lib():
    return build()


def call(lib, op, params, ins, out_elem, mask=None) -> np.ndarray:
    shape = ins[0][0].shape
    kc = runtime_call(
        op,
        params,
        [(tuple(a.shape), e) for a, e in ins],
        (tuple(shape), out_elem),
        None if mask is None else (tuple(mask[0].shape), mask[1]),
    )
    arrays = [a.astype(DTYPES[e]) for a, e in ins]
    if mask is not None:
        arrays.append(mask[0].astype(DTYPES[mask[1]]))
    return run(lib, kc, arrays, tuple(shape), out_elem).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------------

EVERY_I16 = np.arange(-32768, 32768, dtype=np.int64)


@pytest.mark.parametrize(
    "log2", [1, 2, 3, 4, 7, 255, 256, 4848, 5796, 32768, 65521, 65534, 65535, 65536, 1 << 30]
)
def test_softmax_every_distance(lib, log2):
    """One row holds every i16 value, so the kernel forms z = floor(d / log2) for every
    d in [0, 65535]; a second row is masked at every third element."""
    x = np.stack([EVERY_I16, EVERY_I16[::-1]])
    mask = np.stack([np.ones(x.shape[1], np.int64), (np.arange(x.shape[1]) % 3 != 0).astype(np.int64)])
    for a, b, c, levels in ((1, 0, 1 << 20, 65536), (1, 1 << 15, 1 << 20, 256), (3, 100, 5, 65536)):
        params = {"coeff_a": a, "coeff_b": b, "coeff_c": c, "log2": log2, "levels": levels}
        want = K.softmax_ibert(x, a, b, c, log2, levels, mask=mask)
        got = call(lib, "softmax", params, [(x, "i16")], "i32", (mask, "ui8"))
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "p",
    [
        (1, 65535, 5, 60000, 65536),  # E = 65535^2 + 5 just below 2^32: path 1, fixes frequent
        (1, 65000, 70000000, 30000, 65536),  # path 1, E > 2^32 - 2^28
        (1, 345, 62395, 255, 256),  # path 0 (Deeploy): reciprocal of the row sum
        (1, 9465, 46958744, 4848, 65536),  # BERT-tiny
        (2, 10, 1, 1, 256),  # log2 = 1, path 0
    ],
)
@pytest.mark.parametrize("x_elem", ["i8", "ui8", "i16", "ui16"])
def test_softmax_reciprocals(lib, p, x_elem):
    rng = np.random.default_rng(sum(p))
    lo, hi = int(np.iinfo(DTYPES[x_elem]).min), int(np.iinfo(DTYPES[x_elem]).max)
    rows = [
        rng.integers(lo, hi, size=77, endpoint=True),
        rng.integers(max(lo, hi - 300), hi, size=77, endpoint=True),  # close to the maximum
        np.full(77, hi),  # equal values
        np.where(np.arange(77) % 2 == 0, hi, lo),
        rng.integers(hi - 3, hi, size=77, endpoint=True),
    ]
    x = np.stack(rows)
    params = dict(zip(("coeff_a", "coeff_b", "coeff_c", "log2", "levels"), p, strict=True))
    for y_elem in ("ui16", "i32") if p[4] > 256 else ("ui8", "i32"):
        want = K.softmax_ibert(x, *p)
        np.testing.assert_array_equal(call(lib, "softmax", params, [(x, x_elem)], y_elem), want)


# ---------------------------------------------------------------------------------------------
# norms
# ---------------------------------------------------------------------------------------------


def ln_path(x: np.ndarray, w: np.ndarray, b: np.ndarray, shift: int, levels: int) -> list[str]:
    """The path kernels_norm.c's layernorm takes for each row (floor mean); "W64" for a W row
    with an element beyond mote_udivq's range (the 64-bit fallback)."""
    wmax, bmax = int(np.abs(w).max()), int(np.abs(b).max())
    hi = levels // 2 - 1
    paths = []
    for row in x.reshape(-1, x.shape[-1]):
        n = row.size
        mean = int(row.sum()) // n
        far = max(int(row.max()) - mean, mean - int(row.min()))
        var = int(((row - mean) ** 2).sum()) // n
        std = int(K.isqrt(np.array([var + 1]))[0])
        if far * wmax + bmax <= I32_MAX:
            paths.append("A")
        elif std >= 2 and bmax < 1 << 31 and far * wmax <= (I32_MAX - bmax) * std:
            paths.append("B")
        elif std >= 2 and 0 <= shift < 32 and (hi + 1) << shift <= 1 << 31:
            p = (row - mean) * w
            u = np.where(p < 0, -p - 1, p)
            paths.append("W64" if int(u.max()) >> (32 + std.bit_length() - 1) else "W")
        else:
            paths.append("C")
    return paths


def outlier_rows(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray:
    """Rows whose max |x - mean| / std ranges from 1 to about sqrt(n): noise around a centre
    with 0 to 3 outliers, constant rows (std = 1), and two-value rows."""
    rows = []
    for k in range(8):
        centre = int(rng.integers(lo // 2, hi // 2, endpoint=True))
        spread = int(rng.choice([0, 1, 2, 30, 3000]))
        row = np.clip(centre + rng.integers(-spread, spread, size=n, endpoint=True), lo, hi)
        for _ in range(k % 4):
            row[int(rng.integers(0, n))] = rng.choice([lo, hi])
        rows.append(row)
    rows.append(np.full(n, hi))
    rows.append(np.where(np.arange(n) % 2 == 0, lo, hi))
    return np.stack(rows)


NORM_PARAMS = [
    # (wlo, whi, blo, bhi, shift, levels)
    (1_900_000, 4_100_000, -460_000, 460_000, 16, 256),  # BERT-tiny i8 layers: B
    (377_949_308, 500_069_751, -68_776_073, 68_306_298, 16, 65536),  # BERT-tiny last: W
    (I32_MIN, I32_MAX, I32_MIN, I32_MAX, 16, 65536),  # extremes, (hi + 1) << shift = 2^31: W / C
    (I32_MIN, I32_MAX, -5, 5, 15, 65536),  # W
    (I32_MIN, I32_MAX, -5, 5, 17, 65536),  # (hi + 1) << shift = 2^32: C
    (-(1 << 30), 1 << 30, -(1 << 30), 1 << 30, 0, 1 << 32),  # C
    (-(1 << 26), 1 << 26, -(1 << 29), 1 << 29, 1, 3),  # tiny levels
    (1000, 5000, -100, 100, 31, 256),  # shift 31
]


@pytest.mark.parametrize("p", NORM_PARAMS)
@pytest.mark.parametrize("x_elem", ["i8", "ui8", "i16", "ui16"])
def test_norm_paths(lib, p, x_elem):
    wlo, whi, blo, bhi, shift, levels = p
    rng = np.random.default_rng(abs(wlo) + shift)
    lo, hi = int(np.iinfo(DTYPES[x_elem]).min), int(np.iinfo(DTYPES[x_elem]).max)
    for n in (1, 2, 7, 100, 129):
        x = outlier_rows(rng, lo, hi, n)
        w = rng.integers(wlo, whi, size=n, endpoint=True)
        b = rng.integers(blo, bhi, size=n, endpoint=True)
        w[0], b[-1] = rng.choice([wlo, whi]), rng.choice([blo, bhi])
        for y_elem in ("i8", "i16", "i32"):
            if levels > 2 * (int(np.iinfo(DTYPES[y_elem]).max) + 1):
                continue
            assert_norms(lib, x, x_elem, w, b, shift, levels, y_elem)


def assert_norms(lib, x, x_elem, w, b, shift, levels, y_elem) -> None:  # noqa: ANN001
    """layernorm and rmsnorm (and layernorm_trunc for 8-bit rows) equal the reference."""
    params = {"shift": shift, "levels": levels}
    ins = [(x, x_elem), (w, "i32"), (b, "i32")]
    np.testing.assert_array_equal(
        call(lib, "layernorm", params, ins, y_elem), K.layernorm(x, w, b, shift, levels)
    )
    np.testing.assert_array_equal(
        call(lib, "rmsnorm", params, ins[:2], y_elem), K.rmsnorm(x, w, shift, levels)
    )
    if x_elem in ("i8", "ui8"):
        np.testing.assert_array_equal(
            call(lib, "layernorm_trunc", params, ins, y_elem), K.layernorm_trunc(x, w, b, shift, levels)
        )


def test_norm_paths_all_taken(lib):
    """The parameter sets above, on 16-bit rows, reach all four layernorm paths."""
    rng = np.random.default_rng(0)
    seen = set()
    for wlo, whi, blo, bhi, shift, levels in NORM_PARAMS:
        x = outlier_rows(rng, -32768, 32767, 129)
        w = rng.integers(wlo, whi, size=129, endpoint=True)
        b = rng.integers(blo, bhi, size=129, endpoint=True)
        seen.update(ln_path(x, w, b, shift, levels))
    assert seen == {"A", "B", "W", "W64", "C"}


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    x_elem=st.sampled_from(["i8", "ui8", "i16", "ui16"]),
    y_elem=st.sampled_from(["i8", "i16", "i32"]),
    n=st.one_of(st.integers(1, 9), st.sampled_from([16, 31, 100, 128, 129])),
    wbits=st.integers(0, 31),
    bbits=st.integers(0, 31),
    shift=st.one_of(st.sampled_from([0, 1, 15, 16, 17, 31, 32, 40]), st.integers(0, 48)),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_norms_property(lib, x_elem, y_elem, n, wbits, bbits, shift, seed, data):
    """Weights and biases of every magnitude, outlier rows, any shift and level count."""
    top = 2 * (int(np.iinfo(DTYPES[y_elem]).max) + 1)
    levels = data.draw(
        st.one_of(st.sampled_from([2, 256, 65536, 1 << 32]), st.integers(2, top)).filter(lambda v: v <= top)
    )
    rng = np.random.default_rng(seed)
    lo, hi = int(np.iinfo(DTYPES[x_elem]).min), int(np.iinfo(DTYPES[x_elem]).max)
    x = outlier_rows(rng, lo, hi, n)
    w = rng.integers(max(I32_MIN, -(1 << wbits)), min(I32_MAX, 1 << wbits), size=n, endpoint=True)
    b = rng.integers(max(I32_MIN, -(1 << bbits)), min(I32_MAX, 1 << bbits), size=n, endpoint=True)
    for path in sorted(set(ln_path(x, w, b, shift, levels))):
        event(f"layernorm path {path}")
    assert_norms(lib, x, x_elem, w, b, shift, levels, y_elem)
