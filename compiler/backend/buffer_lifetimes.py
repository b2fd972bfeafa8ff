"""When each arena buffer of a function is live, read off the IR at any stage after bufferization.

A buffer (`tile.alloc`) is live from the first to the last top-level op of its function that
touches it, directly or through `tile.view`/`tile.window` aliases, counting ops nested in loops
as their top-level ancestor. The planner places buffers with these lifetimes and the plan
checker re-derives them from the final IR, so a lowering that moved a use is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xdsl.dialects import func
from xdsl.ir import Operation, SSAValue

from compiler.backend.arena_planner import Buffer
from dialects import tile

ALIGN = 4
"""Arena buffers start on 4-byte boundaries: every element type in the arena is at most 32 bits."""


@dataclass(frozen=True)
class ArenaBuffer:
    alloc: tile.AllocOp
    buffer: Buffer

    @property
    def level(self) -> str:
        return self.alloc.level.level.data


def _top_level(op: Operation, body: Mapping[Operation, int]) -> Operation:
    while op.parent_op() is not None and op not in body:
        parent = op.parent_op()
        assert parent is not None
        op = parent
    return op


def arena_buffers(f: func.FuncOp) -> list[ArenaBuffer]:
    """The function's `tile.alloc`s with their lifetimes in top-level op indices."""
    body = list(f.body.block.ops)
    index = {op: i for i, op in enumerate(body)}
    result: list[ArenaBuffer] = []
    for i, op in enumerate(body):
        if not isinstance(op, tile.AllocOp):
            continue
        first, last = None, i
        pending: list[SSAValue] = [op.result]
        while pending:
            value = pending.pop()
            for use in value.uses:
                user = use.operation
                if isinstance(user, tile.ViewOp | tile.WindowOp):
                    pending.append(user.result)
                    continue
                at = index[_top_level(user, index)]
                first = at if first is None else min(first, at)
                last = max(last, at)
        name = op.result.name_hint or f"buffer{i}"
        size = tile.memref_bytes(op.result.type)
        buf = Buffer(f"{name}#{i}", size, i if first is None else first, last, ALIGN)
        result.append(ArenaBuffer(op, buf))
    return result
