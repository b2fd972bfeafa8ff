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


def _slack(x: np.ndarray, t: np.ndarray, mul: np.ndarray, shift: int, lo: int, hi: int) -> np.ndarray:
    """a_max - a_min per row for the given multipliers (concave in `mul`)."""
    a_min, a_max = add_interval(x, t, mul, shift, lo, hi)
    return a_max - a_min


def _best_mul(slack: Callable[[np.ndarray], np.ndarray], base: np.ndarray, window: np.ndarray) -> np.ndarray:
    """The integer multiplier in [base - window, base + window] maximizing a concave slack
    (ternary search, per row)."""
    lo = base - window
    hi = base + window
    while True:
        wide = hi - lo > 2
        if not wide.any():
            break
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        f1, f2 = slack(m1), slack(m2)
        lo = np.where(wide & (f1 < f2), m1 + 1, lo)
        hi = np.where(wide & (f1 >= f2), m2, hi)
    best = lo.copy()
    best_f = slack(lo)
    for k in (1, 2):
        cand = np.minimum(lo + k, hi)
        f = slack(cand)
        best = np.where(f > best_f, cand, best)
        best_f = np.maximum(f, best_f)
    return best


def fit_add(
    x: np.ndarray,
    t: np.ndarray,
    slope: np.ndarray,
    shift: int,
    lo: int,
    hi: int,
    preferred: np.ndarray | None = None,
    partial: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: `mul` (near slope * 2^shift) and `add` reproducing the targets.

    The feasible `add` interval's width is concave in `mul`; the multiplier maximizing it
    near the rounded slope is found by ternary search. Raises FitError when some row has
    no solution, unless `partial`: then such rows get the rounded slope and the preferred
    `add` (or 2^(shift-1)), i.e. exact rounding of the real-valued function."""
    t = np.asarray(t, np.int64)
    rows = t.shape[:-1]
    base = np.broadcast_to(np.round(np.asarray(slope, np.float64) * 2.0**shift), rows).astype(np.int64)
    window = np.maximum(np.abs(base) >> 12, 64)
    muls = base.copy()
    a_min, a_max = add_interval(x, t, muls, shift, lo, hi)
    if np.any(a_min > a_max):
        muls = _best_mul(lambda m: _slack(x, t, m, shift, lo, hi), base, window)
        a_min, a_max = add_interval(x, t, muls, shift, lo, hi)
    bad = a_min > a_max
    if bad.any() and not partial:
        raise FitError(f"{int(bad.sum())} of {bad.size} channels have no exact fixed-point form")
    adds = _pick(np.where(bad, 0, a_min), np.where(bad, 0, a_max), preferred)
    if bad.any():
        pref = np.broadcast_to(
            np.asarray(preferred if preferred is not None else (1 << max(shift - 1, 0)), np.int64), rows
        )
        muls = np.where(bad, base, muls)
        adds = np.where(bad, pref, adds)
    return muls, adds


def fit_shared_mul(
    x: np.ndarray, t: np.ndarray, slope: float, shift: int, lo: int, hi: int
) -> tuple[int, np.ndarray]:
    """One `mul` for all rows and an `add` per row (rows of `t` over the inputs `x`): the
    form `floor((x * mul + c[row]) / 2^shift)` of a two-operand addition, where the row is
    the other operand's value. Raises FitError if there is none near the slope."""
    t = np.asarray(t, np.int64)
    base = np.array([int(round(slope * 2.0**shift))], np.int64)
    window = np.maximum(np.abs(base) >> 12, 64)

    def slack(m: np.ndarray) -> np.ndarray:
        return np.array(
            [_slack(x, t, np.full(t.shape[:-1], int(v), np.int64), shift, lo, hi).min() for v in m]
        )

    mul = int(_best_mul(slack, base, window)[0])
    a_min, a_max = add_interval(x, t, np.full(t.shape[:-1], mul, np.int64), shift, lo, hi)
    if np.any(a_min > a_max):
        raise FitError("no shared multiplier reproduces every row")
    return mul, _pick(a_min, a_max, None)


def _pick(a_min: np.ndarray, a_max: np.ndarray, preferred: np.ndarray | None) -> np.ndarray:
    """A point of each interval: the preferred one if inside, else the middle of the part
    within +-2^30 (so that it fits an int32 `add`), else the end nearest to zero."""
    lo_b = np.maximum(a_min, -(1 << 30))
    hi_b = np.minimum(a_max, 1 << 30)
    pick = np.where(lo_b <= hi_b, (lo_b + hi_b) // 2, np.where(a_min > 0, a_min, a_max))
    if preferred is not None:
        pref = np.broadcast_to(np.asarray(preferred, np.int64), pick.shape)
        pick = np.where((pref >= a_min) & (pref <= a_max), pref, pick)
    return pick


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
    partial: bool = False,
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
    return fit_add(xs, ts, slope, shift, lo, hi, preferred, partial)


def shift_for(max_abs_x: float, slope: float, limit_bits: int = 62) -> int:
    """The largest shift (<= 40) keeping |mul| < 2^30 and |x * mul| < 2^limit_bits."""
    slope = abs(float(slope))
    shift = 40
    while shift > 0 and (
        slope * 2.0**shift >= MUL_LIMIT or max_abs_x * slope * 2.0**shift >= 2.0 ** (limit_bits - 2)
    ):
        shift -= 1
    return shift
