"""Real-valued rescaling factors as the integer multipliers and shifts of #qtfm.requant.

A requantization multiplies by a real factor M = s_in / s_out. On an integer machine that is
`(acc * mul + rnd) >> shift` with `mul = round(M * 2^shift)`. The shift is chosen as large
as possible while the largest multiplier stays below 2^30, so the relative error of the
factor is at most 2^-30 / M_max... and the product with an int32 accumulator stays within
int64, as docs/quantization.md requires.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MUL_BITS = 30


def fixed_point(factors: Sequence[float]) -> tuple[list[int], int]:
    """Multipliers (one per factor) and the shared right shift that represent `factors`."""
    if not factors:
        raise ValueError("no factors")
    largest = max(abs(f) for f in factors)
    if not math.isfinite(largest):
        raise ValueError(f"rescaling factor {largest} is not finite")
    if largest == 0:
        return [0] * len(factors), 0
    shift = MUL_BITS - 1 - math.floor(math.log2(largest))
    shift = max(0, min(62, shift))
    muls = [int(round(f * 2.0**shift)) for f in factors]
    if max(abs(m) for m in muls) >= 1 << 31:
        raise ValueError(f"rescaling factor {largest} is too large for an int32 multiplier")
    return muls, shift
