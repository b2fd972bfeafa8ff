"""Accuracy of post-training quantization on the zoo, as the README's results table reports it.

    .venv/bin/python -m benchmarks.ptq_accuracy [--seq-len 128]

For every zoo model and both precisions: `mote compile` with calibration inputs, the
reference interpreter on separate evaluation inputs, onnxruntime on the float model, and the
cosine of the outputs (whole tensors, and the worst row: token or sentence). For the Llama,
next-token agreement, overall and where the float model's top-2 logit margin exceeds 0.3.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from compiler.tools.zoo_accuracy import quantized_vs_float


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1]).astype(np.float64)


def measure(name: str, seq_len: int, precision: str, work: Path) -> list[str]:
    outputs = quantized_vs_float(name, seq_len, precision, work)
    lines = []
    for n, (got, want) in outputs.items():
        g, w = _rows(got), _rows(want)
        cos = float((g * w).sum() / (np.linalg.norm(g) * np.linalg.norm(w)))
        rows = (g * w).sum(1) / (np.linalg.norm(g, axis=1) * np.linalg.norm(w, axis=1))
        extra = ""
        if n == "logits":
            top2 = np.sort(w, axis=1)[:, -2:]
            decided = top2[:, 1] - top2[:, 0] > 0.3
            same = g.argmax(1) == w.argmax(1)
            extra = f"next token: {same.mean():.1%} same, {same[decided].mean():.1%} where margin > 0.3"
        lines.append(f"| {name} | {seq_len} | {precision} | {n} | {cos:.5f} | {rows.min():.5f} | {extra} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seq-len", type=int, default=128)
    args = p.parse_args()
    print("| model | tokens | precision | output | cosine | worst row | |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("bert-tiny", "bert-mini", "llama-tiny", "minilm"):
            for precision in ("mixed", "int8"):
                for line in measure(name, args.seq_len, precision, Path(tmp)):
                    print(line, flush=True)


if __name__ == "__main__":
    main()
