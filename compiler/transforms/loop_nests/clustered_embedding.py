"""`qtfm.clustered_embedding` as loops: MCUBERT's compressed embedding table, looked up on the
device without ever decompressing it.

It gets its own module because, unlike every other lookup, a row is computed: per id the loops
find where the token's coefficients start in the pool (its block's stored offset plus the
ranks of the tokens before it in the block), then compute the row in blocks of COLUMNS
output columns, whose int32 accumulators stay in registers through the reduction over the
token's rank (one coefficient read, or one int4 nibble decoded, per step of the block), and
requantize them with the token's cluster's multiplier and shift (docs/quantization.md,
section "qtfm.clustered_embedding"). The per-cluster parameters (rank, first basis row,
multiplier, rounding term, shift) are small constant tables indexed by the cluster id, or
constants when every cluster has the same value. The loops over a rank have data-dependent
bounds: they carry the trip count the static cost estimate charges (`mote.trip_count`).
An id outside [0, V) writes a zero row (the reference interpreter rejects such ids).
"""

from __future__ import annotations

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, IntegerType, MemRefType, i8, i16, i32, i64
from xdsl.ir import Block, SSAValue
from xdsl.rewriter import InsertPoint

from compiler.transforms.loop_nests.builder import Body, LoopBuilder
from compiler.transforms.loop_nests.elementwise import count, elem_of, flat, shape_of
from compiler.transforms.loop_nests.requant import INT32_MAX, constant_table
from dialects import qtfm, tile

COLUMNS = 4
"""Output columns computed together (accumulators in registers, one coefficient read each step)."""


def _ints(op: tile.KernelOp, name: str) -> list[int]:
    attr = op.attributes[name]
    assert isinstance(attr, DenseArrayBase)
    return [int(v) for v in attr.get_values()]


def _param(op: tile.KernelOp, name: str) -> int:
    attr = op.attributes[name]
    assert isinstance(attr, IntegerAttr)
    return attr.value.data


def _smallest(values: list[int]) -> IntegerType:
    """The narrowest signed type of a table of `values` (loads sign-extend for free)."""
    for typ in (i8, i16, i32):
        lo, hi = qtfm.int_range(typ)
        if all(lo <= v <= hi for v in values):
            return typ
    return i64


class _PerCluster:
    """One parameter per cluster: a constant when all clusters agree, else a table in flash
    read once per id."""

    def __init__(self, b: LoopBuilder, values: list[int], typ: IntegerType) -> None:
        self.values = values
        self.typ = typ
        self.table = constant_table(b, values, _smallest(values)) if len(set(values)) > 1 else None

    @property
    def constant(self) -> int | None:
        return None if self.table is not None else self.values[0]

    def at(self, b: LoopBuilder, cluster: SSAValue | None) -> SSAValue:
        if self.table is None:
            return b.const(self.values[0], self.typ)
        assert cluster is not None
        return b.widen(b.load(self.table, [cluster]), self.typ)  # type: ignore[arg-type]

    def index_at(self, b: LoopBuilder, cluster: SSAValue | None) -> SSAValue:
        if self.table is None:
            return b.idx(self.values[0])
        return b.to_index(self.at(b, cluster))


def lower_clustered_embedding(b: LoopBuilder, op: tile.KernelOp) -> None:
    ids, clusters, block_offsets, pool, bases = op.ins
    out = op.outs[0]
    ranks, muls, shifts = _ints(op, "ranks"), _ints(op, "muls"), _ints(op, "shifts")
    block, bits = _param(op, "block"), _param(op, "coef_bits")
    vocab = shape_of(clusters)[0]
    dim = shape_of(bases)[1]
    n_ids = count(shape_of(ids))
    out_elem = elem_of(out)
    lo, hi = qtfm.int_range(out_elem)
    fids = flat(b, ids)
    out2 = out
    if shape_of(out) != (n_ids, dim):
        out2 = b.emit(tile.ViewOp.build(operands=[out], result_types=[MemRefType(out_elem, [n_ids, dim])]))

    # requantization: int32 arithmetic when no intermediate of any cluster can leave it
    coef_bound = 128 if bits == 8 else 8
    rounds = [(1 << (s - 1)) if s > 0 else 0 for s in shifts]
    worst = [m * r * coef_bound * 128 + rnd for m, r, rnd in zip(muls, ranks, rounds, strict=True)]
    wide = max(worst) > INT32_MAX or max(shifts) > 30
    typ = i64 if wide else i32
    # after the shift |value| <= (worst >> shift) + 1: the clamp can run on 32 bits
    clamp_typ = i32 if all((w >> s) + 1 <= INT32_MAX for w, s in zip(worst, shifts, strict=True)) else typ
    rank_of = _PerCluster(b, ranks, i32)
    base_of = _PerCluster(b, [sum(ranks[:c]) for c in range(len(ranks))], i32)
    mul_of = _PerCluster(b, muls, typ)
    round_of = _PerCluster(b, rounds, typ)
    shift_of = _PerCluster(b, shifts, typ)
    mean_rank = -(-sum(ranks) // len(ranks))

    def requant(b: LoopBuilder, acc: SSAValue, mul: SSAValue, rnd: SSAValue, shift: SSAValue) -> SSAValue:
        v = b.widen(acc, typ)
        if mul_of.constant != 1:
            v = b.mul(v, mul)
        if round_of.constant != 0:
            v = b.add(v, rnd)
        if shift_of.constant != 0:
            v = b.shrs(v, shift)
        v = b.narrow(v, clamp_typ)
        v = b.mins(b.maxs(v, b.const(lo, clamp_typ)), b.const(hi, clamp_typ))
        return b.narrow(v, out_elem)

    def coefficient(b: LoopBuilder, at: SSAValue) -> SSAValue:
        """Pool value number `at` as i32 (a byte, or a sign-extended nibble, low one first)."""
        if bits == 8:
            return b.widen(b.load(pool, [at]))
        byte = b.widen(b.load(pool, [b.emit(arith.DivUIOp(at, b.idx(2)))]))
        odd = b.emit(arith.IndexCastOp(b.emit(arith.AndIOp(at, b.idx(1))), i32))
        # the wanted nibble moved to the top of the word, then shifted down with its sign
        up = b.emit(arith.ShLIOp(byte, b.sub(b.const(28), b.mul(odd, b.const(4)))))
        return b.shrs(up, b.const(28))

    def cluster_of(b: LoopBuilder, t: SSAValue) -> SSAValue | None:
        if len(ranks) == 1:
            return None  # every token is in cluster 0
        return b.to_index(b.widen(b.load(clusters, [t])))

    def start_of(b: LoopBuilder, t: SSAValue) -> SSAValue:
        """Where token `t`'s coefficients start in the pool."""
        if block == 1:
            return b.to_index(b.load(block_offsets, [t]))
        blk = b.emit(arith.DivUIOp(t, b.idx(block)))
        first = b.mul(blk, b.idx(block))
        stored = b.to_index(b.load(block_offsets, [blk]))
        if rank_of.constant is not None:  # every token of the block holds the same count
            return b.add(stored, b.mul(b.sub(t, first), b.idx(rank_of.constant)))
        (start,) = b.loop(
            t,
            lambda b, u, acc: [b.add(acc[0], rank_of.index_at(b, cluster_of(b, u)))],
            [stored],
            lower=first,
            expected_trips=(block - 1) // 2,
        )
        return start

    def lookup(b: LoopBuilder, i: SSAValue, t: SSAValue) -> None:
        c = cluster_of(b, t)
        start = start_of(b, t)
        # a rank the same for every cluster bounds its loops by a constant
        rank = rank_of.constant if rank_of.constant is not None else rank_of.index_at(b, c)
        base = base_of.index_at(b, c)
        mul, rnd, shift = mul_of.at(b, c), round_of.at(b, c), shift_of.at(b, c)

        def columns(width: int) -> Body:
            def at(b: LoopBuilder, j: SSAValue, _: list[SSAValue]) -> None:
                js = [b.iadd(j, n) for n in range(width)]

                def step(b: LoopBuilder, k: SSAValue, accs: list[SSAValue]) -> list[SSAValue]:
                    a = coefficient(b, b.add(start, k))
                    row = b.iadd(k, base_of.constant) if base_of.constant is not None else b.add(base, k)
                    products = [b.mul(a, b.widen(b.load(bases, [row, jn]))) for jn in js]
                    return [b.add(acc, p) for acc, p in zip(accs, products, strict=True)]

                accs = b.loop(rank, step, [b.const(0)] * width, expected_trips=mean_rank)
                for acc, jn in zip(accs, js, strict=True):
                    b.store(requant(b, acc, mul, rnd, shift), out2, [i, jn])

            return at

        full = dim - dim % COLUMNS
        b.loop(full, columns(COLUMNS), step=COLUMNS)
        if dim > full:
            b.loop(dim, columns(dim - full), lower=full, step=dim - full)

    def row(b: LoopBuilder, i: SSAValue, _: list[SSAValue]) -> None:
        t = b.to_index(b.widen(b.load(fids, [i])))
        ok = b.emit(
            arith.AndIOp(
                b.emit(arith.CmpiOp(t, b.idx(0), "sge")), b.emit(arith.CmpiOp(t, b.idx(vocab), "slt"))
            )
        )
        then, other = Block(), Block()
        lookup(LoopBuilder(InsertPoint.at_end(then), b.constants, b.top), i, t)
        then.add_op(scf.YieldOp())
        eb = LoopBuilder(InsertPoint.at_end(other), b.constants, b.top)
        zero = eb.narrow(eb.const(0), out_elem)  # arith has no unsigned constants
        eb.loop(dim, lambda bb, d, _: bb.store(zero, out2, [i, d]))
        other.add_op(scf.YieldOp())
        b.emit(scf.IfOp(ok, [], [then], [other]))

    b.loop(n_ids, row)
