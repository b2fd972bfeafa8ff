"""Float ONNX models in, integer qtfm out: fix shapes, recognise blocks, calibrate, quantize."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from compiler.frontend.calibrate import calibrate
from compiler.frontend.onnx_graph import load_float_graph
from compiler.frontend.onnx_model import FrontendError, OnnxModel
from compiler.frontend.patterns import Matcher
from compiler.frontend.ptq import quantize
from compiler.npz_io import match_inputs, read_npz


def _infer_seq_len(model: OnnxModel, arrays: dict[str, np.ndarray]) -> int | None:
    """The sequence length of representative inputs, for models with a dynamic one."""
    for info, arr in zip(model.graph_inputs(), arrays.values(), strict=False):
        dims = info.type.tensor_type.shape.dim
        arr = arrays.get(info.name, arr)
        shape = arr.shape if arr.ndim == len(dims) else arr.shape[1:]
        for i, d in enumerate(dims):
            if i > 0 and not (d.HasField("dim_value") and d.dim_value > 0) and i < len(shape):
                return int(shape[i])
    return None


def import_float_model(
    model: OnnxModel, calib: Path | None, seq_len: int | None, weights_file: str, precision: str = "mixed"
) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    if calib is None:
        raise FrontendError(
            f"{model.path}: a float model is quantized after training: give representative "
            "inputs with --calib FILE.npz"
        )
    arrays = read_npz(calib)
    if seq_len is None:
        seq_len = _infer_seq_len(model, arrays)
    graph = load_float_graph(model, seq_len)
    matched = match_inputs(calib, arrays, graph.inputs, [graph.shapes[i] for i in graph.inputs])
    for note in matched.notes:
        print(f"mote: note: {note}", file=sys.stderr)
    matcher = Matcher(graph)
    matcher.run()
    ranges = calibrate(graph, matched.samples)
    return quantize(graph, matcher, ranges, weights_file, precision)
