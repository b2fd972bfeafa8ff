"""Elementwise kernels as loops: `add`, `mul` (numpy broadcasting, optional requant),
`requant` and `lut`. Operands that need no broadcasting are walked as flat arrays (one loop);
broadcasting or a per-channel requant walks the output's full index space."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import MemRefType
from xdsl.ir import SSAValue

from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.requant import Requantizer, type_bound
from dialects import qtfm, tile


def shape_of(v: SSAValue) -> tuple[int, ...]:
    assert isinstance(v.type, MemRefType)
    return tuple(v.type.get_shape())


def elem_of(v: SSAValue):  # noqa: ANN201
    assert isinstance(v.type, MemRefType)
    return v.type.element_type


def count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def flat(b: LoopBuilder, buf: SSAValue) -> SSAValue:
    shape = shape_of(buf)
    if len(shape) == 1:
        return buf
    return b.emit(tile.ViewOp.build(operands=[buf], result_types=[MemRefType(elem_of(buf), [count(shape)])]))


def broadcast_index(index: Sequence[SSAValue], shape: Sequence[int], b: LoopBuilder) -> list[SSAValue]:
    offset = len(index) - len(shape)
    return [b.idx(0) if d == 1 else index[offset + i] for i, d in enumerate(shape)]


def _walk(b: LoopBuilder, out: SSAValue, ins: Sequence[SSAValue], need_index: bool, body) -> None:  # noqa: ANN001
    """Calls `body(b, loaded_inputs, out_index_or_None, store)` for every output element."""
    oshape = shape_of(out)
    if not need_index and all(shape_of(v) == oshape for v in ins):
        fo, fins = flat(b, out), [flat(b, v) for v in ins]

        def one(b: LoopBuilder, i: SSAValue, _: list[SSAValue]) -> None:
            body(b, [b.load(v, [i]) for v in fins], None, lambda b, y: b.store(y, fo, [i]))

        b.loop(count(oshape), one)
        return

    def at(b: LoopBuilder, index: list[SSAValue]) -> None:
        vals = [b.load(v, broadcast_index(index, shape_of(v), b)) for v in ins]
        body(b, vals, index, lambda b, y: b.store(y, out, index))

    b.nest(oshape, at)


def _requantizer(b: LoopBuilder, op: tile.KernelOp, bound: int) -> Requantizer | None:
    q = op.attributes.get("requant") or op.attributes.get("params")
    out_elem = elem_of(op.outs[0])
    return Requantizer(b, q, bound, out_elem) if isinstance(q, qtfm.RequantAttr) else None


def lower_binary(b: LoopBuilder, op: tile.KernelOp) -> None:
    lhs, rhs = op.ins
    is_add = op.kind.data == "qtfm.add"
    ba, bb = type_bound(elem_of(lhs)), type_bound(elem_of(rhs))
    rq = _requantizer(b, op, ba + bb if is_add else ba * bb)
    out_elem = elem_of(op.outs[0])

    def body(b: LoopBuilder, vals: list[SSAValue], index, store) -> None:  # noqa: ANN001
        x, y = b.widen(vals[0]), b.widen(vals[1])
        acc = b.add(x, y) if is_add else b.mul(x, y)
        if rq is not None:
            acc = rq.apply(b, acc, None if rq.axis is None else index[rq.axis])
        store(b, b.narrow(acc, out_elem))

    _walk(b, op.outs[0], [lhs, rhs], rq is not None and rq.axis is not None, body)


def lower_requant(b: LoopBuilder, op: tile.KernelOp) -> None:
    (x,) = op.ins
    rq = _requantizer(b, op, type_bound(elem_of(x)))
    assert rq is not None

    def body(b: LoopBuilder, vals: list[SSAValue], index, store) -> None:  # noqa: ANN001
        store(b, rq.apply(b, b.widen(vals[0]), None if rq.axis is None else index[rq.axis]))

    _walk(b, op.outs[0], [x], rq.axis is not None, body)


def lower_lut(b: LoopBuilder, op: tile.KernelOp) -> None:
    x, table = op.ins
    lo = qtfm.int_range(elem_of(x))[0]

    def body(b: LoopBuilder, vals: list[SSAValue], index, store) -> None:  # noqa: ANN001
        i = b.widen(vals[0])
        if lo:
            i = b.add(i, b.const(-lo))
        store(b, b.load(table, [b.to_index(i)]))

    _walk(b, op.outs[0], [x], False, body)
