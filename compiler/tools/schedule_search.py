"""Choosing the schedule under a RAM budget (`mote compile --ram-budget BYTES`).

The candidates are the unscheduled program and row tilings (embedding stage, layers,
attention and FFN) of decreasing tile heights: fewer rows per tile means less RAM (the L x L
scores and L x 4d intermediates shrink to rows x L and rows x 4d) and usually a little more
work (slices, per-tile calls, register blocks that rows no longer fill). Each candidate is
lowered and planned; its planned RAM is the arena plus the model's input and output buffers,
and its cost the static cycle estimate of the lowered program from the target's instruction
costs (compiler/backend/cost_estimate.py). The search keeps the cheapest candidate that fits the
budget: it bisects for the largest tiles that fit (planned RAM shrinks with the tiles) and
walks on to smaller tiles while they are cheaper. Without a budget, the budget
is the target's RAM less its stack reservation. When nothing fits, compilation fails with the
smallest figure any candidate achieved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp

from compiler.backend.cost_estimate import estimate_cycles
from compiler.backend.footprint import tensor_bytes
from compiler.backend.memory_check import check_memory
from compiler.backend.target import Target
from compiler.errors import MoteError
from compiler.reference.interpreter import entry_function
from compiler.tools.pipeline import lowering_pipeline, run_pipeline

ROW_CANDIDATES = (None, 128, 64, 32, 16, 8, 4, 2, 1)
RECOMPUTE_CANDIDATES = (64, 32, 16, 8, 4, 2, 1)
"""Query tile heights tried with K/V recomputed per key tile, when nothing else fits."""
KEY_ROWS = 32
"""Key rows per recomputed tile of K and V."""


def schedule_pipeline(rows: int | None, key_rows: int = 0) -> str:
    """The scheduling passes for a row tile height (none for the unscheduled program), with
    K and V recomputed `key_rows` rows at a time when `key_rows` > 0."""
    if rows is None:
        return ""
    layer = f"rows={rows} recompute_kv={key_rows}" if key_rows else f"rows={rows}"
    return (
        f"tile-embedding-rows{{rows={rows}}},tile-layer-rows{{{layer}}},"
        f"tile-attention-rows{{rows={rows}}},tile-ffn-rows{{rows={rows}}}"
    )


def io_bytes(module: ModuleOp) -> int:
    """Bytes of the model's input and output buffers (the caller's, outside the arena)."""
    f = entry_function(module)
    return sum(tensor_bytes(t) for t in (*f.function_type.inputs.data, *f.function_type.outputs.data))


@dataclass(frozen=True)
class Candidate:
    rows: int | None
    planned_ram_bytes: int
    arena_bytes: int
    estimated_cycles: int
    key_rows: int = 0
    """> 0: K and V recomputed per key tile of this many rows."""


def evaluate(module: ModuleOp, rows: int | None, target: Target, key_rows: int = 0) -> Candidate:
    trial = module.clone()
    spec = ",".join(p for p in (schedule_pipeline(rows, key_rows), lowering_pipeline(target)) if p)
    run_pipeline(trial, spec)
    arena = sum(level.arena_bytes for level in check_memory(trial))
    cycles = estimate_cycles(trial, target).cycles
    return Candidate(rows, arena + io_bytes(module), arena, cycles, key_rows)


def choose_schedule(
    module: ModuleOp, budget: int, target: Target, candidates: Sequence[int | None] = ROW_CANDIDATES
) -> tuple[Candidate, list[Candidate]]:
    """The cheapest candidate whose planned RAM fits `budget`, and every candidate evaluated.
    When no row tiling fits, the same search runs with K and V recomputed per key tile
    (less RAM for more compute: only where the budget demands it)."""
    tried: list[Candidate] = []
    for key_rows, heights in ((0, candidates), (KEY_ROWS, RECOMPUTE_CANDIDATES)):
        best, seen = _search(module, budget, target, heights, key_rows)
        tried += seen
        if best is not None:
            return best, tried
    smallest = min(tried, key=lambda c: c.planned_ram_bytes)
    recompute = f", K/V recomputed per {smallest.key_rows} keys" if smallest.key_rows else ""
    raise MoteError(
        f"no schedule fits the RAM budget of {budget} bytes: the smallest planned RAM is "
        f"{smallest.planned_ram_bytes} bytes (arena {smallest.arena_bytes} + inputs/outputs "
        f"{smallest.planned_ram_bytes - smallest.arena_bytes}), with layers in tiles of "
        f"{smallest.rows} rows{recompute}"
    )


def _search(
    module: ModuleOp, budget: int, target: Target, candidates: Sequence[int | None], key_rows: int
) -> tuple[Candidate | None, list[Candidate]]:
    """Planned RAM shrinks as tiles do, so a bisection over `candidates` (largest tiles first)
    finds the first that fits without lowering the small tile heights, whose programs are
    the largest; from there the search walks on to smaller tiles while they get cheaper."""
    seen: dict[int, Candidate] = {}

    def at(i: int) -> Candidate:
        if i not in seen:
            seen[i] = evaluate(module, candidates[i], target, key_rows)
        return seen[i]

    lo, hi = 0, len(candidates) - 1
    while lo < hi:  # the first candidate that fits, if any, is in [lo, hi]
        mid = (lo + hi) // 2
        if at(mid).planned_ram_bytes <= budget:
            hi = mid
        else:
            lo = mid + 1
    if at(lo).planned_ram_bytes <= budget:
        j = lo  # smaller tiles still fit: walk on while they are cheaper
        while j + 1 < len(candidates) and at(j + 1).estimated_cycles < at(j).estimated_cycles:
            j += 1
        tried = [seen[i] for i in sorted(seen)]
        fitting = [c for c in tried if c.planned_ram_bytes <= budget]
        return min(fitting, key=lambda c: c.estimated_cycles), tried
    return None, [seen[i] for i in sorted(seen)]
