"""Requantization in registers (docs/quantization.md section 2), chosen per op to be exact:

    y = clamp((acc * mul[c] + add[c] + r) >> shift, lo, hi)

computed in 32-bit arithmetic when the bound on the accumulator proves that no intermediate
leaves int32, else in 64-bit (on RV32 that is a mul/mulh pair and a few carries). The rounding
term is folded into `add` at compile time; per-channel `mul`/`add` become small constant
tables indexed by the channel.
"""

from __future__ import annotations

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
        self.mul_table = constant_table(b, self.muls, self.mul_type) if len(self.muls) > 1 else None
        self.add_table = constant_table(b, self.adds, self.typ) if len(self.adds) > 1 else None

    @property
    def axis(self) -> int | None:
        return self.q.channel_axis

    def apply(self, b: LoopBuilder, acc: SSAValue, channel: SSAValue | None) -> SSAValue:
        """`acc` is an exact i32 accumulator; `channel` the index along the requant axis."""
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
        v = b.narrow(v, self.clamp_typ)
        v = b.maxs(v, b.const(self.lo, self.clamp_typ))
        v = b.mins(v, b.const(self.hi, self.clamp_typ))
        return b.narrow(v, self.out_type)
