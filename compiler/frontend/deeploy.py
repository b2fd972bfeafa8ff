"""Import of integerized ONNX networks (QuantLib / PACT exports, as Deeploy consumes them).

These graphs are already integer: RequantShift, iSoftmax, ITAMax, iRMSNorm, iLayerNorm,
iGELU, iHardswish and TrueIntegerDiv sit in the default domain beside integer
MatMul/Gemm/Add/Mul and the shape ops; RQIntegerDiv and RequantizedGemm are the fused nodes
Deeploy's own merge passes build (IntegerDiv + RequantShift, and Gemm/MatMul + RequantShift
in the PULPOpen / GAP9 convention). Integer constants arrive as FLOAT tensors and data in
int64 containers, so element types are inferred: from op attributes (a RequantShift with
256 signed levels yields i8), from accumulation (MatMul yields i32), and for graph inputs
from the representative inputs the user gives (`--calib`); a declared INT8/UINT8 input
keeps its type, while wider declared integer types are treated as containers and narrowed
to the calibration range. Anything not understood is an error naming the node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import onnx
from xdsl.dialects.builtin import IntegerAttr, IntegerType, ModuleOp, TensorType, i32
from xdsl.ir import ParametrizedAttribute, SSAValue
from xdsl.utils.exceptions import VerifyException

from compiler.frontend.onnx_model import (
    FrontendError,
    OnnxModel,
    exact_int,
    node_attributes,
    scalar_int,
)
from compiler.frontend.qtfm_builder import (
    QtfmBuilder,
    int_type_for,
    levels_type,
    tensor,
    value_name,
)
from compiler.frontend.shape_ops import static_slice
from dialects import qtfm

DEEPLOY_OPS = {
    "RequantShift",
    "iSoftmax",
    "iRMSNorm",
    "iHardswish",
    "TrueIntegerDiv",
    "iLayerNorm",
    "iGELU",
    "ITAMax",
    "RQIntegerDiv",
    "RequantizedGemm",
}

_ONNX_INT_TYPES = {
    onnx.TensorProto.INT8: (-128, 127),
    onnx.TensorProto.UINT8: (0, 255),
    onnx.TensorProto.INT16: (-(1 << 15), (1 << 15) - 1),
    onnx.TensorProto.UINT16: (0, (1 << 16) - 1),
    onnx.TensorProto.INT32: (-(1 << 31), (1 << 31) - 1),
}


def is_integer_network(model: OnnxModel, samples: Sequence[np.ndarray] | None = None) -> bool:
    """A graph exported by QuantLib: it uses at least one integer-only custom op; or a graph
    of integer data movement and arithmetic only (Concat, Slice, MatMul... as in Deeploy's
    kernel tests) whose constants and representative inputs all hold integers."""
    if any(n.op_type in DEEPLOY_OPS for n in model.graph.node):
        return True
    if samples is None or not uses_only_integer_graph_ops(model):
        return False
    arrays = [*model.initializers.values(), *samples]
    return all(np.array_equal(a, np.round(a)) for a in arrays if np.asarray(a).dtype.kind == "f")


def uses_only_integer_graph_ops(model: OnnxModel) -> bool:
    """Only ops with an exact integer meaning, and static input shapes (as integer test
    networks have; a float model with a dynamic sequence length is not one)."""
    static = all(
        d.HasField("dim_value") and d.dim_value > 0
        for i in model.graph_inputs()
        for d in i.type.tensor_type.shape.dim
    )
    return static and all(n.op_type in INTEGER_GRAPH_OPS for n in model.graph.node)


INTEGER_GRAPH_OPS = {"MatMul", "Add", "Mul", "Concat", "Slice", "Transpose", "Reshape", "Gather", "Constant"}
"""ONNX ops that an integer graph without custom ops may use (their integer meaning is exact)."""


def _log2_exact(model: OnnxModel, node: onnx.NodeProto, what: str, value: int) -> int:
    if value <= 0 or value & (value - 1):
        raise model.node_error(node, f"{what} must be a positive power of two, got {value}")
    return value.bit_length() - 1


class DeeployImporter:
    def __init__(self, model: OnnxModel, calib: Sequence[np.ndarray] | None) -> None:
        self.model = model
        self.calib = calib
        self.values: dict[str, SSAValue] = {}
        self.b: QtfmBuilder
        self._convert: dict[str, Callable[[onnx.NodeProto, dict[str, object]], SSAValue]] = {
            "RequantShift": self._requant_shift,
            "MatMul": self._matmul,
            "Gemm": self._gemm,
            "Add": lambda n, a: self._binary(n, qtfm.AddOp),
            "Mul": lambda n, a: self._binary(n, qtfm.MulOp),
            "Reshape": self._reshape,
            "Transpose": self._transpose,
            "Concat": self._concat,
            "Slice": self._slice,
            "iSoftmax": self._softmax,
            "iRMSNorm": self._rmsnorm,
            "iHardswish": self._hardswish,
            "TrueIntegerDiv": self._true_integer_div,
            "iGELU": self._gelu,
            "iLayerNorm": self._ilayernorm,
            "ITAMax": self._itamax,
            "RQIntegerDiv": self._rq_integer_div,
            "RequantizedGemm": self._requantized_gemm,
        }

    # -- driver -------------------------------------------------------------------------------

    def run(self, weights_file: str) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        inputs = self.model.graph_inputs()
        types = [self._input_type(i, v) for i, v in enumerate(inputs)]
        self.b = QtfmBuilder([v.name for v in inputs], types)
        for v, arg in zip(inputs, self.b.block.args, strict=True):
            self.values[v.name] = arg
        for node in self.model.graph.node:
            convert = self._convert.get(node.op_type)
            if convert is None:
                raise self.model.node_error(node, "this op is not supported in integer networks")
            if len(node.output) != 1:
                raise self.model.node_error(node, "only single-output nodes are supported")
            result = convert(node, node_attributes(node))
            result.name_hint = value_name(node.output[0])
            self.values[node.output[0]] = result
        outputs = [self._value(o.name, None) for o in self.model.graph.output]
        module = self.b.finish(outputs, [o.name for o in self.model.graph.output], weights_file)
        return module, self.b.weights

    def _input_type(self, index: int, info: onnx.ValueInfoProto) -> TensorType:
        tt = info.type.tensor_type
        shape = [d.dim_value for d in tt.shape.dim]
        if any(not d.HasField("dim_value") or d.dim_value < 0 for d in tt.shape.dim):
            raise FrontendError(
                f"{self.model.path}: input '{info.name}' has a dynamic shape {shape}; "
                "integer networks need static shapes"
            )
        narrow = tt.elem_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
        if narrow or (tt.elem_type in _ONNX_INT_TYPES and self.calib is None):
            lo, hi = _ONNX_INT_TYPES[tt.elem_type]
            return tensor(shape, int_type_for(lo, hi))
        if self.calib is None or index >= len(self.calib):
            raise FrontendError(
                f"{self.model.path}: input '{info.name}' is declared "
                f"{onnx.TensorProto.DataType.Name(tt.elem_type)} in an integer network; give "
                "representative inputs with --calib FILE.npz so its integer type can be inferred"
            )
        data = np.asarray(self.calib[index])
        if data.dtype.kind == "f" and not np.all(data == np.round(data)):
            raise FrontendError(
                f"{self.model.path}: representative values for input '{info.name}' are not integers"
            )
        if data.size == 0:
            return tensor(shape, int_type_for(0, 0))
        return tensor(shape, int_type_for(int(data.min()), int(data.max())))

    # -- operands -----------------------------------------------------------------------------

    def _const(self, name: str) -> np.ndarray | None:
        return self.model.initializers.get(name)

    def _value(self, name: str, node: onnx.NodeProto | None) -> SSAValue:
        if name in self.values:
            return self.values[name]
        const = self._const(name)
        if const is not None:
            assert node is not None
            return self.b.weight(name, exact_int(self.model, node, f"constant '{name}'", const))
        raise FrontendError(f"{self.model.path}: tensor '{name}' is used before it is defined")

    def _param(self, node: onnx.NodeProto, index: int, what: str) -> np.ndarray:
        name = node.input[index] if index < len(node.input) else ""
        const = self._const(name) if name else None
        if const is None:
            raise self.model.node_error(node, f"{what} (input {index}) must be a constant")
        return exact_int(self.model, node, what, const)

    @staticmethod
    def _shape(v: SSAValue) -> list[int]:
        return list(v.type.get_shape())  # type: ignore[attr-defined]

    @staticmethod
    def _elem(v: SSAValue) -> IntegerType:
        return v.type.element_type  # type: ignore[attr-defined]

    # -- converters ---------------------------------------------------------------------------

    def _requant_attr(
        self, node: onnx.NodeProto, attrs: dict[str, object], shape: Sequence[int]
    ) -> qtfm.RequantAttr:
        mul, add = self._param(node, 1, "mul"), self._param(node, 2, "add")
        levels_attr = attrs.get("n_levels_out", attrs.get("n_levels"))
        if levels_attr is None or "div" not in attrs:
            raise self.model.node_error(node, "RequantShift needs 'div' and 'n_levels' attributes")
        levels = scalar_int(self.model, node, "n_levels", levels_attr)
        signed = bool(scalar_int(self.model, node, "signed", attrs.get("signed", 1)))
        shift = _log2_exact(self.model, node, "div", scalar_int(self.model, node, "div", attrs["div"]))
        axis = self._channel_axis(node, shape, mul, add)
        return qtfm.RequantAttr.get(mul.ravel().tolist(), add.ravel().tolist(), shift, levels, signed, axis)

    def _channel_axis(self, node: onnx.NodeProto, shape: Sequence[int], *params: np.ndarray) -> int | None:
        """The one axis along which constant parameters vary (numpy broadcasting), if any."""
        axes: set[int] = set()
        for p in params:
            if p.ndim > len(shape):
                if any(d != 1 for d in p.shape[: p.ndim - len(shape)]):
                    raise self.model.node_error(node, f"parameter shape {p.shape} exceeds {shape}")
            for k, d in enumerate(reversed(p.shape)):
                axis = len(shape) - 1 - k
                if d != 1 and axis >= 0:
                    if d != shape[axis]:
                        raise self.model.node_error(
                            node, f"parameter shape {p.shape} does not broadcast to {list(shape)}"
                        )
                    axes.add(axis)
        if len(axes) > 1:
            raise self.model.node_error(
                node, f"parameters vary along axes {sorted(axes)}; only one channel axis is supported"
            )
        return axes.pop() if axes else None

    def _requant_shift(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        x = self._value(node.input[0], node)
        params = self._requant_attr(node, attrs, self._shape(x))
        out = tensor(self._shape(x), levels_type(params.levels.data, params.is_signed))
        return self.b.add(
            qtfm.RequantOp.build(operands=[x], result_types=[out], properties={"params": params})
        )

    def _matmul(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        a, b = self._value(node.input[0], node), self._value(node.input[1], node)
        shape = qtfm.matmul_shape(self._shape(a), self._shape(b))
        if shape is None:
            raise self.model.node_error(
                node, f"operand shapes {self._shape(a)} and {self._shape(b)} are incompatible"
            )
        return self.b.add(qtfm.MatmulOp.build(operands=[a, b], result_types=[tensor(shape, i32)]))

    def _gemm(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        alpha = scalar_int(self.model, node, "alpha", attrs.get("alpha", 1.0))
        beta = scalar_int(self.model, node, "beta", attrs.get("beta", 1.0))
        a = self._transposed(node, 0, bool(attrs.get("transA", 0)))
        b = self._transposed(node, 1, bool(attrs.get("transB", 0)))
        if len(self._shape(a)) != 2 or len(self._shape(b)) != 2:
            raise self.model.node_error(node, "Gemm operands must be 2-D")
        shape = qtfm.matmul_shape(self._shape(a), self._shape(b))
        if shape is None:
            raise self.model.node_error(node, "Gemm operand shapes are incompatible")
        y = self.b.add(qtfm.MatmulOp.build(operands=[a, b], result_types=[tensor(shape, i32)]))
        if alpha != 1:
            k = self.b.weight(f"{node.name}.alpha", np.array(alpha))
            y = self.b.add(qtfm.MulOp.build(operands=[y, k], result_types=[tensor(shape, i32)]))
        if len(node.input) > 2 and node.input[2]:
            c_const = self._const(node.input[2])
            if c_const is not None:
                c = self.b.weight(
                    f"{node.input[2]}.x{beta}",
                    beta * exact_int(self.model, node, "C", c_const),
                )
            else:
                c = self._value(node.input[2], node)
                if beta != 1:
                    k = self.b.weight(f"{node.name}.beta", np.array(beta))
                    c = self.b.add(
                        qtfm.MulOp.build(operands=[c, k], result_types=[tensor(self._shape(c), i32)])
                    )
            if qtfm.broadcast_shapes(shape, self._shape(c)) != tuple(shape):
                raise self.model.node_error(node, f"C of shape {self._shape(c)} does not broadcast")
            y = self.b.add(qtfm.AddOp.build(operands=[y, c], result_types=[tensor(shape, i32)]))
        return y

    def _transposed(self, node: onnx.NodeProto, index: int, trans: bool) -> SSAValue:
        name = node.input[index]
        const = self._const(name)
        if const is not None and name not in self.values:
            arr = exact_int(self.model, node, f"input {index}", const)
            return self.b.weight(f"{name}.T" if trans else name, arr.T if trans else arr)
        v = self._value(name, node)
        if not trans:
            return v
        shape = self._shape(v)[::-1]
        return self.b.add(qtfm.TransposeOp(v, [1, 0], tensor(shape, self._elem(v))))

    def _binary(self, node: onnx.NodeProto, op_type: type[qtfm.AddOp | qtfm.MulOp]) -> SSAValue:
        a, b = self._value(node.input[0], node), self._value(node.input[1], node)
        shape = qtfm.broadcast_shapes(self._shape(a), self._shape(b))
        if shape is None:
            raise self.model.node_error(
                node, f"operand shapes {self._shape(a)} and {self._shape(b)} do not broadcast"
            )
        return self.b.add(op_type.build(operands=[a, b], result_types=[tensor(shape, i32)]))

    def _reshape(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        x = self._value(node.input[0], node)
        target = [int(d) for d in self._param(node, 1, "shape").ravel()]
        src = self._shape(x)
        allow_zero = bool(attrs.get("allowzero", 0))
        shape = [src[i] if d == 0 and not allow_zero else d for i, d in enumerate(target)]
        if shape.count(-1) > 1:
            raise self.model.node_error(node, f"shape {target} has more than one -1")
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = int(np.prod(src)) // max(known, 1)
        if int(np.prod(shape)) != int(np.prod(src)):
            raise self.model.node_error(node, f"cannot reshape {src} to {target}")
        return self.b.add(qtfm.ReshapeOp.build(operands=[x], result_types=[tensor(shape, self._elem(x))]))

    def _transpose(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        x = self._value(node.input[0], node)
        src = self._shape(x)
        perm = list(attrs.get("perm", list(range(len(src)))[::-1]))  # type: ignore[call-overload]
        if sorted(perm) != list(range(len(src))):
            raise self.model.node_error(node, f"perm {perm} is not a permutation of rank {len(src)}")
        return self.b.add(qtfm.TransposeOp(x, perm, tensor([src[p] for p in perm], self._elem(x))))

    def _concat(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        xs = [self._value(n, node) for n in node.input]
        rank = len(self._shape(xs[0]))
        axis = int(attrs.get("axis", 0))  # type: ignore[call-overload]
        if not -rank <= axis < rank:
            raise self.model.node_error(node, f"axis {axis} is out of range for rank {rank}")
        axis %= rank
        elem = self._common_type([self._elem(x) for x in xs])
        xs = [self._widen(x, elem) for x in xs]
        shape = list(self._shape(xs[0]))
        shape[axis] = sum(self._shape(x)[axis] for x in xs)
        return self.b.add(
            qtfm.ConcatOp.build(
                operands=[xs],
                result_types=[tensor(shape, elem)],
                properties={"axis": IntegerAttr(axis, 64)},
            )
        )

    @staticmethod
    def _common_type(elems: list[IntegerType]) -> IntegerType:
        ranges = [qtfm.int_range(e) for e in elems]
        return int_type_for(min(r[0] for r in ranges), max(r[1] for r in ranges))

    def _widen(self, x: SSAValue, elem: IntegerType) -> SSAValue:
        """An exact conversion to a wider element type (identity requant, no clamping)."""
        if self._elem(x) == elem:
            return x
        lo, hi = qtfm.int_range(elem)
        signed = lo < 0
        levels = hi - lo + 1
        params = qtfm.RequantAttr.get(1, 0, 0, levels, signed)
        return self.b.add(
            qtfm.RequantOp.build(
                operands=[x],
                result_types=[tensor(self._shape(x), elem)],
                properties={"params": params},
            )
        )

    def _slice(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        x = self._value(node.input[0], node)
        src = self._shape(x)
        starts = self._param(node, 1, "starts").ravel().tolist()
        ends = self._param(node, 2, "ends").ravel().tolist()
        axes = (
            self._param(node, 3, "axes").ravel().tolist()
            if len(node.input) > 3 and node.input[3]
            else list(range(len(starts)))
        )
        steps = (
            self._param(node, 4, "steps").ravel().tolist()
            if len(node.input) > 4 and node.input[4]
            else [1] * len(starts)
        )
        try:
            first, stride, size = static_slice(src, starts, ends, axes, steps)
        except ValueError as err:
            raise self.model.node_error(node, str(err)) from None
        return self.b.add(
            qtfm.SliceOp.build(
                operands=[x],
                result_types=[tensor(size, self._elem(x))],
                properties={"starts": qtfm.i64_array(first), "strides": qtfm.i64_array(stride)},
            )
        )

    def _ints(self, node: onnx.NodeProto, attrs: dict[str, object], *names: str) -> dict[str, int]:
        missing = [n for n in names if n not in attrs]
        if missing:
            raise self.model.node_error(node, f"missing attributes {', '.join(missing)}")
        return {n: scalar_int(self.model, node, n, attrs[n]) for n in names}

    def _softmax(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        v = self._ints(node, attrs, "coeffA", "coeffB", "coeffC", "log2", "n_levels")
        params = qtfm.SoftmaxAttr.get(
            coeff_a=v["coeffA"],
            coeff_b=v["coeffB"],
            coeff_c=v["coeffC"],
            log2=v["log2"],
            levels=v["n_levels"],
        )
        x = self._value(node.input[0], node)
        out = tensor(self._shape(x), levels_type(v["n_levels"], signed=False))
        return self.b.add(
            qtfm.SoftmaxOp.build(operands=[x, None], result_types=[out], properties={"params": params})
        )

    def _rmsnorm(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        v = self._ints(node, attrs, "D", "n_levels")
        shift = _log2_exact(self.model, node, "D", v["D"])
        x = self._value(node.input[0], node)
        w = self._value(node.input[1], node)
        params = qtfm.RMSNormAttr.get(shift=shift, levels=v["n_levels"])
        out = tensor(self._shape(x), levels_type(v["n_levels"], signed=True))
        return self.b.add(
            qtfm.RMSNormOp.build(operands=[x, w], result_types=[out], properties={"params": params})
        )

    def _hardswish(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        v = self._ints(node, attrs, "one_over_six", "six", "three")
        x = self._value(node.input[0], node)
        return self.b.add(
            qtfm.HardswishOp.build(
                operands=[x],
                result_types=[tensor(self._shape(x), i32)],
                properties={"params": qtfm.HardswishAttr.get(**v)},
            )
        )

    def _true_integer_div(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        v = self._ints(node, attrs, "Delta", "eps", "eta", "y")
        x = self._value(node.input[0], node)
        params = qtfm.DivAttr.get(delta=v["Delta"], eps=v["eps"], eta=v["eta"], y=v["y"])
        return self.b.add(
            qtfm.DivOp.build(
                operands=[x],
                result_types=[tensor(self._shape(x), i32)],
                properties={"params": params},
            )
        )

    # -- ops Deeploy / QuantLib add to I-BERT-style transformers ----------------------------

    def _checked(self, node: onnx.NodeProto, build: Callable[[], ParametrizedAttribute]):  # noqa: ANN202
        """A qtfm attribute from node attributes; a value its verifier rejects names the node."""
        try:
            return build()
        except VerifyException as err:
            raise self.model.node_error(node, str(err)) from None

    def _narrow_input(self, node: onnx.NodeProto, x: SSAValue, bits: int) -> None:
        elem = self._elem(x)
        if elem.width.data > bits:
            raise self.model.node_error(
                node, f"the input must be an integer of at most {bits} bits, got {elem}"
            )

    def _gelu(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        """iGELU(b, one) -> qtfm.gelu: `y = x * ((one + L) >> 1)` (QuantLib PACTIntegerGELU)."""
        v = self._ints(node, attrs, "b", "one")
        x = self._value(node.input[0], node)
        self._narrow_input(node, x, 16)
        params = self._checked(node, lambda: qtfm.GeluAttr.get(b=v["b"], one=v["one"]))
        return self.b.add(
            qtfm.GeluOp.build(
                operands=[x], result_types=[tensor(self._shape(x), i32)], properties={"params": params}
            )
        )

    def _norm_vector(self, node: onnx.NodeProto, index: int, what: str, n: int) -> SSAValue:
        """A length-n weight/bias: constants of one element (QuantLib's non-affine
        iLayerNorm exports a scalar scale) are broadcast, as QuantLib's forward does."""
        name = node.input[index] if index < len(node.input) else ""
        if not name:
            raise self.model.node_error(node, f"{what} (input {index}) is missing")
        const = self._const(name)
        if const is not None and name not in self.values:
            arr = exact_int(self.model, node, what, const)
            if arr.size == 1 and n != 1:
                return self.b.weight(f"{name}.x{n}", np.full((n,), int(arr.reshape(()))))
            if arr.size == n:
                return self.b.weight(name if arr.shape == (n,) else f"{name}.flat", arr.reshape(n))
            raise self.model.node_error(node, f"{what} of shape {list(arr.shape)} does not fit {n} channels")
        v = self._value(name, node)
        if self._shape(v) != [n]:
            raise self.model.node_error(node, f"{what} must have shape [{n}], got {self._shape(v)}")
        return v

    def _ilayernorm(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        """iLayerNorm(x, weight, bias; D, n_levels) -> qtfm.layernorm_trunc (QuantLib
        PACTIntegerLayerNorm, Deeploy Layernorm_s8_s8: truncating mean and quotient)."""
        v = self._ints(node, attrs, "D", "n_levels")
        shift = _log2_exact(self.model, node, "D", v["D"])
        x = self._value(node.input[0], node)
        self._narrow_input(node, x, 8)
        shape = self._shape(x)
        if not shape:
            raise self.model.node_error(node, "the input must have rank >= 1")
        w = self._norm_vector(node, 1, "weight", shape[-1])
        b = self._norm_vector(node, 2, "bias", shape[-1])
        params = self._checked(node, lambda: qtfm.LayerNormAttr.get(shift=shift, levels=v["n_levels"]))
        out = tensor(shape, levels_type(v["n_levels"], signed=True))
        return self.b.add(
            qtfm.LayerNormTruncOp.build(operands=[x, w, b], result_types=[out], properties={"params": params})
        )

    def _itamax(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        """ITAMax(x; n_levels = 256) -> qtfm.ita_softmax (unsigned result in [0, 255])."""
        v = self._ints(node, attrs, "n_levels")
        if v["n_levels"] != 256:
            raise self.model.node_error(
                node,
                f"n_levels must be 256, got {v['n_levels']} (ITAMax is defined, by QuantLib and "
                "by Deeploy's kernel alike, for 8-bit data with 256 levels only)",
            )
        x = self._value(node.input[0], node)
        self._narrow_input(node, x, 8)
        shape = self._shape(x)
        if "axis" in attrs:
            axis = scalar_int(self.model, node, "axis", attrs["axis"])
            if shape and axis not in (-1, len(shape) - 1):
                raise self.model.node_error(node, f"only the last axis is supported, got axis {axis}")
        out = tensor(shape, levels_type(256, signed=False))
        return self.b.add(qtfm.ItaSoftmaxOp.build(operands=[x], result_types=[out]))

    def _rq_scalar(self, node: onnx.NodeProto, index: int, what: str) -> int:
        arr = self._param(node, index, what)
        if arr.size != 1:
            raise self.model.node_error(
                node, f"{what} (input {index}) must be a single value, got shape {list(arr.shape)}"
            )
        return int(arr.reshape(()))

    def _rq_shape_params(
        self, node: onnx.NodeProto, attrs: dict[str, object]
    ) -> tuple[int, bool, int | None]:
        """levels, signed and log2(div) (None without `div`) of a fused requant."""
        levels_attr = attrs.get("n_levels_out", attrs.get("n_levels"))
        if levels_attr is None:
            raise self.model.node_error(node, f"{node.op_type} needs an 'n_levels' attribute")
        levels = scalar_int(self.model, node, "n_levels", levels_attr)
        signed = bool(scalar_int(self.model, node, "signed", attrs.get("signed", 1)))
        shift = None
        if "div" in attrs:
            shift = _log2_exact(self.model, node, "div", scalar_int(self.model, node, "div", attrs["div"]))
        return levels, signed, shift

    def _rq_integer_div(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        """RQIntegerDiv(a, b, mul, add[, shift]; Delta, eps, eta, div, n_levels, signed), the
        node Deeploy's IntegerDivRequantMergePass builds -> qtfm.int_div + qtfm.requant:
        `clamp((q * mul + add + 2^(shift-1)) >> shift)` with q the rounded quotient, exactly
        as Deeploy's RQDiv_s32_s8 kernel (mul and add are used as stored)."""
        v = self._ints(node, attrs, "Delta", "eps", "eta")
        if len(node.input) not in (4, 5):
            raise self.model.node_error(
                node, f"expected inputs (a, b, mul, add[, shift]), got {len(node.input)} inputs"
            )
        levels, signed, shift = self._rq_shape_params(node, attrs)
        if len(node.input) == 5 and node.input[4]:
            given = self._rq_scalar(node, 4, "shift")
            if shift is not None and given != shift:
                raise self.model.node_error(node, f"shift input {given} disagrees with div = 2^{shift}")
            shift = given
        if shift is None:
            raise self.model.node_error(node, "RQIntegerDiv needs a 'div' attribute or a shift input")
        mul, add = self._rq_scalar(node, 2, "mul"), self._rq_scalar(node, 3, "add")
        a, b = self._value(node.input[0], node), self._value(node.input[1], node)
        shape = qtfm.broadcast_shapes(self._shape(a), self._shape(b))
        if shape is None:
            raise self.model.node_error(
                node, f"operand shapes {self._shape(a)} and {self._shape(b)} do not broadcast"
            )
        div_params = self._checked(
            node, lambda: qtfm.IntDivAttr.get(delta=v["Delta"], eps=v["eps"], eta=v["eta"])
        )
        q = self.b.add(
            qtfm.IntDivOp.build(
                operands=[a, b], result_types=[tensor(shape, i32)], properties={"params": div_params}
            )
        )
        rq = self._checked(node, lambda: qtfm.RequantAttr.get(mul, add, shift, levels, signed))
        return self.b.add(
            qtfm.RequantOp.build(
                operands=[q],
                result_types=[tensor(shape, levels_type(levels, signed))],
                properties={"params": rq},
            )
        )

    def _matmul_operand(self, node: onnx.NodeProto, index: int, trans: bool) -> SSAValue:
        """Input `index`, with its last two dimensions swapped when `trans`."""
        name = node.input[index]
        const = self._const(name)
        if const is not None and name not in self.values:
            arr = exact_int(self.model, node, f"input {index}", const)
            if trans and arr.ndim < 2:
                raise self.model.node_error(node, f"input {index} must have rank >= 2 to be transposed")
            return self.b.weight(f"{name}.T" if trans else name, np.swapaxes(arr, -1, -2) if trans else arr)
        v = self._value(name, node)
        if not trans:
            return v
        shape = self._shape(v)
        if len(shape) < 2:
            raise self.model.node_error(node, f"input {index} must have rank >= 2 to be transposed")
        perm = [*range(len(shape) - 2), len(shape) - 1, len(shape) - 2]
        return self.b.add(qtfm.TransposeOp(v, perm, tensor([shape[p] for p in perm], self._elem(v))))

    def _requantized_gemm(self, node: onnx.NodeProto, attrs: dict[str, object]) -> SSAValue:
        """RequantizedGemm(A, B, C, mul; div, n_levels, signed, shift, transA, transB), the node
        Deeploy's PULPOpen/GAP9 Gemm/MatMul + RequantShift merge pass builds, in which C already
        holds `bias * mul + add + 2^(shift-1)` -> qtfm.matmul with
        `requant<mul, add = C, shift = log2(div), rounding = floor>`:
        `clamp((op(A) @ op(B) * mul + C) >> shift)`, as pulp_nn_bn_quant computes it."""
        if len(node.input) != 4:
            raise self.model.node_error(
                node,
                f"expected inputs (A, B, C, mul) (the PULPOpen convention), got {len(node.input)} inputs",
            )
        for name in ("alpha", "beta"):
            if scalar_int(self.model, node, name, attrs.get(name, 1.0)) != 1:
                raise self.model.node_error(
                    node, f"{name} must be 1 (Deeploy folds bias and offset into C and ignores {name})"
                )
        levels, signed, shift = self._rq_shape_params(node, attrs)
        if shift is None:
            raise self.model.node_error(node, "RequantizedGemm needs a 'div' attribute")
        if "shift" in attrs and scalar_int(self.model, node, "shift", attrs["shift"]) != shift:
            raise self.model.node_error(
                node,
                f"shift {scalar_int(self.model, node, 'shift', attrs['shift'])} differs from log2(div) = "
                f"{shift}: this is the CMSIS (CortexM) convention, whose requantization is not "
                "RequantShift's; only the PULPOpen convention (shift = log2(div)) is supported",
            )
        a = self._matmul_operand(node, 0, bool(attrs.get("transA", 0)))
        b = self._matmul_operand(node, 1, bool(attrs.get("transB", 0)))
        shape = qtfm.matmul_shape(self._shape(a), self._shape(b))
        if shape is None:
            raise self.model.node_error(
                node, f"operand shapes {self._shape(a)} and {self._shape(b)} are incompatible"
            )
        c, mul = self._param(node, 2, "C"), self._param(node, 3, "mul")
        axis = self._channel_axis(node, shape, mul, c)
        params = self._checked(
            node,
            lambda: qtfm.RequantAttr.get(
                mul.ravel().tolist(), c.ravel().tolist(), shift, levels, signed, axis, "floor"
            ),
        )
        if params.channels() not in (1, shape[axis] if axis is not None else 1):
            raise self.model.node_error(node, "mul and C do not match the output channels")
        out = tensor(shape, levels_type(levels, signed))
        return self.b.add(
            qtfm.MatmulOp.build(operands=[a, b], result_types=[out], properties={"requant": params})
        )


def import_integer_network(
    model: OnnxModel, calib: Sequence[np.ndarray] | None, weights_file: str
) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    """qtfm module and weights for a QuantLib/Deeploy integer ONNX graph."""
    return DeeployImporter(model, calib).run(weights_file)
