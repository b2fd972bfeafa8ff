"""Int8 linear layers as packed-SIMD loop nests for Xpulp / CORE-V (`tile-to-loops{simd=xpulp}`).

`cv.sdotsp.b` multiplies the four bytes of one register by the four bytes of another and adds
the four products to an accumulator in one cycle. To feed it, both operands must have their
reduction axis contiguous: the activations' rows already do (x[m, k..k+3] is one word), and
the weights, K x N in the model, are packed offline transposed, N x K, into flash (weight
`name@nk`, derived from the weight file by the C emitter: compiler/backend/weight_layouts.py),
so that w[n, k..k+3] is one word too.

The output is computed in register blocks; in a 4 x 4 block 16 accumulators stay in
registers through the whole reduction and every step of 4 along K loads 4 activation words
and 4 weight words and does 16 dot products: 64 MACs for 8 loads and 16 single-cycle
instructions (PULP-NN's 4x2 block does 32 MACs for 6 loads and 8). The blocking (4x4, 4x2 or
2x4 first, smaller blocks on the edges) is the cheapest by the static cycle estimate of the
generated loops. The epilogue (bias, requantization) is the scalar kernel's
(loop_nests/gemm.py), in registers. Attention's Q.K^T uses the same blocks, reading the keys
untransposed (`transposed_rhs`).

Bit-exact: a product's accumulator must fit int32 (docs/quantization.md, "Accumulators are
int32"; the reference checks it), and the dot products compute it modulo 2^32 in any order,
partial sums wrapping like the hardware: every valid program gets its exact accumulators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, MemRefType, Signedness, i8
from xdsl.ir import Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint

from compiler.backend.cost_estimate import estimate_block
from compiler.backend.target import load_target
from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import elem_of, flat, shape_of
from compiler.transforms.loop_nests.gemm import Place, Store, linear_store, matmul_store
from dialects import tile, xpulp

PACKED_SUFFIX = "@nk"
"""Weight-name suffix of a K x N weight stored transposed (N x K) for SIMD dot products."""


@dataclass(frozen=True)
class BlockPlan:
    """Output block heights and widths, largest first; the edges use the smaller ones."""

    rows: tuple[int, ...]
    cols: tuple[int, ...]


BLOCK_PLANS = (
    BlockPlan((4, 1), (4, 2, 1)),
    BlockPlan((4, 1), (2, 1)),
    BlockPlan((2, 1), (4, 2, 1)),
)
"""The register blockings tried (4x4, 4x2, 2x4): the cheapest by the static cycle estimate
of the generated loops, with the costs of the CORE-V target, is kept."""


def _dots_fit(a: SSAValue, b: SSAValue, k: int) -> bool:
    """Whether `a` (8-bit) times `b` (int8) reduced over `k` can run on byte dot products:
    whole words (k a multiple of 4). The sum needs no bound: see the module docstring."""
    return elem_of(a).width.data == 8 and elem_of(b) == i8 and k % 4 == 0


def applies(op: tile.KernelOp) -> bool:
    """Whether the linear kernel can use 8-bit dot products (`_dots_fit`), with a weight
    that is a constant, so that it can be packed offline."""
    if op.kind.data != "qtfm.linear":
        return False
    x, w = op.ins[:2]
    return isinstance(w.owner, tile.WeightOp) and _dots_fit(x, w, shape_of(w)[0])


def packed_weight_type(w: SSAValue) -> MemRefType:
    k, n = shape_of(w)
    return MemRefType(i8, [n, k])


def _dot_op(x_elem: IntegerType) -> type[xpulp.SdotspBOp] | type[xpulp.SdotuspBOp]:
    unsigned = x_elem.signedness.data == Signedness.UNSIGNED
    return xpulp.SdotuspBOp if unsigned else xpulp.SdotspBOp


def lower_linear_simd(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    """`op` is a linear kernel whose weight operand is already the packed N x K weight."""
    x, wt = op.ins[:2]
    bias = op.ins[2] if len(op.ins) > 2 else None
    k = shape_of(wt)[1]  # the packed weight is N x K
    m, n, store = linear_store(b, op, k, place, bias_added=bias is not None)
    dot = _dot_op(elem_of(x))
    xs, ws = flat(b, x), flat(b, wt)

    def start(b: LoopBuilder, j: SSAValue) -> SSAValue:
        assert bias is not None
        return b.widen(b.load(bias, [j]))

    def emit(b: LoopBuilder, plan: BlockPlan) -> None:
        tile_blocks(b, m, n, _block(k, xs, None, ws, None, dot, store, start if bias else None), plan)

    emit(b, cheapest_plan(emit))


def _block(
    k: int,
    a: SSAValue,
    a_base: SSAValue | None,
    w: SSAValue,
    w_base: SSAValue | None,
    dot: type[xpulp.SdotspBOp] | type[xpulp.SdotuspBOp],
    store: Store,
    start: Callable[[LoopBuilder, SSAValue], SSAValue] | None = None,
) -> Callable[[LoopBuilder, list[SSAValue], list[SSAValue]], None]:
    """One output block on byte dot products (`register_block`)."""

    def reduce(
        b: LoopBuilder, a_rows: list[SSAValue], w_rows: list[SSAValue], inits: list[SSAValue]
    ) -> list[SSAValue]:
        return _reduction(b, k, a, a_rows, w, w_rows, dot, inits)

    return register_block(k, a_base, w_base, store, start, reduce)


Reduce = Callable[[LoopBuilder, list[SSAValue], list[SSAValue], list[SSAValue]], list[SSAValue]]
"""(builder, lhs row starts, rhs row starts, initial accumulators) -> the block's accumulators."""


def register_block(
    k: int,
    a_base: SSAValue | None,
    w_base: SSAValue | None,
    store: Store,
    start: Callable[[LoopBuilder, SSAValue], SSAValue] | None,
    reduce: Reduce,
) -> Callable[[LoopBuilder, list[SSAValue], list[SSAValue]], None]:
    """The computation of one output block (rows ms, columns ns): the rows of both operands
    (each K long, from the base offsets on, if any) reduced by `reduce`, then stored.
    `start(column)` is the accumulators' initial value (a linear layer's bias: 32-bit wrapping
    addition is associative, so the sum is the same as adding it afterwards), else 0."""

    def rows(b: LoopBuilder, base: SSAValue | None, indices: list[SSAValue]) -> list[SSAValue]:
        starts = [b.mul(i, b.idx(k)) for i in indices]
        return starts if base is None else [b.add(base, s) for s in starts]

    def block(b: LoopBuilder, ms: list[SSAValue], ns: list[SSAValue]) -> None:
        inits = [start(b, nj) for nj in ns] * len(ms) if start else [b.const(0)] * (len(ms) * len(ns))
        accs = reduce(b, rows(b, a_base, ms), rows(b, w_base, ns), inits)
        for i, mi in enumerate(ms):
            for j, nj in enumerate(ns):
                store(b, mi, nj, accs[i * len(ns) + j])

    return block


UNROLL = (8, 4, 2, 1)
"""Words of the reduction per loop iteration (the largest that divides K / 4): the loop's
increment, compare and taken branch are shared by more dot products."""


def _reduction(
    b: LoopBuilder,
    k: int,
    a: SSAValue,
    a_rows: list[SSAValue],
    w: SSAValue,
    w_rows: list[SSAValue],
    dot: type[xpulp.SdotspBOp] | type[xpulp.SdotuspBOp],
    inits: list[SSAValue],
) -> list[SSAValue]:
    """The len(a_rows) x len(w_rows) accumulators of a block, from `inits`: plus the sum over k
    of a[row + k] * w[row' + k], four bytes per dot product. The rows of a block are consecutive (k apart):
    one `xpulp.dot_block`, a hardware loop over the words, when the loads reach every row
    with immediate offsets; else a counted loop of `UNROLL` words per iteration."""
    words = k // 4
    if xpulp.DotBlockOp.fits(len(a_rows), len(w_rows), k, k):
        block = xpulp.DotBlockOp(
            DOT_KINDS[dot], a, a_rows[0], k, w, w_rows[0], k, inits, len(a_rows), len(w_rows), words
        )
        b.emit(block)
        return list(block.accs)
    unroll = next(u for u in UNROLL if words % u == 0)
    bn = len(w_rows)

    def step(b: LoopBuilder, kk: SSAValue, accs: list[SSAValue]) -> list[SSAValue]:
        for u in range(unroll):
            at = b.iadd(kk, 4 * u)
            xa = [b.emit(xpulp.LoadWordOp(a, b.add(r, at))) for r in a_rows]
            xw = [b.emit(xpulp.LoadWordOp(w, b.add(r, at))) for r in w_rows]
            pairs = [(i, j) for i in range(len(a_rows)) for j in range(bn)]
            accs = [b.emit(dot(accs[i * bn + j], xa[i], xw[j])) for i, j in pairs]
        return accs

    return b.loop(k, step, inits, step=4 * unroll)


DOT_KINDS = {xpulp.SdotspBOp: "sdotsp_b", xpulp.SdotuspBOp: "sdotusp_b"}


@cache
def _xpulp_costs() -> Mapping[str, int]:
    return load_target("rv32imc-xcv").costs


def cheapest_plan(
    emit: Callable[[LoopBuilder, BlockPlan], None], plans: Sequence[BlockPlan] = BLOCK_PLANS
) -> BlockPlan:
    """The blocking among `plans` whose loops `emit` (generating the whole kernel) cost the
    fewest cycles, each generated into a scratch block that is then dropped."""
    costs: dict[BlockPlan, int] = {}
    for plan in plans:
        scratch = Block()
        anchor = func.ReturnOp()
        scratch.add_op(anchor)
        emit(LoopBuilder(InsertPoint.before(anchor), {}, InsertPoint.at_start(scratch)), plan)
        costs[plan] = estimate_block(scratch, _xpulp_costs())
        scratch.drop_all_references()
    return min(plans, key=lambda p: costs[p])


def tile_blocks(b: LoopBuilder, m: int, n: int, block, plan: BlockPlan) -> None:  # noqa: ANN001
    """Covers the m x n output with blocks: rows in groups of plan.rows, columns in groups of
    plan.cols, the largest first; `block(b, rows, cols)` emits one block's computation."""
    row_start = 0
    for bm in plan.rows:
        row_end = row_start + (m - row_start) - (m - row_start) % bm
        if row_end > row_start:
            col_start = 0
            for bn in plan.cols:
                col_end = col_start + (n - col_start) - (n - col_start) % bn
                if col_end > col_start:
                    _grid(b, (row_start, row_end, bm), (col_start, col_end, bn), block)
                col_start = col_end
        row_start = row_end


def _grid(b: LoopBuilder, rows: tuple[int, int, int], cols: tuple[int, int, int], block) -> None:  # noqa: ANN001
    (m0, m1, bm), (n0, n1, bn) = rows, cols

    def over_rows(b: LoopBuilder, mi: SSAValue, _: list[SSAValue]) -> None:
        def over_cols(b: LoopBuilder, nj: SSAValue, _: list[SSAValue]) -> None:
            block(b, [b.iadd(mi, i) for i in range(bm)], [b.iadd(nj, j) for j in range(bn)])

        b.loop(n1, over_cols, lower=n0, step=bn)

    b.loop(m1, over_rows, lower=m0, step=bm)


def transposed_rhs(kernels: Sequence[Operation]) -> list[tile.KernelOp]:
    """Transposes whose readers can read the transpose's input instead: transposes of the
    last two axes (attention's K^T) read only as the right-hand side B (K x N) of matmuls that
    fit byte dot products, which want B transposed (N x K) anyway."""
    found: list[tile.KernelOp] = []
    for t in kernels:
        if not isinstance(t, tile.KernelOp) or t.kind.data != "qtfm.transpose":
            continue
        perm = [int(p) for p in t.attributes["perm"].get_values()]  # type: ignore[attr-defined]
        r = len(perm)
        if r < 2 or perm != [*range(r - 2), r - 1, r - 2] or not isinstance(t.outs[0].owner, tile.AllocOp):
            continue
        readers = [u.operation for u in t.outs[0].uses if u.operation is not t]
        if readers and all(_matmul_reads_rhs(m, t.outs[0]) for m in readers):
            found.append(t)
    return found


def _matmul_reads_rhs(op: Operation, buf: SSAValue) -> bool:
    if not isinstance(op, tile.KernelOp) or op.kind.data != "qtfm.matmul":
        return False
    lhs, rhs = op.ins
    if rhs is not buf or lhs is buf or buf in op.outs:
        return False
    return _dots_fit(lhs, rhs, shape_of(lhs)[-1])


def lower_matmul_simd(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    """`op` is a matmul whose right-hand operand is already B transposed ([..., N, K])."""
    dot = _dot_op(elem_of(op.ins[0]))
    lower_batched(b, op, place, lambda k, a, a0, w, w0, store: _block(k, a, a0, w, w0, dot, store))


BlockOf = Callable[[int, SSAValue, SSAValue, SSAValue, SSAValue, Store], Callable[..., None]]
"""(k, lhs, lhs base, rhs, rhs base, store) -> the computation of one output block."""


def lower_batched(
    b: LoopBuilder,
    op: tile.KernelOp,
    place: Place | None,
    block_of: BlockOf,
    plans: Sequence[BlockPlan] = BLOCK_PLANS,
    swapped: bool = False,
) -> None:
    """A matmul whose right-hand operand is stored N x K ([..., N, K]) as register blocks, per
    matrix of the batch, with the blocking the static cycle estimate finds cheapest.
    `swapped`: the operands are the output's transpose's (lhs N x K, rhs M x K), so the
    blocks' rows are output columns and their results are stored transposed."""
    lhs, rhs = op.ins
    oshape = shape_of(op.outs[0])
    m, n = oshape[-2:]
    rows, cols = (n, m) if swapped else (m, n)
    k = shape_of(lhs)[-1]
    store_at = matmul_store(b, op, k, place)
    flat_a, flat_b = flat(b, lhs), flat(b, rhs)

    def emit(b: LoopBuilder, plan: BlockPlan) -> None:
        def per_batch(b: LoopBuilder, batch: list[SSAValue]) -> None:
            base_a = batch_offset(b, batch, shape_of(lhs), rows * k)
            base_b = batch_offset(b, batch, shape_of(rhs), cols * k)
            store = store_at(batch)
            if swapped:
                inner = store

                def store(b: LoopBuilder, r: SSAValue, c: SSAValue, acc: SSAValue) -> None:
                    inner(b, c, r, acc)

            tile_blocks(b, rows, cols, block_of(k, flat_a, base_a, flat_b, base_b, store), plan)

        b.nest(oshape[:-2], per_batch)

    emit(b, cheapest_plan(emit, plans))


def batch_offset(b: LoopBuilder, batch: list[SSAValue], shape: tuple[int, ...], matrix: int) -> SSAValue:
    """Element offset of the operand's matrix at `batch` (its batch dims right-aligned with the
    output's; size-1 dims broadcast)."""
    own = shape[:-2]
    skip = len(batch) - len(own)
    offset = b.idx(0)
    stride = matrix
    for i in range(len(own) - 1, -1, -1):
        if own[i] != 1:
            offset = b.add(offset, b.mul(batch[skip + i], b.idx(stride)))
        stride *= own[i]
    return offset
