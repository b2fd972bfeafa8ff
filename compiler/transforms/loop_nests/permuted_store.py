"""Matrix products that store their result straight into the layout transposes give it.

Attention splits a key or value projection into heads by a reshape and one or two transposes
(`[L, H*D] -> [H, L, D]`, and `[H, D, L]` for keys); each transpose is a copy, so a layer
holds a projection and its transposed copy at once (two L x d buffers where one is needed).
When a linear layer's or matmul's output is read by nothing but such a chain of reshape views
and transposes, the product stores each element directly at the place the chain would move it
to: the intermediate buffers and copies disappear. The index arithmetic (a division and a
remainder by constants per dimension) runs once per stored element, not per MAC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.dialects import arith
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Operation, SSAValue

from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import count, elem_of, flat, shape_of
from compiler.transforms.loop_nests.gemm import Place
from dialects import tile

PRODUCTS = ("qtfm.linear", "qtfm.matmul")


@dataclass(frozen=True)
class _Step:
    source_shape: tuple[int, ...]
    perm: tuple[int, ...]
    result_shape: tuple[int, ...]


@dataclass
class PermutedStore:
    """A product's output moved by `steps` (transposes; views change no flat index) into
    `dest`, the buffer the last transpose writes."""

    dest: SSAValue
    steps: list[_Step] = field(default_factory=list)
    transposes: list[tile.KernelOp] = field(default_factory=list)

    def place(self, b: LoopBuilder, dest: SSAValue) -> Place:
        """The store placement into `dest` (the destination buffer as the lowering sees it),
        viewed flat once at `b`'s insertion point."""
        flat_dest = flat(b, dest)

        def at(
            b: LoopBuilder, index: Sequence[SSAValue], shape: Sequence[int]
        ) -> tuple[SSAValue, list[SSAValue]]:
            offset = _linear(b, index, shape)
            for step in self.steps:
                offset = _transposed(b, offset, step)
            return flat_dest, [offset]

        return at


def _strides(shape: Sequence[int]) -> list[int]:
    strides, s = [], 1
    for d in reversed(shape):
        strides.append(s)
        s *= d
    return strides[::-1]


def _linear(b: LoopBuilder, index: Sequence[SSAValue], shape: Sequence[int]) -> SSAValue:
    offset: SSAValue | None = None
    for i, stride, d in zip(index, _strides(shape), shape, strict=True):
        if d == 1:
            continue
        term = i if stride == 1 else b.mul(i, b.idx(stride))
        offset = term if offset is None else b.add(offset, term)
    return offset if offset is not None else b.idx(0)


def _transposed(b: LoopBuilder, offset: SSAValue, step: _Step) -> SSAValue:
    """The flat offset in the transpose's result of the element at `offset` in its source."""
    src_strides, dst_strides = _strides(step.source_shape), _strides(step.result_shape)
    total = count(step.source_shape)
    new: SSAValue | None = None
    for d, source_axis in enumerate(step.perm):
        size = step.source_shape[source_axis]
        if size == 1:
            continue
        stride = src_strides[source_axis]
        i = offset if stride == 1 else b.emit(arith.DivUIOp(offset, b.idx(stride)))
        if stride * size < total:
            i = b.emit(arith.RemUIOp(i, b.idx(size)))
        term = i if dst_strides[d] == 1 else b.mul(i, b.idx(dst_strides[d]))
        new = term if new is None else b.add(new, term)
    return new if new is not None else b.idx(0)


def _only_reader(buf: SSAValue, writer: Operation) -> tuple[tile.KernelOp, SSAValue] | None:
    """The transpose that is the only reader of `buf` (directly or through reshape views),
    and the value it reads."""
    readers = [u.operation for u in buf.uses if u.operation is not writer]
    if len(readers) != 1:
        return None
    (reader,) = readers
    if isinstance(reader, tile.ViewOp):
        return _only_reader(reader.result, reader)
    if (
        isinstance(reader, tile.KernelOp)
        and reader.kind.data == "qtfm.transpose"
        and reader.ins[0] is buf
        and buf not in reader.outs
    ):
        return reader, buf
    return None


def permuted_stores(kernels: Sequence[Operation]) -> dict[tile.KernelOp, PermutedStore]:
    """Products whose output only feeds a chain of views and transposes, with where it goes."""
    found: dict[tile.KernelOp, PermutedStore] = {}
    for p in kernels:
        if not isinstance(p, tile.KernelOp) or p.kind.data not in PRODUCTS:
            continue
        buf: SSAValue = p.outs[0]
        if not isinstance(buf.owner, tile.AllocOp):
            continue
        store = PermutedStore(buf)
        writer: Operation = p
        while isinstance(buf.owner, tile.AllocOp) and (hit := _only_reader(buf, writer)) is not None:
            t, source = hit
            perm = tuple(int(x) for x in t.attributes["perm"].get_values())  # type: ignore[attr-defined]
            store.steps.append(_Step(shape_of(source), perm, shape_of(t.outs[0])))
            store.transposes.append(t)
            buf, writer = t.outs[0], t
        if store.transposes and isinstance(buf.type, MemRefType) and elem_of(buf) == elem_of(p.outs[0]):
            store.dest = buf
            found[p] = store
    return found
