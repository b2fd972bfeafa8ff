"""Loading ONNX files and turning their flaws into clear errors.

Every frontend starts here: a truncated or invalid file, an op that is not supported, or an
integer constant stored as a non-integral float is reported with the file, the node name, its
op type and the opset, and the command exits non-zero (see compiler/tools/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


class FrontendError(Exception):
    """A model cannot be imported; the message names the file and node."""


@dataclass
class OnnxModel:
    path: Path
    proto: onnx.ModelProto
    initializers: dict[str, np.ndarray]

    @property
    def graph(self) -> onnx.GraphProto:
        return self.proto.graph

    @property
    def opset(self) -> int:
        for o in self.proto.opset_import:
            if o.domain in ("", "ai.onnx"):
                return o.version
        return 0

    def graph_inputs(self) -> list[onnx.ValueInfoProto]:
        """Inputs that are not initializers: the ones a user feeds."""
        return [i for i in self.graph.input if i.name not in self.initializers]

    def node_error(self, node: onnx.NodeProto, message: str) -> FrontendError:
        domain = node.domain or "ai.onnx"
        return FrontendError(
            f"{self.path}: node '{node.name}' ({domain}::{node.op_type}, opset {self.opset}): {message}"
        )


def load_onnx(path: Path) -> OnnxModel:
    """Loads and checks an ONNX file (structure only: custom domains are allowed)."""
    try:
        proto = onnx.load(str(path))
    except FileNotFoundError:
        raise FrontendError(f"{path}: file not found") from None
    except Exception as err:  # onnx raises DecodeError and others for damaged files
        raise FrontendError(f"{path}: not a valid ONNX model ({type(err).__name__}: {err})") from None
    if not proto.graph.node:
        raise FrontendError(f"{path}: the ONNX graph has no nodes")
    initializers = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    return OnnxModel(path, proto, initializers)


def node_attributes(node: onnx.NodeProto) -> dict[str, object]:
    """A node's attributes as Python values (tensor attributes become numpy arrays)."""
    out: dict[str, object] = {}
    for attr in node.attribute:
        value = onnx.helper.get_attribute_value(attr)
        if isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        out[attr.name] = value
    return out


def exact_int(model: OnnxModel, node: onnx.NodeProto, what: str, value: object) -> np.ndarray:
    """An integer array from a constant that may be stored as float; non-integers are errors."""
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise model.node_error(node, f"{what} must hold integers, got {arr.ravel()[:4]}...")
        if arr.size and np.max(np.abs(arr)) >= 2**53:
            raise model.node_error(node, f"{what} is too large to be an exact integer")
    elif arr.dtype.kind not in "iub":
        raise model.node_error(node, f"{what} must be an integer tensor, got {arr.dtype}")
    return arr.astype(np.int64)


def scalar_int(model: OnnxModel, node: onnx.NodeProto, what: str, value: object) -> int:
    arr = exact_int(model, node, what, value)
    if arr.size != 1:
        raise model.node_error(node, f"{what} must be a single value, got shape {arr.shape}")
    return int(arr.reshape(()))
