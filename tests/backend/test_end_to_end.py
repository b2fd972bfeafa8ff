"""Every Deeploy network and every zoo model compiles to C, builds and runs on the host (also
with AddressSanitizer/UBSan) and on rv32imc under qemu, and its outputs are bit-identical to
the reference interpreter, hence to Deeploy's golden outputs for its networks.

The arena guard bytes of the harness check on every run that the program stays inside its
planned arena; the memory plan verifier runs inside every compile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from compiler.backend.build import build_model
from compiler.backend.harness_io import input_bytes
from compiler.backend.run import run_model_binary
from compiler.backend.target import load_target
from compiler.errors import MoteError
from compiler.frontend.zoo import save_inputs, save_model
from compiler.reference.interpreter import entry_function
from compiler.tools.compile_model import compile_model
from compiler.tools.ir_files import read_ir
from compiler.tools.run_model import run_model
from tests.backend.npz_outputs import assert_same, outputs
from tests.deeploy_networks import NETWORKS, golden, network_id

ZOO = ["bert-tiny", "bert-mini", "llama-tiny", "minilm"]
ZOO_SEQ_LEN = 16


def _sanitized_host_run(out: Path, tmp: Path, inputs: Path) -> None:
    """The host program rebuilt with -fsanitize=address,undefined gives the same bytes on the
    first sample of `inputs`."""
    host = load_target("host")
    exe = build_model(out / "c", host, tmp / "model.asan", sanitize=True)
    module, _ = read_ir(out / "model.mlir")
    types = list(entry_function(module).function_type.inputs.data)
    data = np.load(inputs)
    first = [
        a[0] if a.ndim > len(t.get_shape()) else a  # type: ignore[attr-defined]
        for a, t in zip((data[k] for k in data.files), types, strict=False)
    ]
    blob = input_bytes(first, types)
    report = json.loads((out / "report.json").read_text())
    plain = run_model_binary(out / str(report["program"]), host, blob)
    checked = run_model_binary(exe, host, blob)
    assert checked.output_bytes == plain.output_bytes


@pytest.mark.parametrize("path", NETWORKS, ids=network_id)
def test_deeploy_network_is_bit_exact_on_host_and_rv32imc(path: Path, tmp_path: Path) -> None:
    _, want = golden(path)
    inputs = path / "inputs.npz"
    for target in ("host", "rv32imc"):
        out = tmp_path / target
        compile_model(path / "network.onnx", out, target, inputs, False)
        run = run_model(out, inputs, tmp_path / f"{target}.npz")["run"]
        got = outputs(tmp_path / f"{target}.npz")
        assert_same(got, [g.reshape(x.shape) for g, x in zip(want, got, strict=False)])
        if target == "rv32imc":
            assert run["instructions_model"] > 0 and "stack_bytes" in run  # type: ignore[index, operator]
    _sanitized_host_run(tmp_path / "host", tmp_path, inputs)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_is_bit_exact_on_host_and_rv32imc(name: str, tmp_path: Path) -> None:
    model = save_model(name, tmp_path / f"{name}.onnx", ZOO_SEQ_LEN)
    calib_source: dict[str, object] = {"source": "calibration"} if name == "minilm" else {"seed": 2}
    calib = save_inputs(name, tmp_path / "calib.npz", ZOO_SEQ_LEN, **calib_source)
    inputs = save_inputs(name, tmp_path / "inputs.npz", ZOO_SEQ_LEN, n_samples=2, seed=1)
    compile_model(model, tmp_path / "host", "host", calib, False)
    run_model(tmp_path / "host", inputs, tmp_path / "ref.npz", reference=True)
    want = outputs(tmp_path / "ref.npz")
    run_model(tmp_path / "host", inputs, tmp_path / "host.npz")
    assert_same(outputs(tmp_path / "host.npz"), want)
    _sanitized_host_run(tmp_path / "host", tmp_path, inputs)
    # the quantized program compiles again, without calibration, for the microcontroller
    compile_model(tmp_path / "host" / "model.mlir", tmp_path / "rv32", "rv32imc", None, False)
    run_model(tmp_path / "rv32", inputs, tmp_path / "rv32.npz")
    assert_same(outputs(tmp_path / "rv32.npz"), want)
    report = json.loads((tmp_path / "rv32" / "report.json").read_text())
    assert report["arena_bytes"] >= report["arena_lower_bound_bytes"] > 0
    assert report["run"]["peak_ram_bytes"] >= report["static_ram_bytes"]


def _int8_reference(name: str, seq: int, tmp_path: Path) -> tuple[Path, Path, list[np.ndarray]]:
    """A zoo model quantized with `--precision int8`: its qtfm program, two input samples and
    the reference interpreter's outputs on them."""
    model = save_model(name, tmp_path / f"{name}.onnx", seq)
    calib_kwargs: dict[str, object] = {"source": "calibration"} if name == "minilm" else {"seed": 2}
    calib = save_inputs(name, tmp_path / "calib.npz", seq, **calib_kwargs)  # type: ignore[arg-type]
    inputs = save_inputs(name, tmp_path / "inputs.npz", seq, n_samples=2, seed=1)
    compile_model(model, tmp_path / "plain", "host", calib, False, precision="int8")
    run_model(tmp_path / "plain", inputs, tmp_path / "ref.npz", reference=True)
    return tmp_path / "plain" / "model.mlir", inputs, outputs(tmp_path / "ref.npz")


@pytest.mark.parametrize(
    ("name", "seq", "rows"),
    [*((name, 20, 8) for name in ZOO), ("bert-tiny", 13, 4), ("llama-tiny", 13, 4)],
)
def test_row_tiled_schedule_is_bit_exact(name: str, seq: int, rows: int, tmp_path: Path) -> None:
    """Every zoo model with its embedding stage, layers, attention and FFN in tiles of 8 rows
    on 20 tokens (8 + 8 + 4), and two of them in tiles of 4 on 13 tokens (4 + 4 + 4 + 1): the
    same integers as the untiled reference program, on the host and on rv32imc. (At these
    lengths tiling need not shrink the arena; test_ram_budget_... checks that it does.)"""
    qtfm, inputs, want = _int8_reference(name, seq, tmp_path)
    for target in ("host", "rv32imc"):
        report = compile_model(qtfm, tmp_path / target, target, None, False, tile_rows=rows)
        assert "tile-layer-rows" in str(report["pipeline"]) and report["schedule"]["tile_rows"] == rows  # type: ignore[index]
        last = (seq - 1) // rows * rows
        assert (tmp_path / target / "c" / "model.c").read_text().count(f"_r{last}") > 0  # the last tile
        run_model(tmp_path / target, inputs, tmp_path / f"{target}.npz")
        assert_same(outputs(tmp_path / f"{target}.npz"), want)


@pytest.mark.parametrize("name", ["bert-tiny", "llama-tiny"])
def test_recomputed_keys_and_values_are_bit_exact(name: str, tmp_path: Path) -> None:
    """A BERT and the Llama (RoPE on the keys, causal mask) in query tiles of 4 rows whose keys
    and values are recomputed 5 rows at a time (13 tokens: 4 + 4 + 4 + 1 queries, 5 + 5 + 3
    keys): the reference's integers on the host and on rv32imc, context products summed over
    key tiles."""
    seq, rows, keys = 13, 4, 5
    qtfm, inputs, want = _int8_reference(name, seq, tmp_path)
    for target in ("host", "rv32imc"):
        out = tmp_path / target
        report = compile_model(qtfm, out, target, None, target == "host", tile_rows=rows, recompute_kv=keys)
        assert report["schedule"]["recompute_kv_rows"] == keys  # type: ignore[index]
        if target == "host":  # context products summed over key tiles in int32
            stage = next((out / "ir").glob("*-tile-layer-rows.mlir")).read_text()
            assert re.search(r"qtfm\.add %\S+, %\S+ : \(tensor<[0-9x]+xi32>", stage)
        run_model(out, inputs, tmp_path / f"{target}.npz")
        assert_same(outputs(tmp_path / f"{target}.npz"), want)


def test_ram_budget_chooses_the_fastest_schedule_that_fits(tmp_path: Path) -> None:
    seq = 32
    model = save_model("bert-tiny", tmp_path / "m.onnx", seq)
    calib = save_inputs("bert-tiny", tmp_path / "calib.npz", seq, seed=2)
    base = compile_model(model, tmp_path / "a", "host", calib, False, precision="int8")
    qtfm = tmp_path / "a" / "model.mlir"
    roomy = compile_model(qtfm, tmp_path / "b", "host", None, False, ram_budget=10**8)
    assert roomy["schedule"]["tile_rows"] is None  # type: ignore[index]
    planned = int(base["arena_bytes"])  # type: ignore[arg-type]
    tight = compile_model(qtfm, tmp_path / "c", "host", None, False, ram_budget=planned)
    assert tight["schedule"]["tile_rows"] is not None  # type: ignore[index]
    assert int(tight["arena_bytes"]) < planned  # type: ignore[arg-type]
    with pytest.raises(MoteError, match="no schedule fits the RAM budget of 1000 bytes: the smallest"):
        compile_model(qtfm, tmp_path / "d", "host", None, False, ram_budget=1000)


def test_ram_budget_recomputes_keys_and_values_when_nothing_else_fits(tmp_path: Path) -> None:
    """BERT-tiny at 64 tokens: no row tiling fits 26,000 bytes (one row at a time still
    plans 26,880), so the search recomputes K and V per key tile; bit-exact on the host."""
    seq = 64
    model = save_model("bert-tiny", tmp_path / "m.onnx", seq)
    calib = save_inputs("bert-tiny", tmp_path / "calib.npz", seq, seed=2)
    inputs = save_inputs("bert-tiny", tmp_path / "inputs.npz", seq, n_samples=1, seed=1)
    options = {"precision": "int8", "output_bits": 8}
    compile_model(model, tmp_path / "a", "host", calib, False, **options)  # type: ignore[arg-type]
    run_model(tmp_path / "a", inputs, tmp_path / "ref.npz", reference=True)
    report = compile_model(
        tmp_path / "a" / "model.mlir", tmp_path / "b", "host", None, False, ram_budget=26_000
    )
    schedule = report["schedule"]
    assert schedule["recompute_kv_rows"] > 0  # type: ignore[index]
    plain = [c for c in schedule["candidates"] if not c["recompute_kv_rows"]]  # type: ignore[index]
    assert plain and min(c["planned_ram_bytes"] for c in plain) > 26_000
    assert int(report["arena_bytes"]) + 2 * seq * 4 + seq * 128 + 128 <= 26_000  # type: ignore[arg-type]
    run_model(tmp_path / "b", inputs, tmp_path / "b.npz")
    assert_same(outputs(tmp_path / "b.npz"), outputs(tmp_path / "ref.npz"))


def test_eight_bit_outputs_keep_the_residual_stream_in_the_output(tmp_path: Path) -> None:
    """With `--output-bits 8` the row-tiled BERT writes its layers' outputs over their inputs
    all the way into the model output (embedding stage, layers, last norm): bit-exact on the
    host and rv32imc at a length the tiles do not divide, and the arena no longer holds the
    residual stream (it is smaller than with 16-bit outputs)."""
    seq = 20
    model = save_model("bert-tiny", tmp_path / "m.onnx", seq)
    calib = save_inputs("bert-tiny", tmp_path / "calib.npz", seq, seed=2)
    inputs = save_inputs("bert-tiny", tmp_path / "inputs.npz", seq, n_samples=2, seed=1)
    arenas = {}
    for bits in (16, 8):
        out = tmp_path / f"b{bits}"
        options = {"precision": "int8", "tile_rows": 8, "output_bits": bits}
        report = compile_model(model, out, "host", calib, False, **options)  # type: ignore[arg-type]
        arenas[bits] = int(report["arena_bytes"])  # type: ignore[arg-type]
    assert arenas[8] < arenas[16]
    assert report["outputs"][0] == {"name": "last_hidden_state", "shape": [1, 20, 128], "type": "i8"}  # type: ignore[index]
    run_model(tmp_path / "b8", inputs, tmp_path / "ref.npz", reference=True)
    want = outputs(tmp_path / "ref.npz")
    run_model(tmp_path / "b8", inputs, tmp_path / "host.npz")
    assert_same(outputs(tmp_path / "host.npz"), want)
    qtfm = tmp_path / "b8" / "model.mlir"
    compile_model(qtfm, tmp_path / "rv", "rv32imc", None, False, tile_rows=8)
    run_model(tmp_path / "rv", inputs, tmp_path / "rv.npz")
    assert_same(outputs(tmp_path / "rv.npz"), want)
