"""The `mote` command line contract: compile/run/report, the npz convention, exit codes,
and clear one-line errors (never a traceback) for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.deeploy_networks import ROOT

ATTENTION = ROOT / "Kernels" / "Integer" / "Attention"
GEMM = ROOT / "Kernels" / "Integer" / "GEMM" / "TransB_RQ"


def mote(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler.tools.mote", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def _assert_clean_error(result: subprocess.CompletedProcess[str], status: int, *words: str):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_compile_run_reproduces_deeploy_attention(tmp_path: Path) -> None:
    out = tmp_path / "attn"
    r = mote(
        "compile",
        ATTENTION / "network.onnx",
        "-o",
        out,
        "--calib",
        ATTENTION / "inputs.npz",
        "--dump-ir",
        "--target",
        "rv32imc",
    )
    assert r.returncode == 0, r.stderr
    assert (out / "model.mlir").exists() and (out / "ir" / "00-import.mlir").exists()
    for stage in ("02-fuse-requant", "03-qtfm-to-tile", "04-tile-to-loops", "05-plan-memory"):
        assert (out / "ir" / f"{stage}.mlir").exists(), stage
    assert (out / "c" / "model.h").exists() and (out / "model.elf").exists()
    report = json.loads((out / "report.json").read_text())
    assert report["runner"] == "qemu-user" and report["target"] == "rv32imc"
    assert report["flash_bytes"] > 32768  # six int8 matrices, 64x64 and 64x128
    assert report["arena_bytes"] >= report["arena_lower_bound_bytes"] > 0
    r = mote("run", out, "--inputs", ATTENTION / "inputs.npz", "--outputs", out / "o.npz")
    assert r.returncode == 0, r.stderr
    got = np.load(out / "o.npz")["output"]
    want = np.load(ATTENTION / "outputs.npz")["output"]
    np.testing.assert_array_equal(got.astype(np.int64), want.reshape(got.shape))
    run = json.loads((out / "report.json").read_text())["run"]
    assert run["samples"] == 1 and run["runner"] == "qemu-user"
    assert 0 < run["instructions_model"] < run["instructions_total"]
    assert run["instructions_per_function"]["mote_model_run"] > 0
    assert run["peak_ram_bytes"] > report["arena_bytes"] and run["stack_bytes"] > 0
    r = mote("run", out, "--inputs", ATTENTION / "inputs.npz", "--outputs", out / "r.npz", "--reference")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(out / "r.npz")["output"], got)


def test_several_samples_are_stacked(tmp_path: Path) -> None:
    out = tmp_path / "attn"
    assert (
        mote("compile", ATTENTION / "network.onnx", "-o", out, "--calib", ATTENTION / "inputs.npz").returncode
        == 0
    )
    x = next(iter(np.load(ATTENTION / "inputs.npz").values()))
    np.savez(tmp_path / "in.npz", input=np.stack([x, np.clip(x + 1, -128, 127)]))
    r = mote("run", out, "--inputs", tmp_path / "in.npz", "--outputs", tmp_path / "o.npz")
    assert r.returncode == 0, r.stderr
    out_arr = np.load(tmp_path / "o.npz")["output"]
    assert out_arr.shape == (2, 1, 16, 64)
    assert not np.array_equal(out_arr[0], out_arr[1])


def test_unused_npz_arrays_are_reported(tmp_path: Path) -> None:
    out = tmp_path / "gemm"
    r = mote("compile", GEMM / "network.onnx", "-o", out, "--calib", GEMM / "inputs.npz")
    assert r.returncode == 0, r.stderr
    assert "arr_1 match no model input" in r.stderr


def test_mlir_input_compiles(tmp_path: Path) -> None:
    out = tmp_path / "a"
    assert (
        mote("compile", ATTENTION / "network.onnx", "-o", out, "--calib", ATTENTION / "inputs.npz").returncode
        == 0
    )
    r = mote("compile", out / "model.mlir", "-o", tmp_path / "b")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b" / "model.weights.npz").exists()


def test_unbuilt_commands_exit_2() -> None:
    _assert_clean_error(mote("bench"), 2, "not implemented yet")


def test_report_plot_draws_the_memory_plan(tmp_path: Path) -> None:
    out = tmp_path / "attn"
    r = mote("compile", ATTENTION / "network.onnx", "-o", out, "--calib", ATTENTION / "inputs.npz")
    assert r.returncode == 0, r.stderr
    r = mote("report", out, "--plot", tmp_path / "plan.svg")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"memory plan drawn to {tmp_path / 'plan.svg'}"
    assert (tmp_path / "plan.svg").read_text().startswith("<?xml")
    r = mote("report", out, "--plot", tmp_path / "plan.gif")
    _assert_clean_error(r, 1, "mote: error:", "plan.gif", ".svg or .png")
    assert not (tmp_path / "plan.gif").exists()
    _assert_clean_error(mote("report", tmp_path / "nowhere", "--plot", tmp_path / "p.svg"), 1, "report.json")


def _float_model(path: Path, op: str = "Relu", domain: str = "") -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node(op, ["x"], ["y"], name="the_node", domain=domain)
    graph = helper.make_graph([node], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_float_onnx_needs_calibration_data(tmp_path: Path) -> None:
    r = mote("compile", _float_model(tmp_path / "f.onnx"), "-o", tmp_path / "o")
    _assert_clean_error(r, 1, "f.onnx", "--calib")


def test_unsupported_op_in_integer_network_names_the_node(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.INT8, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.INT8, [1, 4])
    nodes = [
        helper.make_node("iHardswish", ["x"], ["h"], name="hs", one_over_six=1, six=6, three=3),
        helper.make_node("Relu", ["h"], ["y"], name="the_relu"),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    r = mote("compile", tmp_path / "m.onnx", "-o", tmp_path / "o")
    _assert_clean_error(r, 1, "the_relu", "Relu", "opset 13", "not supported")


def test_truncated_onnx_is_an_error(tmp_path: Path) -> None:
    data = (ATTENTION / "network.onnx").read_bytes()
    (tmp_path / "t.onnx").write_bytes(data[: len(data) // 3])
    _assert_clean_error(
        mote("compile", tmp_path / "t.onnx", "-o", tmp_path / "o"), 1, "t.onnx", "not a valid ONNX model"
    )


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    _assert_clean_error(mote("compile", tmp_path / "none.onnx", "-o", tmp_path / "o"), 1, "none.onnx")


def test_integer_network_without_calib_asks_for_it(tmp_path: Path) -> None:
    r = mote("compile", ATTENTION / "network.onnx", "-o", tmp_path / "o")
    _assert_clean_error(r, 1, "--calib", "'input'")


def test_bad_mlir_is_located(tmp_path: Path) -> None:
    (tmp_path / "bad.mlir").write_text(
        "func.func @f(%a: tensor<2x3xi8>, %b: tensor<3x4xi8>) -> tensor<2x5xi32> {\n"
        "  %m = qtfm.matmul %a, %b : (tensor<2x3xi8>, tensor<3x4xi8>) -> tensor<2x5xi32>\n"
        "  func.return %m : tensor<2x5xi32>\n}\n"
    )
    r = mote("compile", tmp_path / "bad.mlir", "-o", tmp_path / "o")
    _assert_clean_error(r, 1, "bad.mlir:2:3", "result shape must be (2, 4)")


def test_run_with_wrong_input_shape(tmp_path: Path) -> None:
    out = tmp_path / "attn"
    assert (
        mote("compile", ATTENTION / "network.onnx", "-o", out, "--calib", ATTENTION / "inputs.npz").returncode
        == 0
    )
    np.savez(tmp_path / "in.npz", input=np.zeros((3, 3), np.int8))
    r = mote("run", out, "--inputs", tmp_path / "in.npz", "--outputs", tmp_path / "o.npz")
    _assert_clean_error(r, 1, "input 'input'", "(1, 16, 64)")


def test_run_with_out_of_range_input(tmp_path: Path) -> None:
    out = tmp_path / "attn"
    assert (
        mote("compile", ATTENTION / "network.onnx", "-o", out, "--calib", ATTENTION / "inputs.npz").returncode
        == 0
    )
    np.savez(tmp_path / "in.npz", input=np.full((1, 16, 64), 300, np.int64))
    r = mote("run", out, "--inputs", tmp_path / "in.npz", "--outputs", tmp_path / "o.npz")
    _assert_clean_error(r, 1, "outside i8")


def test_run_without_compile(tmp_path: Path) -> None:
    r = mote("run", tmp_path, "--inputs", ATTENTION / "inputs.npz", "--outputs", tmp_path / "o")
    _assert_clean_error(r, 1, "report.json")


def test_zoo_lists_and_writes_models(tmp_path: Path) -> None:
    listing = mote("zoo")
    assert listing.returncode == 0 and "minilm" in listing.stdout
    r = mote("zoo", "bert-tiny", "-o", tmp_path / "m.onnx", "--seq-len", "16", "--inputs", tmp_path / "i.npz")
    assert r.returncode == 0, r.stderr
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"))
    assert np.load(tmp_path / "i.npz")["input_ids"].shape[-1] == 16
    _assert_clean_error(mote("zoo", "no-such-model", "-o", tmp_path / "x.onnx"), 1, "bert-tiny")


def test_zoo_position_table_for_longer_sequences(tmp_path: Path) -> None:
    """Synthetic models take a longer position table (to run past 512 tokens); the real
    MiniLM does not, and a length beyond the table is a clear error."""
    r = mote("zoo", "bert-tiny", "-o", tmp_path / "m.onnx", "--seq-len", "600", "--max-positions", "600")
    assert r.returncode == 0, r.stderr
    table = {i.name: i for i in onnx.load(tmp_path / "m.onnx").graph.initializer}
    assert table["embeddings.position_embeddings.weight"].dims == [600, 128]
    _assert_clean_error(mote("zoo", "bert-tiny", "-o", tmp_path / "x.onnx", "--seq-len", "600"), 1, "1..512")
    r = mote("zoo", "minilm", "-o", tmp_path / "y.onnx", "--seq-len", "16", "--max-positions", "600")
    _assert_clean_error(r, 1, "real weights", "512 positions")


def test_output_bits_applies_to_float_models_only(tmp_path: Path) -> None:
    r = mote("compile", ATTENTION / "network.onnx", "-o", tmp_path, "--calib", ATTENTION / "inputs.npz")
    assert r.returncode == 0, r.stderr
    r = mote(
        "compile", ATTENTION / "network.onnx", "-o", tmp_path / "b", "--calib", ATTENTION / "inputs.npz",
        "--output-bits", "8",
    )  # fmt: skip
    _assert_clean_error(r, 1, "network.onnx", "output width (8 bits)", "integer already")
