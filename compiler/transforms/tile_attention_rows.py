"""`tile-attention-rows{rows=16}`: attention one tile of query rows at a time.

`softmax(Q K^T) V` is row-wise in the queries: each row of the scores needs one query row and
all keys. This pass finds the chain `matmul(Q, K^T) -> [requant] -> softmax -> [requant] ->
matmul(P, V)` and computes it for `rows` query rows at a time (per head, as the batch
dimensions already are), concatenating the context rows. The L x L score and probability
matrices never exist, only `rows x L` tiles of them; K^T and V are computed once per layer and
shared by every tile; a causal mask is sliced with its rows. Bit-identical to the untiled
program (same integer operations per row); a length that `rows` does not divide ends with a
shorter tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from compiler.transforms.scheduling.row_tiles import requant_constant_along, row_axis, shape, tile_region
from dialects import qtfm

ROW_WISE = (qtfm.RequantOp, qtfm.LutOp)


def _only_user(v: SSAValue) -> Operation | None:
    uses = list(v.uses)
    return uses[0].operation if len(uses) == 1 else None


def attention_chain(scores: qtfm.MatmulOp) -> tuple[list[Operation], list[SSAValue]] | None:
    """The ops from `scores = Q K^T` to `P V` and the values to slice, or None."""
    region: list[Operation] = [scores]
    op = _only_user(scores.result)
    while isinstance(op, ROW_WISE):
        region.append(op)
        op = _only_user(op.results[0])
    if not isinstance(op, qtfm.SoftmaxOp) or op.input is not region[-1].results[0]:
        return None
    softmax = op
    region.append(softmax)
    op = _only_user(softmax.result)
    while isinstance(op, ROW_WISE):
        region.append(op)
        op = _only_user(op.results[0])
    if not isinstance(op, qtfm.MatmulOp) or op.lhs is not region[-1].results[0]:
        return None
    region.append(op)
    if not all(requant_constant_along(o, row_axis(o.results[0])) for o in region):
        return None
    tiled = [scores.lhs] + ([softmax.mask] if softmax.mask is not None else [])
    if softmax.mask is not None and len(softmax.mask.type.get_shape()) < 2:  # type: ignore[attr-defined]
        return None
    return region, tiled


@dataclass(frozen=True)
class TileAttentionRows(ModulePass):
    name = "tile-attention-rows"

    rows: int = 16

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.rows < 1:
            from compiler.errors import MoteError

            raise MoteError(f"tile-attention-rows: rows must be >= 1, got {self.rows}")
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            # first one chain per head (so that each head's context rows are contiguous in the
            # result and its tiles can be computed in place), then row tiles within each head
            for scores in [o for o in f.body.block.ops if isinstance(o, qtfm.MatmulOp)]:
                found = attention_chain(scores) if scores.parent is not None else None
                if found is not None and len(shape(scores.lhs)) >= 3:
                    region, tiled = found
                    kt, v = scores.rhs, region[-1].operands[1]
                    tile_region(region, [*tiled, kt, v], region[-1].results[0], 1, from_end=3)
            for scores in [o for o in f.body.block.ops if isinstance(o, qtfm.MatmulOp)]:
                found = attention_chain(scores) if scores.parent is not None else None
                if found is not None:
                    region, tiled = found
                    tile_region(region, tiled, region[-1].results[0], self.rows)
