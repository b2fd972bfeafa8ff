"""Runs a program built by build.py on its target and measures it.

The program reads the model's inputs on stdin and writes its outputs on stdout (the harness
protocol, runtime_c/README.md). On `qemu-user` targets the run also gives exact instruction
counts, from the mote_icount QEMU plugin (one line per translation block: start address,
instructions, executions), attributed to functions through the ELF symbol table. The model's
count is the total minus the harness's functions (`_start`, `main`, `harness_*`, `mote_sys_*`),
which call no library code, so everything else executed is the model's. The plugin also counts
which block followed which (`RunResult.edges`), from which compiler/backend/cycle_model.py
knows exactly how often each conditional branch was taken.

The contract for every counting runner (qemu-user here, unicorn in unicorn_run.py): a run
fills `RunResult.blocks` and `RunResult.edges` in the same format.
- `blocks`: one `Block(address, instructions, executions)` per distinct straight-line block
  that ran (the emulator's translation block: `instructions` consecutive instructions from
  `address`, each executed `executions` times). A block may start or end in the middle of a
  basic block; blocks may overlap. Sorted by (address, instructions).
- `edges`: one `Edge(source, target, count)` per distinct pair of block start addresses that
  ran one right after the other: `count` times a block starting at `target` was the next block
  after one starting at `source`. A conditional branch or jump only ends a block (it is never
  in the middle of one). Sorted by (source, target). So the edges leaving a block add up to its
  executions, except for the very last block of the run (one fewer).
"""

from __future__ import annotations

import bisect
import re
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from compiler.backend.build import build_icount_plugin
from compiler.backend.target import Target
from compiler.errors import MoteError, NotImplementedYet

# The harness's exit statuses (MOTE_EXIT_* in runtime_c/include/mote_runtime.h).
EXIT_BAD_INPUT = 10
EXIT_IO = 11
EXIT_GUARD = 12
EXIT_STACK = 13
RUN_TIMEOUT_SECONDS = 600.0
HARNESS_NAMES = frozenset({"_start", "main"})
HARNESS_PREFIXES = ("harness_", "mote_sys_")


class RunError(MoteError):
    """The program failed: a non-zero exit, a signal or a timeout."""


class GuardViolation(RunError):
    """The model wrote outside its arena or an output buffer (a guard byte changed)."""


class StackOverflow(RunError):
    """The model used the whole stack reservation of the target."""


@dataclass(frozen=True)
class Block:
    """A translation block that ran: straight-line code from `address` on."""

    address: int
    instructions: int
    executions: int


@dataclass(frozen=True)
class Edge:
    """Control passed `count` times from the block starting at `source` straight to the block
    starting at `target` (a taken branch, a fall-through, a call, a return...)."""

    source: int
    target: int
    count: int


@dataclass(frozen=True)
class ImageSizes:
    """Bytes of the program's sections (`size -A`), grouped as a memory budget reads them.
    `bss` includes `.noinit` (the harness's input, output and arena buffers on rv32)."""

    text: int
    rodata: int
    data: int
    bss: int
    tdata: int
    tbss: int
    stack: int  # the stack reservation (bare-metal targets), not part of static RAM

    @property
    def static_ram(self) -> int:
        return self.data + self.tdata + self.tbss + self.bss

    @property
    def flash(self) -> int:
        """Code, constants and the initial values of data."""
        return self.text + self.rodata + self.data + self.tdata


@dataclass(frozen=True)
class RunResult:
    output_bytes: bytes
    stderr: str
    wall_seconds: float
    sizes: ImageSizes | None = None
    # The rest are measured on qemu-user targets only (None or empty elsewhere).
    instructions_total: int | None = None
    instructions_model: int | None = None
    instructions_per_function: Mapping[str, int] | None = field(default=None, hash=False)
    blocks: tuple[Block, ...] = ()
    stack_bytes: int | None = None
    edges: tuple[Edge, ...] = ()  # which block followed which (see the module docstring)


def run_model_binary(
    exe: Path, target: Target, input_bytes: bytes, count: bool = True, timeout: float = RUN_TIMEOUT_SECONDS
) -> RunResult:
    """Runs `exe` (from build_model) once on `input_bytes`; counts instructions if it can."""
    exe = exe.resolve()
    if target.runner == "unicorn":
        from compiler.backend.unicorn_run import run_unicorn

        return run_unicorn(exe, target, input_bytes, count, timeout)
    counting = count and target.runner == "qemu-user"
    with tempfile.TemporaryDirectory(prefix="mote-run-") as tmp:
        counts_file = Path(tmp) / "blocks.txt"
        edges_file = Path(tmp) / "edges.txt"
        if target.runner == "native":
            cmd = [str(exe)]
        elif target.runner == "qemu-user":
            plugin = ["-plugin", f"{build_icount_plugin()},out={counts_file},edges={edges_file}"]
            plugin = plugin if counting else []
            cmd = [*target.emulator, *plugin, str(exe)]
        else:
            raise NotImplementedYet(f"the {target.runner} runner")
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, input=input_bytes, capture_output=True, timeout=timeout, preexec_fn=_no_core_dumps
            )
        except FileNotFoundError:
            raise MoteError(f"{cmd[0]} not found: the {target.name} target needs it (`make setup`)") from None
        except subprocess.TimeoutExpired:
            raise RunError(f"{exe} did not finish within {timeout:g} s on {target.name}") from None
        seconds = time.perf_counter() - start
        stderr = proc.stderr.decode(errors="replace")
        _check_status(exe, target, proc.returncode, stderr)
        blocks = _read_blocks(counts_file) if counting else ()
        edges = _read_edges(edges_file) if counting else ()
    sizes = image_sizes(exe, target)
    if not counting:
        return RunResult(proc.stdout, stderr, seconds, sizes, stack_bytes=_stack_bytes(stderr, target))
    return counted_result(exe, target, proc.stdout, stderr, seconds, sizes, blocks, edges)


def counted_result(
    exe: Path,
    target: Target,
    stdout: bytes,
    stderr: str,
    seconds: float,
    sizes: ImageSizes | None,
    blocks: tuple[Block, ...],
    edges: tuple[Edge, ...],
) -> RunResult:
    """The result of a run whose runner counted blocks and edges: instructions per function,
    the model's (all but the harness's) and the total."""
    per_function = instructions_per_function(exe, target, blocks)
    total = sum(per_function.values())
    harness = sum(n for name, n in per_function.items() if is_harness_function(name))
    return RunResult(
        stdout,
        stderr,
        seconds,
        sizes,
        instructions_total=total,
        instructions_model=total - harness,
        instructions_per_function=MappingProxyType(per_function),
        blocks=blocks,
        stack_bytes=_stack_bytes(stderr, target),
        edges=edges,
    )


def _no_core_dumps() -> None:
    """A crashing program (or qemu-user, for its guest) would otherwise leave a core file."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _check_status(exe: Path, target: Target, status: int, stderr: str) -> None:
    if status == 0:
        return
    shown = stderr.strip() or "(no message)"
    if status < 0:
        try:
            how = f"killed by {signal.Signals(-status).name}"
        except ValueError:
            how = f"killed by signal {-status}"
        if target.bare_metal and -status in (signal.SIGSEGV, signal.SIGBUS):
            how += " (an access outside the program's memory, or the stack far past its reservation)"
        raise RunError(f"{exe} on {target.name}: {how}\n{shown}")
    error = {EXIT_GUARD: GuardViolation, EXIT_STACK: StackOverflow}.get(status, RunError)
    raise error(f"{exe} on {target.name} exited with status {status}\n{shown}")


def _stack_bytes(stderr: str, target: Target) -> int | None:
    if not target.bare_metal:
        return None
    m = re.search(r"^mote-stack-bytes ([0-9]+)$", stderr, re.MULTILINE)
    if m is None:
        raise RunError(f"the harness printed no `mote-stack-bytes` line:\n{stderr}")
    return int(m.group(1))


def _read_blocks(path: Path) -> tuple[Block, ...]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise RunError(f"the instruction-count plugin wrote no {path}") from None
    blocks = []
    for line in lines:
        address, n, executions = line.split()
        blocks.append(Block(int(address, 16), int(n), int(executions)))
    return tuple(blocks)


def _read_edges(path: Path) -> tuple[Edge, ...]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise RunError(f"the instruction-count plugin wrote no {path}") from None
    edges = []
    for line in lines:
        source, target, count = line.split()
        edges.append(Edge(int(source, 16), int(target, 16), int(count)))
    return tuple(edges)


def is_harness_function(name: str) -> bool:
    """Whether the function of that symbol (or a compiler clone of it) belongs to the harness."""
    base = name.split(".", 1)[0]
    return base in HARNESS_NAMES or base.startswith(HARNESS_PREFIXES)


def instructions_per_function(exe: Path, target: Target, blocks: tuple[Block, ...]) -> dict[str, int]:
    """Instructions executed in each function, largest first; blocks outside any function
    symbol count under their hex address."""
    starts, ends, names = _functions(exe, target)
    counts: dict[str, int] = {}
    for b in blocks:
        i = bisect.bisect_right(starts, b.address) - 1
        name = names[i] if i >= 0 and b.address < ends[i] else f"{b.address:#x}"
        counts[name] = counts.get(name, 0) + b.instructions * b.executions
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _functions(exe: Path, target: Target) -> tuple[list[int], list[int], list[str]]:
    """Sorted start addresses, end addresses and names of the ELF's code symbols."""
    out = _tool(target, "nm", ["-S", "--defined-only", str(exe)])
    found: dict[int, tuple[bool, str, int | None]] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            address, size, kind, name = parts
        elif len(parts) == 3:
            (address, kind, name), size = parts, None
        else:
            continue
        if kind not in "TtWw" or name.startswith(("$", ".L")):
            continue
        entry = (kind.islower(), name, None if size is None else int(size, 16))
        key = int(address, 16)
        # Aliases at one address: prefer the global symbol, then the first name.
        if key not in found or entry < found[key]:
            found[key] = entry
    starts = sorted(found)
    ends, names = [], []
    for i, a in enumerate(starts):
        _, name, size = found[a]
        nxt = starts[i + 1] if i + 1 < len(starts) else 1 << 64
        ends.append(a + size if size else nxt)
        names.append(name)
    return starts, ends, names


def image_sizes(exe: Path, target: Target) -> ImageSizes | None:
    """Section sizes from `size -A` (None if the tool is missing)."""
    try:
        out = _tool(target, "size", ["-A", str(exe)])
    except MoteError:
        return None
    groups = dict.fromkeys(("text", "rodata", "data", "bss", "tdata", "tbss", "stack"), 0)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        group = _section_group(parts[0])
        if group is not None:
            groups[group] += int(parts[1])
    return ImageSizes(**groups)


_SECTION_GROUPS = (
    ("text", (".text", ".init", ".fini", ".plt")),
    ("rodata", (".rodata", ".srodata", ".sdata2", ".eh_frame", ".gcc_except_table")),
    ("tdata", (".tdata",)),
    ("tbss", (".tbss",)),
    ("data", (".data", ".sdata", ".init_array", ".fini_array", ".got")),
    ("bss", (".bss", ".sbss", ".noinit")),
    ("stack", (".stack",)),
)


def _section_group(section: str) -> str | None:
    for group, prefixes in _SECTION_GROUPS:
        if any(section == p or section.startswith(p + ".") for p in prefixes):
            return group
    return None


def _tool(target: Target, tool: str, args: list[str]) -> str:
    cmd = [f"{target.binutils_prefix}{tool}", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    except (FileNotFoundError, subprocess.CalledProcessError) as err:
        raise MoteError(f"`{' '.join(cmd)}` failed: {err}") from None
    return proc.stdout
