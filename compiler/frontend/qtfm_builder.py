"""Building a qtfm module from a frontend: one function, its ops, and the weights beside it.

Frontends name values after the ONNX tensors they come from, add weights by name (they end
up in the side file, never inline), and pick integer element types from value ranges with
`int_type_for`. The result is a `builtin.module` with `func.func @main` and a weights dict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from compiler.reference.weights import WEIGHTS_ATTR, numpy_dtype
from dialects import qtfm

INPUT_NAMES_ATTR = "mote.input_names"
OUTPUT_NAMES_ATTR = "mote.output_names"

_SIGNED = {8: IntegerType(8), 16: IntegerType(16), 32: IntegerType(32), 64: IntegerType(64)}
_UNSIGNED = {w: IntegerType(w, Signedness.UNSIGNED) for w in (8, 16, 32)}


def int_type_for(lo: int, hi: int, allow_unsigned: bool = True) -> IntegerType:
    """The narrowest standard integer type holding [lo, hi]; signed unless only unsigned fits."""
    for width in (8, 16, 32, 64):
        if -(1 << (width - 1)) <= lo and hi < (1 << (width - 1)):
            return _SIGNED[width]
        if allow_unsigned and width < 64 and lo >= 0 and hi < (1 << width):
            return _UNSIGNED[width]
    raise ValueError(f"no integer type holds [{lo}, {hi}]")


def levels_type(levels: int, signed: bool) -> IntegerType:
    """The element type of a value clamped to `levels` levels."""
    return int_type_for(-(levels // 2), levels // 2 - 1) if signed else int_type_for(0, levels - 1)


def tensor(shape: Sequence[int], elem: Attribute) -> TensorType:
    return TensorType(elem, list(shape))


_NAME_BAD = re.compile(r"[^A-Za-z0-9_.$-]")


def value_name(onnx_name: str) -> str:
    """An SSA name hint from an ONNX tensor name (`onnx::MatMul_96` -> `onnx__MatMul_96`)."""
    name = _NAME_BAD.sub("_", onnx_name)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "v" + name
    return name


class QtfmBuilder:
    """Accumulates the ops of `@main` and the weights they reference."""

    def __init__(self, input_names: Sequence[str], input_types: Sequence[TensorType]) -> None:
        self.block = Block(arg_types=list(input_types))
        self.input_names = list(input_names)
        for arg, name in zip(self.block.args, input_names, strict=True):
            arg.name_hint = value_name(name)
        self.weights: dict[str, np.ndarray] = {}
        self._weight_values: dict[str, SSAValue] = {}

    def add(self, op: Operation, name: str | None = None) -> SSAValue:
        self.block.add_op(op)
        result = op.results[0]
        if name is not None:
            result.name_hint = value_name(name)
        return result

    def weight(self, name: str, value: np.ndarray, elem: IntegerType | None = None) -> SSAValue:
        """A `qtfm.weight` for an integer array (typed by its range unless `elem` is given)."""
        key = name.replace("/", ".")
        if key in self._weight_values:
            return self._weight_values[key]
        arr = np.asarray(value, dtype=np.int64)
        if elem is None:
            elem = int_type_for(int(arr.min()), int(arr.max())) if arr.size else _SIGNED[8]
        self.weights[key] = arr.astype(numpy_dtype(elem))
        result = self.add(qtfm.WeightOp(key, tensor(arr.shape, elem)), name)
        self._weight_values[key] = result
        return result

    def finish(self, outputs: Sequence[SSAValue], output_names: Sequence[str], weights_file: str) -> ModuleOp:
        self.block.add_op(func.ReturnOp(*outputs))
        f = func.FuncOp(
            "main",
            ([a.type for a in self.block.args], [v.type for v in outputs]),
            Region(self.block),
        )
        f.attributes[INPUT_NAMES_ATTR] = ArrayAttr(StringAttr(n) for n in self.input_names)
        f.attributes[OUTPUT_NAMES_ATTR] = ArrayAttr(StringAttr(n) for n in output_names)
        module = ModuleOp([f])
        module.attributes[WEIGHTS_ATTR] = StringAttr(weights_file)
        return module
