"""The pass pipeline `mote compile` runs: a string, exactly as `mote-opt -p` takes it.

The driver only chooses the pipeline for a target; every stage is IR that `mote-opt` can
print, parse and run the next pass on, and `--dump-ir` writes each one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

from compiler.backend.target import Target
from compiler.tools.ir_files import mote_context
from compiler.universe import get_mote_passes

GRAPH_PIPELINE = "fuse-linear,fuse-requant"
"""Graph-level fusions on qtfm; the result is the reference program `mote run` checks against."""

LOWERING_PIPELINE = "qtfm-to-tile,tile-to-loops,plan-memory"
"""From qtfm to buffers with a static memory plan, then to loops that the C emitter prints."""
XPULP_LOWERING_PIPELINE = "qtfm-to-tile,tile-to-loops{simd=xpulp},plan-memory"
"""The same for cores with Xpulp / CORE-V packed SIMD: int8 linear layers on dot products."""


def lowering_pipeline(target: Target) -> str:
    """The lowering for a target: with SIMD kernels when its ISA has the CORE-V extensions."""
    return XPULP_LOWERING_PIPELINE if "xcvsimd" in target.isa else LOWERING_PIPELINE


def run_pipeline(
    module: ModuleOp, spec: str, after_each: Callable[[int, str, ModuleOp], None] | None = None
) -> list[str]:
    """Applies the passes of `spec` to `module` in place; returns their names in order."""
    names: list[str] = []

    def callback(previous: ModulePass | None, mod: ModuleOp, _next: ModulePass | None) -> None:
        if previous is not None:
            names.append(previous.name)
            mod.verify()
            if after_each is not None:
                after_each(len(names), previous.name, mod)

    PassPipeline.parse_spec(get_mote_passes(), spec, callback).apply(mote_context(), module)
    return names


def stage_path(directory: Path, index: int, name: str) -> Path:
    return directory / f"{index:02d}-{name}.mlir"
