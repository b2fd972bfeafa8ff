"""A static cycle estimate of a lowered program, from the target's instruction costs: how
`mote compile --ram-budget` ranks the schedules that fit, and the SIMD lowering its register
blockings, without building or running anything.

After `tile-to-loops` every generated kernel is a loop nest with static bounds, so each op
executes (product of its enclosing trip counts) times; the few loops whose bounds depend on
data (a clustered embedding's rank loops) carry the trip count their lowering expects
(`mote.trip_count`). An op is charged as the instruction it
compiles to: `memref.load` a load, `memref.store` a store, `arith.muli` a multiplication (64-bit
ones as the three multiplications and one `mulhu` that RV32 needs), divisions by a
non-constant a division, other 32-bit arithmetic one ALU instruction (64-bit: two); xpulp ops
their instruction class (`simd_dot`, `mac`, `simd_alu` for packs, shuffles and packed shifts,
post-increment loads and stores; word loads as loads); a hardware loop its setup plus its
body per iteration, with no increment or branch. Free:
constants, sign/zero extensions and truncations (they fold into loads and stores) and `index`
arithmetic (addressing, which the C compiler strength-reduces into pointer increments). A loop
iteration costs an increment and a taken branch, a call two jumps plus one ALU instruction
per argument.

Calls into runtime_c's row-wise kernels (softmax, norms, ...) are charged their call overhead
only: row tiling hands them the same rows in more calls, so their per-element work is the same
for every schedule and does not change the ranking. The figure ranks schedules; it is not a
measurement of the program (`mote run` measures instructions exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, IntegerType, ModuleOp
from xdsl.ir import Block, Operation, SSAValue

from compiler.backend.target import Target
from compiler.errors import MoteError
from dialects import xpulp

FREE = (
    arith.ConstantOp,
    arith.ExtSIOp,
    arith.ExtUIOp,
    arith.TruncIOp,
    arith.IndexCastOp,
    scf.YieldOp,
    func.ReturnOp,
)
DIVISIONS = (
    arith.DivSIOp,
    arith.DivUIOp,
    arith.RemSIOp,
    arith.RemUIOp,
    arith.FloorDivSIOp,
    arith.CeilDivSIOp,
)


TRIP_COUNT_ATTR = "mote.trip_count"
"""On an `scf.for` with data-dependent bounds: the iterations the estimate charges it for."""


@dataclass(frozen=True)
class CostEstimate:
    cycles: int
    """Estimated cycles of the model's own code (generated loops and runtime call overheads)."""


def estimate_cycles(module: ModuleOp, target: Target, entry: str | None = None) -> CostEstimate:
    """The static estimate of the module's entry function (the first defined function, or
    `entry`), with every outlined kernel it calls."""
    functions = {f.sym_name.data: f for f in module.ops if isinstance(f, func.FuncOp)}
    defined = [f for f in functions.values() if not f.is_declaration]
    if not defined:
        raise MoteError("cost estimate: the module defines no function")
    main = functions[entry] if entry is not None else defined[0]
    return CostEstimate(_Estimator(functions, target.costs).function(main))


def estimate_block(block: Block, costs: Mapping[str, int]) -> int:
    """The estimated cycles of one block of loop code (no calls into other functions)."""
    return _Estimator({}, costs).block(block)


class _Estimator:
    def __init__(self, functions: dict[str, func.FuncOp], costs: Mapping[str, int]) -> None:
        self.functions = functions
        self.c = costs
        self.memo: dict[str, int] = {}

    def function(self, f: func.FuncOp) -> int:
        name = f.sym_name.data
        if name not in self.memo:
            self.memo[name] = self.block(f.body.block)
        return self.memo[name]

    def block(self, block: Block) -> int:
        return sum(self.op(op) for op in block.ops)

    def op(self, op: Operation) -> int:
        c = self.c
        if isinstance(op, FREE):
            return 0
        if isinstance(op, scf.ForOp):
            trips = _trip_count(op)
            return trips * (self.block(op.body.block) + c["alu"] + c["branch_taken"])
        if isinstance(op, scf.IfOp):
            branches = [self.block(r.block) for r in op.regions if r.blocks]
            return c["branch_not_taken"] + max(branches, default=0)
        if isinstance(op, func.CallOp):
            callee = self.functions.get(op.callee.root_reference.data)
            overhead = 2 * c["jump"] + len(op.arguments) * c["alu"]
            if callee is None or callee.is_declaration:
                return overhead  # a runtime kernel: see the module docstring
            return overhead + self.function(callee)
        if isinstance(op, memref.LoadOp | xpulp.LoadWordOp):
            return c["load"]
        if isinstance(op, xpulp.DOT_OPS):
            return c.get("simd_dot", 4 * (c["mul"] + c["alu"]))  # scalar: 4 MACs
        if isinstance(op, xpulp.MacOp):
            return c.get("mac", c["mul"] + c["alu"])
        if isinstance(op, xpulp.ClipOp | xpulp.MinOp | xpulp.MaxOp):
            return c.get("clip_min_max", c["alu"])
        if isinstance(op, SIMD_ALU_OPS):
            return c.get("simd_alu", c["alu"]) * (2 if isinstance(op, xpulp.Pack4BOp) else 1)
        if isinstance(op, xpulp.LoadPostIncOp):
            return c.get("post_increment_load", c["load"])
        if isinstance(op, xpulp.StorePostIncOp):
            return c.get("post_increment_store", c["store"])
        if isinstance(op, xpulp.DotBlockOp):  # a hardware loop of word loads and dot products
            rows, cols = op.get("rows"), op.get("cols")
            loads = (rows + cols) * c.get("post_increment_load", c["load"])
            per_word = loads + rows * cols * c.get("simd_dot", 4 * (c["mul"] + c["alu"]))
            return c.get("hwloop_setup", c["alu"]) + op.get("words") * per_word
        if isinstance(op, xpulp.HwLoopOp):  # set up once, then no increment and no branch
            return c.get("hwloop_setup", c["alu"]) + _hwloop_trips(op) * self.block(op.body.block)
        if isinstance(op, memref.StoreOp):
            return c["store"]
        if not op.results or isinstance(op.results[0].type, IndexType):
            return 0  # addressing, views and windows
        wide = _bits(op.results[0]) > 32
        if isinstance(op, arith.MuliOp):
            return 3 * c["mul"] + c["mulh"] if wide else c["mul"]
        if isinstance(op, DIVISIONS):
            return c["div"] * (2 if wide else 1)
        if op.dialect_name() == "arith":
            return c["alu"] * (2 if wide else 1)
        return 0  # tile views, windows and allocations: no code


SIMD_ALU_OPS = (
    xpulp.PackHOp,
    xpulp.PackBOp,
    xpulp.Pack4BOp,
    xpulp.ShuffleBOp,
    xpulp.Shuffle2BOp,
    xpulp.SraHOp,
)
"""Packed-SIMD ALU instructions: one each, `pack4_b` two (cv.packlo.b and cv.packhi.b)."""


def _hwloop_trips(loop: xpulp.HwLoopOp) -> int:
    expected = loop.attributes.get(TRIP_COUNT_ATTR)
    return expected.value.data if isinstance(expected, IntegerAttr) else _constant(loop.count)


def _bits(v: SSAValue) -> int:
    t = v.type
    return t.width.data if isinstance(t, IntegerType) else 32


def _constant(v: SSAValue) -> int:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    raise MoteError(f"cost estimate: a loop bound is not a constant ({v})")


def _trip_count(loop: scf.ForOp) -> int:
    expected = loop.attributes.get(TRIP_COUNT_ATTR)
    if isinstance(expected, IntegerAttr):
        return expected.value.data
    lb, ub, step = _constant(loop.lb), _constant(loop.ub), _constant(loop.step)
    return max(0, -(-(ub - lb) // step))
