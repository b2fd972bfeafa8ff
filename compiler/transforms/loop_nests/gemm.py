"""`qtfm.matmul` and `qtfm.linear` as register-blocked loop nests.

The output is computed in blocks of BM x BN elements whose accumulators stay in registers
across the whole reduction: per step of k the block loads BM values of A and BN of B and does
BM * BN multiply-adds, so loads and loop overhead are shared by BM * BN MACs. Rows and
columns that do not fill a block are done by the same code with smaller blocks (4x2 main
part, 4x1 edge columns, 1x8 ... 1x1 along leftover rows). The epilogue adds the bias and
requantizes in registers, so the int32 accumulator tensor never exists in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects.builtin import MemRefType, i32
from xdsl.ir import Attribute, SSAValue

from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.requant import Requantizer, type_bound
from dialects import qtfm, tile

BLOCK_M = 4
BLOCK_N = 2
ROW_BLOCKS = (8, 4, 2, 1)

Load = Callable[[LoopBuilder, SSAValue, SSAValue], SSAValue]
Place = Callable[[LoopBuilder, Sequence[SSAValue], Sequence[int]], tuple[SSAValue, list[SSAValue]]]
"""Where the element at an index of the logical output (of a shape) is stored: a buffer and
indices into it (loop_nests/permuted_store.py; default: the output buffer at that index)."""
Store = Callable[[LoopBuilder, SSAValue, SSAValue, SSAValue], None]


def _blocked(
    b: LoopBuilder,
    m_range: tuple[int, int],
    n_range: tuple[int, int],
    bm: int,
    bn: int,
    k: int,
    load_a: Load,
    load_b: Load,
    store: Store,
) -> None:
    (m0, m1), (n0, n1) = m_range, n_range
    if m1 <= m0 or n1 <= n0:
        return

    def rows(b: LoopBuilder, m: SSAValue, _: list[SSAValue]) -> None:
        def cols(b: LoopBuilder, n: SSAValue, _: list[SSAValue]) -> None:
            ms = [b.iadd(m, i) for i in range(bm)]
            ns = [b.iadd(n, j) for j in range(bn)]

            def step(b: LoopBuilder, kk: SSAValue, accs: list[SSAValue]) -> list[SSAValue]:
                a = [b.widen(load_a(b, mi, kk)) for mi in ms]
                w = [b.widen(load_b(b, kk, nj)) for nj in ns]
                return [b.add(accs[i * bn + j], b.mul(a[i], w[j])) for i in range(bm) for j in range(bn)]

            zero = b.const(0, i32)
            accs = b.loop(k, step, [zero] * (bm * bn))
            for i in range(bm):
                for j in range(bn):
                    store(b, ms[i], ns[j], accs[i * bn + j])

        b.loop(n1, cols, lower=n0, step=bn)

    b.loop(m1, rows, lower=m0, step=bm)


def gemm(b: LoopBuilder, m: int, n: int, k: int, load_a: Load, load_b: Load, store: Store) -> None:
    """C[m, n] = sum_k A[m, k] * B[k, n], handed to `store` as exact i32 accumulators.

    Rows in groups of BLOCK_M use BLOCK_M x BLOCK_N blocks (edge columns BLOCK_M x 1); the
    rows left over (all of them for a single-row product, as in decoding one token) use
    1 x 8, 1 x 4, 1 x 2, 1 x 1 blocks along the row, so that a matrix-vector product also
    shares each loaded activation among several MACs."""
    mm = m - m % BLOCK_M
    nn = n - n % BLOCK_N
    _blocked(b, (0, mm), (0, nn), BLOCK_M, BLOCK_N, k, load_a, load_b, store)
    _blocked(b, (0, mm), (nn, n), BLOCK_M, 1, k, load_a, load_b, store)
    start = 0
    for width in ROW_BLOCKS:
        end = start + (n - start) - (n - start) % width
        _blocked(b, (mm, m), (start, end), 1, width, k, load_a, load_b, store)
        start = end


def _shape(v: SSAValue) -> tuple[int, ...]:
    assert isinstance(v.type, MemRefType)
    return tuple(v.type.get_shape())


def _elem(v: SSAValue):  # noqa: ANN202
    assert isinstance(v.type, MemRefType)
    return v.type.element_type


def _flat2d(b: LoopBuilder, buf: SSAValue, rows: int, cols: int) -> SSAValue:
    if _shape(buf) == (rows, cols):
        return buf
    view = tile.ViewOp.build(operands=[buf], result_types=[MemRefType(_elem(buf), [rows, cols])])
    return b.emit(view)


def _epilogue(
    b: LoopBuilder,
    op: tile.KernelOp,
    k: int,
    bias: SSAValue | None,
    out_elem: Attribute,
    bias_added: bool = False,
) -> tuple[
    Requantizer | None, Callable[[LoopBuilder, SSAValue, SSAValue | None, Sequence[SSAValue]], SSAValue]
]:
    ins = list(op.ins)
    bound = k * type_bound(_elem(ins[0])) * type_bound(_elem(ins[1]))
    if bias is not None:
        bound += type_bound(_elem(bias))
    q = op.attributes.get("requant")
    rq = Requantizer(b, q, bound, out_elem) if isinstance(q, qtfm.RequantAttr) else None

    def finish(b: LoopBuilder, acc: SSAValue, n: SSAValue | None, out_index: Sequence[SSAValue]) -> SSAValue:
        if bias is not None and not bias_added:
            assert n is not None
            acc = b.add(acc, b.widen(b.load(bias, [n])))
        if rq is None:
            return acc
        channel = out_index[rq.axis] if rq.axis is not None else None
        return rq.apply(b, acc, channel)

    return rq, finish


def linear_store(
    b: LoopBuilder, op: tile.KernelOp, k: int, place: Place | None, bias_added: bool = False
) -> tuple[int, int, Store]:
    """(m, n, store) of a linear kernel with reduction length `k`: its output seen as m x n
    rows, and the store of one exact accumulator (bias unless the accumulators started from it
    (`bias_added`), requantization, placement)."""
    rest = op.ins[2:]
    bias = rest[0] if rest else None
    out = op.outs[0]
    *lead, n = _shape(out)
    m = 1
    for d in lead:
        m *= d
    rq, finish = _epilogue(b, op, k, bias, _elem(out), bias_added)
    if rq is not None and rq.axis is not None and rq.axis != len(lead):
        # a per-channel requant along a leading axis needs the full output index
        raise NotImplementedError("linear requantized along a leading axis")
    out2 = _flat2d(b, out, m, n) if place is None else out

    def store(b: LoopBuilder, mi: SSAValue, nj: SSAValue, acc: SSAValue) -> None:
        value = finish(b, acc, nj, [*([mi] * len(lead)), nj])
        buf, index = (out2, [mi, nj]) if place is None else place(b, [mi, nj], (m, n))
        b.store(value, buf, index)

    return m, n, store


def lower_linear(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    x, w = op.ins[:2]
    k = _shape(w)[0]
    m, n, store = linear_store(b, op, k, place)
    x2 = _flat2d(b, x, m, k)

    gemm(b, m, n, k, lambda b, mi, kk: b.load(x2, [mi, kk]), lambda b, kk, nj: b.load(w, [kk, nj]), store)


def _broadcast_index(batch: Sequence[SSAValue], shape: Sequence[int], b: LoopBuilder) -> list[SSAValue]:
    """Indices into an operand's batch dimensions (right-aligned, size-1 dims broadcast)."""
    own = shape[:-2]
    offset = len(batch) - len(own)
    return [b.idx(0) if d == 1 else batch[offset + i] for i, d in enumerate(own)]


def matmul_store(b: LoopBuilder, op: tile.KernelOp, k: int, place: Place | None) -> Callable[..., Store]:
    """For a matmul with reduction length `k`: `batch -> store`, the store of one exact
    accumulator of the matrix at `batch` (requantization, placement)."""
    out = op.outs[0]
    oshape = _shape(out)
    _, finish = _epilogue(b, op, k, None, _elem(out))

    def at_batch(batch: list[SSAValue]) -> Store:
        def store(b: LoopBuilder, mi: SSAValue, nj: SSAValue, acc: SSAValue) -> None:
            index = [*batch, mi, nj]
            value = finish(b, acc, nj, index)
            buf, at = (out, index) if place is None else place(b, index, oshape)
            b.store(value, buf, at)

        return store

    return at_batch


def lower_matmul(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    lhs, rhs = op.ins
    oshape = _shape(op.outs[0])
    m, n = oshape[-2:]
    k = _shape(lhs)[-1]
    store_at = matmul_store(b, op, k, place)

    def per_batch(b: LoopBuilder, batch: list[SSAValue]) -> None:
        ia = _broadcast_index(batch, _shape(lhs), b)
        ib = _broadcast_index(batch, _shape(rhs), b)
        store = store_at(batch)

        gemm(
            b,
            m,
            n,
            k,
            lambda b, mi, kk: b.load(lhs, [*ia, mi, kk]),
            lambda b, kk, nj: b.load(rhs, [*ib, kk, nj]),
            store,
        )

    b.nest(oshape[:-2], per_batch)
