"""The `xpulp` dialect: the PULP / CORE-V (CV32E40P) instructions mote's kernels use.

Scalar loop nests (scf/arith/memref after `tile-to-loops`) do one multiply-accumulate per
instruction. A CV32E40P core has packed SIMD: `cv.sdotsp.b` multiplies four signed bytes of
one register by four of another and adds the four products to an accumulator in one cycle.
These ops say so in the IR, on 32-bit values, with the exact semantics of the instruction; the
C emitter prints each as the intrinsic of the same name in runtime_c/include/xpulp.h, which is
CORE-V inline assembly on the rv32imc-xcv target and bit-identical portable C elsewhere. The
post-increment loads and stores print as plain C (clang forms the post-increment forms itself)
and a hardware loop as an ordinary counted loop (clang-19 has no xcvhwlp); `dot_block`, a
register block's whole reduction, is the one real hardware loop: inline assembly with
`cv.setup` on CORE-V (compiler/backend/xpulp_asm.py).

    %w = xpulp.load_word %buf[%i] : memref<128xi8>        // 4 bytes from element i, one lw
    %acc1 = xpulp.sdotsp_b %acc0, %a, %w : i32            // acc0 + sum_j a.b[j] * w.b[j]
    %y = xpulp.clip %x {bits = 8 : i64} : i32             // cv.clip: clamp to [-128, 127]
    %p = xpulp.pack_b hi %lo, %b3, %b2 : i32              // cv.packhi.b: bytes 3, 2 of a word
    %v, %next = xpulp.load_postinc %buf[%i] step 1 : memref<128xi8>   // cv.lb rD, 1(rs1!)
    xpulp.hwloop %k, count %n : index { ... }             // cv.setup: a zero-overhead loop

Dot products and MACs wrap around in 32 bits like the hardware; the compiler uses them only
where the accumulator's bound (operand types times the reduction length) proves that nothing
wraps, so they compute the exact integers of docs/quantization.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    I32,
    I64,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    UnitAttr,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    MemoryReadEffect,
    MemoryWriteEffect,
    Pure,
    RecursiveMemoryEffect,
    SingleBlockImplicitTerminator,
    ensure_terminator,
)
from xdsl.utils.exceptions import VerifyException

WORD_LANE_WIDTHS = (8, 16)
"""Element widths a packed word can be loaded from (four bytes or two halfwords make 32 bits)."""


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


@irdl_op_definition
class SdotuspHOp(_DotOp):
    """`cv.sdotusp.h`: two unsigned halfwords (lhs) times two signed halfwords (rhs), plus acc."""

    name = "xpulp.sdotusp_h"


DOT_OPS: tuple[type[_DotOp], ...] = (SdotspBOp, SdotuspBOp, SdotupBOp, SdotspHOp, SdotuspHOp)


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


@irdl_op_definition
class SraHOp(IRDLOperation):
    """`cv.sra.sci.h`: each halfword of the word shifted right arithmetically by `shift`
    (0..15). By 8, a word whose halfwords hold bytes in their high halves becomes those bytes
    sign-extended to halfwords: how int8 operands reach the 16-bit dot products."""

    name = "xpulp.sra_h"
    input = operand_def(I32)
    shift = prop_def(IntegerAttr[I64])
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($result)"
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, x: SSAValue | Operation, shift: int) -> None:
        super().__init__(operands=[x], result_types=[i32], properties={"shift": IntegerAttr(shift, i64)})

    def verify_(self) -> None:
        if not 0 <= self.shift.value.data <= 15:
            raise VerifyException(f"'xpulp.sra_h' shift must be in 0..15, got {self.shift.value.data}")


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
    """Four consecutive 8-bit (or two 16-bit) elements of a buffer from element `index` on, as
    one 32-bit word (element `index` in the low lane, RISC-V being little-endian): one `lw`
    (`cv.lw` with post-increment once the C compiler walks a pointer). The element offset must
    be a multiple of the lanes per word from a 4-byte aligned buffer start for the load to be
    aligned."""

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
        if not isinstance(elem, IntegerType) or elem.width.data not in WORD_LANE_WIDTHS:
            raise VerifyException(f"'xpulp.load_word' reads 8- or 16-bit elements, got {typ}")
        if len(typ.get_shape()) != 1:
            raise VerifyException(f"'xpulp.load_word' reads a 1-D buffer (view it flat), got {typ}")


# ---- Register-blocked reductions as hardware loops ---------------------------------------------

DOT_BLOCK_KINDS = {"sdotsp_b": "cv.sdotsp.b", "sdotusp_b": "cv.sdotusp.b", "sdotup_b": "cv.sdotup.b"}
"""The byte dot products a `dot_block` can use, and their CORE-V mnemonics."""
DOT_BLOCK_MAX = 4
"""Largest block height or width: 16 accumulators, 8 operand words, two pointers and the count
are 27 of the 28 registers a function may allocate on RV32."""
IMM12_MAX = 2047


@irdl_op_definition
class DotBlockOp(IRDLOperation):
    """The whole reduction of a `rows` x `cols` register block on byte dot products, as one
    CV32E40P hardware loop:

        result[i * cols + j] = init[i * cols + j]
            + sum over t < words of  dot(lhs word at lhs_index + i * lhs_stride + 4 t,
                                          rhs word at rhs_index + j * rhs_stride + 4 t)

    (`dot` the `kind` instruction, wrapping in 32 bits like it). On CORE-V it is one `cv.setup`
    and a body of `rows + cols` word loads (post-increment, the other rows at immediate offsets)
    and `rows * cols` dot products, ending in a dot product, that the core repeats `words`
    times with no branch or counter: the strides must keep those offsets within 12-bit
    immediates. Elsewhere the C emitter prints the same computation as a counted loop.

        %acc:4 = xpulp.dot_block %a[%i], %w[%j] init(%z, %z, %z, %z) {kind = "sdotsp_b",
            rows = 2 : i64, cols = 2 : i64, lhs_stride = 64 : i64, rhs_stride = 64 : i64,
            words = 16 : i64} : memref<256xi8>, memref<256xi8> -> i32, i32, i32, i32
    """

    name = "xpulp.dot_block"
    lhs = operand_def(MemRefType)
    lhs_index = operand_def(IndexType)
    rhs = operand_def(MemRefType)
    rhs_index = operand_def(IndexType)
    inits = var_operand_def(I32)
    kind = prop_def(StringAttr)
    rows = prop_def(IntegerAttr[I64])
    cols = prop_def(IntegerAttr[I64])
    lhs_stride = prop_def(IntegerAttr[I64])
    rhs_stride = prop_def(IntegerAttr[I64])
    words = prop_def(IntegerAttr[I64])
    accs = var_result_def(I32)
    traits = traits_def(MemoryReadEffect())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$lhs `[` $lhs_index `]` `,` $rhs `[` $rhs_index `]` `init` `(` $inits `)` attr-dict "
        "`:` type($lhs) `,` type($rhs) `->` type($accs)"
    )

    def __init__(
        self,
        kind: str,
        lhs: SSAValue,
        lhs_index: SSAValue,
        lhs_stride: int,
        rhs: SSAValue,
        rhs_index: SSAValue,
        rhs_stride: int,
        inits: Sequence[SSAValue],
        rows: int,
        cols: int,
        words: int,
    ) -> None:
        props = {
            "kind": StringAttr(kind),
            **{
                n: IntegerAttr(v, i64)
                for n, v in (
                    ("rows", rows),
                    ("cols", cols),
                    ("lhs_stride", lhs_stride),
                    ("rhs_stride", rhs_stride),
                    ("words", words),
                )
            },
        }
        super().__init__(
            operands=[lhs, lhs_index, rhs, rhs_index, list(inits)],
            properties=props,
            result_types=[[i32] * len(inits)],
        )

    def get(self, name: str) -> int:
        attr = getattr(self, name)
        assert isinstance(attr, IntegerAttr)
        return attr.value.data

    @staticmethod
    def fits(rows: int, cols: int, lhs_stride: int, rhs_stride: int) -> bool:
        """Whether the loads of a block reach their rows with 12-bit immediate offsets."""
        return (rows - 1) * lhs_stride - 4 <= IMM12_MAX and (cols - 1) * rhs_stride - 4 <= IMM12_MAX

    def verify_(self) -> None:
        if self.kind.data not in DOT_BLOCK_KINDS:
            raise VerifyException(
                f"'xpulp.dot_block' kind must be one of {', '.join(DOT_BLOCK_KINDS)}, got '{self.kind.data}'"
            )
        rows, cols, words = self.get("rows"), self.get("cols"), self.get("words")
        strides = self.get("lhs_stride"), self.get("rhs_stride")
        if not (1 <= rows <= DOT_BLOCK_MAX and 1 <= cols <= DOT_BLOCK_MAX):
            raise VerifyException(
                f"'xpulp.dot_block' blocks are 1..{DOT_BLOCK_MAX} x 1..{DOT_BLOCK_MAX}, got {rows} x {cols}"
            )
        if len(self.inits) != rows * cols:
            raise VerifyException(
                f"'xpulp.dot_block' {rows} x {cols} block needs {rows * cols} accumulators, "
                f"got {len(self.inits)}"
            )
        if words < 1:
            raise VerifyException(f"'xpulp.dot_block' words must be at least 1, got {words}")
        if min(strides) < 1 or any(s % 4 for s in strides):
            raise VerifyException(f"'xpulp.dot_block' strides must be positive multiples of 4, got {strides}")
        if not self.fits(rows, cols, *strides):
            raise VerifyException(
                f"'xpulp.dot_block' row offsets exceed the 12-bit load immediate (strides {strides})"
            )
        for buf in (self.lhs, self.rhs):
            typ = buf.type
            assert isinstance(typ, MemRefType)
            elem = typ.element_type
            if not isinstance(elem, IntegerType) or elem.width.data != 8 or len(typ.get_shape()) != 1:
                raise VerifyException(f"'xpulp.dot_block' reads flat 8-bit buffers, got {typ}")


# ---- Packing and shuffling (xcvsimd) ---------------------------------------------------------


class _BinaryWordOp(IRDLOperation):
    lhs = operand_def(I32)
    rhs = operand_def(I32)
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation) -> None:
        super().__init__(operands=[lhs, rhs], result_types=[i32])


@irdl_op_definition
class PackHOp(_BinaryWordOp):
    """`cv.pack`: two halfwords into one word, `lhs[15:0]` high and `rhs[15:0]` low."""

    name = "xpulp.pack_h"


@irdl_op_definition
class PackBOp(IRDLOperation):
    """`cv.packlo.b` / `cv.packhi.b`: two bytes into one half of a word, the other half kept.

    `lo`: `rd[31:16]` kept, `lhs[7:0]` to bits 15:8, `rhs[7:0]` to bits 7:0 (cv.packlo.b);
    `hi`: `rd[15:0]` kept, `lhs[7:0]` to bits 31:24, `rhs[7:0]` to bits 23:16 (cv.packhi.b).
    The instruction reads its destination: `rd` is the word before, the result the word after.

        %w0 = xpulp.pack_b lo %zero, %b1, %b0 : i32
        %w = xpulp.pack_b hi %w0, %b3, %b2 : i32      // bytes b3 b2 b1 b0, b0 in lane 0
    """

    name = "xpulp.pack_b"
    rd = operand_def(I32)
    lhs = operand_def(I32)
    rhs = operand_def(I32)
    hi = opt_prop_def(UnitAttr)
    result = result_def(I32)
    traits = traits_def(Pure())

    def __init__(
        self, rd: SSAValue | Operation, lhs: SSAValue | Operation, rhs: SSAValue | Operation, hi: bool
    ) -> None:
        super().__init__(
            operands=[rd, lhs, rhs], result_types=[i32], properties={"hi": UnitAttr()} if hi else {}
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" hi " if self.hi is not None else " lo ")
        printer.print_list([self.rd, self.lhs, self.rhs], printer.print_ssa_value)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)

    @classmethod
    def parse(cls, parser: Parser) -> PackBOp:
        half = parser.expect(lambda: parser.parse_optional_keyword_in(("lo", "hi")), "expected `lo` or `hi`")
        rd = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        lhs = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        rhs = parser.parse_unresolved_operand()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        typ = parser.parse_type()
        operands = [parser.resolve_operand(v, typ) for v in (rd, lhs, rhs)]
        op = cls(*operands, hi=half == "hi")
        op.attributes |= attrs
        return op


@irdl_op_definition
class Pack4BOp(IRDLOperation):
    """Four bytes into one word, `b3[7:0]` in lane 3 (bits 31:24) ... `b0[7:0]` in lane 0: the
    `cv.packlo.b` + `cv.packhi.b` pair (operands most significant first, as in `pack_h`)."""

    name = "xpulp.pack4_b"
    b3 = operand_def(I32)
    b2 = operand_def(I32)
    b1 = operand_def(I32)
    b0 = operand_def(I32)
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$b3 `,` $b2 `,` $b1 `,` $b0 attr-dict `:` type($result)"

    def __init__(self, b3: SSAValue, b2: SSAValue, b1: SSAValue, b0: SSAValue) -> None:
        super().__init__(operands=[b3, b2, b1, b0], result_types=[i32])


@irdl_op_definition
class ShuffleBOp(IRDLOperation):
    """`cv.shuffle.b`: byte lane i of the result is byte `sel[8i+1:8i]` of `source` (the other
    bits of each selector byte are ignored)."""

    name = "xpulp.shuffle_b"
    source = operand_def(I32)
    sel = operand_def(I32)
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$source `,` $sel attr-dict `:` type($result)"

    def __init__(self, source: SSAValue | Operation, sel: SSAValue | Operation) -> None:
        super().__init__(operands=[source, sel], result_types=[i32])


@irdl_op_definition
class Shuffle2BOp(IRDLOperation):
    """`cv.shuffle2.b`: a byte shuffle of two words. With `s = sel[8i+2:8i]`, byte lane i of
    the result is byte `s & 3` of `source` if `s & 4`, else of `rd` (the destination register
    before the instruction)."""

    name = "xpulp.shuffle2_b"
    rd = operand_def(I32)
    source = operand_def(I32)
    sel = operand_def(I32)
    result = result_def(I32)
    traits = traits_def(Pure())
    assembly_format = "$rd `,` $source `,` $sel attr-dict `:` type($result)"

    def __init__(
        self, rd: SSAValue | Operation, source: SSAValue | Operation, sel: SSAValue | Operation
    ) -> None:
        super().__init__(operands=[rd, source, sel], result_types=[i32])


# ---- Post-increment loads and stores (xcvmem) ------------------------------------------------

POSTINC_WIDTHS = (8, 16, 32)
"""Element widths of the post-increment loads and stores: cv.lb/lbu, cv.lh/lhu, cv.lw, cv.sb...sw."""
POSTINC_IMM_BYTES = (-2048, 2047)
"""The increment of the immediate forms (`cv.lb rD, Imm(rs1!)`): a signed 12-bit byte count."""


class _PostIncOp(IRDLOperation):
    """An access to element `index` of a 1-D buffer that also returns `index + step`: the
    register-immediate post-increment forms, `step` elements of the buffer apart (the
    instruction's immediate is `step` times the element size in bytes)."""

    def _check_access(self, buf: SSAValue, step: int) -> int:
        typ = buf.type
        assert isinstance(typ, MemRefType)
        elem = typ.element_type
        if not isinstance(elem, IntegerType) or elem.width.data not in POSTINC_WIDTHS:
            raise VerifyException(f"'{self.name}' accesses 8-, 16- or 32-bit integers, got {typ}")
        if len(typ.get_shape()) != 1:
            raise VerifyException(f"'{self.name}' accesses a 1-D buffer (view it flat), got {typ}")
        width = elem.width.data
        lo, hi = POSTINC_IMM_BYTES
        if not lo <= step * width // 8 <= hi:
            raise VerifyException(
                f"'{self.name}' step of {step} elements is {step * width // 8} bytes, outside the "
                f"12-bit immediate's {lo}..{hi}"
            )
        return width


def _print_access(printer: Printer, buf: SSAValue, index: SSAValue, step: int) -> None:
    printer.print_ssa_value(buf)
    printer.print_string("[")
    printer.print_ssa_value(index)
    printer.print_string(f"] step {step}")


def _parse_access(parser: Parser) -> tuple[Parser.UnresolvedOperand, Parser.UnresolvedOperand, int]:
    buf = parser.parse_unresolved_operand()
    parser.parse_punctuation("[")
    index = parser.parse_unresolved_operand()
    parser.parse_punctuation("]")
    parser.parse_keyword("step")
    return buf, index, parser.parse_integer()


@irdl_op_definition
class LoadPostIncOp(_PostIncOp):
    """`cv.lb` / `cv.lbu` / `cv.lh` / `cv.lhu` / `cv.lw rD, Imm(rs1!)`: element `index` of the
    buffer, sign-extended to 32 bits (zero-extended with `unsigned`), and `index + step`.

        %x, %next = xpulp.load_postinc %buf[%i] step 1 : memref<64xi8>
        %u, %next2 = xpulp.load_postinc unsigned %buf[%next] step 1 : memref<64xi8>
    """

    name = "xpulp.load_postinc"
    source = operand_def(MemRefType)
    index = operand_def(IndexType)
    step = prop_def(IntegerAttr[I64])
    unsigned = opt_prop_def(UnitAttr)
    result = result_def(I32)
    next = result_def(IndexType)
    traits = traits_def(MemoryReadEffect())

    def __init__(
        self, source: SSAValue | Operation, index: SSAValue | Operation, step: int, unsigned: bool = False
    ) -> None:
        props: dict[str, Attribute] = {"step": IntegerAttr(step, i64)}
        if unsigned:
            props["unsigned"] = UnitAttr()
        super().__init__(operands=[source, index], result_types=[i32, IndexType()], properties=props)

    def verify_(self) -> None:
        width = self._check_access(self.source, self.step.value.data)
        if self.unsigned is not None and width == 32:
            raise VerifyException("'xpulp.load_postinc' unsigned applies to 8- and 16-bit elements (cv.lw)")

    def print(self, printer: Printer) -> None:
        printer.print_string(" unsigned " if self.unsigned is not None else " ")
        _print_access(printer, self.source, self.index, self.step.value.data)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.source.type)

    @classmethod
    def parse(cls, parser: Parser) -> LoadPostIncOp:
        unsigned = parser.parse_optional_keyword("unsigned") is not None
        buf, index, step = _parse_access(parser)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        typ = parser.parse_type()
        op = cls(parser.resolve_operand(buf, typ), parser.resolve_operand(index, IndexType()), step, unsigned)
        op.attributes |= attrs
        return op


@irdl_op_definition
class StorePostIncOp(_PostIncOp):
    """`cv.sb` / `cv.sh` / `cv.sw rs2, Imm(rs1!)`: the low bits of `value` into element `index`
    of the buffer; the result is `index + step`.

        %next = xpulp.store_postinc %v, %buf[%i] step 1 : memref<64xi8>
    """

    name = "xpulp.store_postinc"
    value = operand_def(I32)
    dest = operand_def(MemRefType)
    index = operand_def(IndexType)
    step = prop_def(IntegerAttr[I64])
    next = result_def(IndexType)
    traits = traits_def(MemoryWriteEffect())

    def __init__(
        self, value: SSAValue | Operation, dest: SSAValue | Operation, index: SSAValue | Operation, step: int
    ) -> None:
        super().__init__(
            operands=[value, dest, index],
            result_types=[IndexType()],
            properties={"step": IntegerAttr(step, i64)},
        )

    def verify_(self) -> None:
        self._check_access(self.dest, self.step.value.data)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.value)
        printer.print_string(", ")
        _print_access(printer, self.dest, self.index, self.step.value.data)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.dest.type)

    @classmethod
    def parse(cls, parser: Parser) -> StorePostIncOp:
        value = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        buf, index, step = _parse_access(parser)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        typ = parser.parse_type()
        op = cls(
            parser.resolve_operand(value, i32),
            parser.resolve_operand(buf, typ),
            parser.resolve_operand(index, IndexType()),
            step,
        )
        op.attributes |= attrs
        return op


# ---- Hardware loops (xcvhwlp) ----------------------------------------------------------------

HWLOOP_LEVELS = 2
"""CV32E40P has two hardware loop register sets: loop 0 (inner) and loop 1 (outer)."""


@irdl_op_definition
class HwLoopEndOp(IRDLOperation):
    """The end of a hardware loop's body (the address `cv.end` names); implicit in the custom
    syntax."""

    name = "xpulp.hwloop_end"
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(HwLoopOp)))
    assembly_format = "attr-dict"

    def __init__(self) -> None:
        super().__init__()


@irdl_op_definition
class HwLoopOp(IRDLOperation):
    """A CV32E40P hardware loop (`cv.setup`): the body runs `count` times with no branch, the
    back-jump done by the core. The body may take the iteration number (0 .. count-1) as its
    block argument, of the count's type (index or i32).

        xpulp.hwloop count %n : index {            // no induction value
          ...
        }
        xpulp.hwloop %k, count %n : index {        // %k = 0, 1, ..., n - 1
          ...
        }

    What the hardware allows is what the verifier checks: at most two nested levels (loop 0
    inner, loop 1 outer), a body of straight-line code (no branches, jumps or calls in it; only
    another hardware loop may nest), a count of at least 1 (a count of 0 leaves the loop
    inactive and the body runs once: a lowering must guard it). There are no loop-carried
    values: accumulators live in memory or in an enclosing loop. clang-19 has no xcvhwlp, so
    the C emitter prints an ordinary counted loop marked as a hardware loop, and the cycle
    model sees its branches."""

    name = "xpulp.hwloop"
    count = operand_def(IndexType | I32)
    body = region_def("single_block")
    traits = traits_def(SingleBlockImplicitTerminator(HwLoopEndOp), RecursiveMemoryEffect())

    def __init__(self, count: SSAValue | Operation, body: Region | Block | Sequence[Operation]) -> None:
        if isinstance(body, Block):
            body = Region(body)
        elif not isinstance(body, Region):
            body = Region(Block(body))
        super().__init__(operands=[count], regions=[body])

    @property
    def induction(self) -> SSAValue | None:
        args = self.body.block.args
        return args[0] if args else None

    def level(self) -> int:
        """The CV32E40P loop number: 0 for an innermost loop, 1 for one that holds a loop."""
        return int(any(isinstance(o, HwLoopOp) for o in self.body.walk() if o is not self))

    def verify_(self) -> None:
        typ = self.count.type
        args = self.body.block.args
        if len(args) > 1:
            raise VerifyException(
                f"'xpulp.hwloop' body takes at most one argument (the iteration), got {len(args)}"
            )
        if args and args[0].type != typ:
            raise VerifyException(
                f"'xpulp.hwloop' iteration argument is {args[0].type}, the count is {typ}: they must agree"
            )
        owner = self.count.owner
        if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
            if owner.value.value.data < 1:
                raise VerifyException(
                    f"'xpulp.hwloop' count must be at least 1, got {owner.value.value.data} "
                    "(a count of 0 runs the body once on CV32E40P)"
                )
        depth, parent = 1, self.parent_op()
        while parent is not None:
            depth += isinstance(parent, HwLoopOp)
            parent = parent.parent_op()
        if depth > HWLOOP_LEVELS:
            raise VerifyException(
                f"'xpulp.hwloop' nested {depth} deep: CV32E40P has {HWLOOP_LEVELS} hardware loop levels"
            )
        for op in self.body.block.ops:
            if isinstance(op, HwLoopOp):
                continue
            branchy = op.regions or op.name in ("func.call", "func.return", "cf.br", "cf.cond_br")
            if branchy:
                raise VerifyException(
                    f"'xpulp.hwloop' body must be straight-line code (no branches, jumps or calls on "
                    f"CV32E40P), found '{op.name}'"
                )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        if self.induction is not None:
            printer.print_ssa_value(self.induction)
            printer.print_string(", ")
        printer.print_string("count ")
        printer.print_ssa_value(self.count)
        printer.print_string(" : ")
        printer.print_attribute(self.count.type)
        printer.print_string(" ")
        printer.print_region(
            self.body, print_entry_block_args=False, print_empty_block=False, print_block_terminators=False
        )
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> HwLoopOp:
        induction = None
        if parser.parse_optional_keyword("count") is None:
            induction = parser.parse_argument(expect_type=False)
            parser.parse_punctuation(",")
            parser.parse_keyword("count")
        count = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        typ = parser.parse_type()
        body = parser.parse_region([induction.resolve(typ)] if induction is not None else [])
        attrs = parser.parse_optional_attr_dict()
        op = cls(parser.resolve_operand(count, typ), body)
        op.attributes |= attrs
        for trait in op.get_traits_of_type(SingleBlockImplicitTerminator):
            ensure_terminator(op, trait)
        return op


XPULP = Dialect(
    "xpulp",
    [
        SdotspBOp,
        SdotuspBOp,
        SdotupBOp,
        SdotspHOp,
        SdotuspHOp,
        SraHOp,
        DotBlockOp,
        MacOp,
        ClipOp,
        MinOp,
        MaxOp,
        LoadWordOp,
        PackHOp,
        PackBOp,
        Pack4BOp,
        ShuffleBOp,
        Shuffle2BOp,
        LoadPostIncOp,
        StorePostIncOp,
        HwLoopOp,
        HwLoopEndOp,
    ],
    [],
)
