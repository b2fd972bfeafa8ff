"""Kernels that only move elements: transpose, slice, concat, kv_append, embedding and
`tile.copy`. Each is a loop nest over the destination with the source index computed from it."""

from __future__ import annotations

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr
from xdsl.ir import Block, SSAValue
from xdsl.rewriter import InsertPoint

from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import count, flat, shape_of
from dialects import tile


def copy(b: LoopBuilder, src: SSAValue, dst: SSAValue) -> None:
    """Element-by-element copy between two buffers of the same shape (flat)."""
    fs, fd = flat(b, src), flat(b, dst)
    b.loop(count(shape_of(dst)), lambda b, i, _: b.store(b.load(fs, [i]), fd, [i]))


def lower_transpose(b: LoopBuilder, op: tile.KernelOp) -> None:
    (x,) = op.ins
    out = op.outs[0]
    perm_attr = op.attributes["perm"]
    assert isinstance(perm_attr, DenseArrayBase)
    perm = list(perm_attr.get_values())

    def at(b: LoopBuilder, index: list[SSAValue]) -> None:
        src: list[SSAValue] = list(index)
        for out_dim, in_dim in enumerate(perm):
            src[in_dim] = index[out_dim]
        b.store(b.load(x, src), out, index)

    b.nest(shape_of(out), at)


def lower_slice(b: LoopBuilder, op: tile.KernelOp) -> None:
    (x,) = op.ins
    out = op.outs[0]
    starts = list(op.attributes["starts"].get_values())  # type: ignore[union-attr]
    strides = list(op.attributes["strides"].get_values())  # type: ignore[union-attr]

    def at(b: LoopBuilder, index: list[SSAValue]) -> None:
        src = []
        for i, s, st in zip(index, starts, strides, strict=True):
            v = b.mul(i, b.idx(st)) if st != 1 else i
            src.append(b.iadd(v, s))
        b.store(b.load(x, src), out, index)

    b.nest(shape_of(out), at)


def lower_concat(b: LoopBuilder, op: tile.KernelOp) -> None:
    out = op.outs[0]
    axis_attr = op.attributes["axis"]
    assert isinstance(axis_attr, IntegerAttr)
    axis = axis_attr.value.data
    start = 0
    for x in op.ins:

        def at(b: LoopBuilder, index: list[SSAValue], x: SSAValue = x, start: int = start) -> None:
            dst = list(index)
            dst[axis] = b.iadd(index[axis], start)
            b.store(b.load(x, index), out, dst)

        b.nest(shape_of(x), at)
        start += shape_of(x)[axis]


def lower_kv_append(b: LoopBuilder, op: tile.KernelOp) -> None:
    cache, pos, update = op.ins
    out = op.outs[0]
    axis = op.attributes["axis"].value.data  # type: ignore[union-attr]
    if cache is not out:
        copy(b, cache, out)
    p = b.to_index(b.widen(b.load(pos, [])))

    def at(b: LoopBuilder, index: list[SSAValue]) -> None:
        dst = list(index)
        dst[axis] = b.add(index[axis], p)
        b.store(b.load(update, index), out, dst)

    b.nest(shape_of(update), at)


def lower_embedding(b: LoopBuilder, op: tile.KernelOp) -> None:
    """Rows of the table by id. An id outside [0, V) writes a zero row instead of reading
    outside the table (the reference interpreter rejects such ids)."""
    table, ids = op.ins
    out = op.outs[0]
    vocab, dim = shape_of(table)
    n_ids = count(shape_of(ids))
    fids = flat(b, ids)
    out2 = b.emit(
        tile.ViewOp.build(operands=[out], result_types=[type(out.type)(out.type.element_type, [n_ids, dim])])  # type: ignore[attr-defined]
    )

    def row(b: LoopBuilder, t: SSAValue, _: list[SSAValue]) -> None:
        ident = b.to_index(b.widen(b.load(fids, [t])))
        ok_lo = b.emit(arith.CmpiOp(ident, b.idx(0), "sge"))
        ok_hi = b.emit(arith.CmpiOp(ident, b.idx(vocab), "slt"))
        ok = b.emit(arith.AndIOp(ok_lo, ok_hi))
        then = Block()
        tb = LoopBuilder(InsertPoint.at_end(then), b.constants, b.top)
        tb.loop(dim, lambda bb, d, _: bb.store(bb.load(table, [ident, d]), out2, [t, d]))
        then.add_op(scf.YieldOp())
        other = Block()
        eb = LoopBuilder(InsertPoint.at_end(other), b.constants, b.top)
        zero = eb.const(0, out.type.element_type)  # type: ignore[attr-defined]
        eb.loop(dim, lambda bb, d, _: bb.store(zero, out2, [t, d]))
        other.add_op(scf.YieldOp())
        b.emit(scf.IfOp(ok, [], [then], [other]))

    b.loop(n_ids, row)
