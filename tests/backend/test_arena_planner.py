"""The static arena planner (compiler/backend/arena_planner.py): hand cases, properties of every
plan on random buffers (sound, at least the lower bound, never worse than TensorFlow Lite Micro's
greedy-by-size, deterministic), verify_plan against a brute-force checker, and a plan of a few
thousand buffers shaped like a transformer's.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backend.arena_planner import (
    HEURISTICS,
    Buffer,
    Plan,
    PlanError,
    align_up,
    greedy_by_size,
    live_at_peak,
    plan_arena,
    verify_plan,
)

# --- hand cases -----------------------------------------------------------------------------------


def test_disjoint_lifetimes_share_offset_zero():
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 40, 2, 3), Buffer("c", 64, 4, 4)]
    plan = plan_arena(bufs)
    assert plan.offsets == {"a": 0, "b": 0, "c": 0}
    assert plan.arena_bytes == plan.lower_bound == 104  # 100 rounded up to 8


def test_chain_reuses_the_producer_of_the_producer():
    # a -> b -> c: a and c never live together, b lives with each
    bufs = [Buffer("a", 96, 0, 1, 1), Buffer("b", 200, 1, 2, 1), Buffer("c", 96, 2, 3, 1)]
    plan = plan_arena(bufs)
    verify_plan(bufs, plan)
    assert plan.arena_bytes == plan.lower_bound == 296
    assert plan.offsets["a"] == plan.offsets["c"]


def test_offsets_respect_each_alignment_and_sizes_round_up():
    bufs = [Buffer("x", 3, 0, 2, 16), Buffer("y", 5, 1, 2, 16), Buffer("z", 7, 2, 2, 4)]
    plan = plan_arena(bufs)
    verify_plan(bufs, plan)
    assert all(plan.offsets[b.name] % b.align == 0 for b in bufs)
    assert plan.lower_bound == 16 + 16 + 8
    assert plan.arena_bytes == 40


def test_zero_size_buffers_sit_at_zero_and_conflict_with_nothing():
    bufs = [Buffer("big", 64, 0, 9), Buffer("empty", 0, 0, 9, 16), Buffer("other", 8, 5, 6)]
    plan = plan_arena(bufs)
    verify_plan(bufs, plan)
    assert plan.offsets["empty"] == 0
    assert plan.arena_bytes == plan.lower_bound == 72


def test_no_buffers():
    assert plan_arena([]) == Plan({}, 0, 0, "greedy_by_size")
    assert live_at_peak([]) == (0, [])
    verify_plan([], plan_arena([]))


def test_beats_greedy_by_size_where_largest_first_fragments():
    # TFLite Micro puts d and c at 0, a above c and b above a: 7 units; a at 0 leaves room: 6
    u = 16
    bufs = [
        Buffer("a", 2 * u, 0, 1),
        Buffer("b", 2 * u, 1, 3),
        Buffer("c", 3 * u, 0, 0),
        Buffer("d", 4 * u, 3, 5),
    ]
    baseline, best = greedy_by_size(bufs), plan_arena(bufs)
    verify_plan(bufs, baseline)
    verify_plan(bufs, best)
    assert baseline.arena_bytes == 7 * u
    assert best.arena_bytes == best.lower_bound == 6 * u
    assert best.heuristic != "greedy_by_size"


def test_live_at_peak_names_the_widest_step():
    bufs = [
        Buffer("x", 10, 0, 3, 1),
        Buffer("q", 40, 1, 2, 1),
        Buffer("k", 50, 2, 2, 1),
        Buffer("out", 20, 3, 3, 1),
        Buffer("nothing", 0, 2, 2, 1),
    ]
    assert live_at_peak(bufs) == (2, ["k", "q", "x"])
    assert plan_arena(bufs).lower_bound == 100


@pytest.mark.parametrize(
    "bufs, message",
    [
        ([Buffer("a", 8, 0, 1), Buffer("a", 8, 2, 3)], "two buffers are named 'a'"),
        ([Buffer("a", -1, 0, 1)], "buffer 'a' is malformed"),
        ([Buffer("a", 8, 3, 1)], "buffer 'a' is malformed"),
        ([Buffer("a", 8, 0, 1, 0)], "buffer 'a' is malformed"),
    ],
)
def test_malformed_buffers_are_refused(bufs, message):
    with pytest.raises(PlanError, match=message):
        plan_arena(bufs)


def test_unknown_heuristic_is_refused():
    with pytest.raises(PlanError, match="unknown arena heuristics"):
        plan_arena([Buffer("a", 8, 0, 1)], heuristics=["tetris"])


# --- verify_plan on deliberately broken plans -----------------------------------------------------

BROKEN = [Buffer("act", 64, 0, 4), Buffer("tmp", 32, 3, 6), Buffer("later", 16, 6, 9, 16)]


def _with(plan: Plan, **changes: int) -> Plan:
    return Plan({**plan.offsets, **changes}, plan.arena_bytes, plan.lower_bound, plan.heuristic)


def test_verify_plan_names_both_overlapping_buffers():
    plan = plan_arena(BROKEN)
    verify_plan(BROKEN, plan)
    broken = _with(plan, tmp=plan.offsets["act"] + 32)
    broken = Plan(broken.offsets, 200, plan.lower_bound, plan.heuristic)
    with pytest.raises(PlanError) as err:
        verify_plan(BROKEN, broken)
    text = str(err.value)
    assert "'act' (steps 0..4, bytes [0, 64))" in text
    assert "'tmp' (steps 3..6, bytes [32, 64))" in text


def test_verify_plan_catches_misalignment():
    plan = plan_arena(BROKEN)
    with pytest.raises(PlanError, match="'later' at offset 8 is not a multiple of its align 16"):
        verify_plan(BROKEN, _with(plan, later=8))


def test_verify_plan_catches_a_buffer_outside_the_arena():
    plan = plan_arena(BROKEN)
    small = Plan(plan.offsets, plan.arena_bytes - 1, plan.lower_bound, plan.heuristic)
    with pytest.raises(PlanError, match="outside the 95-byte arena"):
        verify_plan(BROKEN, small)
    with pytest.raises(PlanError, match="negative offset"):
        verify_plan(BROKEN, _with(plan, act=-64))


def test_verify_plan_catches_missing_and_unknown_buffers():
    plan = plan_arena(BROKEN)
    with pytest.raises(PlanError, match="no offset to buffer 'later'"):
        verify_plan(BROKEN, Plan({"act": 0, "tmp": 64}, 96, 96, ""))
    with pytest.raises(PlanError, match="do not exist: ghost"):
        verify_plan(BROKEN, _with(plan, ghost=0))


# --- properties on random buffers --------------------------------------------------------------------


@st.composite
def buffer_sets(draw, max_buffers: int = 24) -> list[Buffer]:
    n = draw(st.integers(0, max_buffers))
    bufs = []
    for i in range(n):
        first = draw(st.integers(0, 30))
        bufs.append(
            Buffer(
                f"t{i}",
                draw(st.one_of(st.just(0), st.integers(1, 300))),
                first,
                first + draw(st.integers(0, 8)),
                draw(st.sampled_from([1, 2, 4, 8, 16])),
            )
        )
    return bufs


def _brute_lower_bound(bufs: list[Buffer]) -> int:
    steps = {s for b in bufs for s in range(b.first, b.last + 1)}
    return max(
        (sum(align_up(b.size, b.align) for b in bufs if b.first <= s <= b.last) for s in steps), default=0
    )


def _brute_overlap(bufs: list[Buffer], plan: Plan) -> bool:
    for i, a in enumerate(bufs):
        for b in bufs[:i]:
            live = a.first <= b.last and b.first <= a.last
            oa, ob = plan.offsets[a.name], plan.offsets[b.name]
            if live and a.size and b.size and oa < ob + b.size and ob < oa + a.size:
                return True
    return False


@settings(max_examples=300, deadline=None)
@given(buffer_sets())
def test_every_plan_verifies_and_lies_between_the_bound_and_the_baseline(bufs):
    baseline = greedy_by_size(bufs)
    best = plan_arena(bufs)
    verify_plan(bufs, baseline)
    verify_plan(bufs, best)
    assert best.lower_bound == baseline.lower_bound == _brute_lower_bound(bufs)
    assert best.lower_bound <= best.arena_bytes <= baseline.arena_bytes
    assert all(best.offsets[b.name] == 0 for b in bufs if b.size == 0)


@settings(max_examples=100, deadline=None)
@given(buffer_sets(), st.sampled_from(sorted(HEURISTICS)), st.booleans())
def test_each_heuristic_alone_gives_a_sound_plan(bufs, heuristic, search):
    plan = plan_arena(bufs, heuristics=[heuristic], search=search)
    verify_plan(bufs, plan)
    assert plan.arena_bytes >= plan.lower_bound
    assert plan.heuristic.startswith(heuristic)


@settings(max_examples=100, deadline=None)
@given(buffer_sets())
def test_planning_is_deterministic(bufs):
    assert plan_arena(bufs) == plan_arena(list(bufs))


@settings(max_examples=200, deadline=None)
@given(buffer_sets())
def test_live_at_peak_attains_the_lower_bound(bufs):
    step, names = live_at_peak(bufs)
    by_name = {b.name: b for b in bufs}
    assert sum(align_up(by_name[n].size, by_name[n].align) for n in names) == _brute_lower_bound(bufs)
    assert all(by_name[n].first <= step <= by_name[n].last and by_name[n].size for n in names)


@settings(max_examples=300, deadline=None)
@given(buffer_sets(max_buffers=10), st.randoms(use_true_random=False))
def test_verify_plan_agrees_with_brute_force_on_random_offsets(bufs, rnd):
    offsets = {b.name: b.align * rnd.randrange(0, 40) for b in bufs}
    arena = max((offsets[b.name] + b.size for b in bufs), default=0)
    plan = Plan(offsets, arena, 0, "random")
    if _brute_overlap(bufs, plan):
        with pytest.raises(PlanError, match="are live together and overlap"):
            verify_plan(bufs, plan)
    else:
        verify_plan(bufs, plan)


@settings(max_examples=100, deadline=None)
@given(buffer_sets())
def test_verify_plan_catches_two_live_buffers_moved_together(bufs):
    plan = plan_arena(bufs)
    live = [b for b in bufs if b.size]
    pairs = [
        (a, b) for a in live for b in live if a.name < b.name and a.first <= b.last and b.first <= a.last
    ]
    if not pairs:
        return
    a, b = pairs[0]
    at = align_up(plan.offsets[a.name], b.align)
    moved = Plan({**plan.offsets, b.name: at}, plan.arena_bytes + at + b.size, 0, "broken")
    if at >= plan.offsets[a.name] + a.size:  # rounding up to b's alignment left a behind
        return
    with pytest.raises(PlanError) as err:
        verify_plan(bufs, moved)
    assert "overlap" in str(err.value) and f"'{b.name}'" in str(err.value)


# --- buffers shaped like a transformer's, a few thousand of them -----------------------------------


def transformer_buffers(rng: random.Random, layers: int, seq: int, hidden: int, heads: int) -> list[Buffer]:
    """The activations of a BERT-like encoder scheduled op by op: each op's result lives from its
    op to its last reader; the residual stream lives across each attention and FFN block."""
    ops: list[tuple[str, int, list[str]]] = []

    def op(name: str, size: int, *inputs: str) -> str:
        ops.append((name, size, list(inputs)))
        return name

    x = op("embed", seq * hidden)
    for layer in range(layers):
        p = f"l{layer}."
        q, k, v = (op(p + n, seq * hidden, x) for n in "qkv")
        ctx = []
        for h in range(heads):
            scores = op(p + f"scores{h}", seq * seq * rng.choice([1, 4]), q, k)
            ctx.append(op(p + f"ctx{h}", seq * hidden // heads, op(p + f"probs{h}", seq * seq, scores), v))
        attn = op(p + "attn_out", seq * hidden, op(p + "concat", seq * hidden, *ctx))
        ln1 = op(p + "ln1", seq * hidden, op(p + "add1", seq * hidden, x, attn))
        ffn = op(
            p + "ffn2", seq * hidden, op(p + "gelu", 4 * seq * hidden, op(p + "ffn1", 4 * seq * hidden, ln1))
        )
        x = op(p + "ln2", seq * hidden, op(p + "add2", seq * hidden, ln1, ffn))
    last = {name: step for step, (name, _, _) in enumerate(ops)}
    for step, (_, _, inputs) in enumerate(ops):
        for name in inputs:
            last[name] = step
    last[x] = len(ops) - 1
    return [
        Buffer(name, size, step, last[name], rng.choice([4, 8, 16]))
        for step, (name, size, _) in enumerate(ops)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_two_layer_bert_plans_are_sound_and_no_worse_than_tflm(seed):
    rng = random.Random(seed)
    bufs = transformer_buffers(
        rng, 2, rng.choice([16, 32, 128]), rng.choice([64, 128]), rng.choice([1, 2, 4])
    )
    baseline, best = greedy_by_size(bufs), plan_arena(bufs)
    verify_plan(bufs, best)
    assert best.lower_bound <= best.arena_bytes <= baseline.arena_bytes


def test_a_few_thousand_buffers_plan_and_verify():
    rng = random.Random(3000)
    bufs = transformer_buffers(rng, 40, 32, 64, 8)  # 40 layers of 8 heads: 1,441 buffers
    steps = len(bufs)
    for i in range(3000 - len(bufs)):  # and temporaries scattered over the schedule
        first = rng.randrange(steps)
        bufs.append(
            Buffer(f"tmp{i}", rng.randrange(0, 4096), first, min(steps - 1, first + rng.randrange(16)))
        )
    assert len(bufs) == 3000
    plan = plan_arena(bufs)
    verify_plan(bufs, plan)
    assert plan.lower_bound <= plan.arena_bytes <= greedy_by_size(bufs).arena_bytes
