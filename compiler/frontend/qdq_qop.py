"""QOperator-format models (onnxruntime.quantization with QuantFormat.QOperator) as QDQ.

The QOperator format replaces every `DequantizeLinear -> op -> QuantizeLinear` group by one
integer op (QLinearMatMul, com.microsoft QLinearAdd / QLinearMul / QLinearSoftmax / QGemm /
QLinearSigmoid / QLinearLeakyRelu / QLinearConcat). onnxruntime runs those ops with the same
kernels as the fused QDQ groups, so the importer rewrites each one back into its QDQ group
and imports the result like any QDQ model.
"""

from __future__ import annotations

from collections.abc import Callable

import onnx
from onnx import helper

from compiler.frontend.onnx_model import OnnxModel

MS = "com.microsoft"
QOPERATOR_OPS = {
    ("", "QLinearMatMul"),
    (MS, "QLinearAdd"),
    (MS, "QLinearMul"),
    (MS, "QLinearSoftmax"),
    (MS, "QGemm"),
    (MS, "QLinearSigmoid"),
    (MS, "QLinearLeakyRelu"),
    (MS, "QLinearConcat"),
}


def is_qoperator(model: OnnxModel) -> bool:
    return any(
        (n.domain if n.domain != "ai.onnx" else "", n.op_type) in QOPERATOR_OPS for n in model.graph.node
    )


class _Rewriter:
    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.nodes: list[onnx.NodeProto] = []
        self.count = 0

    def dq(self, node: onnx.NodeProto, x: str, scale: str, zp: str) -> str:
        self.count += 1
        out = f"{x}__dq{self.count}"
        inputs = [x, scale] + ([zp] if zp else [])
        self.nodes.append(
            helper.make_node("DequantizeLinear", inputs, [out], name=f"{node.name}__dq{self.count}")
        )
        return out

    def q(self, node: onnx.NodeProto, x: str, scale: str, zp: str, out: str) -> None:
        inputs = [x, scale] + ([zp] if zp else [])
        self.nodes.append(helper.make_node("QuantizeLinear", inputs, [out], name=f"{node.name}__q"))

    def op(self, node: onnx.NodeProto, op_type: str, inputs: list[str], **attrs: object) -> str:
        out = f"{node.output[0]}__float"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=node.name, **attrs))
        return out

    def run(self) -> onnx.ModelProto:
        handlers: dict[str, Callable[[onnx.NodeProto, list[str], dict[str, object]], None]] = {
            "QLinearMatMul": self.matmul,
            "QLinearAdd": lambda n, i, a: self.binary(n, i, "Add"),
            "QLinearMul": lambda n, i, a: self.binary(n, i, "Mul"),
            "QLinearSoftmax": self.softmax,
            "QGemm": self.gemm,
            "QLinearSigmoid": lambda n, i, a: self.unary(n, i, "Sigmoid", {}),
            "QLinearLeakyRelu": lambda n, i, a: self.unary(
                n, i, "LeakyRelu", {"alpha": a.get("alpha", 0.01)}
            ),
            "QLinearConcat": self.concat,
        }
        for node in self.model.graph.node:
            domain = node.domain if node.domain != "ai.onnx" else ""
            if (domain, node.op_type) not in QOPERATOR_OPS:
                self.nodes.append(node)
                continue
            inputs = list(node.input) + [""] * 9
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            handlers[node.op_type](node, inputs, attrs)
        proto = onnx.ModelProto()
        proto.CopyFrom(self.model.proto)
        del proto.graph.node[:]
        proto.graph.node.extend(self.nodes)
        return proto

    def matmul(self, node: onnx.NodeProto, i: list[str], attrs: dict[str, object]) -> None:
        a = self.dq(node, i[0], i[1], i[2])
        b = self.dq(node, i[3], i[4], i[5])
        self.q(node, self.op(node, "MatMul", [a, b]), i[6], i[7], node.output[0])

    def binary(self, node: onnx.NodeProto, i: list[str], op_type: str) -> None:
        a = self.dq(node, i[0], i[1], i[2])
        b = self.dq(node, i[3], i[4], i[5])
        self.q(node, self.op(node, op_type, [a, b]), i[6], i[7], node.output[0])

    def unary(self, node: onnx.NodeProto, i: list[str], op_type: str, attrs: dict[str, object]) -> None:
        x = self.dq(node, i[0], i[1], i[2])
        self.q(node, self.op(node, op_type, [x], **attrs), i[3], i[4], node.output[0])

    def softmax(self, node: onnx.NodeProto, i: list[str], attrs: dict[str, object]) -> None:
        if int(attrs.get("opset", 13)) < 13:  # type: ignore[call-overload]
            raise self.model.node_error(node, "QLinearSoftmax of opset < 13 (2-D coercion) is not supported")
        x = self.dq(node, i[0], i[1], i[2])
        y = self.op(node, "Softmax", [x], axis=int(attrs.get("axis", -1)))  # type: ignore[call-overload]
        self.q(node, y, i[3], i[4], node.output[0])

    def gemm(self, node: onnx.NodeProto, i: list[str], attrs: dict[str, object]) -> None:
        a = self.dq(node, i[0], i[1], i[2])
        b = self.dq(node, i[3], i[4], i[5])
        inputs = [a, b]
        if i[6]:
            # the bias is int32 at scale a_scale * b_scale, zero point 0: QGemm adds it to the
            # accumulator; as QDQ it is DequantizeLinear with that scale
            self.count += 1
            scale = f"{node.name}__bias_scale{self.count}"
            self.nodes.append(helper.make_node("Mul", [i[1], i[4]], [scale], name=f"{node.name}__bias_scale"))
            inputs.append(self.dq(node, i[6], scale, ""))
        kept = {k: v for k, v in attrs.items() if k in ("alpha", "transA", "transB")}
        y = self.op(node, "Gemm", inputs, **kept)
        if not i[7]:
            raise self.model.node_error(node, "QGemm with a float output is not supported")
        self.q(node, y, i[7], i[8], node.output[0])

    def concat(self, node: onnx.NodeProto, i: list[str], attrs: dict[str, object]) -> None:
        rest = [x for x in list(node.input)[2:]]
        if len(rest) % 3:
            raise self.model.node_error(node, "QLinearConcat needs (value, scale, zero point) triples")
        xs = [self.dq(node, rest[k], rest[k + 1], rest[k + 2]) for k in range(0, len(rest), 3)]
        y = self.op(node, "Concat", xs, axis=int(attrs.get("axis", 0)))  # type: ignore[call-overload]
        self.q(node, y, node.input[0], node.input[1], node.output[0])


def qoperator_to_qdq(model: OnnxModel) -> OnnxModel:
    """An equivalent QDQ model (standard ops only) of a QOperator-format model."""
    proto = _Rewriter(model).run()
    return OnnxModel(model.path, proto, model.initializers)
