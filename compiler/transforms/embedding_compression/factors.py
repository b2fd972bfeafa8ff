"""Integer factors of a clustered low-rank table: the arrays `qtfm.clustered_embedding` reads.

A cluster's float basis (orthonormal rows) and its tokens' coefficients become integers:
each coefficient column k is scaled to the full int8 (or int4) range and its scale is folded
into basis row k, the cluster's basis is then int8 with one scale, and the cluster's
requantization (mul, shift) maps the exact products back to the table's own integer scale,
so the op's results replace the table's rows in the same type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.reference.kernels import clustered_offsets, pack_int4
from compiler.transforms.embedding_compression.lowrank import Factorization

MUL_BITS = 30
"""Multipliers are normalised into [2^30, 2^31): 30 significant bits."""


@dataclass
class IntegerFactors:
    """The op's operands (as weights) and properties."""

    clusters: np.ndarray
    block_offsets: np.ndarray
    coefficients: np.ndarray
    bases: np.ndarray
    ranks: list[int]
    muls: list[int]
    shifts: list[int]
    block: int
    coef_bits: int

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "clusters": self.clusters,
            "offsets": self.block_offsets,
            "coefficients": self.coefficients,
            "bases": self.bases,
        }

    def nbytes(self) -> int:
        """Flash bytes: the four arrays plus a rank, a mul and a shift per cluster (int32 each)."""
        return sum(int(a.nbytes) for a in self.arrays().values()) + 12 * len(self.ranks)


def fixed_point(value: float) -> tuple[int, int]:
    """(mul, shift) with mul / 2^shift ~= value, mul in [2^30, 2^31) where shifts allow."""
    if value <= 0:
        return 0, 0
    shift = MUL_BITS - int(np.floor(np.log2(value)))
    shift = int(np.clip(shift, 0, 62))
    mul = int(round(value * 2.0**shift))
    if mul >= 1 << 31:
        mul, shift = mul >> 1, shift - 1
    return min(mul, (1 << 31) - 1), shift


def quantize(table: np.ndarray, fz: Factorization, coef_bits: int, block: int) -> IntegerFactors:
    """The integer arrays of `fz` for `table` (the integer rows it approximates, in their
    own scale: the op's output needs no other scale)."""
    rows = np.asarray(table, dtype=np.float64)
    vocab, dim = rows.shape
    qmax = (1 << (coef_bits - 1)) - 1
    ranks = fz.ranks
    bases: list[np.ndarray] = []
    muls: list[int] = []
    shifts: list[int] = []
    coefs_by_token = [np.zeros(0, dtype=np.int64)] * vocab
    for c, basis in enumerate(fz.bases):
        member = np.flatnonzero(fz.assignment == c)
        r = basis.shape[0]
        if r == 0 or member.size == 0:
            bases.append(np.zeros((r, dim), dtype=np.int8))
            muls.append(0)
            shifts.append(0)
            continue
        coef = rows[member] @ basis.T
        col_scale = np.maximum(np.abs(coef).max(0), 1e-12) / qmax
        q = np.clip(np.round(coef / col_scale), -qmax - 1, qmax).astype(np.int64)
        folded = basis * col_scale[:, None]
        b_scale = max(float(np.abs(folded).max()), 1e-12) / 127
        qb = np.clip(np.round(folded / b_scale), -128, 127).astype(np.int8)
        for i, t in enumerate(member):
            coefs_by_token[t] = q[i]
        bases.append(qb)
        m, s = fixed_point(b_scale)
        muls.append(m)
        shifts.append(s)
    assignment = fz.assignment.astype(np.int64)
    pool = np.concatenate([coefs_by_token[t] for t in range(vocab)]) if vocab else np.zeros(0, np.int64)
    packed = pack_int4(pool) if coef_bits == 4 else pool.astype(np.int8)
    _, offsets = clustered_offsets(assignment, np.asarray(ranks), block)
    return IntegerFactors(
        clusters=assignment.astype(np.uint8 if len(ranks) <= 256 else np.uint16),
        block_offsets=offsets.astype(np.int32),
        coefficients=packed if packed.size else np.zeros(1, np.int8),
        bases=np.concatenate(bases) if sum(ranks) else np.zeros((0, dim), np.int8),
        ranks=list(ranks),
        muls=muls,
        shifts=shifts,
        block=block,
        coef_bits=coef_bits,
    )
