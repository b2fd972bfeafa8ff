"""The Deeploy integer test networks beside the checkout (../shared/deeploy_tests)."""

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2] / "shared" / "deeploy_tests"
NETWORKS = sorted(p.parent for p in ROOT.rglob("network.onnx"))
KERNELS = ["RequantShift", "iSoftmax", "iRMSNorm", "iHardswish", "Attention"]


def network_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def golden(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Inputs and golden outputs, in file order."""
    ins, outs = np.load(path / "inputs.npz"), np.load(path / "outputs.npz")
    return [ins[k] for k in ins.files], [outs[k] for k in outs.files]
