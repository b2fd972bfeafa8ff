"""Fixed-point parameters that reproduce a given integer function exactly.

A quantized op maps integers to integers: an 8-bit value, an int32 accumulator or a product
of two 8-bit values to the 8-bit output onnxruntime computes (qdq_ort.py). Up to rounding
decisions in the last bit of float32 that function is `round(x * M + c)`; the importer
represents it as a `#qtfm.requant` with `rounding = floor`:

    y = clamp(floor((x * mul + add) / 2^shift), lo, hi)

and chooses `mul` and `add` so that this equals the target on every input the op can see.
Each input with its target output is a pair of linear inequalities on `add` (for a fixed
`mul`): the feasible `add` values form an interval, and the fit is exact when it is not
empty. For monotone functions of wide inputs (accumulators) only the inputs next to each
output step matter (`breakpoints`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INT32_MAX = (1 << 31) - 1
MUL_LIMIT = 1 << 30


class FitError(Exception):
    """No fixed-point parameters reproduce the function."""


def _floor_div(a: np.ndarray, b: int) -> np.ndarray:
    return np.floor_divide(a, b)


def add_interval(
    x: np.ndarray, t: np.ndarray, mul: np.ndarray, shift: int, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each row (leading axes of `t`, `mul` per row), the interval [a_min, a_max] of `add`
    with clamp(floor((x*mul + add) / 2^shift), lo, hi) == t for all x (last axis of `t`).

    `x` broadcasts against `t`; points whose target is `lo` (`hi`) only bound from above
    (below), since the clamp produces them for any smaller (larger) value."""
    one = np.int64(1) << shift
    xm = np.asarray(x, np.int64) * mul[..., None]
    t = np.asarray(t, np.int64)
    big = np.int64(1) << 62
    lower = np.where(t > lo, t * one - xm, -big)
    upper = np.where(t < hi, (t + 1) * one - 1 - xm, big)
    return lower.max(axis=-1), upper.min(axis=-1)


def fit_add(
    x: np.ndarray,
    t: np.ndarray,
    slope: np.ndarray,
    shift: int,
    lo: int,
    hi: int,
    preferred: np.ndarray | None = None,
    tries: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: `mul` (near slope * 2^shift) and `add` reproducing the targets.

    Raises FitError when some row has no solution among the tried multipliers."""
    t = np.asarray(t, np.int64)
    rows = t.shape[:-1]
    base = np.broadcast_to(np.round(np.asarray(slope, np.float64) * 2.0**shift), rows).astype(np.int64)
    muls = base.copy()
    adds = np.zeros(rows, np.int64)
    done = np.zeros(rows, bool)
    for k in range(tries * 2 + 1):
        delta = (k + 1) // 2 * (1 if k % 2 else -1)
        cand = base + delta
        a_min, a_max = add_interval(x, t, cand, shift, lo, hi)
        ok = (a_min <= a_max) & ~done
        if preferred is not None:
            pick = np.clip(np.broadcast_to(preferred, rows), a_min, a_max)
        else:
            pick = np.where(a_min > -(1 << 61), a_min, a_max)
            pick = np.where((a_min > -(1 << 61)) & (a_max < (1 << 61)), (a_min + a_max) // 2, pick)
        muls = np.where(ok, cand, muls)
        adds = np.where(ok, pick, adds)
        done |= ok
        if done.all():
            return muls, adds
    raise FitError(f"{int((~done).sum())} of {done.size} channels have no exact fixed-point form")


def breakpoints(
    f: Callable[[np.ndarray], np.ndarray],
    levels: np.ndarray,
    lo_x: int,
    hi_x: int,
    channels: int,
) -> np.ndarray:
    """For a function non-decreasing in x (per channel; `f` maps int64 x of shape
    (L, C) to outputs of the same shape), the least x in [lo_x, hi_x + 1] with
    f(x) >= level, for each level (rows) and channel (columns); hi_x + 1 if none."""
    n = len(levels)
    lo = np.full((n, channels), lo_x, np.int64)
    hi = np.full((n, channels), hi_x + 1, np.int64)
    lv = np.asarray(levels, np.int64)[:, None]
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        y = f(np.where(active, mid, lo))
        up = (y >= lv) & active
        hi = np.where(up, mid, hi)
        lo = np.where(active & ~up, mid + 1, lo)


def fit_monotone(
    f: Callable[[np.ndarray], np.ndarray],
    slope: np.ndarray,
    lo_x: int,
    hi_x: int,
    lo: int,
    hi: int,
    shift: int,
    preferred: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`mul`, `add` per channel reproducing a non-decreasing function of x in [lo_x, hi_x]
    (e.g. the requantization of an accumulator); only the inputs at each step are checked."""
    slope = np.atleast_1d(np.asarray(slope, np.float64))
    channels = slope.size
    levels = np.arange(lo + 1, hi + 1)
    bp = breakpoints(f, levels, lo_x, hi_x, channels)  # (L, C)
    # points: each breakpoint with its level, the input before it with the level below
    xs = np.concatenate([bp, bp - 1], axis=0).T  # (C, 2L)
    ts = np.concatenate(
        [np.broadcast_to(levels[:, None], bp.shape), np.broadcast_to(levels[:, None] - 1, bp.shape)], axis=0
    ).T
    inside = (xs >= lo_x) & (xs <= hi_x)
    # points outside the domain do not constrain: replace them by a harmless copy
    first = np.clip(xs[:, :1], lo_x, hi_x)
    xs = np.where(inside, xs, first)
    ts = np.where(inside, ts, f(np.broadcast_to(first, xs.shape).T.copy()).T)
    return fit_add(xs, ts, slope, shift, lo, hi, preferred)


def shift_for(max_abs_x: float, slope: float, limit_bits: int = 62) -> int:
    """The largest shift (<= 40) keeping |mul| < 2^30 and |x * mul| < 2^limit_bits."""
    slope = abs(float(slope))
    shift = 40
    while shift > 0 and (
        slope * 2.0**shift >= MUL_LIMIT or max_abs_x * slope * 2.0**shift >= 2.0 ** (limit_bits - 2)
    ):
        shift -= 1
    return shift
