"""Compressing one integer embedding table under a byte budget.

The budget covers everything the compressed table stores in flash: the cluster id per token,
the block offsets, the coefficient pool, the bases and the per-cluster rank, mul and shift.
Coefficients are int8 or int4; with `coef_bits = 0` both are tried and the one with the
smaller weighted reconstruction error is kept (int4 buys twice the rank per byte of the pool
at a coarser step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.errors import MoteError
from compiler.reference.kernels import clustered_offsets, coefficient_values
from compiler.transforms.embedding_compression.factors import IntegerFactors, quantize
from compiler.transforms.embedding_compression.lowrank import Costs, factorize


@dataclass(frozen=True)
class TableCompression:
    """How to compress: byte budget, number of clusters, seed, coefficient bits (0: choose),
    tokens per stored offset, and the tokens' weights (None: uniform)."""

    budget: int
    clusters: int = 32
    seed: int = 0
    coef_bits: int = 0
    block: int = 64
    token_weights: np.ndarray | None = None


@dataclass
class CompressedTable:
    factors: IntegerFactors
    original_bytes: int
    relative_error: float
    """sqrt(weighted squared error / weighted squared norm) of the rows the op produces."""


def fixed_bytes(vocab: int, clusters: int, block: int) -> int:
    """Bytes that do not depend on the ranks: cluster ids, block offsets, per-cluster params."""
    id_bytes = 1 if clusters <= 256 else 2
    return vocab * id_bytes + 4 * (-(-vocab // block)) + 12 * clusters


def costs_note(vocab: int, clusters: int, dim: int, bits: int, block: int) -> str:
    fixed = fixed_bytes(vocab, clusters, block)
    step = vocab * bits // 8 + dim
    return (
        f"ids, offsets and parameters take {fixed} bytes; one rank of the largest cluster needs up to {step}"
    )


def reconstruct(f: IntegerFactors, vocab: int) -> np.ndarray:
    """The rows the op produces for every token (vectorised; equal to the reference kernel's
    result, which tests check)."""
    pool = coefficient_values(f.coefficients, f.coef_bits)
    ranks = np.asarray(f.ranks, dtype=np.int64)
    cl = f.clusters.astype(np.int64)
    starts, _ = clustered_offsets(cl, ranks, f.block)
    base_row = np.concatenate([[0], np.cumsum(ranks)[:-1]]).astype(np.int64)
    dim = f.bases.shape[1]
    out = np.zeros((vocab, dim), dtype=np.int64)
    bases = f.bases.astype(np.int64)
    for c, r in enumerate(f.ranks):
        tokens = np.flatnonzero(cl == c)
        if r == 0 or tokens.size == 0:
            continue
        coef = pool[starts[tokens][:, None] + np.arange(r)[None, :]]
        acc = coef @ bases[base_row[c] : base_row[c] + r]
        s = f.shifts[c]
        rounding = (1 << (s - 1)) if s > 0 else 0
        out[tokens] = np.clip((acc * f.muls[c] + rounding) >> s, -128, 127)
    return out


def compress_table(table: np.ndarray, how: TableCompression) -> CompressedTable:
    """Clusters, ranks and integer factors of an int8 `table` (V x D) within `how.budget` bytes."""
    if table.ndim != 2 or table.dtype != np.int8:
        raise MoteError(f"compress-embedding: expects an int8 V x D table, got {table.dtype} {table.shape}")
    vocab, dim = table.shape
    weights = np.ones(vocab) if how.token_weights is None else np.asarray(how.token_weights, dtype=np.float64)
    if weights.shape != (vocab,) or (weights < 0).any() or weights.sum() <= 0:
        raise MoteError(
            f"compress-embedding: token weights must be {vocab} non-negative numbers, not all zero"
        )
    clusters = max(1, min(how.clusters, 65536, vocab))
    rank_budget = how.budget - fixed_bytes(vocab, clusters, how.block) - 1
    if rank_budget < 0:
        smallest = fixed_bytes(vocab, 1, how.block)
        raise MoteError(
            f"compress-embedding: a budget of {how.budget} bytes does not hold the cluster ids and "
            f"offsets of {vocab} tokens in {clusters} clusters (at least "
            f"{fixed_bytes(vocab, clusters, how.block)} bytes; {smallest} with one cluster)"
        )
    rows = table.astype(np.float64)
    norm = float((weights * (rows * rows).sum(1)).sum()) or 1.0
    best: CompressedTable | None = None
    for bits in (8, 4) if how.coef_bits == 0 else (how.coef_bits,):
        fz = factorize(rows, weights, clusters, rank_budget, Costs(dim, bits), how.seed)
        if not sum(fz.ranks):
            raise MoteError(
                f"compress-embedding: a budget of {how.budget} bytes leaves no room for a single "
                f"rank ({costs_note(vocab, clusters, dim, bits, how.block)})"
            )
        factors = quantize(table, fz, bits, how.block)
        err = reconstruct(factors, vocab) - rows
        rel = float(np.sqrt((weights * (err * err).sum(1)).sum() / norm))
        if factors.nbytes() > how.budget:
            raise AssertionError(f"compressed table of {factors.nbytes()} bytes exceeds {how.budget}")
        if best is None or rel < best.relative_error:
            best = CompressedTable(factors, int(table.nbytes), rel)
    assert best is not None
    return best
