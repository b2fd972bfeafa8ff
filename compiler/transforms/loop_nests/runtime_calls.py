"""Kernels that stay hand-written: calls into runtime_c's bit-exact C kernels.

(placeholder until the runtime kernel contract lands: every such kernel is refused loudly)
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from compiler.errors import NotImplementedYet
from compiler.transforms.loop_nests.builder import LoopBuilder
from dialects import tile

RUNTIME_KERNELS = {
    "qtfm.softmax",
    "qtfm.ita_softmax",
    "qtfm.rmsnorm",
    "qtfm.layernorm",
    "qtfm.layernorm_trunc",
    "qtfm.gelu",
    "qtfm.hardswish",
    "qtfm.div",
    "qtfm.int_div",
    "qtfm.mean",
}


class RuntimeDeclarations:
    def __init__(self, module: ModuleOp) -> None:
        self.module = module


def lower_call(b: LoopBuilder, op: tile.KernelOp, calls: RuntimeDeclarations) -> None:
    raise NotImplementedYet(f"tile-to-loops: runtime call for {op.kind.data}")
