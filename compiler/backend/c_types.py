"""C spellings of IR integer types, values and arith operations, for the C emitter.

One place decides how each IR integer type is held in C (signless `iN` as `intN_t`, `uiN` as
`uintN_t`, `i1` as `int`, `index` as `int32_t`), how a constant of a type is written so that
gcc and clang take it without warnings at any width, how each arith op is written as a C
expression with MLIR's semantics (and with parentheses only where C or gcc -Wparentheses want
them), and how large constant arrays (weights) are printed quickly: a 30522x128 int8 table is
3.9 M numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerType, Signedness
from xdsl.ir import Attribute, Operation

from compiler.errors import MoteError

INDEX_BITS = 32
"""`index` is `int32_t`: every buffer and loop of a model that fits an MCU is below 2^31."""

_C_WIDTHS = (8, 16, 32, 64)


class CTypeError(MoteError):
    """An IR type that generated C cannot represent."""


def int_width(typ: Attribute) -> int:
    """Bits of an integer-like type (`index` counts as 32)."""
    if isinstance(typ, IndexType):
        return INDEX_BITS
    if isinstance(typ, IntegerType):
        return typ.width.data
    raise CTypeError(f"the C emitter handles integer and index types only, got {typ}")


def is_unsigned(typ: Attribute) -> bool:
    return isinstance(typ, IntegerType) and typ.signedness.data == Signedness.UNSIGNED


def c_type(typ: Attribute) -> str:
    """The C type that holds values of an integer-like IR type."""
    width = int_width(typ)
    if width == 1:
        return "int"
    if width not in _C_WIDTHS:
        raise CTypeError(f"no C integer type for {typ} (widths 1, 8, 16, 32, 64 only)")
    return f"{'u' if is_unsigned(typ) else ''}int{width}_t"


def signed_c_type(width: int) -> str:
    return "int" if width == 1 else f"int{width}_t"


def unsigned_c_type(width: int) -> str:
    return "unsigned" if width == 1 else f"uint{width}_t"


def element_c_type(typ: Attribute) -> str:
    """The C element type of a memref / array of `typ` (whole bytes only)."""
    if int_width(typ) == 1:
        raise CTypeError("memrefs of i1 have no C element type; use i8")
    return c_type(typ)


def normalize(value: int, typ: Attribute) -> int:
    """`value` as the C type of `typ` holds it: two's complement for signless and signed
    types, modulo 2^N for unsigned ones; i1 is 0 or 1."""
    width = int_width(typ)
    value &= (1 << width) - 1
    if width == 1 or is_unsigned(typ):
        return value
    return value - (1 << width) if value >= 1 << (width - 1) else value


def int_literal(value: int, width: int, unsigned: bool = False) -> str:
    """A C expression of the exact value (already in range of a `width`-bit C type): a plain
    decimal when it fits `int`, otherwise suffixed or named so no compiler sees an overflow."""
    if unsigned:
        if value <= 0x7FFFFFFF:
            return str(value)
        return f"{value}u" if width <= 32 else f"UINT64_C({value})"
    if -0x7FFFFFFF <= value <= 0x7FFFFFFF:
        return str(value)
    if value == -(1 << 31):
        return "INT32_MIN" if width == 32 else "(-2147483647 - 1)"
    if value == -(1 << 63):
        return "INT64_MIN"
    return f"INT64_C({value})"


def literal_for(value: int, typ: Attribute) -> str:
    """The C spelling of a constant of type `typ`."""
    width = int_width(typ)
    return int_literal(normalize(value, typ), width, is_unsigned(typ))


_NUMPY_DTYPES = {
    (8, False): np.int8,
    (16, False): np.int16,
    (32, False): np.int32,
    (64, False): np.int64,
    (8, True): np.uint8,
    (16, True): np.uint16,
    (32, True): np.uint32,
    (64, True): np.uint64,
}


def numpy_dtype(typ: Attribute) -> np.dtype:
    """The numpy dtype whose values are exactly those of the C element type of `typ`."""
    element_c_type(typ)
    return np.dtype(_NUMPY_DTYPES[(int_width(typ), is_unsigned(typ))])


def array_initializer(values: np.ndarray, per_line: int, indent: str = "  ") -> str:
    """The lines between the braces of a C array initializer: `per_line` comma-separated
    values per line, each line indented and ending with a comma.

    Vectorised: every distinct value is formatted once and the array is mapped onto those
    strings, so millions of values take about a second."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if flat.size == 0:
        return ""
    unsigned = flat.dtype.kind == "u"
    width = flat.dtype.itemsize * 8
    if flat.dtype.itemsize == 1:
        info = np.iinfo(flat.dtype)
        table = np.array(
            [int_literal(v, width, unsigned) for v in range(info.min, info.max + 1)], dtype=object
        )
        strings = table[flat.astype(np.int64) - info.min]
    else:
        distinct, inverse = np.unique(flat, return_inverse=True)
        table = np.array([int_literal(int(v), width, unsigned) for v in distinct], dtype=object)
        strings = table[inverse.reshape(-1)]
    full = flat.size - flat.size % per_line
    rows: list[list[str]] = strings[:full].reshape(-1, per_line).tolist()
    if full < flat.size:
        rows.append(strings[full:].tolist())
    prefix = indent
    return "".join(f"{prefix}{','.join(row)},\n" for row in rows)


# ------------------------------------------------------------------------------------------
# C expressions with their precedence, so that parentheses appear only where C (or gcc's
# -Wparentheses) needs them.

PRIMARY, UNARY, MUL, ADD, SHIFT, REL, EQ, BAND, BXOR, BOR, COND = 16, 15, 13, 12, 11, 10, 9, 8, 7, 6, 3


@dataclass(frozen=True)
class Expr:
    text: str
    prec: int = PRIMARY
    value: int | None = None
    """The number, when the expression is an integer literal."""
    reads: frozenset[str] = frozenset()
    """Mutable C variables (loop-carried values, if results) the expression reads."""
    accumulate: tuple[str, Expr] | None = None
    """(`v`, `rhs`) when the expression is `v + rhs` for a variable `v`: `v += rhs`."""

    @property
    def literal(self) -> bool:
        return self.value is not None

    def at(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


def join_reads(*exprs: Expr) -> frozenset[str]:
    return frozenset().union(*(e.reads for e in exprs))


def cast(ctype: str, e: Expr) -> Expr:
    return Expr(f"({ctype}){e.at(UNARY)}", UNARY, reads=e.reads)


def binary(a: Expr, op: str, b: Expr, prec: int) -> Expr:
    """`a op b` for a left-associative operator; shifts and bitwise operators get their
    compound operands parenthesised (as gcc -Wparentheses asks)."""
    if prec in (SHIFT, BAND, BXOR, BOR):
        left, right = a.at(UNARY), b.at(UNARY)
    elif prec in (REL, EQ):
        left, right = a.at(SHIFT), b.at(SHIFT)
    else:
        left, right = a.at(prec), b.at(prec + 1)
    return Expr(f"{left} {op} {right}", prec, reads=join_reads(a, b))


def ternary(cond: Expr, a: Expr, b: Expr) -> Expr:
    return Expr(
        f"{cond.at(COND + 1)} ? {a.at(COND + 1)} : {b.at(COND + 1)}", COND, reads=join_reads(cond, a, b)
    )


def literal_expr(value: int, typ: Attribute) -> Expr:
    text = literal_for(value, typ)
    return Expr(text, UNARY if text[0] in "-(" else PRIMARY, value=normalize(value, typ))


# ------------------------------------------------------------------------------------------
# arith ops as expressions of their operands' expressions.


def _narrow(typ: Attribute) -> bool:
    return int_width(typ) < 32


def _wide_literal(e: Expr, typ: Attribute) -> Expr:
    """A literal operand of a 64-bit operation whose other operand cannot widen it."""
    return cast(c_type(typ), e) if e.literal and int_width(typ) > 32 else e


def _wrapping(op: Operation, x: Sequence[Expr], uses: set[str], symbol: str, prec: int) -> Expr:
    """add/sub/mul: plain C arithmetic (no overflow by contract); narrow types wrap back."""
    a, b = x[0], x[1]
    typ = op.results[0].type
    if a.literal and b.literal:
        a = _wide_literal(a, typ)
    if symbol in "+-" and b.value is not None and b.value < 0 and normalize(-b.value, typ) == -b.value:
        symbol, b = ("-" if symbol == "+" else "+"), literal_expr(-b.value, typ)
    e = binary(a, symbol, b, prec)
    if _narrow(typ):
        return cast(c_type(typ), e)
    if symbol == "+":
        for var, rhs in ((a, b), (b, a)):
            if var.reads and var.prec == PRIMARY and var.text in var.reads:
                return Expr(e.text, e.prec, reads=e.reads, accumulate=(var.text, rhs))
    return e


def _unsigned_view(e: Expr, typ: Attribute) -> Expr:
    """`e` as the unsigned C type of its width."""
    width = int_width(typ)
    if is_unsigned(typ):
        return e
    if e.value is not None and e.value >= 0:
        return e if width < 32 else Expr(int_literal(e.value, width, unsigned=True), value=e.value)
    return cast(unsigned_c_type(width), e)


def _unsignedbinary(op: Operation, x: Sequence[Expr], uses: set[str], symbol: str, prec: int) -> Expr:
    a, b = x[0], x[1]
    typ = op.results[0].type
    e = binary(_unsigned_view(a, typ), symbol, _unsigned_view(b, typ), prec)
    return e if is_unsigned(typ) else cast(c_type(typ), e)


def _signedbinary(op: Operation, x: Sequence[Expr], uses: set[str], symbol: str, prec: int) -> Expr:
    a, b = x[0], x[1]
    return binary(_wide_literal(a, op.results[0].type) if b.literal else a, symbol, b, prec)


def _helper_call(op: Operation, x: Sequence[Expr], uses: set[str], kind: str) -> Expr:
    a, b = x[0], x[1]
    typ = op.results[0].type
    width = 64 if int_width(typ) > 32 else 32
    uses.add(f"{kind}_i{width}")
    e = Expr(f"mote_{kind}_i{width}({a.text}, {b.text})", reads=join_reads(a, b))
    return cast(c_type(typ), e) if width != int_width(typ) else e


def _shift_left(op: Operation, x: Sequence[Expr], uses: set[str]) -> Expr:
    a, b = x[0], x[1]
    typ = op.results[0].type
    if a.value is not None and a.value >= 0 and int_width(typ) >= 32:
        return binary(_wide_literal(a, typ), "<<", b, SHIFT)
    return _unsignedbinary(op, x, uses, "<<", SHIFT)


def _min_max(op: Operation, x: Sequence[Expr], uses: set[str], greater: bool, unsigned: bool) -> Expr:
    a, b = x[0], x[1]
    typ = op.results[0].type
    ca, cb = (_unsigned_view(a, typ), _unsigned_view(b, typ)) if unsigned else (a, b)
    cond = binary(ca, ">" if greater else "<", cb, REL)
    if a.literal and b.literal:
        a = _wide_literal(a, typ)
    return ternary(cond, a, b)


_CMP = {
    "eq": ("==", None),
    "ne": ("!=", None),
    "slt": ("<", False),
    "sle": ("<=", False),
    "sgt": (">", False),
    "sge": (">=", False),
    "ult": ("<", True),
    "ule": ("<=", True),
    "ugt": (">", True),
    "uge": (">=", True),
}


def _cmpi(op: arith.CmpiOp, x: Sequence[Expr], uses: set[str]) -> Expr:
    a, b = x[0], x[1]
    typ = op.lhs.type
    symbol, unsigned = _CMP[arith.CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]]
    if int_width(typ) == 1 and unsigned is False:
        a, b, unsigned = b, a, True  # i1 true is -1 when signed: the order flips
    if unsigned:
        a, b = _unsigned_view(a, typ), _unsigned_view(b, typ)
    elif is_unsigned(typ):
        a, b = cast(signed_c_type(int_width(typ)), a), cast(signed_c_type(int_width(typ)), b)
    return binary(a, symbol, b, EQ if symbol in ("==", "!=") else REL)


def _extend(op: Operation, x: Sequence[Expr], uses: set[str], signed: bool) -> Expr:
    src, dst = op.operands[0].type, op.results[0].type
    width = int_width(src)
    if width == 1:
        e = cast(c_type(dst), x[0])
        return Expr(f"-{e.text}", UNARY, reads=e.reads) if signed else e
    view = signed_c_type(width) if signed else unsigned_c_type(width)
    e = x[0] if c_type(src) == view else cast(view, x[0])
    return cast(c_type(dst), e)


def _truncate(op: Operation, x: Sequence[Expr], uses: set[str]) -> Expr:
    dst = op.results[0].type
    if int_width(dst) == 1:
        return cast("int", binary(x[0], "&", Expr("1"), BAND))
    return cast(c_type(dst), x[0])


def _index_cast(op: Operation, x: Sequence[Expr], uses: set[str]) -> Expr:
    if x[0].literal or c_type(op.operands[0].type) == c_type(op.results[0].type):
        return x[0]
    return cast(c_type(op.results[0].type), x[0])


def _select(op: arith.SelectOp, x: Sequence[Expr], uses: set[str]) -> Expr:
    c, a, b = x
    if a.literal and b.literal:
        a = _wide_literal(a, op.result.type)
    return ternary(c, a, b)


_ARITH: dict[type[Operation], Callable[[Any, Sequence[Expr], set[str]], Expr]] = {
    arith.AddiOp: lambda op, x, uses: _wrapping(op, x, uses, "+", ADD),
    arith.SubiOp: lambda op, x, uses: _wrapping(op, x, uses, "-", ADD),
    arith.MuliOp: lambda op, x, uses: _wrapping(op, x, uses, "*", MUL),
    arith.DivSIOp: lambda op, x, uses: _signedbinary(op, x, uses, "/", MUL),
    arith.RemSIOp: lambda op, x, uses: _signedbinary(op, x, uses, "%", MUL),
    arith.DivUIOp: lambda op, x, uses: _unsignedbinary(op, x, uses, "/", MUL),
    arith.RemUIOp: lambda op, x, uses: _unsignedbinary(op, x, uses, "%", MUL),
    arith.FloorDivSIOp: lambda op, x, uses: _helper_call(op, x, uses, "floordiv"),
    arith.CeilDivSIOp: lambda op, x, uses: _helper_call(op, x, uses, "ceildiv"),
    arith.ShLIOp: _shift_left,
    arith.ShRSIOp: lambda op, x, uses: _signedbinary(op, x, uses, ">>", SHIFT),
    arith.ShRUIOp: lambda op, x, uses: _unsignedbinary(op, x, uses, ">>", SHIFT),
    arith.AndIOp: lambda op, x, uses: _signedbinary(op, x, uses, "&", BAND),
    arith.OrIOp: lambda op, x, uses: _signedbinary(op, x, uses, "|", BOR),
    arith.XOrIOp: lambda op, x, uses: _signedbinary(op, x, uses, "^", BXOR),
    arith.ExtSIOp: lambda op, x, uses: _extend(op, x, uses, signed=True),
    arith.ExtUIOp: lambda op, x, uses: _extend(op, x, uses, signed=False),
    arith.TruncIOp: _truncate,
    arith.IndexCastOp: _index_cast,
    arith.CmpiOp: _cmpi,  # type: ignore[dict-item]
    arith.SelectOp: _select,  # type: ignore[dict-item]
    arith.MaxSIOp: lambda op, x, uses: _min_max(op, x, uses, greater=True, unsigned=False),
    arith.MinSIOp: lambda op, x, uses: _min_max(op, x, uses, greater=False, unsigned=False),
    arith.MaxUIOp: lambda op, x, uses: _min_max(op, x, uses, greater=True, unsigned=True),
    arith.MinUIOp: lambda op, x, uses: _min_max(op, x, uses, greater=False, unsigned=True),
}


def arith_expr(op: Operation, operands: Sequence[Expr], uses: set[str]) -> Expr:
    """The C expression of an arith op whose operands print as `operands`; the names of the
    inline helpers it calls (`floordiv_i32`...) are added to `uses`."""
    return _ARITH[type(op)](op, operands, uses)


def fold(op: Operation, operands: Sequence[Expr]) -> Expr | None:
    """The literal result of add/sub/mul/and/or/xor of two literals (IR that was not
    canonicalized), so that no C compiler sees a constant expression overflow."""
    if not isinstance(op, arith.SignlessIntegerBinaryOperation) or any(e.value is None for e in operands):
        return None
    value = op.py_operation(operands[0].value, operands[1].value)  # type: ignore[arg-type]
    return None if value is None else literal_expr(value, op.result.type)


INLINE_HELPERS = {"floordiv": ("minus", "!=", "q - 1"), "ceildiv": ("plus", "==", "q + 1")}


def inline_helper(key: str) -> list[str]:
    """The C definition of an inline helper named by `arith_expr` (`floordiv_i32`...)."""
    kind, width = key.rsplit("_i", 1)
    towards, same_sign, adjusted = INLINE_HELPERS[kind]
    t = f"int{width}_t"
    return [
        f"/* a / b rounded towards {towards} infinity */",
        f"static inline {t} mote_{key}({t} a, {t} b) {{",
        f"  const {t} q = a / b;",
        f"  return (a % b != 0 && (a < 0) {same_sign} (b < 0)) ? {adjusted} : q;",
        "}",
    ]
