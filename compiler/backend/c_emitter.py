"""The C emitter: a module at the loops stage (scf/arith/memref/func over tile buffers) printed
as C99 that gcc and clang compile without warnings for the host and for RV32.

Why a printer and not xDSL's emitc: the loops stage is already the shape of the C we want, so
each op maps to one C statement or sub-expression. The printer's job is to make that C read
like hand-written code (single-use values are inlined into expressions, `acc += a * b`, loop
indices linearised with constant strides) because gcc -O2 must make the inner loops as tight
as hand-written ones, and because people read it.

Output files (`emit_c`):
- `model.h`: the entry point `mote_model_run` and the sizes/arena contract that
  runtime_c/src/harness_main.c relies on (documented in the header itself);
- `model.c`: the entry function, private helpers (`static mote_<name>`), inline tables;
- `model_weights.h` / `model_weights.c`: every `tile.weight` as a `const` array (flash).

Integer semantics (MLIR's arith; each op's C form is in c_types.py, the contract is stated
in every model.c by `_SEMANTICS`): signless iN values live in `intN_t`; add/sub/mul on 32/64-bit
values are plain C arithmetic, which is only correct because the compiler that produces the IR
guarantees they do not overflow (quantized accumulators are bounded); narrower ones are
wrapped back with a cast. Shifts left go through the unsigned type, `>>` of a negative value
is arithmetic (GCC and Clang define it so), and conversions to a narrower signed type wrap
(GCC and Clang define that too).

This file decides what is printed where: which values the C needs at all (`_liveness`), which
are inlined into their single use (`_inlined`, careful not to move a load across a store), how
subscripts are linearised (`_affine`), and how loop-carried values become variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    NoneAttr,
    StringAttr,
)
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, SSAValue

from compiler.backend import xpulp_asm
from compiler.backend.c_names import NameScope, sanitize
from compiler.backend.c_types import (
    ADD,
    MUL,
    SHIFT,
    UNARY,
    CTypeError,
    Expr,
    arith_expr,
    array_initializer,
    binary,
    c_type,
    element_c_type,
    fold,
    inline_helper,
    int_width,
    join_reads,
    literal_expr,
    normalize,
    numpy_dtype,
)
from compiler.backend.weight_layouts import WeightArrays
from compiler.errors import MoteError, NotImplementedYet
from dialects import tile, xpulp

MODEL_H = "model.h"
MODEL_C = "model.c"
WEIGHTS_H = "model_weights.h"
WEIGHTS_C = "model_weights.c"
KERNELS_H = "mote_kernels.h"
ENTRY_NAME = "mote_model_run"
ARENA_ALIGN = 8
NOTE_ATTR = "mote.note"


class CEmitError(MoteError):
    """A module the C emitter cannot print: an op a lowering should have removed, a missing
    memory plan, a weight that does not match its buffer."""


class CEmitNotImplemented(CEmitError, NotImplementedYet):
    """Valid IR that the C emitter does not handle yet."""


# ------------------------------------------------------------------------------------------
# What the emitter accepts, and what to run when it meets something else.

_ARITH_OPS: tuple[type[Operation], ...] = (
    arith.ConstantOp,
    arith.AddiOp,
    arith.SubiOp,
    arith.MuliOp,
    arith.DivSIOp,
    arith.DivUIOp,
    arith.RemSIOp,
    arith.RemUIOp,
    arith.FloorDivSIOp,
    arith.CeilDivSIOp,
    arith.ShLIOp,
    arith.ShRSIOp,
    arith.ShRUIOp,
    arith.AndIOp,
    arith.OrIOp,
    arith.XOrIOp,
    arith.ExtSIOp,
    arith.ExtUIOp,
    arith.TruncIOp,
    arith.IndexCastOp,
    arith.CmpiOp,
    arith.SelectOp,
    arith.MaxSIOp,
    arith.MinSIOp,
    arith.MaxUIOp,
    arith.MinUIOp,
)
_OTHER_OPS: tuple[type[Operation], ...] = (
    tile.AllocOp,
    tile.WeightOp,
    tile.ConstantOp,
    tile.ViewOp,
    tile.WindowOp,
    memref.LoadOp,
    memref.StoreOp,
    scf.ForOp,
    scf.IfOp,
    scf.YieldOp,
    func.CallOp,
    func.ReturnOp,
)
_XPULP_OPS: tuple[type[Operation], ...] = (
    *xpulp.DOT_OPS,
    xpulp.MacOp,
    xpulp.ClipOp,
    xpulp.SraHOp,
    xpulp.MinOp,
    xpulp.MaxOp,
    xpulp.PackHOp,
    xpulp.PackBOp,
    xpulp.Pack4BOp,
    xpulp.ShuffleBOp,
    xpulp.Shuffle2BOp,
)
"""Printed as the intrinsic of the same name in runtime_c/include/xpulp.h (`mote_xp_<op>`)."""
_XPULP_MEMORY_OPS: tuple[type[Operation], ...] = (
    xpulp.LoadWordOp,
    xpulp.LoadPostIncOp,
    xpulp.StorePostIncOp,
    xpulp.HwLoopOp,
    xpulp.HwLoopEndOp,
    xpulp.DotBlockOp,
)
"""Printed as plain C: subscripts, index additions and a counted loop (a dot block: CORE-V
inline assembly with a hardware loop under MOTE_XPULP_ASM, compiler/backend/xpulp_asm.py)."""
SUPPORTED_OPS = frozenset(_ARITH_OPS + _OTHER_OPS + _XPULP_OPS + _XPULP_MEMORY_OPS)

_UNSIGNED_XPULP_ARGS: dict[type[Operation], tuple[bool, ...]] = {
    xpulp.PackBOp: (True, False, False),
    xpulp.ShuffleBOp: (True, True),
    xpulp.Shuffle2BOp: (True, True, True),
}
"""Which arguments of an intrinsic are `uint32_t` (packed words); the others are `int32_t`."""

_HINTS = {
    "tile.kernel": "run tile-to-loops first",
    "tile.copy": "run tile-to-loops first",
    "memref.alloc": "buffers must be tile.alloc ops placed by plan-memory",
    "memref.alloca": "buffers must be tile.alloc ops placed by plan-memory",
}
_DIALECT_HINTS = {
    "qtfm": "run qtfm-to-tile, plan-memory and tile-to-loops first",
    "linalg": "run convert-linalg-to-loops first",
    "affine": "run lower-affine first",
    "tensor": "the C emitter works on buffers: run qtfm-to-tile first",
    "cf": "the C emitter needs structured control flow (scf)",
}


def _unsupported(op: Operation, where: str) -> CEmitError:
    kind = op.properties.get("kind")
    what = f"'{op.name}'" + (f" ({kind.data})" if isinstance(kind, StringAttr) else "")
    hint = _HINTS.get(op.name) or _DIALECT_HINTS.get(op.name.split(".")[0])
    if hint is None:
        hint = "it is not one of the scf/arith/memref/func/tile ops of the loops stage"
    return CEmitError(f"{what} in {where} cannot be emitted as C: {hint}")


# ------------------------------------------------------------------------------------------
# Module-level facts: the entry point, reachable helpers, weights, constants, the arena.


@dataclass
class _Weight:
    ir_name: str
    c_name: str
    typ: MemRefType
    count: int


@dataclass
class _Table:
    c_name: str
    ctype: str
    values: np.ndarray
    typ: MemRefType


@dataclass
class _Port:
    """One input or output of the entry function."""

    c_name: str
    doc_name: str
    typ: MemRefType
    is_input: bool

    @property
    def nbytes(self) -> int:
        return tile.memref_bytes(self.typ)

    def pointer_type(self) -> str:
        elem = element_c_type(self.typ.element_type)
        return f"const {elem} *" if self.is_input else f"{elem} *"


def _element_count(typ: MemRefType) -> int:
    n = 1
    for d in typ.get_shape():
        n *= d
    return n


def _memref(value: SSAValue, where: str, static: bool = False) -> MemRefType:
    """The value's memref type; a 1-D dynamic memref (a pointer, from `tile.window` or in a
    runtime kernel's declaration) is accepted unless `static`."""
    typ = value.type
    if not isinstance(typ, MemRefType) or not isinstance(typ.element_type, IntegerType):
        raise CEmitError(f"{where}: expected an integer memref, got {typ}")
    if any(d < 0 for d in typ.get_shape()) and not (len(typ.get_shape()) == 1 and not static):
        raise CEmitError(f"{where}: memrefs must have static shapes, got {typ}")
    if not isinstance(typ.layout, NoneAttr):
        raise CEmitError(f"{where}: only row-major memrefs (no layout) are supported, got {typ}")
    return typ


NOINLINE_ATTR = "mote.noinline"
"""A private function with this attribute stays a function in the C (GCC/Clang `noinline`)."""


def _func_attr(f: func.FuncOp, name: str) -> Attribute | None:
    return f.attributes.get(name) or f.properties.get(name)


def _is_private(f: func.FuncOp) -> bool:
    return f.sym_visibility is not None and f.sym_visibility.data == "private"


class _Module:
    """What the printer of each function needs to know about the whole module."""

    def __init__(self, module: ModuleOp, weights: Mapping[str, np.ndarray] | None) -> None:
        self.module = module
        self.uses_xpulp = False  # set while printing: model.c then includes xpulp.h
        funcs: dict[str, func.FuncOp] = {}
        for op in module.ops:
            if not isinstance(op, func.FuncOp):
                raise _unsupported(op, "the module")
            funcs[op.sym_name.data] = op
        self.funcs = funcs
        self.entry = self._find_entry()
        self.helpers, self.externals = self._reachable()
        for f in [self.entry, *self.helpers]:
            self._check_ops(f)
        self.global_names = NameScope(local=False)
        self.global_names.reserve(ENTRY_NAME)
        self.global_names.reserve("mote_model_run_io")
        self.global_names.reserve("mote_model_input_sizes")
        self.global_names.reserve("mote_model_output_sizes")
        for name in sorted(self.externals):
            self.global_names.reserve(name)
        self.helper_names = {
            h.sym_name.data: self.global_names.named(f"mote_{h.sym_name.data}") for h in self.helpers
        }
        self.weights = self._collect_weights(weights)
        self.level, self.arena_bytes = self._arena()
        self.needs_arena = self._helpers_needing_arena()
        self.tables: dict[tuple[str, tuple[int, ...], bytes], _Table] = {}
        self.used_tables: set[str] = set()
        self.used_helpers: set[str] = set()
        self.used_inline: set[str] = set()

    # -- structure -------------------------------------------------------------------------
    def _find_entry(self) -> func.FuncOp:
        public = [f for f in self.funcs.values() if not _is_private(f)]
        if len(public) != 1:
            names = ", ".join(f"@{f.sym_name.data}" for f in public) or "none"
            raise CEmitError(
                f"the module needs exactly one public func.func (the model entry), found {names}"
            )
        entry = public[0]
        if entry.is_declaration:
            raise CEmitError(f"the entry function @{entry.sym_name.data} has no body")
        return entry

    def _reachable(self) -> tuple[list[func.FuncOp], set[str]]:
        """Private functions with bodies called from the entry (callees first), and the names
        of the external declarations called."""
        order: list[func.FuncOp] = []
        externals: set[str] = set()
        state: dict[str, int] = {}

        def visit(f: func.FuncOp) -> None:
            state[f.sym_name.data] = 1
            for op in f.body.walk():
                if not isinstance(op, func.CallOp):
                    continue
                name = op.callee.root_reference.data
                callee = self.funcs.get(name)
                if callee is None:
                    raise CEmitError(f"func.call to unknown function @{name} in @{f.sym_name.data}")
                if callee.is_declaration:
                    externals.add(name)
                elif callee is self.entry:
                    raise CEmitError(f"@{f.sym_name.data} calls the entry function @{name}")
                elif state.get(name) == 1:
                    raise CEmitNotImplemented(f"recursive calls (@{name}) in C emission")
                elif name not in state:
                    visit(callee)
            state[f.sym_name.data] = 2
            if f is not self.entry:
                order.append(f)

        visit(self.entry)
        return order, externals

    def _check_ops(self, f: func.FuncOp) -> None:
        where = f"@{f.sym_name.data}"
        if len(f.body.blocks) != 1:
            raise CEmitError(f"{where}: functions must have one block (structured control flow)")
        for op in f.body.walk():
            if type(op) not in SUPPORTED_OPS:
                raise _unsupported(op, where)
            if isinstance(op, tile.AllocOp) and op.offset is None:
                raise CEmitError(f"'tile.alloc' in {where} has no offset: run plan-memory first")
            if isinstance(op, arith.ConstantOp) and not isinstance(op.value, IntegerAttr):
                raise CEmitError(f"'arith.constant' in {where}: only integer constants, got {op.value}")
            for v in op.results:
                if isinstance(v.type, MemRefType):
                    _memref(v, f"'{op.name}' in {where}")

    # -- weights -------------------------------------------------------------------------
    def _collect_weights(self, arrays: Mapping[str, np.ndarray] | None) -> dict[str, _Weight]:
        found: dict[str, MemRefType] = {}
        for f in [self.entry, *self.helpers]:
            for op in f.body.walk():
                if isinstance(op, tile.WeightOp):
                    name, typ = op.sym.data, _memref(op.result, f'tile.weight "{op.sym.data}"')
                    prev = found.setdefault(name, typ)
                    if prev.element_type != typ.element_type or _element_count(prev) != _element_count(typ):
                        raise CEmitError(f'tile.weight "{name}" is used as both {prev} and {typ}')
        weights: dict[str, _Weight] = {}
        for name in sorted(found):
            typ = found[name]
            c_name = self.global_names.named(f"mote_w_{sanitize(name, 'w')}")
            weights[name] = _Weight(name, c_name, typ, _element_count(typ))
            if weights[name].count == 0:
                raise CEmitError(f'tile.weight "{name}" has no elements')
            if arrays is not None:
                _check_weight(name, typ, arrays)
        return weights

    # -- memory ----------------------------------------------------------------------------
    def _arena(self) -> tuple[str | None, int]:
        levels: set[str] = set()
        end = 0
        for f in [self.entry, *self.helpers]:
            for op in f.body.walk():
                if not isinstance(op, tile.AllocOp):
                    continue
                levels.add(op.level.level.data)
                offset = op.byte_offset or 0
                elem_bytes = (int_width(op.result.type.element_type) + 7) // 8  # type: ignore[union-attr]
                if offset % elem_bytes:
                    raise CEmitError(
                        f"'tile.alloc' at offset {offset} in @{f.sym_name.data} is not aligned to its "
                        f"{elem_bytes}-byte elements"
                    )
                end = max(end, offset + tile.memref_bytes(op.result.type))
        if len(levels) > 1:
            names = ", ".join(sorted(levels))
            raise CEmitNotImplemented(
                f"buffers in more than one memory level ({names}): the C target has one arena"
            )
        computed = -(-end // ARENA_ALIGN) * ARENA_ALIGN
        level = next(iter(levels), None)
        stated = self.module.attributes.get("tile.arena_bytes")
        if stated is None:
            return level, computed
        if not isinstance(stated, DictionaryAttr):
            raise CEmitError(f"module attribute tile.arena_bytes must be a dictionary, got {stated}")
        total = 0
        for key, value in stated.data.items():
            if not isinstance(value, IntegerAttr):
                raise CEmitError(f"tile.arena_bytes[{key}] must be an integer, got {value}")
            if level is None or key == level:
                total = max(total, value.value.data)
        if total < end:  # the stated size may be rounded less far than the declared arena
            raise CEmitError(f"tile.arena_bytes states {total} bytes but the buffers need {end}")
        return level, -(-total // ARENA_ALIGN) * ARENA_ALIGN

    def _helpers_needing_arena(self) -> set[str]:
        needs: set[str] = set()
        for h in self.helpers:  # callees first
            for op in h.body.walk():
                if isinstance(op, tile.AllocOp) or (
                    isinstance(op, func.CallOp) and op.callee.root_reference.data in needs
                ):
                    needs.add(h.sym_name.data)
                    break
        return needs

    # -- inline tables -----------------------------------------------------------------------
    def table(self, op: tile.ConstantOp) -> _Table:
        typ = op.result.type
        assert isinstance(typ, MemRefType)
        values = _dense_values(op.value, typ)
        key = (str(typ.element_type), tuple(typ.get_shape()), values.tobytes())
        found = self.tables.get(key)
        if found is None:
            hint = op.result.name_hint
            name = (
                self.global_names.named(f"mote_table_{hint}")
                if hint
                else self.global_names.numbered("mote_table")
            )
            found = _Table(name, element_c_type(typ.element_type), values, typ)
            self.tables[key] = found
        self.used_tables.add(found.c_name)
        return found


def _dense_values(attr: DenseIntOrFPElementsAttr, typ: MemRefType) -> np.ndarray:
    count = _element_count(typ)
    if count == 0:
        raise CEmitError(f"tile.constant of {typ} has no elements")
    raw = [normalize(int(v), typ.element_type) for v in attr.get_values()]  # type: ignore[arg-type]
    values = np.array(raw, dtype=numpy_dtype(typ.element_type))
    if values.size == 1 and count > 1:
        values = np.full(count, values[0], dtype=values.dtype)
    return values


def _check_weight(name: str, typ: MemRefType, arrays: Mapping[str, np.ndarray]) -> None:
    if name not in arrays:
        raise CEmitError(f'tile.weight "{name}" is not in the weight file')
    array = arrays[name]
    want = numpy_dtype(typ.element_type)
    if array.dtype != want:
        raise CEmitError(f'weight "{name}" is {array.dtype} but its buffer {typ} needs {want}')
    if array.size != _element_count(typ):
        raise CEmitError(
            f'weight "{name}" has {array.size} elements but its buffer {typ} has {_element_count(typ)}'
        )


# ------------------------------------------------------------------------------------------
# Per-function analysis: which values are needed, which are inlined into their single use.


def _store_like_use(v: SSAValue, count_calls: bool) -> bool:
    """Whether memory behind memref `v` may be written in this function (stores, and with
    `count_calls` passing it to a call), directly or through views and windows."""
    for use in v.uses:
        u = use.operation
        if isinstance(u, memref.StoreOp) and u.memref is v:
            return True
        if isinstance(u, xpulp.StorePostIncOp) and u.dest is v:
            return True
        if count_calls and isinstance(u, func.CallOp):
            return True
        if isinstance(u, tile.ViewOp | tile.WindowOp) and _store_like_use(u.result, count_calls):
            return True
    return False


def _splat_source(v: SSAValue) -> int | None:
    """The value of every element of `v` when it is (a view of) a splat tile.constant."""
    while isinstance(v, OpResult) and isinstance(v.op, tile.ViewOp):
        v = v.op.source
    if not isinstance(v, OpResult) or not isinstance(v.op, tile.ConstantOp):
        return None
    raw, count = v.op.value.data.data, len(v.op.value)
    if raw != raw[: len(raw) // count] * count:
        return None
    typ = v.op.result.type
    assert isinstance(typ, MemRefType)
    return normalize(int(next(iter(v.op.value.iter_values()))), typ.element_type)  # type: ignore[arg-type]


_EFFECT_OPS = (memref.StoreOp, xpulp.StorePostIncOp, func.CallOp, func.ReturnOp)
_MIN_MAX = (arith.MaxSIOp, arith.MinSIOp, arith.MaxUIOp, arith.MinUIOp)
_INLINABLE = tuple(o for o in _ARITH_OPS if o is not arith.ConstantOp) + (memref.LoadOp,)


@dataclass
class _Liveness:
    """Values the C code needs, and loop-carried values worth a variable."""

    values: set[SSAValue] = field(default_factory=set)
    iters: set[tuple[Operation, int]] = field(default_factory=set)

    def iter_live(self, op: Operation, i: int) -> bool:
        return (op, i) in self.iters


def _affine(v: SSAValue) -> tuple[dict[SSAValue, int], int]:
    """An index as `sum(coefficient * leaf) + constant`, looking through index additions,
    subtractions and multiplications by constants. Subscripts are printed from this form
    (`x[m * 64 + k + 64]` rather than `x[m1 * 64 + k]` with `m1 = m + 1`) so that gcc sees
    rows of one block as constant offsets from one pointer."""
    op = v.owner
    if not isinstance(v.type, IndexType) or not isinstance(op, Operation):
        return {v: 1}, 0
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return {}, op.value.value.data
    if isinstance(op, arith.AddiOp | arith.SubiOp):
        (ta, ca), (tb, cb) = _affine(op.lhs), _affine(op.rhs)
        sign = 1 if isinstance(op, arith.AddiOp) else -1
        terms = dict(ta)
        for leaf, coeff in tb.items():
            terms[leaf] = terms.get(leaf, 0) + sign * coeff
        return {k: c for k, c in terms.items() if c}, ca + sign * cb
    if isinstance(op, arith.MuliOp):
        (ta, ca), (tb, cb) = _affine(op.lhs), _affine(op.rhs)
        if not tb:
            return {k: c * cb for k, c in ta.items() if c * cb}, ca * cb
        if not ta:
            return {k: c * ca for k, c in tb.items() if c * ca}, ca * cb
    return {v: 1}, 0


def _reads(op: Operation) -> list[SSAValue]:
    """The values the C code of a load or store reads: the buffer (unless a splat constant
    is folded), the stored value, and the leaves of the indices."""
    values: list[SSAValue] = []
    if isinstance(op, xpulp.LoadWordOp):  # a word load subscripts like a load
        return [op.source, *_affine(op.index)[0]]
    if isinstance(op, xpulp.DotBlockOp):  # two subscripts and the initial accumulators
        return [op.lhs, *_affine(op.lhs_index)[0], op.rhs, *_affine(op.rhs_index)[0], *op.inits]
    if isinstance(op, memref.StoreOp):
        values.append(op.value)
    assert isinstance(op, memref.LoadOp | memref.StoreOp)
    if not (isinstance(op, memref.LoadOp) and _splat_source(op.memref) is not None):
        values.append(op.memref)
        for index in op.indices:
            values.extend(_affine(index)[0])
    return values


def _liveness(f: func.FuncOp) -> _Liveness:
    live = _Liveness()
    work: list[SSAValue] = []

    def mark(v: SSAValue) -> None:
        if v not in live.values:
            live.values.add(v)
            work.append(v)

    def mark_iter(op: scf.ForOp, i: int) -> None:
        if (op, i) not in live.iters:
            live.iters.add((op, i))
            mark(op.iter_args[i])
            mark(op.body.block.last_op.operands[i])  # type: ignore[union-attr]

    for op in f.body.walk():
        if isinstance(op, memref.StoreOp):
            for v in _reads(op):
                mark(v)
        elif isinstance(op, _EFFECT_OPS):
            for v in op.operands:
                mark(v)
        elif isinstance(op, scf.ForOp):
            for v in (op.lb, op.ub, op.step):
                mark(v)
        elif isinstance(op, scf.IfOp):
            mark(op.cond)
        elif isinstance(op, xpulp.HwLoopOp):
            mark(op.count)
    while work:
        v = work.pop()
        if isinstance(v, BlockArgument):
            parent = v.block.parent_op()
            if isinstance(parent, scf.ForOp) and v.index > 0:
                mark_iter(parent, v.index - 1)
            continue
        assert isinstance(v, OpResult)
        op = v.op
        if isinstance(op, scf.ForOp):
            mark_iter(op, v.index)
        elif isinstance(op, scf.IfOp):
            for region in op.regions:
                if region.blocks:
                    mark(region.block.last_op.operands[v.index])  # type: ignore[union-attr]
        elif isinstance(op, memref.LoadOp | xpulp.LoadWordOp | xpulp.DotBlockOp):
            for operand in _reads(op):
                mark(operand)
        else:
            for operand in op.operands:
                mark(operand)
    return live


def _consumes(live: _Liveness, user: Operation, index: int) -> bool:
    """Whether `user` (emitted) reads its operand `index` in the C code."""
    if isinstance(user, memref.LoadOp | memref.StoreOp | xpulp.LoadWordOp):
        used = user.operands[index] in _reads(user)
        return used and (isinstance(user, memref.StoreOp) or user.results[0] in live.values)
    if isinstance(user, _EFFECT_OPS) or isinstance(user, scf.IfOp | xpulp.HwLoopOp):
        return True
    if isinstance(user, scf.ForOp):
        return index < 3 or live.iter_live(user, index - 3)
    if isinstance(user, scf.YieldOp):
        parent = user.parent_op()
        if isinstance(parent, scf.ForOp):
            return live.iter_live(parent, index)
        return parent is not None and parent.results[index] in live.values
    return any(r in live.values for r in user.results)


def _writes_memory(op: Operation, cache: dict[Operation, bool]) -> bool:
    if op not in cache:
        if isinstance(op, memref.StoreOp | xpulp.StorePostIncOp | func.CallOp):
            cache[op] = True
        elif op.regions:
            cache[op] = any(_writes_memory(inner, cache) for inner in op.walk() if inner is not op)
        else:
            cache[op] = False
    return cache[op]


def _buffer_root(v: SSAValue) -> SSAValue:
    while isinstance(v, OpResult) and isinstance(v.op, tile.ViewOp | tile.WindowOp):
        v = v.op.source
    return v


def _inlined(f: func.FuncOp, live: _Liveness, readonly: set[SSAValue]) -> set[SSAValue]:
    """Values printed inside the expression of their single use instead of being named.

    A value is inlined when it is pure (or a load), has exactly one use in the same block, the
    use does not need a plain operand (min/max print operands twice, loop bounds are evaluated
    every iteration), and, for loads of writable buffers, no op that may write memory sits
    between the load and the statement its expression ends up in. `readonly` are the buffers
    nothing writes (model inputs); weights and tables are read-only too."""
    candidates: dict[SSAValue, Operation] = {}
    for op in f.body.walk():
        if not isinstance(op, _INLINABLE) or op.results[0] not in live.values:
            continue
        v = op.results[0]
        uses = [u for u in v.uses if _consumes(live, u.operation, u.index)]
        if len(uses) != 1:
            continue
        user, index = uses[0].operation, uses[0].index
        if user.parent_block() is not op.parent_block() or isinstance(user, _MIN_MAX):
            continue
        if isinstance(user, scf.ForOp) and index in (1, 2) or isinstance(user, xpulp.HwLoopOp):
            continue  # loop bounds are evaluated every iteration: plain names
        candidates[v] = user
    inlined = set(candidates)
    cache: dict[Operation, bool] = {}
    changed = True
    while changed:
        changed = False
        for v, user in candidates.items():
            if v not in inlined or not isinstance(v.owner, memref.LoadOp):
                continue
            root = _buffer_root(v.owner.memref)
            if root in readonly or isinstance(root.owner, tile.WeightOp | tile.ConstantOp):
                continue
            anchor = user
            while anchor.results and anchor.results[0] in inlined:
                anchor = candidates[anchor.results[0]]
            op = v.owner
            block = op.parent_block()
            assert block is not None
            between = op.next_op
            while between is not None and between is not anchor:
                if _writes_memory(between, cache):
                    inlined.discard(v)
                    changed = True
                    break
                between = between.next_op
    return inlined


def _linear_sum(terms: Sequence[tuple[Expr, int]], const: int) -> Expr:
    """`e0 * c0 + e1 * c1 ... + const`, without `* 1`, `+ 0` or `+ -c`."""
    total: Expr | None = None
    for term, coeff in terms:
        if abs(coeff) != 1:
            term = binary(term, "*", Expr(str(abs(coeff))), MUL)
        if total is None:
            total = term if coeff > 0 else Expr(f"-{term.at(UNARY)}", UNARY, reads=term.reads)
        else:
            total = binary(total, "+" if coeff > 0 else "-", term, ADD)
    if total is None:
        return Expr(str(const), value=const)
    if const:
        return binary(total, "+" if const > 0 else "-", Expr(str(abs(const))), ADD)
    return total


# ------------------------------------------------------------------------------------------
# Printing one function.


@dataclass
class _Pointer:
    """A memref value in C: an expression of pointer (or array) type."""

    text: str
    elem: str
    const: bool

    def decl_type(self) -> str:
        return f"{'const ' if self.const else ''}{self.elem} *const"


class _FunctionPrinter:
    def __init__(self, mod: _Module, f: func.FuncOp, c_name: str) -> None:
        self.mod = mod
        self.f = f
        self.c_name = c_name
        self.is_entry = f is mod.entry
        self.where = f"@{f.sym_name.data}"
        self.names = NameScope(reserved=mod.externals)
        self.lines: list[str] = []
        self.depth = 1
        self.exprs: dict[SSAValue, Expr] = {}
        self.pointers: dict[SSAValue, _Pointer] = {}
        self.used_params: set[SSAValue] = set()
        self.uses_arena = False
        self.live = _liveness(f)
        self.inlined = _inlined(f, self.live, self._entry_inputs())
        self.has_arena = self.is_entry or f.sym_name.data in mod.needs_arena
        if self.has_arena:
            self.names.reserve("arena")
        self.params: list[tuple[SSAValue, str]] = []
        self.ports: list[_Port] = []

    def _entry_inputs(self) -> set[SSAValue]:
        if not self.is_entry:
            return set()
        num = _func_attr(self.f, "mote.num_inputs")
        n_in = num.value.data if isinstance(num, IntegerAttr) else 0
        return set(self.f.body.block.args[:n_in])

    # -- output helpers ----------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append("  " * self.depth + text)

    def note(self, op: Operation) -> None:
        note = op.attributes.get(NOTE_ATTR)
        if isinstance(note, StringAttr):
            for text in note.data.splitlines() or [""]:
                self.line(f"/* {text.replace('*/', '* /')} */")

    # -- values ----------------------------------------------------------------------------
    def expr(self, v: SSAValue) -> Expr:
        if isinstance(v, BlockArgument) and v.block is self.f.body.block:
            self.used_params.add(v)
        found = self.exprs.get(v)
        if found is None:
            raise CEmitError(f"{self.where}: value {v} of type {v.type} is used before it is printed")
        return found

    def pointer(self, v: SSAValue) -> _Pointer:
        if isinstance(v, BlockArgument) and v.block is self.f.body.block:
            self.used_params.add(v)
        found = self.pointers.get(v)
        if found is None:
            raise CEmitError(f"{self.where}: buffer {v} of type {v.type} is used before it is defined")
        return found

    def fresh(self, v: SSAValue, prefix: str) -> str:
        hint = v.name_hint
        return self.names.named(hint) if hint else self.names.numbered(prefix)

    def bind(self, v: SSAValue, e: Expr, prefix: str = "t") -> None:
        """Gives `v` its expression: inline, or named by a `const` declaration (a plain name,
        such as an index_cast that is no conversion in C, is reused rather than copied)."""
        if v in self.inlined or e.text.isidentifier():
            self.exprs[v] = e
            return
        name = self.fresh(v, prefix)
        self.line(f"const {c_type(v.type)} {name} = {e.text};")
        self.exprs[v] = Expr(name)

    # -- signature -------------------------------------------------------------------------
    def signature(self) -> str:
        args = list(self.f.body.block.args)
        params: list[str] = ["uint8_t *arena"] if self.has_arena else []
        if self.is_entry:
            self.ports = self._entry_ports(args)
            for arg, port in zip(args, self.ports, strict=True):
                self.pointers[arg] = _Pointer(
                    port.c_name, element_c_type(port.typ.element_type), port.is_input
                )
                self.params.append((arg, port.c_name))
                params.append(f"{port.pointer_type()}{port.c_name}")
        else:
            for i, arg in enumerate(args):
                name = self.fresh(arg, "arg") if arg.name_hint else self.names.named(f"arg{i}")
                self.params.append((arg, name))
                if isinstance(arg.type, MemRefType):
                    typ = _memref(arg, f"{self.where} argument {i}")
                    const = not _store_like_use(arg, count_calls=True)
                    ptr = _Pointer(name, element_c_type(typ.element_type), const)
                    self.pointers[arg] = ptr
                    params.append(f"{'const ' if const else ''}{ptr.elem} *{name}")
                else:
                    self.exprs[arg] = Expr(name)
                    params.append(f"{c_type(arg.type)} {name}")
        outputs = self.f.function_type.outputs.data
        if len(outputs) > 1 or (outputs and self.is_entry):
            what = "the entry function returns values" if self.is_entry else "functions with several results"
            raise CEmitNotImplemented(f"{what} ({self.where}); outputs are memref arguments")
        ret = c_type(outputs[0]) if outputs else "void"
        storage = "" if self.is_entry else "static "
        if not self.is_entry and _func_attr(self.f, NOINLINE_ATTR) is not None:
            # one C function per kernel, so that instruction counts can be read per kernel
            storage += "__attribute__((noinline)) "
        return _wrap_call(f"{storage}{ret} {self.c_name}(", params or ["void"], ")", indent=0)

    def _entry_ports(self, args: Sequence[BlockArgument]) -> list[_Port]:
        num = _func_attr(self.f, "mote.num_inputs")
        if not isinstance(num, IntegerAttr):
            raise CEmitError(f"the entry function {self.where} needs an integer attribute mote.num_inputs")
        n_in = num.value.data
        if not 1 <= n_in < len(args):
            raise CEmitError(
                f"{self.where}: mote.num_inputs = {n_in}, but the entry needs at least one input and "
                f"one output among its {len(args)} arguments"
            )
        in_names = self._io_names("mote.input_names", n_in)
        out_names = self._io_names("mote.output_names", len(args) - n_in)
        ports: list[_Port] = []
        for i, arg in enumerate(args):
            is_input = i < n_in
            typ = _memref(arg, f"{self.where} argument {i} (entry arguments are buffers)", static=True)
            given = in_names[i] if is_input else out_names[i - n_in]
            default = f"input{i}" if is_input else f"output{i - n_in}"
            doc = given or arg.name_hint or default
            name = self.names.named(doc, "io_")
            if is_input and _store_like_use(arg, count_calls=False):
                raise CEmitError(f"{self.where}: the model input '{doc}' is written")
            ports.append(_Port(name, doc, typ, is_input))
        return ports

    def _io_names(self, attr: str, count: int) -> list[str | None]:
        names = _func_attr(self.f, attr)
        if names is None:
            return [None] * count
        if not isinstance(names, ArrayAttr) or not all(isinstance(n, StringAttr) for n in names.data):
            raise CEmitError(f"{self.where}: {attr} must be an array of strings")
        if len(names.data) != count:
            raise CEmitError(f"{self.where}: {attr} names {len(names.data)} values, the function has {count}")
        return [n.data for n in names.data]  # type: ignore[union-attr]

    # -- bodies ------------------------------------------------------------------------------
    def print_function(self) -> list[str]:
        head = self.signature()
        self.print_block(self.f.body.block, top=True)
        unused = [name for arg, name in self.params if arg not in self.used_params]
        if self.has_arena and not self.uses_arena:
            unused.insert(0, "arena")
        prologue = ["  " + f"(void){name};" for name in unused]
        return [f"{head} {{", *prologue, *self.lines, "}"]

    def print_block(self, block: Block, top: bool = False) -> None:
        for op in block.ops:
            if isinstance(op, scf.YieldOp):
                continue
            if isinstance(op, func.ReturnOp) and top and op.next_op is None and not op.operands:
                continue
            if not self._emitted(op):
                continue
            self.note(op)
            self.print_op(op)

    def _emitted(self, op: Operation) -> bool:
        if isinstance(op, (*_EFFECT_OPS, scf.ForOp, scf.IfOp, xpulp.HwLoopOp)):
            return True
        return any(r in self.live.values for r in op.results)

    def print_op(self, op: Operation) -> None:
        printer = _PRINTERS.get(type(op))
        if printer is not None:
            printer(self, op)
        else:
            operands = [self.expr(v) for v in op.operands]
            folded = fold(op, operands)
            if folded is not None:
                self.exprs[op.results[0]] = folded
            else:
                self.bind(op.results[0], arith_expr(op, operands, self.mod.used_inline))

    # -- buffers -----------------------------------------------------------------------------
    def alloc(self, op: tile.AllocOp) -> None:
        elem = element_c_type(op.result.type.element_type)  # type: ignore[union-attr]
        name = self.fresh(op.result, "buf")
        offset = op.byte_offset or 0
        base = f"arena + {offset}" if offset else "arena"
        if elem == "uint8_t":
            init = base
        elif elem == "int8_t":
            init = f"(int8_t *)({base})" if offset else "(int8_t *)arena"
        else:
            init = f"({elem} *)(void *)({base})" if offset else f"({elem} *)(void *)arena"
        self.uses_arena = True
        self.line(f"{elem} *const {name} = {init};")
        self.pointers[op.result] = _Pointer(name, elem, False)

    def weight(self, op: tile.WeightOp) -> None:
        w = self.mod.weights[op.sym.data]
        self.pointers[op.result] = _Pointer(w.c_name, element_c_type(w.typ.element_type), True)

    def constant_table(self, op: tile.ConstantOp) -> None:
        table = self.mod.table(op)
        self.pointers[op.result] = _Pointer(table.c_name, table.ctype, True)

    def view(self, op: tile.ViewOp) -> None:
        src = self.pointer(op.source)
        name = self.fresh(op.result, "view")
        ptr = _Pointer(name, src.elem, src.const)
        self.line(f"{ptr.decl_type()} {name} = {src.text};")
        self.pointers[op.result] = ptr

    def window(self, op: tile.WindowOp) -> None:
        src = self.pointer(op.source)
        offset = self.expr(op.offset)
        name = self.fresh(op.result, "win")
        ptr = _Pointer(name, src.elem, src.const)
        init = src.text if offset.value == 0 else f"{src.text} + {offset.at(ADD + 1)}"
        self.line(f"{ptr.decl_type()} {name} = {init};")
        self.pointers[op.result] = ptr

    def subscript(self, buf: SSAValue, indices: Sequence[SSAValue]) -> Expr:
        """`buf[...]` with the row-major linear index: constant strides, constants folded."""
        shape = _memref(buf, f"{self.where}: memref access").get_shape()
        strides = [1] * len(shape)
        for d in range(len(shape) - 2, -1, -1):
            strides[d] = strides[d + 1] * shape[d + 1]
        terms: dict[SSAValue, int] = {}
        const = 0
        for index, stride in zip(indices, strides, strict=True):
            leaves, offset = _affine(index)
            const += offset * stride
            for leaf, coeff in leaves.items():
                terms[leaf] = terms.get(leaf, 0) + coeff * stride
        index = _linear_sum([(self.expr(leaf), coeff) for leaf, coeff in terms.items() if coeff], const)
        return Expr(f"{self.pointer(buf).text}[{index.text}]", reads=index.reads)

    def load(self, op: memref.LoadOp) -> None:
        splat = _splat_source(op.memref)
        if splat is not None:
            self.bind(op.res, literal_expr(splat, op.res.type), "x")
            return
        self.bind(op.res, self.subscript(op.memref, op.indices), "x")

    def store(self, op: memref.StoreOp) -> None:
        if self.pointer(op.memref).const:
            raise CEmitError(
                f"{self.where}: memref.store into a read-only buffer (a weight, constant or input)"
            )
        value = self.expr(op.value)
        self.line(f"{self.subscript(op.memref, op.indices).text} = {value.text};")

    # -- control flow ------------------------------------------------------------------------
    def for_loop(self, op: scf.ForOp) -> None:
        """`for (i = lb; i < ub; i += step)`; loop-carried values are variables declared before
        the loop, assigned from the yield at the end of the body, read after it as the results."""
        body = op.body.block
        self._declare_iter_vars(op)
        self.names.push()
        iv = body.args[0]
        iv_name = self.names.named(iv.name_hint) if iv.name_hint else self.names.numbered("i")
        self.exprs[iv] = Expr(iv_name)
        lb, ub, step = self.expr(op.lb), self.expr(op.ub), self.expr(op.step)
        inc = f"{iv_name}++" if step.value == 1 else f"{iv_name} += {step.text}"
        self.line(f"for ({c_type(iv.type)} {iv_name} = {lb.text}; {iv_name} < {ub.at(SHIFT)}; {inc}) {{")
        self.depth += 1
        self.print_block(body)
        yield_op = body.last_op
        assert isinstance(yield_op, scf.YieldOp)
        live = [i for i in range(len(op.results)) if self.live.iter_live(op, i)]
        self.assign([(self.exprs[op.results[i]].text, yield_op.operands[i]) for i in live])
        self.depth -= 1
        self.names.pop()
        self.line("}")

    def _declare_iter_vars(self, op: scf.ForOp) -> None:
        for i, init in enumerate(op.iter_args):
            if not self.live.iter_live(op, i):
                continue
            if isinstance(init.type, MemRefType):
                raise CEmitNotImplemented(f"memref loop-carried values in {self.where}")
            result, arg = op.results[i], op.body.block.args[i + 1]
            hint = arg.name_hint or result.name_hint
            name = self.names.named(hint) if hint else self.names.numbered("acc")
            self.line(f"{c_type(init.type)} {name} = {self.expr(init).text};")
            self.exprs[result] = self.exprs[arg] = Expr(name, reads=frozenset([name]))

    def if_op(self, op: scf.IfOp) -> None:
        names: list[str | None] = []
        for r in op.results:
            if r not in self.live.values:
                names.append(None)
                continue
            name = self.fresh(r, "r")
            self.line(f"{c_type(r.type)} {name};")
            self.exprs[r] = Expr(name, reads=frozenset([name]))
            names.append(name)
        self.line(f"if ({self.expr(op.cond).text}) {{")
        self._branch(op.true_region.block, names)
        if op.false_region.blocks and self._branch_has_code(op.false_region.block, names):
            self.line("} else {")
            self._branch(op.false_region.block, names)
        self.line("}")

    def _branch(self, block: Block, names: list[str | None]) -> None:
        self.depth += 1
        self.names.push()
        self.print_block(block)
        yield_op = block.last_op
        if isinstance(yield_op, scf.YieldOp):
            self.assign([(n, v) for n, v in zip(names, yield_op.operands, strict=True) if n is not None])
        self.names.pop()
        self.depth -= 1

    def _branch_has_code(self, block: Block, names: list[str | None]) -> bool:
        return any(n is not None for n in names) or any(
            self._emitted(op) for op in block.ops if not isinstance(op, scf.YieldOp)
        )

    def assign(self, targets: list[tuple[str, SSAValue]]) -> None:
        """Assigns yielded values to their variables as a parallel assignment: a value that
        reads a variable assigned before it is first saved in a temporary."""
        pending = [(name, self.expr(v), v) for name, v in targets]
        pending = [(n, e, v) for n, e, v in pending if e.text != n]
        assigned: set[str] = set()
        final: list[tuple[str, Expr]] = []
        saved: list[tuple[str, Expr, SSAValue]] = []
        for name, e, v in pending:
            if e.reads & assigned:
                saved.append((name, e, v))
            else:
                final.append((name, e))
            assigned.add(name)
        for i, (name, e, v) in enumerate(saved):
            temp = self.names.named(f"{name}_next")
            self.line(f"const {c_type(v.type)} {temp} = {e.text};")
            saved[i] = (name, Expr(temp), v)
        for name, e in final + [(n, e) for n, e, _ in saved]:
            if e.accumulate is not None and e.accumulate[0] == name:
                self.line(f"{name} += {e.accumulate[1].text};")
            else:
                self.line(f"{name} = {e.text};")

    # -- calls -------------------------------------------------------------------------------
    def call(self, op: func.CallOp) -> None:
        name = op.callee.root_reference.data
        callee = self.mod.funcs[name]
        args: list[str] = []
        if not callee.is_declaration:
            c_name = self.mod.helper_names[name]
            self.mod.used_helpers.add(name)
            if name in self.mod.needs_arena:
                args.append("arena")
                self.uses_arena = True
        else:
            c_name = name
        for i, v in enumerate(op.arguments):
            if isinstance(v.type, MemRefType):
                ptr = self.pointer(v)
                text = ptr.text
                if (
                    ptr.const
                    and not callee.is_declaration
                    and _store_like_use(callee.body.block.args[i], True)
                ):
                    text = f"({ptr.elem} *){text}"  # the helper passes it on to a kernel that reads it
                args.append(text)
            else:
                args.append(self.expr(v).text)
        text = _wrap_call(f"{c_name}(", args, ")", indent=self.depth)
        if op.res and op.res[0] in self.live.values:
            r = op.res[0]
            name_r = self.fresh(r, "r")
            self.line(f"const {c_type(r.type)} {name_r} = {text};")
            self.exprs[r] = Expr(name_r)
        else:
            self.line(f"{text};")

    def ret(self, op: func.ReturnOp) -> None:
        if op.arguments:
            self.line(f"return {self.expr(op.arguments[0]).text};")
        else:
            self.line("return;")

    def constant(self, op: arith.ConstantOp) -> None:
        assert isinstance(op.value, IntegerAttr)
        self.exprs[op.result] = literal_expr(op.value.value.data, op.result.type)

    def xpulp_op(self, op: Operation) -> None:
        """An xpulp instruction as its xpulp.h intrinsic; packed operands are uint32_t there."""
        name = "mote_xp_" + op.name.removeprefix("xpulp.")
        args = [self.expr(v) for v in op.operands]
        if isinstance(op, xpulp.PackBOp):
            name = "mote_xp_packhi_b" if op.hi is not None else "mote_xp_packlo_b"
        unsigned = _UNSIGNED_XPULP_ARGS.get(type(op))
        if isinstance(
            op, xpulp.PackHOp | xpulp.PackBOp | xpulp.Pack4BOp | xpulp.ShuffleBOp | xpulp.Shuffle2BOp
        ):
            texts = [
                f"(uint32_t){a.at(UNARY)}" if unsigned and unsigned[i] else a.text for i, a in enumerate(args)
            ]
            text = f"(int32_t){name}({', '.join(texts)})"
        elif isinstance(op, xpulp.ClipOp):
            # cv.clip takes the width as an immediate (1..31); 32 bits clamp nothing
            bits = op.bits.value.data
            text = f"MOTE_XP_CLIP({args[0].text}, {bits})" if bits < 32 else args[0].text
        elif isinstance(op, xpulp.SraHOp):
            text = f"(int32_t)MOTE_XP_SRA_H((uint32_t){args[0].at(UNARY)}, {op.shift.value.data})"
        elif isinstance(op, xpulp.DOT_OPS):
            acc, a, b = args
            text = f"{name}({acc.text}, (uint32_t){a.at(UNARY)}, (uint32_t){b.at(UNARY)})"
        else:
            text = f"{name}({', '.join(a.text for a in args)})"
        self.mod.uses_xpulp = True
        self.bind(op.results[0], Expr(text, reads=join_reads(*args)), "x")

    def load_word(self, op: xpulp.LoadWordOp) -> None:
        element = self.subscript(op.source, [op.index])
        self.mod.uses_xpulp = True
        self.bind(op.result, Expr(f"(int32_t)mote_xp_load_word(&{element.text})", reads=element.reads), "x")

    def _next_index(self, index: SSAValue, step: int, result: SSAValue) -> None:
        """The advanced index of a post-increment access: `index + step`."""
        if result not in self.live.values:
            return
        base = self.expr(index)
        if step == 0:
            self.exprs[result] = base
            return
        self.bind(
            result, binary(base, "+" if step > 0 else "-", Expr(str(abs(step)), value=abs(step)), ADD), "i"
        )

    def load_postinc(self, op: xpulp.LoadPostIncOp) -> None:
        """`cv.lb ... cv.lw rD, Imm(rs1!)` as plain C: the element (extended to 32 bits as the
        instruction does) and `index + step`; clang forms the post-increment load itself once
        the index walks a buffer in a loop."""
        if op.result in self.live.values:
            element = self.subscript(op.source, [op.index])
            typ = op.source.type
            assert isinstance(typ, MemRefType)
            width = int_width(typ.element_type)
            want = f"{'u' if op.unsigned is not None else ''}int{width}_t"
            text = element.text if element_c_type(typ.element_type) == want else f"({want}){element.text}"
            if want != "int32_t":
                text = f"(int32_t){text}"
            self.bind(op.result, Expr(text, UNARY, reads=element.reads), "x")
        self._next_index(op.index, op.step.value.data, op.next)

    def store_postinc(self, op: xpulp.StorePostIncOp) -> None:
        """`cv.sb/sh/sw rs2, Imm(rs1!)` as plain C: the low bits of the value into the element,
        then `index + step`."""
        ptr = self.pointer(op.dest)
        if ptr.const:
            raise CEmitError(
                f"{self.where}: xpulp.store_postinc into a read-only buffer (a weight, constant or input)"
            )
        value = self.expr(op.value)
        text = value.text if ptr.elem == "int32_t" else f"({ptr.elem}){value.at(UNARY)}"
        self.line(f"{self.subscript(op.dest, [op.index]).text} = {text};")
        self._next_index(op.index, op.step.value.data, op.next)

    def hwloop(self, op: xpulp.HwLoopOp) -> None:
        """A CV32E40P hardware loop as an ordinary counted loop (clang-19 cannot emit xcvhwlp),
        marked by a comment."""
        count = self.expr(op.count)
        self.names.push()
        iv = op.induction
        name = self.names.named(iv.name_hint) if iv is not None and iv.name_hint else self.names.numbered("i")
        if iv is not None:
            self.exprs[iv] = Expr(name)
        self.line(f"/* xpulp.hwloop: hardware loop {op.level()} (cv.setup) on CORE-V, a counted loop here */")
        self.line(f"for ({c_type(op.count.type)} {name} = 0; {name} < {count.at(SHIFT)}; {name}++) {{")
        self.depth += 1
        self.print_block(op.body.block)
        self.depth -= 1
        self.names.pop()
        self.line("}")

    def dot_block(self, op: xpulp.DotBlockOp) -> None:
        """The accumulators as variables, then the reduction: CORE-V assembly with a hardware
        loop (xpulp_asm.py) where xpulp.h selects assembly, else the same sums in portable C."""
        acc_names, row_names, col_names = xpulp_asm.operand_names(op)
        names = []
        for result, init in zip(op.accs, op.inits, strict=True):
            name = self.names.numbered("acc")
            self.line(f"int32_t {name} = {self.expr(init).text};")
            self.exprs[result] = Expr(name, reads=frozenset([name]))
            names.append(name)
        a, w = self.subscript(op.lhs, [op.lhs_index]), self.subscript(op.rhs, [op.rhs_index])
        rows, cols, words = op.get("rows"), op.get("cols"), op.get("words")
        sa, sw = op.get("lhs_stride"), op.get("rhs_stride")
        pa, pw = self.names.numbered("pa"), self.names.numbered("pw")
        self.mod.uses_xpulp = True
        self.lines.append("#if MOTE_XPULP_ASM")  # preprocessor lines unindented
        self.line("{")
        self.depth += 1
        self.line(f"const int8_t *{pa} = (const int8_t *)&{a.text};")
        self.line(f"const int8_t *{pw} = (const int8_t *)&{w.text};")
        temps = [*row_names, *col_names]
        self.line(f"uint32_t {', '.join('mote_' + t for t in temps)};")
        self.line("__asm__(")
        self.depth += 1
        for text in xpulp_asm.asm_text(op):
            self.line(f'"{text}\\n"')
        outputs = [f'[{n}] "+r"({v})' for n, v in zip(acc_names, names, strict=True)]
        outputs += [f'[pa] "+r"({pa})', f'[pw] "+r"({pw})']
        outputs += [f'[{t}] "=&r"(mote_{t})' for t in temps]
        self.line(": " + ", ".join(outputs))
        self.line(f': [n] "r"((uint32_t){words})')
        self.line(': "memory");')
        self.depth -= 1
        self.depth -= 1
        self.line("}")
        self.lines.append("#else")  # preprocessor lines unindented
        t = self.names.numbered("t")
        self.line(f"for (int32_t {t} = 0; {t} < {words}; {t}++) {{")
        self.depth += 1
        dot = "mote_xp_" + op.kind.data
        for i in range(rows):
            for j in range(cols):
                x = f"mote_xp_load_word(&{a.text} + {i * sa} + 4 * {t})"
                y = f"mote_xp_load_word(&{w.text} + {j * sw} + 4 * {t})"
                name = names[i * cols + j]
                self.line(f"{name} = {dot}({name}, {x}, {y});")
        self.depth -= 1
        self.line("}")
        self.lines.append("#endif")  # preprocessor lines unindented


_PRINTERS: dict[type[Operation], Callable[[_FunctionPrinter, Operation], None]] = {
    arith.ConstantOp: _FunctionPrinter.constant,  # type: ignore[dict-item]
    tile.AllocOp: _FunctionPrinter.alloc,  # type: ignore[dict-item]
    tile.WeightOp: _FunctionPrinter.weight,  # type: ignore[dict-item]
    tile.ConstantOp: _FunctionPrinter.constant_table,  # type: ignore[dict-item]
    tile.ViewOp: _FunctionPrinter.view,  # type: ignore[dict-item]
    tile.WindowOp: _FunctionPrinter.window,  # type: ignore[dict-item]
    memref.LoadOp: _FunctionPrinter.load,  # type: ignore[dict-item]
    memref.StoreOp: _FunctionPrinter.store,  # type: ignore[dict-item]
    scf.ForOp: _FunctionPrinter.for_loop,  # type: ignore[dict-item]
    scf.IfOp: _FunctionPrinter.if_op,  # type: ignore[dict-item]
    func.CallOp: _FunctionPrinter.call,  # type: ignore[dict-item]
    func.ReturnOp: _FunctionPrinter.ret,  # type: ignore[dict-item]
    xpulp.LoadWordOp: _FunctionPrinter.load_word,  # type: ignore[dict-item]
    xpulp.LoadPostIncOp: _FunctionPrinter.load_postinc,  # type: ignore[dict-item]
    xpulp.StorePostIncOp: _FunctionPrinter.store_postinc,  # type: ignore[dict-item]
    xpulp.HwLoopOp: _FunctionPrinter.hwloop,  # type: ignore[dict-item]
    xpulp.DotBlockOp: _FunctionPrinter.dot_block,  # type: ignore[dict-item]
    **dict.fromkeys(_XPULP_OPS, _FunctionPrinter.xpulp_op),
}


def _wrap_call(head: str, args: Sequence[str], tail: str, indent: int) -> str:
    """`head` + comma-separated `args` + `tail`, one argument per line when it gets long."""
    flat = f"{head}{', '.join(args)}{tail}"
    if len(flat) + 2 * indent <= 100:
        return flat
    pad = "  " * (indent + 2)
    return head + "\n" + ",\n".join(pad + a for a in args) + tail


# ------------------------------------------------------------------------------------------
# Files.

_SEMANTICS = """\
/* Integer semantics (MLIR arith on two's-complement values):
 * - signless iN values are held in intN_t, i1 in int (0 or 1), index in int32_t: every size and
 *   index of a model that fits a microcontroller is below 2^31;
 * - add, sub and mul of 32- and 64-bit values are plain C arithmetic. This is exact only
 *   because the compiler producing this code guarantees they do not overflow (its accumulators
 *   are bounded by the quantization scheme); narrower results are wrapped back with a cast;
 * - shifts left go through the unsigned type; `>>` of a negative value is arithmetic and a
 *   conversion to a narrower signed type wraps around: GCC and Clang define both. */"""


def _shape_text(typ: MemRefType) -> str:
    shape = typ.get_shape()
    return "".join(f"[{d}]" for d in shape) if shape else "[1]"


def _port_doc(port: _Port) -> str:
    elem = element_c_type(port.typ.element_type)
    shape = _shape_text(port.typ)
    return f" *   {port.c_name:<16} {elem}{shape}  ({port.typ.element_type}, {port.nbytes} bytes)"


@dataclass
class CSources:
    """The text of every generated file, by file name."""

    files: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.files[name]


def _model_h(mod: _Module, ports: list[_Port], signature: str) -> str:
    inputs = [p for p in ports if p.is_input]
    outputs = [p for p in ports if not p.is_input]
    level = f" (memory level {mod.level})" if mod.level else ""
    lines = [
        f"/* model.h: the entry point of the model @{mod.entry.sym_name.data}, generated by mote.",
        " * Do not edit.",
        " *",
        " * Inputs, in order (dense row-major arrays):",
        *[_port_doc(p) for p in inputs],
        " * Outputs, in order:",
        *[_port_doc(p) for p in outputs],
        " *",
        f" * Memory. The caller provides the arena: MOTE_MODEL_ARENA_BYTES bytes of RAM{level},",
        " * aligned to MOTE_MODEL_ARENA_ALIGN bytes (e.g. `static uint64_t arena[(MOTE_MODEL_ARENA_BYTES",
        " * + 7) / 8];`), that holds every intermediate activation; its contents on entry do not",
        " * matter and are overwritten. Weights are const arrays (model_weights.c): flash on a",
        " * microcontroller. The generated code uses no heap and no global mutable state, so it is",
        " * re-entrant when each concurrent caller passes its own arena and outputs. Inputs are only",
        " * read; outputs must not overlap the inputs or the arena.",
        " */",
        "#ifndef MOTE_MODEL_H",
        "#define MOTE_MODEL_H",
        "",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f"#define MOTE_MODEL_NUM_INPUTS {len(inputs)}",
        f"#define MOTE_MODEL_NUM_OUTPUTS {len(outputs)}",
        f"#define MOTE_MODEL_INPUT_BYTES {sum(p.nbytes for p in inputs)} /* all inputs, concatenated */",
        f"#define MOTE_MODEL_OUTPUT_BYTES {sum(p.nbytes for p in outputs)} /* all outputs, concatenated */",
        f"#define MOTE_MODEL_ARENA_BYTES {mod.arena_bytes} /* RAM for activations */",
        f"#define MOTE_MODEL_ARENA_ALIGN {ARENA_ALIGN}",
        "",
        "extern const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS]; /* bytes of each input */",
        "extern const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS]; /* bytes of each output */",
        "",
        "/* Runs the model once: reads the inputs, writes the outputs. */",
        f"{signature};",
        "",
        "/* The same, with inputs and outputs passed as arrays of pointers in model order. */",
        "void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs);",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        "#endif /* MOTE_MODEL_H */",
    ]
    return "\n".join(lines) + "\n"


def _run_io(ports: list[_Port]) -> list[str]:
    args = ["arena"]
    n_in = 0
    for p in ports:
        elem = element_c_type(p.typ.element_type)
        if p.is_input:
            args.append(f"(const {elem} *)inputs[{n_in}]")
            n_in += 1
        else:
            args.append(f"({elem} *)outputs[{len(args) - 1 - n_in}]")
    return [
        "void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs) {",
        f"  {_wrap_call(f'{ENTRY_NAME}(', args, ');', indent=1)}",
        "}",
    ]


def _table_lines(table: _Table) -> list[str]:
    per_line = 32 if table.values.dtype.itemsize == 1 else 16
    count = table.values.size
    return [
        f"static const {table.ctype} {table.c_name}[{count}] = {{",
        array_initializer(table.values, per_line).rstrip("\n"),
        "};",
    ]


def _model_c(mod: _Module, functions: list[list[str]], ports: list[_Port]) -> str:
    includes = ['#include "model.h"', f'#include "{WEIGHTS_H}"']
    if mod.externals:
        includes.append(f'#include "{KERNELS_H}"')
    if mod.uses_xpulp:
        includes.append('#include "xpulp.h"')
    out = [
        f"/* model.c: the model @{mod.entry.sym_name.data}, generated by mote. Do not edit. */",
        *includes,
        "",
        _SEMANTICS,
        "",
        "const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS] = "
        f"{{{', '.join(str(p.nbytes) for p in ports if p.is_input)}}};",
        "const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS] = "
        f"{{{', '.join(str(p.nbytes) for p in ports if not p.is_input)}}};",
    ]
    for key in sorted(mod.used_inline):
        out += ["", *inline_helper(key)]
    for table in mod.tables.values():
        if table.c_name in mod.used_tables:
            out += ["", *_table_lines(table)]
    for lines in functions:
        out += ["", *lines]
    out += ["", *_run_io(ports)]
    return "\n".join(out) + "\n"


def _weights_h(mod: _Module) -> str:
    out = [
        "/* model_weights.h: the model's weights, const arrays defined in model_weights.c (flash).",
        " * Generated by mote. Do not edit. */",
        "#ifndef MOTE_MODEL_WEIGHTS_H",
        "#define MOTE_MODEL_WEIGHTS_H",
        "",
        "#include <stdint.h>",
        "",
    ]
    for w in mod.weights.values():
        elem = element_c_type(w.typ.element_type)
        out.append(f'extern const {elem} {w.c_name}[{w.count}]; /* "{_comment(w.ir_name)}": {w.typ} */')
    out += ["", "#endif /* MOTE_MODEL_WEIGHTS_H */"]
    return "\n".join(out) + "\n"


def _weights_c(mod: _Module, arrays: Mapping[str, np.ndarray]) -> str:
    out = [
        "/* model_weights.c: the model's weights. Generated by mote. Do not edit. */",
        f'#include "{WEIGHTS_H}"',
    ]
    for w in mod.weights.values():
        elem = element_c_type(w.typ.element_type)
        values = arrays[w.ir_name]
        head = [
            "",
            f'/* "{_comment(w.ir_name)}": {w.typ} */',
        ]
        if elem in ("int8_t", "uint8_t") and w.count >= BYTES_AS_STRING:
            # Byte tables as string literals (an array of a character type may be initialised
            # by one; no room is left for a terminating NUL): compilers parse them many times
            # faster than brace lists, which matters for embedding tables of megabytes.
            out += [*head, f"const {elem} {w.c_name}[{w.count}] {WORD_ALIGNED} =", _byte_string(values) + ";"]
            continue
        per_line = 32 if values.dtype.itemsize == 1 else 16
        aligned = f" {WORD_ALIGNED}" if values.dtype.itemsize == 1 else ""
        out += [
            *head,
            f"const {elem} {w.c_name}[{w.count}]{aligned} = {{",
            array_initializer(values, per_line).rstrip("\n"),
            "};",
        ]
    return "\n".join(out) + "\n"


WORD_ALIGNED = "__attribute__((aligned(4)))"
"""Byte tables start on a word, so SIMD kernels read them a word at a time."""
BYTES_AS_STRING = 4096
"""8-bit weights with at least this many elements are printed as a string literal."""

_HEX = [f"\\x{b:02x}" for b in range(256)]


def _byte_string(values: np.ndarray, per_line: int = 64) -> str:
    data = np.ascontiguousarray(values).reshape(-1).view(np.uint8).tobytes()
    lines = [
        '  "' + "".join(_HEX[b] for b in data[i : i + per_line]) + '"' for i in range(0, len(data), per_line)
    ]
    return "\n".join(lines)


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


def c_sources(
    module: ModuleOp, weights: Mapping[str, np.ndarray] | None, with_weights: bool = True
) -> CSources:
    """Every generated file's text. `weights` (the module's weight arrays) are checked against
    their buffers when given; `model_weights.c` is produced only when they are given and
    `with_weights` is set. A weight named `name@layout` is derived from `name` (packed for a
    kernel: compiler/backend/weight_layouts.py)."""
    if weights is not None:
        weights = WeightArrays(weights)
    try:
        mod = _Module(module, weights)
        printers = [_FunctionPrinter(mod, h, mod.helper_names[h.sym_name.data]) for h in mod.helpers]
        entry = _FunctionPrinter(mod, mod.entry, ENTRY_NAME)
        helper_code = {p.f.sym_name.data: p.print_function() for p in printers}
        entry_code = entry.print_function()
    except CTypeError as err:
        raise CEmitError(str(err)) from None
    functions = [code for name, code in helper_code.items() if name in mod.used_helpers] + [entry_code]
    signature = entry_code[0].removesuffix(" {")
    files = {
        MODEL_H: _model_h(mod, entry.ports, signature),
        MODEL_C: _model_c(mod, functions, entry.ports),
        WEIGHTS_H: _weights_h(mod),
    }
    if weights is not None and with_weights:
        files[WEIGHTS_C] = _weights_c(mod, weights)
    return CSources(files)


def model_c(module: ModuleOp, weights: Mapping[str, np.ndarray] | None = None) -> str:
    """The text of model.c alone."""
    return c_sources(module, weights, with_weights=False)[MODEL_C]


def emit_c(module: ModuleOp, weights: Mapping[str, np.ndarray], out_dir: Path) -> list[Path]:
    """Writes model.h, model.c, model_weights.h and model_weights.c into `out_dir` and returns
    their paths."""
    sources = c_sources(module, weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in (MODEL_H, MODEL_C, WEIGHTS_H, WEIGHTS_C):
        path = out_dir / name
        path.write_text(sources[name])
        written.append(path)
    return written
