"""Row tiling of a region of a qtfm program: the same ops, run on T rows of the sequence at a
time, so that the region's intermediate tensors exist T rows at a time instead of L.

A region is a set of ops in which every value carries the sequence along the same `axis` and
each output row depends only on the same input row (linear layers, elementwise ops, row-wise
softmax and norms, the query side of an attention product). Tiling it clones the region once
per tile on `qtfm.slice`s of its row-carrying inputs and concatenates the tiles of its output;
since each row is computed by exactly the same integer operations, the result is identical
bit for bit, also when T does not divide L (the last tile is shorter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr, TensorType, i64
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from dialects import qtfm


def shape(v: SSAValue) -> tuple[int, ...]:
    assert isinstance(v.type, TensorType)
    return tuple(v.type.get_shape())


def tiles(length: int, rows: int) -> list[tuple[int, int]]:
    """(start, size) of each tile of `rows` rows covering `length` (the last may be shorter)."""
    return [(s, min(rows, length - s)) for s in range(0, length, rows)]


def requant_constant_along(op: Operation, axis: int) -> bool:
    """False when the op's (fused or own) requantization has per-channel parameters that vary
    along `axis`: such an op is not the same computation on every row tile."""
    q = op.properties.get("requant") or op.properties.get("params")
    return not (isinstance(q, qtfm.RequantAttr) and q.channel_axis == axis)


def is_constant(v: SSAValue) -> bool:
    return isinstance(v.owner, qtfm.WeightOp | arith.ConstantOp)


def row_slice(v: SSAValue, axis: int, start: int, size: int) -> qtfm.SliceOp:
    full = shape(v)
    out = list(full)
    out[axis] = size
    starts = [start if i == axis else 0 for i in range(len(full))]
    assert isinstance(v.type, TensorType)
    return qtfm.SliceOp.build(
        operands=[v],
        result_types=[TensorType(v.type.element_type, out)],
        properties={"starts": qtfm.i64_array(starts), "strides": qtfm.i64_array([1] * len(full))},
    )


def with_rows(typ: TensorType, axis: int, size: int) -> TensorType:
    dims = list(typ.get_shape())
    dims[axis] = size
    return TensorType(typ.element_type, dims)


def row_axis(v: SSAValue, from_end: int = 2) -> int:
    """Inside a region every value is [..., L, N]: the rows are the second-to-last axis (the
    heads of [..., H, L, N], `from_end` = 3, when a region is split by heads)."""
    return len(shape(v)) - from_end


def clone_tile(
    region: Sequence[Operation],
    mapping: dict[SSAValue, SSAValue],
    axis_of: Callable[[SSAValue], int],
    start: int,
    size: int,
) -> list[Operation]:
    """Clones of the region's ops for the tile of `size` rows at `start`: operands through
    `mapping` (which receives the clones' results), results with `size` rows on their row
    axis, names suffixed with the tile's first row."""
    clones: list[Operation] = []
    for op in region:
        clone = type(op).create(
            operands=[mapping.get(v, v) for v in op.operands],
            result_types=[with_rows(r.type, axis_of(r), size) for r in op.results],  # type: ignore[arg-type]
            properties=dict(op.properties),
            attributes=dict(op.attributes),
        )
        for old, new in zip(op.results, clone.results, strict=True):
            mapping[old] = new
            if old.name_hint:
                new.name_hint = f"{old.name_hint}_r{start}"
        clones.append(clone)
    return clones


def concatenate_tiles(output: SSAValue, pieces: list[SSAValue], axis: int, point: InsertPoint) -> InsertPoint:
    """Replaces `output` by the concatenation of its tiles along `axis`, inserted at `point`;
    returns the point after it."""
    cat = qtfm.ConcatOp.build(
        operands=[pieces], result_types=[output.type], properties={"axis": IntegerAttr(axis, i64)}
    )
    Rewriter.insert_op(cat, point)
    output.replace_all_uses_with(cat.results[0])
    cat.results[0].name_hint = output.name_hint
    return InsertPoint.after(cat)


def tile_region(
    region: Sequence[Operation],
    tiled_inputs: Sequence[SSAValue],
    output: SSAValue,
    rows: int,
    from_end: int = 2,
) -> bool:
    """Rewrites `region` (ops in program order; `output` is its only value used outside) to run
    tile by tile on slices of `tiled_inputs` (outside values read row-wise, rows at rank - 2;
    one whose row dimension is 1 broadcasts and is used whole). Every other outside operand is
    used whole by every tile. Returns False (and changes nothing) when there is a single tile."""
    axis = row_axis(output, from_end)
    length = shape(output)[axis]
    parts = tiles(length, rows)
    if len(parts) < 2:
        return False
    point = InsertPoint.after(region[-1])
    pieces: list[SSAValue] = []
    for start, size in parts:
        mapping: dict[SSAValue, SSAValue] = {}
        new_ops: list[Operation] = []
        for value in tiled_inputs:
            if len(shape(value)) >= from_end and shape(value)[row_axis(value, from_end)] == length:
                s = row_slice(value, row_axis(value, from_end), start, size)
                new_ops.append(s)
                mapping[value] = s.results[0]
        new_ops += clone_tile(region, mapping, lambda r: row_axis(r, from_end), start, size)
        Rewriter.insert_op(new_ops, point)
        point = InsertPoint.after(new_ops[-1])
        pieces.append(mapping[output])
    concatenate_tiles(output, pieces, axis, point)
    for op in reversed(region):
        Rewriter.erase_op(op)
    return True
