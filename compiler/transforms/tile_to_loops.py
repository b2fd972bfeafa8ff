"""`tile-to-loops`: every `tile.kernel` and `tile.copy` becomes loops over its buffers.

Compute-heavy and data-moving kernels become scf/arith/memref loop nests built here
(compiler/transforms/loop_nests/): register-blocked GEMMs with requantization in registers,
elementwise ops, copies. The ops whose integer algorithms are long and row-wise (softmax,
norms, GELU, divisions, masked mean) become calls to the hand-written, bit-exact kernels of
runtime_c (declared as external `func.func`s). Buffers, weights and offsets are untouched, so
the memory plan made on the tile program still holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, UnitAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.backend.c_emitter import NOINLINE_ATTR
from compiler.errors import MoteError, NotImplementedYet
from compiler.transforms.loop_nests import (
    clustered_embedding,
    data_movement,
    elementwise,
    gemm,
    runtime_calls,
    simd_gemm,
    simd_halfword,
    softmax_table,
    xpulp_clip,
)
from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import elem_of
from compiler.transforms.loop_nests.permuted_store import PermutedStore, permuted_stores
from dialects import tile

Lowering = Callable[[LoopBuilder, tile.KernelOp], None]

LOOP_KERNELS: dict[str, Lowering] = {
    "qtfm.transpose": data_movement.lower_transpose,
    "qtfm.slice": data_movement.lower_slice,
    "qtfm.concat": data_movement.lower_concat,
    "qtfm.kv_append": data_movement.lower_kv_append,
    "qtfm.embedding": data_movement.lower_embedding,
    "qtfm.clustered_embedding": clustered_embedding.lower_clustered_embedding,
}


@dataclass(frozen=True)
class TileToLoops(ModulePass):
    """`outline` (default) puts each generated kernel in its own private function, called
    where the kernel was: the C has one function per kernel and instruction counts per
    function are counts per kernel."""

    name = "tile-to-loops"

    outline: bool = True
    fuse: bool = True
    """Compute a requant or table lookup inside the loop of the elementwise op that reads it
    (when nothing else does), and store a matrix product straight into the layout of the
    transposes that are its only readers: their intermediate buffers never exist."""
    simd: str = ""
    """`xpulp`: int8 linear layers and attention products use packed SIMD dot products
    (loop_nests/simd_gemm.py) on weights packed offline for them, and saturations become
    `cv.clip` (loop_nests/xpulp_clip.py); empty: scalar loops only."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.simd not in ("", "xpulp"):
            raise MoteError(f"tile-to-loops: unknown simd extension '{self.simd}' (xpulp, or empty)")
        calls = runtime_calls.RuntimeDeclarations(op)
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            block = f.body.block
            constants: dict = {}  # type: ignore[type-arg]
            top = InsertPoint.at_start(block)
            kernels = [o for o in block.ops if isinstance(o, tile.KernelOp | tile.CopyOp)]
            shared: dict[str, str] = {}  # one function per distinct kernel (see _outlined)
            fusions = _elementwise_fusions(kernels) if self.fuse else {}
            simd: set[tile.KernelOp] = set()
            if self.simd == "xpulp":
                simd = _use_packed_weights(kernels, top) | _read_transposed_rhs(kernels, block)
                left = [k for k in kernels if k.parent is not None]  # not an erased transpose
                simd |= simd_halfword.swap_scores(left, block)
                simd |= simd_halfword.interleave_values([k for k in left if k.parent is not None], block)
                # the transposes it erased and inserted
                kernels = [o for o in block.ops if isinstance(o, tile.KernelOp | tile.CopyOp)]
            stores = permuted_stores(kernels) if self.fuse else {}
            absorbed = {p for f in fusions.values() for p in f.values()}
            absorbed |= {t for s in stores.values() for t in s.transposes}
            for product, store in stores.items():
                dest = store.dest.owner
                if isinstance(dest, tile.AllocOp):  # allocated where its transpose was
                    dest.detach()
                    Rewriter.insert_op(dest, InsertPoint.before(product))
            for index, kernel in enumerate(kernels):
                if kernel in absorbed:
                    continue
                generated = isinstance(kernel, tile.CopyOp) or softmax_table.applies(kernel)
                if not generated and kernel.kind.data in runtime_calls.RUNTIME_KERNELS:  # type: ignore[union-attr]
                    runtime_calls.lower_call(LoopBuilder.before(kernel, top, constants), kernel, calls)
                elif self.outline:
                    _outlined(op, kernel, index, f, fusions.get(kernel, {}), stores.get(kernel), shared, simd)
                else:
                    b = LoopBuilder.before(kernel, top, constants)
                    store = stores.get(kernel)
                    place = store.place(b, store.dest) if store else None
                    _lower(b, kernel, fusions.get(kernel, {}), place, kernel in simd)
                block.erase_op(kernel)
            for producer in absorbed:  # computed inside their consumers' loops
                block.erase_op(producer)
            # the buffers (and views of them) of fused producers and of transposed products
            dead_kinds = tile.ViewOp | tile.AllocOp | tile.WeightOp  # weights replaced by packed ones
            for dead in [o for o in reversed(list(block.ops)) if isinstance(o, dead_kinds)]:
                if not dead.results[0].uses:
                    block.erase_op(dead)
        if self.simd == "xpulp":
            xpulp_clip.clamps_to_clips(op)


PRODUCTS = {"qtfm.linear": gemm.lower_linear, "qtfm.matmul": gemm.lower_matmul}
"""Matrix products: their lowerings take a store placement (permuted stores)."""


def _lower_matmul_simd(b: LoopBuilder, op: tile.KernelOp, place: gemm.Place | None = None) -> None:
    """Byte dot products, or halfword ones: attention's P.V (16-bit probabilities) and mixed
    precision's Q.K^T (computed as K.Q^T, `simd_halfword.swap_scores`)."""
    if simd_halfword.SWAPPED_ATTR in op.attributes:
        simd_halfword.lower_scores_swapped(b, op, place)
    elif simd_halfword.applies_to_lowering(op):
        simd_halfword.lower_matmul_pv(b, op, place)
    else:
        simd_gemm.lower_matmul_simd(b, op, place)


def _lower_linear_simd(b: LoopBuilder, op: tile.KernelOp, place: gemm.Place | None = None) -> None:
    """Byte dot products, or halfword ones for 16-bit activations (mixed precision)."""
    halfword = elem_of(op.ins[0]).width.data == 16
    lower = simd_halfword.lower_linear_halfword if halfword else simd_gemm.lower_linear_simd
    lower(b, op, place)


SIMD_PRODUCTS = {"qtfm.linear": _lower_linear_simd, "qtfm.matmul": _lower_matmul_simd}

ELEMENTWISE = {
    "qtfm.add": elementwise.lower_binary,
    "qtfm.mul": elementwise.lower_binary,
    "qtfm.requant": elementwise.lower_requant,
    "qtfm.lut": elementwise.lower_lut,
}


def _elementwise_fusions(
    kernels: list[tile.KernelOp | tile.CopyOp],
) -> dict[tile.KernelOp, elementwise.Fused]:
    """For each elementwise kernel, the producers of its inputs that it computes inline
    (transitively: a fused producer's own input may be fused too)."""
    fusions: dict[tile.KernelOp, elementwise.Fused] = {}
    absorbed: set[tile.KernelOp] = set()
    for kernel in reversed(kernels):
        if not isinstance(kernel, tile.KernelOp) or kernel.kind.data not in ELEMENTWISE or kernel in absorbed:
            continue
        fused: elementwise.Fused = {}
        pending = [
            (kernel, v) for v in kernel.ins[: 2 if kernel.kind.data in ("qtfm.add", "qtfm.mul") else 1]
        ]
        while pending:
            consumer, v = pending.pop()
            producer = elementwise.fusible_producer(v, consumer)
            if producer is None:
                continue
            fused[v] = producer
            absorbed.add(producer)
            pending.append((producer, producer.ins[0]))
        if fused:
            fusions[kernel] = fused
    return fusions


def _lower(
    b: LoopBuilder,
    kernel: tile.KernelOp | tile.CopyOp,
    fused: elementwise.Fused | None = None,
    place: gemm.Place | None = None,
    simd: bool = False,
) -> None:
    if isinstance(kernel, tile.CopyOp):
        data_movement.copy(b, kernel.source, kernel.dest)
    elif kernel.kind.data in PRODUCTS:
        (SIMD_PRODUCTS if simd else PRODUCTS)[kernel.kind.data](b, kernel, place)
    elif softmax_table.applies(kernel):
        softmax_table.lower_softmax_table(b, kernel)
    elif kernel.kind.data in ELEMENTWISE:
        ELEMENTWISE[kernel.kind.data](b, kernel, fused)
    elif kernel.kind.data in LOOP_KERNELS:
        LOOP_KERNELS[kernel.kind.data](b, kernel)
    else:
        raise NotImplementedYet(f"tile-to-loops: lowering of {kernel.kind.data}")


def _outlined(
    module: ModuleOp,
    kernel: tile.KernelOp | tile.CopyOp,
    index: int,
    parent: func.FuncOp,
    fused: elementwise.Fused,
    store: PermutedStore | None = None,
    shared: dict[str, str] | None = None,
    simd: set[tile.KernelOp] | None = None,
) -> None:
    """Lowers `kernel` (with the producers it computes inline, or storing into the layout of
    the transposes that read it) into a new private function of the buffers it reads and
    writes, and calls it in its place. Kernels that are the same computation on buffers of the
    same types (the tiles of a row-tiled layer, the layers of a model) share one function:
    `shared` maps the text of a kernel's unlowered body to the function that computes it."""
    reads = [v for p in fused.values() for v in p.ins]
    operands = list(kernel.operands)
    if store is not None:
        assert isinstance(kernel, tile.KernelOp)
        operands = [*kernel.ins, store.dest]  # the product's own output buffer is not written
    buffers = [v for v in dict.fromkeys([*reads, *operands]) if v not in fused]
    kind = "copy" if isinstance(kernel, tile.CopyOp) else kernel.kind.data.removeprefix("qtfm.")
    hint = buffers[-1].name_hint
    name = f"{parent.sym_name.data}_{index}_{kind}" + (f"_{hint}" if hint else "")
    body = Block(arg_types=[v.type for v in buffers])
    body.add_op(func.ReturnOp())
    callee = func.FuncOp("kernel", ([v.type for v in buffers], []), Region(body), visibility="private")
    callee.attributes[NOINLINE_ATTR] = UnitAttr()
    inside = dict(zip(buffers, body.args, strict=True))
    # the kernel and its fused producers, cloned onto the function's arguments; a fused
    # producer's output buffer stands for its inline computation and is never read
    stand_ins: dict[SSAValue, SSAValue] = {}
    clones: dict[SSAValue, tile.KernelOp] = {}
    for value in fused:
        stand_ins[value] = _placeholder(value, body)
    if store is not None:
        assert isinstance(kernel, tile.KernelOp)
        stand_ins[kernel.outs[0]] = _placeholder(kernel.outs[0], body)
    mapping = {**inside, **stand_ins}
    for value, producer in fused.items():
        clones[stand_ins[value]] = producer.clone(value_mapper=dict(mapping))
    clone = kernel.clone(value_mapper=dict(mapping))
    Rewriter.insert_op(clone, InsertPoint.at_start(body))
    if shared is not None:
        key = "\n".join([str(callee), *_fused_text(clones, body), repr(store.steps) if store else ""])
        if key in shared:
            for c in [*clones.values(), *body.ops]:
                c.drop_all_references()
            Rewriter.insert_op(func.CallOp(shared[key], buffers, []), InsertPoint.before(kernel))
            return
        shared[key] = name
    callee.sym_name = StringAttr(name)
    for value, arg in inside.items():
        arg.name_hint = value.name_hint
    b = LoopBuilder.before(clone, InsertPoint.at_start(body), {})
    place = store.place(b, inside[store.dest]) if store is not None else None
    _lower(b, clone, clones, place, simd is not None and kernel in simd)
    body.erase_op(clone)
    for c in clones.values():
        c.drop_all_references()
    for s in stand_ins.values():
        assert isinstance(s.owner, Operation)
        body.erase_op(s.owner, safe_erase=False)
    Rewriter.insert_op(callee, InsertPoint.after(parent))
    Rewriter.insert_op(func.CallOp(name, buffers, []), InsertPoint.before(kernel))


def _use_packed_weights(kernels: list[tile.KernelOp | tile.CopyOp], top: InsertPoint) -> set[tile.KernelOp]:
    """The linear kernels that get SIMD dot products, each made to read its weight packed
    for them (a `tile.weight "name@nk"`, N x K, at the top of the function, one per weight)."""
    packed: dict[str, SSAValue] = {}
    chosen: set[tile.KernelOp] = set()
    for kernel in kernels:
        if not isinstance(kernel, tile.KernelOp):
            continue
        if simd_gemm.applies(kernel):
            suffix = simd_gemm.PACKED_SUFFIX
        elif simd_halfword.applies_linear(kernel):
            suffix = simd_halfword.INTERLEAVED_SUFFIX
        else:
            continue
        weight = kernel.ins[1].owner
        assert isinstance(weight, tile.WeightOp)
        name = weight.sym.data + suffix
        if name not in packed:
            new = tile.WeightOp(name, simd_gemm.packed_weight_type(kernel.ins[1]))
            Rewriter.insert_op(new, top)
            packed[name] = new.result
        operands = list(kernel.operands)
        operands[1] = packed[name]
        kernel.operands = operands
        chosen.add(kernel)
    return chosen


def _read_transposed_rhs(kernels: list[tile.KernelOp | tile.CopyOp], block: Block) -> set[tile.KernelOp]:
    """Matmuls made to read their right-hand side transposed (simd_gemm.transposed_rhs): the
    transposes they read are erased, so a key projection is stored once, in the layout the
    dot products want."""
    chosen: set[tile.KernelOp] = set()
    for t in simd_gemm.transposed_rhs(kernels):
        source, result = t.ins[0], t.outs[0]
        for use in list(result.uses):
            if use.operation is not t:
                reader = use.operation
                assert isinstance(reader, tile.KernelOp)
                operands = list(reader.operands)
                operands[use.index] = source
                reader.operands = operands
                chosen.add(reader)
        block.erase_op(t)
    return chosen


def _fused_text(clones: dict[SSAValue, tile.KernelOp], body: Block) -> list[str]:
    """The fused producers (not in the body: they are computed inside the kernel's loop), each
    with the positions of its operands among the body's arguments and placeholders."""
    values = [*body.args, *(op.results[0] for op in body.ops if isinstance(op, tile.AllocOp))]
    position = {v: i for i, v in enumerate(values)}
    return [
        f"{c.kind.data} {c.attributes} {[position.get(v, -1) for v in c.operands]} -> {position[stand_in]}"
        for stand_in, c in clones.items()
    ]


def _placeholder(value: SSAValue, body: Block) -> SSAValue:
    """A buffer value inside `body` standing for a fused producer's output (never lowered)."""
    alloc = tile.AllocOp(value.type, "fused")  # type: ignore[arg-type]
    Rewriter.insert_op(alloc, InsertPoint.at_start(body))
    return alloc.result
