"""`tile-layer-rows{rows=16}`: each transformer layer a tile of sequence rows at a time (the
fine-grained schedule of MCUBERT), keeping K and V whole.

Starting from a layer's input X, the pass follows every op whose output rows depend only on
the same rows of X (linear layers, requantization, elementwise arithmetic, row-wise softmax and
norms, head reshapes and transposes, the query side of an attention product, RoPE slices and
concatenations), tracking on which axis each value carries the rows. The keys and values are
the exception: they are the right-hand side of an attention product and need every row, so
their chains (from X) are computed whole first. The region ends where the next layer needs its
input whole (its K/V projections). The region then runs `rows` rows at a time: Q, the L x L
scores, the context, the output projection, the residual, the norms and the 4d-wide FFN exist
only as tiles. Bit-identical (every row is computed by the same integer operations); the last
tile is shorter when `rows` does not divide L.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerAttr, ModuleOp, TensorType, i32, i64
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.errors import MoteError
from compiler.transforms.scheduling.kv_recompute import Chain, recomputable, recompute_product
from compiler.transforms.scheduling.row_tiles import (
    clone_tile,
    concatenate_tiles,
    requant_constant_along,
    row_slice,
    shape,
    tiles,
    with_rows,
)
from dialects import qtfm

UNARY = (qtfm.RequantOp, qtfm.LutOp, qtfm.GeluOp, qtfm.HardswishOp, qtfm.DivOp)
NORMS = (qtfm.LayerNormOp, qtfm.LayerNormTruncOp, qtfm.RMSNormOp)
LOOKUPS = (qtfm.EmbeddingOp, qtfm.ClusteredEmbeddingOp)
"""Embedding lookups: row-wise in their ids, every other operand a table read whole."""


@dataclass
class _Scan:
    axis: dict[SSAValue, int]
    ops: list[Operation]
    tiled: dict[SSAValue, int]  # outside values read row-wise (sliced per tile)
    conflicts: list[SSAValue]  # region values that an op needs whole


def _outside_rows(v: SSAValue, out_rank: int, ax: int, length: int, scan: _Scan) -> bool:
    """An outside operand of an elementwise op: broadcast along the rows, or sliced with them."""
    s = shape(v)
    pos = ax - (out_rank - len(s))
    if pos < 0 or s[pos] == 1:
        return True
    if s[pos] == length:
        scan.tiled[v] = pos
        return True
    return False


def _propagate(op: Operation, scan: _Scan, length: int) -> int | None:
    """The row axis of `op`'s result, or None when the op is not row-wise in its region inputs."""
    axis = scan.axis
    inside = [v for v in op.operands if v in axis]
    if isinstance(op, LOOKUPS):
        # a row of ids gives a row of the table (the result has one axis more, at the end)
        return axis[op.ids] if inside == [op.ids] else None
    if isinstance(op, qtfm.LinearOp):
        ax = axis.get(op.input)
        ok = ax is not None and ax != len(shape(op.input)) - 1 and all(v not in axis for v in op.operands[1:])
        return ax if ok and requant_constant_along(op, ax) else None  # type: ignore[arg-type]
    if isinstance(op, UNARY):
        ax = axis[op.operands[0]]
        return ax if len(inside) == 1 and requant_constant_along(op, ax) else None
    if isinstance(op, NORMS):
        ax = axis.get(op.operands[0])
        return ax if ax is not None and len(inside) == 1 and ax != len(shape(op.operands[0])) - 1 else None
    if isinstance(op, qtfm.SoftmaxOp):
        ax = axis.get(op.input)
        if ax is None or ax == len(shape(op.input)) - 1:
            return None
        if op.mask is not None:
            if op.mask in axis:
                return None
            if not _outside_rows(op.mask, len(shape(op.input)), ax, length, scan):
                return None
        return ax
    if isinstance(op, qtfm.AddOp | qtfm.MulOp):
        rank = len(shape(op.result))
        axes = {rank - len(shape(v)) + axis[v] for v in inside}
        if len(axes) != 1:
            return None
        ax = axes.pop()
        for v in op.operands:
            if v not in axis and not _outside_rows(v, rank, ax, length, scan):
                return None
        return ax if requant_constant_along(op, ax) else None
    if isinstance(op, qtfm.ReshapeOp):
        src, dst = shape(op.input), shape(op.result)
        ax = axis[op.input]
        prefix = 1
        for d in src[:ax]:
            prefix *= d
        run = 1
        for j, d in enumerate(dst):
            if run == prefix and d == src[ax]:
                return j
            run *= d
        return None
    if isinstance(op, qtfm.TransposeOp):
        return list(op.perm.get_values()).index(axis[op.input])
    if isinstance(op, qtfm.SliceOp):
        ax = axis[op.input]
        whole = (
            list(op.starts.get_values())[ax] == 0
            and list(op.strides.get_values())[ax] == 1
            and shape(op.result)[ax] == shape(op.input)[ax]
        )
        return ax if whole else None
    if isinstance(op, qtfm.ConcatOp):
        axes = {axis.get(v) for v in op.inputs}
        ax = axes.pop() if len(axes) == 1 else None
        return ax if ax is not None and ax != op.axis.value.data else None
    if isinstance(op, qtfm.MatmulOp):
        ax = axis.get(op.lhs)
        if op.rhs in axis:
            scan.conflicts.append(op.rhs)  # keys/values: needed whole
            return None
        if ax is None or ax != len(shape(op.lhs)) - 2:
            return None
        return len(shape(op.result)) - 2 if requant_constant_along(op, len(shape(op.result)) - 2) else None
    return None


def _scan(block: Block, seed: SSAValue, seed_axis: int, excluded: set[Operation], limit: int | None) -> _Scan:
    length = shape(seed)[seed_axis]
    scan = _Scan({seed: seed_axis}, [], {}, [])
    started = not isinstance(seed.owner, Operation)
    for i, op in enumerate(block.ops):
        if limit is not None and i >= limit:
            break
        if op is seed.owner:
            started = True
            continue
        if not started or op in excluded or not any(v in scan.axis for v in op.operands):
            continue
        saved = dict(scan.tiled)
        ax = _propagate(op, scan, length)
        if ax is None or not op.results or shape(op.results[0])[ax] != length:
            scan.tiled = saved
            continue
        scan.axis[op.results[0]] = ax
        scan.ops.append(op)
    return scan


PROJECTION = (
    qtfm.LinearOp,
    qtfm.ReshapeOp,
    qtfm.TransposeOp,
    qtfm.RequantOp,
    qtfm.LutOp,
    qtfm.SliceOp,
    qtfm.ConcatOp,
    qtfm.AddOp,
    qtfm.MulOp,
)
"""Ops a key or value chain is made of between a layer input and the attention product
(projection, head split, RoPE); a norm or an attention product ends it."""


def _chain(
    v: SSAValue, members: set[Operation], axis: dict[SSAValue, int]
) -> tuple[set[Operation], set[SSAValue]]:
    """The projection ops that compute `v` from region values, and the region values they
    start from (the layer input, or a value of the previous layer)."""
    ops: set[Operation] = set()
    roots: set[SSAValue] = set()
    pending = [v]
    while pending:
        u = pending.pop()
        owner = u.owner
        if isinstance(owner, PROJECTION) and owner in members:
            if owner not in ops:
                ops.add(owner)
                pending.extend(w for w in owner.operands if w in axis)
        else:
            roots.add(u)
    return ops, roots


def layer_region(
    block: Block, seed: SSAValue, seed_axis: int | None = None
) -> tuple[list[Operation], dict[SSAValue, int], dict[SSAValue, int]] | None:
    """(region ops, row axis of every region value, outside values to slice) from `seed`,
    whose rows are along `seed_axis` (default: the second to last axis)."""
    seed_axis = len(shape(seed)) - 2 if seed_axis is None else seed_axis
    index = {op: i for i, op in enumerate(block.ops)}
    excluded: set[Operation] = set()  # key/value chains, computed whole before the region
    limit: int | None = None  # the region ends before this op (the next layer)
    for _ in range(8):
        scan = _scan(block, seed, seed_axis, excluded, limit)
        members = set(scan.ops)
        chains = [_chain(v, members, scan.axis) for v in scan.conflicts]
        late = [needs - {seed} for _, needs in chains if needs - {seed}]
        if late:
            # a key/value chain needs rows this region computes: end the region before the
            # first op that consumes them
            limit = min(index[u.operation] for v in late[0] for u in v.uses if u.operation in members)
            continue
        whole = set().union(*(ops for ops, _ in chains))
        if not whole:
            return (scan.ops, scan.axis, scan.tiled) if scan.ops else None
        excluded |= whole
    return None


def kv_chains(block: Block, seed: SSAValue, region: Sequence[Operation]) -> dict[SSAValue, Chain] | None:
    """The key/value chains the region's attention products read whole, each computed from
    the layer input alone and read only by those products; None when one is not."""
    products = [op for op in region if isinstance(op, qtfm.MatmulOp) and op.rhs.owner not in region]
    if not products:
        return None
    full = _scan(block, seed, len(shape(seed)) - 2, set(), None)
    members = set(full.ops)
    order = {op: i for i, op in enumerate(block.ops)}
    chains: dict[SSAValue, Chain] = {}
    for product in products:
        if product.rhs in chains:
            continue
        ops, roots = _chain(product.rhs, members, full.axis)
        if roots != {seed} or not ops:
            return None
        readers = ops | set(products)
        if any(u.operation not in readers for op in ops for r in op.results for u in r.uses):
            return None
        ordered = sorted(ops, key=order.__getitem__)
        reads = {v for op in ordered for v in op.operands}
        tiled = {v: ax for v, ax in full.tiled.items() if v in reads}
        chain = Chain(ordered, full.axis, tiled)
        if not recomputable(product, chain):
            return None
        chains[product.rhs] = chain
    return chains


def tile_layer(
    region: Sequence[Operation],
    axis: dict[SSAValue, int],
    tiled: dict[SSAValue, int],
    seed: SSAValue,
    rows: int,
    key_rows: int = 0,
) -> bool:
    """Runs `region` `rows` rows at a time; with `key_rows`, its attention products recompute
    their keys and values from `seed` that many rows at a time (kv_recompute.py) when every
    key/value chain allows it."""
    members = set(region)
    block = seed.owner.parent if isinstance(seed.owner, Operation) else seed.owner  # type: ignore[union-attr]
    chains = kv_chains(block, seed, region) if key_rows > 0 and block is not None else None
    outputs = [r for op in region for r in op.results if any(u.operation not in members for u in r.uses)]
    if not outputs:
        return False
    length = shape(seed)[axis[seed]]
    parts = tiles(length, rows)
    if len(parts) < 2:
        return False
    # A layer whose output has its input's type and row axis is written over its input, tile
    # by tile, as a chain of row updates (`qtfm.kv_append` of each tile's rows): the rows of the
    # input a tile replaces are read only by that tile (keys and values were computed from the
    # whole input before), so bufferization can update the input's buffer in place.
    (out,) = outputs if len(outputs) == 1 else (None,)
    in_place = out is not None and out.type == seed.type and axis[out] == axis[seed] and chains is None
    # Recomputing keys and values reads the whole input in every tile, so the output cannot
    # overwrite it; it overwrites a dead value of its type instead when there is one (the
    # previous layer's input: layers then alternate between two buffers).
    donor = _dead_before(region, out, seed) if chains is not None and out is not None else None
    updating = in_place or donor is not None
    current = seed if donor is None else donor
    sliced = dict(tiled)
    point = InsertPoint.after(region[-1])
    pieces: dict[SSAValue, list[SSAValue]] = {o: [] for o in outputs}
    for start, size in parts:
        mapping: dict[SSAValue, SSAValue] = {}
        new_ops: list[Operation] = []
        for value, ax in [(seed, axis[seed]), *sliced.items()]:
            s = row_slice(current if value is seed and in_place else value, ax, start, size)
            new_ops.append(s)
            mapping[value] = s.results[0]
        if chains is None:
            new_ops += clone_tile(region, mapping, axis.__getitem__, start, size)
        else:
            new_ops += _clone_recomputing(region, mapping, axis, start, size, chains, seed, key_rows)
        if updating:
            assert out is not None
            pos = arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(TensorType(i32, []), [start]))
            update = qtfm.KVAppendOp.build(
                operands=[current, pos.result, mapping[out]],
                result_types=[out.type],
                properties={"axis": IntegerAttr(axis[out], i64)},
            )
            new_ops += [pos, update]
            current = update.results[0]
        Rewriter.insert_op(new_ops, point)
        point = InsertPoint.after(new_ops[-1])
        for o in outputs:
            pieces[o].append(mapping[o])
    if updating:
        assert out is not None
        out.replace_all_uses_with(current)
        current.name_hint = out.name_hint
        outputs = []
    for o in outputs:
        point = concatenate_tiles(o, pieces[o], axis[o], point)
    for op in reversed(region):
        Rewriter.erase_op(op)
    if chains is not None:
        dead = sorted({op for c in chains.values() for op in c.ops}, key=list(block.ops).index)  # type: ignore[union-attr]
        for op in reversed(dead):
            Rewriter.erase_op(op)
    return True


def _dead_before(region: Sequence[Operation], out: SSAValue, seed: SSAValue) -> SSAValue | None:
    """A value of `out`'s type, computed in the program (not an argument or a constant), that
    nothing reads from the region on: the latest such one, or None."""
    block = region[0].parent
    if block is None:
        return None
    index = {op: i for i, op in enumerate(block.ops)}
    first = index[region[0]]
    for op in reversed(list(block.ops)[:first]):
        if isinstance(op, qtfm.WeightOp | arith.ConstantOp):
            continue
        for r in op.results:
            if r.type == out.type and r is not seed and all(index[u.operation] < first for u in r.uses):
                return r
    return None


def _clone_recomputing(
    region: Sequence[Operation],
    mapping: dict[SSAValue, SSAValue],
    axis: dict[SSAValue, int],
    start: int,
    size: int,
    chains: dict[SSAValue, Chain],
    seed: SSAValue,
    key_rows: int,
) -> list[Operation]:
    """One query tile's ops: the region's clones, with the attention products on keys and
    values recomputed per key tile."""
    out: list[Operation] = []
    for op in region:
        if isinstance(op, qtfm.MatmulOp) and op.rhs in chains:
            typ = with_rows(op.result.type, axis[op.result], size)  # type: ignore[arg-type]
            value = recompute_product(op, mapping[op.lhs], typ, chains[op.rhs], seed, key_rows, out.extend)
            value.name_hint = f"{op.result.name_hint}_r{start}" if op.result.name_hint else None
            mapping[op.result] = value
        else:
            out += clone_tile([op], mapping, axis.__getitem__, start, size)
    return out


def _seeds(block: Block) -> list[SSAValue]:
    """Layer inputs: values read by a linear whose result (through reshapes and transposes)
    is the right-hand side of an attention product (a key or value projection)."""
    seeds: list[SSAValue] = []
    for op in block.ops:
        if isinstance(op, qtfm.MatmulOp):
            v = op.rhs
            while isinstance(v.owner, qtfm.ReshapeOp | qtfm.TransposeOp | qtfm.RequantOp):
                v = v.owner.operands[0]
            if (
                isinstance(v.owner, qtfm.LinearOp)
                and v.owner.input not in seeds
                and len(shape(v.owner.input)) >= 2
            ):
                seeds.append(v.owner.input)
    return seeds


@dataclass(frozen=True)
class TileLayerRows(ModulePass):
    name = "tile-layer-rows"

    rows: int = 16
    recompute_kv: int = 0
    """Key rows per recomputed tile of K and V (0: K and V are computed whole, once)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.rows < 1 or self.recompute_kv < 0:
            raise MoteError(
                "tile-layer-rows: rows must be >= 1 and recompute_kv >= 0, "
                f"got {self.rows} and {self.recompute_kv}"
            )
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            block = f.body.block
            done: set[SSAValue] = set()
            # tiling a layer replaces its output (the next layer's input): find seeds again
            while todo := [s for s in _seeds(block) if s not in done]:
                seed = todo[0]
                done.add(seed)
                found = layer_region(block, seed)
                if found is not None:
                    region, axis, tiled = found
                    tile_layer(region, axis, tiled, seed, self.rows, self.recompute_kv)
                    # the rows of this input that the tiles (and recomputed keys) read are
                    # not layer inputs of their own
                    done |= {
                        u.operation.results[0] for u in seed.uses if isinstance(u.operation, qtfm.SliceOp)
                    }
