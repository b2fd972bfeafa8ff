"""`qtfm-to-tile`: from tensors to buffers (bufferization of the qtfm program).

Every tensor becomes a buffer: intermediate results are `tile.alloc`s in one memory level
(`level`, default `L2`: the target's main RAM), weights and inline constants become read-only
`tile.weight`/`tile.constant` buffers, a reshape becomes a `tile.view` of its input (no copy),
and every other qtfm op becomes a `tile.kernel` writing its result buffer. The function takes
its results as extra buffer arguments (destination passing, as C callers expect); a value that
is returned is computed straight into its output argument when it can be, else copied there.
The function gets `mote.num_inputs` so that later stages know which arguments are inputs.

Buffers get no offsets here: `plan-memory` assigns them.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    FunctionType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.errors import MoteError
from dialects import qtfm, tile

NUM_INPUTS_ATTR = "mote.num_inputs"
OUTPUT_NAMES_ATTR = "mote.output_names"


def as_memref(typ: Attribute) -> MemRefType:
    if not isinstance(typ, TensorType):
        raise MoteError(f"qtfm-to-tile: expected a tensor type, got {typ}")
    return MemRefType(typ.element_type, typ.get_shape())


@dataclass(frozen=True)
class QtfmToTile(ModulePass):
    name = "qtfm-to-tile"

    level: str = "L2"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for f in [o for o in op.ops if isinstance(o, func.FuncOp)]:
            if not f.is_declaration and NUM_INPUTS_ATTR not in f.attributes:
                _Bufferizer(f, self.level).run()


class _Bufferizer:
    def __init__(self, f: func.FuncOp, level: str) -> None:
        self.f = f
        self.level = level
        self.buffers: dict[SSAValue, SSAValue] = {}

    def run(self) -> None:
        block = self.f.body.block
        ret = block.last_op
        assert isinstance(ret, func.ReturnOp)
        tensor_args = list(block.args)
        n_in = len(tensor_args)
        for arg in tensor_args:
            new_arg = block.insert_arg(as_memref(arg.type), len(block.args))
            new_arg.name_hint = arg.name_hint
            self.buffers[arg] = new_arg
        outputs: list[SSAValue] = []
        names = self.f.attributes.get(OUTPUT_NAMES_ATTR)
        for i, value in enumerate(ret.arguments):
            out = block.insert_arg(as_memref(value.type), len(block.args))
            out.name_hint = names.data[i].data if isinstance(names, ArrayAttr) else f"out{i}"  # type: ignore[attr-defined]
            outputs.append(out)
        # a returned qtfm result is written straight into its output argument once
        direct: dict[SSAValue, SSAValue] = {}
        for value, out in zip(ret.arguments, outputs, strict=True):
            if value not in direct and _writes_own_buffer(value.owner):
                direct[value] = out
        olds = [o for o in block.ops if o is not ret]
        for old in olds:
            self._convert(old, direct)
        copies: list[Operation] = []
        for value, out in zip(ret.arguments, outputs, strict=True):
            if direct.get(value) is not out:
                copies.append(tile.CopyOp.build(operands=[self.buffers[value], out]))
        Rewriter.insert_op(copies, InsertPoint.before(ret))
        Rewriter.replace_op(ret, func.ReturnOp())
        for old in reversed(olds):
            block.erase_op(old)
        for arg in tensor_args:
            block.erase_arg(arg)
        self.f.function_type = FunctionType.from_lists([a.type for a in block.args], [])
        self.f.attributes[NUM_INPUTS_ATTR] = IntegerAttr(n_in, i64)

    def _convert(self, old: Operation, direct: dict[SSAValue, SSAValue]) -> None:
        new: list[Operation] = []
        if isinstance(old, qtfm.WeightOp):
            new.append(tile.WeightOp(old.sym.data, as_memref(old.result.type)))
            result = new[-1].results[0]
        elif isinstance(old, arith.ConstantOp) and isinstance(old.value, DenseIntOrFPElementsAttr):
            new.append(tile.ConstantOp(old.value, as_memref(old.result.type)))
            result = new[-1].results[0]
        elif isinstance(old, qtfm.ReshapeOp):
            new.append(
                tile.ViewOp.build(
                    operands=[self.buffers[old.input]], result_types=[as_memref(old.result.type)]
                )
            )
            result = new[-1].results[0]
        elif old.name.startswith("qtfm."):
            value = old.results[0]
            if value in direct:
                result = direct[value]
            else:
                alloc = tile.AllocOp(as_memref(value.type), self.level)
                new.append(alloc)
                result = alloc.result
            ins = [self.buffers[v] for v in old.operands]
            new.append(tile.KernelOp(old.name, ins, [result], dict(old.properties)))
        else:
            raise MoteError(f"qtfm-to-tile: cannot bufferize '{old.name}' (not a qtfm op or constant)")
        if old.results:
            self.buffers[old.results[0]] = result
            if result.name_hint is None:
                result.name_hint = old.results[0].name_hint
        Rewriter.insert_op(new, InsertPoint.before(old))


def _writes_own_buffer(op: Operation | Block) -> bool:
    return (
        isinstance(op, Operation)
        and op.name.startswith("qtfm.")
        and not isinstance(op, qtfm.WeightOp | qtfm.ReshapeOp)
    )
