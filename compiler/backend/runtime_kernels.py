"""Calls of the hand-written C kernels (runtime_c/include/mote_kernels.h) for the qtfm ops the C
backend does not generate as loops: which function, which scalar arguments, and how to split a
tensor into calls when one contiguous block cannot express the op's broadcasting.

The C backend asks `runtime_call` for each such op and emits, for every index of
`KernelCall.outer` (row-major; a single call when it is empty)::

    function(ptr_0 + sum(idx[i] * strides[0][i]), ..., ptr_k + ..., *scalars)

where the pointers are the op's operands in C argument order (inputs, then the optional mask,
then the result; see `runtime_call`) and offsets are in elements. The scalars are every
non-pointer argument, sizes included, in C order; all are int32 (no kernel parameter needs 64
bits). The kernels are bit-exact to compiler/reference/kernels.py (tests/backend/
test_runtime_kernels.py); docs/runtime_kernels.md explains their fast paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RUNTIME_C = Path(__file__).resolve().parents[2] / "runtime_c"
INCLUDE_DIR = RUNTIME_C / "include"

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1

TensorSig = tuple[tuple[int, ...], str]
"""A tensor operand: (static shape, element type as printed by MLIR: "i8", "ui8", "si16", ...)."""

_SUFFIX = {
    "i8": "i8",
    "si8": "i8",
    "ui8": "u8",
    "u8": "u8",
    "i16": "i16",
    "si16": "i16",
    "ui16": "u16",
    "u16": "u16",
    "i32": "i32",
    "si32": "i32",
}
_T8 = ("i8", "u8")
_T16 = ("i8", "u8", "i16", "u16")
_T32 = ("i8", "u8", "i16", "u16", "i32")
_SIGNED_OUT = ("i8", "i16", "i32")
_ITA_OUT = ("u8", "i16", "u16", "i32")


class KernelCallError(ValueError):
    """The op has no runtime kernel for these types or parameters."""


@dataclass(frozen=True)
class KernelCall:
    """One runtime-kernel invocation pattern.

    `function`: the C function. `scalars`: (value, bit width) of every argument after the
    pointers, in C order, sizes included; the width is always 32 (int32_t). `outer`: the
    dimensions the caller loops over, row-major, issuing one call per index (empty: one call).
    `strides`: per pointer argument in C order, the element offset of each `outer` dimension
    (empty when `outer` is).
    """

    function: str
    scalars: list[tuple[int, int]]
    outer: tuple[int, ...] = ()
    strides: tuple[tuple[int, ...], ...] = ()

    @property
    def calls(self) -> int:
        return math.prod(self.outer)


def kernel_sources() -> list[Path]:
    """The C files that define the kernels (compile them with -I INCLUDE_DIR)."""
    return sorted((RUNTIME_C / "src").glob("kernels_*.c"))


def kernel_names() -> set[str]:
    """Every function mote_kernels.h declares: each type combination the qtfm verifier allows."""
    names = {f"mote_softmax_{x}_{y}" for x in _T16 for y in _T32}
    names |= {f"mote_softmax_mask_{x}_{m}_{y}" for x in _T16 for m in _T32 for y in _T32}
    names |= {f"mote_ita_softmax_{x}_{y}" for x in _T8 for y in _ITA_OUT}
    names |= {f"mote_{op}_{x}_{y}" for op in ("rmsnorm", "layernorm") for x in _T16 for y in _SIGNED_OUT}
    names |= {f"mote_layernorm_trunc_{x}_{y}" for x in _T8 for y in _SIGNED_OUT}
    names |= {f"mote_{op}_{x}_i32" for op in ("gelu", "hardswish") for x in _T16}
    names |= {f"mote_div_{x}_i32" for x in _T32}
    names |= {f"mote_int_div_{a}_{b}_i32" for a in _T32 for b in _T32}
    names |= {f"mote_mean_{x}_{x}" for x in _T32}
    names |= {f"mote_mean_mask_{x}_{m}_{x}" for x in _T32 for m in _T32}
    return names


def _suffix(elem: str, allowed: Sequence[str], what: str, op: str) -> str:
    s = _SUFFIX.get(elem)
    if s is None or s not in allowed:
        raise KernelCallError(
            f"{op}: no runtime kernel for {what} element type {elem} (has {', '.join(allowed)})"
        )
    return s


def _contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= d
    return tuple(reversed(strides))


def _broadcast_strides(shape: Sequence[int], target: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a contiguous `shape` broadcast (numpy rules) to `target`."""
    if len(shape) > len(target):
        raise KernelCallError(f"shape {tuple(shape)} does not broadcast to {tuple(target)}")
    own = _contiguous_strides(shape)
    lead = len(target) - len(shape)
    out = [0] * lead
    for d, s, t in zip(shape, own, target[lead:], strict=True):
        if d == t and d != 1:
            out.append(s)
        elif d == 1:
            out.append(0)
        else:
            raise KernelCallError(f"shape {tuple(shape)} does not broadcast to {tuple(target)}")
    return tuple(out)


def _row_coefficient(dims: tuple[int, ...], strides: tuple[int, ...]) -> int | None:
    """The c with strides[i] == c * prod(dims[i + 1:]) for every dimension of size > 1 (so that
    row r of the row-major flattened dims is at r * c), or None when there is none."""
    c: int | None = None
    for d, s, p in zip(dims, strides, _contiguous_strides(dims), strict=True):
        if d == 1:
            continue
        if c is None:
            if s % p:
                return None
            c = s // p
        if s != c * p:
            return None
    return c or 0


def _row_plan(
    row_shape: tuple[int, ...], operand_strides: list[tuple[int, ...]]
) -> tuple[int, list[int], tuple[int, ...], list[tuple[int, ...]]]:
    """Splits the row dimensions into the longest suffix that one call covers (every operand's
    row r then starts at r * row_stride) and outer dimensions the caller loops over.

    Returns (rows per call, row stride per operand, outer dims, outer strides per operand)."""
    if 0 in row_shape:  # no rows: one call that does nothing
        return 0, [0] * len(operand_strides), (), [() for _ in operand_strides]
    for k in range(len(row_shape) + 1):
        coeffs = [_row_coefficient(row_shape[k:], strides[k:]) for strides in operand_strides]
        if all(c is not None for c in coeffs):
            keep = [i for i in range(k) if row_shape[i] != 1]
            outer = tuple(row_shape[i] for i in keep)
            outer_strides = [tuple(s[i] for i in keep) for s in operand_strides]
            return math.prod(row_shape[k:]), [c or 0 for c in coeffs], outer, outer_strides
    raise AssertionError("unreachable: the empty suffix is always covered")


def _i32(values: Sequence[int], op: str) -> list[tuple[int, int]]:
    for v in values:
        if not INT32_MIN <= v <= INT32_MAX:
            raise KernelCallError(f"{op}: argument {v} does not fit int32")
    return [(int(v), 32) for v in values]


def _rows_n(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, n) of a row-wise op: a 0-d tensor is one row of one element."""
    return (math.prod(shape[:-1]), shape[-1]) if shape else (1, 1)


def runtime_call(
    op_name: str,
    params: Mapping[str, int],
    in_types: list[TensorSig],
    out_type: TensorSig,
    mask_type: TensorSig | None = None,
) -> KernelCall:
    """The runtime kernel call of one qtfm op.

    `op_name` is e.g. "qtfm.softmax" (the "qtfm." prefix is optional); `params` the op's
    attribute fields (`attr.as_dict()`; {"axis": k} for mean, {} for ita_softmax); `in_types`
    the operands in op order without the mask; `out_type` the result; `mask_type` the mask of
    softmax / mean. Pointer arguments, then `scalars`, per op (rows = product of all but the
    last dimension, n = the last dimension; a 0-d tensor is rows = n = 1):

    - softmax:   (x, y; rows, n, coeff_a, coeff_b, coeff_c, log2, levels)
      masked:    (x, mask, y; rows, n, mask_row_stride, mask_col_stride, coeff_a, coeff_b,
                 coeff_c, log2, levels). A mask that does not broadcast along the rows as
                 `r * mask_row_stride` (e.g. [1, 1, S, S] on [1, H, S, S]) makes `outer`
                 non-empty: the caller loops (here over H, rows = S per call).
    - ita_softmax: (x, y; rows, n)
    - rmsnorm:   (x, weight, y; rows, n, shift, hi), hi = levels // 2 - 1
    - layernorm, layernorm_trunc: (x, weight, bias, y; rows, n, shift, hi)
    - gelu:      (x, y; rows, n, b, one)
    - hardswish: (x, y; rows, n, one_over_six, six, three)
    - div:       (x, y; rows, n, k), k = floor(delta * eta / (y * eta + eps))
    - int_div:   (a, b, y; rows, n, a_row_stride, a_col_stride, b_row_stride, b_col_stride,
                 delta, eps, eta) over the broadcast result [rows, n]; `outer` as for the mask.
    - mean:      (x, y; outer, len, inner) or (x, mask, y; outer, len, inner) with
                 outer = prod(shape[:axis]), len = shape[axis], inner = prod(shape[axis + 1:]).

    The norms read their weight and bias as int32_t: a narrower weight or bias (any of i8, ui8,
    i16, ui16) must be passed widened to int32; the function name does not depend on it.
    Raises KernelCallError for an op or type combination without a kernel.
    """
    op = op_name.removeprefix("qtfm.")
    x_shape, x_elem = in_types[0]
    y_shape, y_elem = out_type
    p = dict(params)

    if op == "softmax":
        sx = _suffix(x_elem, _T16, "input", op)
        sy = _suffix(y_elem, _T32, "result", op)
        coeffs = [p["coeff_a"], p["coeff_b"], p["coeff_c"], p["log2"], p["levels"]]
        rows, n = _rows_n(x_shape)
        if mask_type is None:
            return KernelCall(f"mote_softmax_{sx}_{sy}", _i32([rows, n, *coeffs], op))
        m_shape, m_elem = mask_type
        sm = _suffix(m_elem, _T32, "mask", op)
        name = f"mote_softmax_mask_{sx}_{sm}_{sy}"
        if not x_shape:
            return KernelCall(name, _i32([1, 1, 0, 0, *coeffs], op))
        m_strides = _broadcast_strides(m_shape, x_shape)
        x_strides = _contiguous_strides(x_shape)
        rows, (_, mrs, _), outer, (xo, mo, yo) = _row_plan(
            x_shape[:-1], [x_strides[:-1], m_strides[:-1], x_strides[:-1]]
        )
        return KernelCall(name, _i32([rows, n, mrs, m_strides[-1], *coeffs], op), outer, (xo, mo, yo))

    if op == "ita_softmax":
        sx = _suffix(x_elem, _T8, "input", op)
        sy = _suffix(y_elem, _ITA_OUT, "result", op)
        return KernelCall(f"mote_ita_softmax_{sx}_{sy}", _i32(list(_rows_n(x_shape)), op))

    if op in ("rmsnorm", "layernorm", "layernorm_trunc"):
        sx = _suffix(x_elem, _T8 if op == "layernorm_trunc" else _T16, "input", op)
        sy = _suffix(y_elem, _SIGNED_OUT, "result", op)
        for _shape, elem in in_types[1:]:
            _suffix(elem, _T32, "weight/bias", op)  # read as int32_t: the caller widens narrower ones
        rows, n = _rows_n(x_shape)
        hi = p["levels"] // 2 - 1
        return KernelCall(f"mote_{op}_{sx}_{sy}", _i32([rows, n, p["shift"], hi], op))

    if op in ("gelu", "hardswish", "div"):
        sx = _suffix(x_elem, _T32 if op == "div" else _T16, "input", op)
        _suffix(y_elem, ("i32",), "result", op)
        rows, n = _rows_n(x_shape)
        if op == "gelu":
            args = [p["b"], p["one"]]
        elif op == "hardswish":
            args = [p["one_over_six"], p["six"], p["three"]]
        else:
            args = [(p["delta"] * p["eta"]) // (p["y"] * p["eta"] + p["eps"])]
        return KernelCall(f"mote_{op}_{sx}_i32", _i32([rows, n, *args], op))

    if op == "int_div":
        (a_shape, a_elem), (b_shape, b_elem) = in_types
        sa = _suffix(a_elem, _T32, "lhs", op)
        sb = _suffix(b_elem, _T32, "rhs", op)
        _suffix(y_elem, ("i32",), "result", op)
        name = f"mote_int_div_{sa}_{sb}_i32"
        args = [p["delta"], p["eps"], p["eta"]]
        if not y_shape:
            return KernelCall(name, _i32([1, 1, 0, 0, 0, 0, *args], op))
        a_strides = _broadcast_strides(a_shape, y_shape)
        b_strides = _broadcast_strides(b_shape, y_shape)
        y_strides = _contiguous_strides(y_shape)
        rows, (ars, brs, _), outer, (ao, bo, yo) = _row_plan(
            y_shape[:-1], [a_strides[:-1], b_strides[:-1], y_strides[:-1]]
        )
        scalars = _i32([rows, y_shape[-1], ars, a_strides[-1], brs, b_strides[-1], *args], op)
        return KernelCall(name, scalars, outer, (ao, bo, yo))

    if op == "mean":
        sx = _suffix(x_elem, _T32, "input", op)
        if _SUFFIX.get(y_elem) != sx:
            raise KernelCallError(f"{op}: the result element type {y_elem} must be the input's {x_elem}")
        axis = p["axis"]
        sizes = [math.prod(x_shape[:axis]), x_shape[axis], math.prod(x_shape[axis + 1 :])]
        if mask_type is None:
            return KernelCall(f"mote_mean_{sx}_{sx}", _i32(sizes, op))
        sm = _suffix(mask_type[1], _T32, "mask", op)
        return KernelCall(f"mote_mean_mask_{sx}_{sm}_{sx}", _i32(sizes, op))

    raise KernelCallError(f"no runtime kernel for '{op_name}'")
