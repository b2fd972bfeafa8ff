"""`fuse-linear`: recognise a fully connected layer in `matmul` + bias `add`.

`qtfm.matmul %x, %w` with a 2-D weight, whose only user adds a 1-D weight of N values (the
bias), becomes `qtfm.linear %x, %w, %b`. Integer exporters emit this pair for every
projection; the fused op tells later stages that the weight is constant (to be packed in
flash) and that the bias is added once per output, in the accumulator.
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


def _weight_shape(v: SSAValue) -> tuple[int, ...] | None:
    if not isinstance(v.owner, qtfm.WeightOp):
        return None
    return tuple(v.type.get_shape())  # type: ignore[attr-defined]


class MatmulBiasToLinear(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qtfm.AddOp, rewriter: PatternRewriter) -> None:
        if op.requant is not None:
            return
        for acc, bias in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            mm = acc.owner
            if not isinstance(mm, qtfm.MatmulOp) or mm.requant is not None:
                continue
            w_shape = _weight_shape(mm.rhs)
            if w_shape is None or len(w_shape) != 2 or not acc.has_one_use():
                continue
            if _weight_shape(bias) != (w_shape[1],) or op.result.type != mm.result.type:
                continue
            linear = qtfm.LinearOp.build(operands=[mm.lhs, mm.rhs, bias], result_types=[op.result.type])
            linear.result.name_hint = op.result.name_hint
            rewriter.replace(op, linear)
            rewriter.erase(mm)
            return


@dataclass(frozen=True)
class FuseLinear(ModulePass):
    name = "fuse-linear"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(MatmulBiasToLinear(), apply_recursively=False).rewrite_module(op)
