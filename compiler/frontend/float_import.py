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


def _example_shapes(model: OnnxModel, arrays: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """The shape of one sample of each input in representative data (keyed by input name,
    or in file order), which pins the model's dynamic dimensions."""
    inputs = model.graph_inputs()
    by_name = all(i.name in arrays for i in inputs)
    shapes: dict[str, tuple[int, ...]] = {}
    for info, arr in zip(inputs, arrays.values(), strict=False):
        arr = arrays[info.name] if by_name else arr
        rank = len(info.type.tensor_type.shape.dim)
        shapes[info.name] = tuple(arr.shape if arr.ndim == rank else arr.shape[1:])
    return shapes


def import_float_model(
    model: OnnxModel,
    calib: Path | None,
    seq_len: int | None,
    weights_file: str,
    precision: str = "mixed",
    output_bits: int = 16,
) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    if calib is None:
        raise FrontendError(
            f"{model.path}: a float model is quantized after training: give representative "
            "inputs with --calib FILE.npz"
        )
    arrays = read_npz(calib)
    graph = load_float_graph(model, seq_len, _example_shapes(model, arrays))
    matched = match_inputs(calib, arrays, graph.inputs, [graph.shapes[i] for i in graph.inputs])
    for note in matched.notes:
        print(f"mote: note: {note}", file=sys.stderr)
    matcher = Matcher(graph)
    matcher.run()
    ranges = calibrate(graph, matched.samples)
    return quantize(graph, matcher, ranges, weights_file, precision, output_bits)
