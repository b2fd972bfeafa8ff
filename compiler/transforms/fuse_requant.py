"""`fuse-requant`: fold a `qtfm.requant` into the op that produces its accumulator.

`%a = qtfm.matmul %x, %w` followed by `%y = qtfm.requant %a, #q` becomes
`%y = qtfm.matmul %x, %w requant #q` when the requant is the accumulator's only user. The
semantics are unchanged (requant of the exact accumulator) and the int32 intermediate tensor
disappears, which is what lets later stages requantize in registers instead of in memory.
Applies to matmul, linear, add and mul.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from dialects import qtfm

FUSABLE = (qtfm.MatmulOp, qtfm.LinearOp, qtfm.AddOp, qtfm.MulOp)


class FuseRequantIntoProducer(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qtfm.RequantOp, rewriter: PatternRewriter) -> None:
        producer = op.input.owner
        if not isinstance(producer, FUSABLE) or producer.requant is not None:
            return
        if not producer.result.has_one_use():
            return
        operands: list[SSAValue | None] = list(producer.operands)
        if isinstance(producer, qtfm.LinearOp) and producer.bias is None:
            operands.append(None)  # the optional bias operand keeps its place
        fused = type(producer).build(
            operands=operands,
            result_types=[op.result.type],
            properties={**producer.properties, "requant": op.params},
            attributes=dict(producer.attributes),
        )
        fused.result.name_hint = op.result.name_hint
        rewriter.replace(op, fused)
        rewriter.erase(producer)


@dataclass(frozen=True)
class FuseRequant(ModulePass):
    name = "fuse-requant"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(FuseRequantIntoProducer(), apply_recursively=False).rewrite_module(op)
