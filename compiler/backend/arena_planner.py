"""Static arena planner: gives every intermediate buffer of a scheduled program a byte offset in
one arena, so the C targets need no allocator and the arena size is known at compile time.

Buffers whose lifetimes (inclusive ranges of schedule steps) intersect must not share bytes.
Finding the smallest arena is NP-hard (dynamic storage allocation), so the planner runs several
greedy heuristics and keeps the smallest result:

* `greedy_by_size`, TensorFlow Lite Micro's planner: largest buffer first, each at the lowest
  offset that fits among the already placed buffers it is live with. It is the baseline, and
  `plan_arena` never does worse than it.
* the same with the smallest fitting gap ("best fit", Pisarchyk & Lee 2020) and a compaction
  pass, with longer lifetimes first among equal sizes, by size x lifetime, and "greedy by
  breadth" (Pisarchyk & Lee): the buffers of the widest step first.
* then, unless a plan already meets the lower bound, a bounded squeaky-wheel search that
  re-places the buffers in an order where those that ended above the bound come earlier.

Each buffer occupies its size rounded up to its alignment, so `Plan.arena_bytes` is never below
`Plan.lower_bound`, the largest total of such sizes live at one step; a plan that meets the
bound is optimal and ends the search.

The lifetime conflict graph is built once by a sweep over the steps, so placing a buffer costs
time in the number of buffers it is live with, not in the number of buffers. `verify_plan`
checks a plan without sharing any code with the heuristics.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from compiler.errors import MoteError


@dataclass(frozen=True)
class Buffer:
    """`size` bytes live at schedule steps `first`..`last` inclusive, at a multiple of `align`."""

    name: str
    size: int
    first: int
    last: int
    align: int = 8


@dataclass(frozen=True)
class Plan:
    offsets: dict[str, int]
    arena_bytes: int
    lower_bound: int
    heuristic: str


class PlanError(MoteError):
    """A malformed set of buffers, or a plan that does not keep live buffers apart."""


def align_up(x: int, align: int) -> int:
    return -(-x // align) * align


# --- the problem, validated and indexed ----------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """The non-empty buffers (index i), sizes rounded to alignment, and who is live with whom."""

    names: list[str]
    sizes: list[int]
    aligns: list[int]
    firsts: list[int]
    lasts: list[int]
    neighbours: list[list[int]]
    steps: list[int]  # the distinct first steps, where live totals can grow
    breadth: list[int]  # total size live at each of `steps`
    span: list[tuple[int, int]]  # each buffer's lifetime as an index range into `steps`


def _validate(buffers: Sequence[Buffer]) -> None:
    seen: set[str] = set()
    for b in buffers:
        if b.name in seen:
            raise PlanError(f"two buffers are named '{b.name}'")
        seen.add(b.name)
        if b.size < 0 or b.align < 1 or b.first > b.last:
            raise PlanError(
                f"buffer '{b.name}' is malformed: size {b.size}, align {b.align}, steps {b.first}..{b.last}"
            )


def _conflicts(firsts: list[int], lasts: list[int]) -> list[list[int]]:
    """Pairs of intersecting lifetimes, by a sweep in order of first step: O(n log n + pairs)."""
    neighbours: list[list[int]] = [[] for _ in firsts]
    active: list[int] = []
    for i in sorted(range(len(firsts)), key=lambda k: (firsts[k], k)):
        f = firsts[i]
        active = [j for j in active if lasts[j] >= f]
        for j in active:
            neighbours[i].append(j)
            neighbours[j].append(i)
        active.append(i)
    return neighbours


def _breadth(steps: list[int], span: list[tuple[int, int]], sizes: list[int]) -> list[int]:
    diff = [0] * (len(steps) + 1)
    for (lo, hi), size in zip(span, sizes, strict=True):
        diff[lo] += size
        diff[hi + 1] -= size
    total, out = 0, []
    for d in diff[:-1]:
        total += d
        out.append(total)
    return out


def _problem(buffers: Sequence[Buffer]) -> _Problem:
    _validate(buffers)
    live = [b for b in buffers if b.size > 0]
    sizes = [align_up(b.size, b.align) for b in live]
    firsts = [b.first for b in live]
    lasts = [b.last for b in live]
    steps = sorted(set(firsts))
    index = {s: k for k, s in enumerate(steps)}
    span = [(index[f], bisect_right(steps, last) - 1) for f, last in zip(firsts, lasts, strict=True)]
    return _Problem(
        names=[b.name for b in live],
        sizes=sizes,
        aligns=[b.align for b in live],
        firsts=firsts,
        lasts=lasts,
        neighbours=_conflicts(firsts, lasts),
        steps=steps,
        breadth=_breadth(steps, span, sizes),
        span=span,
    )


def live_at_peak(buffers: Sequence[Buffer]) -> tuple[int, list[str]]:
    """The earliest step where the live total reaches the lower bound, and the non-empty buffers
    live there, largest first (ties in input order). `(0, [])` when no buffer has bytes."""
    p = _problem(buffers)
    if not p.steps:
        return 0, []
    peak = max(range(len(p.steps)), key=lambda k: (p.breadth[k], -k))
    live = [i for i, (lo, hi) in enumerate(p.span) if lo <= peak <= hi]
    live.sort(key=lambda i: (-p.sizes[i], i))
    return p.steps[peak], [p.names[i] for i in live]


def _lower_bound(p: _Problem) -> int:
    return max(p.breadth, default=0)


# --- orders in which the heuristics place buffers --------------------------------------------------


def _by_size(p: _Problem) -> list[int]:
    return sorted(range(len(p.sizes)), key=lambda i: (-p.sizes[i], i))


def _by_size_longest(p: _Problem) -> list[int]:
    return sorted(range(len(p.sizes)), key=lambda i: (-p.sizes[i], p.firsts[i] - p.lasts[i], i))


def _by_area(p: _Problem) -> list[int]:
    def area(i: int) -> int:
        return p.sizes[i] * (p.span[i][1] - p.span[i][0] + 1)

    return sorted(range(len(p.sizes)), key=lambda i: (-area(i), -p.sizes[i], i))


def _range_min(values: list[int]) -> Callable[[int, int], int]:
    """Minimum of values[lo..hi] in O(1) after an O(n log n) sparse table."""
    table = [values]
    width = 1
    while 2 * width <= len(values):
        prev = table[-1]
        table.append([min(prev[k], prev[k + width]) for k in range(len(prev) - width)])
        width *= 2

    def query(lo: int, hi: int) -> int:
        level = (hi - lo + 1).bit_length() - 1
        row = table[level]
        return min(row[lo], row[hi - (1 << level) + 1])

    return query


def _by_breadth(p: _Problem) -> list[int]:
    """Steps from the widest down; at each, the unplaced buffers live there, largest first. A
    buffer is placed at the widest step of its lifetime, so sorting by that step's rank suffices."""
    ranked = sorted(range(len(p.steps)), key=lambda k: (-p.breadth[k], k))
    rank = [0] * len(p.steps)
    for r, k in enumerate(ranked):
        rank[k] = r
    widest = _range_min(rank) if rank else None
    key = [widest(lo, hi) for lo, hi in p.span] if widest else []
    return sorted(range(len(p.sizes)), key=lambda i: (key[i], -p.sizes[i], i))


# --- placing buffers one by one ----------------------------------------------------------------------


@dataclass
class _Layout:
    """Offsets (-1 until placed) and end offsets of the buffers of a problem."""

    offsets: list[int]
    ends: list[int]

    def taken(self, neighbours: list[int]) -> list[int]:
        """The placed buffers among `neighbours`, lowest first."""
        offsets = self.offsets
        placed = [j for j in neighbours if offsets[j] >= 0]
        placed.sort(key=offsets.__getitem__)
        return placed


def _first_fit(layout: _Layout, taken: list[int], size: int, align: int) -> int:
    """The lowest aligned offset where `size` bytes miss the `taken` buffers (sorted by offset)."""
    offsets, ends = layout.offsets, layout.ends
    at = 0
    for j in taken:
        if at + size <= offsets[j]:
            return at
        if ends[j] > at:
            at = -(-ends[j] // align) * align
    return at


def _best_fit(layout: _Layout, taken: list[int], size: int, align: int) -> int:
    """The start of the smallest gap between `taken` buffers that holds `size` bytes, else the
    offset above them all."""
    offsets, ends = layout.offsets, layout.ends
    at, best, best_gap = 0, -1, -1
    for j in taken:
        gap = offsets[j] - at
        if gap >= size and (best < 0 or gap < best_gap):
            best, best_gap = at, gap
        if ends[j] > at:
            at = -(-ends[j] // align) * align
    return best if best >= 0 else at


Fit = Callable[[_Layout, list[int], int, int], int]
Order = Callable[[_Problem], list[int]]


def _place(p: _Problem, order: list[int], fit: Fit) -> list[int]:
    """Offsets of the buffers placed one by one in `order`, each by `fit` among the placed
    buffers it is live with."""
    layout = _Layout([-1] * len(p.sizes), [0] * len(p.sizes))
    sizes, aligns, neighbours = p.sizes, p.aligns, p.neighbours
    for i in order:
        at = fit(layout, layout.taken(neighbours[i]), sizes[i], aligns[i])
        layout.offsets[i], layout.ends[i] = at, at + sizes[i]
    return layout.offsets


def _compact(p: _Problem, offsets: list[int]) -> list[int]:
    """Lower every buffer, lowest first, to the lowest offset its neighbours leave free. No buffer
    moves up, so the arena does not grow."""
    layout = _Layout(list(offsets), [o + s for o, s in zip(offsets, p.sizes, strict=True)])
    sizes, aligns, neighbours = p.sizes, p.aligns, p.neighbours
    for i in sorted(range(len(offsets)), key=lambda k: (offsets[k], k)):
        at = _first_fit(layout, layout.taken(neighbours[i]), sizes[i], aligns[i])
        if at < layout.offsets[i]:
            layout.offsets[i], layout.ends[i] = at, at + sizes[i]
    return layout.offsets


def _arena(p: _Problem, offsets: list[int]) -> int:
    return max((o + s for o, s in zip(offsets, p.sizes, strict=True)), default=0)


@dataclass(frozen=True)
class _Heuristic:
    order: Order
    fit: Fit
    compact: bool = False  # best fit leaves buffers above free gaps; compaction lowers them


HEURISTICS: dict[str, _Heuristic] = {
    "greedy_by_size": _Heuristic(_by_size, _first_fit),
    "greedy_by_size_best_fit": _Heuristic(_by_size, _best_fit, compact=True),
    "greedy_by_size_longest_first": _Heuristic(_by_size_longest, _first_fit),
    "greedy_by_breadth": _Heuristic(_by_breadth, _first_fit),
    "greedy_by_area": _Heuristic(_by_area, _first_fit),
}

# The squeaky-wheel search re-places at most this many times, visiting at most this many
# neighbours in all, so that its time is bounded whatever the size of the program.
SEARCH_ROUNDS = 200
SEARCH_WORK = 3_000_000


@dataclass(frozen=True)
class _Result:
    arena: int
    offsets: list[int]
    name: str
    order: list[int]
    heuristic: _Heuristic


def _run(p: _Problem, name: str, order: list[int], h: _Heuristic) -> _Result:
    offsets = _place(p, order, h.fit)
    if h.compact:
        offsets = _compact(p, offsets)
    return _Result(_arena(p, offsets), offsets, name, order, h)


def _reprioritise(p: _Problem, last: _Result, bound: int, rng: random.Random) -> list[int]:
    """Move the buffers that ended above the lower bound forward in the order, the further the
    higher they ended, each by a random fraction of that so that the search does not cycle."""
    n, excess = len(last.order), max(1, last.arena - bound)
    key = [0.0] * n
    for pos, i in enumerate(last.order):
        blame = max(0, last.offsets[i] + p.sizes[i] - bound) / excess
        key[i] = pos - n * blame * rng.random()
    return sorted(last.order, key=key.__getitem__)


def _squeaky_wheel(p: _Problem, start: _Result, bound: int) -> _Result:
    """Squeaky-wheel optimisation (Joslin & Clements 1999) from the best greedy plan: place again
    in an order where the buffers that ended high come earlier; keep the best plan seen. Seeded,
    so deterministic."""
    cost = (len(p.sizes) + sum(map(len, p.neighbours))) * (2 if start.heuristic.compact else 1)
    rounds = min(SEARCH_ROUNDS, SEARCH_WORK // max(1, cost))
    rng = random.Random(0)
    name = f"{start.name}+squeaky_wheel"
    best = last = start
    for _ in range(rounds):
        if best.arena == bound:
            break
        last = _run(p, name, _reprioritise(p, last, bound, rng), start.heuristic)
        if last.arena < best.arena:
            best = last
    return best


def _plan(buffers: Sequence[Buffer], p: _Problem, offsets: list[int], heuristic: str) -> Plan:
    placed = dict(zip(p.names, offsets, strict=True))
    return Plan(
        offsets={b.name: placed.get(b.name, 0) for b in buffers},
        arena_bytes=_arena(p, offsets),
        lower_bound=_lower_bound(p),
        heuristic=heuristic,
    )


def plan_arena(
    buffers: Sequence[Buffer], heuristics: Sequence[str] | None = None, search: bool = True
) -> Plan:
    """The smallest arena found by `heuristics` (default: all of HEURISTICS, in their order; ties
    go to the earlier), then improved by a squeaky-wheel search unless `search` is False. Stops as
    soon as a plan reaches the lower bound. Zero-size buffers are at offset 0."""
    names = list(HEURISTICS) if heuristics is None else list(heuristics)
    unknown = [h for h in names if h not in HEURISTICS]
    if unknown or not names:
        raise PlanError(f"unknown arena heuristics {unknown}; known: {', '.join(HEURISTICS)}")
    p = _problem(buffers)
    bound = _lower_bound(p)
    best: _Result | None = None
    for name in names:
        h = HEURISTICS[name]
        result = _run(p, name, h.order(p), h)
        if best is None or result.arena < best.arena:
            best = result
        if best.arena == bound:
            break
    assert best is not None
    if search:
        best = _squeaky_wheel(p, best, bound)
    return _plan(buffers, p, best.offsets, best.name)


def greedy_by_size(buffers: Sequence[Buffer]) -> Plan:
    """TensorFlow Lite Micro's plan alone (no compaction): the baseline `plan_arena` beats."""
    p = _problem(buffers)
    return _plan(buffers, p, _place(p, _by_size(p), _first_fit), "greedy_by_size")


# --- checking a plan, independently of the heuristics ---------------------------------------------


def _describe(b: Buffer, offset: int) -> str:
    return f"'{b.name}' (steps {b.first}..{b.last}, bytes [{offset}, {offset + b.size}))"


def _check_each(buffers: Sequence[Buffer], plan: Plan) -> None:
    names = {b.name for b in buffers}
    if len(names) != len(buffers):
        raise PlanError("buffer names are not unique")
    extra = sorted(set(plan.offsets) - names)
    if extra:
        raise PlanError(f"the plan places buffers that do not exist: {', '.join(extra)}")
    for b in buffers:
        if b.name not in plan.offsets:
            raise PlanError(f"the plan gives no offset to buffer '{b.name}'")
        offset = plan.offsets[b.name]
        if offset < 0:
            raise PlanError(f"buffer '{b.name}' is at the negative offset {offset}")
        if offset % b.align:
            raise PlanError(f"buffer '{b.name}' at offset {offset} is not a multiple of its align {b.align}")
        if b.size and offset + b.size > plan.arena_bytes:
            raise PlanError(f"buffer {_describe(b, offset)} lies outside the {plan.arena_bytes}-byte arena")


def verify_plan(buffers: Sequence[Buffer], plan: Plan) -> None:
    """Raise PlanError unless every buffer is aligned, inside the arena, and apart from every
    buffer it is live with. A sweep over steps keeps the live buffers sorted by offset; they are
    disjoint while the plan is sound, so a newly live buffer need only be checked against its
    neighbours in that order."""
    _check_each(buffers, plan)
    nonempty = [b for b in buffers if b.size > 0]
    events = sorted(
        [(b.first, 0, k) for k, b in enumerate(nonempty)] + [(b.last, 1, k) for k, b in enumerate(nonempty)]
    )
    live: list[tuple[int, int]] = []  # (offset, buffer index), sorted
    for _, ending, k in events:
        b = nonempty[k]
        key = (plan.offsets[b.name], k)
        if ending:
            del live[bisect_left(live, key)]
            continue
        at = bisect_right(live, key)
        for other in live[at - 1 : at] + live[at : at + 1]:
            o = nonempty[other[1]]
            lo, hi = sorted([key, other])
            if nonempty[lo[1]].size + lo[0] > hi[0]:
                raise PlanError(
                    f"buffers {_describe(o, other[0])} and {_describe(b, key[0])} are live together "
                    "and overlap"
                )
        live.insert(at, key)
