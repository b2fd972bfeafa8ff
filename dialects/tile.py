"""The `tile` dialect: qtfm's computations on explicit buffers in named memory levels.

Between the tensor program (qtfm) and loops sits a program on memory: every intermediate
tensor becomes a buffer allocated in a memory level (`#tile.mem<L2>`), weights are read-only
buffers in flash, each qtfm op becomes a `tile.kernel` that reads its `ins` and writes its
`outs`, and `tile.copy` moves data between levels (a DMA on targets that have one). The memory
planner gives every `tile.alloc` a static byte `offset` inside its level's arena; from then on
the program's memory is fixed at compile time, which is what an MCU needs.

    %x = tile.alloc #tile.mem<L2> offset 256 : memref<16x64xi8>
    %w = tile.weight "l0.wq" : memref<64x64xi8>
    tile.kernel "qtfm.linear" ins(%x, %w : memref<16x64xi8>, memref<64x64xi8>)
        outs(%y : memref<16x64xi8>) {requant = #qtfm.requant<...>}

A `tile.kernel` carries the qtfm op's name and properties unchanged, so the integer semantics
of docs/quantization.md apply as written; its verifier re-checks them by building the qtfm op
on tensors of the buffers' shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Block, Dialect, Operation, ParametrizedAttribute, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

IntMemRef = MemRefType[IntegerType]


@irdl_attr_definition
class MemLevelAttr(ParametrizedAttribute):
    """A named memory level of the target (`L1`, `L2`, `flash`...), as its target file lists."""

    name = "tile.mem"
    level: StringAttr

    def __init__(self, level: str | StringAttr) -> None:
        super().__init__(StringAttr(level) if isinstance(level, str) else level)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            return (StringAttr(parser.parse_identifier("memory level name")),)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.level.data}>")

    def verify(self) -> None:
        if not self.level.data.isidentifier():
            raise VerifyException(f"memory level name '{self.level.data}' must be an identifier")


def memref_bytes(typ: Attribute) -> int:
    """Bytes of a statically shaped integer memref, elements rounded up to whole bytes."""
    assert isinstance(typ, MemRefType) and isinstance(typ.element_type, IntegerType)
    count = 1
    for d in typ.get_shape():
        count *= d
    return count * ((typ.element_type.width.data + 7) // 8)


def _static_int_memref(value: SSAValue, op: Operation, what: str) -> MemRefType[IntegerType]:
    typ = value.type
    if not isinstance(typ, MemRefType) or not isinstance(typ.element_type, IntegerType):
        raise VerifyException(f"'{op.name}' {what} must be an integer memref, got {typ}")
    if any(d < 0 for d in typ.get_shape()):
        raise VerifyException(f"'{op.name}' {what} must have a static shape, got {typ}")
    return typ


@irdl_op_definition
class AllocOp(IRDLOperation):
    """A buffer in a memory level's arena; `offset` (bytes) is set by the memory planner."""

    name = "tile.alloc"
    level = prop_def(MemLevelAttr)
    offset = opt_prop_def(IntegerAttr[I64])
    result = result_def(IntMemRef)
    assembly_format = "qualified($level) (`offset` $offset^)? attr-dict `:` type($result)"

    def __init__(self, typ: MemRefType, level: str, offset: int | None = None) -> None:
        props: dict[str, Attribute] = {"level": MemLevelAttr(level)}
        if offset is not None:
            props["offset"] = IntegerAttr(offset, I64)
        super().__init__(properties=props, result_types=[typ])

    @property
    def byte_offset(self) -> int | None:
        return None if self.offset is None else self.offset.value.data

    def verify_(self) -> None:
        _static_int_memref(self.result, self, "result")
        if self.offset is not None and self.offset.value.data < 0:
            raise VerifyException(f"'tile.alloc' offset must be >= 0, got {self.offset.value.data}")


@irdl_op_definition
class WeightOp(IRDLOperation):
    """A read-only buffer in flash holding the module's named weight (`qtfm.weight`)."""

    name = "tile.weight"
    sym = prop_def(StringAttr)
    result = result_def(IntMemRef)
    traits = traits_def(Pure())
    assembly_format = "$sym attr-dict `:` type($result)"

    def __init__(self, name: str, typ: MemRefType) -> None:
        super().__init__(properties={"sym": StringAttr(name)}, result_types=[typ])

    def verify_(self) -> None:
        _static_int_memref(self.result, self, "result")
        if not self.sym.data:
            raise VerifyException("'tile.weight' needs a non-empty name")


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A read-only buffer in flash holding an inline constant (a splat or small table)."""

    name = "tile.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(IntMemRef)
    traits = traits_def(Pure())
    assembly_format = "$value attr-dict `->` type($result)"

    def __init__(self, value: DenseIntOrFPElementsAttr, typ: MemRefType) -> None:
        super().__init__(properties={"value": value}, result_types=[typ])

    def verify_(self) -> None:
        typ = _static_int_memref(self.result, self, "result")
        vtype = self.value.get_type()
        if not isinstance(vtype, TensorType) or tuple(vtype.get_shape()) != tuple(typ.get_shape()):
            raise VerifyException(f"'tile.constant' value type {vtype} does not match the buffer {typ}")
        if vtype.element_type != typ.element_type:
            raise VerifyException("'tile.constant' value and buffer element types differ")


@irdl_op_definition
class ViewOp(IRDLOperation):
    """The same bytes seen with another shape (a reshape costs nothing on memory)."""

    name = "tile.view"
    source = operand_def(IntMemRef)
    result = result_def(IntMemRef)
    traits = traits_def(Pure())
    assembly_format = "$source attr-dict `:` type($source) `to` type($result)"

    def verify_(self) -> None:
        src = _static_int_memref(self.source, self, "source")
        dst = _static_int_memref(self.result, self, "result")
        if memref_bytes(src) != memref_bytes(dst) or src.element_type != dst.element_type:
            raise VerifyException(f"'tile.view' cannot view {src} as {dst}")


@irdl_op_definition
class WindowOp(IRDLOperation):
    """A contiguous 1-D window of a buffer starting `offset` elements (an index, possibly a
    loop variable) into it: how a loop hands one row or block to a runtime kernel. A window
    of dynamic length (`memref<?xi8>`) is a plain pointer: the callee knows its extent."""

    name = "tile.window"
    source = operand_def(IntMemRef)
    offset = operand_def(IndexType)
    result = result_def(IntMemRef)
    traits = traits_def(Pure())
    assembly_format = "$source `[` $offset `]` attr-dict `:` type($source) `to` type($result)"

    def verify_(self) -> None:
        src = _static_int_memref(self.source, self, "source")
        dst = self.result.type
        if (
            not isinstance(dst, MemRefType)
            or len(dst.get_shape()) != 1
            or dst.element_type != src.element_type
        ):
            raise VerifyException(f"'tile.window' result must be a 1-D window of {src}, got {dst}")
        if dst.get_shape()[0] >= 0 and memref_bytes(dst) > memref_bytes(src):
            raise VerifyException(f"'tile.window' window {dst} is larger than its buffer {src}")


@irdl_op_definition
class CopyOp(IRDLOperation):
    """Copies a buffer into another of the same type, possibly in another memory level."""

    name = "tile.copy"
    source = operand_def(IntMemRef)
    dest = operand_def(IntMemRef)
    assembly_format = "$source `,` $dest attr-dict `:` type($source) `,` type($dest)"

    def verify_(self) -> None:
        src = _static_int_memref(self.source, self, "source")
        dst = _static_int_memref(self.dest, self, "dest")
        if src.get_shape() != dst.get_shape() or src.element_type != dst.element_type:
            raise VerifyException(f"'tile.copy' source {src} and destination {dst} differ")


@irdl_op_definition
class KernelOp(IRDLOperation):
    """One qtfm op on buffers: reads `ins`, writes `outs`; the op's properties ride along as
    attributes. Verified by building the qtfm op on tensors of the same shapes."""

    name = "tile.kernel"
    kind = prop_def(StringAttr)
    ins = var_operand_def(IntMemRef)
    outs = var_operand_def(IntMemRef)
    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    assembly_format = "$kind `ins` `(` $ins `:` type($ins) `)` `outs` `(` $outs `:` type($outs) `)` attr-dict"

    def __init__(
        self, kind: str, ins: Sequence[SSAValue], outs: Sequence[SSAValue], params: dict[str, Attribute]
    ) -> None:
        super().__init__(
            operands=[list(ins), list(outs)],
            properties={"kind": StringAttr(kind)},
            attributes=dict(params),
        )

    def verify_(self) -> None:
        from dialects import qtfm

        for v in (*self.ins, *self.outs):
            _static_int_memref(v, self, "operand")
        op_type = next((o for o in qtfm.QTFM.operations if o.name == self.kind.data), None)
        if op_type is None or op_type is qtfm.WeightOp:
            raise VerifyException(f"'tile.kernel' kind '{self.kind.data}' is not a qtfm compute op")
        if len(self.outs) != 1:
            raise VerifyException(f"'tile.kernel' writes exactly one buffer, got {len(self.outs)}")
        block = Block(arg_types=[_as_tensor(v.type) for v in self.ins])
        definition = op_type.get_irdl_definition()
        props = {n: a for n, a in self.attributes.items() if n in definition.properties}
        operands: list[SSAValue | None | Sequence[SSAValue]] = list(block.args)
        if op_type is qtfm.ConcatOp:
            operands = [list(block.args)]
        else:
            while len(operands) < len(definition.operands):
                operands.append(None)
        try:
            probe = op_type.build(
                operands=operands, result_types=[_as_tensor(self.outs[0].type)], properties=props
            )
            probe.verify()
        except (VerifyException, ValueError) as e:
            raise VerifyException(f"'tile.kernel' {self.kind.data}: {e}") from e


def _as_tensor(typ: Attribute) -> TensorType:
    assert isinstance(typ, MemRefType)
    return TensorType(typ.element_type, typ.get_shape())


TILE = Dialect(
    "tile",
    [AllocOp, WeightOp, ConstantOp, ViewOp, WindowOp, CopyOp, KernelOp],
    [MemLevelAttr],
)
