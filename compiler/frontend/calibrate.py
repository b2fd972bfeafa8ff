"""Calibration: the range of every float tensor on representative inputs.

onnxruntime (the float oracle) runs the static model with every intermediate tensor exposed
as an output; the quantizer then takes each activation's scale from the largest magnitude
seen. One sample at a time, so memory stays at one sample's activations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx

from compiler.frontend.onnx_graph import FloatGraph
from compiler.frontend.onnx_model import FrontendError


@dataclass(frozen=True)
class Range:
    lo: float
    hi: float

    @property
    def absmax(self) -> float:
        return max(abs(self.lo), abs(self.hi))


def calibrate(graph: FloatGraph, samples: Sequence[Sequence[np.ndarray]]) -> dict[str, Range]:
    """Min and max of every float tensor of `graph`, over all samples."""
    import onnxruntime as ort

    proto = onnx.ModelProto()
    proto.CopyFrom(graph.static)
    existing = {o.name for o in proto.graph.output}
    for v in proto.graph.value_info:
        if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and v.name not in existing:
            proto.graph.output.append(v)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as err:
        raise FrontendError(f"{graph.model.path}: onnxruntime cannot run the model: {err}") from None
    names = [o.name for o in session.get_outputs()]
    feeds_meta = session.get_inputs()
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    for sample in samples:
        feeds = {}
        for meta, arr in zip(feeds_meta, sample, strict=True):
            dtype = np.int64 if "int64" in meta.type else np.int32 if "int32" in meta.type else np.float32
            feeds[meta.name] = np.asarray(arr).astype(dtype)
        for name, value in zip(names, session.run(names, feeds), strict=True):
            value = np.asarray(value)
            if value.dtype.kind != "f" or value.size == 0:
                continue
            finite = value[np.isfinite(value)]
            if finite.size == 0:
                continue
            lo[name] = min(lo.get(name, np.inf), float(finite.min()))
            hi[name] = max(hi.get(name, -np.inf), float(finite.max()))
    return {name: Range(lo[name], hi[name]) for name in lo}
