"""A cycle model of a CV32E40P-class core, applied to the blocks a run executed.

A counting run (run.py: qemu-user; unicorn for rv32imc-xcv) gives every executed block
(start address, instructions, executions) and every edge between consecutively executed
blocks (source start, target start, count). This module disassembles the ELF, decodes the
instructions of each executed block, classifies each one and charges the target file's
`costs` (cycles per class):

    cycles = sum over blocks of executions x (sum of the class costs of its instructions
                                              + load_use_stall per load-use pair inside it)
           + for a block ending in a conditional branch: taken x branch_taken
                                                       + not taken x branch_not_taken
           + per edge: count x (stalls between the source's last instruction and the target's
                                first one)

A conditional branch or a jump always ends a block, so the edges leaving a block that ends
in a conditional branch say exactly how often it was taken (to its target) and not taken (the
rest of its executions). The model works on the executed blocks and their instructions, not
on a static control-flow graph: a block may start in the middle of a basic block or end early
(a page boundary, the emulator's maximum block size), and the stalls across such a boundary
are counted from the edges exactly as inside a block.

Classes and their cost keys (a key the target file lacks falls back to the next one listed;
a class with no cost at all is an error naming the instruction):

| class | instructions | cost keys |
|---|---|---|
| alu | RV32I arithmetic, logic, shifts, compares, lui/auipc, RVC forms | alu |
| load / store | lb...lw, sb...sw, c.lw(sp), c.sw(sp); CORE-V register-register forms | load / store |
| mul / mulh / div | mul (and CORE-V 16-bit cv.mul*N); mulh, mulhsu, mulhu; div, divu, rem, remu | same |
| branch | beq...bgeu, c.beqz/c.bnez, cv.beqimm/cv.bneimm | branch_taken, branch_not_taken |
| jump | jal, jalr, c.j, c.jal, c.jr, c.jalr | jump |
| system | ecall, ebreak, fence, CSR access | system, alu |
| xcv_alu, clip_min_max | CORE-V ALU and bit manipulation; cv.clip*, cv.min*, cv.max* | (same name), alu |
| simd_alu / simd_dot | CORE-V packed SIMD; its dot products (cv.dot*, cv.sdot*) | simd_alu, alu / simd_dot |
| mac | cv.mac, cv.msu, cv.mac*N | mac |
| post_increment_load / _store | cv.lb...cv.sw with post-increment | (same name), load / store |
| hwloop_setup | cv.setup(i), cv.start(i), cv.end(i), cv.count(i) | hwloop_setup |

Stalls and penalties: `load_use_stall` when an instruction reads the register a load (of any
kind) has just loaded; and, when the target file gives them, `jalr_stall` when a jalr reads a
register the instruction right before it wrote, and `misaligned_target` when a taken branch or
jump lands on a 32-bit instruction that is not word-aligned. Hardware loops: the set-up
instructions cost `hwloop_setup`; the loop's back-jump is done by the hardware, not by an
instruction, so it is free (clang-19 emits no hardware loops). docs/cycle_model.md gives the
sources of the figures and what is not modelled.
"""

from __future__ import annotations

import bisect
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from compiler.backend.run import Block, Edge, _functions, is_harness_function
from compiler.backend.target import Target
from compiler.errors import MoteError


class CycleModelError(MoteError):
    """The run's blocks cannot be costed: an unknown instruction, a class the target has no
    cost for, or blocks and edges that do not follow the runner contract of run.py."""


# Cost keys tried in order for each instruction class.
CLASS_COST_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "alu": ("alu",),
        "load": ("load",),
        "store": ("store",),
        "mul": ("mul",),
        "mulh": ("mulh",),
        "div": ("div",),
        "jump": ("jump",),
        "system": ("system", "alu"),
        "xcv_alu": ("xcv_alu", "alu"),
        "clip_min_max": ("clip_min_max", "alu"),
        "simd_alu": ("simd_alu", "alu"),
        "simd_dot": ("simd_dot",),
        "mac": ("mac",),
        "post_increment_load": ("post_increment_load", "load"),
        "post_increment_store": ("post_increment_store", "store"),
        "hwloop_setup": ("hwloop_setup",),
        "elw": ("elw",),
        "branch_taken": ("branch_taken",),
        "branch_not_taken": ("branch_not_taken",),
        "load_use_stall": ("load_use_stall",),
    }
)
LOAD_CLASSES = frozenset({"load", "post_increment_load", "elw"})

_REGISTERS = {
    **{f"x{i}": i for i in range(32)},
    **dict(zip(("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1"), range(10), strict=True)),
    **{f"a{i}": 10 + i for i in range(8)},
    **{f"s{i}": 16 + i for i in range(2, 12)},
    **{f"t{i}": 25 + i for i in range(3, 7)},
    "fp": 8,
}
_ALU = frozenset(
    "add addi sub and andi or ori xor xori sll slli srl srli sra srai slt slti sltu sltiu lui auipc nop "
    "c.add c.addi c.addi16sp c.addi4spn c.sub c.and c.andi c.or c.xor c.slli c.srli c.srai c.li c.lui "
    "c.mv c.nop".split()
)
_LOADS = frozenset("lb lh lw lbu lhu c.lw c.lwsp".split())
_STORES = frozenset("sb sh sw c.sw c.swsp".split())
_BRANCHES = frozenset("beq bne blt bge bltu bgeu c.beqz c.bnez cv.beqimm cv.bneimm".split())
_JUMPS = frozenset("jal jalr c.j c.jal c.jr c.jalr".split())
_SYSTEM = frozenset(
    "ecall ebreak c.ebreak fence fence.i fence.tso wfi mret csrrw csrrs csrrc csrrwi csrrsi csrrci".split()
)
_HWLOOP = ("cv.starti", "cv.start", "cv.endi", "cv.end", "cv.counti", "cv.count", "cv.setupi", "cv.setup")
# Two-operand RVC forms whose destination is also a source (`c.addi rd, imm`: rd = rd + imm).
_RVC_READS_RD = frozenset("c.add c.addi c.sub c.and c.andi c.or c.xor c.slli c.srli c.srai".split())
# CORE-V instructions that read their destination (accumulators, inserts, packs into halves).
_CV_READS_RD = re.compile(
    r"cv\.(mac|msu|mac[a-z]*n|sdot.*|insert.*|shuffle2\..*|pack(hi|lo)\..*|(add|sub)u?r?nr)$"
)
_CV_SIMD_BARE = frozenset({"cv.pack", "cv.cplxconj", "cv.subrotmj"})


@dataclass(frozen=True)
class Instruction:
    address: int
    size: int  # bytes: 2 (RVC) or 4
    mnemonic: str
    kind: str  # instruction class (see the module docstring); "branch" for conditional branches
    reads: frozenset[int]  # source registers (x0 left out)
    writes: frozenset[int]  # destination registers (x0 left out)
    loaded: int | None = None  # the register a load writes its data to
    target: int | None = None  # static target of a conditional branch or a jal

    @property
    def end(self) -> int:
        return self.address + self.size

    def describe(self) -> str:
        return f"`{self.mnemonic}` at {self.address:#x}"


@dataclass(frozen=True)
class ClassFigure:
    """Events of one class (instructions executed, stalls, taken branches...) and their cycles."""

    events: int
    cycles: int


@dataclass(frozen=True)
class CycleCounts:
    total: int
    model: int  # total minus the harness's functions (run.is_harness_function)
    per_function: Mapping[str, int] = field(hash=False)  # largest first
    breakdown: Mapping[str, ClassFigure] = field(hash=False)  # the model's cycles by class, largest first


class Program:
    """The decoded instructions of an ELF and its function symbols, for costing runs of it."""

    def __init__(self, exe: Path, target: Target) -> None:
        self.exe = exe
        self.target = target
        self._lines = _parse_disassembly(_disassemble(exe, target), exe)
        self._decoded: dict[int, Instruction] = {}
        self._blocks: dict[tuple[int, int], tuple[Instruction, ...]] = {}
        self._starts, self._ends, self._names = _functions(exe, target)

    def instruction(self, address: int) -> Instruction:
        """The instruction at `address`, decoded on first use (only what ran must be known)."""
        found = self._decoded.get(address)
        if found is None:
            line = self._lines.get(address)
            if line is None:
                raise CycleModelError(
                    f"{self.exe}: no instruction starts at {address:#x} (a block ran there)"
                )
            found = self._decoded[address] = _decode(address, *line, self.exe)
        return found

    def block(self, address: int, count: int) -> tuple[Instruction, ...]:
        """The `count` instructions from `address` on."""
        key = (address, count)
        if key not in self._blocks:
            self._blocks[key] = self._decode_block(address, count)
        return self._blocks[key]

    def _decode_block(self, address: int, count: int) -> tuple[Instruction, ...]:
        out = []
        for _ in range(count):
            ins = self.instruction(address)
            out.append(ins)
            address = ins.end
        for ins in out[:-1]:
            if ins.kind in ("branch", "jump"):
                raise CycleModelError(
                    f"{self.exe}: the block at {out[0].address:#x} has {ins.describe()} before its end "
                    "(a runner must end blocks at branches and jumps)"
                )
        return tuple(out)

    def function_of(self, address: int) -> str:
        """The function symbol that contains `address`, as run.instructions_per_function names it."""
        i = bisect.bisect_right(self._starts, address) - 1
        return self._names[i] if i >= 0 and address < self._ends[i] else f"{address:#x}"

    def count(self, blocks: Iterable[Block], edges: Iterable[Edge]) -> CycleCounts:
        """Cycles of a run of this program from its executed blocks and edges."""
        return count_cycles(self, blocks, edges)


def count_cycles(program: Program, blocks: Iterable[Block], edges: Iterable[Edge]) -> CycleCounts:
    """The cycles of a run (its blocks and edges, in run.py's runner contract) of `program`."""
    costs = _Costs(program.target)
    variants: dict[int, list[Block]] = defaultdict(list)
    for b in blocks:
        variants[b.address].append(b)
    leaving: dict[int, list[Edge]] = defaultdict(list)
    for e in edges:
        leaving[e.source].append(e)
    _check_contract(variants, leaving)

    per_function: Counter[str] = Counter()
    model_events: Counter[str] = Counter()
    for address in sorted(variants):
        for b, b_edges in _assign_edges(program, variants[address], leaving.get(address, [])):
            events = _block_events(program, costs, b, b_edges)
            name = program.function_of(b.address)
            per_function[name] += costs.cycles(events)
            if not is_harness_function(name):
                model_events.update(events)
    total = sum(per_function.values())
    model = sum(n for name, n in per_function.items() if not is_harness_function(name))
    breakdown = {k: ClassFigure(n, n * costs.cost(k)) for k, n in model_events.items() if n}
    return CycleCounts(
        total=total,
        model=model,
        per_function=MappingProxyType(dict(sorted(per_function.items(), key=lambda kv: (-kv[1], kv[0])))),
        breakdown=MappingProxyType(dict(sorted(breakdown.items(), key=lambda kv: (-kv[1].cycles, kv[0])))),
    )


def _check_contract(variants: dict[int, list[Block]], leaving: dict[int, list[Edge]]) -> None:
    """Every execution of a block but the run's last one is followed by exactly one block."""
    unknown = set(leaving) - set(variants)
    if unknown:
        raise CycleModelError(f"the run's edges leave {min(unknown):#x}, where no executed block starts")
    unfollowed = 0
    for address, blocks in variants.items():
        executions = sum(b.executions for b in blocks)
        followed = sum(e.count for e in leaving.get(address, ()))
        if followed > executions:
            raise CycleModelError(
                f"the run's edges leave the block at {address:#x} {followed} times in {executions} executions"
            )
        unfollowed += executions - followed
    if unfollowed > 1:
        raise CycleModelError(
            f"the run's edges account for all but {unfollowed} block executions (all but the last one must "
            "be followed by an edge; see run.py)"
        )


def _block_events(program: Program, costs: _Costs, b: Block, edges: list[Edge]) -> Counter[str]:
    """Events (class -> count) of all the executions of block b, given the edges leaving it."""
    insns = program.block(b.address, b.instructions)
    events: Counter[str] = Counter()
    previous: Instruction | None = None
    for ins in insns:
        if ins.kind != "branch":
            costs.check(ins)
            events[ins.kind] += b.executions
        if previous is not None:
            for stall in _stalls(previous, ins, costs):
                events[stall] += b.executions
        previous = ins
    last = insns[-1]
    if last.kind == "branch":
        assert last.target is not None
        taken = sum(e.count for e in edges if e.target == last.target) if last.target != last.end else 0
        if taken > b.executions:
            raise CycleModelError(
                f"the branch {last.describe()} was taken {taken} times in {b.executions} executions"
            )
        events["branch_taken"] += taken
        events["branch_not_taken"] += b.executions - taken
        if costs.has("misaligned_target") and _misaligned(program, last.target):
            events["misaligned_target"] += taken
    for e in edges:
        first = program.instruction(e.target)
        for stall in _stalls(last, first, costs):
            events[stall] += e.count
        if last.kind == "jump" and costs.has("misaligned_target") and _misaligned(program, e.target):
            events["misaligned_target"] += e.count
    return events


def _stalls(previous: Instruction, ins: Instruction, costs: _Costs) -> list[str]:
    """The stalls of `ins` right after `previous` (CV32E40P's pipeline hazards)."""
    out = []
    if previous.kind in LOAD_CLASSES and previous.loaded in ins.reads:
        out.append("load_use_stall")
    if ins.mnemonic in ("jalr", "c.jr", "c.jalr") and costs.has("jalr_stall") and previous.writes & ins.reads:
        out.append("jalr_stall")
    return out


def _misaligned(program: Program, address: int) -> bool:
    """A 32-bit instruction at an address that is not word-aligned (fetched in two words)."""
    return address % 4 != 0 and program.instruction(address).size == 4


def _assign_edges(
    program: Program, variants: list[Block], edges: list[Edge]
) -> list[tuple[Block, list[Edge]]]:
    """Blocks starting at one address, each with the edges that leave it. Several blocks start
    at one address only if the emulator translated it twice with different lengths; an edge
    then belongs to the one whose last instruction can go to the edge's target."""
    if len(variants) == 1:
        return [(variants[0], edges)]
    out: list[tuple[Block, list[Edge]]] = [(b, []) for b in variants]
    for e in edges:
        fits = [
            i for i, b in enumerate(variants) if _may_go_to(program.block(b.address, b.instructions)[-1], e)
        ]
        if len(fits) != 1:
            lengths = ", ".join(str(b.instructions) for b in variants)
            raise CycleModelError(
                f"blocks of {lengths} instructions start at {e.source:#x}: cannot tell which one went to "
                f"{e.target:#x}"
            )
        out[fits[0]][1].append(e)
    return out


def _may_go_to(last: Instruction, e: Edge) -> bool:
    if last.kind == "branch":
        return e.target in (last.target, last.end)
    if last.kind == "jump":
        return last.target is None or e.target == last.target
    return e.target == last.end


class _Costs:
    """The target's costs per class, with the fallbacks of CLASS_COST_KEYS."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.table = dict(target.costs)

    def has(self, key: str) -> bool:
        return key in self.table

    def cost(self, kind: str) -> int:
        for key in CLASS_COST_KEYS.get(kind, (kind,)):
            if key in self.table:
                return self.table[key]
        raise CycleModelError(self._missing(kind))

    def check(self, ins: Instruction) -> None:
        """Fails, naming the instruction, if its class has no cost on this target."""
        if not any(k in self.table for k in CLASS_COST_KEYS.get(ins.kind, (ins.kind,))):
            raise CycleModelError(f"{self._missing(ins.kind)} (needed for {ins.describe()})")

    def _missing(self, kind: str) -> str:
        keys = " or ".join(f"`{k}`" for k in CLASS_COST_KEYS.get(kind, (kind,)))
        return f"{self.target.path}: the costs of target {self.target.name} give no {keys} for class {kind}"

    def cycles(self, events: Counter[str]) -> int:
        return sum(n * self.cost(k) for k, n in events.items())


def disassembler_command(exe: Path, target: Target) -> list[str]:
    """objdump of the target's binutils, or, for CORE-V code (which GNU binutils 2.40 cannot
    decode), the llvm-objdump that goes with the target's clang, with the CORE-V extensions of
    its -march. Canonical mnemonics (`-M no-aliases`): `c.addi`, not `addi`; `jalr`, not `ret`."""
    march = target.march or target.isa
    extensions = [e for e in march.lower().split("_") if e.startswith("xcv")]
    if not extensions:
        return [f"{target.binutils_prefix}objdump", "-d", "-M", "no-aliases", str(exe)]
    m = re.fullmatch(r"clang(-[0-9.]+)?", Path(target.cc[0]).name)
    tool = f"llvm-objdump{m.group(1) or ''}" if m else "llvm-objdump"
    return [tool, "-d", "-M", "no-aliases", "--mattr=" + ",".join(f"+{e}" for e in extensions), str(exe)]


def _disassemble(exe: Path, target: Target) -> str:
    cmd = disassembler_command(exe, target)
    if shutil.which(cmd[0]) is None:
        raise CycleModelError(f"{cmd[0]} not found: the cycle model of {target.name} needs it (`make setup`)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CycleModelError(f"`{' '.join(cmd)}` failed:\n{proc.stderr.strip()}")
    return proc.stdout


# One instruction per line: `   10028: 4398    c.lw a4,0(a5)` (GNU, tab-separated) or
# `   10028: 4398    c.lw a4, 0x0(a5)` (LLVM, which may also print the bytes one by one).
_LINE = re.compile(
    r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{2}\s)+|[0-9a-f]{4}(?:[0-9a-f]{4})?\s)\s*(\S+)[ \t]*(.*)$"
)


def _parse_disassembly(text: str, exe: Path) -> dict[int, tuple[int, int, str, str]]:
    """address -> (size in bytes, instruction word, mnemonic, operand text) of every line."""
    out = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        raw = m.group(2).split()
        # Bytes one by one are in memory order; a word or halfword is printed as a number.
        word = int("".join(reversed(raw)), 16) if len(raw) > 1 else int(raw[0], 16)
        out[int(m.group(1), 16)] = (len("".join(raw)) // 2, word, m.group(3).lower(), m.group(4))
    if not out:
        raise CycleModelError(f"{exe}: the disassembler found no instructions")
    return out


def _decode(address: int, size: int, word: int, mnemonic: str, operand_text: str, exe: Path) -> Instruction:
    operands = [o.strip() for o in re.sub(r"\s*(#|<).*$", "", operand_text).split(",") if o.strip()]
    kind = _classify(mnemonic, operands, size, word)
    if kind is None:
        raise CycleModelError(
            f"{exe}: the cycle model does not know the instruction `{mnemonic} {operand_text.strip()}` "
            f"at {address:#x} (word {word:#0{2 + 2 * size}x})"
        )
    if kind == "hwloop_setup":
        # Decoded from the word (clang-19's disassembler does not know xcvhwlp): bits 11:8 pick
        # the instruction; the odd ones (start, end, count, setup) read rs1.
        which = (word >> 8) & 0xF
        reads = frozenset({(word >> 15) & 0x1F} - {0}) if which % 2 else frozenset()
        return Instruction(address, size, _HWLOOP[which], kind, reads, frozenset())
    regs = [_register(o) for o in operands]
    bases = [_base_register(o) for o in operands]
    reads: set[int] = set()
    writes: set[int] = set()
    loaded = target = None
    if kind in ("store", "post_increment_store"):
        reads.update(r for r in [*regs, *bases] if r is not None)
        if kind == "post_increment_store":
            writes.update(r for r in bases if r is not None)
    elif kind in ("branch", "jump"):
        if mnemonic in ("jal", "c.jal", "c.j"):
            target = int(operands[-1], 16)
            writes.add(1 if mnemonic == "c.jal" else (regs[0] or 0) if mnemonic == "jal" else 0)
        elif mnemonic == "jalr":
            writes.add(regs[0] or 0)
            reads.update(r for r in [*regs[1:], *bases] if r is not None)
        else:
            reads.update(r for r in regs if r is not None)
            if mnemonic == "c.jalr":
                writes.add(1)
            if kind == "branch":
                target = int(operands[-1], 16)
    elif kind == "system":
        if mnemonic.startswith("csr"):
            writes.add(regs[0] or 0)
            reads.update(r for r in regs[2:] if r is not None)
    else:
        # Destination first, sources after it (and the base of a memory operand).
        if operands:
            writes.add(regs[0] or 0)
        reads.update(r for r in [*regs[1:], *bases] if r is not None)
        if (
            mnemonic in _RVC_READS_RD
            or mnemonic == "c.addi16sp"
            or (mnemonic.startswith("cv.") and _CV_READS_RD.match(mnemonic))
        ):
            reads.add(regs[0] or 0)
        if kind in LOAD_CLASSES:
            loaded = regs[0]
            if kind == "post_increment_load":
                writes.update(r for r in bases if r is not None)
    reads.discard(0)
    writes.discard(0)
    return Instruction(address, size, mnemonic, kind, frozenset(reads), frozenset(writes), loaded, target)


def _register(operand: str) -> int | None:
    return _REGISTERS.get(operand)


def _base_register(operand: str) -> int | None:
    """The base register of a memory operand (`0(a5)`, `(a1)`, `a2(a1)`), else None."""
    m = re.fullmatch(r"(.*)\((\w+)!?\)", operand)
    return _REGISTERS.get(m.group(2)) if m else None


def _classify(mnemonic: str, operands: list[str], size: int, word: int) -> str | None:
    if mnemonic in _ALU:
        return "alu"
    if mnemonic in _LOADS:
        return "load"
    if mnemonic in _STORES:
        return "store"
    if mnemonic in _BRANCHES:
        return "branch"
    if mnemonic in _JUMPS:
        return "jump"
    if mnemonic in _SYSTEM:
        return "system"
    if mnemonic == "mul":
        return "mul"
    if mnemonic in ("mulh", "mulhsu", "mulhu"):
        return "mulh"
    if mnemonic in ("div", "divu", "rem", "remu"):
        return "div"
    if size == 4 and word & 0x787F == 0x402B:  # custom-1, funct3 4: CORE-V hardware loops
        return "hwloop_setup"
    if mnemonic.startswith("cv."):
        return _classify_corev(mnemonic, operands)
    return None


def _classify_corev(mnemonic: str, operands: list[str]) -> str | None:
    name = mnemonic[3:]
    post_increment = len(operands) == 3 and operands[1].startswith("(")
    if name in ("lb", "lbu", "lh", "lhu", "lw"):
        return "post_increment_load" if post_increment else "load"
    if name in ("sb", "sh", "sw"):
        return "post_increment_store" if post_increment else "store"
    if name == "elw":
        return "elw"
    if name.startswith(("dot", "sdot")):
        return "simd_dot"
    if "." in name or mnemonic in _CV_SIMD_BARE:
        return "simd_alu"
    if name in ("mac", "msu") or re.fullmatch(r"mac(hh)?[su]r?n", name):
        return "mac"
    if re.fullmatch(r"mul(hh)?[su]r?n", name):
        return "mul"
    if re.fullmatch(r"clipu?r?|minu?|maxu?", name):
        return "clip_min_max"
    if re.fullmatch(
        r"abs|sletu?|ext[hb][sz]|(add|sub)u?r?nr?|avgu?|extractu?r?|insertr?|bclrr?|bsetr?|ff1|fl1|clb|cnt|ror"
        r"|bitrev",
        name,
    ):
        return "xcv_alu"
    return None
