"""`qtfm.softmax` of 8-bit inputs without a mask, specialised at compile time.

In I-BERT's integer softmax (docs/quantization.md) an element's exponent depends only on its
distance to the row maximum, d = max - x, which for 8-bit inputs lies in [0, 255]. The
compiler knows the polynomial's coefficients, so it evaluates the exponent for all 256
distances once, exactly, and stores them as a constant table in flash; the loops then only
find the maximum, sum table entries, and divide:

    y = floor(table[max - x] * (levels - 1) / sum)

This is the op's exact formula, evaluated in int32 when the table bounds prove that
`table[d] * (levels - 1)` and the row sum fit (otherwise the runtime kernel is used).
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, MemRefType, TensorType, i32
from xdsl.ir import SSAValue

from compiler.transforms.loop_nests.builder import LoopBuilder
from compiler.transforms.loop_nests.elementwise import count, elem_of, shape_of
from dialects import tile

INT32_MAX = (1 << 31) - 1


def exp_table(params: dict[str, int]) -> list[int]:
    """The exponent of every distance to the row maximum, 0..255 (kernels.softmax_ibert)."""
    a, b, c, log2 = params["coeff_a"], params["coeff_b"], params["coeff_c"], params["log2"]
    table = []
    for d in range(256):
        z = d // log2
        p = -d + z * log2
        table.append((a * (p + b) ** 2 + c) >> min(z, 63))
    return table


def applies(op: tile.KernelOp) -> bool:
    """8-bit input, no mask, and every intermediate provably within int32."""
    if op.kind.data != "qtfm.softmax" or len(op.ins) != 1:
        return False
    x = elem_of(op.ins[0])
    shape = shape_of(op.ins[0])
    if not isinstance(x, IntegerType) or x.width.data != 8 or not shape:
        return False
    params = op.attributes["params"].as_dict()  # type: ignore[attr-defined]
    table = exp_table(params)
    return (
        min(table) >= 0
        and max(table) * (params["levels"] - 1) <= INT32_MAX
        and max(table) * shape[-1] <= INT32_MAX
    )


def lower_softmax_table(b: LoopBuilder, op: tile.KernelOp) -> None:
    (x,) = op.ins
    out = op.outs[0]
    params = op.attributes["params"].as_dict()  # type: ignore[attr-defined]
    table_values = exp_table(params)
    dense = DenseIntOrFPElementsAttr.from_list(TensorType(i32, [256]), table_values)
    table = b.emit_top(tile.ConstantOp(dense, MemRefType(i32, [256])))
    shape = shape_of(x)
    n = shape[-1]
    rows = count(shape[:-1])
    x2 = b.emit(tile.ViewOp.build(operands=[x], result_types=[MemRefType(elem_of(x), [rows, n])]))
    y2 = b.emit(tile.ViewOp.build(operands=[out], result_types=[MemRefType(elem_of(out), [rows, n])]))
    scale = b.const(params["levels"] - 1)

    def row(b: LoopBuilder, r: SSAValue, _: list[SSAValue]) -> None:
        first = b.widen(b.load(x2, [r, b.idx(0)]))
        (top,) = b.loop(n, lambda b, j, acc: [b.maxs(acc[0], b.widen(b.load(x2, [r, j])))], [first], lower=1)

        def exp(b: LoopBuilder, j: SSAValue) -> SSAValue:
            d = b.sub(top, b.widen(b.load(x2, [r, j])))
            return b.load(table, [b.to_index(d)])

        (total,) = b.loop(n, lambda b, j, acc: [b.add(acc[0], exp(b, j))], [b.const(0)])

        def normalize(b: LoopBuilder, j: SSAValue, _: list[SSAValue]) -> None:
            y = b.emit(arith.DivSIOp(b.mul(exp(b, j), scale), total))
            b.store(b.narrow(y, elem_of(out)), y2, [r, j])

        b.loop(n, normalize)

    b.loop(rows, row)
