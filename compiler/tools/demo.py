"""`make demo`: the furthest stage of the pipeline that works today, on a bundled default.

The compile path to C does not exist yet, so the demo imports Deeploy's integer Attention
network (from ../shared/deeploy_tests, which sits beside every checkout), compiles it for
the host (the qtfm program run by the reference interpreter), runs it on the network's own
inputs and checks the outputs against Deeploy's golden outputs, value by value.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from compiler.tools.mote import main as mote

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT.parent / "shared" / "deeploy_tests" / "Kernels" / "Integer" / "Attention"


def demo(out: Path) -> int:
    if not (NETWORK / "network.onnx").exists():
        print(f"demo: {NETWORK} is missing (it ships beside the checkout, in ../shared)", file=sys.stderr)
        return 1
    args = [
        "compile",
        str(NETWORK / "network.onnx"),
        "-o",
        str(out),
        "--calib",
        str(NETWORK / "inputs.npz"),
        "--dump-ir",
    ]
    print("$ mote " + " ".join(args))
    mote(args)
    outputs = out / "outputs.npz"
    args = ["run", str(out), "--inputs", str(NETWORK / "inputs.npz"), "--outputs", str(outputs)]
    print("$ mote " + " ".join(args))
    mote(args)
    got, want = np.load(outputs), np.load(NETWORK / "outputs.npz")
    total = wrong = 0
    for g, w in zip(got.files, want.files, strict=True):
        a, b = got[g].astype(np.int64), want[w].astype(np.int64).reshape(got[g].shape)
        total += a.size
        wrong += int((a != b).sum())
    print(f"golden check: {total - wrong}/{total} values identical to Deeploy's outputs.npz")
    print(f"the qtfm program is in {out / 'model.mlir'}; try `.venv/bin/mote-opt {out / 'model.mlir'}`")
    return 0 if wrong == 0 else 1


if __name__ == "__main__":
    sys.exit(demo(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/demo")))
