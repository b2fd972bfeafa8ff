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

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    FunctionType,
    IndexType,
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
        olds = [o for o in block.ops if o is not ret]
        self.pieces = _in_place_concats(olds)
        self.appends = _in_place_appends(olds, ret)
        updated_in_place = {op.result for op in self.appends.values()}
        direct: dict[SSAValue, SSAValue] = {}
        for value, out in zip(ret.arguments, outputs, strict=True):
            if value in updated_in_place:
                # the last of a chain of in-place row updates: the whole chain lives in the
                # output, from the op that computes its first version on
                value = _chain_root(value, updated_in_place)
            if (
                value not in direct
                and value not in updated_in_place
                and value not in self.pieces
                and _writes_own_buffer(value.owner)
            ):
                direct[value] = out
        self.concat_buffers: dict[qtfm.ConcatOp, SSAValue] = {}
        self.direct = direct
        self.index = {o: i for i, o in enumerate(olds)}
        for old in olds:
            self._convert(old, direct)
        copies: list[Operation] = []
        for value, out in zip(ret.arguments, outputs, strict=True):
            if self.buffers[value] is not out:
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
        elif isinstance(old, qtfm.EmptyOp):
            alloc = tile.AllocOp(as_memref(old.result.type), self.level)  # written before it is read
            new.append(alloc)
            result = alloc.result
        elif isinstance(old, qtfm.ReshapeOp):
            new.append(
                tile.ViewOp.build(
                    operands=[self.buffers[old.input]], result_types=[as_memref(old.result.type)]
                )
            )
            result = new[-1].results[0]
        elif (
            isinstance(old, qtfm.SliceOp)
            and old.result not in direct
            and (offset := _contiguous_slice(old)) is not None
        ):
            # rows of a buffer: a view of them, not a copy
            result = _part(self.buffers[old.input], offset, as_memref(old.result.type), new)
        elif isinstance(old, qtfm.KVAppendOp) and old in self.appends.values():
            # the cache's last use: its buffer is updated in place; the update was computed
            # straight into its rows when its producer was converted
            result = self.buffers[old.cache]
            if old.update not in self.appends:
                ins = [self.buffers[v] for v in old.operands]
                new.append(tile.KernelOp(old.name, ins, [result], dict(old.properties)))
        elif isinstance(old, qtfm.ConcatOp) and old in self.concat_buffers:
            result = self.concat_buffers[old]  # every piece was computed in place
        elif old.name.startswith("qtfm."):
            value = old.results[0]
            if value in self.pieces:
                concat, offset = self.pieces[value]
                result = self._piece(concat, offset, value, new)
            elif value in self.appends:
                result = self._rows_of(
                    self.buffers[self.appends[value].cache], self.appends[value], value, new
                )
            elif value in direct:
                result = direct[value]
            elif (own := self._overwritable_input(old)) is not None:
                result = own
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

    def _overwritable_input(self, op: Operation) -> SSAValue | None:
        """The buffer of `op`'s input when `op` may write its result over it: an op that
        reads each row whole before writing it (IN_PLACE_ROW_OPS), a result of the input's
        type, an arena buffer of its own that nothing reads after `op`."""
        if not isinstance(op, IN_PLACE_ROW_OPS) or op.operands[0].type != op.results[0].type:
            return None
        value = op.operands[0]
        buf = self.buffers.get(value)
        if buf is None or not isinstance(buf.owner, tile.AllocOp):
            return None
        last = len(self.index)
        if any(self.index.get(r, last) > self.index[op] for r in _alias_readers(value)):
            return None
        return buf

    def _rows_of(self, buf: SSAValue, op: qtfm.KVAppendOp, value: SSAValue, new: list[Operation]) -> SSAValue:
        """The rows of `buf` that the in-place update `op` writes, viewed as `value`'s type."""
        offset = _append_offset(op)
        assert offset is not None
        return _part(buf, offset, as_memref(value.type), new)

    def _piece(self, concat: qtfm.ConcatOp, offset: int, value: SSAValue, new: list[Operation]) -> SSAValue:
        """The part of the concatenation's buffer that `value` is computed into."""
        if concat not in self.concat_buffers:
            if concat.result in self.pieces:  # itself a piece of an enclosing concatenation
                outer, at_outer = self.pieces[concat.result]
                self.concat_buffers[concat] = self._piece(outer, at_outer, concat.result, new)
            elif concat.result in self.direct:
                self.concat_buffers[concat] = self.direct[concat.result]
            else:
                alloc = tile.AllocOp(as_memref(concat.result.type), self.level)
                alloc.result.name_hint = concat.result.name_hint
                new.append(alloc)
                self.concat_buffers[concat] = alloc.result
        buf = self.concat_buffers[concat]
        return _part(buf, offset, as_memref(value.type), new)


def _contiguous_slice(op: qtfm.SliceOp) -> int | None:
    """The element offset of a slice that selects one contiguous run of its input (unit
    strides; full extent after the first sliced dimension, extent 1 before it), else None."""
    full = op.input.type.get_shape()  # type: ignore[attr-defined]
    part = op.result.type.get_shape()  # type: ignore[attr-defined]
    starts, strides = list(op.starts.get_values()), list(op.strides.get_values())
    if any(st != 1 for st in strides):
        return None
    cut = next((i for i, (a, b) in enumerate(zip(full, part, strict=True)) if a != b), len(full))
    if any(part[i] != 1 for i in range(cut)) or any(
        part[i] != full[i] or starts[i] != 0 for i in range(cut + 1, len(full))
    ):
        return None
    offset, stride = 0, 1
    for i in range(len(full) - 1, -1, -1):
        offset += starts[i] * stride
        stride *= full[i]
    return offset


def _append_offset(op: qtfm.KVAppendOp) -> int | None:
    """Element offset of a row update at a constant position into a contiguous row range."""
    pos = op.pos.owner
    if not isinstance(pos, arith.ConstantOp) or not isinstance(pos.value, DenseIntOrFPElementsAttr):
        return None
    cache = op.cache.type.get_shape()  # type: ignore[attr-defined]
    axis = op.axis.value.data
    if any(d != 1 for d in cache[:axis]):
        return None
    row = 1
    for d in cache[axis + 1 :]:
        row *= d
    return int(pos.value.get_values()[0]) * row


def _in_place_appends(ops: list[Operation], ret: Operation) -> dict[SSAValue, qtfm.KVAppendOp]:
    """Row updates (`kv_append`) that may write into their cache's buffer: the cache is an
    arena buffer (computed by an op, or by such an update) whose last use is the update.
    When, in addition, the position is a constant and the rows are contiguous, the update can
    be computed straight into its rows; otherwise the kernel copies it in. Maps each one's
    update value (or the op itself when the kernel copies the update) to the op."""
    index = {op: i for i, op in enumerate(ops)}
    index[ret] = len(ops)
    found: dict[SSAValue, qtfm.KVAppendOp] = {}
    in_place: set[qtfm.KVAppendOp] = set()
    for op in ops:
        if not isinstance(op, qtfm.KVAppendOp):
            continue
        owner = op.cache.owner
        arena = isinstance(owner, qtfm.KVAppendOp) and owner in in_place
        arena |= (
            isinstance(owner, Operation)
            and _writes_own_buffer(owner)
            and not isinstance(owner, qtfm.KVAppendOp)
        )
        readers = [r for r in _alias_readers(op.cache) if r is not op]
        if not arena or any(index.get(r, len(ops)) > index[op] for r in readers):
            continue  # something still reads the old rows after the update
        in_place.add(op)
        update = op.update
        producer = update.owner
        computed_in_place = (
            _append_offset(op) is not None  # the update's rows are one contiguous run
            and update.has_one_use()
            and isinstance(producer, Operation)
            and _writes_own_buffer(producer)
            and producer not in in_place
            and all(index.get(r, len(ops)) < index[producer] for r in readers if r is not producer)
            and (producer not in readers or isinstance(producer, ELEMENTWISE_IN_PLACE))
        )
        if computed_in_place:
            found[update] = op
        else:
            found[op.result] = op  # in place, update copied by the kernel
    return found


def _chain_root(value: SSAValue, updated_in_place: set[SSAValue]) -> SSAValue:
    """The first version of a buffer that a chain of in-place row updates ends in `value`."""
    while value in updated_in_place:
        assert isinstance(value.owner, qtfm.KVAppendOp)
        value = value.owner.cache
    return value


ELEMENTWISE_IN_PLACE = (qtfm.RequantOp, qtfm.LutOp, qtfm.AddOp, qtfm.MulOp)
"""Ops that may write their result over the rows they read (element i read before written)."""


IN_PLACE_ROW_OPS = (qtfm.SoftmaxOp,)
"""Ops whose runtime kernel reads a row whole (maximum, sums) before writing any of it, and
then writes element j from element j only: the result may overwrite the input."""


def _alias_readers(value: SSAValue) -> list[Operation]:
    """Ops that read `value`'s memory: its users and, through slices and reshapes (views once
    bufferized), their users."""
    readers: list[Operation] = []
    pending = [value]
    while pending:
        for use in pending.pop().uses:
            user = use.operation
            readers.append(user)
            if isinstance(user, qtfm.SliceOp | qtfm.ReshapeOp):
                pending.append(user.results[0])
    return readers


def _count(typ: MemRefType) -> int:
    return math.prod(typ.get_shape())


def _part(buf: SSAValue, offset: int, typ: MemRefType, new: list[Operation]) -> SSAValue:
    """The contiguous part of `buf` that starts `offset` elements in, seen as `typ`
    (a `tile.window` viewed with `tile.view`); the ops are appended to `new`."""
    at = arith.ConstantOp(IntegerAttr(offset, IndexType()))
    window = tile.WindowOp.build(
        operands=[buf, at.result], result_types=[MemRefType(typ.element_type, [_count(typ)])]
    )
    view = tile.ViewOp.build(operands=[window.results[0]], result_types=[typ])
    new += [at, window, view]
    return view.results[0]


def _in_place_concats(ops: list[Operation]) -> dict[SSAValue, tuple[qtfm.ConcatOp, int]]:
    """Concatenations whose pieces are contiguous in the result (every dimension before the
    axis is 1) and computed by ops that write their own buffer for the concatenation alone:
    each piece is computed straight into its place (element offset) in the result's buffer."""
    pieces: dict[SSAValue, tuple[qtfm.ConcatOp, int]] = {}
    for op in ops:
        if not isinstance(op, qtfm.ConcatOp):
            continue
        shape = op.result.type.get_shape()  # type: ignore[attr-defined]
        axis = op.axis.value.data
        values = list(op.inputs)
        if any(d != 1 for d in shape[:axis]) or len(set(values)) != len(values):
            continue
        if not all(v.has_one_use() and _writes_own_buffer(v.owner) and v not in pieces for v in values):
            continue
        offset = 0
        for v in values:
            pieces[v] = (op, offset)
            offset += _count(as_memref(v.type))
    return pieces


def _writes_own_buffer(op: Operation | Block) -> bool:
    return (
        isinstance(op, Operation)
        and op.name.startswith("qtfm.")
        and not isinstance(op, qtfm.WeightOp | qtfm.ReshapeOp)
    )
