"""Memory figures of a qtfm program before any memory planning: what `report.json` says
until the static planner and the C targets measure the real thing.

Flash is the bytes of the weights in their storage types. RAM is the peak, over the program's
op order, of the bytes of tensors alive at once (an op's operands and result are alive
together; inputs are alive from the start, results until the end). It is a property of the
unscheduled tensor program, not a measurement, and the report labels it so.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith, func
from xdsl.dialects.builtin import IntegerType, TensorType
from xdsl.ir import Attribute, SSAValue

from dialects import qtfm


def tensor_bytes(typ: Attribute) -> int:
    """Bytes of a tensor stored densely, each element in a whole number of bytes."""
    assert isinstance(typ, TensorType) and isinstance(typ.element_type, IntegerType)
    n = 1
    for d in typ.get_shape():
        n *= d
    return n * ((typ.element_type.width.data + 7) // 8)


@dataclass(frozen=True)
class Footprint:
    flash_bytes: int
    peak_ram_bytes: int
    peak_op: str
    ops: int


def footprint(f: func.FuncOp) -> Footprint:
    ops = list(f.body.block.ops)
    last_use: dict[SSAValue, int] = {}
    for i, op in enumerate(ops):
        for v in op.operands:
            last_use[v] = i
    end = len(ops)
    for v in f.body.block.args:
        last_use[v] = end  # the caller owns its buffers for the whole call
    if isinstance(ops[-1], func.ReturnOp):
        for v in ops[-1].operands:
            last_use[v] = end

    flash = 0
    live = {v: tensor_bytes(v.type) for v in f.body.block.args}
    peak, peak_op = sum(live.values()), "inputs"
    for i, op in enumerate(ops):
        if isinstance(op, qtfm.WeightOp | arith.ConstantOp):
            flash += tensor_bytes(op.results[0].type)
            continue
        for r in op.results:
            live[r] = tensor_bytes(r.type)
        now = sum(live.values())
        if now > peak:
            peak, peak_op = now, op.name
        for v in list(live):
            if last_use.get(v, i) <= i:
                del live[v]
    compute_ops = sum(1 for op in ops if not isinstance(op, qtfm.WeightOp | func.ReturnOp))
    return Footprint(flash, peak, peak_op, compute_ops)


def macs(f: func.FuncOp) -> int:
    """Multiply-accumulates of the program's matrix products (matmul and linear): the work
    figure that instructions per MAC are quoted against."""
    total = 0
    for op in f.body.block.ops:
        if isinstance(op, qtfm.MatmulOp | qtfm.LinearOp):
            out = op.results[0].type
            k = op.operands[0].type.get_shape()[-1]  # type: ignore[attr-defined]
            n = 1
            for d in out.get_shape():  # type: ignore[attr-defined]
                n *= d
            total += n * k
    return total
