"""Property tests of compiler/reference/kernels.py.

Every numpy kernel is compared, element by element, against an independent scalar formula
written with plain Python ints (arbitrary precision, exact rationals via `Fraction`, Python's
own `math.isqrt` / `>>`), over random shapes and values with the edges weighted in: int8 and
int32 extremes, zero, shift 0 and 62, rounding ties, both clamp ends, signed and unsigned
clamps and level counts other than 256.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from compiler.reference import kernels as K

from ._strategies import (
    FEW,
    I8_MAX,
    I8_MIN,
    I16_MAX,
    I16_MIN,
    I32_MAX,
    I32_MIN,
    I64_MAX,
    I64_MIN,
    LEVELS,
    PROP,
    accumulators,
    check_int64,
    clamp,
    clamps,
    dtype_ints,
    edgy,
    flat,
    floor_div,
    int_arrays,
    round_half_up,
    scales,
    shapes,
)

# ---------------------------------------------------------------------------------------------
# requant
# ---------------------------------------------------------------------------------------------


def ref_requant(acc: int, mul: int, add: int, shift: int, lo: int, hi: int) -> int:
    """Round-half-up of (acc*mul + add) / 2**shift, then clamp; exact Python arithmetic."""
    v = acc * mul + add
    y = round_half_up(v, 1 << shift) if shift > 0 else v
    return clamp(y, lo, hi)


@PROP
@given(
    acc=accumulators(shapes()),
    mul=scales(),
    add=scales(),
    shift=edgy(0, 62),
    bounds=clamps(),
)
def test_requant_per_tensor(acc, mul, add, shift, bounds):
    lo, hi = bounds
    out = K.requant(acc, mul, add, shift, lo, hi)
    check_int64(out, acc.shape, [ref_requant(a, mul, add, shift, lo, hi) for a in flat(acc)])


@st.composite
def per_channel_case(draw: st.DrawFn):
    shape = draw(shapes(min_dims=1, max_dims=4, max_side=4))
    acc = draw(accumulators(shape))
    axis = draw(st.integers(0, len(shape) - 1))
    pshape = tuple(shape[axis] if i == axis else 1 for i in range(len(shape)))
    # mul / add independently per-channel or per-tensor (scalar), as the dialect allows
    channel = st.one_of(int_arrays(np.int32, pshape), int_arrays(np.int32, pshape, -1024, 1024))
    mul = draw(st.one_of(scales(), channel))
    add = draw(st.one_of(scales(), channel))
    return acc, mul, add


@PROP
@given(case=per_channel_case(), shift=edgy(0, 62), bounds=clamps())
def test_requant_per_channel_broadcast(case, shift, bounds):
    acc, mul, add = case
    lo, hi = bounds
    out = K.requant(acc, mul, add, shift, lo, hi)
    accb, mulb, addb = np.broadcast_arrays(acc, np.asarray(mul), np.asarray(add))
    expected = [
        ref_requant(a, m, d, shift, lo, hi)
        for a, m, d in zip(flat(accb), flat(mulb), flat(addb), strict=True)
    ]
    check_int64(out, acc.shape, expected)


@PROP
@given(k=st.integers(-(1 << 20), 1 << 20), s=st.integers(1, 40))
def test_requant_ties_round_up(k, s):
    """acc*mul + add = k*2^s + 2^(s-1) is exactly halfway: it rounds up, also for k < 0."""
    half = 1 << (s - 1)
    acc = np.array([k * (1 << s) + half, k * (1 << s) + half - 1, k * (1 << s) - half], np.int64)
    out = K.requant(acc, 1, 0, s, I64_MIN, I64_MAX)
    assert flat(out) == [k + 1, k, k]
    # the same tie reached through mul and add instead of acc
    out = K.requant(np.array([k], np.int64), 1 << s, half, s, I64_MIN, I64_MAX)
    assert flat(out) == [k + 1]


@pytest.mark.parametrize(
    ("acc", "expected"),
    [(-3, -1), (-2, -1), (-1, 0), (1, 1), (2, 1), (3, 2), (-5, -2), (5, 3)],
)
def test_requant_ties_small(acc, expected):
    # x / 2 with half-up rounding: -1.5 -> -1, -0.5 -> 0, 0.5 -> 1, 1.5 -> 2, -2.5 -> -2
    assert flat(K.requant(np.array([acc]), 1, 0, 1, -128, 127)) == [expected]


def test_requant_shift_zero_is_exact():
    acc = np.array([I32_MIN, -1, 0, 1, I32_MAX], np.int32)
    out = K.requant(acc, 3, -7, 0, I64_MIN, I64_MAX)
    assert flat(out) == [3 * a - 7 for a in flat(acc)]


@pytest.mark.parametrize(
    ("levels", "signed", "lo", "hi"),
    [
        (256, True, -128, 127),
        (256, False, 0, 255),
        (16, True, -8, 7),
        (16, False, 0, 15),
        (2, True, -1, 0),
        (2, False, 0, 1),
        (65536, True, -32768, 32767),
    ],
)
def test_requant_saturates_at_both_ends(levels, signed, lo, hi):
    acc = np.array([I32_MIN, I32_MIN + 1, -1, 0, 1, I32_MAX - 1, I32_MAX], np.int32)
    out = K.requant(acc, 1, 0, 0, lo, hi)
    assert flat(out) == [clamp(a, lo, hi) for a in flat(acc)]
    assert out.min() == lo and out.max() == hi
    # large multipliers push both ends into saturation too
    out = K.requant(np.array([I8_MIN, I8_MAX]), I32_MAX, I32_MAX, 8, lo, hi)
    assert flat(out) == [lo, hi]


def test_requant_extreme_int32_operands_shift_62():
    # |acc * mul + add + 2^61| stays below 2^63 for int32 acc/mul/add
    acc = np.array([I32_MIN, I32_MIN, I32_MAX, I32_MAX], np.int64)
    mul = np.array([I32_MIN, I32_MAX, I32_MIN, I32_MAX], np.int64)
    out = K.requant(acc, mul, I32_MAX, 62, I64_MIN, I64_MAX)
    assert flat(out) == [
        ref_requant(a, m, I32_MAX, 62, I64_MIN, I64_MAX) for a, m in zip(flat(acc), flat(mul), strict=True)
    ]


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.bool_])
def test_requant_accepts_narrow_integer_dtypes(dtype):
    acc = np.array([0, 1], dtype)
    out = K.requant(acc, 5, 1, 1, -128, 127)
    assert out.dtype == np.int64
    assert flat(out) == [ref_requant(int(a), 5, 1, 1, -128, 127) for a in acc.tolist()]


# ---------------------------------------------------------------------------------------------
# isqrt, trunc_div
# ---------------------------------------------------------------------------------------------

_ROOT_MAX = math.isqrt(I64_MAX)  # 3037000499
_isqrt_values = st.one_of(
    edgy(0, I64_MAX),
    st.integers(0, _ROOT_MAX).map(lambda r: r * r),
    st.integers(1, _ROOT_MAX).map(lambda r: r * r - 1),
    st.integers(0, _ROOT_MAX - 1).map(lambda r: (r + 1) * (r + 1) - 1),
    st.integers(0, 1 << 20),
)


@PROP
@given(x=hnp.arrays(np.int64, shapes(), elements=_isqrt_values))
def test_isqrt(x):
    check_int64(K.isqrt(x), x.shape, [math.isqrt(v) for v in flat(x)])


def test_isqrt_edges():
    x = np.array([0, 1, 2, 3, 4, 8, 9, _ROOT_MAX**2 - 1, _ROOT_MAX**2, I64_MAX], np.int64)
    assert flat(K.isqrt(x)) == [math.isqrt(v) for v in flat(x)]
    assert flat(K.isqrt(np.array([I64_MAX]))) == [_ROOT_MAX]


def ref_trunc_div(a: int, b: int) -> int:
    return int(Fraction(a, b))  # int() of a Fraction truncates toward zero


@PROP
@given(
    dtype=st.sampled_from([np.int32, np.int64]),
    bshapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
    data=st.data(),
)
def test_trunc_div(dtype, bshapes, data):
    # INT64_MIN is left out here: see test_trunc_div_int64_min
    lo, hi = (I32_MIN, I32_MAX) if dtype == np.int32 else (I64_MIN + 1, I64_MAX)
    a = data.draw(int_arrays(dtype, bshapes.input_shapes[0], lo, hi), label="a")
    b = data.draw(
        hnp.arrays(dtype, bshapes.input_shapes[1], elements=edgy(lo, hi).filter(bool)),
        label="b",
    )
    out = K.trunc_div(a, b)
    ab, bb = np.broadcast_arrays(a, b)
    expected = [ref_trunc_div(x, y) for x, y in zip(flat(ab), flat(bb), strict=True)]
    check_int64(out, bshapes.result_shape, expected)


def test_trunc_div_signs():
    a = np.array([7, -7, 7, -7, 6, -6, 0, 1, -1])
    b = np.array([2, 2, -2, -2, 3, 3, 5, 2, 2])
    assert flat(K.trunc_div(a, b)) == [3, -3, -3, 3, 2, -2, 0, 0, 0]
    assert flat(K.trunc_div(-7, 2)) == [-3]  # scalars work, result is 0-d


def test_trunc_div_int64_min():
    a = np.array([I64_MIN, I64_MIN, 5, -5], np.int64)
    b = np.array([2, 3, I64_MIN, I64_MIN], np.int64)
    assert flat(K.trunc_div(a, b)) == [ref_trunc_div(x, y) for x, y in zip(flat(a), flat(b), strict=True)]


# ---------------------------------------------------------------------------------------------
# softmax_ibert
# ---------------------------------------------------------------------------------------------


def ref_softmax_row(
    row: list[int], a: int, b: int, c: int, log2: int, levels: int, keep: list[bool] | None = None
) -> list[int]:
    """One row; `keep[i] = False` removes element i (it gets 0 and is not in max or sum)."""
    keep = [True] * len(row) if keep is None else keep
    kept = [x for x, k in zip(row, keep, strict=True) if k]
    if not kept:
        return [0] * len(row)
    m = max(kept)
    es = []
    for x, k in zip(row, keep, strict=True):
        if not k:
            es.append(0)
            continue
        xt = x - m
        z = floor_div(-xt, log2)
        p = xt + z * log2
        assert -log2 < p <= 0
        poly = a * (p + b) ** 2 + c
        es.append(poly >> z)  # Python's >> is exact floor(poly / 2**z) for every z >= 0
    s = sum(es)
    return [clamp(floor_div(e * (levels - 1), s), 0, levels - 1) for e in es]


@st.composite
def softmax_case(draw: st.DrawFn):
    dtype = draw(st.sampled_from([np.int8, np.int16, np.int32]))
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=8))
    x = draw(int_arrays(dtype, shape))
    params = {
        "coeff_a": draw(edgy(0, 1 << 12)),
        "coeff_b": draw(edgy(-(1 << 12), 1 << 12)),
        "coeff_c": draw(edgy(1, 1 << 20)),  # > 0, so every e >= 0 and the row sum > 0
        "log2": draw(edgy(1, 1 << 12)),
        "n_levels": draw(LEVELS),
    }
    # keep e * (n_levels - 1) inside int64: the kernel does not detect int64 overflow
    # (docs/quantization.md, section 1); the op verifier bounds it (test_qtfm_verifiers.py)
    b, log2 = params["coeff_b"], params["log2"]
    poly_max = params["coeff_a"] * max(b * b, (b - log2 + 1) ** 2) + params["coeff_c"]
    assume(poly_max * (params["n_levels"] - 1) < 1 << 63)
    return x, params


@PROP
@given(case=softmax_case())
def test_softmax_ibert(case):
    x, p = case
    out = K.softmax_ibert(x, **p)
    rows = np.asarray(x).reshape(-1, x.shape[-1]).tolist()
    args = (p["coeff_a"], p["coeff_b"], p["coeff_c"], p["log2"], p["n_levels"])
    expected = [v for row in rows for v in ref_softmax_row(row, *args)]
    check_int64(out, x.shape, expected)
    assert out.min() >= 0 and out.max() <= p["n_levels"] - 1


@st.composite
def mask_for(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """An integer mask whose shape broadcasts to `shape` (a suffix, some sides 1)."""
    ndim = draw(st.integers(0, len(shape)))
    mshape = tuple(d if draw(st.booleans()) else 1 for d in shape[len(shape) - ndim :])
    dtype = draw(st.sampled_from([np.int8, np.uint8, np.int32, np.bool_]))
    values = st.sampled_from([0, 0, 1, 1, 127]) if dtype != np.bool_ else st.booleans()
    return draw(hnp.arrays(dtype, mshape, elements=values))


@PROP
@given(case=softmax_case(), data=st.data())
def test_softmax_ibert_masked(case, data):
    x, p = case
    mask = data.draw(mask_for(x.shape), label="mask")
    out = K.softmax_ibert(x, **p, mask=mask)
    keep = np.broadcast_to(mask, x.shape).reshape(-1, x.shape[-1]).tolist()
    rows = np.asarray(x).reshape(-1, x.shape[-1]).tolist()
    args = (p["coeff_a"], p["coeff_b"], p["coeff_c"], p["log2"], p["n_levels"])
    expected = [
        v
        for row, k in zip(rows, keep, strict=True)
        for v in ref_softmax_row(row, *args, keep=[bool(m) for m in k])
    ]
    check_int64(out, x.shape, expected)


def test_softmax_ibert_mask_examples():
    params = {"coeff_a": 1, "coeff_b": 345, "coeff_c": 62395, "log2": 255, "n_levels": 256}
    x = np.array([[10, 5, 0, -300], [10, 5, 0, -300], [1, 2, 3, 4]], np.int16)
    # a masked maximum is left out of max and sum: row 1 equals the softmax of [5, 0]
    mask = np.array([[1, 1, 1, 1], [0, 1, 1, 0], [0, 0, 0, 0]], np.int8)
    out = K.softmax_ibert(x, **params, mask=mask)
    assert flat(out[0]) == [76, 74, 73, 30]  # the worked example of docs/quantization.md
    assert flat(out[1]) == [0, *flat(K.softmax_ibert(np.array([5, 0]), **params)), 0]
    assert flat(out[2]) == [0, 0, 0, 0]  # every element masked: all 0
    # an all-ones mask changes nothing; a (4,) mask broadcasts over the rows
    assert flat(K.softmax_ibert(x, **params, mask=np.ones(4, np.int8))) == flat(K.softmax_ibert(x, **params))


def test_softmax_ibert_simple_rows():
    # equal entries share the mass; a single entry gets all of it
    params = {"coeff_a": 359, "coeff_b": 1399, "coeff_c": 34, "log2": 69, "n_levels": 256}
    assert flat(K.softmax_ibert(np.array([[5, 5]], np.int8), **params)) == [127, 127]
    assert flat(K.softmax_ibert(np.array([[-128]], np.int8), **params)) == [255]
    out = K.softmax_ibert(np.array([[I8_MIN, I8_MAX]], np.int8), **params)
    assert flat(out) == ref_softmax_row([I8_MIN, I8_MAX], 359, 1399, 34, 69, 256)


def test_softmax_ibert_large_exponent():
    # z far beyond 63: the numpy kernel clamps the shift, Python's >> does not
    params = {"coeff_a": 1, "coeff_b": 0, "coeff_c": 1 << 20, "log2": 1, "n_levels": 16}
    x = np.array([[I32_MIN, I32_MAX, I32_MAX - 70, 0]], np.int32)
    expected = ref_softmax_row(flat(x), 1, 0, 1 << 20, 1, 16)
    assert flat(K.softmax_ibert(x, **params)) == expected


# ---------------------------------------------------------------------------------------------
# lut
# ---------------------------------------------------------------------------------------------


@PROP
@given(
    signed=st.booleans(),
    shape=shapes(min_dims=0),
    table=int_arrays(np.int32, (256,)),
    data=st.data(),
)
def test_lut(signed, shape, table, data):
    dtype, lo = (np.int8, I8_MIN) if signed else (np.uint8, 0)
    x = data.draw(int_arrays(dtype, shape), label="x")
    entries = flat(table)
    check_int64(K.lut(x, table, lo), x.shape, [entries[v - lo] for v in flat(x)])


def test_lut_ends():
    table = np.arange(256, dtype=np.int16) * 3 - 1000
    assert flat(K.lut(np.array([I8_MIN, -1, 0, I8_MAX], np.int8), table, I8_MIN)) == [
        -1000,
        127 * 3 - 1000,
        128 * 3 - 1000,
        255 * 3 - 1000,
    ]
    assert flat(K.lut(np.array([0, 255], np.uint8), table, 0)) == [-1000, 255 * 3 - 1000]


# ---------------------------------------------------------------------------------------------
# masked_mean
# ---------------------------------------------------------------------------------------------


@st.composite
def mean_case(draw: st.DrawFn):
    dtype = draw(st.sampled_from([np.int8, np.uint8, np.int16, np.int32]))
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=5))
    x = draw(int_arrays(dtype, shape))
    axis = draw(st.integers(0, len(shape) - 1))
    mdtype = draw(st.sampled_from([np.int8, np.int32, np.bool_]))
    values = st.booleans() if mdtype == np.bool_ else st.sampled_from([0, 1, 1, 2])
    mask = draw(st.none() | hnp.arrays(mdtype, shape[: axis + 1], elements=values))
    return x, axis, mask


@PROP
@given(case=mean_case())
def test_masked_mean(case):
    x, axis, mask = case
    out = K.masked_mean(x, axis, mask)
    out_shape = x.shape[:axis] + x.shape[axis + 1 :]
    expected = []
    for idx in np.ndindex(*out_shape):
        kept = []
        for i in range(x.shape[axis]):
            full = idx[:axis] + (i,) + idx[axis:]
            if mask is None or mask[full[: axis + 1]]:
                kept.append(int(x[full]))
        # the mean rounded half up (towards +inf); 0 over no element
        expected.append(round_half_up(sum(kept), len(kept)) if kept else 0)
    check_int64(out, out_shape, expected)


def test_masked_mean_ties_and_empty():
    x = np.array([[1, 2], [-1, -2], [-3, 0], [5, 7]], np.int8)
    # 1.5 -> 2, -1.5 -> -1, -1.5 -> -1, 6 -> 6
    assert flat(K.masked_mean(x, 1)) == [2, -1, -1, 6]
    mask = np.array([[1, 0], [0, 1], [0, 0], [1, 1]])
    assert flat(K.masked_mean(x, 1, mask)) == [1, -2, 0, 6]
    assert flat(K.masked_mean(np.array([I8_MIN, I8_MAX, I8_MAX], np.int8), 0)) == [42]


# ---------------------------------------------------------------------------------------------
# rmsnorm, layernorm
# ---------------------------------------------------------------------------------------------


def ref_rmsnorm_row(row: list[int], w: list[int], log2_d: int, levels: int) -> list[int]:
    n = len(row)
    ms = floor_div(sum(v * v for v in row), n)
    std = math.isqrt(ms + 1)
    # one exact floor of x*w / (std * 2^log2_d): checks the kernel's nested-floor rewrite
    return [
        clamp(floor_div(x * wi, std * (1 << log2_d)), -(levels // 2), levels // 2 - 1)
        for x, wi in zip(row, w, strict=True)
    ]


@st.composite
def norm_case(draw: st.DrawFn):
    dtype = draw(st.sampled_from([np.int8, np.int16]))
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=8))
    x = draw(int_arrays(dtype, shape))
    weight = draw(int_arrays(np.int32, (shape[-1],)))
    bias = draw(int_arrays(np.int32, (shape[-1],)))
    shift = draw(edgy(0, 40))
    levels = draw(LEVELS)
    return x, weight, bias, shift, levels


@PROP
@given(case=norm_case())
def test_rmsnorm(case):
    x, weight, _, shift, levels = case
    out = K.rmsnorm(x, weight, shift, levels)
    w = flat(weight)
    rows = np.asarray(x).reshape(-1, x.shape[-1]).tolist()
    expected = [v for row in rows for v in ref_rmsnorm_row(row, w, shift, levels)]
    check_int64(out, x.shape, expected)


def ref_layernorm_row(row: list[int], w: list[int], bias: list[int], shift: int, levels: int) -> list[int]:
    n = len(row)
    mean = floor_div(sum(row), n)
    xc = [x - mean for x in row]
    var = floor_div(sum(v * v for v in xc), n)
    std = math.isqrt(var + 1)
    # floor((floor(xc*w/std) + bias) / 2^shift) == floor((xc*w + bias*std) / (std * 2^shift))
    return [
        clamp(floor_div(c * wi + bi * std, std * (1 << shift)), -(levels // 2), levels // 2 - 1)
        for c, wi, bi in zip(xc, w, bias, strict=True)
    ]


@PROP
@given(case=norm_case())
def test_layernorm(case):
    x, weight, bias, shift, levels = case
    out = K.layernorm(x, weight, bias, shift, levels)
    w, b = flat(weight), flat(bias)
    rows = np.asarray(x).reshape(-1, x.shape[-1]).tolist()
    expected = [v for row in rows for v in ref_layernorm_row(row, w, b, shift, levels)]
    check_int64(out, x.shape, expected)


def ref_layernorm_trunc_row(
    row: list[int], w: list[int], bias: list[int], shift: int, levels: int
) -> list[int]:
    """iLayerNorm: the mean and the normalised product truncate toward zero."""
    n = len(row)
    mean = int(Fraction(sum(row), n))  # int() of a Fraction truncates toward zero
    xc = [x - mean for x in row]
    std = math.isqrt(sum(v * v for v in xc) // n + 1)
    return [
        clamp((int(Fraction(c * wi, std)) + bi) >> shift, -(levels // 2), levels // 2 - 1)
        for c, wi, bi in zip(xc, w, bias, strict=True)
    ]


@st.composite
def norm8_case(draw: st.DrawFn):
    x, weight, bias, shift, levels = draw(norm_case())
    return np.asarray(x).astype(np.int64).clip(I8_MIN, I8_MAX), weight, bias, shift, levels


@PROP
@given(case=norm8_case())
@example(case=(np.array([[-3, -2, 0, 0]]), np.full(4, 256), np.zeros(4, np.int64), 0, 1 << 16))
def test_layernorm_trunc(case):
    x, weight, bias, shift, levels = case
    out = K.layernorm_trunc(x, weight, bias, shift, levels)
    w, b = flat(weight), flat(bias)
    rows = np.asarray(x).reshape(-1, x.shape[-1]).tolist()
    expected = [v for row in rows for v in ref_layernorm_trunc_row(row, w, b, shift, levels)]
    check_int64(out, x.shape, expected)


def test_layernorm_trunc_differs_from_layernorm_on_negative_means():
    x, w, b = np.array([[-3, -2, 0, 0]]), np.full(4, 256), np.zeros(4, np.int64)
    # mean: trunc(-5/4) = -1 (floor: -2)
    assert flat(K.layernorm_trunc(x, w, b, 0, 1 << 16)) == [-512, -256, 256, 256]
    assert flat(K.layernorm(x, w, b, 0, 1 << 16)) != [-512, -256, 256, 256]


def ref_ita_softmax_row(row: list[int]) -> list[int]:
    """ITAMax with exact rationals: shift = round(d / 32) (ties up), weights 256 / 2^shift."""
    top = max(row)
    shifts = [math.floor(Fraction(top - v, 32) + Fraction(1, 2)) for v in row]
    inv = math.floor(Fraction(255 * 256) / sum(Fraction(256, 1 << s) for s in shifts))
    return [math.floor(Fraction(inv, 1 << s)) for s in shifts]


@PROP
@given(x=int_arrays(np.int8, shapes(max_side=9)))
@example(x=np.array([[0, -16, -17, -48, -49, I8_MIN, I8_MAX]], np.int8))
def test_ita_softmax(x):
    rows = np.asarray(x).reshape(-1, x.shape[-1]).tolist()
    check_int64(K.ita_softmax(x), x.shape, [v for row in rows for v in ref_ita_softmax_row(row)])


def test_ita_softmax_scalar_is_one_row():
    assert flat(K.ita_softmax(np.int8(-7))) == [255]


def ref_integer_div(a: int, b: int, delta: int, eps: int, eta: int) -> int:
    """Nearest integer to delta*eta*a / (eta*b + eps), ties away from zero."""
    q = Fraction(delta * eta * a, eta * b + eps)
    mag = math.floor(abs(q) + Fraction(1, 2))
    return mag if q >= 0 else -mag


@PROP
@given(
    ab=st.tuples(int_arrays(np.int32, (3, 4)), int_arrays(np.int32, (3, 1), 0, I32_MAX)),
    delta=edgy(1, 1 << 16),
    eps=edgy(1, I32_MAX),
    eta=edgy(1, 1 << 14),
)
@example(ab=(np.array([[-5, -3, -1, 1]] * 3), np.array([[1]] * 3)), delta=1, eps=1, eta=1)
def test_integer_div(ab, delta, eps, eta):
    a, b = ab
    expected = [
        ref_integer_div(x, y, delta, eps, eta)
        for x, y in zip(flat(a), flat(np.broadcast_to(b, a.shape)), strict=True)
    ]
    check_int64(K.integer_div(a, b, delta, eps, eta), a.shape, expected)


def test_integer_div_rejects_nonpositive_denominators():
    with pytest.raises(ValueError, match="denominator"):
        K.integer_div(np.array([1]), np.array([-1]), 1, 1, 1)


def test_rmsnorm_zero_row_and_saturation():
    x = np.zeros((1, 4), np.int8)
    assert flat(K.rmsnorm(x, np.full(4, 1 << 20), 0, 256)) == [0, 0, 0, 0]
    x = np.array([[I8_MIN, I8_MAX, 0, 1]], np.int8)
    out = K.rmsnorm(x, np.full(4, I32_MAX), 0, 16)
    assert flat(out) == ref_rmsnorm_row(flat(x), [I32_MAX] * 4, 0, 16)
    assert flat(out)[:2] == [-8, 7]


# ---------------------------------------------------------------------------------------------
# gelu, hardswish, true_integer_div
# ---------------------------------------------------------------------------------------------


def ref_gelu(x: int, b: int, one: int) -> int:
    """Deeploy's i-GELU: y = x * floor((one + L) / 2), L = sgn(x) * (one - (min(|x|, -b) + b)**2)."""
    if x == 0:
        return 0
    if abs(x) >= -b:  # the polynomial saturates: L = sgn(x) * one
        return one * x if x > 0 else 0
    q = abs(x) + b  # in (b, 0)
    L = one - q * q if x > 0 else q * q - one
    return x * floor_div(one + L, 2)


@PROP
@given(
    x=int_arrays(np.int16, shapes()),
    b=edgy(-(1 << 15), -1),
    one=edgy(1, I32_MAX),
)
@example(x=np.array([I16_MIN, -5, -4, -3, 0, 3, 4, 5, I16_MAX], np.int16), b=-4, one=100)
@example(x=np.array([-3, -2, -1, 1, 2, 3], np.int16), b=-4, one=7)  # odd one + L
def test_gelu(x, b, one):
    check_int64(K.gelu(x, b, one), x.shape, [ref_gelu(v, b, one) for v in flat(x)])


def ref_hardswish(x: int, one_over_six: int, six: int, three: int) -> int:
    return x * clamp(x + three, 0, six) * one_over_six


@PROP
@given(
    x=int_arrays(np.int16, shapes()),
    one_over_six=edgy(1, 1 << 16),
    six=edgy(1, 1 << 12),
    three=edgy(0, 1 << 12),
)
def test_hardswish(x, one_over_six, six, three):
    expected = [ref_hardswish(v, one_over_six, six, three) for v in flat(x)]
    check_int64(K.hardswish(x, one_over_six, six, three), x.shape, expected)


@PROP
@given(
    x=int_arrays(np.int32, shapes()),
    delta=st.integers(0, 20).map(lambda e: 1 << e),
    eps=edgy(-1000, 1000),
    eta=edgy(1, 1 << 20),
    y=edgy(-1000, 1000),
)
def test_true_integer_div(x, delta, eps, eta, y):
    assume(y * eta + eps != 0)
    k = math.floor(Fraction(delta * eta, y * eta + eps))
    assume(abs(k) < 1 << 30)  # keep x * k exact in int64 for int32 x
    check_int64(K.true_integer_div(x, delta, eps, eta, y), x.shape, [v * k for v in flat(x)])


def test_true_integer_div_reference_constant():
    out = K.true_integer_div(np.array([1, -128, 127], np.int8), 16384, 1, 200000, 2)
    assert flat(out) == [8191, -128 * 8191, 127 * 8191]


# ---------------------------------------------------------------------------------------------
# matmul, gemm, add, mul
# ---------------------------------------------------------------------------------------------

_MATMUL_DTYPES = [
    (np.int8, np.int8),
    (np.uint8, np.int8),
    (np.int8, np.int32),
    (np.int16, np.int16),
    (np.int32, np.int16),
]


def ref_matmul(a: np.ndarray, b: np.ndarray) -> tuple[tuple[int, ...], list[int]]:
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    ab = np.broadcast_to(a, batch + a.shape[-2:])
    bb = np.broadcast_to(b, batch + b.shape[-2:])
    out = []
    for idx in np.ndindex(*batch):
        for i in range(m):
            for j in range(n):
                out.append(sum(int(ab[idx + (i, t)]) * int(bb[idx + (t, j)]) for t in range(k)))
    return (*batch, m, n), out


@PROP
@given(
    dtypes=st.sampled_from(_MATMUL_DTYPES),
    batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    mkn=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4)),
    data=st.data(),
)
def test_matmul(dtypes, batch, mkn, data):
    m, k, n = mkn
    a = data.draw(int_arrays(dtypes[0], (*batch.input_shapes[0], m, k)), label="a")
    b = data.draw(int_arrays(dtypes[1], (*batch.input_shapes[1], k, n)), label="b")
    shape, expected = ref_matmul(a, b)
    check_int64(K.matmul(a, b), shape, expected)


@PROP
@given(
    mkn=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4)),
    trans=st.tuples(st.booleans(), st.booleans()),
    c_kind=st.sampled_from(["none", "scalar", "row", "col", "full"]),
    alpha=edgy(-4, 4),
    beta=edgy(-4, 4),
    data=st.data(),
)
def test_gemm(mkn, trans, c_kind, alpha, beta, data):
    m, k, n = mkn
    trans_a, trans_b = trans
    a = data.draw(int_arrays(np.int8, (k, m) if trans_a else (m, k)), label="a")
    b = data.draw(int_arrays(np.int8, (n, k) if trans_b else (k, n)), label="b")
    c_shape = {"scalar": (), "row": (n,), "col": (m, 1), "full": (m, n)}.get(c_kind)
    c = None if c_shape is None else data.draw(int_arrays(np.int32, c_shape), label="c")

    def at(x: np.ndarray, i: int, j: int, t: bool) -> int:
        return int(x[j, i]) if t else int(x[i, j])

    cb = np.broadcast_to(np.int64(0) if c is None else c, (m, n))
    expected = [
        alpha * sum(at(a, i, t, trans_a) * at(b, t, j, trans_b) for t in range(k)) + beta * int(cb[i, j])
        for i in range(m)
        for j in range(n)
    ]
    kwargs = {"alpha": alpha, "beta": beta, "trans_a": trans_a, "trans_b": trans_b}
    out = K.gemm(a, b, **kwargs) if c is None else K.gemm(a, b, c, **kwargs)
    check_int64(out, (m, n), expected)


_binary_dtypes = st.sampled_from(
    [(np.int32, np.int32), (np.int8, np.uint8), (np.int8, np.int32), (np.uint8, np.int16)]
)


@pytest.mark.parametrize(
    ("kernel", "op"), [(K.add, lambda x, y: x + y), (K.mul, lambda x, y: x * y)], ids=["add", "mul"]
)
@PROP
@given(
    dtypes=_binary_dtypes,
    bshapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
    data=st.data(),
)
def test_add_mul(kernel, op, dtypes, bshapes, data):
    a = data.draw(int_arrays(dtypes[0], bshapes.input_shapes[0]), label="a")
    b = data.draw(int_arrays(dtypes[1], bshapes.input_shapes[1]), label="b")
    ab, bb = np.broadcast_arrays(a, b)
    expected = [op(x, y) for x, y in zip(flat(ab), flat(bb), strict=True)]
    check_int64(kernel(a, b), bshapes.result_shape, expected)


def test_add_mul_no_wrap_at_int32_extremes():
    a = np.array([I32_MAX, I32_MIN, I32_MIN], np.int32)
    b = np.array([I32_MAX, I32_MIN, I32_MAX], np.int32)
    assert flat(K.add(a, b)) == [2 * I32_MAX, 2 * I32_MIN, -1]
    assert flat(K.mul(a, b)) == [I32_MAX**2, I32_MIN**2, I32_MIN * I32_MAX]


# ---------------------------------------------------------------------------------------------
# Negative cases
# ---------------------------------------------------------------------------------------------


def test_requant_negative_shift_raises():
    with pytest.raises(ValueError, match="shift"):
        K.requant(np.array([1]), 1, 0, -1, -128, 127)


def test_isqrt_negative_raises():
    with pytest.raises(ValueError, match="negative"):
        K.isqrt(np.array([4, -1, 9]))
    with pytest.raises(ValueError):
        K.isqrt(np.array([I64_MIN]))


def test_trunc_div_by_zero_raises():
    with pytest.raises(ZeroDivisionError):
        K.trunc_div(np.array([1, 2]), np.array([1, 0]))
    with pytest.raises(ZeroDivisionError):
        K.trunc_div(np.array([0]), 0)


_F = np.array([[1.0, 2.0]])
_I = np.array([[1, 2]])
_FLOAT_CALLS = {
    "requant": lambda: K.requant(_F, 1, 0, 0, -128, 127),
    "requant_mul": lambda: K.requant(_I, 1.5, 0, 0, -128, 127),
    "requant_add": lambda: K.requant(_I, 1, np.array([0.5]), 0, -128, 127),
    "isqrt": lambda: K.isqrt(_F),
    "trunc_div_a": lambda: K.trunc_div(_F, _I),
    "trunc_div_b": lambda: K.trunc_div(_I, _F),
    "softmax_ibert": lambda: K.softmax_ibert(_F, 1, 1, 1, 1, 256),
    "softmax_ibert_mask": lambda: K.softmax_ibert(_I, 1, 1, 1, 1, 256, mask=_F),
    "lut_x": lambda: K.lut(_F, np.arange(256), -128),
    "lut_table": lambda: K.lut(_I, np.arange(256.0), -128),
    "masked_mean": lambda: K.masked_mean(_F, 1),
    "masked_mean_mask": lambda: K.masked_mean(_I, 1, np.array([[1.0, 0.0]])),
    "rmsnorm": lambda: K.rmsnorm(_F, np.array([1, 1]), 0, 256),
    "rmsnorm_weight": lambda: K.rmsnorm(_I, np.array([1.0, 1.0]), 0, 256),
    "layernorm": lambda: K.layernorm(_F, np.array([1, 1]), np.array([0, 0]), 0, 256),
    "layernorm_bias": lambda: K.layernorm(_I, np.array([1, 1]), np.array([0.0, 0.0]), 0, 256),
    "layernorm_trunc": lambda: K.layernorm_trunc(_F, np.array([1, 1]), np.array([0, 0]), 0, 256),
    "ita_softmax": lambda: K.ita_softmax(_F),
    "integer_div": lambda: K.integer_div(_F, _I, 1, 1, 1),
    "gelu": lambda: K.gelu(_F, -4, 10),
    "hardswish": lambda: K.hardswish(_F, 1, 6, 3),
    "true_integer_div": lambda: K.true_integer_div(_F, 16384, 1, 200000, 2),
    "matmul_a": lambda: K.matmul(_F, _I.T),
    "matmul_b": lambda: K.matmul(_I, _F.T),
    "gemm_a": lambda: K.gemm(_F, _I.T),
    "gemm_c": lambda: K.gemm(_I, _I.T, np.array([0.0])),
    "add_a": lambda: K.add(_F, _I),
    "add_b": lambda: K.add(_I, _F),
    "mul_a": lambda: K.mul(_F, _I),
    "mul_b": lambda: K.mul(_I, _F),
}


@pytest.mark.parametrize("call", list(_FLOAT_CALLS.values()), ids=list(_FLOAT_CALLS))
def test_float_inputs_rejected(call):
    with pytest.raises(TypeError, match="integer"):
        call()


# -- clustered low-rank embedding ---------------------------------------------------------------


@FEW
@given(values=st.lists(st.integers(-8, 7), max_size=41))
def test_int4_pool_round_trips(values):
    packed = K.pack_int4(np.array(values, dtype=np.int64))
    assert packed.dtype == np.int8 and packed.size == (len(values) + 1) // 2
    unpacked = K.coefficient_values(packed, 4)
    assert list(unpacked[: len(values)]) == values
    assert list(K.coefficient_values(packed, 8)) == list(packed.astype(np.int64))
    with pytest.raises(ValueError, match=r"\[-8, 7\]"):
        K.pack_int4(np.array([8]))


@FEW
@given(data=st.data())
def test_clustered_embedding_matches_a_row_by_row_definition(data):
    """Against the definition in docs/quantization.md, token by token: each token's coefficients
    found by walking every earlier token's rank (not through the block offsets)."""
    vocab = data.draw(st.integers(1, 30))
    dim = data.draw(st.integers(1, 6))
    clusters = data.draw(st.integers(1, 4))
    ranks = data.draw(st.lists(st.integers(0, dim), min_size=clusters, max_size=clusters))
    block = data.draw(st.integers(1, 9))
    bits = data.draw(st.sampled_from([4, 8]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    cl = rng.integers(0, clusters, vocab)
    rank_of = np.array(ranks)
    total = int(rank_of[cl].sum())
    lo_c, hi_c = (-8, 7) if bits == 4 else (-128, 127)
    pool_values = rng.integers(lo_c, hi_c + 1, total)
    pool = K.pack_int4(pool_values) if bits == 4 else pool_values.astype(np.int8)
    bases = rng.integers(-128, 128, (sum(ranks), dim))
    muls = [int(m) for m in rng.integers(0, 2**31, clusters)]
    shifts = [int(x) for x in rng.integers(0, 41, clusters)]
    starts, offsets = K.clustered_offsets(cl, rank_of, block)
    assert list(offsets) == list(starts[::block])
    ids = rng.integers(0, vocab, (2, 3))
    got = K.clustered_embedding(ids, cl, offsets, pool, bases, ranks, muls, shifts, block, bits, -128, 127)
    for idx in np.ndindex(ids.shape):
        t = int(ids[idx])
        start = sum(ranks[int(c)] for c in cl[:t])
        c = int(cl[t])
        base = sum(ranks[:c])
        for j in range(dim):
            acc = sum(int(pool_values[start + k]) * int(bases[base + k, j]) for k in range(ranks[c]))
            rounding = (1 << (shifts[c] - 1)) if shifts[c] else 0
            want = min(127, max(-128, (acc * muls[c] + rounding) >> shifts[c]))
            assert got[idx][j] == want


def test_every_kernel_is_covered():
    """Guards this file against new kernels that nobody tests: every name in kernels.__all__
    must be called here (add a property test next to the others when this fails)."""
    with open(__file__, encoding="utf-8") as f:
        source = f.read()
    untested = [name for name in K.__all__ if f"K.{name}(" not in source]
    assert not untested, f"kernels without a test in {__file__}: {untested}"


@FEW
@given(x=dtype_ints(np.int64))
def test_scalar_python_ints_accepted(x):
    # 0-d inputs from Python ints go through the same integer path
    assert flat(K.add(x, 0)) == [x]
    assert flat(K.requant(x, 1, 0, 0, I64_MIN, I64_MAX)) == [x]
