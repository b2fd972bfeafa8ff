"""16-bit activations by int8 operands on halfword dot products (`tile-to-loops{simd=xpulp}`):
attention's P.V, and the linear layers of mixed precision (int16 activations, int8 weights).

The probabilities P (or the activations) are 16-bit (unsigned, or signed) and the values V (or
the weights) int8, so the byte dot products of loop_nests/simd_gemm.py do not apply;
`cv.sdotusp.h` (`cv.sdotsp.h` for signed P) multiplies the two halfwords of one word by the
two of another and adds both products to an accumulator in one cycle. A word of P (`P[m, k],
P[m, k+1]`) is one load; V must give halfwords of consecutive keys of one column, so it is
stored transposed (N x K), and within each group of four keys in the order k, k+2, k+1, k+3.
One word of that layout then makes both halfword pairs in three instructions, with no lane
shuffling of P:

    w          = bytes [v(k), v(k+2), v(k+1), v(k+3)]      (one lw)
    sra_h(w, 8)      = halfwords [v(k+2), v(k+3)]   sign-extended: pairs with P[m, k+2 : k+4]
    sra_h(w << 8, 8) = halfwords [v(k), v(k+1)]     sign-extended: pairs with P[m, k : k+2]

The layout costs nothing at run time: it is a chain of a transpose, a reshape view and a
transpose inserted before the matmul, which the permuted stores (loop_nests/permuted_store.py)
fold into the value projection that writes V; where nothing can absorb them they run as
copies. A linear layer's weight is packed in the same layout offline (`tile.weight
"name@nki"`, compiler/backend/weight_layouts.py). In a 4 x 2 output block every four keys
take 8 loads of P, 2 of V, 6 packed shifts and 16 dot products: 32 MACs in 32 instructions,
against 3.5 cycles per MAC for the scalar loop (load, load, mul, add).

Bit-exact: a product's accumulator must fit int32 (docs/quantization.md, "Accumulators are
int32"; the reference checks it), and the dot products compute it modulo 2^32, partial sums
wrapping like the hardware; addition modulo 2^32 is associative, so the order of the keys
does not matter and a linear layer's accumulators can start from its bias.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseArrayBase, MemRefType, Signedness, UnitAttr, i8, i64
from xdsl.ir import Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import elem_of, flat, shape_of
from compiler.transforms.loop_nests.gemm import Place, Store, linear_store
from compiler.transforms.loop_nests.simd_gemm import (
    UNROLL,
    BlockPlan,
    cheapest_plan,
    lower_batched,
    register_block,
    tile_blocks,
)
from dialects import tile, xpulp

KEYS_PER_GROUP = 4
"""Keys per word of the interleaved V layout (two halfword pairs)."""
HALFWORD_PLANS = (BlockPlan((4, 1), (2, 1)), BlockPlan((2, 1), (4, 2, 1)), BlockPlan((2, 1), (2, 1)))
"""The blockings tried (4x2, 2x4, 2x2). A 4x4 block would hold 16 accumulators, 8 halfword
pairs, 2 words of P and the pointers: more than the 28 registers RV32 allocates. The static
estimate does not see the spills and load-use stalls, which cost more than the block saves
(BERT-tiny, mixed precision, on rv32imc-xcv: 92.2 M cycles with 4x4 among the choices,
91.5 M without)."""


def applies(op: tile.KernelOp) -> bool:
    """A matmul of 16-bit activations by int8 activations (not a weight) whose reduction is
    whole groups of four."""
    if op.kind.data != "qtfm.matmul" or SWAPPED_ATTR in op.attributes:
        return False
    lhs, rhs = op.ins
    if rhs is lhs or rhs in op.outs or isinstance(rhs.owner, tile.WeightOp):
        return False
    le, re = elem_of(lhs), elem_of(rhs)
    k = shape_of(lhs)[-1]
    return le.width.data == 16 and re == i8 and len(shape_of(rhs)) >= 2 and k % KEYS_PER_GROUP == 0


INTERLEAVED_SUFFIX = "@nki"
"""Weight-name suffix of a K x N weight stored N x K with each group of four k interleaved."""


def applies_linear(op: tile.KernelOp) -> bool:
    """A linear layer of 16-bit activations by a constant int8 weight (packed offline), the
    reduction whole groups of four."""
    if op.kind.data != "qtfm.linear":
        return False
    x, w = op.ins[:2]
    if not isinstance(w.owner, tile.WeightOp):
        return False
    k = shape_of(w)[0]
    xe = elem_of(x)
    return xe.width.data == 16 and elem_of(w) == i8 and k % KEYS_PER_GROUP == 0


def lower_linear_halfword(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    """`op` is a linear layer whose weight operand is already the interleaved N x K weight."""
    x, wi = op.ins[:2]
    bias = op.ins[2] if len(op.ins) > 2 else None
    k = shape_of(wi)[1]
    m, n, store = linear_store(b, op, k, place, bias_added=bias is not None)
    dot = _dot_op(x)
    xs, ws = flat(b, x), flat(b, wi)

    def start(b: LoopBuilder, j: SSAValue) -> SSAValue:
        assert bias is not None
        return b.widen(b.load(bias, [j]))

    def emit(b: LoopBuilder, plan: BlockPlan) -> None:
        tile_blocks(b, m, n, _block(k, xs, None, ws, None, dot, store, start if bias else None), plan)

    emit(b, cheapest_plan(emit, HALFWORD_PLANS))


def _dot_op(x: SSAValue) -> type[xpulp.SdotspHOp] | type[xpulp.SdotuspHOp]:
    return xpulp.SdotspHOp if elem_of(x).signedness.data != Signedness.UNSIGNED else xpulp.SdotuspHOp


def applies_to_lowering(op: tile.KernelOp) -> bool:
    """Whether a matmul chosen for SIMD is one of these (its right-hand side interleaved)."""
    return elem_of(op.ins[0]).width.data == 16


def interleave_values(kernels: list[tile.KernelOp | tile.CopyOp], block: Block) -> set[tile.KernelOp]:
    """Makes every matmul that `applies` read its right-hand side in the interleaved,
    transposed layout: the transposes and views that produce it are inserted before it."""
    chosen: set[tile.KernelOp] = set()
    for op in kernels:
        if isinstance(op, tile.KernelOp) and applies(op):
            operands = list(op.operands)
            operands[1] = _interleaved(op.ins[1], op)
            op.operands = operands
            chosen.add(op)
    return chosen


def _interleaved(v: SSAValue, reader: tile.KernelOp) -> SSAValue:
    """[..., K, N] -> [..., N, K] with the keys of each group of four in the order 0, 2, 1, 3."""
    *batch, k, n = shape_of(v)
    rank = len(batch) + 2
    vt = _transpose(v, [*batch, n, k], [*range(rank - 2), rank - 1, rank - 2], _level(v), reader)
    return _interleaved_rows(vt, reader)


def _interleaved_rows(v: SSAValue, reader: tile.KernelOp) -> SSAValue:
    """[..., N, K] with each group of four along K in the order 0, 2, 1, 3: view as
    [..., N, K/4, 2, 2], swap the last two axes, view as [..., N, K]."""
    *batch, n, k = shape_of(v)
    rank = len(batch) + 2
    grouped = _view(v, [*batch, n, k // 4, 2, 2], reader)
    perm = [*range(rank), rank + 1, rank]
    swapped = _transpose(grouped, [*batch, n, k // 4, 2, 2], perm, _level(v), reader)
    return _view(swapped, [*batch, n, k], reader)


SWAPPED_ATTR = "mote.simd_swapped"
"""On a matmul whose operands `swap_scores` exchanged: it computes the output's transpose."""


def swap_scores(kernels: list[tile.KernelOp | tile.CopyOp], block: Block) -> set[tile.KernelOp]:
    """Q.K^T of mixed precision (int8 queries, int16 keys): computed as K.Q^T on halfword dot
    products, the keys read untransposed (the K^T transpose is erased, as for byte dot
    products) and the queries interleaved like a V, the results stored transposed."""
    chosen: set[tile.KernelOp] = set()
    for t in kernels:
        if not (isinstance(t, tile.KernelOp) and _swaps_last_axes(t)):
            continue
        readers = [u.operation for u in t.outs[0].uses if u.operation is not t]
        if not readers or not all(_scores_on_keys(m, t.outs[0]) for m in readers):
            continue
        keys = t.ins[0]
        for reader in readers:
            assert isinstance(reader, tile.KernelOp)
            queries = _interleaved_rows(reader.ins[0], reader)
            reader.operands = [keys, queries, *reader.outs]
            reader.attributes[SWAPPED_ATTR] = UnitAttr()
            chosen.add(reader)
        block.erase_op(t)
    return chosen


def _swaps_last_axes(t: tile.KernelOp) -> bool:
    if t.kind.data != "qtfm.transpose" or not isinstance(t.outs[0].owner, tile.AllocOp):
        return False
    perm = [int(p) for p in t.attributes["perm"].get_values()]  # type: ignore[attr-defined]
    r = len(perm)
    return r >= 2 and perm == [*range(r - 2), r - 1, r - 2]


def _scores_on_keys(op: Operation, buf: SSAValue) -> bool:
    """A matmul of 8-bit queries by `buf`, 16-bit keys transposed ([..., K, N]), K in words."""
    if not isinstance(op, tile.KernelOp) or op.kind.data != "qtfm.matmul":
        return False
    lhs, rhs = op.ins
    return (
        rhs is buf
        and lhs is not buf
        and buf not in op.outs
        and elem_of(lhs) == i8
        and elem_of(rhs).width.data == 16
        and shape_of(lhs)[-1] % KEYS_PER_GROUP == 0
    )


def lower_scores_swapped(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    """`op` went through `swap_scores`: its operands are the keys ([..., N, K], 16-bit) and the
    interleaved queries ([..., M, K]); it stores each result at its transposed place."""
    dot = _dot_op(op.ins[0])
    lower_batched(
        b,
        op,
        place,
        lambda k, a, a0, w, w0, store: _block(k, a, a0, w, w0, dot, store),
        HALFWORD_PLANS,
        swapped=True,
    )


def _level(v: SSAValue) -> str:
    owner = v.owner
    while isinstance(owner, tile.ViewOp):
        owner = owner.source.owner
    return owner.level.level.data if isinstance(owner, tile.AllocOp) else "L2"


def _transpose(
    src: SSAValue, shape: list[int], perm: list[int], level: str, before: tile.KernelOp
) -> SSAValue:
    out = tile.AllocOp(MemRefType(elem_of(src), shape), level)
    kernel = tile.KernelOp("qtfm.transpose", [src], [out.result], {"perm": _perm_attr(perm)})
    Rewriter.insert_op([out, kernel], InsertPoint.before(before))
    return out.result


def _view(src: SSAValue, shape: list[int], before: tile.KernelOp) -> SSAValue:
    view = tile.ViewOp.build(operands=[src], result_types=[MemRefType(elem_of(src), shape)])
    Rewriter.insert_op(view, InsertPoint.before(before))
    return view.results[0]


def _perm_attr(perm: list[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, perm)


def lower_matmul_pv(b: LoopBuilder, op: tile.KernelOp, place: Place | None = None) -> None:
    """`op` is a matmul whose right-hand operand is already in the interleaved layout
    ([..., N, K])."""
    dot = _dot_op(op.ins[0])
    lower_batched(
        b, op, place, lambda k, p, p0, v, v0, store: _block(k, p, p0, v, v0, dot, store), HALFWORD_PLANS
    )


def _block(
    k: int,
    p: SSAValue,
    p_base: SSAValue | None,
    v: SSAValue,
    v_base: SSAValue | None,
    dot: type[xpulp.SdotspHOp] | type[xpulp.SdotuspHOp],
    store: Store,
    start: Callable[[LoopBuilder, SSAValue], SSAValue] | None = None,
) -> Callable[[LoopBuilder, list[SSAValue], list[SSAValue]], None]:
    """One output block (`register_block`): rows of P against columns (rows of the interleaved
    V), the accumulators from `start(column)` (a bias) or 0."""

    def reduce(
        b: LoopBuilder, p_rows: list[SSAValue], v_rows: list[SSAValue], inits: list[SSAValue]
    ) -> list[SSAValue]:
        return _reduction(b, k, p, p_rows, v, v_rows, dot, inits)

    return register_block(k, p_base, v_base, store, start, reduce)


def _reduction(
    b: LoopBuilder,
    k: int,
    p: SSAValue,
    p_rows: list[SSAValue],
    v: SSAValue,
    v_rows: list[SSAValue],
    dot: type[xpulp.SdotspHOp] | type[xpulp.SdotuspHOp],
    inits: list[SSAValue],
) -> list[SSAValue]:
    groups = k // KEYS_PER_GROUP
    unroll = next(u for u in UNROLL if groups % u == 0)
    bn = len(v_rows)

    def step(b: LoopBuilder, kk: SSAValue, accs: list[SSAValue]) -> list[SSAValue]:
        for u in range(unroll):
            at = b.iadd(kk, KEYS_PER_GROUP * u)
            halves = []  # per column: the pair for keys k, k+1 and the pair for k+2, k+3
            for r in v_rows:
                w = b.emit(xpulp.LoadWordOp(v, b.add(r, at)))
                low = b.emit(xpulp.SraHOp(b.emit(arith.ShLIOp(w, b.const(8))), 8))
                halves.append((low, b.emit(xpulp.SraHOp(w, 8))))
            new = list(accs)
            for i, r in enumerate(p_rows):
                first = b.emit(xpulp.LoadWordOp(p, b.add(r, at)))
                second = b.emit(xpulp.LoadWordOp(p, b.add(r, b.iadd(at, 2))))
                for j, (low, high) in enumerate(halves):
                    acc = b.emit(dot(new[i * bn + j], first, low))
                    new[i * bn + j] = b.emit(dot(acc, second, high))
            accs = new
        return accs

    return b.loop(k, step, inits, step=KEYS_PER_GROUP * unroll)
