"""Elementwise kernels as loops: `add`, `mul` (numpy broadcasting, optional requant),
`requant` and `lut`. Operands that need no broadcasting are walked as flat arrays (one loop);
broadcasting or a per-channel requant walks the output's full index space."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


Fused = dict[SSAValue, tile.KernelOp]
"""Input buffers whose producer (a `requant` or `lut` of the same shape, with no other reader)
is computed inside the consumer's loop instead of stored and reloaded."""

FUSIBLE = ("qtfm.requant", "qtfm.lut")


def fusible_producer(buf: SSAValue, consumer: tile.KernelOp) -> tile.KernelOp | None:
    """The kernel that writes `buf`, when the consumer may compute it inline: a requant or
    lut into an arena buffer that nothing else reads, before the consumer in the same block."""
    if not isinstance(buf.owner, tile.AllocOp):
        return None
    users = [u.operation for u in buf.uses]
    writers = [op for op in users if isinstance(op, tile.KernelOp) and buf in op.outs]
    if len(users) != 2 or len(writers) != 1 or consumer not in users:
        return None
    producer = writers[0]
    if producer.kind.data not in FUSIBLE or producer.parent is not consumer.parent:
        return None
    return producer


def _needs_index(fused: Fused) -> bool:
    for p in fused.values():
        q = p.attributes.get("params")
        if isinstance(q, qtfm.RequantAttr) and q.channel_axis is not None:
            return True
    return False


def _read(b: LoopBuilder, v: SSAValue, at: list[SSAValue], flat_mode: bool, fused: Fused) -> SSAValue:
    """The element of `v` at `at` (a flat index when every shape is the output's, else the
    output's full index, broadcast onto `v`), computing a fused producer in place."""
    index = at if flat_mode else broadcast_index(at, shape_of(v), b)
    producer = fused.get(v)
    if producer is None:
        return b.load(flat(b, v), index) if flat_mode else b.load(v, index)
    x = producer.ins[0]
    value = b.widen(_read(b, x, index, flat_mode, fused))
    if producer.kind.data == "qtfm.lut":
        lo = qtfm.int_range(elem_of(x))[0]
        i = b.add(value, b.const(-lo)) if lo else value
        return b.load(producer.ins[1], [b.to_index(i)])
    rq = _requantizer(b, producer, type_bound(elem_of(x)))
    assert rq is not None
    return rq.apply(b, value, None if rq.axis is None else index[rq.axis])


def _walk(
    b: LoopBuilder,
    out: SSAValue,
    ins: Sequence[SSAValue],
    need_index: bool,
    body: Callable[..., None],
    fused: Fused | None = None,
) -> None:  # noqa: ANN001
    """Calls `body(b, loaded_inputs, out_index_or_None, store)` for every output element."""
    fused = fused or {}
    oshape = shape_of(out)
    chain = [v for p in fused.values() for v in p.ins[:1]]
    if not need_index and not _needs_index(fused) and all(shape_of(v) == oshape for v in [*ins, *chain]):
        fo = flat(b, out)

        def one(b: LoopBuilder, i: SSAValue, _: list[SSAValue]) -> None:
            body(b, [_read(b, v, [i], True, fused) for v in ins], None, lambda b, y: b.store(y, fo, [i]))

        b.loop(count(oshape), one)
        return

    def at(b: LoopBuilder, index: list[SSAValue]) -> None:
        vals = [_read(b, v, index, False, fused) for v in ins]
        body(b, vals, index, lambda b, y: b.store(y, out, index))

    b.nest(oshape, at)


def _requantizer(b: LoopBuilder, op: tile.KernelOp, bound: int) -> Requantizer | None:
    q = op.attributes.get("requant") or op.attributes.get("params")
    out_elem = elem_of(op.outs[0])
    return Requantizer(b, q, bound, out_elem) if isinstance(q, qtfm.RequantAttr) else None


def lower_binary(b: LoopBuilder, op: tile.KernelOp, fused: Fused | None = None) -> None:
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

    _walk(b, op.outs[0], [lhs, rhs], rq is not None and rq.axis is not None, body, fused)


def lower_requant(b: LoopBuilder, op: tile.KernelOp, fused: Fused | None = None) -> None:
    (x,) = op.ins
    rq = _requantizer(b, op, type_bound(elem_of(x)))
    assert rq is not None

    def body(b: LoopBuilder, vals: list[SSAValue], index, store) -> None:  # noqa: ANN001
        store(b, rq.apply(b, b.widen(vals[0]), None if rq.axis is None else index[rq.axis]))

    _walk(b, op.outs[0], [x], rq.axis is not None, body, fused)


def lower_lut(b: LoopBuilder, op: tile.KernelOp, fused: Fused | None = None) -> None:
    x, table = op.ins
    lo = qtfm.int_range(elem_of(x))[0]

    def body(b: LoopBuilder, vals: list[SSAValue], index, store) -> None:  # noqa: ANN001
        i = b.widen(vals[0])
        if lo:
            i = b.add(i, b.const(-lo))
        store(b, b.load(table, [b.to_index(i)]))

    _walk(b, op.outs[0], [x], False, body, fused)
