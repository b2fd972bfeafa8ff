"""Compressing one int8 table: the budget holds, the vectorised reconstruction is the reference
kernel's result, the same seed gives the same arrays, more bytes give less error, and token
weights move the error away from heavy tokens."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.errors import MoteError
from compiler.reference.kernels import clustered_embedding
from compiler.transforms.embedding_compression.factors import fixed_point
from compiler.transforms.embedding_compression.table import TableCompression, compress_table, reconstruct


def _table(vocab: int = 300, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # a few directions dominate, as in trained embeddings, plus noise
    low = rng.standard_normal((vocab, 4)) @ rng.standard_normal((4, dim)) * 20
    return np.clip(np.round(low + rng.standard_normal((vocab, dim)) * 6), -128, 127).astype(np.int8)


@pytest.mark.parametrize("bits", [4, 8])
def test_reconstruction_is_the_reference_kernel_and_fits_the_budget(bits: int) -> None:
    table = _table()
    budget = table.nbytes // 3
    done = compress_table(table, TableCompression(budget, clusters=5, coef_bits=bits, block=7))
    f = done.factors
    assert f.nbytes() <= budget and f.coef_bits == bits
    ids = np.arange(table.shape[0])
    ref = clustered_embedding(
        ids,
        f.clusters,
        f.block_offsets,
        f.coefficients,
        f.bases,
        f.ranks,
        f.muls,
        f.shifts,
        f.block,
        bits,
        -128,
        127,
    )
    assert np.array_equal(ref, reconstruct(f, table.shape[0]))
    assert done.relative_error < 0.5


def test_same_seed_same_arrays_and_more_bytes_less_error() -> None:
    table = _table()
    a = compress_table(table, TableCompression(table.nbytes // 4, clusters=4, seed=3))
    b = compress_table(table, TableCompression(table.nbytes // 4, clusters=4, seed=3))
    for x, y in zip(a.factors.arrays().values(), b.factors.arrays().values(), strict=True):
        assert np.array_equal(x, y)
    errors = [
        compress_table(table, TableCompression(table.nbytes // r, clusters=4)).relative_error
        for r in (8, 4, 2)
    ]
    assert errors[0] > errors[1] > errors[2]


def test_full_budget_is_nearly_exact() -> None:
    table = _table(vocab=120, dim=8)
    done = compress_table(table, TableCompression(4 * table.nbytes, clusters=2, coef_bits=8))
    assert done.relative_error < 0.02


def test_token_weights_favour_heavy_tokens() -> None:
    table = _table()
    heavy = np.arange(0, 300, 10)
    weights = np.full(300, 0.01)
    weights[heavy] = 10.0

    def heavy_error(w: np.ndarray | None) -> float:
        done = compress_table(table, TableCompression(table.nbytes // 6, clusters=4, token_weights=w))
        err = reconstruct(done.factors, 300)[heavy] - table[heavy]
        return float(np.abs(err).mean())

    assert heavy_error(weights) < 0.8 * heavy_error(None)


def test_budget_below_the_fixed_arrays_is_an_error() -> None:
    with pytest.raises(MoteError, match="does not hold the cluster ids"):
        compress_table(_table(), TableCompression(100))


@pytest.mark.parametrize("value", [1e-6, 0.37, 1.0, 3.5, 1e4])
def test_fixed_point_multiplier(value: float) -> None:
    mul, shift = fixed_point(value)
    assert 0 < mul < 1 << 31 and 0 <= shift <= 62
    assert abs(mul / 2.0**shift - value) <= value * 2e-9


def test_budget_without_room_for_a_rank_is_an_error() -> None:
    table = np.ones((100, 8), dtype=np.int8)
    with pytest.raises(MoteError, match="leaves no room for a single rank"):
        compress_table(table, TableCompression(130, clusters=1, coef_bits=8))
