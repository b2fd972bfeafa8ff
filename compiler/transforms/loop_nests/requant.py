"""Requantization in registers (docs/quantization.md section 2), chosen per op to be exact:

    y = clamp((acc * mul[c] + add[c] + r) >> shift, lo, hi)

computed in 32-bit arithmetic when the bound on the accumulator proves that no intermediate
leaves int32. Otherwise, wherever the bounds allow, with one multiply-high: for a j <= shift
such that every add is a multiple of 2^j,

    y = (mulh(acc << a, mul << b) + add / 2^j) >> (shift - j)      with a + b = 32 - j

is exact: the operands shifted left stay in int32, mulh(acc << a, mul << b) is
floor(acc * mul / 2^j), and floor((floor(P / 2^j) + A / 2^j) / 2^(s-j)) = floor((P + A) / 2^s)
when 2^j divides A. On RV32 that is mulh (5 cycles on CV32E40P), a shift and an add where the
64-bit product, its carries and the 64-bit shift took a dozen instructions. Failing that, in
64-bit. The rounding term is folded into `add` at compile time; per-channel `mul`/`add` become
small constant tables indexed by the channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, MemRefType, TensorType, i32, i64
from xdsl.ir import Attribute, SSAValue

from compiler.transforms.loop_nests.builder import LoopBuilder
from dialects import qtfm, tile

INT32_MAX = (1 << 31) - 1


def type_bound(typ: Attribute) -> int:
    """The largest magnitude of a value of an integer element type."""
    assert isinstance(typ, IntegerType)
    lo, hi = qtfm.int_range(typ)
    return max(-lo, hi)


def constant_table(b: LoopBuilder, values: list[int], typ: IntegerType) -> SSAValue:
    """A constant table (`tile.constant`, in flash) of `values`, made at the top of the function."""
    dense = DenseIntOrFPElementsAttr.from_list(TensorType(typ, [len(values)]), values)
    return b.emit_top(tile.ConstantOp(dense, MemRefType(typ, [len(values)])))


@dataclass(frozen=True)
class MulhPlan:
    """y = (mulh(acc << a, mul << b) + add >> j) >> (shift - j), a + b = 32 - j."""

    a: int
    b: int
    j: int


def _headroom(magnitude: int) -> int:
    """The largest s with magnitude * 2^s <= INT32_MAX (31 for 0)."""
    s = 0
    while s < 31 and magnitude << (s + 1) <= INT32_MAX:
        s += 1
    return s if magnitude <= INT32_MAX else -1


def mulh_plan(acc_bound: int, muls: list[int], adds: list[int], shift: int) -> MulhPlan | None:
    """The multiply-high form of a requantization (module docstring), if one is exact for
    every accumulator within `acc_bound`; `adds` include the rounding term."""
    # the accumulator is an int32 value whatever its bound says: unshifted it always fits
    acc_bound = min(acc_bound, 2**31)
    a_max = 0 if acc_bound >= INT32_MAX else _headroom(acc_bound)
    b_max = _headroom(max(abs(m) for m in muls))
    if b_max < 0:
        return None
    for j in range(min(shift, 32), -1, -1):
        if 32 - j > a_max + b_max:
            return None  # smaller j need even larger shifts
        if any(add % (1 << j) for add in adds):
            continue
        hi = (acc_bound * max(abs(m) for m in muls) >> j) + 1 + max(abs(add) >> j for add in adds)
        if hi > INT32_MAX:
            return None
        a = min(a_max, 32 - j)
        return MulhPlan(a, 32 - j - a, j)
    return None


class Requantizer:
    """Emits the requantization of one accumulator element; the tables are built once per op."""

    def __init__(self, b: LoopBuilder, q: qtfm.RequantAttr, acc_bound: int, out_type: Attribute) -> None:
        self.q = q
        self.out_type = out_type
        shift = q.shift.data
        rnd = (1 << (shift - 1)) if q.rounding.data == "half_up" and shift > 0 else 0
        self.muls = q.muls
        self.adds = [a + rnd for a in q.adds]
        worst = max(abs(m) for m in self.muls) * acc_bound + max(abs(a) for a in self.adds)
        self.wide = worst > INT32_MAX or shift > 30
        self.typ = i64 if self.wide else i32
        # after the shift the value is within worst >> shift: the clamp can run on 32 bits
        self.clamp_typ = i32 if (worst >> shift) <= INT32_MAX else self.typ
        self.shift = shift
        self.lo, self.hi = q.clamp_range()
        # multipliers fit int32: a 32-bit table, sign-extended when loaded, lets RV32 form the
        # 64-bit product with one mul and one mulh instead of a 64 x 64-bit multiplication
        narrow_muls = all(-(1 << 31) <= m <= INT32_MAX for m in self.muls)
        self.mul_type = i32 if narrow_muls else self.typ
        self.plan = mulh_plan(acc_bound, self.muls, self.adds, shift) if self.wide else None
        if self.plan is not None:  # 32-bit tables of mul << b and add >> j
            plan = self.plan
            self.muls = [m << plan.b for m in self.muls]
            self.adds = [add >> plan.j for add in self.adds]
            self.typ = self.mul_type = self.clamp_typ = i32
        self.mul_table = constant_table(b, self.muls, self.mul_type) if len(self.muls) > 1 else None
        self.add_table = constant_table(b, self.adds, self.typ) if len(self.adds) > 1 else None

    @property
    def axis(self) -> int | None:
        return self.q.channel_axis

    def apply(self, b: LoopBuilder, acc: SSAValue, channel: SSAValue | None) -> SSAValue:
        """`acc` is an exact i32 accumulator; `channel` the index along the requant axis."""
        if self.plan is not None:
            return self._clamp(b, self._apply_mulh(b, acc, channel, self.plan))
        v = b.widen(acc, self.typ)
        if self.mul_table is not None:
            assert channel is not None
            v = b.mul(v, b.widen(b.load(self.mul_table, [channel]), self.typ))
        elif self.muls[0] != 1:
            v = b.mul(v, b.const(self.muls[0], self.typ))
        if self.add_table is not None:
            assert channel is not None
            v = b.add(v, b.load(self.add_table, [channel]))
        elif self.adds[0] != 0:
            v = b.add(v, b.const(self.adds[0], self.typ))
        if self.shift:
            v = b.shrs(v, b.const(self.shift, self.typ))
        return self._clamp(b, v)

    def _apply_mulh(
        self, b: LoopBuilder, acc: SSAValue, channel: SSAValue | None, plan: MulhPlan
    ) -> SSAValue:
        x = b.widen(acc, i32)
        if plan.a:
            x = b.emit(arith.ShLIOp(x, b.const(plan.a)))
        if self.mul_table is not None:
            assert channel is not None
            m = b.load(self.mul_table, [channel])
        else:
            m = b.const(self.muls[0])
        product = b.mul(b.widen(x, i64), b.widen(m, i64))
        v = b.narrow(b.shrs(product, b.const(32, i64)), i32)  # the high word: one mulh
        if self.add_table is not None:
            assert channel is not None
            v = b.add(v, b.load(self.add_table, [channel]))
        elif self.adds[0] != 0:
            v = b.add(v, b.const(self.adds[0]))
        if self.shift - plan.j:
            v = b.shrs(v, b.const(self.shift - plan.j))
        return v

    def _clamp(self, b: LoopBuilder, v: SSAValue) -> SSAValue:
        v = b.narrow(v, self.clamp_typ)
        v = b.maxs(v, b.const(self.lo, self.clamp_typ))
        v = b.mins(v, b.const(self.hi, self.clamp_typ))
        return b.narrow(v, self.out_type)
