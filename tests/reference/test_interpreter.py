# ruff: noqa: E501  (the qtfm IR below keeps one op per line, as mote-opt prints it)
"""Tests of compiler/reference/interpreter.py on small qtfm modules written as text.

Expected values are computed by hand or with plain Python loops, never with the kernels the
interpreter calls, so that these tests check the op -> kernel mapping (attribute plumbing,
per-channel broadcasting, index arithmetic) as well as the range checks.
"""

from __future__ import annotations

import itertools
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.func import Func
from xdsl.parser import Parser

from compiler.reference import interpreter as interp
from compiler.reference import kernels as K
from dialects.qtfm import QTFM

from ._strategies import I8_MAX, I8_MIN, I32_MAX, I32_MIN, PROP, accumulators, clamp, edgy, floor_div, scales
from ._strategies import round_half_up as rhu

RefError = interp.ReferenceError


def parse(src: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Func, Arith, QTFM):
        ctx.load_dialect(dialect)
    module = Parser(ctx, textwrap.dedent(src)).parse_module()
    module.verify()
    return module


def run(src: str, inputs: list, weights: dict | None = None) -> list[np.ndarray]:
    return interp.Interpreter(parse(src), weights).run(inputs)


def one(src: str, inputs: list, weights: dict | None = None) -> np.ndarray:
    (out,) = run(src, inputs, weights)
    return out


def requant_ref(v: int, shift: int, lo: int, hi: int, floor: bool = False) -> int:
    """requant of an already scaled value v = acc*mul + add."""
    if floor:
        return clamp(floor_div(v, 1 << shift), lo, hi)
    return clamp(rhu(v, 1 << shift) if shift else v, lo, hi)


def test_reference_error_is_not_the_builtin():
    assert RefError is not ReferenceError
    assert issubclass(RefError, Exception)


# ---------------------------------------------------------------------------------------------
# requant
# ---------------------------------------------------------------------------------------------

REQUANT_2X3 = """
func.func @main(%a: tensor<2x3xi32>) -> tensor<2x3xi8> {{
  %y = qtfm.requant %a, #qtfm.requant<{params}> : tensor<2x3xi32> -> tensor<2x3xi8>
  func.return %y : tensor<2x3xi8>
}}
"""
ACC_2X3 = np.array([[10, -10, 7], [6, 3, -5]], np.int32)


def test_requant_per_channel_axis1_by_hand():
    src = REQUANT_2X3.format(
        params="mul = [3, 5, 7], add = [0, -1, 2], shift = 2, levels = 256, signed, axis = 1"
    )
    # row 0: (30+2)>>2 = 8, (-51+2)>>2 = -13, (51+2)>>2 = 13
    # row 1: (18+2)>>2 = 5, (14+2)>>2 = 4,    (-33+2)>>2 = -8
    out = one(src, [ACC_2X3])
    assert out.dtype == np.int8
    assert out.tolist() == [[8, -13, 13], [5, 4, -8]]


def test_requant_per_channel_axis1_floor_by_hand():
    src = REQUANT_2X3.format(
        params="mul = [3, 5, 7], add = [0, -1, 2], shift = 2, levels = 256, signed, axis = 1, "
        "rounding = floor"
    )
    # 30>>2 = 7, -51>>2 = -13, 51>>2 = 12; 18>>2 = 4, 14>>2 = 3, -33>>2 = -9
    assert one(src, [ACC_2X3]).tolist() == [[7, -13, 12], [4, 3, -9]]


def test_requant_per_row_axis0_by_hand():
    src = REQUANT_2X3.format(params="mul = [2, -3], add = 1, shift = 1, levels = 16, signed, axis = 0")
    # row 0 (x2 + 1):  21 -> 11 -> 7,  -19 -> -9 -> -8,  15 -> 8 -> 7   (clamp [-8, 7])
    # row 1 (x-3 + 1): -17 -> -8,       -8 -> -4,        16 -> 8 -> 7
    assert one(src, [ACC_2X3]).tolist() == [[7, -8, 7], [-8, -4, 7]]


def test_requant_half_up_ties():
    src = """
    func.func @main(%a: tensor<8xi32>) -> tensor<8xi8> {
      %y = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 1, levels = 256, signed> : tensor<8xi32> -> tensor<8xi8>
      func.return %y : tensor<8xi8>
    }
    """
    acc = np.array([-7, -5, -3, -1, 1, 3, 5, 7], np.int32)
    # -3.5 -> -3, -2.5 -> -2, -1.5 -> -1, -0.5 -> 0, 0.5 -> 1, 1.5 -> 2, 2.5 -> 3, 3.5 -> 4
    assert one(src, [acc]).tolist() == [-3, -2, -1, 0, 1, 2, 3, 4]


def test_requant_per_channel_3d_middle_axis():
    src = """
    func.func @main(%a: tensor<2x3x2xi32>) -> tensor<2x3x2xui8> {
      %y = qtfm.requant %a, #qtfm.requant<mul = [3, 5, 7], add = 100, shift = 3, levels = 256, unsigned, axis = 1> : tensor<2x3x2xi32> -> tensor<2x3x2xui8>
      func.return %y : tensor<2x3x2xui8>
    }
    """
    acc = np.arange(-40, 80, 10, dtype=np.int32).reshape(2, 3, 2)
    out = one(src, [acc])
    assert out.dtype == np.uint8
    mul = [3, 5, 7]
    for i, j, k in itertools.product(range(2), range(3), range(2)):
        assert out[i, j, k] == requant_ref(int(acc[i, j, k]) * mul[j] + 100, 3, 0, 255)


@st.composite
def requant_case(draw: st.DrawFn):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.none() | st.integers(0, len(shape) - 1))
    n = 1 if axis is None else shape[axis]
    muls = draw(st.lists(scales(), min_size=1, max_size=1) | st.just(None))
    adds = draw(st.lists(scales(), min_size=1, max_size=1) | st.just(None))
    muls = muls or draw(st.lists(scales(), min_size=n, max_size=n))
    adds = adds or draw(st.lists(scales(), min_size=n, max_size=n))
    shift = draw(edgy(0, 62))
    signed = draw(st.booleans())
    levels = draw(st.sampled_from([2, 16, 256]))
    floor = draw(st.booleans())
    acc = draw(accumulators(shape))
    return acc, axis, muls, adds, shift, signed, levels, floor


def _list(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else "[" + ", ".join(map(str, values)) + "]"


@PROP
@given(case=requant_case())
def test_requant_op_matches_scalar_formula(case):
    acc, axis, muls, adds, shift, signed, levels, floor = case
    if len(muls) > 1 or len(adds) > 1 or axis is not None:
        axis = 0 if axis is None else axis
    params = (
        f"mul = {_list(muls)}, add = {_list(adds)}, shift = {shift}, levels = {levels}, "
        f"{'signed' if signed else 'unsigned'}"
        + ("" if axis is None else f", axis = {axis}")
        + (", rounding = floor" if floor else "")
    )
    dims = "x".join(map(str, acc.shape))
    rtype = f"tensor<{dims}x{'i8' if signed else 'ui8'}>"
    src = f"""
    func.func @main(%a: tensor<{dims}xi32>) -> {rtype} {{
      %y = qtfm.requant %a, #qtfm.requant<{params}> : tensor<{dims}xi32> -> {rtype}
      func.return %y : {rtype}
    }}
    """
    out = one(src, [acc])
    assert out.dtype == (np.int8 if signed else np.uint8)
    lo, hi = (-(levels // 2), levels // 2 - 1) if signed else (0, levels - 1)
    for idx in np.ndindex(*acc.shape):
        c = 0 if axis is None else idx[axis]
        m = muls[c] if len(muls) > 1 else muls[0]
        a = adds[c] if len(adds) > 1 else adds[0]
        v = int(acc[idx]) * m + a
        assert int(out[idx]) == requant_ref(v, shift, lo, hi, floor), idx


# ---------------------------------------------------------------------------------------------
# matmul, linear, add, mul
# ---------------------------------------------------------------------------------------------


def test_matmul_batched_broadcast():
    src = """
    func.func @main(%a: tensor<2x1x3x4xi8>, %b: tensor<5x4x2xi8>) -> tensor<2x5x3x2xi32> {
      %y = qtfm.matmul %a, %b : (tensor<2x1x3x4xi8>, tensor<5x4x2xi8>) -> tensor<2x5x3x2xi32>
      func.return %y : tensor<2x5x3x2xi32>
    }
    """
    rng = np.random.default_rng(0)
    a = rng.integers(I8_MIN, I8_MAX + 1, (2, 1, 3, 4), dtype=np.int8)
    b = rng.integers(I8_MIN, I8_MAX + 1, (5, 4, 2), dtype=np.int8)
    a[0, 0, 0, :] = I8_MIN  # extreme products
    b[0, :, 0] = I8_MIN
    out = one(src, [a, b])
    assert out.dtype == np.int32 and out.shape == (2, 5, 3, 2)
    for p, q, i, j in itertools.product(range(2), range(5), range(3), range(2)):
        expected = sum(int(a[p, 0, i, k]) * int(b[q, k, j]) for k in range(4))
        assert out[p, q, i, j] == expected
    assert out[0, 0, 0, 0] == 4 * 128 * 128


def test_matmul_requant_per_column():
    src = """
    func.func @main(%a: tensor<2x3xi8>, %b: tensor<3x2xi8>) -> tensor<2x2xi8> {
      %y = qtfm.matmul %a, %b requant #qtfm.requant<mul = [1, 3], add = [0, -4], shift = 3, levels = 256, signed, axis = 1> : (tensor<2x3xi8>, tensor<3x2xi8>) -> tensor<2x2xi8>
      func.return %y : tensor<2x2xi8>
    }
    """
    a = np.array([[1, 2, 3], [-4, 5, -6]], np.int8)
    b = np.array([[7, -8], [9, 10], [-11, 12]], np.int8)
    # acc = [[-8, 48], [83, 10]]
    # col 0 (x1 + 0):  -8 -> (-8+4)>>3 = -1,   83 -> 87>>3 = 10
    # col 1 (x3 - 4): 140 -> 144>>3 = 18,      26 -> 30>>3 = 3
    assert one(src, [a, b]).tolist() == [[-1, 18], [10, 3]]


LINEAR = """
func.func @main(%x: tensor<2x3x4xi8>) -> tensor<2x3x5x{rtype}> {{
  %w = qtfm.weight "w" : tensor<4x5xi8>
  %b = qtfm.weight "b" : tensor<5xi32>
  %y = qtfm.linear %x, %w, %b {requant}: (tensor<2x3x4xi8>, tensor<4x5xi8>, tensor<5xi32>) -> tensor<2x3x5x{rtype}>
  func.return %y : tensor<2x3x5x{rtype}>
}}
"""


def _linear_case() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[list[int]]]]:
    rng = np.random.default_rng(1)
    x = rng.integers(I8_MIN, I8_MAX + 1, (2, 3, 4), dtype=np.int8)
    w = rng.integers(I8_MIN, I8_MAX + 1, (4, 5), dtype=np.int8)
    bias = np.array([0, 1, -1, 100000, -100000], np.int32)
    acc = [
        [
            [sum(int(x[p, i, k]) * int(w[k, n]) for k in range(4)) + int(bias[n]) for n in range(5)]
            for i in range(3)
        ]
        for p in range(2)
    ]
    return x, w, bias, acc


def test_linear_with_bias():
    x, w, bias, acc = _linear_case()
    out = one(LINEAR.format(rtype="i32", requant=""), [x], {"w": w, "b": bias})
    assert out.dtype == np.int32
    assert out.tolist() == acc


def test_linear_with_bias_and_per_channel_requant():
    x, w, bias, acc = _linear_case()
    muls, adds = [1, 2, 3, 4, 5], [0, 10, -10, 0, 7]
    rq = (
        "requant #qtfm.requant<mul = [1, 2, 3, 4, 5], add = [0, 10, -10, 0, 7], shift = 9, "
        "levels = 256, signed, axis = 2> "
    )
    out = one(LINEAR.format(rtype="i8", requant=rq), [x], {"w": w, "b": bias})
    assert out.dtype == np.int8
    for p, i, n in itertools.product(range(2), range(3), range(5)):
        v = acc[p][i][n] * muls[n] + adds[n]
        assert out[p, i, n] == requant_ref(v, 9, -128, 127)
    # the two 100000 biases saturate
    assert set(out[:, :, 3].ravel().tolist()) == {127}
    assert set(out[:, :, 4].ravel().tolist()) == {-128}


def test_linear_without_bias():
    src = """
    func.func @main(%x: tensor<3xi8>, %w: tensor<3x2xi8>) -> tensor<2xi32> {
      %y = qtfm.linear %x, %w : (tensor<3xi8>, tensor<3x2xi8>) -> tensor<2xi32>
      func.return %y : tensor<2xi32>
    }
    """
    x = np.array([1, -2, 3], np.int8)
    w = np.array([[1, 2], [3, 4], [5, 6]], np.int8)
    assert one(src, [x, w]).tolist() == [1 - 6 + 15, 2 - 8 + 18]


BINARY = """
func.func @main(%a: tensor<{a}x{ta}>, %b: tensor<{b}x{tb}>) -> tensor<{r}x{tr}> {{
  %y = qtfm.{op} %a, %b {requant}: (tensor<{a}x{ta}>, tensor<{b}x{tb}>) -> tensor<{r}x{tr}>
  func.return %y : tensor<{r}x{tr}>
}}
"""


def test_add_broadcast():
    src = BINARY.format(op="add", a="2x3", ta="i8", b="3", tb="i32", r="2x3", tr="i32", requant="")
    a = np.array([[1, -2, 3], [I8_MIN, I8_MAX, 0]], np.int8)
    b = np.array([10, 20, I32_MIN + 200], np.int32)
    assert one(src, [a, b]).tolist() == [[11, 18, I32_MIN + 203], [-118, 147, I32_MIN + 200]]


def test_mul_broadcast_with_requant():
    src = BINARY.format(
        op="mul",
        a="2x1",
        ta="i8",
        b="1x3",
        tb="i8",
        r="2x3",
        tr="i8",
        requant="requant #qtfm.requant<mul = 1, add = 0, shift = 2, levels = 256, signed> ",
    )
    a = np.array([[5], [-7]], np.int8)
    b = np.array([[1, 2, 127]], np.int8)
    # products 5, 10, 635 / -7, -14, -889, then /4 half up and clamp
    assert one(src, [a, b]).tolist() == [[1, 3, 127], [-2, -3, -128]]


@pytest.mark.parametrize(
    ("op", "a", "b"),
    [
        ("add", [I32_MAX - 1, 0], [2, 0]),
        ("add", [I32_MIN, 0], [-1, 0]),
        ("mul", [1 << 16, 1], [1 << 15, 1]),
        ("mul", [I32_MIN, 1], [-1, 1]),
    ],
)
def test_i32_accumulator_overflow_raises(op, a, b):
    src = BINARY.format(op=op, a="2", ta="i32", b="2", tb="i32", r="2", tr="i32", requant="")
    with pytest.raises(RefError, match="overflows"):
        run(src, [np.array(a, np.int32), np.array(b, np.int32)])


def test_i32_accumulator_at_the_limit_is_fine():
    src = BINARY.format(op="add", a="2", ta="i32", b="2", tb="i32", r="2", tr="i32", requant="")
    out = one(src, [np.array([I32_MAX - 1, I32_MIN + 1], np.int32), np.array([1, -1], np.int32)])
    assert out.tolist() == [I32_MAX, I32_MIN]


def test_matmul_i32_overflow_raises():
    src = """
    func.func @main(%a: tensor<1x4xi16>, %b: tensor<4x1xi16>) -> tensor<1x1xi32> {
      %y = qtfm.matmul %a, %b : (tensor<1x4xi16>, tensor<4x1xi16>) -> tensor<1x1xi32>
      func.return %y : tensor<1x1xi32>
    }
    """
    a = np.full((1, 4), -(1 << 15), np.int16)
    b = np.full((4, 1), -(1 << 15), np.int16)
    with pytest.raises(RefError, match="overflows"):
        run(src, [a, b])  # 4 * 2^30 = 2^32: does not fit i32


@pytest.mark.parametrize("op", ["matmul", "linear"])
def test_fused_requant_int32_accumulator_overflow_raises(op):
    # the fused accumulator has no declared type but is int32 on every target
    src = f"""
    func.func @main(%a: tensor<1x4xi16>, %b: tensor<4x1xi16>) -> tensor<1x1xi8> {{
      %y = qtfm.{op} %a, %b requant #qtfm.requant<mul = 1, add = 0, shift = 24, levels = 256, signed> : (tensor<1x4xi16>, tensor<4x1xi16>) -> tensor<1x1xi8>
      func.return %y : tensor<1x1xi8>
    }}
    """
    b = np.full((4, 1), -(1 << 15), np.int16)
    for a0 in ([-(1 << 15)] * 4, [-(1 << 15), -(1 << 15), 0, 0]):  # 2^32 and 2^31 = INT32_MAX + 1
        with pytest.raises(RefError, match="accumulator"):
            run(src, [np.array([a0], np.int16), b])
    a = np.array([[-(1 << 15), -(1 << 15), 1, 0]], np.int16)  # 2^31 - 2^15 fits
    assert one(src, [a, b]).tolist() == [[127]]
    a = np.array([[-(1 << 15), 0, 0, 0]], np.int16)  # 2^30 >> 24 = 64
    assert one(src, [a, b]).tolist() == [[64]]


# ---------------------------------------------------------------------------------------------
# data movement and state
# ---------------------------------------------------------------------------------------------

KV = """
func.func @main(%c: tensor<1x4x2xi8>, %p: tensor<i32>, %u: tensor<1x{t}x2xi8>) -> tensor<1x4x2xi8> {{
  %k = qtfm.kv_append %c[%p], %u {{axis = 1 : i64}} : (tensor<1x4x2xi8>, tensor<i32>, tensor<1x{t}x2xi8>) -> tensor<1x4x2xi8>
  func.return %k : tensor<1x4x2xi8>
}}
"""


@pytest.mark.parametrize("t", [1, 2, 4])
def test_kv_append_writes_at_pos(t):
    cache = np.arange(8, dtype=np.int8).reshape(1, 4, 2)
    update = -np.arange(1, 2 * t + 1, dtype=np.int8).reshape(1, t, 2)
    src = KV.format(t=t)
    for pos in range(0, 4 - t + 1):
        out = one(src, [cache, np.array(pos, np.int32), update])
        expected = cache.tolist()
        for r in range(t):
            expected[0][pos + r] = update[0, r].tolist()
        assert out.tolist() == expected
        assert out.dtype == np.int8
    # the cache argument itself is not modified
    assert cache.ravel().tolist() == list(range(8))


@pytest.mark.parametrize(("t", "pos"), [(1, 4), (2, 3), (4, 1), (1, -1), (2, 100)])
def test_kv_append_out_of_capacity_raises(t, pos):
    cache = np.zeros((1, 4, 2), np.int8)
    update = np.ones((1, t, 2), np.int8)
    with pytest.raises(RefError, match="kv_append"):
        run(KV.format(t=t), [cache, np.array(pos, np.int32), update])


EMBED = """
func.func @main(%ids: tensor<2x2xi32>) -> tensor<2x2x3xi8> {
  %t = qtfm.weight "table" : tensor<5x3xi8>
  %e = qtfm.embedding %t[%ids] : (tensor<5x3xi8>, tensor<2x2xi32>) -> tensor<2x2x3xi8>
  func.return %e : tensor<2x2x3xi8>
}
"""
TABLE = np.arange(15, dtype=np.int8).reshape(5, 3) - 7


def test_embedding():
    ids = np.array([[0, 4], [2, 2]], np.int32)
    out = one(EMBED, [ids], {"table": TABLE})
    assert out.dtype == np.int8
    assert out.tolist() == [[TABLE[0].tolist(), TABLE[4].tolist()], [TABLE[2].tolist(), TABLE[2].tolist()]]


@pytest.mark.parametrize("bad", [5, -1, I32_MAX, I32_MIN])
def test_embedding_out_of_range_ids_raise(bad):
    ids = np.array([[0, 1], [bad, 2]], np.int32)
    with pytest.raises(RefError, match="embedding"):
        run(EMBED, [ids], {"table": TABLE})


def test_slice_with_strides():
    src = """
    func.func @main(%x: tensor<4x7xi8>) -> tensor<2x3xi8> {
      %s = qtfm.slice %x starts = array<i64: 1, 0> strides = array<i64: 2, 3> : tensor<4x7xi8> -> tensor<2x3xi8>
      func.return %s : tensor<2x3xi8>
    }
    """
    x = np.arange(28, dtype=np.int8).reshape(4, 7)
    # rows 1, 3; columns 0, 3, 6
    assert one(src, [x]).tolist() == [[7, 10, 13], [21, 24, 27]]


def test_slice_3d_start_offsets():
    src = """
    func.func @main(%x: tensor<2x3x5xi8>) -> tensor<1x2x2xi8> {
      %s = qtfm.slice %x starts = array<i64: 1, 1, 2> strides = array<i64: 1, 1, 2> : tensor<2x3x5xi8> -> tensor<1x2x2xi8>
      func.return %s : tensor<1x2x2xi8>
    }
    """
    x = np.arange(30, dtype=np.int8).reshape(2, 3, 5)
    expected = [[[int(x[1, 1 + i, 2 + 2 * k]) for k in range(2)] for i in range(2)]]
    assert one(src, [x]).tolist() == expected


@pytest.mark.parametrize(("axis", "shape_b", "shape_r"), [(0, "1x2", "3x2"), (1, "2x3", "2x5")])
def test_concat(axis, shape_b, shape_r):
    src = f"""
    func.func @main(%a: tensor<2x2xi8>, %b: tensor<{shape_b}xi8>) -> tensor<{shape_r}xi8> {{
      %c = qtfm.concat %a, %b {{axis = {axis} : i64}} : (tensor<2x2xi8>, tensor<{shape_b}xi8>) -> tensor<{shape_r}xi8>
      func.return %c : tensor<{shape_r}xi8>
    }}
    """
    a = np.array([[1, 2], [3, 4]], np.int8)
    b = -np.arange(1, 1 + np.prod([int(d) for d in shape_b.split("x")]), dtype=np.int8).reshape(
        [int(d) for d in shape_b.split("x")]
    )
    out = one(src, [a, b])
    if axis == 0:
        assert out.tolist() == a.tolist() + b.tolist()
    else:
        assert out.tolist() == [ra + rb for ra, rb in zip(a.tolist(), b.tolist(), strict=True)]


def test_concat_three_inputs():
    src = """
    func.func @main(%a: tensor<1xi8>, %b: tensor<2xi8>, %c: tensor<1xi8>) -> tensor<4xi8> {
      %r = qtfm.concat %a, %b, %c {axis = 0 : i64} : (tensor<1xi8>, tensor<2xi8>, tensor<1xi8>) -> tensor<4xi8>
      func.return %r : tensor<4xi8>
    }
    """
    out = one(src, [np.array([1], np.int8), np.array([2, 3], np.int8), np.array([4], np.int8)])
    assert out.tolist() == [1, 2, 3, 4]


def test_transpose():
    src = """
    func.func @main(%x: tensor<2x3x4xi8>) -> tensor<4x2x3xi8> {
      %t = qtfm.transpose %x perm = array<i64: 2, 0, 1> : tensor<2x3x4xi8> -> tensor<4x2x3xi8>
      func.return %t : tensor<4x2x3xi8>
    }
    """
    x = np.arange(24, dtype=np.int8).reshape(2, 3, 4)
    out = one(src, [x])
    assert out.shape == (4, 2, 3)
    for i, j, k in itertools.product(range(4), range(2), range(3)):
        # result[i0, i1, i2] = input[j] with j[perm[d]] = i_d
        assert out[i, j, k] == x[j, k, i]


def test_reshape_is_row_major():
    src = """
    func.func @main(%x: tensor<2x6xi8>) -> tensor<3x2x2xi8> {
      %r = qtfm.reshape %x : tensor<2x6xi8> -> tensor<3x2x2xi8>
      func.return %r : tensor<3x2x2xi8>
    }
    """
    x = np.arange(12, dtype=np.int8).reshape(2, 6)
    out = one(src, [x])
    assert out.shape == (3, 2, 2)
    assert out.ravel().tolist() == list(range(12))
    assert out[1, 0, 1] == 5


def test_arith_constants_splat_and_dense():
    src = """
    func.func @main(%x: tensor<2x2xi8>) -> tensor<2x2xi32> {
      %c = arith.constant dense<3> : tensor<2x2xi8>
      %d = arith.constant dense<[[1, -1], [100, 0]]> : tensor<2x2xi32>
      %p = qtfm.mul %x, %c : (tensor<2x2xi8>, tensor<2x2xi8>) -> tensor<2x2xi32>
      %s = qtfm.add %p, %d : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
      func.return %s : tensor<2x2xi32>
    }
    """
    x = np.array([[1, 2], [-3, I8_MIN]], np.int8)
    assert one(src, [x]).tolist() == [[4, 5], [91, -384]]


# ---------------------------------------------------------------------------------------------
# the other ops: attribute fields reach the right kernel arguments
# ---------------------------------------------------------------------------------------------


def test_softmax_worked_example():
    # docs/quantization.md: [10, 5, 0, -300] -> [76, 74, 73, 30]
    src = """
    func.func @main(%x: tensor<1x4xi16>) -> tensor<1x4xui8> {
      %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 345, coeff_c = 62395, log2 = 255, levels = 256> : tensor<1x4xi16> -> tensor<1x4xui8>
      func.return %p : tensor<1x4xui8>
    }
    """
    out = one(src, [np.array([[10, 5, 0, -300]], np.int16)])
    assert out.dtype == np.uint8
    assert out.tolist() == [[76, 74, 73, 30]]


def test_softmax_levels_16():
    src = """
    func.func @main(%x: tensor<2x3xi8>) -> tensor<2x3xui8> {
      %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 345, coeff_c = 62395, log2 = 255, levels = 16> : tensor<2x3xi8> -> tensor<2x3xui8>
      func.return %p : tensor<2x3xui8>
    }
    """
    x = np.array([[0, 0, 0], [I8_MAX, I8_MIN, I8_MIN]], np.int8)
    out = one(src, [x])
    # equal entries: e * 15 // (3e) = 5; second row checked against the kernel formula by hand
    assert out[0].tolist() == [5, 5, 5]
    a, b, c, log2 = 1, 345, 62395, 255
    es = []
    for v in (0, -255, -255):
        z = floor_div(-v, log2)
        p = v + z * log2
        es.append((a * (p + b) ** 2 + c) >> z)
    assert out[1].tolist() == [floor_div(e * 15, sum(es)) for e in es]


def test_softmax_causal_mask():
    src = """
    func.func @main(%x: tensor<1x3x3xi8>, %m: tensor<3x3xi8>) -> tensor<1x3x3xui8> {
      %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 345, coeff_c = 62395, log2 = 255, levels = 256> mask(%m : tensor<3x3xi8>) : tensor<1x3x3xi8> -> tensor<1x3x3xui8>
      func.return %p : tensor<1x3x3xui8>
    }
    """
    x = np.array([[[100, -100, 7], [0, 0, 127], [-128, -128, -128]]], np.int8)
    causal = np.tril(np.ones((3, 3), np.int8))
    out = one(src, [x, causal])
    assert out.dtype == np.uint8
    # row 0 keeps one element: probability 1; row 1 keeps two equal ones; row 2 three equal
    assert out.tolist() == [[[255, 0, 0], [127, 127, 0], [85, 85, 85]]]
    # without the mask the masked elements take part (and the largest of row 1 wins)
    no_mask = textwrap.dedent(src).replace(" mask(%m : tensor<3x3xi8>)", "")
    no_mask = no_mask.replace(", %m: tensor<3x3xi8>", "")
    unmasked = one(no_mask, [x])
    assert unmasked[0, 1, 2] > unmasked[0, 1, 0] == unmasked[0, 1, 1] > 0
    assert unmasked[0, 0].tolist() != [255, 0, 0]


def test_lut_i8_and_ui8():
    src = """
    func.func @main(%x: tensor<2x3xi8>, %u: tensor<4xui8>) -> (tensor<2x3xi16>, tensor<4xi16>) {
      %t = qtfm.weight "table" : tensor<256xi16>
      %y = qtfm.lut %x, %t : (tensor<2x3xi8>, tensor<256xi16>) -> tensor<2x3xi16>
      %z = qtfm.lut %u, %t : (tensor<4xui8>, tensor<256xi16>) -> tensor<4xi16>
      func.return %y, %z : tensor<2x3xi16>, tensor<4xi16>
    }
    """
    table = (np.arange(256, dtype=np.int16) - 100) * 7
    x = np.array([[I8_MIN, -1, 0], [1, 100, I8_MAX]], np.int8)
    u = np.array([0, 1, 128, 255], np.uint8)
    y, z = run(src, [x, u], {"table": table})
    assert y.dtype == np.int16
    # i8: index x + 128; ui8: index u
    assert y.tolist() == [[(v + 128 - 100) * 7 for v in row] for row in x.tolist()]
    assert z.tolist() == [(v - 100) * 7 for v in u.tolist()]


def test_mean_pooling_with_mask():
    src = """
    func.func @main(%h: tensor<1x4x3xi8>, %m: tensor<1x4xi32>) -> (tensor<1x3xi8>, tensor<1x3xi8>) {
      %e = qtfm.mean %h mask(%m : tensor<1x4xi32>) {axis = 1 : i64} : tensor<1x4x3xi8> -> tensor<1x3xi8>
      %f = qtfm.mean %h {axis = 1 : i64} : tensor<1x4x3xi8> -> tensor<1x3xi8>
      func.return %e, %f : tensor<1x3xi8>, tensor<1x3xi8>
    }
    """
    h = np.array([[[1, -1, I8_MAX], [2, -2, I8_MAX], [100, 100, I8_MIN], [-7, 0, 0]]], np.int8)
    m = np.array([[1, 1, 0, 0]], np.int32)  # padding after two tokens
    masked, full = run(src, [h, m])
    assert masked.dtype == np.int8
    # (1 + 2) / 2 = 1.5 -> 2; (-1 - 2) / 2 = -1.5 -> -1; 127
    assert masked.tolist() == [[2, -1, I8_MAX]]
    # 96 / 4 = 24; 97 / 4 = 24.25 -> 24; (127 + 127 - 128 + 0) / 4 = 31.5 -> 32
    assert full.tolist() == [[24, 24, 32]]
    # all tokens masked: 0
    masked, _ = run(src, [h, np.zeros((1, 4), np.int32)])
    assert masked.tolist() == [[0, 0, 0]]


def test_rmsnorm_and_layernorm_ops():
    src = """
    func.func @main(%x: tensor<2x4xi8>) -> (tensor<2x4xi8>, tensor<2x4xi8>) {
      %g = qtfm.weight "g" : tensor<4xi32>
      %b = qtfm.weight "b" : tensor<4xi32>
      %r = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 4, levels = 256> : (tensor<2x4xi8>, tensor<4xi32>) -> tensor<2x4xi8>
      %l = qtfm.layernorm %x, %g, %b, #qtfm.layernorm<shift = 4, levels = 16> : (tensor<2x4xi8>, tensor<4xi32>, tensor<4xi32>) -> tensor<2x4xi8>
      func.return %r, %l : tensor<2x4xi8>, tensor<2x4xi8>
    }
    """
    x = np.array([[3, -4, 0, 12], [I8_MIN, I8_MAX, -1, 1]], np.int8)
    g = np.array([16, 32, -48, 1000], np.int32)
    b = np.array([0, -8, 8, 1], np.int32)
    r, ln = run(src, [x], {"g": g, "b": b})
    assert r.tolist() == K.rmsnorm(x, g, 4, 256).tolist()
    assert ln.tolist() == K.layernorm(x, g, b, 4, 16).tolist()
    # one value by hand: row 0, ms = (9 + 16 + 0 + 144) // 4 = 42, std = isqrt(43) = 6,
    # x*g = 48 -> 48 // 6 = 8 -> 8 >> 4 = 0; 12*1000 = 12000 // 6 = 2000 >> 4 = 125
    assert r[0, 0] == 0 and r[0, 3] == 125


def test_deeploy_transformer_ops_plumbing():
    src = """
    func.func @main(%x: tensor<2x4xi8>, %d: tensor<2x1xi32>) -> (tensor<2x4xi8>, tensor<2x4xui8>, tensor<2x4xi32>) {
      %g = qtfm.weight "g" : tensor<4xi32>
      %b = qtfm.weight "b" : tensor<4xi32>
      %l = qtfm.layernorm_trunc %x, %g, %b, #qtfm.layernorm<shift = 4, levels = 16> : (tensor<2x4xi8>, tensor<4xi32>, tensor<4xi32>) -> tensor<2x4xi8>
      %p = qtfm.ita_softmax %x : tensor<2x4xi8> -> tensor<2x4xui8>
      %q = qtfm.int_div %x, %d, #qtfm.int_div<delta = 64, eps = 1, eta = 3> : (tensor<2x4xi8>, tensor<2x1xi32>) -> tensor<2x4xi32>
      func.return %l, %p, %q : tensor<2x4xi8>, tensor<2x4xui8>, tensor<2x4xi32>
    }
    """
    x = np.array([[3, -4, 0, 12], [I8_MIN, I8_MAX, -1, 1]], np.int8)
    d = np.array([[2], [0]], np.int32)
    g = np.array([16, 32, -48, 1000], np.int32)
    b = np.array([0, -8, 8, 1], np.int32)
    ln, p, q = run(src, [x, d], {"g": g, "b": b})
    assert ln.tolist() == K.layernorm_trunc(x, g, b, 4, 16).tolist()
    assert p.dtype == np.uint8 and p.tolist() == K.ita_softmax(x).tolist()
    # row 0: den = 3*2 + 1 = 7, 192 * 3 / 7 = 82.3 -> 82; row 1: den = 1, 192 * -128
    assert q[0, 0] == 82 and q[1, 0] == -24576
    assert q.tolist() == K.integer_div(x, d, 64, 1, 3).tolist()
    with pytest.raises(RefError, match="denominator"):
        run(src, [x, np.array([[2], [-1]], np.int32)], {"g": g, "b": b})


def test_pointwise_ops_plumbing():
    src = """
    func.func @main(%x: tensor<5xi8>) -> (tensor<5xi32>, tensor<5xi32>, tensor<5xi32>) {
      %h = qtfm.hardswish %x, #qtfm.hardswish<one_over_six = 33, six = 60, three = 30> : tensor<5xi8> -> tensor<5xi32>
      %g = qtfm.gelu %x, #qtfm.gelu<b = -100, one = 10000> : tensor<5xi8> -> tensor<5xi32>
      %d = qtfm.div %x, #qtfm.div<delta = 16384, eps = 1, eta = 200000, y = 2> : tensor<5xi8> -> tensor<5xi32>
      func.return %h, %g, %d : tensor<5xi32>, tensor<5xi32>, tensor<5xi32>
    }
    """
    x = np.array([I8_MIN, -40, 0, 7, I8_MAX], np.int8)
    h, g, d = run(src, [x])
    xs = x.tolist()
    assert h.tolist() == [v * clamp(v + 30, 0, 60) * 33 for v in xs]
    assert g.tolist() == K.gelu(x, -100, 10000).tolist()
    assert g[0] == 0 and g[2] == 0  # saturated negative input and zero
    assert d.tolist() == [v * 8191 for v in xs]
    assert all(o.dtype == np.int32 for o in (h, g, d))


# ---------------------------------------------------------------------------------------------
# inputs, weights, results
# ---------------------------------------------------------------------------------------------

IDENTITY_I8 = """
func.func @main(%a: tensor<3x{t}>) -> tensor<3x{t}> {{
  func.return %a : tensor<3x{t}>
}}
"""


@pytest.mark.parametrize(
    ("typ", "values"),
    [
        ("i8", [0, 1, 128]),
        ("i8", [-129, 0, 0]),
        ("ui8", [-1, 0, 0]),
        ("ui8", [0, 256, 0]),
        ("i4", [0, 8, 0]),
        ("i4", [-9, 0, 0]),
        ("i32", [I32_MAX + 1, 0, 0]),
        ("ui16", [0, 0, 1 << 16]),
    ],
)
def test_input_outside_element_type_raises(typ, values):
    with pytest.raises(RefError, match="outside"):
        run(IDENTITY_I8.format(t=typ), [np.array(values, np.int64)])


def test_input_checks():
    src = IDENTITY_I8.format(t="i8")
    with pytest.raises(RefError, match="shape"):
        run(src, [np.zeros((4,), np.int8)])
    with pytest.raises(RefError, match="non-integer"):
        run(src, [np.array([0.5, 0, 0])])
    with pytest.raises(RefError, match="non-integer"):
        run(src, [np.array([np.nan, 0, 0])])
    with pytest.raises(RefError, match="inputs"):
        run(src, [np.zeros(3, np.int8), np.zeros(3, np.int8)])
    # integral floats and wide containers are accepted, values are what counts
    assert one(src, [np.array([-128.0, 0.0, 127.0])]).tolist() == [-128, 0, 127]
    assert one(src, [np.array([-128, 0, 127], np.int64)]).dtype == np.int8


def test_missing_weight_raises():
    with pytest.raises(RefError, match="table"):
        run(EMBED, [np.zeros((2, 2), np.int32)], {})
    with pytest.raises(RefError, match="table"):
        run(EMBED, [np.zeros((2, 2), np.int32)])


def test_bad_weights_raise():
    ids = np.zeros((2, 2), np.int32)
    with pytest.raises(RefError, match="not integer"):
        run(EMBED, [ids], {"table": TABLE.astype(np.float32)})
    with pytest.raises(RefError, match="overflows"):
        run(EMBED, [ids], {"table": TABLE.astype(np.int16) * 100})
    with pytest.raises(RefError, match="shape"):
        run(EMBED, [ids], {"table": TABLE[:4]})


def test_result_dtypes_are_the_narrowest():
    src = """
    func.func @main(%a: tensor<4xi32>) -> (tensor<4xi8>, tensor<4xui8>, tensor<4xi32>, tensor<4xi16>, tensor<4xui16>, tensor<4xi4>) {
      %i8 = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed> : tensor<4xi32> -> tensor<4xi8>
      %u8 = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, unsigned> : tensor<4xi32> -> tensor<4xui8>
      %i16 = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 65536, signed> : tensor<4xi32> -> tensor<4xi16>
      %u16 = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 65536, unsigned> : tensor<4xi32> -> tensor<4xui16>
      %i4 = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 16, signed> : tensor<4xi32> -> tensor<4xi4>
      func.return %i8, %u8, %a, %i16, %u16, %i4 : tensor<4xi8>, tensor<4xui8>, tensor<4xi32>, tensor<4xi16>, tensor<4xui16>, tensor<4xi4>
    }
    """
    a = np.array([-70000, -5, 200, 70000], np.int32)
    i8, u8, i32, i16, u16, i4 = run(src, [a])
    assert (i8.dtype, u8.dtype, i32.dtype) == (np.int8, np.uint8, np.int32)
    assert (i16.dtype, u16.dtype, i4.dtype) == (np.int16, np.uint16, np.int8)
    assert i8.tolist() == [-128, -5, 127, 127]
    assert u8.tolist() == [0, 0, 200, 255]
    assert i32.tolist() == a.tolist()
    assert i16.tolist() == [-32768, -5, 200, 32767]
    assert u16.tolist() == [0, 0, 200, 65535]
    assert i4.tolist() == [-8, -5, 7, 7]


def test_entry_function_selection():
    src = """
    func.func @first(%a: tensor<1xi8>) -> tensor<1xi8> {
      func.return %a : tensor<1xi8>
    }
    func.func @second(%a: tensor<1xi8>) -> tensor<1xi8> {
      %y = qtfm.requant %a, #qtfm.requant<mul = 2, add = 0, shift = 0, levels = 256, signed> : tensor<1xi8> -> tensor<1xi8>
      func.return %y : tensor<1xi8>
    }
    """
    module = parse(src)
    x = [np.array([3], np.int8)]
    with pytest.raises(RefError, match="main"):
        interp.Interpreter(module).run(x)
    assert interp.Interpreter(module).run(x, "second")[0].tolist() == [6]
    assert interp.run_module(module, x, function="first")[0].tolist() == [3]
    with pytest.raises(RefError, match="nope"):
        interp.Interpreter(module).run(x, "nope")
