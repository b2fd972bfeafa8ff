"""The loops of `qtfm.clustered_embedding` (compiler/transforms/loop_nests/clustered_embedding.py)
against the reference kernel, bit for bit: a property test on the host over vocabularies,
widths, clusters, ranks (0 and D included), blocks (1 to 64, dividing V or not), int8 and
int4 coefficients, multipliers and shifts; the SIMD pipeline; ids out of range; a row-tiled
program; and fixed programs built for rv32imc (qemu) and rv32imc-xcv (unicorn)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.reference import kernels
from compiler.tools.compile_model import compile_model
from compiler.tools.ir_files import write_ir
from compiler.tools.pipeline import run_pipeline
from compiler.tools.run_model import run_model
from tests.backend.npz_outputs import outputs
from tests.transforms.c_oracle import assert_same, host_c, parse, reference

SETTINGS = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SIMD_PIPELINE = "qtfm-to-tile,tile-to-loops{simd=xpulp},plan-memory"
ROW_TILED_PIPELINE = "tile-embedding-rows{rows=3},qtfm-to-tile,tile-to-loops,plan-memory"
NP_TYPES = {"ui8": np.uint8, "ui16": np.uint16}


def _t(shape: tuple[int, ...], elem: str) -> str:
    return "tensor<" + "".join(f"{d}x" for d in shape) + elem + ">"


def _array(values: list[int]) -> str:
    return "array<i64" + (": " + ", ".join(map(str, values)) if values else "") + ">"


@dataclass
class Lookup:
    """One clustered embedding: its table (weights named `<name>.*`), parameters and ids."""

    name: str
    clusters: np.ndarray
    cluster_type: str
    ranks: list[int]
    muls: list[int]
    shifts: list[int]
    block: int
    bits: int
    coefficients: np.ndarray  # the values, one per coefficient of the pool (not packed)
    bases: np.ndarray
    ids: np.ndarray
    ids_type: str
    out_type: str
    padding: int = 0  # unused bytes at the end of the pool

    def weights(self) -> dict[str, np.ndarray]:
        _, offsets = kernels.clustered_offsets(self.clusters, np.asarray(self.ranks), self.block)
        pool = self.coefficients.astype(np.int8) if self.bits == 8 else kernels.pack_int4(self.coefficients)
        pool = np.concatenate([pool, np.zeros(self.padding, np.int8)])
        return {
            f"{self.name}.clusters": self.clusters.astype(NP_TYPES[self.cluster_type]),
            f"{self.name}.offsets": offsets.astype(np.int32),
            f"{self.name}.coefficients": pool,
            f"{self.name}.bases": self.bases.astype(np.int8),
        }

    def out_type_text(self) -> str:
        return _t((*self.ids.shape, self.bases.shape[1]), self.out_type)

    def lines(self, ids: str, result: str) -> list[str]:
        w = self.weights()
        types = [
            _t(w[f"{self.name}.clusters"].shape, self.cluster_type),
            _t(w[f"{self.name}.offsets"].shape, "i32"),
            _t(w[f"{self.name}.coefficients"].shape, "i8"),
            _t(w[f"{self.name}.bases"].shape, "i8"),
        ]
        names = ["clusters", "offsets", "coefficients", "bases"]
        pairs = zip(names, types, strict=True)
        lines = [f'%{self.name}_{n} = qtfm.weight "{self.name}.{n}" : {typ}' for n, typ in pairs]
        props = (
            f"{{block = {self.block} : i64, coef_bits = {self.bits} : i64, ranks = {_array(self.ranks)}, "
            f"muls = {_array(self.muls)}, shifts = {_array(self.shifts)}}}"
        )
        operands = ", ".join([ids, *(f"%{self.name}_{n}" for n in names)])
        signature = f"({_t(self.ids.shape, self.ids_type)}, {', '.join(types)}) -> {self.out_type_text()}"
        lines.append(f"{result} = qtfm.clustered_embedding {operands} {props} : {signature}")
        return lines


def program(lookups: list[Lookup]) -> tuple[str, list[np.ndarray], dict[str, np.ndarray]]:
    """A function of one ids argument per lookup, returning every lookup's rows."""
    args = ", ".join(f"%ids{i}: {_t(lk.ids.shape, lk.ids_type)}" for i, lk in enumerate(lookups))
    results = ", ".join(lk.out_type_text() for lk in lookups)
    body = [line for i, lk in enumerate(lookups) for line in lk.lines(f"%ids{i}", f"%e{i}")]
    returned = ", ".join(f"%e{i}" for i in range(len(lookups)))
    text = "\n    ".join(body)
    src = f"""func.func @main({args}) -> ({results}) {{
    {text}
    func.return {returned} : {results}
}}"""
    weights = {k: v for lk in lookups for k, v in lk.weights().items()}
    return src, [lk.ids for lk in lookups], weights


def _values(draw: st.DrawFn, size: int, lo: int, hi: int) -> np.ndarray:
    """Random values in [lo, hi], the first and last often the extremes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(lo, hi, size=size, endpoint=True, dtype=np.int64)
    if size and draw(st.booleans()):
        values[0], values[-1] = lo, hi
    return values


@st.composite
def lookups(draw: st.DrawFn, name: str = "emb") -> Lookup:
    vocab, dim = draw(st.integers(1, 40)), draw(st.integers(1, 10))
    n_clusters = draw(st.integers(1, 5))
    ranks = [draw(st.one_of(st.sampled_from([0, dim]), st.integers(0, dim))) for _ in range(n_clusters)]
    if not any(ranks):
        ranks[draw(st.integers(0, n_clusters - 1))] = draw(st.integers(1, dim))  # no empty weight
    clusters = _values(draw, vocab, 0, n_clusters - 1)
    block = draw(st.one_of(st.integers(1, 64), st.sampled_from([1, vocab, max(1, vocab - 1)])))
    bits = draw(st.sampled_from([4, 8]))
    needed = int(sum(ranks[c] for c in clusters))
    coefficients = _values(draw, needed, *((-128, 127) if bits == 8 else (-8, 7)))
    bases = _values(draw, sum(ranks) * dim, -128, 127).reshape(sum(ranks), dim)
    out_type = draw(st.sampled_from(["i8", "ui8", "i16", "ui16"]))
    muls, shifts = [], []
    for r in ranks:
        if draw(st.booleans()):  # anything allowed (mostly saturates)
            muls.append(draw(st.one_of(st.sampled_from([0, 1, 2**31 - 1]), st.integers(0, 2**31 - 1))))
            shifts.append(draw(st.integers(0, 40)))
        else:  # scaled so that most values land inside the output range
            mul = draw(st.one_of(st.integers(1, 2**12), st.integers(2**20, 2**31 - 1)))
            typical = max(1, r) * (64 if bits == 8 else 4) * 64 * mul
            bits_out = 8 if out_type.endswith("8") else 16
            muls.append(mul)
            shifts.append(min(40, max(0, typical.bit_length() - bits_out + draw(st.integers(-1, 2)))))
    n_ids = draw(st.integers(1, 8))
    shape = draw(st.sampled_from([(n_ids,), (1, n_ids), (2, n_ids)]))
    ids = _values(draw, int(np.prod(shape)), 0, vocab - 1).reshape(shape)
    return Lookup(
        name,
        clusters,
        draw(st.sampled_from(["ui8", "ui16"])),
        ranks,
        muls,
        shifts,
        block,
        bits,
        coefficients,
        bases,
        ids,
        draw(st.sampled_from(["i32", "i16"])),
        out_type,
        draw(st.integers(0, 2)),
    )


@given(case=st.integers(1, 2).flatmap(lambda n: st.tuples(*(lookups(f"e{i}") for i in range(n)))))
@SETTINGS
def test_lowered_lookup_matches_the_reference(case: tuple[Lookup, ...]) -> None:
    """One or two independent lookups per program (one build of C per example)."""
    assert_same(*program(list(case)))


@given(case=lookups())
@settings(SETTINGS, max_examples=8)
def test_simd_pipeline_keeps_the_scalar_loops_exact(case: Lookup) -> None:
    assert_same(*program([case]), SIMD_PIPELINE)


def _fixed(name: str, bits: int, vocab: int = 23, dim: int = 6, block: int = 5, seed: int = 0) -> Lookup:
    """Five clusters of ranks 0, D, 1, 3, 2 (block not dividing V), the int8/int4 edge values,
    multipliers from 0 to 2^31 - 1 (64-bit requantization) and shifts up to 62, most rows
    inside the output range."""
    rng = np.random.default_rng(seed)
    ranks = [0, dim, 1, 3, 2]
    clusters = np.array([i % 5 for i in range(vocab)])
    rng.shuffle(clusters)
    lo, hi = (-128, 127) if bits == 8 else (-8, 7)
    coefficients = rng.integers(lo, hi, size=int(sum(ranks[c] for c in clusters)), endpoint=True)
    coefficients[:2] = lo, hi
    bases = rng.integers(-128, 127, size=(sum(ranks), dim), endpoint=True)
    bases[0, :2] = -128, 127
    ids = np.array([[0, vocab - 1, 7, 3, 3, 12, 19, 1, vocab - 2]])
    return Lookup(
        name,
        clusters,
        "ui8",
        ranks,
        [0, (1 << 30) + 12345, 2**31 - 1, 1 << 20, 3],
        [1, 39, 62, 28, 9],
        block,
        bits,
        coefficients,
        bases,
        ids,
        "i32",
        "i8",
    )


def test_ids_out_of_range_write_zero_rows() -> None:
    """The reference rejects such ids; the C writes zeros instead of reading outside the tables
    (and computes the ids in range as usual)."""
    lookup = _fixed("emb", 8)
    vocab = lookup.clusters.size
    lookup.ids = np.array([[0, -1, vocab, 2**31 - 1, -(2**31), vocab - 1]])
    (got,) = host_c(*program([lookup]))
    assert not got[0, 1:5].any()
    lookup.ids = lookup.ids.clip(0, vocab - 1)
    (want,) = reference(*program([lookup]))
    assert want[0, 1:5].any()
    np.testing.assert_array_equal(got[0, [0, 5]], want[0, [0, 5]])


def test_row_tiled_lookup_stage_is_bit_exact() -> None:
    """tile-embedding-rows runs the lookup and the requantized sum after it 3 ids at a time
    (3 + 3 + 3 of 9): the same integers as the untiled program."""
    lookup = _fixed("emb", 4)
    src, inputs, weights = program([lookup])
    out = lookup.out_type_text()
    src = src.replace(
        f"func.return %e0 : ({out})",
        f"%s = qtfm.add %e0, %e0 requant #qtfm.requant<mul = 3, add = 1, shift = 2, levels = 256, signed>"
        f" : ({out}, {out}) -> {out}\n    func.return %s : {out}",
    ).replace(f"-> ({out})", f"-> {out}")
    module = parse(src)
    run_pipeline(module, "tile-embedding-rows{rows=3}")
    tiles = [op for op in module.walk() if op.name == "qtfm.clustered_embedding"]
    assert [op.results[0].type.get_shape()[1] for op in tiles] == [3, 3, 3]  # type: ignore[attr-defined]
    assert_same(src, inputs, weights, ROW_TILED_PIPELINE)


@pytest.mark.parametrize("target", ["rv32imc", "rv32imc-xcv"])
def test_fixed_lookups_are_bit_exact_on_the_microcontrollers(target: str, tmp_path: Path) -> None:
    """An int8 and an int4 table (64-bit requantization on RV32, rank-0 and rank-D clusters,
    a block that does not divide V) built for the target and run by its emulator."""
    src, inputs, weights = program([_fixed("a", 8), _fixed("b", 4, vocab=30, dim=9, block=64, seed=1)])
    module = parse(src)
    write_ir(module, weights, tmp_path / "m.mlir")
    np.savez(tmp_path / "inputs.npz", **{f"ids{i}": ids for i, ids in enumerate(inputs)})
    compile_model(tmp_path / "m.mlir", tmp_path / target, target, None, False)
    run_model(tmp_path / target, tmp_path / "inputs.npz", tmp_path / "out.npz")
    got = outputs(tmp_path / "out.npz")
    want = reference(src, inputs, weights)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.reshape(w.shape), w)
