"""Shared hypothesis strategies and plain-Python helpers for the reference-semantics tests."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

I8_MIN, I8_MAX = -(1 << 7), (1 << 7) - 1
I16_MIN, I16_MAX = -(1 << 15), (1 << 15) - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

# Small, deterministic-enough property runs; no example database outside the tree.
PROP = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(PROP, max_examples=60)

LEVELS = st.one_of(
    st.sampled_from([2, 4, 16, 256, 65536, 1 << 32]),
    st.integers(2, 1 << 20),
)


def edgy(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers in [lo, hi] with extra weight on the ends, zero and +-1."""
    edges = sorted({v for v in (lo, hi, 0, 1, -1, lo + 1, hi - 1) if lo <= v <= hi})
    return st.one_of(st.sampled_from(edges), st.integers(lo, hi))


def scales() -> st.SearchStrategy[int]:
    """int32 multipliers / offsets: the full range, or small ones that keep results unsaturated."""
    return st.one_of(edgy(I32_MIN, I32_MAX), edgy(-(1 << 10), 1 << 10))


def accumulators(shape: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...]) -> st.SearchStrategy:
    """int32 accumulator arrays over the full range or over a moderate one."""
    return st.one_of(int_arrays(np.int32, shape), int_arrays(np.int32, shape, -(1 << 20), 1 << 20))


def dtype_ints(dtype: type[np.integer]) -> st.SearchStrategy[int]:
    info = np.iinfo(dtype)
    return edgy(int(info.min), int(info.max))


def int_arrays(
    dtype: type[np.integer],
    shape: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...],
    lo: int | None = None,
    hi: int | None = None,
) -> st.SearchStrategy[np.ndarray]:
    info = np.iinfo(dtype)
    lo = int(info.min) if lo is None else lo
    hi = int(info.max) if hi is None else hi
    return hnp.arrays(np.dtype(dtype), shape, elements=edgy(lo, hi))


def shapes(
    min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 5
) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def clamps(draw: st.DrawFn) -> tuple[int, int]:
    """(lo, hi) of a signed or unsigned clamp with some number of levels."""
    levels = draw(LEVELS)
    if draw(st.booleans()):
        return -(levels // 2), levels // 2 - 1
    return 0, levels - 1


def clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else hi if v > hi else v


def floor_div(a: int, b: int) -> int:
    """floor(a / b) through exact rationals (independent of `//`)."""
    return math.floor(Fraction(a, b))


def round_half_up(num: int, den: int) -> int:
    """num / den rounded to nearest, ties towards +inf."""
    return math.floor(Fraction(num, den) + Fraction(1, 2))


def flat(a: np.ndarray) -> list[int]:
    """The elements of `a` in row-major order as Python ints."""
    return [int(v) for v in np.asarray(a).ravel().tolist()]


def check_int64(out: np.ndarray, shape: tuple[int, ...], expected: list[int]) -> None:
    # 0-d operands give numpy scalars (np.int64), everything else an ndarray
    assert isinstance(out, np.ndarray | np.integer), type(out)
    out = np.asarray(out)
    assert out.dtype == np.int64, out.dtype
    assert out.shape == tuple(shape), (out.shape, shape)
    got = flat(out)
    if got != expected:
        bad = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
        raise AssertionError(
            f"element {bad} (row-major) differs: kernel {got[bad]}, reference {expected[bad]}; "
            f"kernel {got}, reference {expected}"
        )
