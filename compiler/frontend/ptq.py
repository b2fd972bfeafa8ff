"""Post-training quantization of a float transformer graph into an integer-only qtfm program.

The scheme (docs/ptq.md gives the reasoning and the measurements behind it):
- weights int8, symmetric, per output channel; biases int32 at the accumulator's scale;
- activations symmetric with zero point 0; int8 where they feed matrix products, int16 on
  the residual stream (norm inputs, the additions that build them), for softmax scores and
  activation-function inputs, and for model outputs;
- outputs of norms and activation functions may carry one scale per channel (last axis):
  transformer activations have outlier channels that a single int8 scale cannot serve, and
  a per-channel scale folds exactly into the weights of the linear layer that reads it;
- accumulators int32, rescaled by fixed-point `#qtfm.requant` multipliers; additions rescale
  both operands to a scale 2^8 finer than their result;
- scalar multiplications and divisions by positive constants only change a scale.
Block emitters (norms, attention, activation functions, rotary embeddings) are in
ptq_blocks.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from xdsl.dialects.builtin import ArrayAttr, FloatAttr, IntegerAttr, ModuleOp, f64, i32

from compiler.frontend.calibrate import Range
from compiler.frontend.onnx_graph import FloatGraph, Node
from compiler.frontend.patterns import Matcher
from compiler.frontend.ptq_blocks import BlockEmitters
from compiler.frontend.ptq_core import (
    FINE_BITS,
    I8,
    INPUT_SCALES_ATTR,
    OUTPUT_SCALES_ATTR,
    QTensor,
    signed_type,
)
from compiler.frontend.qtfm_builder import QtfmBuilder, tensor
from compiler.frontend.shape_ops import static_slice
from dialects import qtfm


class Quantizer(BlockEmitters):
    """Walks the graph in order, emitting qtfm for recognised blocks and single nodes."""

    def run(self, weights_file: str) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        in_types, in_scales = [], []
        for name in self.g.inputs:
            shape = self.g.shapes[name]
            if self.g.dtypes.get(name) == onnx.TensorProto.FLOAT:
                in_types.append(tensor(shape, signed_type(self.bits(name))))
                in_scales.append(float(self.scale_of(name)))
            else:
                in_types.append(tensor(shape, i32))
                in_scales.append(0.0)
        self.b = QtfmBuilder(self.g.inputs, in_types)
        for name, arg, scale in zip(self.g.inputs, self.b.block.args, in_scales, strict=True):
            self.values[name] = QTensor(arg, scale or None)
        for node in self.g.nodes:
            if id(node) in self.claimed:
                for out in node.outputs:
                    if out in self.blocks:
                        block = self.blocks[out]
                        self.set(block.output, getattr(self, f"block_{block.kind}")(block))
                continue
            handler = getattr(self, f"node_{node.op}", None)
            if handler is None:
                raise self.unsupported(node)
            self.set(node.outputs[0], handler(node))
        outputs, scales = [], []
        for name in self.g.outputs:
            q = self.get(name, None)
            bits = self.output_bits
            if q.scale is not None and (q.per_channel or q.bits != bits):
                q = self.requant(q, float(self.scale_of(name, bits)), bits)
            outputs.append(q.value)
            scales.append(float(q.scale) if q.scale is not None else 0.0)
        module = self.b.finish(outputs, self.g.outputs, weights_file)
        f = module.body.block.first_op
        assert f is not None
        f.attributes[INPUT_SCALES_ATTR] = ArrayAttr(FloatAttr(s, f64) for s in in_scales)
        f.attributes[OUTPUT_SCALES_ATTR] = ArrayAttr(FloatAttr(s, f64) for s in scales)
        return module, self.b.weights

    # -- single nodes -------------------------------------------------------------------------

    def _const_or_value(self, name: str, node: Node) -> np.ndarray | QTensor:
        c = self.g.const(name)
        return c if c is not None else self.get(name, node)

    def node_Add(self, node: Node) -> QTensor:
        return self._add(node, negate=False)

    def node_Sub(self, node: Node) -> QTensor:
        return self._add(node, negate=True)

    def _add(self, node: Node, negate: bool) -> QTensor:
        """Both operands at a scale 2^8 finer than the result, summed, requantized."""
        out = node.outputs[0]
        s_y, bits = self.out_scale(out, node)
        s_c = float(np.min(s_y)) / (1 << FINE_BITS)
        operands = []
        for k, name in enumerate(node.inputs):
            v = self._const_or_value(name, node)
            sign = -1.0 if negate and k == 1 else 1.0
            if isinstance(v, np.ndarray):
                operands.append(self.quantize_const(f"{node.name}.c{k}", sign * v.astype(np.float64), s_c))
            elif v.scale is None:
                raise self.unsupported(node, "adding unscaled integer data")
            else:
                operands.append(self.rescale_to_i32(v, s_c, sign))
        shape = self.g.shapes[out]
        attr = self.requant_attr(s_c / np.asarray(s_y, np.float64), bits, len(shape))
        v = self.b.add(
            qtfm.AddOp.build(
                operands=operands,
                result_types=[tensor(shape, signed_type(bits))],
                properties={"requant": attr},
            )
        )
        return QTensor(v, s_y)

    def node_Mul(self, node: Node) -> QTensor:
        names = list(node.inputs)
        if self.g.const(names[0]) is not None:
            names.reverse()
        c = self.g.const(names[1])
        if c is not None and c.size == 1 and float(c.reshape(())) > 0:
            x = self.get(names[0], node)
            if x.scale is None:
                raise self.unsupported(node, "multiplying unscaled integer data")
            return QTensor(x.value, x.scale * float(c.reshape(())))
        a = self.scaled(names[0], node, "multiplying")
        if c is not None:
            s_c = max(float(np.abs(c).max()), 1e-12) / 127
            b = QTensor(self.quantize_const(f"{node.name}.c", c.astype(np.float64), s_c, 8), s_c)
        else:
            b = self.scaled(names[1], node, "multiplying")
        s_y, bits = self.out_scale(node.outputs[0], node)
        shape = self.g.shapes[node.outputs[0]]
        factor = float(a.scale) * float(b.scale) / np.asarray(s_y, np.float64)  # type: ignore[arg-type]
        attr = self.requant_attr(factor, bits, len(shape))
        v = self.b.add(
            qtfm.MulOp.build(
                operands=[a.value, b.value],
                result_types=[tensor(shape, signed_type(bits))],
                properties={"requant": attr},
            )
        )
        return QTensor(v, s_y)

    def node_Div(self, node: Node) -> QTensor:
        c = self.g.const(node.inputs[1])
        x = self.get(node.inputs[0], node)
        if c is None or c.size != 1 or float(c.reshape(())) <= 0 or x.scale is None:
            raise self.unsupported(node, "only division by a positive constant is supported")
        return QTensor(x.value, x.scale / float(c.reshape(())))

    def node_MatMul(self, node: Node) -> QTensor:
        a, b = (self.scaled(i, node, "a matrix product") for i in node.inputs)
        shape = qtfm.matmul_shape(a.shape, b.shape)
        if shape is None:
            raise self.unsupported(node, f"operand shapes {a.shape} and {b.shape} are incompatible")
        bits = self.bits(node.outputs[0])
        s_y = float(self.scale_of(node.outputs[0], bits, node))
        attr = self.requant_attr(float(a.scale) * float(b.scale) / s_y, bits, len(shape))  # type: ignore[arg-type]
        v = self.b.add(
            qtfm.MatmulOp.build(
                operands=[a.value, b.value],
                result_types=[tensor(shape, signed_type(bits))],
                properties={"requant": attr},
            )
        )
        return QTensor(v, s_y)

    def node_Gather(self, node: Node) -> QTensor:
        data, idx = node.inputs[0], node.inputs[1]
        table = self.g.const(data)
        axis = int(node.attr("axis", 0))  # type: ignore[arg-type]
        if table is not None:
            ids = self.get(idx, node)
            if table.ndim != 2 or axis != 0 or ids.scale is not None:
                raise self.unsupported(
                    node, "Gather of a constant must be a 2-D embedding lookup on integer ids"
                )
            scale = max(float(np.abs(table).max()), 1e-12) / 127
            tv = self.quantize_const(data, table.astype(np.float64), scale, 8)
            v = self.b.add(
                qtfm.EmbeddingOp.build(
                    operands=[tv, ids.value], result_types=[tensor((*ids.shape, table.shape[1]), I8)]
                )
            )
            return QTensor(v, scale)
        x = self.get(data, node)
        index = self.g.const(idx)
        if index is None or index.size != 1:
            raise self.unsupported(node, "Gather on activations needs one constant index")
        rank = len(x.shape)
        axis %= rank
        if axis == rank - 1:
            x = self.per_tensor(x)
        i = int(index.reshape(())) % x.shape[axis]
        sliced = self.slice(
            x,
            [i if d == axis else 0 for d in range(rank)],
            [1 if d == axis else n for d, n in enumerate(x.shape)],
        )
        return self.reshape(sliced, self.g.shapes[node.outputs[0]])

    def slice(
        self, x: QTensor, first: Sequence[int], size: Sequence[int], stride: Sequence[int] | None = None
    ) -> QTensor:
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        v = self.b.add(
            qtfm.SliceOp.build(
                operands=[x.value],
                result_types=[tensor(size, elem)],
                properties={
                    "starts": qtfm.i64_array(first),
                    "strides": qtfm.i64_array(stride or [1] * len(first)),
                },
            )
        )
        scale = x.scale
        if isinstance(scale, np.ndarray):
            s, st, n = first[-1], (stride or [1] * len(first))[-1], size[-1]
            scale = scale[s : s + st * n : st]
        return QTensor(v, scale)

    def reshape(self, x: QTensor, shape: Sequence[int]) -> QTensor:
        if tuple(shape) == x.shape:
            return x
        if x.per_channel and (not shape or shape[-1] != x.shape[-1]):
            x = self.per_tensor(x)
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        v = self.b.add(qtfm.ReshapeOp.build(operands=[x.value], result_types=[tensor(shape, elem)]))
        return QTensor(v, x.scale)

    def _shape_op(self, node: Node) -> QTensor:
        return self.reshape(self.get(node.inputs[0], node), self.g.shapes[node.outputs[0]])

    node_Reshape = _shape_op
    node_Squeeze = _shape_op
    node_Unsqueeze = _shape_op
    node_Flatten = _shape_op

    def node_Transpose(self, node: Node) -> QTensor:
        x = self.get(node.inputs[0], node)
        perm = list(node.attr("perm", list(range(len(x.shape)))[::-1]))  # type: ignore[call-overload]
        if x.per_channel and perm[-1] != len(perm) - 1:
            x = self.per_tensor(x)
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        v = self.b.add(qtfm.TransposeOp(x.value, perm, tensor([x.shape[p] for p in perm], elem)))
        return QTensor(v, x.scale)

    def node_Slice(self, node: Node) -> QTensor:
        x = self.get(node.inputs[0], node)
        params = [self.g.const(i) if i else None for i in node.inputs[1:]]
        if any(p is None for p in params[:2]) or any(
            p is None and i for p, i in zip(params[2:], node.inputs[3:], strict=False)
        ):
            raise self.unsupported(node, "Slice parameters must be constants")
        starts, ends = params[0].ravel().tolist(), params[1].ravel().tolist()  # type: ignore[union-attr]
        axes = params[2].ravel().tolist() if len(params) > 2 and params[2] is not None else None
        steps = params[3].ravel().tolist() if len(params) > 3 and params[3] is not None else None
        try:
            first, stride, size = static_slice(x.shape, starts, ends, axes, steps)
        except ValueError as err:
            raise self.unsupported(node, str(err)) from None
        return self.slice(x, first, size, stride)

    def node_Concat(self, node: Node) -> QTensor:
        bits = self.bits(node.outputs[0])
        s_y = float(self.scale_of(node.outputs[0], bits, node))
        parts = [self.requant(self.scaled(i, node, "concatenation"), s_y, bits) for i in node.inputs]
        shape = self.g.shapes[node.outputs[0]]
        axis = int(node.attr("axis", 0)) % len(shape)  # type: ignore[arg-type]
        v = self.b.add(
            qtfm.ConcatOp.build(
                operands=[[p.value for p in parts]],
                result_types=[tensor(shape, signed_type(bits))],
                properties={"axis": IntegerAttr(axis, 64)},
            )
        )
        return QTensor(v, s_y)


def quantize(
    graph: FloatGraph,
    matcher: Matcher,
    ranges: dict[str, Range],
    weights_file: str,
    precision: str = "mixed",
    output_bits: int = 16,
) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    """The integer qtfm program of a float graph whose blocks `matcher` has recognised."""
    return Quantizer(graph, matcher, ranges, precision, output_bits).run(weights_file)
