"""Recomputing keys and values per key tile: attention without K and V held whole.

MCUBERT's row-tiled layer keeps K and V whole (projected once per layer, L x d each): with the
layer output written over its input that is the peak of a long sequence. Trading compute for
memory, every query tile can instead recompute K and V from the layer input, `key_rows` rows at
a time: the scores of a query tile are assembled over key tiles j from `Q_t . K_j^T`, each
piece written into its columns of one buffer as soon as it is computed (`qtfm.empty` updated
by `qtfm.kv_append`; requantization is element-wise, so each piece is requantized as the whole
would be), and its context is the exact int32 sum over key tiles of `P_t[:, j] . V_j`,
requantized once. Only a key tile of K and V exists at a time; the layer input must then stay
whole until the last query tile, so the layer's output needs a buffer of its own.
Bit-identical; K and V projections cost (L / query rows) times more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerAttr, IntegerType, TensorType, i64
from xdsl.ir import Operation, SSAValue

from compiler.transforms.scheduling.row_tiles import (
    clone_tile,
    requant_constant_along,
    row_slice,
    shape,
    tiles,
)
from dialects import qtfm


@dataclass
class Chain:
    """The ops (program order) computing a key or value operand from the layer input, the row
    axis of each of their values, and outside values they read row-wise (e.g. RoPE tables)."""

    ops: list[Operation]
    axis: dict[SSAValue, int]
    tiled: dict[SSAValue, int]


def _reads_keys(product: qtfm.MatmulOp, chain: Chain) -> bool:
    """Whether the chain's rows are the product's output columns (keys, K^T), rather than its
    reduction axis (values)."""
    return chain.axis[product.rhs] == len(shape(product.rhs)) - 1


def recomputable(product: qtfm.MatmulOp, chain: Chain) -> bool:
    """Keys, requantized the same way on every piece, or values (rows on the reduction axis)."""
    if _reads_keys(product, chain):
        return requant_constant_along(product, len(shape(product.result)) - 1)
    return chain.axis[product.rhs] == len(shape(product.rhs)) - 2


def key_tile(
    chain: Chain, seed: SSAValue, start: int, size: int
) -> tuple[list[Operation], dict[SSAValue, SSAValue]]:
    """The chain's ops for `size` rows of the layer input from `start`."""
    new_ops: list[Operation] = []
    mapping: dict[SSAValue, SSAValue] = {}
    for value, ax in [(seed, chain.axis[seed]), *chain.tiled.items()]:
        s = row_slice(value, ax, start, size)
        new_ops.append(s)
        mapping[value] = s.results[0]
    new_ops += clone_tile(chain.ops, mapping, chain.axis.__getitem__, start, size)
    return new_ops, mapping


def _with_last(typ: TensorType, size: int, elem: IntegerType | None = None) -> TensorType:
    dims = list(typ.get_shape())
    dims[-1] = size
    return TensorType(elem or typ.element_type, dims)


def recompute_product(
    product: qtfm.MatmulOp,
    lhs: SSAValue,
    result_type: TensorType,
    chain: Chain,
    seed: SSAValue,
    key_rows: int,
    emit: Callable[[list[Operation]], None],
) -> SSAValue:
    """`product` for one query tile (its `lhs` tile, result of `result_type`) with its
    right-hand side recomputed key tile by key tile; returns the tile's result."""
    length = shape(seed)[chain.axis[seed]]
    rank = len(shape(product.rhs))
    keys = _reads_keys(product, chain)
    requant = product.requant
    acc: SSAValue | None = None
    i32 = IntegerType(32)
    scores: SSAValue | None = None
    if keys:  # the pieces are written into one buffer as they are computed
        empty = qtfm.EmptyOp.build(result_types=[result_type])
        emit([empty])
        scores = empty.results[0]
    for start, size in tiles(length, key_rows):
        ops, mapping = key_tile(chain, seed, start, size)
        rhs = mapping[product.rhs]
        if keys:
            props = {"requant": requant} if requant is not None else {}
            piece = qtfm.MatmulOp.build(
                operands=[lhs, rhs], result_types=[_with_last(result_type, size)], properties=props
            )
            at = arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(TensorType(i32, []), [start]))
            put = qtfm.KVAppendOp.build(
                operands=[scores, at.result, piece.results[0]],
                result_types=[result_type],
                properties={"axis": IntegerAttr(rank - 1, i64)},
            )
            ops += [piece, at, put]
            scores = put.results[0]
        else:
            cols = row_slice(lhs, len(shape(lhs)) - 1, start, size)
            part = qtfm.MatmulOp.build(
                operands=[cols.results[0], rhs], result_types=[_with_last(result_type, shape(rhs)[-1], i32)]
            )
            ops += [cols, part]
            if acc is None:
                acc = part.results[0]
            else:
                total = qtfm.AddOp.build(operands=[acc, part.results[0]], result_types=[part.results[0].type])
                ops.append(total)
                acc = total.results[0]
        emit(ops)
    if keys:
        assert scores is not None
        return scores
    assert acc is not None
    if requant is None:
        return acc
    rq = qtfm.RequantOp.build(operands=[acc], result_types=[result_type], properties={"params": requant})
    emit([rq])
    return rq.results[0]
