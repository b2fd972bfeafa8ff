"""`tile-embedding-rows{rows=16}`: the embedding stage a tile of sequence rows at a time.

A transformer starts by looking its token ids up in the embedding table and adding position
and token-type embeddings (constants once the frontend has folded them) before a norm; every
one of these ops is row-wise. Left whole, the stage holds several L x d tensors at once (the
lookup, each sum in 16 or 32 bits) and is the peak of a row-tiled model. This pass finds, from
each function argument that an embedding lookup reads as ids, the row-wise region that
`tile-layer-rows` would find from a layer input (it ends where a layer needs its input
whole), and runs it `rows` ids at a time: the tiles' results are concatenated, and since each
tile is computed straight into its rows of the concatenation, only the stage's output exists
whole. Bit-identical; a length that `rows` does not divide ends with a shorter tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import BlockArgument, Use
from xdsl.passes import ModulePass

from compiler.errors import MoteError
from compiler.transforms.scheduling.row_tiles import shape
from compiler.transforms.tile_layer_rows import LOOKUPS, layer_region, tile_layer


def _looks_up(use: Use) -> bool:
    """Whether the use is as the ids of an embedding lookup (plain or clustered)."""
    op = use.operation
    return isinstance(op, LOOKUPS) and op.ids is op.operands[use.index]


@dataclass(frozen=True)
class TileEmbeddingRows(ModulePass):
    name = "tile-embedding-rows"

    rows: int = 16

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.rows < 1:
            raise MoteError(f"tile-embedding-rows: rows must be >= 1, got {self.rows}")
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            block = f.body.block
            ids = [arg for arg in block.args if shape(arg) and any(_looks_up(u) for u in arg.uses)]
            for arg in ids:
                assert isinstance(arg, BlockArgument)
                found = layer_region(block, arg, len(shape(arg)) - 1)
                if found is not None:
                    region, axis, tiled = found
                    tile_layer(region, axis, tiled, arg, self.rows)
