"""`mote compile` and `mote run` on rv32imc-xcv (clang-19 with the CORE-V extensions, run by the
unicorn runner): every Deeploy network and every zoo model reproduce their references
bit-exactly, with instruction counts, the stack figure and cycles in the report. The zoo
models are also quantized with `--precision int8`, whose linear layers and attention products
run on the SIMD dot-product kernels. (tests/backend/test_end_to_end.py does the same for host
and rv32imc.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.frontend.zoo import ZOO_NAMES, save_inputs, save_model
from compiler.tools.compile_model import compile_model
from compiler.tools.run_model import run_model
from tests.backend.npz_outputs import assert_same, outputs
from tests.deeploy_networks import NETWORKS, golden, network_id

ZOO_SEQ_LEN = 16


def _check_report(out: Path) -> None:
    report = json.loads((out / "report.json").read_text())
    assert report["runner"] == "unicorn" and report["target"] == "rv32imc-xcv"
    run = report["run"]
    assert run["runner"] == "unicorn" and run["instructions_model"] > 0 and "stack_bytes" in run
    assert run["instructions_total"] > run["instructions_model"]


@pytest.mark.parametrize("path", NETWORKS, ids=network_id)
def test_deeploy_network_is_bit_exact_on_xcv(path: Path, tmp_path: Path) -> None:
    _, want = golden(path)
    inputs = path / "inputs.npz"
    compile_model(path / "network.onnx", tmp_path / "xcv", "rv32imc-xcv", inputs, False)
    run_model(tmp_path / "xcv", inputs, tmp_path / "out.npz")
    got = outputs(tmp_path / "out.npz")
    assert_same(got, [g.reshape(x.shape) for g, x in zip(want, got, strict=False)])
    _check_report(tmp_path / "xcv")


@pytest.mark.parametrize(("name", "precision"), [("bert-tiny", "mixed"), *((n, "int8") for n in ZOO_NAMES)])
def test_zoo_model_is_bit_exact_on_xcv(name: str, precision: str, tmp_path: Path) -> None:
    model = save_model(name, tmp_path / f"{name}.onnx", ZOO_SEQ_LEN)
    calib_kwargs: dict[str, object] = {"seed": 2} if name != "minilm" else {"source": "calibration"}
    calib = save_inputs(name, tmp_path / "calib.npz", ZOO_SEQ_LEN, **calib_kwargs)  # type: ignore[arg-type]
    inputs = save_inputs(name, tmp_path / "inputs.npz", ZOO_SEQ_LEN, n_samples=2, seed=1)
    compile_model(model, tmp_path / "host", "host", calib, False, precision=precision)
    run_model(tmp_path / "host", inputs, tmp_path / "ref.npz", reference=True)
    # the quantized program compiles again, without calibration, for the CORE-V microcontroller
    compile_model(tmp_path / "host" / "model.mlir", tmp_path / "xcv", "rv32imc-xcv", None, False)
    run_model(tmp_path / "xcv", inputs, tmp_path / "xcv.npz")
    assert_same(outputs(tmp_path / "xcv.npz"), outputs(tmp_path / "ref.npz"))
    _check_report(tmp_path / "xcv")
    assert "cycles" in json.loads((tmp_path / "xcv" / "report.json").read_text())["run"]
