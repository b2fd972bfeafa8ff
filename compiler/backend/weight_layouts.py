"""Weights in the layout a kernel reads, derived from the weight file when the C is emitted.

The weight file holds each weight once, in the model's layout (a linear layer's K x N). A
lowering that wants another layout in flash (the SIMD kernels read N x K, reduction axis
contiguous: loop_nests/simd_gemm.py; N x K interleaved for halfword dot products:
loop_nests/simd_halfword.py) names it `name@layout` in a `tile.weight`; the C emitter
asks this module for the array, so the packing happens offline, at compile time, and the
weight file and the reference program stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from compiler.errors import MoteError


def _interleaved(w: np.ndarray) -> np.ndarray:
    """N x K with each group of four k in the order 0, 2, 1, 3: one word then gives both
    halfword pairs (k, k+1), (k+2, k+3) in three instructions (loop_nests/simd_halfword.py)."""
    n, k = w.shape[1], w.shape[0]
    if k % 4:
        raise MoteError(f"layout nki needs a reduction that is a multiple of 4, got {k}")
    return np.ascontiguousarray(w.T.reshape(n, k // 4, 2, 2).swapaxes(-1, -2).reshape(n, k))


LAYOUTS = {
    "nk": lambda w: np.ascontiguousarray(w.T),
    "nki": _interleaved,
}
"""Layout name -> the function that derives it from the model-layout array."""


class WeightArrays(Mapping[str, np.ndarray]):
    """The weight file's arrays, plus `name@layout` for any of them, derived on demand."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.derived: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.arrays:
            return self.arrays[name]
        if "@" not in name:
            raise KeyError(name)
        if name not in self.derived:
            base, layout = name.rsplit("@", 1)
            if layout not in LAYOUTS:
                raise MoteError(f'weight "{name}": unknown layout "{layout}" (known: {", ".join(LAYOUTS)})')
            if base not in self.arrays:
                raise KeyError(name)
            self.derived[name] = LAYOUTS[layout](self.arrays[base])
        return self.derived[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)
