"""The core of post-training quantization: quantized values, the precision plan (which
tensors get 16 bits, which get one scale per channel) and the requantization helpers that
every emitter uses. The policy itself is explained in ptq.py and docs/ptq.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator
from xdsl.dialects.builtin import IntegerType, i32
from xdsl.ir import SSAValue

from compiler.frontend.calibrate import Range
from compiler.frontend.fixed_point import fixed_point
from compiler.frontend.onnx_graph import FloatGraph, Node
from compiler.frontend.onnx_model import FrontendError
from compiler.frontend.patterns import Block, Matcher
from compiler.frontend.qtfm_builder import QtfmBuilder, levels_type, tensor, value_name
from dialects import qtfm

INPUT_SCALES_ATTR = "mote.input_scales"
OUTPUT_SCALES_ATTR = "mote.output_scales"
FINE_BITS = 8
PRECISIONS = ("mixed", "int8")
"""`mixed`: activations read by linear layers after norms and activation functions are int16
(16x8 products), everything else as below; `int8`: every matrix-product activation is int8,
with per-channel scales where a tensor has outlier channels (fastest on SIMD targets)."""
ACCUMULATOR_16X8_K = (2**31 - 1) // (32767 * 127)
"""The longest reduction of int16 activations by int8 weights an int32 accumulator holds."""
PER_CHANNEL_ALPHA = 0.8
"""A per-channel activation scale is max|x_c|^a * max_c(max|x_c|)^(1-a): part of the range
difference between channels goes to the weights they are folded into, part stays in the
activation (SmoothQuant's migration strength); 0.8 measured best on MiniLM and llama-tiny."""
OUTPUT_BITS = (16, 8)
"""Width of the model's outputs: 16 bits by default; 8 bits halves the output buffer and lets
the last layer write the model output in place (an MCU with little RAM)."""
I8 = IntegerType(8)
Scale = float | np.ndarray

SHAPE_OPS = ("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten")
# Consumers that accept one scale per channel of the last axis.
PER_CHANNEL_BLOCKS = ("linear", "mean_pool")
PER_CHANNEL_NODES = ("Add", "Sub")


@dataclass(frozen=True, eq=False)
class QTensor:
    """An integer tensor and the real value of one unit: a float, one float per channel of
    the last axis, or None for exact integers (ids, masks)."""

    value: SSAValue
    scale: Scale | None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.type.get_shape())  # type: ignore[attr-defined]

    @property
    def bits(self) -> int:
        return self.value.type.element_type.width.data  # type: ignore[attr-defined]

    @property
    def per_channel(self) -> bool:
        return isinstance(self.scale, np.ndarray)


def qmax(bits: int) -> int:
    return (1 << (bits - 1)) - 1


def signed_type(bits: int) -> IntegerType:
    return levels_type(1 << bits, True)


class QuantizerCore:
    """Precision planning, scale bookkeeping and the requant helpers every emitter uses."""

    def __init__(
        self,
        graph: FloatGraph,
        matcher: Matcher,
        ranges: dict[str, Range],
        precision: str = "mixed",
        output_bits: int = 16,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got '{precision}'")
        if output_bits not in OUTPUT_BITS:
            raise ValueError(f"output bits must be one of {OUTPUT_BITS}, got {output_bits}")
        self.precision = precision
        self.output_bits = output_bits
        self.g = graph
        self.blocks = matcher.blocks
        self.ranges = ranges
        self.values: dict[str, QTensor] = {}
        self.claimed = matcher.claimed
        self.block_of = {id(n): b for b in self.blocks.values() for n in b.nodes}
        self.wide = self._wide_tensors()
        self.b: QtfmBuilder

    # -- precision plan -----------------------------------------------------------------------

    def _consumers(self, tensor_name: str) -> list[Block | Node]:
        out: list[Block | Node] = []
        for node in self.g.users(tensor_name):
            block = self.block_of.get(id(node))
            item = block if block is not None else node
            if item not in out:
                out.append(item)
        return out

    def _wide_tensors(self) -> set[str]:
        """Tensors kept at 16 bits.

        `mixed`: every activation except the operands of products of two activations
        (Q.K^T and P.V, where one int8 side keeps the int32 accumulator safe).
        `int8`: model outputs; inputs of norms, softmax scores and activation functions; and,
        through additions and shape ops, the operands that build them, unless a matrix
        product reads them."""
        outputs = set(self.g.outputs)
        if self.precision == "mixed":
            narrow = self._product_operands()
            wide = {t for t in self.ranges if t not in narrow}
            return wide | outputs if self.output_bits == 16 else wide - outputs
        wide = outputs if self.output_bits == 16 else set()
        for block in self.blocks.values():
            if block.kind in ("layernorm", "rmsnorm", "function"):
                wide.update(block.inputs)
            if block.kind == "softmax" and len(block.inputs) == 1:
                wide.update(block.inputs)
        changed = True
        while changed:
            changed = False
            for node in self.g.nodes:
                if id(node) in self.claimed or node.outputs[0] not in wide:
                    continue
                if node.op in SHAPE_OPS or node.op in ("Add", "Sub"):
                    for i in node.inputs:
                        if i and i not in wide and self.g.const(i) is None and not self._feeds_product(i):
                            wide.add(i)
                            changed = True
        return wide

    def _product_operands(self) -> set[str]:
        """Operands of activation-by-activation products that must be int8 so that the
        other operand can be wider, and (back through shape ops,
        slices, concatenations and rotary embeddings) the tensors they are made of."""
        narrow: set[str] = set()
        for block in self.blocks.values():
            if block.kind == "softmax" and len(block.inputs) == 2:
                # Q.K^T: the keys may stay 16-bit when the head is short enough for a 16x8
                # int32 accumulator (keys decide more of the score error than queries).
                head = self.g.shapes.get(block.inputs[0], (0,))[-1]
                narrow.update(block.inputs[:1] if head <= ACCUMULATOR_16X8_K else block.inputs)
        for node in self.g.nodes:
            if node.op == "MatMul" and id(node) not in self.claimed:
                narrow.update(i for i in node.inputs if self.g.const(i) is None)
        changed = True
        while changed:
            changed = False
            for t in list(narrow):
                node = self.g.producer.get(t)
                if node is None:
                    continue
                block = self.block_of.get(id(node))
                sources = (
                    block.inputs
                    if block is not None and block.kind == "rope"
                    else node.inputs
                    if block is None and node.op in (*SHAPE_OPS, "Slice", "Concat")
                    else []
                )
                for i in sources:
                    if i and i not in narrow and self.g.const(i) is None:
                        narrow.add(i)
                        changed = True
        return narrow

    def _feeds_product(self, tensor_name: str) -> bool:
        return any(
            (isinstance(c, Block) and c.kind in ("linear", "softmax"))
            or (isinstance(c, Node) and c.op == "MatMul")
            for c in self._consumers(tensor_name)
        )

    def bits(self, tensor_name: str) -> int:
        return 16 if tensor_name in self.wide else 8

    def per_channel_ok(self, tensor_name: str) -> bool:
        """Whether every reader of the tensor accepts one scale per channel."""
        if tensor_name in self.wide or tensor_name not in self.ranges or tensor_name in self.g.outputs:
            return False
        for c in self._consumers(tensor_name):
            if isinstance(c, Block):
                if c.kind not in PER_CHANNEL_BLOCKS or c.inputs[0] != tensor_name:
                    return False
            elif c.op not in PER_CHANNEL_NODES:
                return False
        return True

    def scale_of(
        self, tensor_name: str, bits: int | None = None, node: Node | None = None, per_channel: bool = False
    ) -> Scale:
        r = self.ranges.get(tensor_name)
        if r is None:
            where = f"node '{node.name}'" if node else f"tensor '{tensor_name}'"
            raise FrontendError(f"{self.g.model.path}: {where}: no calibration range for '{tensor_name}'")
        bits = self.bits(tensor_name) if bits is None else bits
        if per_channel:
            ch = np.maximum(r.channels.astype(np.float64), 1e-8)
            return ch**PER_CHANNEL_ALPHA * ch.max() ** (1 - PER_CHANNEL_ALPHA) / qmax(bits)
        if bits == 8:
            return max(r.clip(qmax(bits)), 1e-8) / qmax(bits)
        return max(r.absmax, 1e-8) / qmax(bits)

    def out_scale(self, tensor_name: str, node: Node | None = None) -> tuple[Scale, int]:
        """The scale and width a producer gives the tensor it computes."""
        bits = self.bits(tensor_name)
        return self.scale_of(tensor_name, bits, node, self.per_channel_ok(tensor_name)), bits

    # -- requantization -----------------------------------------------------------------------

    def requant_attr(
        self, factors: Scale, bits: int, rank: int, signed: bool = True, levels: int | None = None
    ) -> qtfm.RequantAttr:
        values = np.atleast_1d(np.asarray(factors, dtype=np.float64))
        muls, shift = fixed_point(list(values))
        axis = rank - 1 if len(muls) > 1 else None
        return qtfm.RequantAttr.get(muls, 0, shift, levels or 1 << bits, signed, axis)

    def requant(
        self, x: QTensor, scale: Scale, bits: int, factor: Scale = 1.0, signed: bool = True
    ) -> QTensor:
        """`x` times `factor` at a new scale (per tensor or per channel) and width."""
        assert x.scale is not None
        m = np.asarray(x.scale, np.float64) * factor / np.asarray(scale, np.float64)
        if m.ndim == 0 and bits == x.bits and signed and abs(float(m) - 1.0) < 1e-12:
            return x
        attr = self.requant_attr(
            m, bits, len(x.shape), signed, levels=(1 << bits) if signed else 1 << (bits - 1)
        )
        v = self.b.add(
            qtfm.RequantOp.build(
                operands=[x.value],
                result_types=[tensor(x.shape, signed_type(bits))],
                properties={"params": attr},
            )
        )
        return QTensor(v, scale)

    def per_tensor(self, x: QTensor, bits: int | None = None) -> QTensor:
        """One scale for the whole tensor (readers that cannot take a scale per channel)."""
        if not x.per_channel:
            return x
        bits = bits or x.bits
        return self.requant(x, float(np.max(x.scale)) * qmax(x.bits) / qmax(bits), bits)

    def rescale_to_i32(self, x: QTensor, scale: float, sign: float = 1.0, signed: bool = True) -> SSAValue:
        """`x` at a fine scale in int32 (the operands of an addition)."""
        assert x.scale is not None
        levels = 1 << 32 if signed else 1 << 31
        attr = self.requant_attr(
            sign * np.asarray(x.scale, np.float64) / scale, 32, len(x.shape), signed, levels
        )
        return self.b.add(
            qtfm.RequantOp.build(
                operands=[x.value], result_types=[tensor(x.shape, i32)], properties={"params": attr}
            )
        )

    # -- constants ----------------------------------------------------------------------------

    def weight(self, name: str, values: np.ndarray, elem: IntegerType | None = None) -> SSAValue:
        return self.b.weight(name, values, elem)

    def quantize_const(self, name: str, c: np.ndarray, scale: float, bits: int = 32) -> SSAValue:
        q = np.round(c / scale)
        if np.abs(q).max(initial=0) > qmax(bits):
            raise FrontendError(
                f"{self.g.model.path}: constant '{name}' does not fit {bits} bits at scale {scale:g}"
            )
        return self.weight(name, q.astype(np.int64), IntegerType(bits))

    # -- values -------------------------------------------------------------------------------

    def get(self, name: str, node: Node | None) -> QTensor:
        if name in self.values:
            return self.values[name]
        where = f"node '{node.name}' ({node.op})" if node else "the graph output"
        raise FrontendError(
            f"{self.g.model.path}: {where} uses '{name}', which the integer program does not "
            "compute (it belongs to a pattern that is not supported)"
        )

    def scaled(self, name: str, node: Node, what: str) -> QTensor:
        """A value with one scale, for readers that need it."""
        q = self.get(name, node)
        if q.scale is None:
            raise self.unsupported(node, f"{what} of unscaled integers")
        return self.per_tensor(q)

    def set(self, name: str, q: QTensor) -> None:
        q.value.name_hint = value_name(name)
        self.values[name] = q

    def unsupported(self, node: Node, why: str = "this op is not supported") -> FrontendError:
        return self.g.error(node, why)

    def evaluate(self, nodes: list[Node], feeds: dict[str, np.ndarray], output: str) -> np.ndarray:
        """Runs float nodes on given inputs (activation tables, mask analysis)."""
        consts = {i: self.g.consts[i] for n in nodes for i in n.inputs if i in self.g.consts}
        inputs = [
            onnx.helper.make_tensor_value_info(k, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
            for k, v in {**feeds, **consts}.items()
        ]
        graph = onnx.helper.make_graph(
            [n.proto for n in nodes], "part", inputs, [onnx.helper.make_empty_tensor_value_info(output)]
        )
        model = onnx.helper.make_model(graph, opset_imports=list(self.g.model.proto.opset_import))
        return np.asarray(ReferenceEvaluator(model).run([output], {**feeds, **consts})[0])

    def cone(self, tensor_name: str) -> tuple[list[Node], list[str]]:
        """The nodes computing a tensor from graph inputs, and those inputs."""
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
        return [n for n in self.g.nodes if n in nodes], sources
