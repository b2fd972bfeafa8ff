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
import onnxruntime as ort

from compiler.frontend import import_model
from compiler.frontend.ptq_core import OUTPUT_SCALES_ATTR
from compiler.frontend.zoo import save_inputs, save_model
from compiler.reference.interpreter import Interpreter, entry_function


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1]).astype(np.float64)


def measure(name: str, seq_len: int, precision: str, work: Path) -> list[str]:
    model = save_model(name, work / f"{name}.onnx", seq_len)
    calib_kwargs: dict[str, object] = {"seed": 2} if name != "minilm" else {"source": "calibration"}
    calib = save_inputs(name, work / "calib.npz", seq_len, **calib_kwargs)
    inputs = np.load(save_inputs(name, work / "in.npz", seq_len, seed=1))
    module, weights = import_model(model, calib, seq_len, precision)
    scales = [s.value.data for s in entry_function(module).attributes[OUTPUT_SCALES_ATTR].data]
    interp = Interpreter(module, weights)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got: dict[str, list[np.ndarray]] = {n: [] for n in names}
    want: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i in range(next(iter(inputs.values())).shape[0]):
        sample = {k: inputs[k][i] for k in inputs.files}
        for n, q, s, ref in zip(
            names,
            interp.run([sample[k] for k in inputs.files]),
            scales,
            session.run(names, sample),
            strict=True,
        ):
            got[n].append(q * s)
            want[n].append(ref)
    lines = []
    for n in names:
        g, w = _rows(np.stack(got[n])), _rows(np.stack(want[n]))
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
