"""Clustered low-rank approximation of an embedding table, in floating point.

MCUBERT's compression without its training loop: stage one splits the vocabulary into
clusters (k-means on the rows, then rounds that move each token to the cluster whose
subspace reconstructs it best for the bytes it costs); stage two gives the clusters ranks
under a byte budget, greedily by reconstruction gain per byte. Errors are weighted per token
(uniform, or by how often the token occurs), so that frequent tokens get the bytes.
Quantizing the factors to the op's integer arrays is factors.py's job.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Costs:
    """Bytes of the compressed table's parts that depend on the ranks."""

    dim: int
    coef_bits: int

    def coefficient_bytes(self, tokens: float) -> float:
        return tokens * self.coef_bits / 8

    def rank_step(self, tokens: int) -> float:
        """Bytes added by one more rank in a cluster of `tokens` tokens (coefficients + a basis row)."""
        return self.coefficient_bytes(tokens) + self.dim


@dataclass
class Factorization:
    """Token -> cluster, and per cluster an orthonormal basis (rank x D) in float64."""

    assignment: np.ndarray
    bases: list[np.ndarray]

    @property
    def ranks(self) -> list[int]:
        return [b.shape[0] for b in self.bases]

    def reconstruct(self, table: np.ndarray) -> np.ndarray:
        """Each row projected on its cluster's basis (the best float coefficients)."""
        out = np.zeros_like(table, dtype=np.float64)
        for c, basis in enumerate(self.bases):
            rows = self.assignment == c
            if basis.shape[0] and rows.any():
                out[rows] = (table[rows] @ basis.T) @ basis
        return out


def kmeans(
    rows: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 12
) -> np.ndarray:
    """Weighted k-means (k-means++ seeding by the rng); returns the cluster of every row.
    Clusters that run empty are re-seeded at the row worst served."""
    n = rows.shape[0]
    k = min(k, n)
    sq = (rows * rows).sum(1)
    centres = [rows[int(rng.integers(n))]]
    dist = sq - 2 * rows @ centres[0] + centres[0] @ centres[0]
    for _ in range(1, k):
        p = np.maximum(dist, 0) * np.maximum(weights, 1e-12)
        pick = int(rng.choice(n, p=p / p.sum())) if p.sum() > 0 else int(rng.integers(n))
        centres.append(rows[pick])
        dist = np.minimum(dist, sq - 2 * rows @ rows[pick] + rows[pick] @ rows[pick])
    cen = np.array(centres)
    assign = np.zeros(n, dtype=np.int64)
    w = np.maximum(weights, 1e-12)
    for _ in range(rounds):
        d2 = sq[:, None] - 2 * rows @ cen.T + (cen * cen).sum(1)[None]
        assign = d2.argmin(1)
        for c in range(k):
            member = assign == c
            if member.any():
                cen[c] = (rows[member] * w[member, None]).sum(0) / w[member].sum()
            else:
                worst = int((d2[np.arange(n), assign] * w).argmax())
                cen[c] = rows[worst]
    return assign


def weighted_spectrum(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending, the weighted energy each direction captures) and the
    orthonormal directions (rows) of the weighted scatter `rows^T diag(w) rows`."""
    if rows.shape[0] == 0:
        return np.zeros(0), np.zeros((0, rows.shape[1]))
    scatter = rows.T @ (rows * weights[:, None])
    values, vectors = np.linalg.eigh(scatter)
    order = np.argsort(values)[::-1]
    keep = min(rows.shape[0], rows.shape[1])
    return np.maximum(values[order][:keep], 0), vectors[:, order].T[:keep]


def allocate_ranks(
    spectra: list[np.ndarray], sizes: list[int], costs: Costs, budget: float
) -> tuple[list[int], float]:
    """Ranks per cluster under `budget` bytes, each step the largest energy gain per byte.
    Returns the ranks and the last accepted gain per byte (the budget's price of a byte)."""
    ranks = [0] * len(spectra)
    heap = [
        (-s[0] / costs.rank_step(n), c) for c, (s, n) in enumerate(zip(spectra, sizes, strict=True)) if s.size
    ]
    heapq.heapify(heap)
    used, price = 0.0, 0.0
    while heap:
        neg, c = heapq.heappop(heap)
        step = costs.rank_step(sizes[c])
        if used + step > budget:
            continue
        used += step
        ranks[c] += 1
        price = -neg
        if ranks[c] < spectra[c].size:
            heapq.heappush(heap, (-spectra[c][ranks[c]] / step, c))
    return ranks, price


def factorize(
    table: np.ndarray,
    weights: np.ndarray,
    clusters: int,
    budget: float,
    costs: Costs,
    seed: int = 0,
    refinements: int = 3,
) -> Factorization:
    """Clusters and per-cluster bases whose coefficients and basis rows fit `budget` bytes."""
    rows = np.asarray(table, dtype=np.float64)
    rng = np.random.default_rng(seed)
    assign = kmeans(rows, weights, clusters, rng)
    sq = (rows * rows).sum(1)
    k = int(assign.max()) + 1
    for round_ in range(refinements + 1):
        spectra, directions = [], []
        for c in range(k):
            member = assign == c
            values, vectors = weighted_spectrum(rows[member], weights[member])
            spectra.append(values)
            directions.append(vectors)
        sizes = [int((assign == c).sum()) for c in range(k)]
        ranks, price = allocate_ranks(spectra, sizes, costs, budget)
        bases = [directions[c][: ranks[c]] for c in range(k)]
        if round_ == refinements:
            break
        # reassign: weighted residual energy plus the price of the coefficients' bytes
        cost = np.empty((rows.shape[0], k))
        for c in range(k):
            kept = ((rows @ bases[c].T) ** 2).sum(1) if ranks[c] else 0.0
            cost[:, c] = weights * (sq - kept) + price * costs.coefficient_bytes(ranks[c])
        new = cost.argmin(1)
        if np.array_equal(new, assign):
            break
        assign = new
    return Factorization(assign, bases)
