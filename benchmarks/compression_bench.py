"""Embedding compression on the real all-MiniLM-L6-v2 weights: budget against sentence-embedding
accuracy (cosine to the float model on the shipped sentences), and what the budgets do to
BERT-tiny's parameter bytes. Writes benchmarks/results/compression.md and the sweep's plot
docs/embedding_sweep_minilm.svg (`make bench-compression`)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from compiler.frontend.zoo import save_inputs, save_model
from compiler.tools.compress_command import plot_sweep, recommend, sweep
from compiler.transforms.compress_embedding import EmbeddingBudget

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "compression.md"
PLOT = ROOT / "docs" / "embedding_sweep_minilm.svg"
RATIOS = [2.0, 4.0, 6.0, 8.0, 12.0, 16.0]


def _bert_tiny_bytes(work: Path, ratios: list[float], seq_len: int) -> list[tuple[float, int, int]]:
    """(ratio, weight bytes before, after) of the BERT-tiny zoo model per embedding ratio."""
    from compiler.frontend import import_model
    from compiler.transforms.compress_embedding import compress_embeddings

    model = save_model("bert-tiny", work / "bt.onnx", seq_len)
    calib = save_inputs("bert-tiny", work / "bt_calib.npz", seq_len, seed=2)
    module, weights = import_model(model, calib, seq_len, "mixed")
    before = sum(int(w.nbytes) for w in weights.values())
    rows = []
    for r in ratios:
        m, w = module.clone(), dict(weights)
        compress_embeddings(m, w, EmbeddingBudget(f"{r}x"))
        rows.append((r, before, sum(int(a.nbytes) for a in w.values())))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seq-len", type=int, default=48, help="MiniLM sequence length (the sentences need 39)")
    p.add_argument("--min-cosine", type=float, default=0.98)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = save_model("minilm", work / "minilm.onnx", args.seq_len)
        calib = save_inputs("minilm", work / "calib.npz", args.seq_len, source="calibration")
        inputs = save_inputs("minilm", work / "in.npz", args.seq_len, source="sentences")
        points = sweep(model, calib, inputs, EmbeddingBudget("1x"), RATIOS, args.seq_len)
        judged = "sentence_embedding"
        plot_sweep(points, judged, args.min_cosine, PLOT)
        best = recommend(points, judged, args.min_cosine)
        tiny = _bert_tiny_bytes(work, sorted({*RATIOS, 12.3}), 16)
    lines = [
        "# Embedding compression (clustered low-rank, post-training)",
        "",
        f"`make bench-compression` (`python -m benchmarks.compression_bench --seq-len {args.seq_len}`).",
        "",
        "all-MiniLM-L6-v2 (real weights; word-embedding table 30522 x 384, 11,720,448 bytes in int8),",
        "quantized (mixed precision, calibrated on calibration.txt), its table compressed with",
        "`--embedding-budget Nx` (32 clusters, seed 0, int8 or int4 coefficients: the better),",
        "run by the reference interpreter on the 16 shipped sentences against onnxruntime on the",
        "float model. Cosine per sentence: mean and worst.",
        "",
        "| table | bytes | coef bits | table rel. error | sentence_embedding mean | worst "
        "| last_hidden_state mean |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pt in points:
        name = "int8 (uncompressed)" if pt.ratio is None else f"{pt.ratio:g}x smaller"
        se, lh = pt.cosine[judged], pt.cosine["last_hidden_state"]
        lines.append(
            f"| {name} | {pt.table_bytes:,} | {pt.coef_bits} | {pt.relative_error:.3f} | "
            f"{se[0]:.4f} | {se[1]:.4f} | {lh[0]:.4f} |"
        )
    rec = "none" if best is None else f"{best.ratio:g}x"
    lines += [
        "",
        f"Recommended (largest ratio whose worst sentence keeps cosine >= {args.min_cosine}): **{rec}**.",
        "",
        "BERT-tiny zoo model: all parameter bytes (int8/int32 weights) before and after, per ratio:",
        "",
        "| embedding ratio | weight bytes before | after | total shrink |",
        "|---:|---:|---:|---:|",
    ]
    for r, before, after in tiny:
        lines.append(f"| {r:g}x | {before:,} | {after:,} | {before / after:.2f}x |")
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
