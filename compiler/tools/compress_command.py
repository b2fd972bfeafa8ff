"""`mote compress MODEL.onnx --sweep`: embedding budget against accuracy, to choose a budget by looking.

For each budget (ratios to the int8 table), the model is quantized once, its largest embedding
table compressed (compress-embedding), and the integer program run by the reference
interpreter on the user's inputs next to onnxruntime on the float model; the table gives the
cosine of every output (mean and worst sample) and the table's reconstruction error, the
plot draws the judged output's cosine against the ratio, and the recommendation is the
largest ratio whose worst sample still reaches `--min-cosine`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from compiler.errors import MoteError
from compiler.frontend import import_model
from compiler.npz_io import read_npz
from compiler.tools.zoo_accuracy import integer_vs_float
from compiler.transforms.compress_embedding import EmbeddingBudget, compress_embeddings

DEFAULT_RATIOS = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0)


@dataclass
class SweepPoint:
    ratio: float | None
    """None: the uncompressed int8 table (the quantized model's own accuracy)."""
    table_bytes: int
    coef_bits: int
    relative_error: float
    weight_bytes: int
    cosine: dict[str, tuple[float, float]]
    """Per output: (mean, worst) over samples of the cosine to the float model."""


def sample_cosines(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Cosine similarity per sample (leading axis), each sample's values flattened."""
    a = got.reshape(got.shape[0], -1).astype(np.float64)
    b = want.reshape(want.shape[0], -1).astype(np.float64)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(den, 1e-30)


def _measure(
    model: Path, module: ModuleOp, weights: dict[str, np.ndarray], inputs: Mapping[str, np.ndarray]
) -> dict[str, tuple[float, float]]:
    out = {}
    for name, (got, want) in integer_vs_float(model, module, weights, inputs).items():
        c = sample_cosines(got, want)
        out[name] = (float(c.mean()), float(c.min()))
    return out


def sweep(
    model: Path,
    calib: Path,
    inputs: Path,
    request: EmbeddingBudget,
    ratios: list[float],
    seq_len: int | None = None,
    precision: str = "mixed",
) -> list[SweepPoint]:
    base_module, base_weights = import_model(model, calib, seq_len, precision)
    samples = read_npz(inputs)
    total = sum(int(w.nbytes) for w in base_weights.values())
    points = [SweepPoint(None, 0, 8, 0.0, total, _measure(model, base_module, base_weights, samples))]
    for ratio in ratios:
        module, weights = base_module.clone(), dict(base_weights)
        done = compress_embeddings(module, weights, replace(request, budget=f"{ratio}x"))
        if done is None:
            raise MoteError(f"{model}: has no embedding lookup of a constant table to compress")
        if points[0].table_bytes == 0:
            points[0].table_bytes = done.original_bytes
        points.append(
            SweepPoint(
                ratio,
                done.compressed_bytes,
                done.coef_bits,
                done.relative_error,
                sum(int(w.nbytes) for w in weights.values()),
                _measure(model, module, weights, samples),
            )
        )
        print(_row(points[-1], points[0]), flush=True)
    return points


def _row(p: SweepPoint, base: SweepPoint) -> str:
    ratio = "int8" if p.ratio is None else f"{p.ratio:g}x"
    cos = "  ".join(f"{n} {m:.4f} / {w:.4f}" for n, (m, w) in p.cosine.items())
    return (
        f"{ratio:>6} {p.table_bytes:>10} {p.coef_bits:>4} {p.relative_error:>8.3f} "
        f"{base.weight_bytes / p.weight_bytes:>7.2f}x  {cos}"
    )


def recommend(points: list[SweepPoint], judged: str, min_cosine: float) -> SweepPoint | None:
    """The most compressed point whose worst sample of `judged` reaches `min_cosine`."""
    ok = [p for p in points if p.ratio is not None and p.cosine[judged][1] >= min_cosine]
    return max(ok, key=lambda p: p.ratio or 0.0) if ok else None


def plot_sweep(points: list[SweepPoint], judged: str, min_cosine: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comp = [p for p in points if p.ratio is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    x = [p.ratio for p in comp]
    ax.plot(x, [p.cosine[judged][0] for p in comp], "o-", label=f"{judged}: mean over samples")
    ax.plot(x, [p.cosine[judged][1] for p in comp], "s--", label=f"{judged}: worst sample")
    ax.axhline(points[0].cosine[judged][1], color="grey", lw=0.8, label="int8 table, worst sample")
    ax.axhline(min_cosine, color="red", lw=0.8, ls=":", label=f"target {min_cosine}")
    ax.set_xlabel("embedding table: times smaller than int8")
    ax.set_ylabel("cosine to the float model")
    ax.set_title("clustered low-rank embedding: budget vs accuracy")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)


def compress_command(
    model: Path,
    calib: Path | None,
    inputs: Path | None,
    request: EmbeddingBudget,
    ratios: list[float],
    seq_len: int | None,
    judged: str | None,
    min_cosine: float,
    plot: Path | None,
    json_out: Path | None,
) -> None:
    if calib is None or inputs is None:
        raise MoteError("mote compress --sweep needs --calib FILE.npz (to quantize) and --inputs FILE.npz")
    if model.suffix != ".onnx":
        raise MoteError(f"{model}: mote compress takes a float .onnx model")
    print(f"{'ratio':>6} {'bytes':>10} {'bits':>4} {'rel.err':>8} {'weights':>8}  cosine mean / worst")
    points = sweep(model, calib, inputs, request, ratios, seq_len)
    print(_row(points[0], points[0]) + "   (int8 table, uncompressed)")
    names = list(points[0].cosine)
    judged = judged or names[-1]
    if judged not in names:
        raise MoteError(f"{model}: no output named '{judged}' (outputs: {', '.join(names)})")
    best = recommend(points, judged, min_cosine)
    if best is None:
        print(f"no budget keeps {judged} at cosine >= {min_cosine} on every sample")
    else:
        print(
            f"recommended: --embedding-budget {best.ratio:g}x ({best.table_bytes} bytes): "
            f"{judged} cosine >= {best.cosine[judged][1]:.4f} on every sample"
        )
    if plot is not None:
        plot_sweep(points, judged, min_cosine, plot)
        print(f"plotted to {plot}")
    if json_out is not None:
        json_out.write_text(json.dumps([p.__dict__ for p in points], indent=2) + "\n")
