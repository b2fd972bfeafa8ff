"""A small wrapper over `onnx.helper` that names nodes and tensors the way torch.onnx does.

torch.onnx names a node after the module path it comes from (`/encoder/layer.0/attention/self/
query/MatMul`, a repeated op type gets `_1`, `_2`...), its outputs `<node>_output_0`, scalar and
shape operands are `Constant` nodes, parameters keep their state-dict names, and the transposed
weight of a Linear on a 3-D input is a fresh initializer `onnx::MatMul_<n>`. Opset differences
(ReduceMean's axes: attribute before opset 18, input from 18) are handled here, once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_OPSET = 13
MAX_OPSET = 21


class GraphBuilder:
    """Collects nodes and initializers; `model()` returns the checked, shape-inferred model."""

    def __init__(self, opset: int) -> None:
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise ValueError(f"opset {opset} is outside the supported {MIN_OPSET}..{MAX_OPSET}")
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._init_names: set[str] = set()
        self._scopes: list[str] = []
        self._op_counts: dict[str, int] = {}
        self._matmul_weights = 0

    @contextmanager
    def scope(self, *parts: str) -> Iterator[None]:
        """Nodes created inside are named `/<outer>/<parts...>/<OpType>`."""
        self._scopes.extend(parts)
        try:
            yield
        finally:
            del self._scopes[len(self._scopes) - len(parts) :]

    def _node_name(self, op_type: str) -> str:
        base = "/" + "/".join([*self._scopes, op_type])
        n = self._op_counts.get(base, 0)
        self._op_counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        out: str | None = None,
        **attrs: object,
    ) -> str:
        """Adds one single-output node; returns its output name (`out` if given)."""
        name = self._node_name(op_type)
        output = out if out is not None else f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=name, **attrs))
        return output

    def const(self, value: np.ndarray | float | int | Sequence[int], dtype: type | None = None) -> str:
        """A `Constant` node holding `value` (a Python float is float32, an int or int list int64)."""
        if isinstance(value, np.ndarray):
            arr = value if dtype is None else value.astype(dtype)
        elif isinstance(value, float):
            arr = np.array(value, dtype=dtype or np.float32)
        else:
            arr = np.array(value, dtype=dtype or np.int64)
        return self.node("Constant", [], value=numpy_helper.from_array(arr))

    def initializer(self, name: str, value: np.ndarray) -> str:
        """A named initializer (a parameter or buffer); each name is added once."""
        if name in self._init_names:
            raise ValueError(f"initializer {name} added twice")
        self._init_names.add(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def parameter(self, name: str, value: np.ndarray) -> str:
        """The initializer `name`, added on first use (a parameter read by several nodes)."""
        return name if name in self._init_names else self.initializer(name, value)

    def matmul_weight(self, weight_out_in: np.ndarray) -> str:
        """The transposed [in, out] copy of a Linear weight that torch.onnx stores for MatMul."""
        name = f"onnx::MatMul_{self._matmul_weights}"
        self._matmul_weights += 1
        return self.initializer(name, np.ascontiguousarray(weight_out_in.T))

    def reduce_mean(self, x: str, axes: Sequence[int], keepdims: int = 1) -> str:
        """ReduceMean with `axes` as the attribute (opset < 18) or the second input (>= 18)."""
        if self.opset < 18:
            return self.node("ReduceMean", [x], axes=list(axes), keepdims=keepdims)
        return self.node("ReduceMean", [x, self.const(list(axes))], keepdims=keepdims)

    def reduce_sum(self, x: str, axes: Sequence[int], keepdims: int = 1) -> str:
        """ReduceSum (its axes are an input from opset 13 on)."""
        return self.node("ReduceSum", [x, self.const(list(axes))], keepdims=keepdims)

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Unsqueeze", [x, self.const(list(axes))])

    def model(
        self,
        inputs: Sequence[onnx.ValueInfoProto],
        outputs: Sequence[onnx.ValueInfoProto],
        graph_name: str,
        doc: str,
        metadata: dict[str, str],
    ) -> onnx.ModelProto:
        """The model, with shapes inferred (strictly) and checked by onnx.checker."""
        graph = helper.make_graph(
            self.nodes, graph_name, list(inputs), list(outputs), initializer=self.initializers
        )
        opset = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(
            graph,
            opset_imports=opset,
            producer_name="mote.zoo",
            producer_version="0.1",
            ir_version=helper.find_min_ir_version_for(opset),
            doc_string=doc,
        )
        helper.set_model_props(model, metadata)
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
        onnx.checker.check_model(model, full_check=True)
        return model


def tensor_info(name: str, elem_type: int, shape: Sequence[int]) -> onnx.ValueInfoProto:
    """A graph input or output with a static shape."""
    return helper.make_tensor_value_info(name, elem_type, list(shape))


FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
