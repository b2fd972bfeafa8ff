"""Weights in the layouts the SIMD kernels read (compiler/backend/weight_layouts.py), derived
from the model-layout array when the C is emitted."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.backend.weight_layouts import WeightArrays
from compiler.errors import MoteError


def test_nk_is_the_transpose() -> None:
    w = np.arange(12, dtype=np.int8).reshape(4, 3)  # K x N
    np.testing.assert_array_equal(WeightArrays({"w": w})["w@nk"], w.T)


def test_nki_interleaves_each_group_of_four_k() -> None:
    """Row n holds w[k, n] for k in the order 0, 2, 1, 3, 4, 6, 5, 7, ...: one word then gives
    the halfword pairs (k, k+1) and (k+2, k+3) (loop_nests/simd_halfword.py)."""
    k, n = 8, 3
    w = np.arange(k * n, dtype=np.int8).reshape(k, n)
    got = WeightArrays({"w": w})["w@nki"]
    order = [0, 2, 1, 3, 4, 6, 5, 7]
    np.testing.assert_array_equal(got, w[order].T)
    assert got.flags.c_contiguous


def test_layout_errors_are_clear() -> None:
    arrays = WeightArrays({"w": np.zeros((6, 2), np.int8)})
    with pytest.raises(MoteError, match="multiple of 4"):
        arrays["w@nki"]
    with pytest.raises(MoteError, match='unknown layout "xy"'):
        arrays["w@xy"]
    with pytest.raises(KeyError):
        arrays["v@nk"]
