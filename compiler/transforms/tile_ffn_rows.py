"""`tile-ffn-rows{rows=16}`: the feed-forward block a tile of sequence rows at a time.

A transformer FFN widens every row to 4d (or two such projections, for SwiGLU), applies a
row-wise activation and projects back to d. This pass finds each such region: the ops that
lead, through wide values only, into a narrowing `qtfm.linear` (output narrower than its
input), back to the narrow values they start from. It then runs the region on `rows` rows at
a time and concatenates the results, so the L x 4d intermediates exist as rows x 4d. Every
region op is row-wise (linear layers, requantization, table lookups, elementwise arithmetic
with constants), so the result is bit-identical; a length that `rows` does not divide ends
with a shorter tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from compiler.errors import MoteError
from compiler.transforms.scheduling.row_tiles import (
    is_constant,
    requant_constant_along,
    row_axis,
    shape,
    tile_region,
)
from dialects import qtfm

ROW_WISE = (
    qtfm.LinearOp,
    qtfm.RequantOp,
    qtfm.LutOp,
    qtfm.AddOp,
    qtfm.MulOp,
    qtfm.GeluOp,
    qtfm.HardswishOp,
    qtfm.DivOp,
)


def ffn_region(down: qtfm.LinearOp) -> tuple[list[Operation], list[SSAValue]] | None:
    """The region that ends in the narrowing linear `down`, and its narrow inputs."""
    narrow = shape(down.result)[-1]
    if shape(down.input)[-1] <= narrow or len(shape(down.result)) < 2:
        return None
    length = shape(down.result)[row_axis(down.result)]
    members: set[Operation] = {down}
    inputs: list[SSAValue] = []
    pending = [down.input]
    seen: set[SSAValue] = set()
    while pending:
        v = pending.pop()
        if v in seen:
            continue
        seen.add(v)
        s = shape(v)
        wide = len(s) == len(shape(down.result)) and s[-2] == length and s[-1] != narrow
        producer = v.owner
        if not wide:
            if len(s) != len(shape(down.result)) or s[-2] != length:
                return None
            inputs.append(v)
            continue
        if not isinstance(producer, ROW_WISE):
            return None
        members.add(producer)
        for operand in producer.operands:
            if is_constant(operand):
                continue
            if operand is not producer.operands[0] and isinstance(producer, qtfm.LinearOp):
                return None  # a linear's weight or bias computed at run time
            pending.append(operand)
    block = down.parent_block()
    assert block is not None
    region = [op for op in block.ops if op in members]
    for op in region:
        if not requant_constant_along(op, row_axis(op.results[0])):
            return None
        for r in op.results:
            if r is not down.result and any(u.operation not in members for u in r.uses):
                return None  # a wide value is needed outside the FFN
    return region, inputs


@dataclass(frozen=True)
class TileFfnRows(ModulePass):
    name = "tile-ffn-rows"

    rows: int = 16

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.rows < 1:
            raise MoteError(f"tile-ffn-rows: rows must be >= 1, got {self.rows}")
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            for down in [o for o in f.body.block.ops if isinstance(o, qtfm.LinearOp)]:
                if down.parent is None:
                    continue
                found = ffn_region(down)
                if found is not None:
                    region, inputs = found
                    tile_region(region, inputs, down.result, self.rows)
