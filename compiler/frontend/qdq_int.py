"""Integer building blocks of the QDQ importer: qtfm ops on a QtfmBuilder, exact wide
products, row statistics and a LayerNorm precise to about 1e-9.

Everything here is exact integer arithmetic within the limits docs/quantization.md sets:
operands of `matmul`/`linear` at most 16 bits, every product and sum within int32, a
`#qtfm.requant` computing `x * mul + add` in int64. Products wider than 32 bits (a row's
1/std, known to 30 bits, times a centred value) are split into 15- and 10-bit limbs and
recombined with exact floor divisions, so that the rounded result is the correctly rounded
value of the exact product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import IntegerAttr, IntegerType, Signedness, i32
from xdsl.ir import SSAValue

from compiler.frontend.qtfm_builder import QtfmBuilder, tensor
from dialects import qtfm

I8 = IntegerType(8)
UI8 = IntegerType(8, Signedness.UNSIGNED)
I16 = IntegerType(16)
UI16 = IntegerType(16, Signedness.UNSIGNED)
I32 = i32

RSQRT_BITS = 43
"""The rsqrt table holds 2^43 / sqrt(v) for v in [2^28, 2^30): values in (2^28, 2^29]."""
RSQRT_INDEX_SHIFT = 14


def type_range(elem: IntegerType) -> tuple[int, int]:
    return qtfm.int_range(elem)


def levels_of(elem: IntegerType) -> tuple[int, bool]:
    lo, hi = type_range(elem)
    return hi - lo + 1, lo < 0


class Ints:
    """Emits integer qtfm ops; every helper returns the new SSA value."""

    def __init__(self, b: QtfmBuilder) -> None:
        self.b = b
        self._count = 0

    # -- basics -------------------------------------------------------------------------------

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}.{self._count}"

    @staticmethod
    def shape(v: SSAValue) -> tuple[int, ...]:
        return tuple(v.type.get_shape())  # type: ignore[attr-defined]

    @staticmethod
    def elem(v: SSAValue) -> IntegerType:
        return v.type.element_type  # type: ignore[attr-defined]

    def weight(self, stem: str, values: np.ndarray, elem: IntegerType | None = None) -> SSAValue:
        """A fresh named weight; a scalar becomes shape (1,) (it only ever broadcasts)."""
        arr = np.asarray(values, np.int64)
        return self.b.weight(self.fresh(stem), arr.reshape(1) if arr.ndim == 0 else arr, elem)

    def requant(
        self,
        x: SSAValue,
        mul: int | Sequence[int],
        add: int | Sequence[int],
        shift: int,
        out: IntegerType,
        axis: int | None = None,
        rounding: str = "floor",
        levels: tuple[int, bool] | None = None,
    ) -> SSAValue:
        """`clamp((x * mul + add [+ rnd]) >> shift)` to the range of `out` (or to `levels`
        = (count, signed) within it)."""
        levels, signed = levels or levels_of(out)
        attr = qtfm.RequantAttr.get(_ints(mul), _ints(add), shift, levels, signed, axis, rounding)
        return self.b.add(
            qtfm.RequantOp.build(
                operands=[x], result_types=[tensor(self.shape(x), out)], properties={"params": attr}
            )
        )

    def cast(self, x: SSAValue, out: IntegerType, add: int = 0) -> SSAValue:
        """`x + add` in another type (exact where it fits, saturated otherwise)."""
        if add == 0 and self.elem(x) == out:
            return x
        return self.requant(x, 1, add, 0, out)

    def scale(self, x: SSAValue, k: int) -> SSAValue:
        """Exact `x * k` as i32."""
        return self.requant(x, k, 0, 0, I32)

    def floor_shift(self, x: SSAValue, k: int, add: int = 0) -> SSAValue:
        """`floor((x + add) / 2^k)` as i32."""
        return self.requant(x, 1, add, k, I32)

    def add(
        self, a: SSAValue, b: SSAValue, requant: qtfm.RequantAttr | None = None, out: IntegerType = I32
    ) -> SSAValue:
        shape = qtfm.broadcast_shapes(self.shape(a), self.shape(b))
        assert shape is not None, (self.shape(a), self.shape(b))
        props = {"requant": requant} if requant is not None else {}
        return self.b.add(
            qtfm.AddOp.build(operands=[a, b], result_types=[tensor(shape, out)], properties=props)
        )

    def mul(
        self, a: SSAValue, b: SSAValue, requant: qtfm.RequantAttr | None = None, out: IntegerType = I32
    ) -> SSAValue:
        shape = qtfm.broadcast_shapes(self.shape(a), self.shape(b))
        assert shape is not None, (self.shape(a), self.shape(b))
        props = {"requant": requant} if requant is not None else {}
        return self.b.add(
            qtfm.MulOp.build(operands=[a, b], result_types=[tensor(shape, out)], properties=props)
        )

    def sub(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(a, self.scale(b, -1))

    def lut(self, x: SSAValue, table: np.ndarray, out: IntegerType, stem: str = "lut") -> SSAValue:
        t = self.weight(stem, table, out)
        return self.b.add(qtfm.LutOp.build(operands=[x, t], result_types=[tensor(self.shape(x), out)]))

    def reshape(self, x: SSAValue, shape: Sequence[int]) -> SSAValue:
        if tuple(shape) == self.shape(x):
            return x
        return self.b.add(
            qtfm.ReshapeOp.build(operands=[x], result_types=[tensor(list(shape), self.elem(x))])
        )

    def transpose(self, x: SSAValue, perm: Sequence[int]) -> SSAValue:
        if list(perm) == list(range(len(perm))):
            return x
        shape = [self.shape(x)[p] for p in perm]
        return self.b.add(qtfm.TransposeOp(x, list(perm), tensor(shape, self.elem(x))))

    def slice(
        self, x: SSAValue, first: Sequence[int], stride: Sequence[int], size: Sequence[int]
    ) -> SSAValue:
        if list(first) == [0] * len(first) and list(size) == list(self.shape(x)):
            return x
        return self.b.add(
            qtfm.SliceOp.build(
                operands=[x],
                result_types=[tensor(list(size), self.elem(x))],
                properties={"starts": qtfm.i64_array(first), "strides": qtfm.i64_array(stride)},
            )
        )

    def concat(self, xs: Sequence[SSAValue], axis: int) -> SSAValue:
        shape = list(self.shape(xs[0]))
        shape[axis] = sum(self.shape(x)[axis] for x in xs)
        return self.b.add(
            qtfm.ConcatOp.build(
                operands=[list(xs)],
                result_types=[tensor(shape, self.elem(xs[0]))],
                properties={"axis": IntegerAttr(axis, 64)},
            )
        )

    def linear(
        self,
        x: SSAValue,
        w: SSAValue,
        bias: SSAValue | None,
        requant: qtfm.RequantAttr | None,
        out: IntegerType,
    ) -> SSAValue:
        shape = (*self.shape(x)[:-1], self.shape(w)[1])
        props = {"requant": requant} if requant is not None else {}
        return self.b.add(
            qtfm.LinearOp.build(operands=[x, w, bias], result_types=[tensor(shape, out)], properties=props)
        )

    def matmul(
        self, a: SSAValue, b: SSAValue, requant: qtfm.RequantAttr | None, out: IntegerType
    ) -> SSAValue:
        shape = qtfm.matmul_shape(self.shape(a), self.shape(b))
        assert shape is not None
        props = {"requant": requant} if requant is not None else {}
        return self.b.add(
            qtfm.MatmulOp.build(operands=[a, b], result_types=[tensor(shape, out)], properties=props)
        )

    def embedding(self, table: SSAValue, ids: SSAValue) -> SSAValue:
        shape = (*self.shape(ids), self.shape(table)[1])
        return self.b.add(
            qtfm.EmbeddingOp.build(operands=[table, ids], result_types=[tensor(shape, self.elem(table))])
        )

    # -- row statistics -----------------------------------------------------------------------

    def row_sum(self, x: SSAValue) -> SSAValue:
        """Sum over the last axis, keeping it with size 1 (i32)."""
        n = self.shape(x)[-1]
        ones = self.b.weight(f"ones.{n}", np.ones((n, 1), np.int64), I8)
        return self.linear(x, ones, None, None, I32)

    def row_sum_squares(self, x: SSAValue) -> SSAValue:
        """Sum of squares over the last axis, keeping it with size 1 (i32); x at most 16 bits."""
        shape = self.shape(x)
        a = self.reshape(x, (*shape[:-1], 1, shape[-1]))
        b = self.reshape(x, (*shape[:-1], shape[-1], 1))
        return self.reshape(self.matmul(a, b, None, I32), (*shape[:-1], 1))

    def floor_div_const(self, x: SSAValue, n: int, max_x: int) -> SSAValue:
        """Exact floor(x / n) for 0 <= x <= max_x (a multiply and a shift, verified)."""
        xs = np.arange(0, max_x + 1, dtype=np.int64)
        for k in range(62, 0, -1):
            m = -(-(1 << k) // n)
            if m >= 1 << 31:
                continue
            if np.array_equal((xs * m) >> k, xs // n):
                return self.requant(x, m, 0, k, I32)
        raise ValueError(f"no exact reciprocal of {n}")

    # -- wide products ------------------------------------------------------------------------

    def round_product(self, u: SSAValue, r_hi: SSAValue, r_lo: SSAValue, frac_bits: int) -> SSAValue:
        """round_half_up(u * R / 2^frac_bits) for R = r_hi * 2^15 + r_lo (0 <= r_lo < 2^15,
        0 <= r_hi < 2^15) and |u| < 2^21, exactly; i32. Needs 11 <= frac_bits <= 41."""
        assert 11 <= frac_bits <= 41
        a1 = self.floor_shift(u, 10)
        a0 = self.add(u, self.scale(a1, -1024))
        p11 = self.mul(a1, r_hi)
        p10 = self.mul(a1, r_lo)
        p01 = self.mul(a0, r_hi)
        p00 = self.mul(a0, r_lo)
        w = self.add(self.add(p10, self.scale(p01, 32)), self.floor_shift(p00, 10))
        if frac_bits <= 25:
            hi = self.scale(p11, 1 << (25 - frac_bits))
            lo = self.requant(w, 1, 0, frac_bits - 10, I32, rounding="half_up")
            return self.add(hi, lo)
        carry = self.floor_shift(w, 15, add=1 << (frac_bits - 11))
        return self.floor_shift(self.add(p11, carry), frac_bits - 25)

    def split15(self, r: SSAValue) -> tuple[SSAValue, SSAValue]:
        """(r >> 15, r & 0x7fff) of a non-negative i32."""
        hi = self.floor_shift(r, 15)
        return hi, self.add(r, self.scale(hi, -(1 << 15)))

    # -- centred statistics -------------------------------------------------------------------

    def centred(self, x: SSAValue, lo: int) -> tuple[SSAValue, SSAValue, SSAValue | None]:
        """For 8-bit rows x (type minimum `lo`), exactly: u = N*x - sum(x) (i32) and the
        variance numerator V = N*sum(e^2) - r^2 = N^2 var(x) (e = x - floor(mean),
        r = sum(x) - N*floor(mean)), as (u, v, big): V = v when `big` is None or 0, and
        V ~ 4v (floor(V/4) up to one unit) where `big` is 1, which happens only for rows
        of N > 362 values whose V reaches 2^29; v < 2^30 always."""
        n = self.shape(x)[-1]
        xp = self.cast(x, UI8, -lo) if lo != 0 else x
        s1 = self.row_sum(xp)
        m = self.floor_div_const(s1, n, n * 255)
        e = self.add(xp, self.scale(m, -1), qtfm.RequantAttr.get(1, 0, 0, 1 << 16, True), I16)
        r = self.add(s1, self.scale(m, -n))
        u = self.add(self.scale(e, n), self.scale(r, -1))
        sq = self.row_sum_squares(e)
        r2 = self.mul(r, r)
        if n * n * 16384 < 1 << 30:
            return u, self.add(self.scale(sq, n), self.scale(r2, -1)), None
        quarter = self.add(self.requant(sq, n, 0, 2, I32), self.scale(self.floor_shift(r2, 2, 3), -1))
        big = self.requant(quarter, 1, 0, 27, UI8, levels=(2, False))
        small = self.add(self.requant(sq, n, 0, 0, I32, levels=(1 << 31, True)), self.scale(r2, -1))
        keep = self.requant(big, -1, 1, 0, UI8, levels=(2, False))
        v = self.add(self.mul(small, keep), self.mul(quarter, big))
        return u, v, big

    def rsqrt(self, v: SSAValue) -> tuple[SSAValue, SSAValue]:
        """For 1 <= v < 2^30 (per row): (2^j, R) with 4^j v in [2^28, 2^30) and
        R = 2^43 / sqrt(4^j v) to about 1e-9 (table of 49152 entries plus linear
        interpolation)."""
        shape = self.shape(v)
        flags = [self.requant(v, 1, 0, 30 - 2 * t, UI8, levels=(2, False)) for t in range(1, 15)]
        count = self.row_sum(self.concat(flags, len(shape) - 1))
        count8 = self.cast(count, UI8)
        pow2 = np.zeros(256, np.int64)
        pow4 = np.zeros(256, np.int64)
        for c in range(15):
            pow2[c] = 1 << (14 - c)
            pow4[c] = 1 << (28 - 2 * c)
        p2 = self.lut(count8, pow2, I32, "rsqrt.pow2")
        p4 = self.lut(count8, pow4, I32, "rsqrt.pow4")
        vn = self.mul(v, p4)
        idx = self.requant(vn, 1, -(1 << 28), RSQRT_INDEX_SHIFT, I32)
        frac = self.add(vn, self.requant(idx, -(1 << RSQRT_INDEX_SHIFT), -(1 << 28), 0, I32))
        table, slope = rsqrt_tables()
        t_w = self.b.weight("rsqrt.table", table.reshape(-1, 1), I32)
        d_w = self.b.weight("rsqrt.slope", slope.reshape(-1, 1), I32)
        t0 = self.reshape(self.embedding(t_w, idx), shape)
        d0 = self.reshape(self.embedding(d_w, idx), shape)
        r = self.add(t0, self.floor_shift(self.mul(d0, frac), RSQRT_INDEX_SHIFT))
        return p2, r


def rsqrt_tables() -> tuple[np.ndarray, np.ndarray]:
    """T[i] = round(2^43 / sqrt((i + 2^14) * 2^14)) and T[i+1] - T[i], i < 3 * 2^14."""
    n = 3 << RSQRT_INDEX_SHIFT
    knots = (np.arange(n + 1, dtype=np.float64) + (1 << RSQRT_INDEX_SHIFT)) * 2.0**RSQRT_INDEX_SHIFT
    t = np.round(2.0**RSQRT_BITS / np.sqrt(knots)).astype(np.int64)
    return t[:-1], t[1:] - t[:-1]


def _ints(v: int | Sequence[int]) -> int | list[int]:
    if isinstance(v, (int, np.integer)):
        return int(v)
    return [int(x) for x in v]


def check_fits(what: str, value: float, bits: int = 31) -> None:
    if not math.isfinite(value) or abs(value) >= 2.0**bits:
        raise ValueError(f"{what} ({value:g}) does not fit {bits + 1} bits")
