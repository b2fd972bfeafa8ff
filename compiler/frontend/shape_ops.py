"""Static forms of ONNX's shape operators, shared by the importers."""

from __future__ import annotations

from collections.abc import Sequence


def static_slice(
    shape: Sequence[int],
    starts: Sequence[int],
    ends: Sequence[int],
    axes: Sequence[int] | None,
    steps: Sequence[int] | None,
) -> tuple[list[int], list[int], list[int]]:
    """ONNX Slice with constant parameters as (first index, stride, size) per dimension.

    Raises ValueError for an axis out of range or a non-positive step (not supported)."""
    rank = len(shape)
    axes = list(range(len(starts))) if axes is None else list(axes)
    steps = [1] * len(starts) if steps is None else list(steps)
    first, stride, size = [0] * rank, [1] * rank, list(shape)
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        if not -rank <= a < rank:
            raise ValueError(f"axis {a} is out of range for rank {rank}")
        a %= rank
        if st <= 0:
            raise ValueError(f"step {st} is not supported (only positive steps)")
        rng = range(*slice(int(s), int(e), int(st)).indices(shape[a]))
        first[a] = rng.start if len(rng) else 0
        stride[a], size[a] = int(st), len(rng)
    return first, stride, size
