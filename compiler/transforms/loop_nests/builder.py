"""A small builder for loop nests in scf/arith/memref, so that kernel lowerings read like the
loops they produce: `b.loop(n, lambda b, i, acc: ...)`, `b.load(buf, [i, j])`, `b.add(x, y)`.

Index constants are created once per function (at its top), so that loop bodies stay short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, IntegerType, Signedness, i32, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.backend.cost_estimate import TRIP_COUNT_ATTR

INDEX = IndexType()

Body = Callable[["LoopBuilder", SSAValue, list[SSAValue]], Sequence[SSAValue] | None]


class LoopBuilder:
    """Inserts ops at one point (before `anchor`, or at the end of `block`)."""

    def __init__(
        self, point: InsertPoint, constants: dict[tuple[int, Attribute], SSAValue], top: InsertPoint
    ):
        self.point = point
        self.constants = constants
        self.top = top

    @staticmethod
    def before(op: Operation, top: InsertPoint, constants: dict) -> LoopBuilder:  # type: ignore[type-arg]
        return LoopBuilder(InsertPoint.before(op), constants, top)

    def emit(self, op: Operation) -> SSAValue:
        Rewriter.insert_op(op, self.point)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def emit_top(self, op: Operation) -> SSAValue:
        """Inserts a loop-invariant op (a constant table) at the top of the function."""
        Rewriter.insert_op(op, self.top)
        return op.results[0]

    # constants -------------------------------------------------------------------------
    def const(self, value: int, typ: Attribute = i32) -> SSAValue:
        key = (int(value), typ)
        if key not in self.constants:
            op = arith.ConstantOp(IntegerAttr(int(value), typ))  # type: ignore[arg-type]
            Rewriter.insert_op(op, self.top)
            self.constants[key] = op.result
        return self.constants[key]

    def idx(self, value: int) -> SSAValue:
        return self.const(value, INDEX)

    # loops -------------------------------------------------------------------------------
    def loop(
        self,
        upper: int | SSAValue,
        body: Body,
        iter_args: Sequence[SSAValue] = (),
        lower: int | SSAValue = 0,
        step: int = 1,
        expected_trips: int | None = None,
    ) -> list[SSAValue]:
        """`for i in range(lower, upper, step)` with loop-carried `iter_args`; returns their
        final values. A loop with at most one iteration is emitted as its body alone. A loop
        whose bounds are values (data-dependent) needs `expected_trips`, the typical number
        of iterations that the static cost estimate charges it for."""
        lb = self.idx(lower) if isinstance(lower, int) else lower
        ub = self.idx(upper) if isinstance(upper, int) else upper
        if isinstance(lower, int) and isinstance(upper, int) and upper - lower <= step:
            if upper <= lower:
                return list(iter_args)
            out = body(self, lb, list(iter_args))
            return list(out or [])
        block = Block(arg_types=[INDEX, *[v.type for v in iter_args]])
        inner = LoopBuilder(InsertPoint.at_end(block), self.constants, self.top)
        out = body(inner, block.args[0], list(block.args[1:]))
        block.add_op(scf.YieldOp(*(out or [])))
        op = scf.ForOp(lb, ub, self.idx(step), list(iter_args), block)
        if not (isinstance(lower, int) and isinstance(upper, int)):
            if expected_trips is None:
                raise ValueError("a loop with data-dependent bounds needs expected_trips")
            op.attributes[TRIP_COUNT_ATTR] = IntegerAttr(expected_trips, i64)
        self.emit(op)
        return list(op.results)

    def nest(self, shape: Sequence[int], body: Callable[[LoopBuilder, list[SSAValue]], None]) -> None:
        """Loops over every index of `shape` (row-major), no loop-carried values."""

        def level(b: LoopBuilder, depth: int, ivs: list[SSAValue]) -> None:
            if depth == len(shape):
                body(b, ivs)
                return
            b.loop(shape[depth], lambda bb, i, _: level(bb, depth + 1, [*ivs, i]))

        level(self, 0, [])

    # memory ------------------------------------------------------------------------------
    def load(self, buf: SSAValue, indices: Sequence[SSAValue]) -> SSAValue:
        return self.emit(memref.LoadOp.get(buf, list(indices)))

    def store(self, value: SSAValue, buf: SSAValue, indices: Sequence[SSAValue]) -> None:
        self.emit(memref.StoreOp.get(value, buf, list(indices)))

    # integer arithmetic --------------------------------------------------------------
    def add(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.AddiOp(a, b))

    def sub(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.SubiOp(a, b))

    def mul(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.MuliOp(a, b))

    def shrs(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.ShRSIOp(a, b))

    def maxs(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.MaxSIOp(a, b))

    def mins(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.MinSIOp(a, b))

    def widen(self, value: SSAValue, typ: IntegerType = i32) -> SSAValue:
        """Sign- or zero-extends an element (by its signedness) to a signless wider type."""
        src = value.type
        assert isinstance(src, IntegerType)
        if src == typ:
            return value
        if src.signedness.data == Signedness.UNSIGNED:
            return self.emit(arith.ExtUIOp(value, typ))
        if src.width.data == typ.width.data:
            return value
        return self.emit(arith.ExtSIOp(value, typ))

    def narrow(self, value: SSAValue, typ: Attribute) -> SSAValue:
        """Truncates a value (known to fit) to an element type."""
        if value.type == typ:
            return value
        return self.emit(arith.TruncIOp(value, typ))

    def to_index(self, value: SSAValue) -> SSAValue:
        return self.emit(arith.IndexCastOp(value, INDEX))

    def iadd(self, a: SSAValue, b: int) -> SSAValue:
        """Index `a + b` (b a constant), folding `+ 0`."""
        return a if b == 0 else self.add(a, self.idx(b))
