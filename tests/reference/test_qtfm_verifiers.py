# ruff: noqa: E501  (the qtfm IR below keeps one op per line, as mote-opt prints it)
"""The qtfm attribute and op verifiers, checked from Python (docs/quantization.md lists the
constraints). Attribute constructors verify on construction; ops verify with the module."""

from __future__ import annotations

import textwrap

import pytest
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.func import Func
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

from dialects import qtfm

from ._strategies import I32_MAX, I32_MIN


def parse(src: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Func, Arith, qtfm.QTFM):
        ctx.load_dialect(dialect)
    return Parser(ctx, textwrap.dedent(src)).parse_module()


def verify(src: str) -> None:
    parse(src).verify()


# ---------------------------------------------------------------------------------------------
# #qtfm.requant
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shift": -1}, "shift"),
        ({"shift": 63}, "shift"),
        ({"levels": 1}, "levels"),
        ({"levels": 0}, "levels"),
        ({"rounding": "nearest"}, "rounding"),
        ({"rounding": "half_even"}, "rounding"),
        ({"mul": I32_MAX + 1}, "int32"),
        ({"mul": I32_MIN - 1}, "int32"),
        ({"add": I32_MAX + 1}, "int32"),
        ({"mul": [], "add": 0}, "at least one"),
        ({"mul": [1, 2], "add": 0}, "axis"),
        ({"mul": 1, "add": [1, 2]}, "axis"),
        ({"mul": [1, 2], "add": [1, 2, 3], "axis": 0}, "multipliers"),
    ],
)
def test_requant_attr_rejects(kwargs, message):
    args = {"mul": 1, "add": 0, "shift": 8, **kwargs}
    with pytest.raises(VerifyException, match=message):
        qtfm.RequantAttr.get(**args)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shift": 0},
        {"shift": 62},
        {"levels": 2},
        {"mul": I32_MIN, "add": I32_MAX},
        {"mul": I32_MAX, "add": I32_MIN},
        {"mul": [1, 2], "add": 5, "axis": 1},
        {"mul": 3, "add": [1, 2, 3], "axis": 0},
        {"rounding": "floor"},
        {"signed": False, "levels": 16},
    ],
)
def test_requant_attr_accepts(kwargs):
    args = {"mul": 1, "add": 0, "shift": 8, **kwargs}
    qtfm.RequantAttr.get(**args)


@pytest.mark.parametrize(
    ("levels", "signed", "expected"),
    [
        (256, True, (-128, 127)),
        (256, False, (0, 255)),
        (16, True, (-8, 7)),
        (16, False, (0, 15)),
        (2, True, (-1, 0)),
        (255, True, (-127, 126)),
        (255, False, (0, 254)),
    ],
)
def test_requant_clamp_range(levels, signed, expected):
    assert qtfm.RequantAttr.get(1, 0, 0, levels, signed).clamp_range() == expected


@pytest.mark.parametrize(
    "text",
    [
        "#qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed>",
        "#qtfm.requant<mul = [3, 5, 7], add = [0, -1, 2], shift = 8, levels = 256, unsigned, axis = 1>",
        "#qtfm.requant<mul = 3, add = 0, shift = 8, levels = 256, unsigned, rounding = floor>",
        "#qtfm.requant<mul = -2147483648, add = 2147483647, shift = 62, levels = 16, signed, axis = 0, rounding = floor>",
    ],
)
def test_requant_attr_round_trip(text):
    ctx = Context()
    for dialect in (Builtin, qtfm.QTFM):
        ctx.load_dialect(dialect)
    attr = Parser(ctx, text).parse_attribute()
    assert isinstance(attr, qtfm.RequantAttr)
    assert str(attr) == text
    assert Parser(ctx, str(attr)).parse_attribute() == attr


def test_requant_attr_parse_error_is_located():
    src = """
    func.func @main(%a: tensor<2xi32>) -> tensor<2xi8> {
      %y = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = -1, levels = 256, signed> : tensor<2xi32> -> tensor<2xi8>
      func.return %y : tensor<2xi8>
    }
    """
    with pytest.raises(ParseError, match="shift"):
        parse(src)


# ---------------------------------------------------------------------------------------------
# the other attributes
# ---------------------------------------------------------------------------------------------

SOFTMAX_OK = {"coeff_a": 1, "coeff_b": 345, "coeff_c": 62395, "log2": 255, "levels": 256}


@pytest.mark.parametrize(
    ("cls", "good", "bad"),
    [
        (qtfm.SoftmaxAttr, SOFTMAX_OK, {"log2": 0}),
        (qtfm.SoftmaxAttr, SOFTMAX_OK, {"levels": 1}),
        (qtfm.SoftmaxAttr, SOFTMAX_OK, {"coeff_a": 0}),
        (qtfm.SoftmaxAttr, SOFTMAX_OK, {"coeff_b": 0, "coeff_c": 0}),
        (qtfm.RMSNormAttr, {"shift": 16, "levels": 256}, {"shift": -1}),
        (qtfm.RMSNormAttr, {"shift": 16, "levels": 256}, {"shift": 63}),
        (qtfm.RMSNormAttr, {"shift": 16, "levels": 256}, {"levels": 1}),
        (qtfm.LayerNormAttr, {"shift": 0, "levels": 2}, {"shift": -1}),
        (qtfm.LayerNormAttr, {"shift": 62, "levels": 2}, {"levels": 0}),
        (qtfm.HardswishAttr, {"one_over_six": 33, "six": 1530, "three": 765}, {"six": 0}),
        (qtfm.HardswishAttr, {"one_over_six": 33, "six": 1530, "three": 765}, {"one_over_six": 0}),
        (qtfm.HardswishAttr, {"one_over_six": 33, "six": 1530, "three": 0}, {"three": -1}),
        (qtfm.GeluAttr, {"b": -1, "one": 1}, {"b": 0}),
        (qtfm.GeluAttr, {"b": -100, "one": 10000}, {"one": 0}),
        (qtfm.DivAttr, {"delta": 16384, "eps": 1, "eta": 200000, "y": 2}, {"delta": 3}),
        (qtfm.DivAttr, {"delta": 1, "eps": 1, "eta": 200000, "y": 2}, {"eta": 0}),
        (qtfm.DivAttr, {"delta": 16384, "eps": 1, "eta": 200000, "y": 2}, {"y": 0, "eps": 0}),
        (qtfm.DivAttr, {"delta": 16384, "eps": 1, "eta": 200000, "y": 2}, {"y": -1, "eps": 0}),
    ],
)
def test_record_attrs(cls, good, bad):
    assert cls.get(**good).as_dict() == good
    with pytest.raises(VerifyException):
        cls.get(**{**good, **bad})


def test_record_attr_missing_field():
    with pytest.raises(ValueError, match="missing"):
        qtfm.GeluAttr.get(b=-1)


def test_div_multiplier():
    assert qtfm.DivAttr.get(delta=16384, eps=1, eta=200000, y=2).multiplier() == 8191


# ---------------------------------------------------------------------------------------------
# op verifiers
# ---------------------------------------------------------------------------------------------

VALID = [
    # identity requant into a wider type, per-channel on the last axis, floor rounding
    """
    func.func @main(%a: tensor<2x3xi8>) -> tensor<2x3xi32> {
      %y = qtfm.requant %a, #qtfm.requant<mul = [1, 2, 3], add = 0, shift = 0, levels = 256, signed, axis = 1, rounding = floor> : tensor<2x3xi8> -> tensor<2x3xi32>
      func.return %y : tensor<2x3xi32>
    }
    """,
    """
    func.func @main(%a: tensor<2x1x3x4xi8>, %b: tensor<5x4x2xi8>) -> tensor<2x5x3x2xi32> {
      %y = qtfm.matmul %a, %b : (tensor<2x1x3x4xi8>, tensor<5x4x2xi8>) -> tensor<2x5x3x2xi32>
      func.return %y : tensor<2x5x3x2xi32>
    }
    """,
]


@pytest.mark.parametrize("src", VALID)
def test_valid_modules_verify(src):
    verify(src)


INVALID = {
    "requant clamp wider than the result": (
        """
        func.func @main(%a: tensor<2xi32>) -> tensor<2xi8> {
          %y = qtfm.requant %a, #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, unsigned> : tensor<2xi32> -> tensor<2xi8>
          func.return %y : tensor<2xi8>
        }
        """,
        "does not fit",
    ),
    "requant axis out of range": (
        """
        func.func @main(%a: tensor<2xi32>) -> tensor<2xi8> {
          %y = qtfm.requant %a, #qtfm.requant<mul = [1, 2], add = 0, shift = 0, levels = 256, signed, axis = 1> : tensor<2xi32> -> tensor<2xi8>
          func.return %y : tensor<2xi8>
        }
        """,
        "out of range",
    ),
    "requant channel count": (
        """
        func.func @main(%a: tensor<2x3xi32>) -> tensor<2x3xi8> {
          %y = qtfm.requant %a, #qtfm.requant<mul = [1, 2], add = 0, shift = 0, levels = 256, signed, axis = 1> : tensor<2x3xi32> -> tensor<2x3xi8>
          func.return %y : tensor<2x3xi8>
        }
        """,
        "channels",
    ),
    "matmul without requant into i8": (
        """
        func.func @main(%a: tensor<2x3xi8>, %b: tensor<3x2xi8>) -> tensor<2x2xi8> {
          %y = qtfm.matmul %a, %b : (tensor<2x3xi8>, tensor<3x2xi8>) -> tensor<2x2xi8>
          func.return %y : tensor<2x2xi8>
        }
        """,
        "i32",
    ),
    "matmul inner dimensions": (
        """
        func.func @main(%a: tensor<2x3xi8>, %b: tensor<4x2xi8>) -> tensor<2x2xi32> {
          %y = qtfm.matmul %a, %b : (tensor<2x3xi8>, tensor<4x2xi8>) -> tensor<2x2xi32>
          func.return %y : tensor<2x2xi32>
        }
        """,
        "incompatible",
    ),
    "add shapes do not broadcast": (
        """
        func.func @main(%a: tensor<2x3xi8>, %b: tensor<2xi8>) -> tensor<2x3xi32> {
          %y = qtfm.add %a, %b : (tensor<2x3xi8>, tensor<2xi8>) -> tensor<2x3xi32>
          func.return %y : tensor<2x3xi32>
        }
        """,
        "broadcast",
    ),
    "linear bias shape": (
        """
        func.func @main(%x: tensor<2x3xi8>, %w: tensor<3x4xi8>, %b: tensor<3xi32>) -> tensor<2x4xi32> {
          %y = qtfm.linear %x, %w, %b : (tensor<2x3xi8>, tensor<3x4xi8>, tensor<3xi32>) -> tensor<2x4xi32>
          func.return %y : tensor<2x4xi32>
        }
        """,
        "bias",
    ),
    "softmax result cannot hold the levels": (
        """
        func.func @main(%x: tensor<4xi8>) -> tensor<4xi8> {
          %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 345, coeff_c = 62395, log2 = 255, levels = 256> : tensor<4xi8> -> tensor<4xi8>
          func.return %p : tensor<4xi8>
        }
        """,
        "fit",
    ),
    "softmax parameters that overflow the exp sum": (
        """
        func.func @main(%x: tensor<4xi8>) -> tensor<4xui16> {
          %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 2147483647, coeff_b = 32768, coeff_c = 0, log2 = 1, levels = 65536> : tensor<4xi8> -> tensor<4xui16>
          func.return %p : tensor<4xui16>
        }
        """,
        "2\\^62",
    ),
    "rmsnorm weight shape": (
        """
        func.func @main(%x: tensor<2x4xi8>, %g: tensor<2xi32>) -> tensor<2x4xi8> {
          %r = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 4, levels = 256> : (tensor<2x4xi8>, tensor<2xi32>) -> tensor<2x4xi8>
          func.return %r : tensor<2x4xi8>
        }
        """,
        "weight",
    ),
    "hardswish into i8": (
        """
        func.func @main(%x: tensor<4xi8>) -> tensor<4xi8> {
          %h = qtfm.hardswish %x, #qtfm.hardswish<one_over_six = 33, six = 60, three = 30> : tensor<4xi8> -> tensor<4xi8>
          func.return %h : tensor<4xi8>
        }
        """,
        "i32",
    ),
    "transpose perm": (
        """
        func.func @main(%x: tensor<2x3xi8>) -> tensor<3x2xi8> {
          %t = qtfm.transpose %x perm = array<i64: 1, 1> : tensor<2x3xi8> -> tensor<3x2xi8>
          func.return %t : tensor<3x2xi8>
        }
        """,
        "permutation",
    ),
    "transpose result shape": (
        """
        func.func @main(%x: tensor<2x3xi8>) -> tensor<2x3xi8> {
          %t = qtfm.transpose %x perm = array<i64: 1, 0> : tensor<2x3xi8> -> tensor<2x3xi8>
          func.return %t : tensor<2x3xi8>
        }
        """,
        "result shape",
    ),
    "reshape element count": (
        """
        func.func @main(%x: tensor<2x3xi8>) -> tensor<7xi8> {
          %r = qtfm.reshape %x : tensor<2x3xi8> -> tensor<7xi8>
          func.return %r : tensor<7xi8>
        }
        """,
        "elements",
    ),
    "reshape element type": (
        """
        func.func @main(%x: tensor<2x3xi8>) -> tensor<6xi32> {
          %r = qtfm.reshape %x : tensor<2x3xi8> -> tensor<6xi32>
          func.return %r : tensor<6xi32>
        }
        """,
        "element type",
    ),
    "slice leaves the input": (
        """
        func.func @main(%x: tensor<4x7xi8>) -> tensor<2x3xi8> {
          %s = qtfm.slice %x starts = array<i64: 1, 1> strides = array<i64: 2, 3> : tensor<4x7xi8> -> tensor<2x3xi8>
          func.return %s : tensor<2x3xi8>
        }
        """,
        "leave",
    ),
    "slice stride zero": (
        """
        func.func @main(%x: tensor<4x7xi8>) -> tensor<2x3xi8> {
          %s = qtfm.slice %x starts = array<i64: 0, 0> strides = array<i64: 0, 1> : tensor<4x7xi8> -> tensor<2x3xi8>
          func.return %s : tensor<2x3xi8>
        }
        """,
        "stride",
    ),
    "concat shapes differ off axis": (
        """
        func.func @main(%a: tensor<2x2xi8>, %b: tensor<1x3xi8>) -> tensor<3x2xi8> {
          %c = qtfm.concat %a, %b {axis = 0 : i64} : (tensor<2x2xi8>, tensor<1x3xi8>) -> tensor<3x2xi8>
          func.return %c : tensor<3x2xi8>
        }
        """,
        "differ",
    ),
    "concat element types": (
        """
        func.func @main(%a: tensor<2x2xi8>, %b: tensor<1x2xi32>) -> tensor<3x2xi8> {
          %c = qtfm.concat %a, %b {axis = 0 : i64} : (tensor<2x2xi8>, tensor<1x2xi32>) -> tensor<3x2xi8>
          func.return %c : tensor<3x2xi8>
        }
        """,
        "element type",
    ),
    "kv_append update larger than the cache": (
        """
        func.func @main(%c: tensor<1x4x2xi8>, %p: tensor<i32>, %u: tensor<1x5x2xi8>) -> tensor<1x4x2xi8> {
          %k = qtfm.kv_append %c[%p], %u {axis = 1 : i64} : (tensor<1x4x2xi8>, tensor<i32>, tensor<1x5x2xi8>) -> tensor<1x4x2xi8>
          func.return %k : tensor<1x4x2xi8>
        }
        """,
        "does not fit",
    ),
    "kv_append pos not 0-d": (
        """
        func.func @main(%c: tensor<1x4x2xi8>, %p: tensor<1xi32>, %u: tensor<1x1x2xi8>) -> tensor<1x4x2xi8> {
          %k = qtfm.kv_append %c[%p], %u {axis = 1 : i64} : (tensor<1x4x2xi8>, tensor<1xi32>, tensor<1x1x2xi8>) -> tensor<1x4x2xi8>
          func.return %k : tensor<1x4x2xi8>
        }
        """,
        "0-d",
    ),
    "softmax mask does not broadcast": (
        """
        func.func @main(%x: tensor<2x4xi8>, %m: tensor<3x4xi8>) -> tensor<2x4xui8> {
          %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 345, coeff_c = 62395, log2 = 255, levels = 256> mask(%m : tensor<3x4xi8>) : tensor<2x4xi8> -> tensor<2x4xui8>
          func.return %p : tensor<2x4xui8>
        }
        """,
        "mask",
    ),
    "softmax mask would grow the input": (
        """
        func.func @main(%x: tensor<1x4xi8>, %m: tensor<2x4xi8>) -> tensor<1x4xui8> {
          %p = qtfm.softmax %x, #qtfm.softmax<coeff_a = 1, coeff_b = 345, coeff_c = 62395, log2 = 255, levels = 256> mask(%m : tensor<2x4xi8>) : tensor<1x4xi8> -> tensor<1x4xui8>
          func.return %p : tensor<1x4xui8>
        }
        """,
        "mask",
    ),
    "lut input wider than 8 bits": (
        """
        func.func @main(%x: tensor<4xi16>, %t: tensor<256xi8>) -> tensor<4xi8> {
          %y = qtfm.lut %x, %t : (tensor<4xi16>, tensor<256xi8>) -> tensor<4xi8>
          func.return %y : tensor<4xi8>
        }
        """,
        "8 bits",
    ),
    "lut table size": (
        """
        func.func @main(%x: tensor<4xi8>, %t: tensor<255xi8>) -> tensor<4xi8> {
          %y = qtfm.lut %x, %t : (tensor<4xi8>, tensor<255xi8>) -> tensor<4xi8>
          func.return %y : tensor<4xi8>
        }
        """,
        "256",
    ),
    "lut result type differs from the table": (
        """
        func.func @main(%x: tensor<4xi8>, %t: tensor<256xi8>) -> tensor<4xi32> {
          %y = qtfm.lut %x, %t : (tensor<4xi8>, tensor<256xi8>) -> tensor<4xi32>
          func.return %y : tensor<4xi32>
        }
        """,
        "element type",
    ),
    "mean mask shape": (
        """
        func.func @main(%h: tensor<1x4x3xi8>, %m: tensor<4xi32>) -> tensor<1x3xi8> {
          %e = qtfm.mean %h mask(%m : tensor<4xi32>) {axis = 1 : i64} : tensor<1x4x3xi8> -> tensor<1x3xi8>
          func.return %e : tensor<1x3xi8>
        }
        """,
        "mask shape",
    ),
    "mean result keeps the axis": (
        """
        func.func @main(%h: tensor<1x4x3xi8>) -> tensor<1x4xi8> {
          %e = qtfm.mean %h {axis = 1 : i64} : tensor<1x4x3xi8> -> tensor<1x4xi8>
          func.return %e : tensor<1x4xi8>
        }
        """,
        "result shape",
    ),
    "embedding result shape": (
        """
        func.func @main(%t: tensor<5x3xi8>, %ids: tensor<2xi32>) -> tensor<2x4xi8> {
          %e = qtfm.embedding %t[%ids] : (tensor<5x3xi8>, tensor<2xi32>) -> tensor<2x4xi8>
          func.return %e : tensor<2x4xi8>
        }
        """,
        "result shape",
    ),
}


@pytest.mark.parametrize(("src", "message"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_modules_are_rejected(src, message):
    module = parse(src)
    with pytest.raises(VerifyException, match=message):
        module.verify()
