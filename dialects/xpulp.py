"""The `xpulp` dialect: the PULP / CORE-V (CV32E40P) instructions mote's kernels use.

Scalar loop nests (scf/arith/memref after `tile-to-loops`) do one multiply-accumulate per
instruction. A CV32E40P core has packed SIMD: `cv.sdotsp.b` multiplies four signed bytes of
one register by four of another and adds the four products to an accumulator in one cycle.
These ops say so in the IR, on 32-bit values, with the exact semantics of the instruction; the
C emitter prints each as the intrinsic of the same name in runtime_c/include/xpulp.h, which is
CORE-V inline assembly on the rv32imc-xcv target and bit-identical portable C elsewhere.

    %w = xpulp.load_word %buf[%i] : memref<128xi8>        // 4 bytes from element i, one lw
    %acc1 = xpulp.sdotsp_b %acc0, %a, %w : i32            // acc0 + sum_j a.b[j] * w.b[j]
    %y = xpulp.clip %x {bits = 8 : i64} : i32             // cv.clip: clamp to [-128, 127]

Dot products and MACs wrap around in 32 bits like the hardware; the compiler uses them only
where the accumulator's bound (operand types times the reduction length) proves that nothing
wraps, so they compute the exact integers of docs/quantization.md.
"""

from __future__ import annotations

from xdsl.dialects.builtin import I32, I64, IndexType, IntegerAttr, IntegerType, MemRefType, i32, i64
from xdsl.ir import Dialect
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

BYTE_WIDTHS = (8,)
"""Element widths a packed word can be loaded from (four of them make 32 bits)."""


class _AccumulateOp(IRDLOperation):
    """`acc` plus products of `lhs` and `rhs`, in 32 bits."""

    acc = operand_def(I32)
    lhs = operand_def(I32)
    rhs = operand_def(I32)
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$acc `,` $lhs `,` $rhs attr-dict `:` type($result)"

    def __init__(self, acc, lhs, rhs) -> None:  # noqa: ANN001
        super().__init__(operands=[acc, lhs, rhs], result_types=[i32])


class _DotOp(_AccumulateOp):
    """`acc + sum of the lane products of a and b`, lanes as the instruction reads them."""


@irdl_op_definition
class SdotspBOp(_DotOp):
    """`cv.sdotsp.b`: four signed bytes times four signed bytes, plus the accumulator."""

    name = "xpulp.sdotsp_b"


@irdl_op_definition
class SdotuspBOp(_DotOp):
    """`cv.sdotusp.b`: four unsigned bytes (lhs) times four signed bytes (rhs), plus acc."""

    name = "xpulp.sdotusp_b"


@irdl_op_definition
class SdotupBOp(_DotOp):
    """`cv.sdotup.b`: four unsigned bytes times four unsigned bytes, plus the accumulator."""

    name = "xpulp.sdotup_b"


@irdl_op_definition
class SdotspHOp(_DotOp):
    """`cv.sdotsp.h`: two signed halfwords times two signed halfwords, plus the accumulator."""

    name = "xpulp.sdotsp_h"


DOT_OPS: tuple[type[_DotOp], ...] = (SdotspBOp, SdotuspBOp, SdotupBOp, SdotspHOp)


@irdl_op_definition
class MacOp(_AccumulateOp):
    """`cv.mac`: `acc + a * b` in 32 bits."""

    name = "xpulp.mac"


@irdl_op_definition
class ClipOp(IRDLOperation):
    """`cv.clip`: clamp to the signed range of `bits` bits, [-2^(bits-1), 2^(bits-1) - 1]
    (1 <= bits <= 32): a requantized value's saturation in one instruction."""

    name = "xpulp.clip"
    input = operand_def(I32)
    bits = prop_def(IntegerAttr[I64])
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($result)"
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, x, bits: int) -> None:  # noqa: ANN001
        super().__init__(operands=[x], result_types=[i32], properties={"bits": IntegerAttr(bits, i64)})

    def verify_(self) -> None:
        if not 1 <= self.bits.value.data <= 32:
            raise VerifyException(f"'xpulp.clip' bits must be in 1..32, got {self.bits.value.data}")


class _MinMaxOp(IRDLOperation):
    lhs = operand_def(I32)
    rhs = operand_def(I32)
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"

    def __init__(self, lhs, rhs) -> None:  # noqa: ANN001
        super().__init__(operands=[lhs, rhs], result_types=[i32])


@irdl_op_definition
class MinOp(_MinMaxOp):
    """`cv.min`: the signed minimum."""

    name = "xpulp.min"


@irdl_op_definition
class MaxOp(_MinMaxOp):
    """`cv.max`: the signed maximum."""

    name = "xpulp.max"


@irdl_op_definition
class LoadWordOp(IRDLOperation):
    """Four consecutive 8-bit elements of a buffer from element `index` on, as one 32-bit word
    (element `index` in the low byte, RISC-V being little-endian): one `lw` (`cv.lw` with
    post-increment once the C compiler walks a pointer). The element offset must be a multiple
    of 4 from a 4-byte aligned buffer start for the load to be aligned."""

    name = "xpulp.load_word"
    source = operand_def(MemRefType)
    index = operand_def(IndexType)
    result = result_def(I32)
    assembly_format = "$source `[` $index `]` attr-dict `:` type($source)"

    def __init__(self, source, index) -> None:  # noqa: ANN001
        super().__init__(operands=[source, index], result_types=[i32])

    def verify_(self) -> None:
        typ = self.source.type
        assert isinstance(typ, MemRefType)
        elem = typ.element_type
        if not isinstance(elem, IntegerType) or elem.width.data not in BYTE_WIDTHS:
            raise VerifyException(f"'xpulp.load_word' reads 8-bit elements, got {typ}")
        if len(typ.get_shape()) != 1:
            raise VerifyException(f"'xpulp.load_word' reads a 1-D buffer (view it flat), got {typ}")


XPULP = Dialect(
    "xpulp",
    [SdotspBOp, SdotuspBOp, SdotupBOp, SdotspHOp, MacOp, ClipOp, MinOp, MaxOp, LoadWordOp],
    [],
)
