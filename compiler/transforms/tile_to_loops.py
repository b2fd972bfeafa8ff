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
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint

from compiler.errors import NotImplementedYet
from compiler.transforms.loop_nests import data_movement, elementwise, gemm, runtime_calls
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
    name = "tile-to-loops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        calls = runtime_calls.RuntimeDeclarations(op)
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            block = f.body.block
            constants: dict = {}  # type: ignore[type-arg]
            top = InsertPoint.at_start(block)
            for kernel in [o for o in block.ops if isinstance(o, tile.KernelOp | tile.CopyOp)]:
                b = LoopBuilder.before(kernel, top, constants)
                if isinstance(kernel, tile.CopyOp):
                    data_movement.copy(b, kernel.source, kernel.dest)
                elif kernel.kind.data in LOOP_KERNELS:
                    LOOP_KERNELS[kernel.kind.data](b, kernel)
                elif kernel.kind.data in runtime_calls.RUNTIME_KERNELS:
                    runtime_calls.lower_call(b, kernel, calls)
                else:
                    raise NotImplementedYet(f"tile-to-loops: lowering of {kernel.kind.data}")
                block.erase_op(kernel)
