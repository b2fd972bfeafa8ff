"""`plan-memory`: give every arena buffer a static offset, per memory level.

Buffer lifetimes come from the schedule (the order of ops in the function); the arena planner
(compiler/backend/arena_planner.py) packs them, and the plan is checked independently before it
is written into the IR. The module records, per level, the arena size and the lower bound that
no plan of this schedule can beat (the largest total of simultaneously live buffers):

    builtin.module attributes {tile.arena_bytes = {L2 = 3072 : i64},
                               tile.arena_lower_bound = {L2 = 3072 : i64}} { ... }
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass

from compiler.backend.arena_planner import plan_arena, verify_plan
from compiler.backend.buffer_lifetimes import arena_buffers

ARENA_BYTES_ATTR = "tile.arena_bytes"
LOWER_BOUND_ATTR = "tile.arena_lower_bound"


@dataclass(frozen=True)
class PlanMemory(ModulePass):
    name = "plan-memory"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        sizes: dict[str, int] = {}
        bounds: dict[str, int] = {}
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            buffers = arena_buffers(f)
            for level in sorted({b.level for b in buffers}):
                mine = [b for b in buffers if b.level == level]
                plan = plan_arena([b.buffer for b in mine])
                verify_plan([b.buffer for b in mine], plan)
                for b in mine:
                    b.alloc.properties["offset"] = IntegerAttr(plan.offsets[b.buffer.name], i64)
                sizes[level] = max(sizes.get(level, 0), plan.arena_bytes)
                bounds[level] = max(bounds.get(level, 0), plan.lower_bound)
        op.attributes[ARENA_BYTES_ATTR] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in sizes.items()})
        op.attributes[LOWER_BOUND_ATTR] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in bounds.items()})
