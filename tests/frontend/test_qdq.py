"""The QDQ importer (compiler/frontend/qdq.py) against onnxruntime running the QDQ model.

Zoo models are quantized here with onnxruntime.quantization.quantize_static (QDQ and
QOperator formats, per-tensor and per-channel weights), imported, run on the reference
interpreter and compared in the output's quantized units; small hand-built QDQ graphs check
the fused kernels exhaustively (every pair of 8-bit inputs of an Add) and the error paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.frontend.onnx_model import FrontendError, load_onnx
from compiler.frontend.qdq import import_qdq_model, is_qdq_model
from compiler.frontend.qtfm_builder import INPUT_NAMES_ATTR
from compiler.frontend.zoo import build_model, example_inputs
from compiler.reference.interpreter import Interpreter
from compiler.tools.compile_model import io_names

ort = pytest.importorskip("onnxruntime")
quantization = pytest.importorskip("onnxruntime.quantization")

F32 = np.float32


class _Reader(quantization.CalibrationDataReader):
    def __init__(self, inputs: dict[str, np.ndarray]) -> None:
        n = next(iter(inputs.values())).shape[0]
        self._it = iter([{k: v[i] for k, v in inputs.items()} for i in range(n)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def quantized_zoo(tmp_path: Path, name: str, seq_len: int, **options: object) -> Path:
    float_path = tmp_path / f"{name}.onnx"
    onnx.save(build_model(name, seq_len), float_path)
    out = tmp_path / f"{name}.qdq.onnx"
    quantization.quantize_static(
        str(float_path), str(out), _Reader(example_inputs(name, seq_len, n_samples=8)), **options
    )
    return out


def compare(path: Path, inputs: dict[str, np.ndarray], samples: int) -> dict[str, tuple[float, float]]:
    """Per output: the fraction of values within 1 unit of the output scale of
    onnxruntime's, and the largest difference in those units."""
    module, weights = import_qdq_model(load_onnx(path), None, None, "w.npz")
    f = module.body.block.first_op
    scales = [a.value.data for a in f.attributes["mote.output_scales"].data]  # type: ignore[union-attr]
    names = io_names(f, INPUT_NAMES_ATTR, len(f.function_type.inputs.data))  # type: ignore[union-attr]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    interp = Interpreter(module, weights)
    within: dict[str, list[int]] = {}
    worst: dict[str, float] = {}
    for i in range(samples):
        feeds = {k: v[i] for k, v in inputs.items()}
        ref = sess.run(None, feeds)
        ours = interp.run([feeds[n] for n in names])
        for out, r, y, s in zip(sess.get_outputs(), ref, ours, scales, strict=True):
            d = np.abs(y.astype(np.float64) * s - r.astype(np.float64)) / s
            acc = within.setdefault(out.name, [0, 0])
            acc[0] += int((d <= 1 + 1e-6).sum())
            acc[1] += d.size
            worst[out.name] = max(worst.get(out.name, 0.0), float(d.max()))
    return {k: (v[0] / v[1], worst[k]) for k, v in within.items()}


# -- zoo models ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("bert-tiny", {}),
        ("bert-tiny", {"per_channel": True}),
        ("llama-tiny", {}),
        ("llama-tiny", {"quant_format": "QOperator"}),
    ],
)
def test_zoo_models_match_onnxruntime(tmp_path: Path, name: str, options: dict[str, object]) -> None:
    if options.get("quant_format") == "QOperator":
        options = {**options, "quant_format": quantization.QuantFormat.QOperator}
    path = quantized_zoo(tmp_path, name, 8, **options)
    assert is_qdq_model(load_onnx(path))
    result = compare(path, example_inputs(name, 8, n_samples=4), 4)
    quantized_outputs = {"last_hidden_state", "logits"}
    for out, (fraction, worst) in result.items():
        if out in quantized_outputs:  # the model's own final QuantizeLinear
            assert fraction == 1.0 and worst < 1e-3, (out, fraction, worst)  # bit-exact
        else:  # a float tail (Tanh pooler) at a 16-bit scale of its own
            assert fraction >= 0.99, (out, fraction, worst)


def test_fused_layernorm_model_matches(tmp_path: Path) -> None:
    """MiniLM-style graphs keep LayerNormalization in float between DQ and Q (bert-mini)."""
    path = quantized_zoo(tmp_path, "bert-mini", 8)
    result = compare(path, example_inputs("bert-mini", 8, n_samples=3), 3)
    assert result["last_hidden_state"][0] >= 0.99


# -- hand-built graphs ---------------------------------------------------------------------


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[str],
    inits: list[onnx.TensorProto],
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "t", inputs, [helper.make_empty_tensor_value_info(o) for o in outputs], inits
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _q(name: str, scale: float, zp: int, dtype: type = np.uint8) -> list[onnx.TensorProto]:
    return [
        numpy_helper.from_array(np.array(scale, F32), f"{name}_s"),
        numpy_helper.from_array(np.array(zp, dtype), f"{name}_z"),
    ]


def _dq(x: str, p: str, out: str) -> onnx.NodeProto:
    return helper.make_node("DequantizeLinear", [x, f"{p}_s", f"{p}_z"], [out], name=f"dq_{out}")


def _quant(x: str, p: str, out: str) -> onnx.NodeProto:
    return helper.make_node("QuantizeLinear", [x, f"{p}_s", f"{p}_z"], [out], name=f"q_{out}")


def _save(tmp_path: Path, model: onnx.ModelProto, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, path)
    return path


def _run_both(
    path: Path, feeds: dict[str, np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    module, weights = import_qdq_model(load_onnx(path), None, None, "w.npz")
    f = module.body.block.first_op
    scales = [a.value.data for a in f.attributes["mote.output_scales"].data]  # type: ignore[union-attr]
    ours = Interpreter(module, weights).run(list(feeds.values()))
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    return ours, ref, scales


def _pairs() -> tuple[np.ndarray, np.ndarray]:
    a = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 256, 1)
    return a, a.T.copy()


@pytest.mark.parametrize("scales", [(0.0313, 0.0171, 0.0402), (0.0078430772, 0.0078430772, 0.0078430772)])
def test_add_is_exact_for_every_input_pair(tmp_path: Path, scales: tuple[float, float, float]) -> None:
    """QLinearAdd's float32 fma rounding, ties included, on all 65536 operand pairs."""
    sa, sb, sc = scales
    nodes = [
        _dq("a", "a", "af"),
        _dq("b", "b", "bf"),
        helper.make_node("Add", ["af", "bf"], ["cf"]),
        _quant("cf", "c", "c"),
        _dq("c", "c", "y"),
    ]
    inputs = [helper.make_tensor_value_info(n, TensorProto.UINT8, [256, 256]) for n in ("a", "b")]
    path = _save(tmp_path, _model(nodes, inputs, ["y"], _q("a", sa, 128) + _q("b", sb, 3) + _q("c", sc, 0)))
    a, b = _pairs()
    ours, ref, scales_out = _run_both(path, {"a": a, "b": b})
    assert np.array_equal(ours[0].astype(np.int64), np.round(ref[0] / scales_out[0]).astype(np.int64))


def test_mul_and_per_channel_matmul_are_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    k, n = 64, 48
    w = rng.integers(-127, 128, (k, n)).astype(np.int8)
    inits = _q("x", 0.031, 131) + _q("h", 0.052, 120) + _q("g", 0.0123, 7) + _q("y", 0.0067, 128)
    inits += [
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(rng.uniform(0.001, 0.004, n).astype(F32), "w_s"),
        numpy_helper.from_array(np.zeros(n, np.int8), "w_z"),
    ]
    nodes = [
        _dq("x", "x", "xf"),
        helper.make_node("DequantizeLinear", ["w", "w_s", "w_z"], ["wf"], axis=1),
        helper.make_node("MatMul", ["xf", "wf"], ["hf"]),
        _quant("hf", "h", "h"),
        _dq("h", "h", "h2"),
        _dq("g", "g", "gf"),
        helper.make_node("Mul", ["h2", "gf"], ["yf"]),
        _quant("yf", "y", "yq"),
        _dq("yq", "y", "out"),
    ]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.UINT8, [32, k]),
        helper.make_tensor_value_info("g", TensorProto.UINT8, [32, n]),
    ]
    path = _save(tmp_path, _model(nodes, inputs, ["out"], inits))
    feeds = {
        "x": rng.integers(0, 256, (32, k)).astype(np.uint8),
        "g": rng.integers(0, 256, (32, n)).astype(np.uint8),
    }
    ours, ref, scales = _run_both(path, feeds)
    assert np.array_equal(ours[0].astype(np.int64), np.round(ref[0] / scales[0]).astype(np.int64))


def test_layernorm_and_saturated_softmax(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 96
    inits = _q("x", 0.05, 110) + _q("y", 0.04, 128) + _q("s", 40.0, 255) + _q("p", 1 / 255, 0)
    inits += [
        numpy_helper.from_array(rng.uniform(0.5, 1.5, n).astype(F32), "gamma"),
        numpy_helper.from_array(rng.uniform(-0.3, 0.3, n).astype(F32), "beta"),
    ]
    nodes = [
        _dq("x", "x", "xf"),
        helper.make_node("LayerNormalization", ["xf", "gamma", "beta"], ["lf"], axis=-1, epsilon=1e-5),
        _quant("lf", "y", "l"),
        _dq("l", "y", "lout"),
        _dq("m", "s", "mf"),
        helper.make_node("Softmax", ["mf"], ["pf"], axis=-1),
        _quant("pf", "p", "pq"),
        _dq("pq", "p", "pout"),
    ]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 20, n]),
        helper.make_tensor_value_info("m", TensorProto.UINT8, [3, 16]),
    ]
    path = _save(tmp_path, _model(nodes, inputs, ["lout", "pout"], inits))
    mask = np.zeros((3, 16), np.uint8)
    for row, count in enumerate((2, 4, 10)):  # 254/4 is a tie, 255 vs 254: QLinearSoftmax's quirks
        mask[row, :count] = 255
    feeds = {"x": rng.integers(60, 200, (1, 20, n)).astype(np.uint8), "m": mask}
    ours, ref, scales = _run_both(path, feeds)
    for y, r, s in zip(ours, ref, scales, strict=True):
        assert np.array_equal(y.astype(np.int64), np.round(r / s).astype(np.int64))


# -- errors ----------------------------------------------------------------------------------


def test_unsupported_op_between_dq_and_q_names_the_node(tmp_path: Path) -> None:
    nodes = [
        _dq("x", "x", "xf"),
        helper.make_node("ReduceMax", ["xf"], ["rf"], name="the_max", axes=[1], keepdims=1),
        _quant("rf", "x", "r"),
        _dq("r", "x", "out"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.UINT8, [2, 8])]
    path = _save(tmp_path, _model(nodes, inputs, ["out"], _q("x", 0.1, 0)))
    with pytest.raises(FrontendError, match=r"node 'the_max' \(ai\.onnx::ReduceMax, opset 17\)"):
        import_qdq_model(load_onnx(path), None, None, "w.npz")


def test_per_axis_activation_quantization_is_an_error(tmp_path: Path) -> None:
    inits = [
        numpy_helper.from_array(np.array([0.1, 0.2], F32), "s"),
        numpy_helper.from_array(np.array([0, 0], np.uint8), "z"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q_axis", axis=1),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["out"], name="dq_axis", axis=1),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 2])]
    path = _save(tmp_path, _model(nodes, inputs, ["out"], inits))
    with pytest.raises(FrontendError, match="q_axis|per-axis"):
        import_qdq_model(load_onnx(path), None, None, "w.npz")


def test_sixteen_bit_quantization_is_an_error(tmp_path: Path) -> None:
    inits = [
        numpy_helper.from_array(np.array(0.1, F32), "s"),
        numpy_helper.from_array(np.array(0, np.int16), "z"),
    ]
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["out"], name="dq16")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.INT16, [4])]
    model = helper.make_model(
        helper.make_graph(nodes, "t", inputs, [helper.make_empty_tensor_value_info("out")], inits),
        opset_imports=[helper.make_opsetid("", 21)],
        ir_version=10,
    )
    path = _save(tmp_path, model)
    with pytest.raises(FrontendError, match=r"node 'dq16'.*int16"):
        import_qdq_model(load_onnx(path), None, None, "w.npz")


def test_float_input_feeding_a_float_op_is_an_error(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["rf"], name="relu"),
        _quant("rf", "x", "q"),
        _dq("q", "x", "out"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])]
    path = _save(tmp_path, _model(nodes, inputs, ["out"], _q("x", 0.1, 0)))
    with pytest.raises(FrontendError, match="float input 'x'"):
        import_qdq_model(load_onnx(path), None, None, "w.npz")


def test_quantized_float_input(tmp_path: Path) -> None:
    """A float input quantized by the model: the program takes round(x / scale)."""
    nodes = [
        _quant("x", "x", "q"),
        _dq("q", "x", "xf"),
        helper.make_node("Sigmoid", ["xf"], ["sf"]),
        _quant("sf", "y", "sq"),
        _dq("sq", "y", "out"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])]
    path = _save(tmp_path, _model(nodes, inputs, ["out"], _q("x", 0.05, 120) + _q("y", 1 / 255, 0)))
    module, weights = import_qdq_model(load_onnx(path), None, None, "w.npz")
    f = module.body.block.first_op
    in_scale = f.attributes["mote.input_scales"].data[0].value.data  # type: ignore[union-attr]
    x = np.linspace(-6, 6, 64).astype(F32)
    ours = Interpreter(module, weights).run([np.clip(np.round(x / in_scale), -32768, 32767)])
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    out_scale = f.attributes["mote.output_scales"].data[0].value.data  # type: ignore[union-attr]
    assert np.array_equal(ours[0].astype(np.int64), np.round(ref[0] / out_scale).astype(np.int64))


def test_unsaturated_softmax_is_within_one_step(tmp_path: Path) -> None:
    """A softmax whose input scale keeps several elements per row alive uses the I-BERT
    integer exponential (not bit-exact: the exp polynomial's error)."""
    nodes = [
        _dq("x", "x", "xf"),
        helper.make_node("Softmax", ["xf"], ["pf"], axis=-1),
        _quant("pf", "p", "pq"),
        _dq("pq", "p", "out"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.UINT8, [64, 16])]
    path = _save(tmp_path, _model(nodes, inputs, ["out"], _q("x", 0.05, 200) + _q("p", 1 / 255, 0)))
    x = np.random.default_rng(0).integers(100, 256, (64, 16)).astype(np.uint8)
    ours, ref, scales = _run_both(path, {"x": x})
    diff = np.abs(ours[0].astype(np.int64) - np.round(ref[0] / scales[0]).astype(np.int64))
    assert diff.max() <= 1 and np.mean(diff == 0) > 0.9
