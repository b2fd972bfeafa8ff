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
from xdsl.dialects.builtin import ModuleOp, UnitAttr
from xdsl.ir import Block, Region
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.backend.c_emitter import NOINLINE_ATTR
from compiler.errors import NotImplementedYet
from compiler.transforms.loop_nests import data_movement, elementwise, gemm, runtime_calls, softmax_table
from compiler.transforms.loop_nests.builder import LoopBuilder
from dialects import tile

Lowering = Callable[[LoopBuilder, tile.KernelOp], None]

LOOP_KERNELS: dict[str, Lowering] = {
    "qtfm.matmul": gemm.lower_matmul,
    "qtfm.linear": gemm.lower_linear,
    "qtfm.add": elementwise.lower_binary,
    "qtfm.mul": elementwise.lower_binary,
    "qtfm.requant": elementwise.lower_requant,
    "qtfm.lut": elementwise.lower_lut,
    "qtfm.transpose": data_movement.lower_transpose,
    "qtfm.slice": data_movement.lower_slice,
    "qtfm.concat": data_movement.lower_concat,
    "qtfm.kv_append": data_movement.lower_kv_append,
    "qtfm.embedding": data_movement.lower_embedding,
}


@dataclass(frozen=True)
class TileToLoops(ModulePass):
    """`outline` (default) puts each generated kernel in its own private function, called
    where the kernel was: the C has one function per kernel and instruction counts per
    function are counts per kernel."""

    name = "tile-to-loops"

    outline: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        calls = runtime_calls.RuntimeDeclarations(op)
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            block = f.body.block
            constants: dict = {}  # type: ignore[type-arg]
            top = InsertPoint.at_start(block)
            kernels = [o for o in block.ops if isinstance(o, tile.KernelOp | tile.CopyOp)]
            for index, kernel in enumerate(kernels):
                generated = isinstance(kernel, tile.CopyOp) or softmax_table.applies(kernel)
                if not generated and kernel.kind.data in runtime_calls.RUNTIME_KERNELS:  # type: ignore[union-attr]
                    runtime_calls.lower_call(LoopBuilder.before(kernel, top, constants), kernel, calls)
                elif self.outline:
                    _outlined(op, kernel, index, f)
                else:
                    _lower(LoopBuilder.before(kernel, top, constants), kernel)
                block.erase_op(kernel)


def _lower(b: LoopBuilder, kernel: tile.KernelOp | tile.CopyOp) -> None:
    if isinstance(kernel, tile.CopyOp):
        data_movement.copy(b, kernel.source, kernel.dest)
    elif softmax_table.applies(kernel):
        softmax_table.lower_softmax_table(b, kernel)
    elif kernel.kind.data in LOOP_KERNELS:
        LOOP_KERNELS[kernel.kind.data](b, kernel)
    else:
        raise NotImplementedYet(f"tile-to-loops: lowering of {kernel.kind.data}")


def _outlined(module: ModuleOp, kernel: tile.KernelOp | tile.CopyOp, index: int, parent: func.FuncOp) -> None:
    """Lowers `kernel` into a new private function of its buffers and calls it in its place."""
    buffers = list(kernel.operands)
    kind = "copy" if isinstance(kernel, tile.CopyOp) else kernel.kind.data.removeprefix("qtfm.")
    hint = buffers[-1].name_hint
    name = f"{parent.sym_name.data}_{index}_{kind}" + (f"_{hint}" if hint else "")
    body = Block(arg_types=[v.type for v in buffers])
    body.add_op(func.ReturnOp())
    callee = func.FuncOp(name, ([v.type for v in buffers], []), Region(body), visibility="private")
    callee.attributes[NOINLINE_ATTR] = UnitAttr()
    clone = kernel.clone()
    for i, arg in enumerate(body.args):
        arg.name_hint = buffers[i].name_hint
        clone.operands[i] = arg
    Rewriter.insert_op(clone, InsertPoint.at_start(body))
    _lower(LoopBuilder.before(clone, InsertPoint.at_start(body), {}), clone)
    body.erase_op(clone)
    Rewriter.insert_op(callee, InsertPoint.after(parent))
    Rewriter.insert_op(func.CallOp(name, buffers, []), InsertPoint.before(kernel))
