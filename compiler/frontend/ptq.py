"""Post-training quantization of a float transformer graph into an integer-only qtfm program.

The scheme (docs/ptq.md has the reasoning):
- weights int8, symmetric, per output channel; biases int32 at the accumulator's scale;
- activations symmetric, zero point 0, scale = calibrated max |x| / qmax; int8 in general,
  int16 where precision decides the result (inputs of norms and softmax, model outputs);
- accumulators int32, rescaled by fixed-point `#qtfm.requant` multipliers;
- residual additions rescale both operands to a scale 2^8 finer than the result;
- LayerNorm/RMSNorm as integer norms on int16, softmax as I-BERT's integer softmax on int16
  scores with the attention mask applied exactly, activation functions (GELU in any exporter
  form, SiLU, tanh...) as 256-entry tables, rotary embeddings as integer multiply-adds.
Scalar multiplications and divisions by positive constants only change a tensor's scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator
from xdsl.dialects.builtin import ArrayAttr, FloatAttr, IntegerAttr, IntegerType, ModuleOp, f64, i32
from xdsl.ir import SSAValue

from compiler.frontend.calibrate import Range
from compiler.frontend.fixed_point import fixed_point
from compiler.frontend.onnx_graph import FloatGraph, Node
from compiler.frontend.onnx_model import FrontendError
from compiler.frontend.patterns import Block, Matcher
from compiler.frontend.qtfm_builder import QtfmBuilder, levels_type, tensor
from compiler.frontend.shape_ops import static_slice
from dialects import qtfm

INPUT_SCALES_ATTR = "mote.input_scales"
OUTPUT_SCALES_ATTR = "mote.output_scales"
FINE_BITS = 8  # residual additions work 2^8 finer than their result
NORM_SHIFT = 16
I8 = IntegerType(8)


@dataclass(frozen=True)
class QTensor:
    """An integer tensor and the real value of one unit (None: exact integers, no scale)."""

    value: SSAValue
    scale: float | None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.type.get_shape())  # type: ignore[attr-defined]

    @property
    def bits(self) -> int:
        return self.value.type.element_type.width.data  # type: ignore[attr-defined]


def qmax(bits: int) -> int:
    return (1 << (bits - 1)) - 1


class Quantizer:
    def __init__(self, graph: FloatGraph, matcher: Matcher, ranges: dict[str, Range]) -> None:
        self.g = graph
        self.blocks = matcher.blocks
        self.ranges = ranges
        self.values: dict[str, QTensor] = {}
        self.claimed = matcher.claimed
        self.wide = self._wide_tensors()
        self.b: QtfmBuilder

    # -- planning -----------------------------------------------------------------------------

    def _wide_tensors(self) -> set[str]:
        """Tensors kept at 16 bits: inputs of norms and softmax, and model outputs."""
        wide = set(self.g.outputs)
        for block in self.blocks.values():
            if block.kind in ("layernorm", "rmsnorm"):
                wide.update(block.inputs)
            if block.kind == "softmax" and len(block.inputs) == 1:
                wide.update(block.inputs)
        import os
        if os.environ.get("MOTE_WIDE_MUL"):
            for node in self.g.nodes:
                if node.op == "Mul" and id(node) not in self.claimed and all(self.g.const(i) is None for i in node.inputs):
                    wide.add(node.outputs[0])
        # see through shape-only ops
        changed = True
        while changed:
            changed = False
            for node in self.g.nodes:
                if node.op in ("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten"):
                    if node.outputs[0] in wide and node.inputs[0] not in wide:
                        wide.add(node.inputs[0])
                        changed = True
        return wide

    def bits(self, tensor_name: str) -> int:
        return 16 if tensor_name in self.wide else 8

    def scale_of(self, tensor_name: str, bits: int | None = None, node: Node | None = None) -> float:
        r = self.ranges.get(tensor_name)
        if r is None:
            where = f"node '{node.name}'" if node else f"tensor '{tensor_name}'"
            raise FrontendError(f"{self.g.model.path}: {where}: no calibration range for '{tensor_name}'")
        bits = self.bits(tensor_name) if bits is None else bits
        return max(r.absmax, 1e-8) / qmax(bits)

    # -- emission helpers ---------------------------------------------------------------------

    def requant(self, x: QTensor, scale: float, bits: int, factor: float = 1.0) -> QTensor:
        """`x` (times `factor`) at a new scale and width, rounded half up and clamped."""
        assert x.scale is not None
        m = x.scale * factor / scale
        if bits == x.bits and abs(m - 1.0) < 1e-12:
            return x
        (mul,), shift = fixed_point([m])
        params = qtfm.RequantAttr.get(mul, 0, shift, 1 << bits, True)
        out = tensor(x.shape, levels_type(1 << bits, True))
        v = self.b.add(qtfm.RequantOp.build(operands=[x.value], result_types=[out],
                                            properties={"params": params}))
        return QTensor(v, scale)

    def requant_attr(self, factors: Sequence[float], bits: int, axis: int | None = None,
                     adds: Sequence[int] | int = 0) -> qtfm.RequantAttr:
        muls, shift = fixed_point(list(factors))
        if len(muls) == 1:
            axis = None
        return qtfm.RequantAttr.get(muls, adds, shift, 1 << bits, True, axis)

    def weight(self, name: str, values: np.ndarray, elem: IntegerType | None = None) -> SSAValue:
        return self.b.weight(name, values, elem)

    def quantize_const(self, name: str, c: np.ndarray, scale: float, bits: int = 32) -> SSAValue:
        q = np.round(c / scale)
        lim = qmax(bits)
        if np.abs(q).max(initial=0) > lim:
            raise FrontendError(f"{self.g.model.path}: constant '{name}' does not fit {bits} bits "
                                f"at scale {scale:g}")
        return self.weight(name, q.astype(np.int64), IntegerType(bits))

    # -- driver -------------------------------------------------------------------------------

    def run(self, weights_file: str) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        in_types, in_scales = [], []
        for name in self.g.inputs:
            shape = self.g.shapes[name]
            if self.g.dtypes.get(name) == onnx.TensorProto.FLOAT:
                scale = self.scale_of(name, 8)
                in_types.append(tensor(shape, I8))
                in_scales.append(scale)
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
                        self._emit_block(self.blocks[out])
                continue
            self._emit_node(node)
        outputs, scales = [], []
        for name in self.g.outputs:
            q = self._get(name, None)
            if q.scale is not None and q.bits != 16 and name in self.wide:
                q = self.requant(q, self.scale_of(name, 16), 16)
            outputs.append(q.value)
            scales.append(q.scale or 0.0)
        module = self.b.finish(outputs, self.g.outputs, weights_file)
        f = module.body.block.first_op
        assert f is not None
        f.attributes[INPUT_SCALES_ATTR] = ArrayAttr(FloatAttr(s, f64) for s in in_scales)
        f.attributes[OUTPUT_SCALES_ATTR] = ArrayAttr(FloatAttr(s, f64) for s in scales)
        return module, self.b.weights

    def _get(self, name: str, node: Node | None) -> QTensor:
        if name in self.values:
            return self.values[name]
        where = f"node '{node.name}' ({node.op})" if node else "the graph output"
        raise FrontendError(
            f"{self.g.model.path}: {where} uses '{name}', which the integer program does not "
            "compute (it belongs to a pattern that is not supported)"
        )

    def _set(self, name: str, q: QTensor) -> None:
        q.value.name_hint = None
        from compiler.frontend.qtfm_builder import value_name

        q.value.name_hint = value_name(name)
        self.values[name] = q

    def _unsupported(self, node: Node, why: str = "this op is not supported") -> FrontendError:
        return self.g.error(node, why)

    # -- blocks -------------------------------------------------------------------------------

    def _emit_block(self, block: Block) -> None:
        emit = getattr(self, f"_block_{block.kind}")
        self._set(block.output, emit(block))

    def _block_linear(self, block: Block) -> QTensor:
        x = self._get(block.inputs[0], block.nodes[0])
        w: np.ndarray = block.params["weight"]  # type: ignore[assignment]
        bias: np.ndarray | None = block.params["bias"]  # type: ignore[assignment]
        if x.scale is None:
            raise self._unsupported(block.nodes[0], "a linear layer on integer (unscaled) data")
        absmax = np.abs(w).max(axis=0)
        s_w = np.where(absmax > 0, absmax / 127.0, 1.0)
        w_q = np.clip(np.round(w / s_w), -127, 127).astype(np.int64)
        name = block.nodes[0].inputs[1]
        wv = self.weight(name, w_q, I8)
        operands = [x.value, wv]
        acc_scale = x.scale * s_w
        if bias is not None:
            b_q = np.round(bias / acc_scale)
            if np.abs(b_q).max() >= 2**31:
                raise self._unsupported(block.nodes[0], "the bias does not fit int32 at the accumulator scale")
            operands.append(self.weight(f"{name}.bias", b_q.astype(np.int64), IntegerType(32)))
        bits = self.bits(block.output)
        s_y = self.scale_of(block.output, bits, block.nodes[0])
        shape = (*x.shape[:-1], w.shape[1])
        attr = self.requant_attr(list(acc_scale / s_y), bits, axis=len(shape) - 1)
        op = qtfm.LinearOp.build(
            operands=[operands[0], operands[1], operands[2] if bias is not None else None],
            result_types=[tensor(shape, levels_type(1 << bits, True))],
            properties={"requant": attr},
        )
        return QTensor(self.b.add(op), s_y)

    def _mask_operand(self, block: Block, shape: tuple[int, ...]) -> SSAValue | None:
        mask = block.params["mask"]
        if mask is None:
            return None
        node = block.nodes[0]
        c = self.g.const(mask)  # type: ignore[arg-type]
        if c is not None:
            keep = np.abs(c) < 1e-6
            if not np.all(keep | (c <= -1e3)):
                raise self._unsupported(node, "the additive attention bias is not a mask (values other than 0 and large negatives)")
            return self.weight(f"{mask}.keep", keep.astype(np.int64), I8)
        return self._input_mask(block, mask)  # type: ignore[arg-type]

    def _input_mask(self, block: Block, mask: str) -> SSAValue:
        """keep = (input != 0), for an additive mask computed from one integer graph input."""
        node = block.nodes[0]
        cone, sources = self._cone(mask)
        if len(sources) != 1:
            raise self._unsupported(node, f"the attention mask depends on {len(sources)} inputs")
        src = sources[0]
        src_shape = self.g.shapes[src]
        m_shape = self.g.shapes.get(mask)
        if m_shape is None or int(np.prod(m_shape)) != int(np.prod(src_shape)):
            raise self._unsupported(node, "the attention mask is not a reshaped function of its input")
        rng = np.random.default_rng(0)
        probe = rng.integers(0, 2, size=src_shape)
        for trial in (np.ones(src_shape, np.int64), np.zeros(src_shape, np.int64), probe):
            value = self._evaluate(cone, {src: trial}, mask).reshape(src_shape)
            ok = np.where(trial != 0, np.abs(value) < 1e-6, value <= -1e3)
            if not np.all(ok):
                raise self._unsupported(node, "the attention mask is not 0 for kept and a large negative for masked positions")
        v = self._get(src, node)
        if v.shape == tuple(m_shape):
            return v.value
        return self.b.add(qtfm.ReshapeOp.build(operands=[v.value],
                                               result_types=[tensor(m_shape, v.value.type.element_type)]))  # type: ignore[attr-defined]

    def _cone(self, tensor_name: str) -> tuple[list[Node], list[str]]:
        nodes: list[Node] = []
        sources: list[str] = []
        stack, seen = [tensor_name], set()
        while stack:
            t = stack.pop()
            if t in seen or t in self.g.consts:
                continue
            seen.add(t)
            if t in self.g.inputs:
                sources.append(t)
                continue
            n = self.g.producer[t]
            nodes.append(n)
            stack.extend(i for i in n.inputs if i)
        order = [n for n in self.g.nodes if n in nodes]
        return order, sources

    def _evaluate(self, nodes: list[Node], feeds: dict[str, np.ndarray], output: str) -> np.ndarray:
        consts = {i: self.g.consts[i] for n in nodes for i in n.inputs if i in self.g.consts}
        inputs = [onnx.helper.make_tensor_value_info(k, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                  for k, v in {**feeds, **consts}.items()]
        graph = onnx.helper.make_graph([n.proto for n in nodes], "cone", inputs,
                                       [onnx.helper.make_empty_tensor_value_info(output)])
        model = onnx.helper.make_model(graph, opset_imports=list(self.g.model.proto.opset_import))
        return np.asarray(ReferenceEvaluator(model).run([output], {**feeds, **consts})[0])

    def _block_mean_pool(self, block: Block) -> QTensor:
        node = block.nodes[0]
        x = self._get(block.inputs[0], node)
        axis: int = block.params["axis"]  # type: ignore[assignment]
        mask: str = block.params["mask"]  # type: ignore[assignment]
        cone, sources = self._cone(mask)
        if len(sources) != 1:
            raise self._unsupported(node, "the pooling mask must come from one integer input")
        src = sources[0]
        lead = x.shape[: axis + 1]
        if int(np.prod(self.g.shapes[src])) != int(np.prod(lead)):
            raise self._unsupported(node, "the pooling mask does not cover the pooled axis")
        for trial in (np.ones(self.g.shapes[src], np.int64), np.zeros(self.g.shapes[src], np.int64)):
            value = self._evaluate(cone, {src: trial}, mask)
            if not np.all(value == float(trial.ravel()[0])):
                raise self._unsupported(node, "the pooling mask is not the input mask itself")
        m = self._get(src, node)
        mv = m.value if m.shape == lead else self.b.add(qtfm.ReshapeOp.build(
            operands=[m.value], result_types=[tensor(lead, m.value.type.element_type)]))  # type: ignore[attr-defined]
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        shape = x.shape[:axis] + x.shape[axis + 1:]
        v = self.b.add(qtfm.MeanOp.build(operands=[x.value, mv], result_types=[tensor(shape, elem)],
                                         properties={"axis": IntegerAttr(axis, 64)}))
        out = QTensor(v, x.scale)
        if block.params["keepdims"]:
            out = self._reshape(out, self.g.shapes[block.output])
        return out

    def _block_softmax(self, block: Block) -> QTensor:
        node = block.nodes[0]
        alpha: float = block.params["alpha"]  # type: ignore[assignment]
        scores_name: str = block.params["scores"]  # type: ignore[assignment]
        s_in = self.scale_of(scores_name, 16, node)
        if len(block.inputs) == 2:
            q, k = (self._get(t, node) for t in block.inputs)
            if q.scale is None or k.scale is None:
                raise self._unsupported(node, "attention scores of unscaled integers")
            shape = qtfm.matmul_shape(q.shape, k.shape)
            assert shape is not None
            attr = self.requant_attr([q.scale * k.scale * alpha / s_in], 16)
            v = self.b.add(qtfm.MatmulOp.build(operands=[q.value, k.value],
                                               result_types=[tensor(shape, IntegerType(16))],
                                               properties={"requant": attr}))
            scores = QTensor(v, s_in)
        else:
            scores = self.requant(self._get(block.inputs[0], node), s_in, 16, factor=alpha)
        log2 = math.floor(math.log(2) / s_in)
        coeff_b = math.floor(1.353 / s_in)
        coeff_c = math.floor(0.344 / (0.3585 * s_in * s_in))
        if log2 < 1:
            raise self._unsupported(node, "attention scores span too wide a range for the integer softmax")
        params = qtfm.SoftmaxAttr.get(coeff_a=1, coeff_b=coeff_b, coeff_c=coeff_c, log2=log2, levels=256)
        mask = self._mask_operand(block, scores.shape)
        out = tensor(scores.shape, levels_type(256, False))
        v = self.b.add(qtfm.SoftmaxOp.build(operands=[scores.value, mask], result_types=[out],
                                            properties={"params": params}))
        return QTensor(v, 1.0 / 255)

    def _norm_input(self, block: Block) -> QTensor:
        x = self._get(block.inputs[0], block.nodes[0])
        if x.scale is None:
            raise self._unsupported(block.nodes[0], "a norm of unscaled integers")
        if x.bits > 16:
            x = self.requant(x, self.scale_of(block.inputs[0], 16), 16)
        return x

    def _norm_weights(self, gamma: np.ndarray, beta: np.ndarray | None, s_y: float,
                      node: Node) -> tuple[np.ndarray, np.ndarray | None, int]:
        shift = NORM_SHIFT
        largest = max(np.abs(gamma).max(), 0 if beta is None else np.abs(beta).max()) / s_y
        while shift > 0 and largest * 2.0**shift >= 2**30:
            shift -= 1
        w = np.round(gamma / s_y * 2.0**shift).astype(np.int64)
        b = None if beta is None else np.round(beta / s_y * 2.0**shift).astype(np.int64)
        return w, b, shift

    def _block_layernorm(self, block: Block) -> QTensor:
        x = self._norm_input(block)
        bits = self.bits(block.output)
        s_y = self.scale_of(block.output, bits, block.nodes[0])
        w, bias, shift = self._norm_weights(block.params["gamma"], block.params["beta"], s_y, block.nodes[0])  # type: ignore[arg-type]
        name = block.output
        wv = self.weight(f"{name}.gamma", w, IntegerType(32))
        bv = self.weight(f"{name}.beta", bias, IntegerType(32))  # type: ignore[arg-type]
        params = qtfm.LayerNormAttr.get(shift=shift, levels=1 << bits)
        v = self.b.add(qtfm.LayerNormOp.build(operands=[x.value, wv, bv],
                                              result_types=[tensor(x.shape, levels_type(1 << bits, True))],
                                              properties={"params": params}))
        return QTensor(v, s_y)

    def _block_rmsnorm(self, block: Block) -> QTensor:
        x = self._norm_input(block)
        bits = self.bits(block.output)
        s_y = self.scale_of(block.output, bits, block.nodes[0])
        w, _, shift = self._norm_weights(block.params["gamma"], None, s_y, block.nodes[0])  # type: ignore[arg-type]
        wv = self.weight(f"{block.output}.gamma", w, IntegerType(32))
        params = qtfm.RMSNormAttr.get(shift=shift, levels=1 << bits)
        v = self.b.add(qtfm.RMSNormOp.build(operands=[x.value, wv],
                                            result_types=[tensor(x.shape, levels_type(1 << bits, True))],
                                            properties={"params": params}))
        return QTensor(v, s_y)

    def _block_function(self, block: Block) -> QTensor:
        x = self._get(block.inputs[0], block.nodes[0])
        if x.scale is None:
            raise self._unsupported(block.nodes[0], "an activation function of unscaled integers")
        if x.bits != 8:
            x = self.requant(x, self.scale_of(block.inputs[0], 8), 8)
        codes = np.arange(-128, 128)
        real = self._evaluate(block.nodes, {block.inputs[0]: (codes * x.scale).astype(np.float32)},
                              block.output).astype(np.float64)
        if real.shape != (256,) or not np.all(np.isfinite(real)):
            raise self._unsupported(block.nodes[0], "this activation function cannot be tabulated")
        bits = self.bits(block.output)
        s_y = max(np.abs(real).max(), 1e-8) / qmax(bits)
        table = np.clip(np.round(real / s_y), -qmax(bits) - 1, qmax(bits)).astype(np.int64)
        tv = self.weight(f"{block.output}.table", table, levels_type(1 << bits, True))
        v = self.b.add(qtfm.LutOp.build(operands=[x.value, tv],
                                        result_types=[tensor(x.shape, levels_type(1 << bits, True))]))
        return QTensor(v, s_y)

    def _block_rope(self, block: Block) -> QTensor:
        node = block.nodes[0]
        x = self._get(block.inputs[0], node)
        if x.scale is None:
            raise self._unsupported(node, "rotary embedding of unscaled integers")
        cos: np.ndarray = block.params["cos"]  # type: ignore[assignment]
        sin: np.ndarray = block.params["sin"]  # type: ignore[assignment]
        d = x.shape[-1]
        sin_signed = np.concatenate([-sin[..., : d // 2], sin[..., d // 2:]], axis=-1)
        cq = self.weight(f"{block.output}.cos", np.round(cos * 127).astype(np.int64), I8)
        sq = self.weight(f"{block.output}.sin", np.round(sin_signed * 127).astype(np.int64), I8)
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        half = [*x.shape[:-1], d // 2]
        hi = self.b.add(qtfm.SliceOp.build(operands=[x.value], result_types=[tensor(half, elem)], properties={
            "starts": qtfm.i64_array([0] * (len(half) - 1) + [d // 2]),
            "strides": qtfm.i64_array([1] * len(half))}))
        lo = self.b.add(qtfm.SliceOp.build(operands=[x.value], result_types=[tensor(half, elem)], properties={
            "starts": qtfm.i64_array([0] * len(half)), "strides": qtfm.i64_array([1] * len(half))}))
        swapped = self.b.add(qtfm.ConcatOp.build(operands=[[hi, lo]], result_types=[tensor(x.shape, elem)],
                                                 properties={"axis": IntegerAttr(len(half) - 1, 64)}))
        shape = qtfm.broadcast_shapes(x.shape, cos.shape)
        assert shape is not None
        a = self.b.add(qtfm.MulOp.build(operands=[x.value, cq], result_types=[tensor(shape, i32)]))
        c = self.b.add(qtfm.MulOp.build(operands=[swapped, sq], result_types=[tensor(shape, i32)]))
        bits = self.bits(block.output)
        s_y = self.scale_of(block.output, bits, node)
        attr = self.requant_attr([x.scale / 127 / s_y], bits)
        v = self.b.add(qtfm.AddOp.build(operands=[a, c], result_types=[tensor(shape, levels_type(1 << bits, True))],
                                        properties={"requant": attr}))
        return QTensor(v, s_y)

    # -- single nodes -------------------------------------------------------------------------

    def _emit_node(self, node: Node) -> None:
        handler = getattr(self, f"_node_{node.op}", None)
        if handler is None:
            raise self._unsupported(node)
        result = handler(node)
        if result is not None:
            self._set(node.outputs[0], result)

    def _const_or_value(self, name: str, node: Node) -> np.ndarray | QTensor:
        c = self.g.const(name)
        return c if c is not None else self._get(name, node)

    def _node_Add(self, node: Node) -> QTensor:
        return self._add(node, negate=False)

    def _node_Sub(self, node: Node) -> QTensor:
        return self._add(node, negate=True)

    def _add(self, node: Node, negate: bool) -> QTensor:
        a, b = (self._const_or_value(i, node) for i in node.inputs)
        bits = self.bits(node.outputs[0])
        s_y = self.scale_of(node.outputs[0], bits, node)
        s_c = s_y / (1 << FINE_BITS)
        operands = []
        for k, v in enumerate((a, b)):
            sign = -1.0 if negate and k == 1 else 1.0
            if isinstance(v, np.ndarray):
                operands.append(self.quantize_const(f"{node.name}.c{k}", sign * v.astype(np.float64), s_c))
            else:
                if v.scale is None:
                    raise self._unsupported(node, "adding unscaled integer data")
                operands.append(self._rescale_to(v, s_c, sign))
        shape = self.g.shapes[node.outputs[0]]
        attr = qtfm.RequantAttr.get(1, 0, FINE_BITS, 1 << bits, True)
        v = self.b.add(qtfm.AddOp.build(operands=operands, result_types=[tensor(shape, levels_type(1 << bits, True))],
                                        properties={"requant": attr}))
        return QTensor(v, s_y)

    def _rescale_to(self, x: QTensor, scale: float, sign: float = 1.0) -> SSAValue:
        assert x.scale is not None
        (mul,), shift = fixed_point([sign * x.scale / scale])
        params = qtfm.RequantAttr.get(mul, 0, shift, 1 << 32, True)
        return self.b.add(qtfm.RequantOp.build(operands=[x.value], result_types=[tensor(x.shape, i32)],
                                               properties={"params": params}))

    def _node_Mul(self, node: Node) -> QTensor:
        a, b = (self._const_or_value(i, node) for i in node.inputs)
        if isinstance(a, np.ndarray):
            a, b = b, a
        assert isinstance(a, QTensor)
        if a.scale is None:
            raise self._unsupported(node, "multiplying unscaled integer data")
        if isinstance(b, np.ndarray) and b.size == 1 and float(b.reshape(())) > 0:
            return QTensor(a.value, a.scale * float(b.reshape(())))
        if isinstance(b, np.ndarray):
            s_b = max(float(np.abs(b).max()), 1e-12) / 127
            bq = self.quantize_const(f"{node.name}.c", b.astype(np.float64), s_b, 8)
            b = QTensor(bq, s_b)
        if b.scale is None:
            raise self._unsupported(node, "multiplying unscaled integer data")
        bits = self.bits(node.outputs[0])
        s_y = self.scale_of(node.outputs[0], bits, node)
        shape = self.g.shapes[node.outputs[0]]
        attr = self.requant_attr([a.scale * b.scale / s_y], bits)
        a8 = a if a.bits <= 16 else self.requant(a, self.scale_of(node.inputs[0], 16), 16)
        v = self.b.add(qtfm.MulOp.build(operands=[a8.value, b.value], result_types=[tensor(shape, levels_type(1 << bits, True))],
                                        properties={"requant": attr}))
        return QTensor(v, s_y)

    def _node_Div(self, node: Node) -> QTensor:
        c = self.g.const(node.inputs[1])
        x = self._get(node.inputs[0], node)
        if c is None or c.size != 1 or float(c.reshape(())) <= 0 or x.scale is None:
            raise self._unsupported(node, "only division by a positive constant is supported")
        return QTensor(x.value, x.scale / float(c.reshape(())))

    def _node_MatMul(self, node: Node) -> QTensor:
        a, b = (self._get(i, node) for i in node.inputs)
        if a.scale is None or b.scale is None:
            raise self._unsupported(node, "matrix product of unscaled integers")
        shape = qtfm.matmul_shape(a.shape, b.shape)
        if shape is None:
            raise self._unsupported(node, f"operand shapes {a.shape} and {b.shape} are incompatible")
        bits = self.bits(node.outputs[0])
        s_y = self.scale_of(node.outputs[0], bits, node)
        attr = self.requant_attr([a.scale * b.scale / s_y], bits)
        v = self.b.add(qtfm.MatmulOp.build(operands=[a.value, b.value],
                                           result_types=[tensor(shape, levels_type(1 << bits, True))],
                                           properties={"requant": attr}))
        return QTensor(v, s_y)

    def _node_Gather(self, node: Node) -> QTensor:
        data, idx = node.inputs[0], node.inputs[1]
        table = self.g.const(data)
        axis = int(node.attr("axis", 0))  # type: ignore[arg-type]
        if table is not None:
            ids = self._get(idx, node)
            if table.ndim != 2 or axis != 0 or ids.scale is not None:
                raise self._unsupported(node, "Gather of a constant must be a 2-D embedding lookup on integer ids")
            scale = max(float(np.abs(table).max()), 1e-12) / 127
            tv = self.quantize_const(data, table.astype(np.float64), scale, 8)
            out = tensor((*ids.shape, table.shape[1]), I8)
            v = self.b.add(qtfm.EmbeddingOp.build(operands=[tv, ids.value], result_types=[out]))
            return QTensor(v, scale)
        x = self._get(data, node)
        index = self.g.const(idx)
        if index is None or index.size != 1:
            raise self._unsupported(node, "Gather on activations needs one constant index")
        rank = len(x.shape)
        axis %= rank
        i = int(index.reshape(())) % x.shape[axis]
        sliced = self._slice(x, [i if d == axis else 0 for d in range(rank)],
                             [1 if d == axis else n for d, n in enumerate(x.shape)])
        return self._reshape(sliced, self.g.shapes[node.outputs[0]])

    def _slice(self, x: QTensor, first: Sequence[int], size: Sequence[int],
               stride: Sequence[int] | None = None) -> QTensor:
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        v = self.b.add(qtfm.SliceOp.build(operands=[x.value], result_types=[tensor(size, elem)], properties={
            "starts": qtfm.i64_array(first), "strides": qtfm.i64_array(stride or [1] * len(first))}))
        return QTensor(v, x.scale)

    def _reshape(self, x: QTensor, shape: Sequence[int]) -> QTensor:
        if tuple(shape) == x.shape:
            return x
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        v = self.b.add(qtfm.ReshapeOp.build(operands=[x.value], result_types=[tensor(shape, elem)]))
        return QTensor(v, x.scale)

    def _shape_op(self, node: Node) -> QTensor:
        return self._reshape(self._get(node.inputs[0], node), self.g.shapes[node.outputs[0]])

    _node_Reshape = _shape_op
    _node_Squeeze = _shape_op
    _node_Unsqueeze = _shape_op
    _node_Flatten = _shape_op

    def _node_Transpose(self, node: Node) -> QTensor:
        x = self._get(node.inputs[0], node)
        perm = list(node.attr("perm", list(range(len(x.shape)))[::-1]))  # type: ignore[call-overload]
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        v = self.b.add(qtfm.TransposeOp(x.value, perm, tensor([x.shape[p] for p in perm], elem)))
        return QTensor(v, x.scale)

    def _node_Slice(self, node: Node) -> QTensor:
        x = self._get(node.inputs[0], node)
        params = [self.g.const(i) if i else None for i in node.inputs[1:]]
        if any(p is None for p in params[:2]) or any(
            p is None and i for p, i in zip(params[2:], node.inputs[3:], strict=False)
        ):
            raise self._unsupported(node, "Slice parameters must be constants")
        starts, ends = params[0].ravel().tolist(), params[1].ravel().tolist()  # type: ignore[union-attr]
        axes = params[2].ravel().tolist() if len(params) > 2 and params[2] is not None else None
        steps = params[3].ravel().tolist() if len(params) > 3 and params[3] is not None else None
        try:
            first, stride, size = static_slice(x.shape, starts, ends, axes, steps)
        except ValueError as err:
            raise self._unsupported(node, str(err)) from None
        return self._slice(x, first, size, stride)

    def _node_Concat(self, node: Node) -> QTensor:
        parts = [self._get(i, node) for i in node.inputs]
        bits = self.bits(node.outputs[0])
        s_y = self.scale_of(node.outputs[0], bits, node)
        parts = [self.requant(p, s_y, bits) for p in parts]
        shape = self.g.shapes[node.outputs[0]]
        axis = int(node.attr("axis", 0)) % len(shape)  # type: ignore[arg-type]
        v = self.b.add(qtfm.ConcatOp.build(operands=[[p.value for p in parts]],
                                           result_types=[tensor(shape, levels_type(1 << bits, True))],
                                           properties={"axis": IntegerAttr(axis, 64)}))
        return QTensor(v, s_y)


def quantize(graph: FloatGraph, matcher: Matcher, ranges: dict[str, Range],
             weights_file: str) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    """The integer qtfm program of a float graph whose blocks `matcher` has recognised."""
    return Quantizer(graph, matcher, ranges).run(weights_file)
