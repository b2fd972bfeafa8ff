"""Saturation as one `cv.clip` (`tile-to-loops{simd=xpulp}`).

Requantization ends in a clamp to the output type's range, which the loop nests write as
`arith.maxsi` then `arith.minsi` with constant bounds: two instructions and two constants in
registers on RV32. When the bounds are a signed n-bit range [-2^(n-1), 2^(n-1) - 1] on 32-bit
values, CORE-V's `cv.clip rd, rs, n` does both in one cycle; this rewrite makes it an
`xpulp.clip` (either order of min and max).
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i32
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from dialects import xpulp


def _constant(v: SSAValue) -> int | None:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def _signed_bits(lo: int | None, hi: int | None) -> int | None:
    if lo is None or hi is None or hi < 0:
        return None
    bits = (hi + 1).bit_length()
    return bits if hi == (1 << (bits - 1)) - 1 and lo == -(1 << (bits - 1)) and bits <= 32 else None


class _ClampToClip(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.MinSIOp | arith.MaxSIOp, rewriter: PatternRewriter) -> None:
        if op.result.type != i32:
            return
        inner = op.lhs.owner
        other = arith.MaxSIOp if isinstance(op, arith.MinSIOp) else arith.MinSIOp
        if not isinstance(inner, other) or not inner.result.has_one_use():
            return
        outer_bound, inner_bound = _constant(op.rhs), _constant(inner.rhs)
        lo, hi = (inner_bound, outer_bound) if isinstance(op, arith.MinSIOp) else (outer_bound, inner_bound)
        bits = _signed_bits(lo, hi)
        if bits is None:
            return
        rewriter.replace_op(op, xpulp.ClipOp(inner.lhs, bits))
        rewriter.erase(inner)


def clamps_to_clips(module: ModuleOp) -> None:
    """Rewrites every signed n-bit clamp on i32 values in `module` into `xpulp.clip`."""
    PatternRewriteWalker(_ClampToClip(), apply_recursively=False).rewrite_module(module)
