"""`compress-embedding{budget=BYTES|Nx}`: the embedding table as MCUBERT's clustered low-rank lookup.

In tiny BERTs the word-embedding table is most of the flash (BERT-tiny: 3.9 MB of its 4.4 MB
int8 weights). This pass replaces the lookup in the largest table (`qtfm.embedding` of a
`qtfm.weight`) by `qtfm.clustered_embedding`, whose factors (embedding_compression/) fit
`budget` bytes, in the table's own integer scale, so nothing downstream changes. The result
approximates the table: it is a new reference program, and everything after it is checked
bit-exactly against it.

Options: `budget` (bytes, or `"8x"`: a ratio to the int8 table; required), `clusters` (32),
`seed` (0), `coef_bits` (0: int8 or int4, whichever reconstructs better; or 4, 8), `block`
(tokens per stored offset, 64), and either `frequencies` (a .npz with `counts`, or one count
per line) or `corpus` (text, one passage a line, tokenized with `vocab`, by default the BERT
uncased vocabulary): errors are then weighted by `counts / sum + floor / V` (`floor` 0.05).
Under mote-opt the table is read from the module's weight file and the factors are written to
`<file>.compressed.npz` beside it, which the module then names; `mote compile
--embedding-budget` runs the same code on the weights in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, IntegerType, ModuleOp, Signedness, StringAttr, TensorType, i64
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.errors import MoteError
from compiler.reference.weights import WEIGHTS_ATTR, load_weights, save_weights, weights_path
from compiler.transforms.embedding_compression.table import CompressedTable, TableCompression, compress_table
from compiler.transforms.embedding_compression.token_counts import corpus_counts, read_counts
from dialects import qtfm


@dataclass
class EmbeddingCompressionReport:
    """What one compression did, for report.json and `mote compress`."""

    table: str
    vocab: int
    dim: int
    original_bytes: int
    compressed_bytes: int
    clusters: int
    coef_bits: int
    ranks: list[int]
    relative_error: float

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "vocab": self.vocab,
            "dim": self.dim,
            "int8_table_bytes": self.original_bytes,
            "compressed_bytes": self.compressed_bytes,
            "ratio": round(self.original_bytes / self.compressed_bytes, 3),
            "clusters": self.clusters,
            "coef_bits": self.coef_bits,
            "ranks": self.ranks,
            "relative_error": round(self.relative_error, 5),
        }


def token_weights(counts: np.ndarray, vocab: int, floor: float = 0.05) -> np.ndarray:
    """Per-token error weights from occurrence counts, with `floor` of the total spread
    uniformly so that no token is free to lose entirely."""
    c = np.asarray(counts, dtype=np.float64).reshape(-1)
    if c.shape != (vocab,) or (c < 0).any() or not np.isfinite(c).all():
        raise MoteError(f"token frequencies must be {vocab} non-negative counts, got shape {c.shape}")
    total = c.sum()
    return (c / total if total > 0 else np.zeros(vocab)) + floor / vocab


def _largest_lookup(module: ModuleOp) -> tuple[qtfm.EmbeddingOp, qtfm.WeightOp] | None:
    best: tuple[int, qtfm.EmbeddingOp, qtfm.WeightOp] | None = None
    for op in module.walk():
        if isinstance(op, qtfm.EmbeddingOp) and isinstance(op.table.owner, qtfm.WeightOp):
            size = int(np.prod(op.table.type.get_shape()))  # type: ignore[attr-defined]
            if best is None or size > best[0]:
                best = (size, op, op.table.owner)
    return None if best is None else (best[1], best[2])


def _weight(before: qtfm.EmbeddingOp, name: str, array: np.ndarray) -> qtfm.WeightOp:
    """A `qtfm.weight` of the array's exact integer type, inserted before the lookup."""
    kinds = {np.dtype(np.int8): IntegerType(8), np.dtype(np.int32): IntegerType(32)}
    elem = kinds.get(array.dtype) or IntegerType(array.dtype.itemsize * 8, Signedness.UNSIGNED)
    op = qtfm.WeightOp(name, TensorType(elem, list(array.shape)))
    Rewriter.insert_op(op, InsertPoint.before(before))
    return op


@dataclass(frozen=True)
class EmbeddingBudget:
    """The user's request: `budget` in bytes ("400000") or as a ratio to the int8 table
    ("8x"), and the knobs of TableCompression; `frequencies` names a counts file."""

    budget: str
    clusters: int = 32
    seed: int = 0
    coef_bits: int = 0
    block: int = 64
    frequencies: Path | None = None
    floor: float = 0.05
    corpus: Path | None = None
    vocab: Path | None = None

    def bytes_for(self, table_bytes: int) -> int:
        text = self.budget.strip().lower()
        try:
            value = table_bytes / float(text[:-1]) if text.endswith("x") else float(text)
        except ValueError:
            raise MoteError(f"embedding budget '{self.budget}': expected BYTES or a ratio like 8x") from None
        if not value > 0:
            raise MoteError(f"embedding budget '{self.budget}' must be positive")
        return int(value)

    def resolve(self, vocab: int, table_bytes: int) -> TableCompression:
        if self.coef_bits not in (0, 4, 8) or self.block < 1 or self.clusters < 1:
            raise MoteError("compress-embedding: coef-bits must be 0, 4 or 8, block and clusters >= 1")
        if self.frequencies is not None and self.corpus is not None:
            raise MoteError("give token counts or a corpus to count tokens in, not both")
        weights = None
        if self.frequencies is not None:
            weights = token_weights(read_counts(self.frequencies), vocab, self.floor)
        elif self.corpus is not None:
            weights = token_weights(corpus_counts(self.corpus, vocab, self.vocab), vocab, self.floor)
        return TableCompression(
            self.bytes_for(table_bytes), self.clusters, self.seed, self.coef_bits, self.block, weights
        )


def compress_embeddings(
    module: ModuleOp, weights: dict[str, np.ndarray], request: EmbeddingBudget
) -> EmbeddingCompressionReport | None:
    """Rewrites the largest embedding lookup of `module` in place and adds its factors to
    `weights` (the table stays only if something else reads it). None when there is none."""
    found = _largest_lookup(module)
    if found is None:
        return None
    lookup, table_op = found
    name = table_op.sym.data
    if name not in weights:
        raise MoteError(f"compress-embedding: weight '{name}' is not in the weight file")
    table = np.asarray(weights[name])
    if table.dtype != np.int8:
        raise MoteError(
            f"compress-embedding: the table '{name}' is {table.dtype}; only int8 tables are compressed"
        )
    result: CompressedTable = compress_table(table, request.resolve(table.shape[0], int(table.nbytes)))
    f = result.factors
    prefix = f"{name}.clustered"
    new = {f"{prefix}.{part}": array for part, array in f.arrays().items()}
    operands = [_weight(lookup, n, a).result for n, a in new.items()]
    clustered = qtfm.ClusteredEmbeddingOp.build(
        operands=[lookup.ids, *operands],
        result_types=[lookup.result.type],
        properties={
            "ranks": qtfm.i64_array(f.ranks),
            "muls": qtfm.i64_array(f.muls),
            "shifts": qtfm.i64_array(f.shifts),
            "block": IntegerAttr(f.block, i64),
            "coef_bits": IntegerAttr(f.coef_bits, i64),
        },
    )
    Rewriter.replace_op(lookup, clustered)
    if not table_op.result.uses:
        Rewriter.erase_op(table_op)
        weights.pop(name)
    weights.update(new)
    vocab, dim = table.shape
    return EmbeddingCompressionReport(
        name,
        vocab,
        dim,
        result.original_bytes,
        f.nbytes(),
        len(f.ranks),
        f.coef_bits,
        f.ranks,
        result.relative_error,
    )


@dataclass(frozen=True)
class CompressEmbedding(ModulePass):
    name = "compress-embedding"

    budget: str | int = ""
    clusters: int = 32
    seed: int = 0
    coef_bits: int = 0
    block: int = 64
    frequencies: str = ""
    floor: float = 0.05
    corpus: str = ""
    vocab: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.budget:
            raise MoteError("compress-embedding: give budget=BYTES or budget=8x")
        path = weights_path(op, None)
        if path is None:
            raise MoteError("compress-embedding: the module names no weight file (qtfm.weights)")
        weights = load_weights(op, None)
        request = EmbeddingBudget(
            str(self.budget),
            self.clusters,
            self.seed,
            self.coef_bits,
            self.block,
            Path(self.frequencies) if self.frequencies else None,
            self.floor,
            Path(self.corpus) if self.corpus else None,
            Path(self.vocab) if self.vocab else None,
        )
        if compress_embeddings(op, weights, request) is None:
            return
        out = path.with_name(path.name.removesuffix(".npz") + ".compressed.npz")
        save_weights(out, weights)
        named = Path(op.attributes[WEIGHTS_ATTR].data)  # type: ignore[attr-defined]
        op.attributes[WEIGHTS_ATTR] = StringAttr(str(named.with_name(out.name)))
