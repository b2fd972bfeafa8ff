"""Model import into qtfm: float ONNX (post-training quantization), integerized
QuantLib/Deeploy ONNX, QDQ / QOperator ONNX from onnxruntime.quantization, or qtfm IR."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from compiler.frontend.onnx_model import FrontendError, OnnxModel, load_onnx
from compiler.npz_io import match_inputs, read_npz

WEIGHTS_FILE = "model.weights.npz"
QDQ_OPS = {
    "QuantizeLinear",
    "DequantizeLinear",
    "QLinearMatMul",
    "MatMulInteger",
    "QLinearConv",
    "QGemm",
    "QLinearAdd",
    "QLinearMul",
    "QLinearSoftmax",
    "QLinearSigmoid",
    "QLinearLeakyRelu",
    "QLinearConcat",
}


def calibration_samples(model: OnnxModel, calib: Path) -> list[np.ndarray]:
    """Representative inputs, one array per graph input, samples stacked on a leading axis."""
    inputs = model.graph_inputs()
    shapes = [[d.dim_value for d in i.type.tensor_type.shape.dim] for i in inputs]
    matched = match_inputs(calib, read_npz(calib), [i.name for i in inputs], shapes)
    for note in matched.notes:
        print(f"mote: note: {note}", file=sys.stderr)
    return [np.stack([s[k] for s in matched.samples]) for k in range(len(inputs))]


def import_model(
    path: Path,
    calib: Path | None = None,
    seq_len: int | None = None,
    precision: str = "mixed",
    output_bits: int = 16,
) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    """The qtfm module and weights for a model file (.onnx or .mlir); `calib` holds
    representative inputs, in the npz convention of `mote run`. `precision` and `output_bits`
    steer the post-training quantization of float models."""
    if path.suffix == ".mlir":
        _float_models_only(path, output_bits)
        from compiler.tools.ir_files import read_ir

        return read_ir(path)
    if path.suffix != ".onnx":
        raise FrontendError(f"{path}: expected a .onnx or .mlir file")
    from compiler.frontend.deeploy import (
        import_integer_network,
        is_integer_network,
        uses_only_integer_graph_ops,
    )

    model = load_onnx(path)
    if is_integer_network(model):
        _float_models_only(path, output_bits)
        samples = None if calib is None else calibration_samples(model, calib)
        return import_integer_network(model, samples, WEIGHTS_FILE)
    if calib is not None and uses_only_integer_graph_ops(model):
        samples = calibration_samples(model, calib)
        if is_integer_network(model, samples):
            _float_models_only(path, output_bits)
            return import_integer_network(model, samples, WEIGHTS_FILE)
    if any(n.op_type in QDQ_OPS for n in model.graph.node):
        _float_models_only(path, output_bits)
        from compiler.frontend.qdq import import_qdq_model

        return import_qdq_model(model, calib, seq_len, WEIGHTS_FILE)
    from compiler.frontend.float_import import import_float_model

    return import_float_model(model, calib, seq_len, WEIGHTS_FILE, precision, output_bits)


def _float_models_only(path: Path, output_bits: int) -> None:
    if output_bits != 16:
        raise FrontendError(
            f"{path}: the output width ({output_bits} bits) is chosen when mote quantizes a float "
            "model; this model's outputs are integer already"
        )
