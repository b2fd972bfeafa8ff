"""The memory plan verifier that runs on every compile, on the final (loops) program.

It re-derives every arena buffer's lifetime from the IR that is about to become C, takes the
offsets written into the `tile.alloc`s and the arena size recorded on the module, and fails the
compilation if two buffers that are live at the same time share a byte, or if a buffer leaves
the arena. It shares no code with the planner's heuristics: a lowering that moved a use past
the planned lifetime, or a planner bug, is caught here rather than as corrupted outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp

from compiler.backend.arena_planner import Plan, PlanError, live_at_peak, verify_plan
from compiler.backend.buffer_lifetimes import arena_buffers
from compiler.transforms.plan_memory import ARENA_BYTES_ATTR, LOWER_BOUND_ATTR


@dataclass(frozen=True)
class LevelFigures:
    level: str
    arena_bytes: int
    lower_bound: int
    buffers: int
    live_at_peak: list[str]
    plan: list[dict[str, object]]
    """Every buffer: name, bytes, offset, first and last step (top-level op indices)."""


def _recorded(module: ModuleOp, attr: str) -> dict[str, int]:
    table = module.attributes.get(attr)
    if not isinstance(table, DictionaryAttr):
        return {}
    return {k: v.value.data for k, v in table.data.items() if isinstance(v, IntegerAttr)}


def check_memory(module: ModuleOp) -> list[LevelFigures]:
    """Verifies the static memory plan of every function; returns the figures per level."""
    sizes, bounds = _recorded(module, ARENA_BYTES_ATTR), _recorded(module, LOWER_BOUND_ATTR)
    figures: dict[str, LevelFigures] = {}
    for f in [o for o in module.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
        found = arena_buffers(f)
        for level in sorted({b.level for b in found}):
            mine = [b for b in found if b.level == level]
            if level not in sizes:
                raise PlanError(f"@{f.sym_name.data}: memory level {level} has buffers but no planned arena")
            offsets: dict[str, int] = {}
            for b in mine:
                if b.alloc.byte_offset is None:
                    raise PlanError(
                        f"@{f.sym_name.data}: buffer {b.buffer.name} has no offset (run plan-memory)"
                    )
                offsets[b.buffer.name] = b.alloc.byte_offset
            buffers = [b.buffer for b in mine]
            verify_plan(buffers, Plan(offsets, sizes[level], bounds.get(level, 0), "recorded"))
            _, names = live_at_peak(buffers)
            plan = [
                {"name": b.name, "bytes": b.size, "offset": offsets[b.name], "first": b.first, "last": b.last}
                for b in buffers
            ]
            figures[level] = LevelFigures(
                level, sizes[level], bounds.get(level, 0), len(buffers), names, plan
            )
    return [figures[k] for k in sorted(figures)]
