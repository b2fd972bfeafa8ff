"""Import of QDQ ONNX models (onnxruntime.quantization) into integer-only qtfm.

`quantize_static` leaves a float graph with QuantizeLinear/DequantizeLinear pairs around
almost every op: weights are DequantizeLinear of int8 constants (per tensor or per output
channel), activations are uint8 or int8 with a zero point, and between a DequantizeLinear and
the next QuantizeLinear there is either one op that onnxruntime fuses into an integer kernel
(MatMul, Gemm, Add, Mul, Softmax, Sigmoid, Concat, or a shape op that passes data through) or
a short float computation (LayerNormalization, the ReduceMean/Pow/Sqrt pieces of a
decomposed norm, Erf or Div chains). The QOperator format (QLinearMatMul, QLinearAdd...) is
first rewritten into this form (qdq_qop.py).

Every QuantizeLinear output is an 8-bit tensor of the integer program, with the model's own
scale and zero point; the float computation feeding it becomes integer qtfm whose result is
the integer onnxruntime produces:

- the fused kernels are reproduced bit for bit: their float32 arithmetic is evaluated for
  every input they can see (qdq_ort.py) and the fixed-point `#qtfm.requant` parameters are
  fitted to it (qdq_fit.py): MatMul/Gemm become `qtfm.linear`/`qtfm.matmul` (zero points
  folded into an int32 bias or subtracted exactly into 16 bits) with a per-channel requant;
  Add is `floor((a * m + lut[b]) / 2^s)`, the float32 part that depends on one operand being
  a 256-entry table; Mul requantizes the exact product of the zero-point-free operands; a
  saturated QLinearSoftmax (an attention mask folded into the input scale) becomes an exact
  `qtfm.softmax` on the row maximum;
- functions of one 8-bit tensor (Erf chains, Sqrt/Reciprocal, Neg, Div by a constant,
  requantization between different scales) are tabulated: a `#qtfm.requant` where the table
  is affine, a `qtfm.lut` otherwise;
- float reductions are computed exactly in integers and rounded once: mean squares and
  variances by integer sums, centred values `N*x - sum(x)`, and 1/std to about 1e-9 relative
  (a rsqrt table with interpolation, wide products in limbs; qdq_int.py), so LayerNormalization
  and decomposed norms round like onnxruntime's float32 except within a float32 ulp of a tie;
- outputs are the zero-point-free integers `q - zp` with the output scale
  (`mote.output_scales`); float outputs computed after the last QuantizeLinear (a Tanh pooler,
  a masked mean) get a finer scale of their own.

Limits, where the program is not bit-exact: a float32 product that lands within an ulp of
a rounding tie can make a requantization unfittable (then that channel rounds the exact
product); LayerNormalization computed by onnxruntime in float32 rounds the other way within
~1e-7 of a tie; a softmax whose input keeps several elements per row alive uses I-BERT's
integer exponential (within one step). With int8 activations onnxruntime on x86 converts
some tensors to uint8 and runs other ops in float; the importer still emulates the integer
kernels there. Tables too large for a `qtfm.lut` (QLinearMul / QLinearAdd in the rare cases
no fixed-point form reproduces) become a `qtfm.embedding` of up to 65536 entries.

What is not understood is an error naming the node, op type and opset. Shapes are static:
dynamic dimensions are fixed with `seq_len` (as for float models).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from xdsl.dialects.builtin import ArrayAttr, FloatAttr, IntegerType, ModuleOp, f64
from xdsl.ir import Operation, SSAValue

from compiler.frontend.onnx_graph import FloatGraph, Node, load_float_graph
from compiler.frontend.onnx_model import FrontendError, OnnxModel
from compiler.frontend.ptq_core import INPUT_SCALES_ATTR, OUTPUT_SCALES_ATTR
from compiler.frontend.qdq_fit import FitError, fit_add, fit_monotone, fit_shared_mul, shift_for
from compiler.frontend.qdq_int import I8, I16, I32, UI8, UI16, Ints
from compiler.frontend.qdq_ort import (
    F32,
    AddKernel,
    QParams,
    dequantize,
    evaluate,
    gemm_multipliers,
    gemm_requant,
    mul_kernel,
    quantize,
    saturated_softmax_values,
    softmax_is_saturated,
    softmax_output_multiplier,
)
from compiler.frontend.qdq_qop import is_qoperator, qoperator_to_qdq
from compiler.frontend.qtfm_builder import QtfmBuilder, tensor, value_name
from compiler.frontend.shape_ops import static_slice
from dialects import qtfm

QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}
SHAPE_OPS = {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Slice", "Gather", "Expand", "Split"}
ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Neg", "Abs", "Erf", "Tanh",
    "Sigmoid", "Relu", "LeakyRelu", "Elu", "Gelu", "HardSigmoid", "HardSwish", "Exp", "Log",
    "Softplus", "Clip", "Min", "Max", "Sign", "Cos", "Sin", "Mish", "Selu", "Celu", "Cast",
}  # fmt: skip
INT_DTYPES = {
    onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT16, onnx.TensorProto.UINT16,
    onnx.TensorProto.INT32, onnx.TensorProto.UINT32, onnx.TensorProto.INT64, onnx.TensorProto.UINT64,
    onnx.TensorProto.BOOL,
}  # fmt: skip
WIDE_DOMAIN = 1 << 15
"""Integer (non-quantized) inputs of float computations are checked on [-2^15, 2^15]."""
ADD_SHIFT_LIMIT = 22
OUTPUT_FINE_BITS = 7
"""Float outputs derived from one 8-bit tensor keep 2^7 steps per step of their input."""


def is_qdq_model(model: OnnxModel) -> bool:
    return is_qoperator(model) or any(n.op_type in QDQ_OPS for n in model.graph.node)


@dataclass(frozen=True)
class View:
    """A float tensor that is DequantizeLinear of an integer tensor of the program."""

    source: str
    params: QParams


@dataclass(frozen=True)
class QConst:
    """A float constant that is DequantizeLinear of integer data."""

    values: np.ndarray
    params: QParams


@dataclass
class Operand:
    """An input of a fused kernel: an integer tensor of the program or integer constants."""

    params: QParams
    shape: tuple[int, ...]
    value: SSAValue | None = None
    const: np.ndarray | None = None

    def domain(self) -> np.ndarray:
        if self.const is not None:
            return np.unique(self.const)
        return self.params.domain()


@dataclass
class Region:
    """The float computation of one tensor from its leaves (views, constants, integers)."""

    output: str
    nodes: list[Node] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    int_leaves: list[str] = field(default_factory=list)
    """float tensors that are Cast of integer tensors of the program"""


def _scalar(arr: np.ndarray) -> float:
    return float(np.asarray(arr).reshape(-1)[0])


class QdqImporter:
    def __init__(self, model: OnnxModel, seq_len: int | None) -> None:
        if is_qoperator(model):
            model = qoperator_to_qdq(model)
        self.qconsts: dict[str, QConst] = {}
        self.model = model
        self.model = self._fold_quantized_constants(model)
        self.g: FloatGraph = load_float_graph(self.model, seq_len)
        self.opsets = list(model.proto.opset_import)
        self.views: dict[str, View] = {}
        self.ints: dict[str, SSAValue] = {}
        self.float_inputs: dict[str, QParams] = {}
        self._last_output_scale = 0.0
        self.b: QtfmBuilder
        self.i: Ints

    # -- graph analysis -----------------------------------------------------------------------

    def _params(self, node: Node, rank: int | None, consts: dict[str, np.ndarray] | None = None) -> QParams:
        """Scale and zero point of a QuantizeLinear / DequantizeLinear node."""
        consts = self.g.consts if consts is None else consts
        scale = consts.get(node.inputs[1]) if len(node.inputs) > 1 else None
        if scale is None:
            raise self.model.node_error(node.proto, "the scale must be a constant")
        zp_name = node.inputs[2] if len(node.inputs) > 2 else ""
        zp = consts.get(zp_name) if zp_name else np.zeros((), np.uint8)
        if zp is None:
            raise self.model.node_error(node.proto, "the zero point must be a constant")
        if zp.dtype not in (np.uint8, np.int8, np.int32):
            raise self.model.node_error(
                node.proto, f"quantized type {zp.dtype} is not supported (int8, uint8)"
            )
        if zp.dtype == np.int32 and node.op == "QuantizeLinear":
            raise self.model.node_error(node.proto, "quantizing to int32 is not supported")
        if node.attr("block_size", 0):
            raise self.model.node_error(node.proto, "blocked quantization is not supported")
        scale = np.asarray(scale, F32)
        if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
            raise self.model.node_error(node.proto, "scales must be positive and finite")
        axis = None
        if scale.size > 1:
            axis = int(node.attr("axis", 1))  # type: ignore[arg-type]
            if rank is not None:
                axis %= rank
        shape = (-1,) if scale.size > 1 else ()
        zps = np.broadcast_to(np.asarray(zp, np.int64).reshape(-1), (scale.size,)).reshape(shape)
        return QParams(scale.reshape(shape), zps, zp.dtype == np.int8, axis)

    def _fold_quantized_constants(self, model: OnnxModel) -> OnnxModel:
        """Evaluates QuantizeLinear / DequantizeLinear of constants (weights, biases, folded
        constants) with onnxruntime's arithmetic, keeping the integer data of each
        dequantized constant, and replaces them by initializers; load_float_graph folds the
        rest."""
        consts: dict[str, np.ndarray] = dict(model.initializers)
        kept: list[onnx.NodeProto] = []
        folded: dict[str, np.ndarray] = {}
        for proto in model.graph.node:
            node = Node(proto, list(proto.input), list(proto.output))
            if proto.op_type == "Constant" and not proto.input:
                consts[proto.output[0]] = _constant(model, proto)
                kept.append(proto)
                continue
            if proto.op_type in QDQ_OPS and proto.input[0] in consts:
                data = consts[proto.input[0]]
                params = self._params(node, data.ndim, consts)
                if proto.op_type == "DequantizeLinear":
                    value = dequantize(np.asarray(data, np.int64), params)
                    self.qconsts[proto.output[0]] = QConst(np.asarray(data, np.int64), params)
                else:
                    value = quantize(np.asarray(data, F32), params).astype(
                        np.int8 if params.signed else np.uint8
                    )
                consts[proto.output[0]] = value
                folded[proto.output[0]] = value
                continue
            if (
                proto.op_type not in QDQ_OPS
                and proto.input
                and all(not i or i in consts for i in proto.input)
            ):
                try:
                    values = evaluate([proto], {}, consts, list(proto.output), list(model.proto.opset_import))
                except Exception:  # leave it to load_float_graph (it reports errors)
                    kept.append(proto)
                    continue
                for out, v in zip(proto.output, values, strict=True):
                    consts[out] = v
                    folded[out] = v
                continue
            kept.append(proto)
        if not folded:
            return model
        proto_model = onnx.ModelProto()
        proto_model.CopyFrom(model.proto)
        del proto_model.graph.node[:]
        proto_model.graph.node.extend(kept)
        used = {i for n in kept for i in n.input} | {o.name for o in proto_model.graph.output}
        for name, value in folded.items():
            if name in used:
                proto_model.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto_model.graph.initializer}
        return OnnxModel(model.path, proto_model, inits)

    def region(self, t: str) -> Region:
        """The float nodes computing `t` back to views, constants and integer tensors."""
        reg = Region(t)
        seen: set[str] = set()
        stack = [t]
        picked: set[int] = set()
        while stack:
            name = stack.pop()
            if name in seen or not name:
                continue
            seen.add(name)
            if name in self.views:
                reg.views.append(name)
                continue
            if name in self.g.consts or self._is_int(name):
                continue  # constants, and integer operands such as Gather indices
            node = self.g.producer.get(name)
            if node is None:
                if name in self.g.inputs:
                    raise FrontendError(
                        f"{self.model.path}: float input '{name}' is used without QuantizeLinear"
                    )
                raise FrontendError(f"{self.model.path}: tensor '{name}' has no producer")
            if node.op == "Cast" and self._is_int(node.inputs[0]):
                reg.int_leaves.append(name)
                continue
            if node.op == "QuantizeLinear":
                raise self.g.error(node, "a quantized tensor is used as float without DequantizeLinear")
            if id(node) not in picked:
                picked.add(id(node))
                reg.nodes.append(node)
            stack.extend(node.inputs)
        order = {id(n): k for k, n in enumerate(self.g.nodes)}
        reg.nodes.sort(key=lambda n: order[id(n)])
        return reg

    def _is_int(self, name: str) -> bool:
        if name in self.ints:
            return True
        dtype = self.g.dtypes.get(name)
        if name in self.g.consts:
            return self.g.consts[name].dtype.kind in "iub"
        return dtype in INT_DTYPES

    def shape(self, name: str) -> tuple[int, ...]:
        shape = self.g.shapes.get(name)
        if shape is None:
            raise FrontendError(f"{self.model.path}: tensor '{name}' has no static shape")
        return tuple(shape)

    # -- driver -------------------------------------------------------------------------------

    def run(self, weights_file: str) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        in_types, in_scales = [], []
        for name in self.g.inputs:
            shape = self.shape(name)
            dtype = self.g.dtypes.get(name)
            if dtype in INT_DTYPES:
                elem = {onnx.TensorProto.UINT8: UI8, onnx.TensorProto.INT8: I8}.get(dtype, I32)  # type: ignore[arg-type]
                in_types.append(tensor(shape, elem))
                in_scales.append(0.0)
            else:
                params = self._float_input_params(name)
                self.float_inputs[name] = params
                in_types.append(tensor(shape, I16))
                in_scales.append(float(params.s))
        self.b = QtfmBuilder(self.g.inputs, in_types)
        self.i = Ints(self.b)
        for name, arg in zip(self.g.inputs, self.b.block.args, strict=True):
            self.ints[name] = arg
        for node in self.g.nodes:
            if node.op == "DequantizeLinear":
                self._dequantize(node)
            elif node.op == "QuantizeLinear":
                self.int_value(node.outputs[0])
        outputs, scales = [], []
        for name in self.g.outputs:
            value, scale = self._output(name)
            value.name_hint = value_name(name)
            outputs.append(value)
            scales.append(scale)
        module = self.b.finish(outputs, self.g.outputs, weights_file)
        _remove_dead_ops(module, self.b.weights)
        f = module.body.block.first_op
        assert f is not None
        f.attributes[INPUT_SCALES_ATTR] = ArrayAttr(FloatAttr(s, f64) for s in in_scales)
        f.attributes[OUTPUT_SCALES_ATTR] = ArrayAttr(FloatAttr(s, f64) for s in scales)
        return module, self.b.weights

    def _float_input_params(self, name: str) -> QParams:
        """A float input must only be quantized: the program takes round(x / scale) (i16)."""
        users = self.g.users(name)
        if not users or any(u.op != "QuantizeLinear" for u in users):
            raise FrontendError(
                f"{self.model.path}: float input '{name}' must feed QuantizeLinear nodes only"
            )
        params = [self._params(u, len(self.shape(name))) for u in users]
        if any(not p.per_tensor or not p.same_as(params[0]) for p in params):
            raise self.g.error(users[0], "float input quantized with differing or per-axis parameters")
        return params[0]

    def _dequantize(self, node: Node) -> None:
        src = node.inputs[0]
        rank = len(self.shape(src))
        params = self._params(node, rank)
        if not self._is_int(src):
            raise self.g.error(node, "DequantizeLinear of a float tensor")
        self.views[node.outputs[0]] = View(src, params)

    # -- integer tensors ----------------------------------------------------------------------

    def int_value(self, name: str) -> SSAValue:
        """The integer tensor `name` of the program (emitted on first use)."""
        if name in self.ints:
            return self.ints[name]
        const = self.g.const(name)
        if const is not None:
            if const.dtype.kind not in "iub":
                raise FrontendError(f"{self.model.path}: constant '{name}' is not integer")
            v = self.b.weight(name, np.asarray(const, np.int64), _const_type(const))
            self.ints[name] = v
            return v
        node = self.g.producer.get(name)
        if node is None:
            raise FrontendError(f"{self.model.path}: tensor '{name}' is not computed by the model")
        if node.op == "QuantizeLinear":
            value = self._quantize(node)
        elif node.op in SHAPE_OPS or node.op == "Concat":
            value = self._int_shape_op(node, name)
        elif node.op == "Cast" and self.g.dtypes.get(name) in INT_DTYPES:
            value = self.int_value(node.inputs[0])
        else:
            raise self.g.error(node, "this op is not supported on integer tensors")
        value.name_hint = value_name(name)
        self.ints[name] = value
        return value

    def _int_shape_op(self, node: Node, out: str) -> SSAValue:
        if node.op == "Gather":
            table = self.g.const(node.inputs[0])
            if table is not None:
                return self._embedding(node, table, None)
        if node.op == "Concat":
            xs = [self.int_value(n) for n in node.inputs]
            elems = {self.i.elem(x) for x in xs}
            if len(elems) != 1:
                raise self.g.error(node, "concatenation of integer tensors of different types")
            return self.i.concat(xs, int(node.attr("axis", 0)) % len(self.shape(out)))  # type: ignore[arg-type]
        return self._shape_op(node, self.int_value(node.inputs[0]), out)

    def _shape_op(self, node: Node, x: SSAValue, out: str) -> SSAValue:
        """A data-movement op applied to an integer tensor (static parameters only)."""
        src = self.i.shape(x)
        target = self.shape(out)
        if node.op in ("Reshape", "Squeeze", "Unsqueeze", "Flatten"):
            return self.i.reshape(x, target)
        if node.op == "Transpose":
            perm = list(node.attr("perm", list(range(len(src)))[::-1]))  # type: ignore[call-overload]
            return self.i.transpose(x, perm)
        if node.op in ("Slice", "Split"):
            first, stride, size = self._slice_params(node, src, out)
            return self.i.slice(x, first, stride, size)
        if node.op == "Gather":
            index = self.g.const(node.inputs[1])
            if index is None or index.size != 1:
                raise self.g.error(node, "Gather on activations needs one constant index")
            axis = int(node.attr("axis", 0)) % len(src)  # type: ignore[arg-type]
            k = int(index.reshape(())) % src[axis]
            first = [k if d == axis else 0 for d in range(len(src))]
            size = [1 if d == axis else n for d, n in enumerate(src)]
            return self.i.reshape(self.i.slice(x, first, [1] * len(src), size), target)
        if node.op == "Expand":
            zeros = self.b.weight(f"zeros.{'x'.join(map(str, target))}", np.zeros(target, np.int64), I8)
            lo, hi = qtfm.int_range(self.i.elem(x))
            summed = self.i.add(x, zeros)
            return self.i.cast(summed, self.i.elem(x)) if (lo, hi) != qtfm.int_range(I32) else summed
        raise self.g.error(node, "this op is not supported on integer tensors")

    def _slice_params(
        self, node: Node, src: Sequence[int], out: str
    ) -> tuple[list[int], list[int], list[int]]:
        if node.op == "Split":
            axis = int(node.attr("axis", 0)) % len(src)  # type: ignore[arg-type]
            sizes = self.g.const(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
            k = node.outputs.index(out)
            if sizes is None:
                n = len(node.outputs)
                sizes = np.array([-(-src[axis] // n)] * n)
                sizes[-1] = src[axis] - sizes[:-1].sum()
            start = int(np.sum(sizes[:k]))
            first = [start if d == axis else 0 for d in range(len(src))]
            size = [int(sizes[k]) if d == axis else n for d, n in enumerate(src)]
            return first, [1] * len(src), size
        params = [self.g.const(i) if i else None for i in node.inputs[1:]]
        if any(p is None for p in params[:2]) or any(
            p is None and i for p, i in zip(params[2:], node.inputs[3:], strict=False)
        ):
            raise self.g.error(node, "Slice parameters must be constants")
        starts = params[0].ravel().tolist()  # type: ignore[union-attr]
        ends = params[1].ravel().tolist()  # type: ignore[union-attr]
        axes = params[2].ravel().tolist() if len(params) > 2 and params[2] is not None else None
        steps = params[3].ravel().tolist() if len(params) > 3 and params[3] is not None else None
        try:
            return static_slice(src, starts, ends, axes, steps)
        except ValueError as err:
            raise self.g.error(node, str(err)) from None

    def _embedding(self, node: Node, table: np.ndarray, target: QParams | None) -> SSAValue:
        """Gather(axis 0) of a constant table by integer ids; a float table is quantized
        with the parameters of the QuantizeLinear that follows (`target`)."""
        if table.ndim != 2 or int(node.attr("axis", 0)) != 0:  # type: ignore[arg-type]
            raise self.g.error(node, "Gather of a constant must be a 2-D lookup along axis 0")
        if table.dtype.kind == "f":
            if target is None:
                raise self.g.error(node, "Gather of a float table must be quantized")
            q = quantize(table.astype(F32), target)
            elem = UI8 if not target.signed else I8
        else:
            q = np.asarray(table, np.int64)
            elem = _const_type(table)
        ids = self.int_value(node.inputs[1])
        tv = self.i.weight(f"{node.inputs[0]}.q", q, elem)
        return self.i.embedding(tv, ids)

    # -- QuantizeLinear -----------------------------------------------------------------------

    def _quantize(self, node: Node) -> SSAValue:
        src = node.inputs[0]
        params = self._params(node, len(self.shape(src)))
        if not params.per_tensor:
            raise self.g.error(node, "per-axis quantization of activations is not supported")
        if src in self.float_inputs:  # the program takes round(x / scale): add zp, saturate
            return self.i.requant(self.int_value(src), 1, params.z, 0, I8 if params.signed else UI8)
        value = self.quantized(src, params, node)
        if self.i.shape(value) != self.shape(node.outputs[0]):
            raise self.g.error(
                node, f"internal: shape {self.i.shape(value)} for {self.shape(node.outputs[0])}"
            )
        return value

    def quantized(self, t: str, py: QParams, qnode: Node) -> SSAValue:
        """The integer tensor QuantizeLinear(t, py) computed from the program's tensors."""
        if t in self.views:
            return self._requantize(self.views[t], py, t)
        reg = self.region(t)
        if not reg.nodes:
            if reg.int_leaves:
                return self._int_function(reg, py, qnode)
            raise self.g.error(qnode, "QuantizeLinear of a constant")
        root = self.g.producer[t]
        leaves = [n for n in root.inputs if n]
        direct = all(n in self.views or n in self.qconsts for n in leaves)
        if root.op in ("Add", "Mul") and direct and len(leaves) == 2:
            return self._fused_binary(root, py)
        if root.op in ("MatMul", "Gemm") and all(n in self.views or n in self.g.consts for n in leaves):
            return self._gemm(root, py)
        if root.op == "Softmax" and leaves[0] in self.views:
            return self._softmax(root, py)
        if root.op == "LayerNormalization" and leaves[0] in self.views:
            return self._layernorm(root, py)
        if root.op == "Gather" and self.g.const(root.inputs[0]) is not None and self._is_int(root.inputs[1]):
            return self._embedding(root, self.g.consts[root.inputs[0]], py)
        if root.op == "Concat" and all(n in self.views or n in self.g.consts for n in leaves):
            return self._concat(root, py)
        if all(n.op in SHAPE_OPS for n in reg.nodes) and len(reg.views) == 1 and not reg.int_leaves:
            return self._shape_chain(reg, py)
        if root.op in SHAPE_OPS and root.inputs[0] not in self.views and root.inputs[0] not in self.g.consts:
            if root.op != "Gather" or self.g.const(root.inputs[1]) is not None:
                # data movement commutes with quantization: quantize, then move
                inner = self.quantized(root.inputs[0], py, qnode)
                return self._shape_op(root, inner, t)
        stats = self._statistics(reg, root, py)
        if stats is not None:
            return stats
        if len(reg.views) + len(reg.int_leaves) == 1 and all(n.op in ELEMENTWISE for n in reg.nodes):
            return self._elementwise(reg, py, qnode)
        if (
            len(reg.views) == 1
            and not reg.int_leaves
            and all(n.op in SHAPE_OPS | ELEMENTWISE for n in reg.nodes)
        ):
            split = self._split_shape_prefix(reg)
            if split is not None:
                return self._elementwise(split[0], py, qnode, split[1])
        raise self.g.error(root, "this op is not supported between DequantizeLinear and QuantizeLinear")

    # -- requantization of one 8-bit tensor ---------------------------------------------------

    def _requantize(self, view: View, py: QParams, name: str) -> SSAValue:
        """QuantizeLinear(DequantizeLinear(x)): the same tensor, or a tabulated rescale."""
        x = self.int_value(view.source)
        if view.params.same_as(py):
            return x
        if not view.params.per_tensor:
            raise FrontendError(f"{self.model.path}: '{name}': requantizing per-axis data is not supported")
        dom = view.params.domain()
        targets = quantize(dequantize(dom, view.params), py)
        return self._apply_table(x, dom, targets[None, :], py, None, self.i.shape(x))

    def _apply_table(
        self,
        x: SSAValue,
        dom: np.ndarray,
        targets: np.ndarray,
        py: QParams,
        axis: int | None,
        out_shape: Sequence[int],
        allow_lut: bool = True,
    ) -> SSAValue:
        """y = f(x) for an 8-bit (or integer) x given f on `dom` (rows: one per channel of
        `axis`, or a single row): an affine requant when it reproduces f, else a table."""
        elem = I8 if py.signed else UI8
        slope = _slopes(dom, targets)
        top = float(np.abs(slope).max(initial=0.0)) or 1.0
        shift = min(ADD_SHIFT_LIMIT, shift_for(max(abs(int(dom[0])), abs(int(dom[-1]))), top, 50))
        while shift > 0 and (max(abs(py.lo), abs(py.hi)) + 2) * 2.0**shift + top * 2.0**shift >= 2**31:
            shift -= 1
        try:
            muls, adds = fit_add(dom, targets, slope, shift, py.lo, py.hi)
            ok = np.all(np.abs(muls) < 2**31) and np.all(np.abs(adds) < 2**31)
        except FitError:
            ok = False
        if ok:
            per_channel = targets.shape[0] > 1
            if tuple(out_shape) == self.i.shape(x):
                if not per_channel:
                    return self.i.requant(x, int(muls[0]), int(adds[0]), shift, elem)
                return self.i.requant(x, muls.tolist(), adds.tolist(), shift, elem, axis=axis)
            # the result broadcasts beyond x: multiply and add per channel, then shift
            rank = len(out_shape)
            cshape = [1] * rank
            if per_channel:
                assert axis is not None
                cshape[axis] = -1
            m = self.i.weight("scale", muls.reshape(cshape), I32)
            a = self.i.weight("offset", adds.reshape(cshape), I32)
            xm = self.i.mul(x, m)
            levels = 256
            return self.i.add(xm, a, qtfm.RequantAttr.get(1, 0, shift, levels, py.signed), elem)
        if (
            targets.shape[0] == 1
            and allow_lut
            and self.i.elem(x).width.data == 8
            and tuple(out_shape) == self.i.shape(x)
        ):
            lo = qtfm.int_range(self.i.elem(x))[0]
            table = np.full(256, py.lo, np.int64)
            table[dom - lo] = targets[0]
            return self.i.lut(x, table, elem, "table")
        raise FrontendError(
            f"{self.model.path}: a function of an 8-bit tensor has no exact integer form "
            f"(per-channel non-affine or not tabulable)"
        )

    def _split_shape_prefix(self, reg: Region) -> tuple[Region, SSAValue] | None:
        """Data movement followed by an elementwise function of one view: the movement is
        applied to the integers, the function tabulated on the moved tensor."""
        leaf = reg.views[0]
        moved = {leaf}
        shape_nodes = [n for n in reg.nodes if n.op in SHAPE_OPS]
        for n in shape_nodes:
            if n.inputs[0] not in moved or (n.op == "Gather" and self.g.const(n.inputs[1]) is None):
                return None
            moved.update(n.outputs)
        rest = [n for n in reg.nodes if n.op not in SHAPE_OPS]
        inputs = {i for n in rest for i in n.inputs if i and i not in self.g.consts}
        produced = {o for n in rest for o in n.outputs}
        sources = inputs - produced
        if len(sources) != 1 or not rest:
            return None
        src = sources.pop()
        if src not in moved or src == leaf:
            return None
        view = self.views[leaf]
        produced_values = {leaf: self.int_value(view.source)}
        for n in shape_nodes:
            for out in n.outputs:
                if out in self.g.shapes and n.inputs[0] in produced_values:
                    produced_values[out] = self._shape_op(n, produced_values[n.inputs[0]], out)
        self.views[src] = View(f"{src}__moved", view.params)
        self.ints[f"{src}__moved"] = produced_values[src]
        return Region(reg.output, rest, [src], []), produced_values[src]

    def _elementwise(self, reg: Region, py: QParams, qnode: Node, x: SSAValue | None = None) -> SSAValue:
        """A float function of one tensor: tabulated over its values."""
        if reg.int_leaves:
            return self._int_function(reg, py, qnode)
        view = self.views[reg.views[0]]
        if not view.params.per_tensor:
            raise self.g.error(reg.nodes[-1], "a function of per-axis quantized data is not supported")
        x = self.int_value(view.source) if x is None else x
        rank = len(self.shape(reg.views[0]))
        dom = view.params.domain()
        values = dequantize(dom, view.params).reshape((-1,) + (1,) * rank)
        out = evaluate(
            [n.proto for n in reg.nodes], {reg.views[0]: values}, self.g.consts, [reg.output], self.opsets
        )[0]
        targets, axis = self._table_rows(out, rank, reg)
        return self._apply_table(x, dom, quantize(targets, py), py, axis, self.shape(reg.output))

    def _table_rows(self, out: np.ndarray, rank: int, reg: Region) -> tuple[np.ndarray, int | None]:
        """Tabulated outputs (values x positions) as rows per channel: (C, values) and the
        channel axis of the output, or a single row when they do not vary."""
        out = np.asarray(out, F32)
        out = out.reshape((out.shape[0],) + (1,) * (rank + 1 - out.ndim) + out.shape[1:])
        flat = out.reshape(out.shape[0], -1)
        if (
            np.all(flat == flat[:, :1])
            or np.all(np.isnan(flat) == np.isnan(flat[:, :1]))
            and np.all((flat == flat[:, :1]) | np.isnan(flat))
        ):
            return flat[:, 0][None, :], None
        varying = [d for d in range(1, out.ndim) if out.shape[d] > 1]
        if len(varying) != 1:
            raise self.g.error(reg.nodes[-1], "the function varies along several axes")
        axis = varying[0] - 1
        return np.moveaxis(out, varying[0], 0).reshape(out.shape[varying[0]], out.shape[0]), axis

    def _int_function(self, reg: Region, py: QParams, qnode: Node) -> SSAValue:
        """A float function of one integer tensor (e.g. 1 - mask): an affine requant,
        checked on [-2^15, 2^15]."""
        leaf = reg.int_leaves[0]
        cast = self.g.producer[leaf]
        x = self.int_value(cast.inputs[0])
        rank = len(self.shape(leaf))
        dom = np.arange(-WIDE_DOMAIN, WIDE_DOMAIN + 1, dtype=np.int64)
        values = dom.astype(F32).reshape((-1,) + (1,) * rank)
        if reg.nodes:
            out = evaluate(
                [n.proto for n in reg.nodes], {leaf: values}, self.g.consts, [reg.output], self.opsets
            )[0]
        else:
            out = values
        targets, axis = self._table_rows(out, rank, reg) if reg.nodes else (values.reshape(1, -1), None)
        try:
            return self._apply_table(x, dom, quantize(targets, py), py, axis, self.shape(reg.output), False)
        except FrontendError:
            raise self.g.error(
                reg.nodes[-1] if reg.nodes else qnode,
                "a non-affine function of integer data is not supported",
            ) from None

    def _shape_chain(self, reg: Region, py: QParams) -> SSAValue:
        view = self.views[reg.views[0]]
        x = self.int_value(view.source)
        produced = {reg.views[0]: x}
        for node in reg.nodes:
            src = node.inputs[0]
            if src not in produced:
                raise self.g.error(node, "shape op on a computed float tensor")
            if node.op == "Gather" and self.g.const(node.inputs[1]) is None:
                raise self.g.error(node, "Gather with computed indices")
            for out in node.outputs:
                if out in self.g.shapes:
                    produced[out] = self._shape_op(node, produced[src], out)
        y = produced[reg.output]
        if view.params.same_as(py):
            return y
        return self._requantize_value(y, view.params, py)

    def _requantize_value(self, x: SSAValue, px: QParams, py: QParams) -> SSAValue:
        dom = px.domain()
        targets = quantize(dequantize(dom, px), py)
        return self._apply_table(x, dom, targets[None, :], py, None, self.i.shape(x))

    def _concat(self, node: Node, py: QParams) -> SSAValue:
        parts = []
        for name in node.inputs:
            if name in self.views:
                view = self.views[name]
                x = self.int_value(view.source)
                parts.append(x if view.params.same_as(py) else self._requantize_value(x, view.params, py))
            else:
                q = quantize(self.g.consts[name].astype(F32), py)
                parts.append(self.i.weight(f"{name}.q", q, I8 if py.signed else UI8))
        axis = int(node.attr("axis", 0)) % len(self.shape(node.outputs[0]))  # type: ignore[arg-type]
        return self.i.concat(parts, axis)

    # -- fused binary kernels -----------------------------------------------------------------

    def _operand(self, name: str, node: Node) -> Operand:
        if name in self.views:
            view = self.views[name]
            if not view.params.per_tensor:
                raise self.g.error(node, "per-axis quantized operands are not supported here")
            return Operand(view.params, self.shape(name), value=self.int_value(view.source))
        qc = self.qconsts[name]
        if not qc.params.per_tensor:
            raise self.g.error(node, "per-axis quantized constants are not supported here")
        return Operand(qc.params, qc.values.shape, const=qc.values)

    def _fused_binary(self, node: Node, py: QParams) -> SSAValue:
        a, b = (self._operand(n, node) for n in node.inputs)
        if a.const is not None and b.const is not None:
            raise self.g.error(node, "constant operation was not folded")
        out_shape = self.shape(node.outputs[0])
        if node.op == "Add":
            return self._qlinear_add(node, a, b, py, out_shape)
        return self._qlinear_mul(node, a, b, py, out_shape)

    def _qlinear_add(
        self, node: Node, a: Operand, b: Operand, py: QParams, out_shape: tuple[int, ...]
    ) -> SSAValue:
        kernel = AddKernel.of(a.params, b.params, py)
        inner_is_a = _is_scalar_span(a.shape, b.shape)
        inner, outer = (a, b) if inner_is_a else (b, a)
        r_outer = float(kernel.r_b if inner_is_a else kernel.r_a)
        x_dom, y_dom = outer.domain(), inner.domain()
        t = kernel.apply(x_dom[None, :], kernel.inner_term(y_dom, inner_is_a)[:, None], inner_is_a)
        shift = ADD_SHIFT_LIMIT
        while shift > 0 and (abs(r_outer) * 256 + 1024) * 2.0**shift >= 2**30:
            shift -= 1
        try:
            mul, offsets = fit_shared_mul(x_dom, t, r_outer, shift, py.lo, py.hi)
        except FitError:
            return self._add_table(node, outer, inner, x_dom, y_dom, t, py, out_shape)
        if np.any(np.abs(offsets) >= 2**30):
            raise self.g.error(node, "QLinearAdd offsets do not fit int32")
        if outer.value is not None:
            xm = self.i.scale(outer.value, mul)
        else:
            xm = self.i.weight("add.outer", outer.const * mul, I32)  # type: ignore[operator]
        if inner.value is not None:
            table = np.zeros(256, np.int64)
            table[y_dom - inner.params.lo] = offsets
            c = self.i.lut(inner.value, table, I32, "add.table")
        else:
            index = np.searchsorted(y_dom, inner.const)  # type: ignore[arg-type]
            c = self.i.weight("add.inner", offsets[index], I32)
        attr = qtfm.RequantAttr.get(1, 0, shift, 256, py.signed, rounding="floor")
        y = self.i.add(xm, c, attr, I8 if py.signed else UI8)
        if self.i.shape(y) != out_shape:
            raise self.g.error(node, f"internal: broadcast shape {self.i.shape(y)} != {out_shape}")
        return y

    def _add_table(
        self,
        node: Node,
        outer: Operand,
        inner: Operand,
        x_dom: np.ndarray,
        y_dom: np.ndarray,
        t: np.ndarray,
        py: QParams,
        out_shape: tuple[int, ...],
    ) -> SSAValue:
        """QLinearAdd as a table of its float32 kernel (ties that no fixed-point form
        reproduces): a `qtfm.lut` when one operand is a single constant, else an
        embedding indexed by both operands (at most 65536 entries)."""
        elem = I8 if py.signed else UI8
        for var, const, row in ((outer, inner, True), (inner, outer, False)):
            if var.value is not None and const.value is None and const.domain().size == 1:
                vals = t[0] if row else t[:, 0]
                dom = x_dom if row else y_dom
                table = np.full(256, py.lo, np.int64)
                table[dom - var.params.lo] = vals
                y = self.i.lut(var.value, table, elem, "add.table")
                if self.i.shape(y) != out_shape:
                    y = self.i.add(
                        y,
                        self.i.weight("zeros", np.zeros(out_shape, np.int64), I8),
                        qtfm.RequantAttr.get(1, 0, 0, 256, py.signed),
                        elem,
                    )
                return y
        nx = x_dom.size

        def index(op: Operand, dom: np.ndarray, mul: int) -> SSAValue:
            if op.value is not None:
                return self.i.requant(op.value, mul, -int(dom[0]) * mul, 0, I32)
            return self.i.weight("add.index", np.searchsorted(dom, op.const) * mul, I32)  # type: ignore[arg-type]

        ids = self.i.add(index(inner, y_dom, nx), index(outer, x_dom, 1))
        table = self.i.weight("add.table", t.reshape(-1, 1), elem)
        return self.i.reshape(self.i.embedding(table, ids), out_shape)

    def _qlinear_mul(
        self, node: Node, a: Operand, b: Operand, py: QParams, out_shape: tuple[int, ...]
    ) -> SSAValue:
        da, db = a.domain() - a.params.z, b.domain() - b.params.z
        if a.const is None and b.const is None:
            corners = np.outer([da.min(), da.max()], [db.min(), db.max()])
            p_dom = np.arange(int(corners.min()), int(corners.max()) + 1, dtype=np.int64)
        else:
            p_dom = np.unique(np.outer(da, db))
        targets = mul_kernel(p_dom, a.params, b.params, py)[None, :]
        ratio = float(np.float32(np.float32(a.params.s * b.params.s) / py.s))
        values = []
        for op in (a, b):
            if op.value is not None:
                z = op.params.z
                values.append(op.value if z == 0 else self.i.cast(op.value, I16, -z))
            else:
                w = op.const - op.params.z  # type: ignore[operator]
                values.append(self.i.weight("mul.const", w, _range_type(w)))
        try:
            attr, out, zp2 = self._fit_requant(p_dom, targets, ratio, py, node)
        except FrontendError:
            # float32 rounding that no fixed-point slope reproduces: the kernel as a table
            # indexed by the exact product (at most 2 * 255^2 + 1 entries)
            lo_p, hi_p = int(p_dom.min()), int(p_dom.max())
            full = mul_kernel(np.arange(lo_p, hi_p + 1), a.params, b.params, py)
            elem = I8 if py.signed else UI8
            table = self.i.weight("mul.table", full.reshape(-1, 1), elem)
            ids = self.i.mul(values[0], values[1], qtfm.RequantAttr.get(1, -lo_p, 0, 1 << 32, True), I32)
            y = self.i.embedding(table, ids)
            return self.i.reshape(y, out_shape)
        y = self.i.mul(values[0], values[1], attr, out)
        if zp2 is not None:
            y = self.i.requant(y, 1, zp2, 0, I8 if py.signed else UI8)
        if self.i.shape(y) != out_shape:
            raise self.g.error(node, f"internal: broadcast shape {self.i.shape(y)} != {out_shape}")
        return y

    def _fit_requant(
        self, dom: np.ndarray, targets: np.ndarray, slope: float, py: QParams, node: Node
    ) -> tuple[qtfm.RequantAttr, IntegerType, int | None]:
        """A requant reproducing targets over explicit inputs `dom` (one row)."""
        max_x = float(np.abs(dom).max()) if dom.size else 1.0

        def fit(shift: int, tgt: np.ndarray, lo: int, hi: int, pref: int) -> tuple[np.ndarray, np.ndarray]:
            return fit_add(dom, tgt, np.array([slope]), shift, lo, hi, np.array([pref]))

        return self._staged(fit, targets, max_x, slope, py, node, None)

    def _staged(
        self,
        fit: Callable[[int, object, int, int, int], tuple[np.ndarray, np.ndarray]],
        targets: object,
        max_x: float,
        slope: float,
        py: QParams,
        node: Node,
        axis: int | None,
        exact: bool = True,
        slope_vec: np.ndarray | None = None,
    ) -> tuple[qtfm.RequantAttr, IntegerType, int | None]:
        """Fits a requant at the shift the precision needs: into the output type when the
        zero point fits the `add` there, else into i16 without it (the zero point is then
        returned for a second requant). `targets` is an array or a function of the input;
        `fit(shift, targets, lo, hi, preferred add)` returns (mul, add) per channel."""
        shift = shift_for(max_x, slope, 61)
        zp = py.z
        single = (abs(zp) + 2) * 2.0**shift < 2**31
        if single:
            tgt, lo, hi, levels, signed, out = (
                targets,
                py.lo,
                py.hi,
                256,
                py.signed,
                (I8 if py.signed else UI8),
            )
        else:
            tgt = (lambda a: targets(a) - zp) if callable(targets) else np.asarray(targets) - zp  # type: ignore[operator]
            lo, hi, levels, signed, out = py.lo - zp, py.hi - zp, 1 << 16, True, I16
        pref = (1 << (shift - 1) if shift else 0) + (zp << shift if single else 0)
        try:
            muls, adds = fit(shift, tgt, lo, hi, pref)
        except FitError:
            if exact:
                raise self.g.error(node, "no exact fixed-point requantization") from None
            # rounding decisions within ~1e-9 of a tie cannot be matched at int32 precision;
            # onnxruntime's own float32 rounding is coarser than that
            slopes = np.atleast_1d(np.asarray(slope_vec if slope_vec is not None else slope, np.float64))
            muls = np.round(slopes * 2.0**shift).astype(np.int64)
            adds = np.full(muls.shape, pref, np.int64)
        try:
            attr = _requant_attr(muls, adds, shift, levels, signed, axis)
        except ValueError:
            raise self.g.error(node, "no fixed-point requantization fits int32") from None
        return attr, out, None if single else zp

    # -- MatMul / Gemm ------------------------------------------------------------------------

    def _gemm(self, node: Node, py: QParams) -> SSAValue:
        a_name, b_name = node.inputs[0], node.inputs[1]
        if a_name not in self.views:
            raise self.g.error(node, "the first operand must be a quantized activation")
        va = self.views[a_name]
        if not va.params.per_tensor:
            raise self.g.error(node, "per-axis quantized activations are not supported")
        x = self.int_value(va.source)
        za = va.params.z
        if node.op == "Gemm":
            if node.attr("transA", 0):
                raise self.g.error(node, "Gemm with transA is not supported")
            if float(node.attr("alpha", 1.0)) != 1.0 or float(node.attr("beta", 1.0)) != 1.0:  # type: ignore[arg-type]
                raise self.g.error(node, "Gemm with alpha or beta other than 1 is not supported")
        out_shape = self.shape(node.outputs[0])
        if b_name in self.qconsts:
            qc = self.qconsts[b_name]
            w = qc.values
            pb = qc.params
            trans = bool(node.attr("transB", 0)) if node.op == "Gemm" else False
            if w.ndim != 2:
                raise self.g.error(node, "the weight must be 2-D")
            col_axis = 0 if trans else 1
            if not pb.per_tensor and pb.axis != col_axis:
                raise self.g.error(node, "weights quantized per axis other than the output channel")
            if trans:
                w = w.T
            k, n = w.shape
            zb = np.broadcast_to(pb.zero_point, (n,)) if not pb.per_tensor else np.full(n, pb.z)
            sb = np.broadcast_to(pb.scale, (n,)) if not pb.per_tensor else np.full(n, pb.s, F32)
            w = w - zb[None, :]
            bias = -za * w.sum(axis=0)
            if len(node.inputs) > 2 and node.inputs[2]:
                bias = bias + self._gemm_bias(node, node.inputs[2], va.params.s, sb, n)
            if np.abs(bias).max(initial=0) >= 2**31:
                raise self.g.error(node, "the folded bias does not fit int32")
            wv = self.i.weight(f"{b_name}.w", w, _range_type(w))
            bv = self.i.weight(f"{b_name}.b", bias, I32) if np.any(bias) else None
            mult = gemm_multipliers(va.params.s, sb, py.s)
            amax = max(abs(va.params.lo - za), abs(va.params.hi - za))
            bound = int(k * amax * int(np.abs(w).max(initial=1)) + np.abs(bias).max(initial=0))
            attr, out, zp2 = self._fit_accumulator(mult, bound, py, node, len(out_shape))
            y = self.i.linear(x, wv, bv, attr, out)
        else:
            if b_name not in self.views:
                raise self.g.error(node, "the second operand must be a quantized constant or activation")
            vb = self.views[b_name]
            if not vb.params.per_tensor or node.op == "Gemm":
                raise self.g.error(node, "activation x activation products need per-tensor MatMul")
            xa = x if za == 0 else self.i.cast(x, I16, -za)
            yv = self.int_value(vb.source)
            xb = yv if vb.params.z == 0 else self.i.cast(yv, I16, -vb.params.z)
            k = self.shape(b_name)[-2]
            mult = gemm_multipliers(va.params.s, np.array([vb.params.s]), py.s)
            amax = max(abs(va.params.lo - za), abs(va.params.hi - za))
            bmax = max(abs(vb.params.lo - vb.params.z), abs(vb.params.hi - vb.params.z))
            attr, out, zp2 = self._fit_accumulator(mult, k * amax * bmax, py, node, len(out_shape))
            y = self.i.matmul(xa, xb, attr, out)
        if zp2 is not None:
            y = self.i.requant(y, 1, zp2, 0, I8 if py.signed else UI8)
        return y

    def _gemm_bias(self, node: Node, name: str, sa: np.float32, sb: np.ndarray, n: int) -> np.ndarray:
        """Gemm's C as int32 at the accumulator scale (sa * sb, zero point 0), as QGemm adds it."""
        qc = self.qconsts.get(name)
        if qc is None or qc.values.size not in (1, n):
            raise self.g.error(node, "Gemm's C must be a quantized int32 vector")
        expected = (F32(sa) * sb.astype(F32)).astype(F32)
        scale = (
            np.broadcast_to(qc.params.scale, (n,)) if not qc.params.per_tensor else np.full(n, qc.params.s)
        )
        if np.any(np.abs(scale - expected) > 1e-6 * expected) or np.any(qc.params.zero_point != 0):
            raise self.g.error(node, "Gemm's C must be quantized at the accumulator scale")
        return np.broadcast_to(qc.values.reshape(-1), (n,)).astype(np.int64)

    def _fit_accumulator(
        self, mult: np.ndarray, bound: int, py: QParams, node: Node, rank: int
    ) -> tuple[qtfm.RequantAttr, IntegerType, int | None]:
        """The requant of an int32 accumulator in [-bound, bound] reproducing MLAS's float
        requantization per channel (rank: of the accumulator, for the channel axis)."""
        mult = np.asarray(mult, F32).reshape(-1)
        axis = rank - 1 if mult.size > 1 else None
        slope = mult.astype(np.float64)

        def f(acc: np.ndarray) -> np.ndarray:
            return gemm_requant(acc, mult[None, :], py.z, py.lo, py.hi)

        def fit(shift: int, tgt: object, lo: int, hi: int, pref: int) -> tuple[np.ndarray, np.ndarray]:
            return fit_monotone(
                tgt,  # type: ignore[arg-type]
                slope,
                -bound,
                bound,
                lo,
                hi,
                shift,
                np.full(slope.shape, pref),
                partial=True,  # channels without an exact form round the exact product
            )

        return self._staged(fit, f, bound, float(slope.max()), py, node, axis, False, slope)

    # -- softmax ------------------------------------------------------------------------------

    def _softmax(self, node: Node, py: QParams) -> SSAValue:
        view = self.views[node.inputs[0]]
        px = view.params
        shape = self.shape(node.inputs[0])
        axis = int(node.attr("axis", -1)) % len(shape)  # type: ignore[arg-type]
        if axis != len(shape) - 1 or not px.per_tensor:
            raise self.g.error(node, "Softmax must be along the last axis of per-tensor data")
        x = self.int_value(view.source)
        d = shape[-1]
        elem = I8 if py.signed else UI8
        if softmax_is_saturated(px, d):
            # exp of anything below the row maximum vanishes: e = [x == max], y = g(count)
            params = qtfm.SoftmaxAttr.get(coeff_a=1, coeff_b=1, coeff_c=0, log2=1, levels=1 << 16)
            e = self.b.add(
                qtfm.SoftmaxOp.build(
                    operands=[x, None], result_types=[tensor(shape, UI16)], properties={"params": params}
                )
            )
            counts = np.arange(1, d + 1)
            points = np.concatenate([[0], 65535 // counts])
            values = np.concatenate([[py.z], saturated_softmax_values(px, py, d)])
            slope = max(float(values[1] - py.z) / 65535.0, 1e-9)
            shift = min(ADD_SHIFT_LIMIT, shift_for(65535, slope, 50))
            try:
                muls, adds = fit_add(points, values[None, :], np.array([slope]), shift, py.lo, py.hi)
            except FitError:
                raise self.g.error(node, "no exact form of the saturated softmax") from None
            return self.i.requant(e, int(muls[0]), int(adds[0]), shift, elem)
        return self._softmax_approx(node, x, px, py, shape)

    def _softmax_approx(
        self, node: Node, x: SSAValue, px: QParams, py: QParams, shape: tuple[int, ...]
    ) -> SSAValue:
        """I-BERT's integer softmax (second-order exp) on 16-bit inputs: not bit-exact."""
        s = float(px.s)
        k = 1
        while k * 2 * 255 <= 32767 and math.log(2) * k * 2 / s <= 2**15:
            k *= 2
        unit = s / k
        log2 = math.floor(math.log(2) / unit)
        if log2 < 1:
            raise self.g.error(node, "softmax input scale too coarse for the integer exponential")
        xi = self.i.requant(x, k, -k * px.z, 0, I16)
        params = qtfm.SoftmaxAttr.get(
            coeff_a=1,
            coeff_b=math.floor(1.353 / unit),
            coeff_c=math.floor(0.344 / (0.3585 * unit * unit)),
            log2=log2,
            levels=1 << 16,
        )
        e = self.b.add(
            qtfm.SoftmaxOp.build(
                operands=[xi, None], result_types=[tensor(shape, UI16)], properties={"params": params}
            )
        )
        slope = float(softmax_output_multiplier(py.s)) / 65535.0
        dom = np.arange(1 << 16, dtype=np.int64)
        targets = np.clip(np.round(dom * slope) + py.z, py.lo, py.hi)[None, :]
        attr, out, zp2 = self._fit_requant(dom, targets, slope, py, node)
        y = self.b.add(
            qtfm.RequantOp.build(operands=[e], result_types=[tensor(shape, out)], properties={"params": attr})
        )
        return y if zp2 is None else self.i.requant(y, 1, zp2, 0, I8 if py.signed else UI8)

    # -- norms --------------------------------------------------------------------------------

    def _layernorm(self, node: Node, py: QParams | None) -> SSAValue:
        """LayerNormalization of one 8-bit tensor, quantized with py (or, for a float
        output, py = None: 16 bits at a scale of its own, see _layernorm_output)."""
        view = self.views[node.inputs[0]]
        px = view.params
        shape = self.shape(node.inputs[0])
        n = shape[-1]
        if int(node.attr("axis", -1)) % len(shape) != len(shape) - 1 or not px.per_tensor:  # type: ignore[arg-type]
            raise self.g.error(node, "LayerNormalization must normalize the last axis of per-tensor data")
        gamma = self.g.const(node.inputs[1])
        beta = self.g.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else np.zeros(n, F32)
        if gamma is None or beta is None:
            raise self.g.error(node, "scale and bias must be constants")
        gamma = np.broadcast_to(np.asarray(gamma, np.float64), (n,))
        beta = np.broadcast_to(np.asarray(beta, np.float64), (n,))
        eps = float(node.attr("epsilon", 1e-5))  # type: ignore[arg-type]
        x = self.int_value(view.source)
        u, v, big = self.i.centred(x, px.lo)
        s = float(px.s)
        c_eps = round(eps * n * n / (s * s))
        if c_eps >= 1 << 28:
            raise self.g.error(node, "epsilon is too large for the integer LayerNorm")
        if c_eps:
            v = self.i.add(v, self.i.weight("eps", np.array([c_eps]), I32))
        # a constant row (v = 0) has u = 0: any 1/std will do, but the table needs v >= 1
        v = self.i.add(v, self.i.requant(v, -1, 1, 0, UI8, levels=(2, False)))
        z_bits = 30 - math.ceil(math.log2(math.sqrt(n)) + 1e-9)
        frac = 43 - z_bits
        p2, r = self.i.rsqrt(v)
        if big is None:
            un = self.i.mul(u, p2)
        else:  # rows with V = 4v: u / sqrt(4v) = (2 u) / sqrt(v) / 2 ... scaled by 2 - big
            un = self.i.mul(u, self.i.add(self.i.scale(p2, 2), self.i.scale(big, -1)))
            frac += 1
        r_hi, r_lo = self.i.split15(r)
        z = self.i.round_product(un, r_hi, r_lo, frac)  # round(z * 2^z_bits)
        if py is None:
            bound = float(np.max(np.abs(gamma)) * math.sqrt(n) + np.max(np.abs(beta)))
            scale = F32(max(bound, 1e-30) / 32000)
            py = QParams(np.asarray(scale, F32), np.zeros((), np.int64), True)
            self._last_output_scale = float(scale)
            return self._affine_channels(z, z_bits, gamma, beta, py, node, wide=True)
        return self._affine_channels(z, z_bits, gamma, beta, py, node)

    def _affine_channels(
        self,
        z: SSAValue,
        z_bits: int,
        gamma: np.ndarray,
        beta: np.ndarray,
        py: QParams,
        node: Node,
        wide: bool = False,
    ) -> SSAValue:
        """Quantize z * gamma + beta (z with z_bits fraction bits, per channel of the last
        axis) to py: z * gamma / s_y to 2^-k (k up to 22), plus the fraction of
        beta / s_y + zp, one rounding, plus its integer part (exact)."""
        s_y = float(py.s)
        g = gamma / s_y
        bq = beta / s_y + py.z
        # z * g only matters where z * g + bq lands in the output range; beyond it the
        # result saturates whatever the excess, so it may be clamped to +-2^(30-k)
        b_hi = np.round(bq).astype(np.int64)
        lo_t, hi_t = (-32768, 32767) if wide else (py.lo, py.hi)
        reach = float(np.max(np.maximum(b_hi - lo_t + 1, hi_t - b_hi + 1), initial=1))
        k = max(8, min(22, math.floor(30 - math.log2(reach))))
        gmax = float(np.abs(g).max(initial=0))
        shift1 = 62 if gmax == 0 else max(0, min(62, 29 - math.floor(math.log2(gmax)) + z_bits - k))
        muls = np.round(g * 2.0 ** (shift1 + k - z_bits)).astype(np.int64)
        rank = len(self.i.shape(z))
        fine = self.i.requant(
            z, muls.tolist(), 0, shift1, I32, axis=rank - 1, rounding="half_up", levels=(1 << 31, True)
        )
        b_lo = np.round((bq - b_hi) * 2.0**k).astype(np.int64)
        lo_w = self.i.weight("beta.frac", b_lo, I32)
        hi_w = self.i.weight("beta.int", b_hi, _range_type(b_hi))
        rounded = self.i.add(
            fine, lo_w, qtfm.RequantAttr.get(1, 0, k, 1 << 16, True, rounding="half_up"), I16
        )
        if wide:
            return self.i.add(rounded, hi_w, qtfm.RequantAttr.get(1, 0, 0, 1 << 16, True), I16)
        attr = qtfm.RequantAttr.get(1, 0, 0, 256, py.signed)
        return self.i.add(rounded, hi_w, attr, I8 if py.signed else UI8)

    def _statistics(self, reg: Region, root: Node, py: QParams) -> SSAValue | None:
        """Row statistics of one tensor: mean square, variance, centred value / f(row)."""
        if len(reg.views) == 0:
            return None
        if root.op == "ReduceMean" and self._last_axis(root):
            inner = self.g.producer.get(root.inputs[0])
            if inner is not None and self._is_square(inner):
                base = self._square_base(inner)
                if base in self.views:
                    return self._mean_square(base, py, root)
                centred = self._centred_view(base)
                if centred is not None:
                    return self._variance(centred, py, root)
        if root.op in ("Div", "Mul") and len(root.inputs) == 2:
            centred = self._centred_view(root.inputs[0])
            if centred is not None:
                return self._normalize(centred, root, py, reg)
        return None

    def _last_axis(self, node: Node) -> bool:
        rank = len(self.shape(node.inputs[0]))
        axes = node.attr("axes")
        if axes is None and len(node.inputs) > 1 and node.inputs[1]:
            c = self.g.const(node.inputs[1])
            axes = None if c is None else c.ravel().tolist()
        return (
            axes is not None
            and [int(a) % rank for a in axes] == [rank - 1]  # type: ignore[union-attr]
            and int(node.attr("keepdims", 1)) == 1  # type: ignore[arg-type]
        )

    def _is_square(self, node: Node) -> bool:
        if node.op == "Pow":
            c = self.g.const(node.inputs[1])
            return c is not None and c.size == 1 and float(c.reshape(())) == 2.0
        return node.op == "Mul" and node.inputs[0] == node.inputs[1]

    @staticmethod
    def _square_base(node: Node) -> str:
        return node.inputs[0]

    def _centred_view(self, name: str) -> str | None:
        """The view x of a tensor `x - ReduceMean(x)` (last axis), if it is one."""
        sub = self.g.producer.get(name)
        if sub is None or sub.op != "Sub":
            return None
        x = sub.inputs[0]
        mean = self.g.producer.get(sub.inputs[1])
        if x not in self.views or mean is None or mean.op != "ReduceMean" or mean.inputs[0] != x:
            return None
        return x if self._last_axis(mean) and self.views[x].params.per_tensor else None

    def _mean_square(self, base: str, py: QParams, node: Node) -> SSAValue:
        view = self.views[base]
        px = view.params
        if not px.per_tensor:
            raise self.g.error(node, "per-axis quantized data")
        n = self.shape(base)[-1]
        x = self.int_value(view.source)
        d = x if px.z == 0 else self.i.cast(x, I16, -px.z)
        sq = self.i.row_sum_squares(d)
        dmax = max(abs(px.lo - px.z), abs(px.hi - px.z))
        scale = float(px.s) ** 2 / n
        return self._requant_statistic(sq, scale, n * dmax * dmax, py, node)

    def _variance(self, base: str, py: QParams, node: Node) -> SSAValue:
        px = self.views[base].params
        n = self.shape(base)[-1]
        x = self.int_value(self.views[base].source)
        _, v, big = self.i.centred(x, px.lo)
        scale = float(px.s) ** 2 / (n * n)
        if big is None:
            return self._requant_statistic(v, scale, n * n * 16384, py, node)
        small = self.i.cast(self._requant_statistic(v, scale, 1 << 30, py, node), I16)
        large = self.i.cast(self._requant_statistic(v, 4 * scale, 1 << 30, py, node), I16)
        pick = self.i.mul(big, self.i.sub(large, small))
        return self.i.add(
            small, pick, qtfm.RequantAttr.get(1, 0, 0, 256, py.signed), I8 if py.signed else UI8
        )

    def _requant_statistic(self, v: SSAValue, scale: float, bound: int, py: QParams, node: Node) -> SSAValue:
        """QuantizeLinear of an exact integer statistic times a real scale (one rounding)."""
        slope = scale / float(py.s)

        def f(stat: np.ndarray) -> np.ndarray:
            return np.clip(np.round(stat * slope) + py.z, py.lo, py.hi).astype(np.int64)

        def fit(shift: int, tgt: object, lo: int, hi: int, pref: int) -> tuple[np.ndarray, np.ndarray]:
            return fit_monotone(tgt, np.array([slope]), 0, bound, lo, hi, shift, np.array([pref]))  # type: ignore[arg-type]

        attr, out, zp2 = self._staged(fit, f, bound, slope, py, node, None, False)
        y = self.b.add(
            qtfm.RequantOp.build(
                operands=[v], result_types=[tensor(self.i.shape(v), out)], properties={"params": attr}
            )
        )
        return y if zp2 is None else self.i.requant(y, 1, zp2, 0, I8 if py.signed else UI8)

    def _normalize(self, base: str, root: Node, py: QParams, reg: Region) -> SSAValue:
        """(x - mean(x)) / f(y) or (x - mean(x)) * f(y) with y one 8-bit value per row."""
        px = self.views[base].params
        shape = self.shape(base)
        n = shape[-1]
        other = root.inputs[1]
        sub_reg = self.region(other)
        if (
            len(sub_reg.views) != 1
            or sub_reg.int_leaves
            or any(nd.op not in ELEMENTWISE for nd in sub_reg.nodes)
        ):
            return None  # type: ignore[return-value]
        yname = sub_reg.views[0]
        vy = self.views[yname]
        if not vy.params.per_tensor or self.shape(yname)[-1] != 1:
            return None  # type: ignore[return-value]
        dom = vy.params.domain()
        yvals = dequantize(dom, vy.params)
        if sub_reg.nodes:
            fy = evaluate(
                [nd.proto for nd in sub_reg.nodes], {yname: yvals}, self.g.consts, [other], self.opsets
            )[0]
        else:
            fy = yvals
        fy = np.asarray(fy, np.float64).reshape(-1)
        if fy.size != dom.size:
            return None  # type: ignore[return-value]
        s, s_y = float(px.s), float(py.s)
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = s / (n * s_y * fy) if root.op == "Div" else s * fy / (n * s_y)
        finite = np.isfinite(kappa)
        if np.any(kappa[finite] < 0):
            raise self.g.error(root, "normalization by a negative factor is not supported")
        kmax = float(np.max(kappa[finite], initial=0.0))
        frac = 41 if kmax == 0 else min(41, 29 - math.floor(math.log2(kmax)))
        if frac < 11:
            raise self.g.error(root, "normalization factor too large")
        cap = (1 << 30) - 1
        k = np.where(finite, np.minimum(np.round(np.where(finite, kappa, 0) * 2.0**frac), cap), cap).astype(
            np.int64
        )
        x = self.int_value(self.views[base].source)
        u = self._centred_u(x, px.lo, n)
        y = self.int_value(vy.source)
        lo = vy.params.lo
        hi_t = np.zeros(256, np.int64)
        lo_t = np.zeros(256, np.int64)
        hi_t[dom - lo] = k >> 15
        lo_t[dom - lo] = k & 0x7FFF
        r_hi = self.i.lut(y, hi_t, I16, "norm.hi")
        r_lo = self.i.lut(y, lo_t, I16, "norm.lo")
        t = self.i.round_product(u, r_hi, r_lo, frac)
        return self.i.requant(t, 1, py.z, 0, I8 if py.signed else UI8)

    def _centred_u(self, x: SSAValue, lo: int, n: int) -> SSAValue:
        """N * x - sum(x) over the last axis (exact, i32)."""
        xp = self.i.cast(x, UI8, -lo) if lo != 0 else x
        s1 = self.i.row_sum(xp)
        return self.i.add(self.i.scale(xp, n), self.i.scale(s1, -1))

    # -- outputs ------------------------------------------------------------------------------

    def _output(self, name: str) -> tuple[SSAValue, float]:
        """The program's value for a graph output and the real value of one unit."""
        if name in self.views:
            view = self.views[name]
            if not view.params.per_tensor:
                raise FrontendError(f"{self.model.path}: output '{name}' is quantized per axis")
            x = self.int_value(view.source)
            z = view.params.z
            return (x if z == 0 and view.params.signed else self.i.cast(x, I16, -z)), float(view.params.s)
        if self._is_int(name):
            return self.int_value(name), 0.0
        reg = self.region(name)
        root = self.g.producer[name]
        if len(reg.views) == 1 and not reg.int_leaves and all(n.op in ELEMENTWISE for n in reg.nodes):
            return self._float_function_output(reg)
        pooled = self._ratio_output(root)
        if pooled is not None:
            return pooled
        if root.op == "LayerNormalization" and root.inputs[0] in self.views:
            value = self._layernorm(root, None)
            return value, self._last_output_scale
        raise self.g.error(root, "this float output computation is not supported")

    def _float_function_output(self, reg: Region) -> tuple[SSAValue, float]:
        view = self.views[reg.views[0]]
        if not view.params.per_tensor:
            raise self.g.error(reg.nodes[-1], "a function of per-axis quantized data")
        rank = len(self.shape(reg.views[0]))
        dom = view.params.domain()
        values = dequantize(dom, view.params).reshape((-1,) + (1,) * rank)
        out = evaluate(
            [n.proto for n in reg.nodes], {reg.views[0]: values}, self.g.consts, [reg.output], self.opsets
        )[0]
        rows, axis = self._table_rows(out, rank, reg)
        if rows.shape[0] != 1 or self.shape(reg.output) != self.shape(reg.views[0]):
            raise self.g.error(reg.nodes[-1], "a per-channel float output function is not supported")
        f = rows[0].astype(np.float64)
        if not np.all(np.isfinite(f)):
            raise self.g.error(reg.nodes[-1], "the output function is not finite")
        scale = max(float(np.abs(f).max()), 1e-30) / 32767
        table = np.round(f / scale).astype(np.int64)
        x = self.int_value(view.source)
        lo = qtfm.int_range(self.i.elem(x))[0]
        full = np.zeros(256, np.int64)
        full[dom - lo] = table
        return self.i.lut(x, full, I16, "output"), scale

    def _ratio_output(self, root: Node) -> tuple[SSAValue, float] | None:
        """sum(x) / max(sum(m), c) over one axis, x and m quantized (masked mean pooling)."""
        if root.op != "Div":
            return None
        num = self.g.producer.get(root.inputs[0])
        den = self.g.producer.get(root.inputs[1])
        if num is None or den is None or num.op != "ReduceSum":
            return None
        clip_min = None
        if den.op == "Clip":
            lo_c = self.g.const(den.inputs[1]) if len(den.inputs) > 1 and den.inputs[1] else None
            hi_c = den.inputs[2] if len(den.inputs) > 2 else ""
            if lo_c is None or hi_c:
                return None
            clip_min = _scalar(lo_c)
            den = self.g.producer.get(den.inputs[0])
            if den is None:
                return None
        if den.op != "ReduceSum" or num.inputs[0] not in self.views:
            return None
        if den.inputs[0] not in self.views:
            cast = self.g.producer.get(den.inputs[0])
            if cast is None or cast.op != "Cast" or not self._is_int(cast.inputs[0]):
                return None
            # an integer count (a mask): exact, taken as 8-bit data of scale 1
            source = self.i.cast(self.int_value(cast.inputs[0]), UI8)
            name = f"{den.inputs[0]}__count"
            self.ints[name] = source
            self.views[den.inputs[0]] = View(
                name, QParams(np.asarray(1.0, F32), np.zeros((), np.int64), False)
            )
        axes_n, axes_d = self._axes(num), self._axes(den)
        xs, ms = self.shape(num.inputs[0]), self.shape(den.inputs[0])
        if (
            len(axes_n) != 1
            or len(axes_d) != 1
            or int(num.attr("keepdims", 1))
            or int(den.attr("keepdims", 1))
        ):  # type: ignore[arg-type]
            return None
        ax = axes_n[0]
        if xs[: ax + 1] != ms[: ax + 1] or any(d != 1 for d in ms[ax + 1 :]) and ms[ax + 1 :] != xs[ax + 1 :]:
            return None
        vx, vm = self.views[num.inputs[0]], self.views[den.inputs[0]]
        if not (vx.params.per_tensor and vm.params.per_tensor):
            return None
        x = self.int_value(vx.source)
        m = self.int_value(vm.source)
        length = xs[ax]
        perm = [d for d in range(len(xs)) if d != ax] + [ax]
        xd = self.i.cast(x, I16, -vx.params.z) if vx.params.z else x
        sx = self.i.row_sum(self.i.transpose(xd, perm))  # (..., 1) with the pooled axis last
        sx = self.i.reshape(sx, [xs[d] for d in range(len(xs)) if d != ax])
        md = self.i.cast(m, I16, -vm.params.z) if vm.params.z else m
        mperm = [d for d in range(len(ms)) if d != ax] + [ax]
        sm = self.i.row_sum(self.i.transpose(md, mperm))
        sm = self.i.reshape(sm, [ms[d] for d in range(len(ms)) if d != ax])
        mlo = min(vm.params.lo - vm.params.z, 0) * length
        mhi = (vm.params.hi - vm.params.z) * length
        if mhi - mlo + 1 > 1 << 17 or mlo < 0:
            return None
        counts = np.arange(mlo, mhi + 1, dtype=np.float64)
        denom = counts * float(vm.params.s)
        if clip_min is not None:
            denom = np.maximum(denom, clip_min)
        out_scale = float(vx.params.s) / (1 << OUTPUT_FINE_BITS)
        with np.errstate(divide="ignore"):
            kappa = float(vx.params.s) / (denom * out_scale)
        finite = np.isfinite(kappa) & (counts != 0)  # an empty row sums to 0 whatever the factor
        kmax = float(np.max(kappa[finite], initial=1.0))
        frac = min(41, 29 - math.floor(math.log2(kmax)))
        if frac < 11:
            return None
        cap = (1 << 30) - 1
        k = np.where(finite, np.minimum(np.round(np.where(finite, kappa, 0) * 2.0**frac), cap), cap).astype(
            np.int64
        )
        hi_w = self.i.weight("pool.hi", (k >> 15).reshape(-1, 1), I16)
        lo_w = self.i.weight("pool.lo", (k & 0x7FFF).reshape(-1, 1), I16)
        ids = self.i.add(sm, self.i.weight("pool.base", np.array(-mlo), I32)) if mlo else sm
        shape = self.i.shape(sm)
        r_hi = self.i.reshape(self.i.embedding(hi_w, ids), (*shape[:-1], shape[-1]))
        r_lo = self.i.reshape(self.i.embedding(lo_w, ids), (*shape[:-1], shape[-1]))
        if len(self.i.shape(sx)) != len(shape):
            return None
        return self.i.round_product(sx, r_hi, r_lo, frac), out_scale

    def _axes(self, node: Node) -> list[int]:
        rank = len(self.shape(node.inputs[0]))
        axes = node.attr("axes")
        if axes is None and len(node.inputs) > 1 and node.inputs[1]:
            c = self.g.const(node.inputs[1])
            axes = None if c is None else c.ravel().tolist()
        return [] if axes is None else [int(a) % rank for a in axes]  # type: ignore[union-attr]


# -- helpers ---------------------------------------------------------------------------------


def _const_type(values: np.ndarray) -> IntegerType:
    return {np.dtype(np.uint8): UI8, np.dtype(np.int8): I8}.get(values.dtype, _range_type(np.asarray(values)))


def _range_type(values: np.ndarray) -> IntegerType:
    v = np.asarray(values, np.int64)
    lo, hi = (int(v.min()), int(v.max())) if v.size else (0, 0)
    for elem in (I8, UI8, I16, I32):
        tlo, thi = qtfm.int_range(elem)
        if tlo <= lo and hi <= thi:
            return elem
    raise ValueError(f"values in [{lo}, {hi}] do not fit int32")


def _slopes(dom: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Least-squares slope per row over the unclamped part (a starting multiplier)."""
    out = []
    for row in targets:
        inner = (row > row.min()) & (row < row.max())
        if inner.sum() >= 2:
            out.append(np.polyfit(dom[inner].astype(np.float64), row[inner].astype(np.float64), 1)[0])
        elif row.max() > row.min():
            k = np.nonzero(np.diff(row))[0]  # a step function: the slope of its steepest step
            steps = np.diff(row)[k] / np.diff(dom)[k].astype(np.float64)
            out.append(float(steps[np.abs(steps).argmax()]))
        else:
            out.append(0.0)
    return np.asarray(out, np.float64)


def _is_scalar_span(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether onnxruntime's broadcast loop sees A as a scalar per span (then A is the
    operand folded into the constant part of MLAS's fma)."""
    da = a[-1] if a else 1
    db = b[-1] if b else 1
    size_a = int(np.prod(a)) if a else 1
    if size_a == 1 and int(np.prod(b) if b else 1) > 1:
        return True
    return da == 1 and db > 1


def _requant_attr(
    muls: np.ndarray, adds: np.ndarray, shift: int, levels: int, signed: bool, axis: int | None
) -> qtfm.RequantAttr:
    """`floor((x*mul + add) >> shift)` as a #qtfm.requant: with `rounding = floor` when the
    add fits int32, else as `half_up` (whose implicit 2^(shift-1) carries most of it)."""
    muls, adds = np.atleast_1d(muls), np.atleast_1d(adds)
    if np.any(np.abs(muls) >= 2**31):
        raise ValueError("requant multiplier does not fit int32")
    rounding = "floor"
    if np.any(np.abs(adds) >= 2**31):
        if shift == 0:
            raise ValueError("requant offset does not fit int32")
        adds = adds - (1 << (shift - 1))
        rounding = "half_up"
        if np.any(np.abs(adds) >= 2**31):
            raise ValueError("requant offset does not fit int32")
    per = axis is not None and (muls.size > 1 or adds.size > 1)
    mul_arg = muls.tolist() if per else int(muls[0])
    add_arg = adds.tolist() if per else int(adds[0])
    return qtfm.RequantAttr.get(mul_arg, add_arg, shift, levels, signed, axis if per else None, rounding)


def _constant(model: OnnxModel, proto: onnx.NodeProto) -> np.ndarray:
    for a in proto.attribute:
        if a.name == "value":
            return onnx.numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_int", "value_floats", "value_ints"):
            return np.array(onnx.helper.get_attribute_value(a))
    raise model.node_error(proto, "Constant without a supported value attribute")


def _remove_dead_ops(module: ModuleOp, weights: dict[str, np.ndarray]) -> None:
    """Erases ops whose results are unused (paths the outputs do not need) and their weights."""
    f = module.body.block.first_op
    assert f is not None
    block = f.regions[0].block  # type: ignore[attr-defined]
    changed = True
    while changed:
        changed = False
        for op in reversed(list(block.ops)):
            if op is block.last_op:
                continue
            if all(not r.uses for r in op.results):
                if isinstance(op, qtfm.WeightOp):
                    weights.pop(op.sym.data, None)
                _erase(op)
                changed = True


def _erase(op: Operation) -> None:
    op.detach()
    op.erase()


def import_qdq_model(
    model: OnnxModel, calib_path: Path | None, seq_len: int | None, weights_file: str
) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    """qtfm module and weights for a model quantized by onnxruntime.quantization (QDQ or
    QOperator format). The model's own scales and zero points are used; `calib_path` is not
    needed (accepted for the CLI's uniformity) and `seq_len` fixes a dynamic sequence
    length."""
    del calib_path
    try:
        return QdqImporter(model, seq_len).run(weights_file)
    except ValueError as err:
        raise FrontendError(f"{model.path}: {err}") from None
