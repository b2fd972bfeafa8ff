"""C spellings of IR integer types and values, for the C emitter.

One place decides how each IR integer type is held in C (signless `iN` as `intN_t`, `uiN` as
`uintN_t`, `i1` as `int`, `index` as `int32_t`), how a constant of a type is written so that
gcc and clang take it without warnings at any width, and how large constant arrays (weights)
are printed quickly: a 30522x128 int8 table is 3.9 M numbers.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import IndexType, IntegerType, Signedness
from xdsl.ir import Attribute

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
