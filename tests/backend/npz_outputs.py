"""Reading a run's outputs (.npz, in output order) and comparing two runs' outputs exactly:
shared by the end-to-end tests of every target."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def outputs(path: Path) -> list[np.ndarray]:
    data = np.load(path)
    return [data[k] for k in data.files]


def assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    """Equal element for element (shapes may differ by unit axes, e.g. Deeploy's goldens)."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.astype(np.float64).ravel(), y.astype(np.float64).ravel())
