"""Kernels that stay hand-written: calls into runtime_c's bit-exact C kernels.

Softmax, ITAMax, the norms, GELU, hardswish, the integer divisions and the masked mean are
long row-wise integer algorithms (exponent polynomials, integer square roots, divisions) that
gain nothing from being generated; runtime_c/src/kernels_*.c implements them once, tested
bit-exact against the reference. compiler/backend/runtime_kernels.py says which C function
serves an op and its types, its scalar arguments, and over which outer dimensions the caller
must loop (when a mask or an operand broadcasts in a way one call cannot express). Here each
such kernel becomes that loop of `func.call`s on `tile.window` pointers, and the function is
declared once in the module as an external `func.func`.
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import DYNAMIC_INDEX, IntegerAttr, IntegerType, MemRefType, ModuleOp, i32
from xdsl.ir import Attribute, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from compiler.backend.runtime_kernels import KernelCallError, runtime_call
from compiler.errors import MoteError
from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import count, elem_of, flat, shape_of
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
MASKED = {"qtfm.softmax", "qtfm.mean"}
NORMS = {"qtfm.rmsnorm", "qtfm.layernorm", "qtfm.layernorm_trunc"}


class RuntimeDeclarations:
    """The external `func.func` declarations of the runtime kernels a module calls."""

    def __init__(self, module: ModuleOp) -> None:
        self.module = module
        self.declared = {
            f.sym_name.data for f in module.ops if isinstance(f, func.FuncOp) and f.is_declaration
        }

    def declare(self, name: str, types: list[Attribute]) -> None:
        if name in self.declared:
            return
        decl = func.FuncOp.external(name, types, [])
        Rewriter.insert_op(decl, InsertPoint.at_start(self.module.body.block))
        self.declared.add(name)


def _sig(v: SSAValue) -> tuple[tuple[int, ...], str]:
    return shape_of(v), str(elem_of(v))


def _params(op: tile.KernelOp) -> dict[str, int]:
    p = op.attributes.get("params")
    if p is not None:
        return p.as_dict()  # type: ignore[attr-defined]
    axis = op.attributes.get("axis")
    if isinstance(axis, IntegerAttr):
        return {"axis": axis.value.data}
    return {}


def _widened(b: LoopBuilder, v: SSAValue, level: str) -> SSAValue:
    """A norm's weight or bias as int32 (the kernels read int32_t): widened into an arena buffer
    of `level` when it is narrower."""
    if elem_of(v) == i32:
        return v
    wide = b.emit(tile.AllocOp(MemRefType(i32, shape_of(v)), level))
    fv, fw = flat(b, v), flat(b, wide)
    b.loop(count(shape_of(v)), lambda b, i, _: b.store(b.widen(b.load(fv, [i])), fw, [i]))
    return wide


def _level(buf: SSAValue) -> str:
    """The memory level of an arena buffer; a function argument counts as the main RAM."""
    owner = buf.owner
    return owner.level.level.data if isinstance(owner, tile.AllocOp) else "L2"


def _pointer(b: LoopBuilder, buf: SSAValue, offset: SSAValue) -> SSAValue:
    elem = elem_of(buf)
    assert isinstance(elem, IntegerType)
    return b.emit(
        tile.WindowOp.build(operands=[buf, offset], result_types=[MemRefType(elem, [DYNAMIC_INDEX])])
    )


def lower_call(b: LoopBuilder, op: tile.KernelOp, calls: RuntimeDeclarations) -> None:
    kind = op.kind.data
    ins = list(op.ins)
    mask = ins.pop() if kind in MASKED and len(ins) == 2 else None
    out = op.outs[0]
    try:
        call = runtime_call(
            kind, _params(op), [_sig(v) for v in ins], _sig(out), _sig(mask) if mask else None
        )
    except KernelCallError as e:
        raise MoteError(f"tile-to-loops: {e}") from None
    if kind in NORMS:
        ins = [ins[0], *(_widened(b, v, _level(out)) for v in ins[1:])]
    pointers = [*ins, *([mask] if mask is not None else []), out]
    # The call's pointer arguments: every operand from its start; with `outer`, one call per
    # outer index with the operands advanced by the given strides.
    strides = call.strides or tuple(() for _ in pointers)
    scalars = [b.const(v, IntegerType(width)) for v, width in call.scalars]
    types = [MemRefType(elem_of(p), [DYNAMIC_INDEX]) for p in pointers] + [s.type for s in scalars]
    calls.declare(call.function, types)

    def at(b: LoopBuilder, index: list[SSAValue]) -> None:
        args = []
        for p, st in zip(pointers, strides, strict=True):
            terms = [b.mul(i, b.idx(s)) for i, s in zip(index, st, strict=True) if s]
            offset = terms[0] if terms else b.idx(0)
            for term in terms[1:]:
                offset = b.add(offset, term)
            args.append(_pointer(b, p, offset))
        b.emit(func.CallOp(call.function, [*args, *scalars], []))

    b.nest(call.outer, at)
