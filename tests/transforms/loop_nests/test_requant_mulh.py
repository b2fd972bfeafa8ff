"""The multiply-high form of a requantization (compiler/transforms/loop_nests/requant.py):
whenever `mulh_plan` offers one, it equals the 64-bit definition of docs/quantization.md
section 2 for every accumulator within the bound (edges and random values), with every
intermediate in int32; and it is offered for the shapes post-training quantization produces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.transforms.loop_nests.requant import mulh_plan

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _mulh(x: int, y: int) -> int:
    assert INT32_MIN <= x <= INT32_MAX and INT32_MIN <= y <= INT32_MAX
    return (x * y) >> 32


@st.composite
def requants(draw: st.DrawFn):
    bound = draw(
        st.sampled_from([0, 1, 127, 255, 32767, 65535, 2**21, 2**24, 2**30, INT32_MAX, 2**31, 2**40])
    )
    channels = draw(st.integers(1, 4))
    muls = [draw(st.integers(-(2**31), INT32_MAX) | st.integers(1, 2**30)) for _ in range(channels)]
    shift = draw(st.integers(0, 62))
    rnd = 1 << (shift - 1) if shift and draw(st.booleans()) else 0
    step = draw(st.sampled_from([1, 1 << max(0, shift - 1), 1 << shift, 1 << 32]))
    adds = [draw(st.integers(-(2**20), 2**20)) * step + rnd for _ in range(channels)]
    lo, hi = max(-bound, INT32_MIN), min(bound, INT32_MAX)  # accumulators are int32 values
    accs = [0, lo, hi, *draw(st.lists(st.integers(lo, hi), min_size=1, max_size=20))]
    return bound, muls, adds, shift, accs


@given(case=requants())
@settings(max_examples=400, deadline=None, derandomize=True)
def test_the_mulh_form_is_exact(case) -> None:
    bound, muls, adds, shift, accs = case
    plan = mulh_plan(bound, muls, adds, shift)
    if plan is None:
        return
    assert plan.a + plan.b == 32 - plan.j and 0 <= plan.j <= shift
    for m, add in zip(muls, adds, strict=True):
        for acc in accs:
            want = (acc * m + add) >> shift
            hi = _mulh(acc << plan.a, m << plan.b)
            got = hi + (add >> plan.j)
            assert INT32_MIN <= got <= INT32_MAX
            assert got >> (shift - plan.j) == want


def test_it_applies_to_the_requantizations_of_a_quantized_model() -> None:
    """Per-channel 30-bit multipliers on an int8 x int8 K = 128 accumulator (shift 40, rounding
    2^39) and on a 16-bit value (shift 26, rounding 2^25): both take one mulh."""
    linear = mulh_plan(128 * 128 * 128, [2**29 + 12345, 2**30 - 7], [2**39, 2**39], 40)
    assert linear is not None and linear.j == 32
    elementwise = mulh_plan(32768, [729641989], [2**25], 26)
    assert elementwise is not None and elementwise.j == 25 and elementwise.a + elementwise.b == 7


def test_an_int32_bound_still_takes_one_mulh_when_the_multipliers_leave_room() -> None:
    """A linear layer with an int32 bias has no useful bound, but its multipliers below 2^28
    let mul << 3 carry the 32 - j = 3 bits of a shift of 30 (rounding 2^29)."""
    plan = mulh_plan(2**21 + 2**31, [2**27 + 5, 2**28 - 1], [2**29, 2**29], 30)
    assert plan is not None and (plan.a, plan.b, plan.j) == (0, 3, 29)


def test_an_add_not_divisible_by_a_large_enough_power_of_two_falls_back() -> None:
    """acc * mul needs 46 bits here: with an odd add no j > 0 is exact, and 32 bits of
    pre-shift do not fit."""
    assert mulh_plan(32768, [729641989], [2**25 + 1], 26) is None
