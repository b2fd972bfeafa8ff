"""The numpy interpreter of qtfm: the bit-exact golden model for everything downstream.

It evaluates a module's entry function op by op on int64 numpy arrays, using the kernels in
`kernels.py` (the semantics of docs/quantization.md), and checks every result against its
declared type: a value that does not fit its element type is an error, never a silent wrap.
Every lowering of mote is compared against this interpreter bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue

from compiler.reference import kernels
from compiler.reference.weights import numpy_dtype
from dialects import qtfm


class ReferenceError(Exception):
    """The program cannot be evaluated: a bad input, a missing weight, an overflow."""


def element_range(typ: TensorType) -> tuple[int, int]:
    return qtfm.int_range(typ.element_type)


def entry_function(module: ModuleOp, name: str | None = None) -> func.FuncOp:
    """The function to run: `name`, else `@main`, else the only function."""
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp)]
    if name is not None or any(f.sym_name.data == "main" for f in funcs):
        wanted = name or "main"
        for f in funcs:
            if f.sym_name.data == wanted:
                return f
        raise ReferenceError(f"the module has no function @{wanted}")
    if len(funcs) != 1:
        raise ReferenceError(f"the module has {len(funcs)} functions and none is @main: say which to run")
    return funcs[0]


def _requant(acc: np.ndarray, attr: qtfm.RequantAttr) -> np.ndarray:
    """Applies a #qtfm.requant to an exact accumulator, broadcasting per-channel values."""
    shape = [1] * acc.ndim
    axis = attr.channel_axis
    if axis is not None:
        shape[axis] = -1
    mul = np.asarray(attr.muls, dtype=np.int64).reshape(shape)
    add = np.asarray(attr.adds, dtype=np.int64).reshape(shape)
    lo, hi = attr.clamp_range()
    if attr.rounding.data == "floor":
        return np.clip((acc * mul + add) >> attr.shift.data, lo, hi)
    return kernels.requant(acc, mul, add, attr.shift.data, lo, hi)


def _maybe_requant(acc: np.ndarray, attr: qtfm.RequantAttr | None) -> np.ndarray:
    """A fused requant: the accumulator is int32 on every target, so it must fit there."""
    if attr is None:
        return acc
    if acc.size and (acc.min() < qtfm.INT32_MIN or acc.max() > qtfm.INT32_MAX):
        raise ReferenceError(f"the int32 accumulator overflows: values reach [{acc.min()}, {acc.max()}]")
    return _requant(acc, attr)


class Interpreter:
    """Runs qtfm programs. `weights` maps `qtfm.weight` names to arrays."""

    def __init__(self, module: ModuleOp, weights: Mapping[str, np.ndarray] | None = None):
        self.module = module
        self.weights = weights or {}
        self._impls: dict[type[Operation], Callable[[Operation, list[np.ndarray]], np.ndarray]]
        self._impls = {
            qtfm.EmbeddingOp: self._embedding,
            qtfm.ClusteredEmbeddingOp: self._clustered_embedding,
            qtfm.MatmulOp: lambda op, a: _maybe_requant(kernels.matmul(a[0], a[1]), op.requant),
            qtfm.LinearOp: self._linear,
            qtfm.AddOp: lambda op, a: _maybe_requant(kernels.add(a[0], a[1]), op.requant),
            qtfm.MulOp: lambda op, a: _maybe_requant(kernels.mul(a[0], a[1]), op.requant),
            qtfm.RequantOp: lambda op, a: _requant(a[0], op.params),
            qtfm.SoftmaxOp: lambda op, a: kernels.softmax_ibert(
                a[0], **_args(op.params), mask=a[1] if len(a) > 1 else None
            ),
            qtfm.MeanOp: lambda op, a: kernels.masked_mean(
                a[0], op.axis.value.data, a[1] if len(a) > 1 else None
            ),
            qtfm.LutOp: lambda op, a: kernels.lut(a[0], a[1], qtfm.int_range(op.input.type.element_type)[0]),
            qtfm.RMSNormOp: lambda op, a: kernels.rmsnorm(
                a[0], a[1], op.params.value("shift"), op.params.value("levels")
            ),
            qtfm.LayerNormOp: lambda op, a: kernels.layernorm(
                a[0], a[1], a[2], op.params.value("shift"), op.params.value("levels")
            ),
            qtfm.LayerNormTruncOp: lambda op, a: kernels.layernorm_trunc(
                a[0], a[1], a[2], op.params.value("shift"), op.params.value("levels")
            ),
            qtfm.ItaSoftmaxOp: lambda op, a: kernels.ita_softmax(a[0]),
            qtfm.HardswishOp: lambda op, a: kernels.hardswish(a[0], **op.params.as_dict()),
            qtfm.GeluOp: lambda op, a: kernels.gelu(a[0], **op.params.as_dict()),
            qtfm.DivOp: lambda op, a: kernels.true_integer_div(a[0], **op.params.as_dict()),
            qtfm.IntDivOp: self._int_div,
            qtfm.TransposeOp: lambda op, a: np.transpose(a[0], tuple(op.perm.get_values())),
            qtfm.ReshapeOp: lambda op, a: a[0].reshape(op.result.type.get_shape()),
            qtfm.SliceOp: self._slice,
            qtfm.ConcatOp: lambda op, a: np.concatenate(a, axis=op.axis.value.data),
            qtfm.KVAppendOp: self._kv_append,
            qtfm.EmptyOp: lambda op, a: np.zeros(op.result.type.get_shape(), dtype=np.int64),
        }

    # -- entry points -------------------------------------------------------------------------

    def run(self, inputs: Sequence[np.ndarray], function: str | None = None) -> list[np.ndarray]:
        """Evaluates the entry function on one sample; returns its results in their dtypes."""
        f = entry_function(self.module, function)
        args = f.body.block.args
        if len(inputs) != len(args):
            raise ReferenceError(f"@{f.sym_name.data} takes {len(args)} inputs, {len(inputs)} were given")
        env: dict[SSAValue, np.ndarray] = {}
        for i, (arg, value) in enumerate(zip(args, inputs, strict=True)):
            env[arg] = self._check_input(i, arg, np.asarray(value))
        for op in f.body.block.ops:
            if isinstance(op, func.ReturnOp):
                return [
                    env[v].astype(numpy_dtype(v.type.element_type))  # type: ignore[attr-defined]
                    for v in op.arguments
                ]
            env[op.results[0]] = self._eval(op, [env[v] for v in op.operands])
        raise ReferenceError(f"@{f.sym_name.data} has no func.return")

    # -- helpers ------------------------------------------------------------------------------

    def _check_input(self, index: int, arg: SSAValue, value: np.ndarray) -> np.ndarray:
        return check_input(index, arg.type, value)

    def _eval(self, op: Operation, args: list[np.ndarray]) -> np.ndarray:
        if isinstance(op, qtfm.WeightOp):
            value = self._weight(op)
        elif isinstance(op, arith.ConstantOp):
            value = self._constant(op)
        else:
            impl = self._impls.get(type(op))
            if impl is None:
                raise ReferenceError(f"the reference interpreter cannot run '{op.name}'")
            value = impl(op, args)
        return self._check_result(op, np.asarray(value, dtype=np.int64))

    def _check_result(self, op: Operation, value: np.ndarray) -> np.ndarray:
        typ = op.results[0].type
        assert isinstance(typ, TensorType)
        if tuple(value.shape) != tuple(typ.get_shape()):
            raise ReferenceError(f"'{op.name}' produced shape {value.shape}, its type says {typ}")
        lo, hi = element_range(typ)
        if value.size and (value.min() < lo or value.max() > hi):
            raise ReferenceError(
                f"'{op.name}' overflows its {typ.element_type} result: values reach "
                f"[{value.min()}, {value.max()}], the type holds [{lo}, {hi}]"
            )
        return value

    def _weight(self, op: qtfm.WeightOp) -> np.ndarray:
        name = op.sym.data
        if name not in self.weights:
            raise ReferenceError(f"weight '{name}' is not in the weight file")
        value = np.asarray(self.weights[name])
        if value.dtype.kind not in "iub":
            raise ReferenceError(f"weight '{name}' is not integer ({value.dtype})")
        return value.astype(np.int64)

    @staticmethod
    def _constant(op: arith.ConstantOp) -> np.ndarray:
        attr = op.value
        if not isinstance(attr, DenseIntOrFPElementsAttr):
            raise ReferenceError(f"arith.constant of {attr} is not supported")
        typ = op.result.type
        assert isinstance(typ, TensorType)
        values = np.asarray(attr.get_values(), dtype=np.int64)
        return (
            np.broadcast_to(values.reshape(()), typ.get_shape())
            if values.size == 1
            else values.reshape(typ.get_shape())
        )

    def _embedding(self, op: qtfm.EmbeddingOp, args: list[np.ndarray]) -> np.ndarray:
        table, ids = args
        if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
            raise ReferenceError(
                f"'qtfm.embedding' ids reach [{ids.min()}, {ids.max()}], the table has {table.shape[0]} rows"
            )
        return table[ids]

    def _clustered_embedding(self, op: qtfm.ClusteredEmbeddingOp, args: list[np.ndarray]) -> np.ndarray:
        ids, clusters, block_offsets, coefficients, bases = args
        where = "'qtfm.clustered_embedding'"
        ranks = op.cluster_ranks()
        vocab, block, bits = clusters.shape[0], op.block.value.data, op.coef_bits.value.data
        if ids.size and (ids.min() < 0 or ids.max() >= vocab):
            raise ReferenceError(
                f"{where} ids reach [{ids.min()}, {ids.max()}], the vocabulary has {vocab} tokens"
            )
        if clusters.size and clusters.max() >= len(ranks):
            raise ReferenceError(
                f"{where} cluster ids reach {clusters.max()}, there are {len(ranks)} clusters"
            )
        starts, expected = kernels.clustered_offsets(clusters, np.asarray(ranks), block)
        if not np.array_equal(block_offsets, expected):
            raise ReferenceError(f"{where} block_offsets do not match the clusters' ranks")
        needed = int(starts[-1] + ranks[int(clusters[-1])]) if vocab else 0
        capacity = coefficients.shape[0] * (8 // bits)
        if needed > capacity:
            raise ReferenceError(f"{where} needs {needed} coefficients, the pool holds {capacity}")
        lo, hi = element_range(op.result.type)  # type: ignore[arg-type]
        return kernels.clustered_embedding(
            ids,
            clusters,
            block_offsets,
            coefficients,
            bases,
            ranks,
            list(op.muls.get_values()),
            list(op.shifts.get_values()),
            block,
            bits,
            lo,
            hi,
        )

    def _linear(self, op: qtfm.LinearOp, args: list[np.ndarray]) -> np.ndarray:
        acc = kernels.matmul(args[0], args[1])
        if len(args) == 3:
            acc = acc + args[2]
        return _maybe_requant(acc, op.requant)

    def _int_div(self, op: qtfm.IntDivOp, args: list[np.ndarray]) -> np.ndarray:
        v = op.params.as_dict()
        den = v["eta"] * args[1] + v["eps"]
        if den.size and den.min() <= 0:
            raise ReferenceError(
                f"'qtfm.int_div' denominator eta * rhs + eps reaches {den.min()}; it must be positive"
            )
        return kernels.integer_div(args[0], args[1], **v)

    def _slice(self, op: qtfm.SliceOp, args: list[np.ndarray]) -> np.ndarray:
        out_shape = op.result.type.get_shape()
        index = tuple(
            slice(s, s + (n - 1) * st + 1, st)
            for s, st, n in zip(op.starts.get_values(), op.strides.get_values(), out_shape, strict=True)
        )
        return args[0][index]

    def _kv_append(self, op: qtfm.KVAppendOp, args: list[np.ndarray]) -> np.ndarray:
        cache, pos, update = args
        axis = op.axis.value.data
        p, t = int(pos), update.shape[axis]
        if p < 0 or p + t > cache.shape[axis]:
            raise ReferenceError(
                f"'qtfm.kv_append' writes rows [{p}, {p + t}) of a cache with "
                f"{cache.shape[axis]} along axis {axis}"
            )
        out = cache.copy()
        index = [slice(None)] * cache.ndim
        index[axis] = slice(p, p + t)
        out[tuple(index)] = update
        return out


def _args(params: qtfm.SoftmaxAttr) -> dict[str, int]:
    v = params.as_dict()
    v["n_levels"] = v.pop("levels")
    return v


def run_module(
    module: ModuleOp,
    inputs: Sequence[np.ndarray],
    weights: Mapping[str, np.ndarray] | None = None,
    function: str | None = None,
) -> list[np.ndarray]:
    """Convenience: one sample through the reference interpreter."""
    return Interpreter(module, weights).run(inputs, function)


def check_input(index: int, typ: Attribute, value: np.ndarray) -> np.ndarray:
    """An input as int64 after checking its shape, integrality and range against its type."""
    assert isinstance(typ, TensorType)
    if tuple(value.shape) != tuple(typ.get_shape()):
        raise ReferenceError(f"input {index} must have shape {tuple(typ.get_shape())}, got {value.shape}")
    if value.dtype.kind not in "iub":
        if not np.all(np.isfinite(value)) or not np.all(value == np.round(value)):
            raise ReferenceError(f"input {index} holds non-integer values ({value.dtype})")
    as_int = value.astype(np.int64)
    lo, hi = element_range(typ)
    if as_int.size and (as_int.min() < lo or as_int.max() > hi):
        raise ReferenceError(
            f"input {index} has values in [{as_int.min()}, {as_int.max()}], outside "
            f"{typ.element_type} [{lo}, {hi}]"
        )
    return as_int
