"""`mote compile` and `mote run` on rv32imc-xcv (clang-19 with the CORE-V extensions, run by the
unicorn runner): the Deeploy kernel networks and the BERT-tiny zoo model reproduce their
references bit-exactly, with instruction counts, the stack figure and cycles in the report.
(tests/backend/test_end_to_end.py does the same for host and rv32imc.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compiler.frontend.zoo import save_inputs, save_model
from compiler.tools.compile_model import compile_model
from compiler.tools.run_model import run_model
from tests.deeploy_networks import NETWORKS, ROOT, golden, network_id

KERNELS = [p for p in NETWORKS if p.is_relative_to(ROOT / "Kernels")]
ZOO_SEQ_LEN = 16


def _outputs(path: Path) -> list[np.ndarray]:
    data = np.load(path)
    return [data[k] for k in data.files]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.astype(np.float64).ravel(), y.astype(np.float64).ravel())


def _check_report(out: Path) -> None:
    report = json.loads((out / "report.json").read_text())
    assert report["runner"] == "unicorn" and report["target"] == "rv32imc-xcv"
    run = report["run"]
    assert run["runner"] == "unicorn" and run["instructions_model"] > 0 and "stack_bytes" in run
    assert run["instructions_total"] > run["instructions_model"]


@pytest.mark.parametrize("path", KERNELS, ids=network_id)
def test_deeploy_kernel_is_bit_exact_on_xcv(path: Path, tmp_path: Path) -> None:
    _, want = golden(path)
    inputs = path / "inputs.npz"
    compile_model(path / "network.onnx", tmp_path / "xcv", "rv32imc-xcv", inputs, False)
    run_model(tmp_path / "xcv", inputs, tmp_path / "out.npz")
    got = _outputs(tmp_path / "out.npz")
    _same(got, [g.reshape(x.shape) for g, x in zip(want, got, strict=False)])
    _check_report(tmp_path / "xcv")


def test_bert_tiny_is_bit_exact_on_xcv(tmp_path: Path) -> None:
    model = save_model("bert-tiny", tmp_path / "bert-tiny.onnx", ZOO_SEQ_LEN)
    calib = save_inputs("bert-tiny", tmp_path / "calib.npz", ZOO_SEQ_LEN, seed=2)
    inputs = save_inputs("bert-tiny", tmp_path / "inputs.npz", ZOO_SEQ_LEN, n_samples=2, seed=1)
    compile_model(model, tmp_path / "host", "host", calib, False)
    run_model(tmp_path / "host", inputs, tmp_path / "ref.npz", reference=True)
    # the quantized program compiles again, without calibration, for the CORE-V microcontroller
    compile_model(tmp_path / "host" / "model.mlir", tmp_path / "xcv", "rv32imc-xcv", None, False)
    run_model(tmp_path / "xcv", inputs, tmp_path / "xcv.npz")
    _same(_outputs(tmp_path / "xcv.npz"), _outputs(tmp_path / "ref.npz"))
    _check_report(tmp_path / "xcv")
    assert "cycles" in json.loads((tmp_path / "xcv" / "report.json").read_text())["run"]
