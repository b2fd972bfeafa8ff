"""Accuracy of post-training quantization on the zoo, as the README's results table reports it.

    .venv/bin/python -m benchmarks.ptq_accuracy [--seq-len 128]

For every zoo model and both precisions: `mote compile` with calibration inputs, the
reference interpreter on separate evaluation inputs, onnxruntime on the float model, and the
cosine of the outputs (whole tensors, and the worst row: token or sentence). For the Llama,
next-token agreement, overall and where the float model's top-2 logit margin exceeds 0.3,
and the same agreement when only the weights are quantized (int8, mote's granularity: one
scale per output channel for matrix products, one per embedding table) and everything else
runs in float in onnxruntime: the part of the disagreement no activation scheme can remove.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from compiler.frontend.zoo import save_inputs, save_model
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
        extra = _agreement(got, want) if n == "logits" else ""
        lines.append(f"| {name} | {seq_len} | {precision} | {n} | {cos:.5f} | {rows.min():.5f} | {extra} |")
    return lines


def _agreement(got: np.ndarray, want: np.ndarray) -> str:
    g, w = _rows(got), _rows(want)
    top2 = np.sort(w, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 0.3
    same = g.argmax(1) == w.argmax(1)
    return f"next token: {same.mean():.1%} same, {same[decided].mean():.1%} where margin > 0.3"


def weights_only(name: str, seq_len: int, work: Path) -> str:
    """onnxruntime on the float model and on a copy whose weights are int8 and dequantized
    (MatMul/Gemm right-hand constants per output channel, Gather tables per tensor)."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    path = save_model(name, work / f"{name}-wo.onnx", seq_len)
    model = onnx.load(str(path))
    per_channel = {n.input[1] for n in model.graph.node if n.op_type in ("MatMul", "Gemm")}
    per_tensor = {n.input[0] for n in model.graph.node if n.op_type == "Gather"}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32 or a.ndim != 2 or init.name not in per_channel | per_tensor:
            continue
        top = np.abs(a).max(axis=0, keepdims=True) if init.name in per_channel else np.abs(a).max()
        scale = np.where(top == 0, 1.0, top / 127.0)
        init.CopyFrom(numpy_helper.from_array((np.round(a / scale) * scale).astype(np.float32), init.name))
    quantized = work / f"{name}-wo-q.onnx"
    onnx.save(model, str(quantized))
    with np.load(save_inputs(name, work / "wo-in.npz", seq_len, seed=1)) as data:
        inputs = {k: data[k] for k in data.files}
    outs = []
    for m in (quantized, path):
        session = ort.InferenceSession(str(m), providers=["CPUExecutionProvider"])
        n = next(iter(inputs.values())).shape[0]
        outs.append(np.stack([session.run(None, {k: v[i] for k, v in inputs.items()})[0] for i in range(n)]))
    return f"| {name} | {seq_len} | weights only | logits | | | {_agreement(*outs)} |"


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
            if name == "llama-tiny":
                print(weights_only(name, args.seq_len, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
