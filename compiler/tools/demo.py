"""`make demo`: the whole path, from ONNX to C running on an emulated RV32 microcontroller.

1. The zoo's BERT-tiny (float ONNX as an exporter writes it) is quantized after training into
   an integer-only qtfm program, lowered to C, cross-compiled for rv32imc (`mote compile
   --target rv32imc`) and run under qemu-riscv32 with exact instruction counts (`mote run`);
   its outputs are compared with the reference interpreter (bit for bit) and with onnxruntime
   running the float model on inputs the quantizer was not calibrated with.
2. Deeploy's integer Attention network (../shared/deeploy_tests, beside every checkout) is
   compiled the same way and its outputs checked against Deeploy's golden outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from compiler.tools.mote import main as mote

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT.parent / "shared" / "deeploy_tests" / "Kernels" / "Integer" / "Attention"


def _run(*args: object) -> None:
    print("$ mote " + " ".join(map(str, args)))
    mote([str(a) for a in args])


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def quantized_bert(out: Path) -> bool:
    import onnxruntime as ort

    model, inputs, calib = out / "bert-tiny.onnx", out / "inputs.npz", out / "calib.npz"
    _run("zoo", "bert-tiny", "-o", model, "--seq-len", 64, "--inputs", inputs, "--calib", calib)
    _run("compile", model, "-o", out / "bert-tiny", "--calib", calib, "--dump-ir", "--target", "rv32imc")
    _run("run", out / "bert-tiny", "--inputs", inputs, "--outputs", out / "outputs.npz")
    _run("run", out / "bert-tiny", "--inputs", inputs, "--outputs", out / "reference.npz", "--reference")
    got, feeds, ref = np.load(out / "outputs.npz"), np.load(inputs), np.load(out / "reference.npz")
    ok = all(np.array_equal(got[k], ref[k]) for k in got.files)
    print(f"  rv32imc outputs {'identical to' if ok else 'DIFFERENT from'} the reference interpreter's")
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    samples = next(iter(feeds.values())).shape[0]
    for name in got.files:
        want = np.stack(
            [session.run([name], {k: feeds[k][i] for k in feeds.files})[0] for i in range(samples)]
        )
        cos = _cosine(got[name], want)
        ok &= cos >= 0.99
        print(f"  {name}: cosine {cos:.5f} to onnxruntime on the float model ({samples} samples)")
    return ok


def deeploy_attention(out: Path) -> bool:
    if not (NETWORK / "network.onnx").exists():
        print(f"demo: {NETWORK} is missing (it ships beside the checkout, in ../shared)", file=sys.stderr)
        return False
    inputs = NETWORK / "inputs.npz"
    _run(
        "compile", NETWORK / "network.onnx", "-o", out / "attention", "--calib", inputs, "--target", "rv32imc"
    )
    _run("run", out / "attention", "--inputs", inputs, "--outputs", out / "attention.npz")
    got, want = np.load(out / "attention.npz"), np.load(NETWORK / "outputs.npz")
    total = wrong = 0
    for g, w in zip(got.files, want.files, strict=True):
        a, b = got[g].astype(np.int64), want[w].astype(np.int64).reshape(got[g].shape)
        total += a.size
        wrong += int((a != b).sum())
    print(f"  golden check: {total - wrong}/{total} values identical to Deeploy's outputs.npz")
    return wrong == 0


def demo(out: Path) -> int:
    ok = quantized_bert(out)
    ok &= deeploy_attention(out)
    print(f"the generated C is in {out}/*/c/, every IR stage in {out}/bert-tiny/ir/; try")
    print(f"  .venv/bin/mote-opt {out}/bert-tiny/model.mlir -p qtfm-to-tile,tile-to-loops,plan-memory -t c")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(demo(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/demo")))
